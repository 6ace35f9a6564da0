"""One customer at a time: read, add, change, delete."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pymysql

from mycrmd.model.customer import COLUMNS
from mycrmd.model.history import Source
from mycrmd.store.counts import totals
from mycrmd.store.history import record
from mycrmd.store.pool import (
    Pool,
    Row,
    arg_marks,
    conflict_pause,
    execute,
    fetch_all,
    fetch_one,
    insert,
    is_conflict,
    transaction,
)

_SELECT = ", ".join(COLUMNS)


class DuplicateEmail(Exception):
    """Another customer already has this address; `existing` is that customer, or None when
    it kept changing while we looked."""

    def __init__(self, email: str, existing: Row | None) -> None:
        super().__init__(email)
        self.email = email
        self.existing = existing


# Writes retried when the row holding the address changed between the refusal and the look-up,
# or when a concurrent write won a lock race (deadlock)
_ATTEMPTS = 5


async def get(pool: Pool, customer_id: int) -> Row | None:
    return await fetch_one(
        pool,
        f"SELECT {_SELECT} FROM customers WHERE id = %s",  # noqa: S608 (column list)
        (customer_id,),
    )


async def by_email(pool: Pool, email: str) -> Row | None:
    return await fetch_one(
        pool,
        f"SELECT {_SELECT} FROM customers WHERE email = %s",  # noqa: S608 (column list)
        (email,),
    )


async def create(pool: Pool, values: Mapping[str, Any]) -> int:
    """A new customer from checked values (their names are columns); DuplicateEmail when
    the address is taken."""
    names = list(values)
    new_id = await _retried(
        pool,
        values,
        lambda: insert(
            pool,
            f"INSERT INTO customers ({', '.join(names)}) "  # noqa: S608 (checked names)
            f"VALUES ({arg_marks(len(names))})",
            [values[name] for name in names],
        ),
    )
    totals.forget()
    return new_id


async def update(pool: Pool, customer_id: int, values: Mapping[str, Any]) -> bool:
    """Change some columns of one customer; False when there is no such customer."""
    if not values:
        return await get(pool, customer_id) is not None
    changed = await _retried(pool, values, lambda: _apply(pool, customer_id, values))
    totals.forget()
    return bool(changed) or await get(pool, customer_id) is not None


async def _retried(
    pool: Pool, values: Mapping[str, Any], write: Callable[[], Awaitable[int]]
) -> int:
    """One write, tried again when the address it collided with has moved on since, or when
    a concurrent write won a lock race; DuplicateEmail when the address stays taken."""
    for attempt in range(_ATTEMPTS):
        try:
            return await write()
        except pymysql.err.IntegrityError as exc:
            await _raise_duplicate(pool, exc, values.get("email"), attempt)
        except pymysql.err.OperationalError as exc:
            if not is_conflict(exc) or attempt == _ATTEMPTS - 1:
                raise
            await conflict_pause(attempt)
    raise AssertionError("unreachable: the last attempt raises")


async def _apply(pool: Pool, customer_id: int, values: Mapping[str, Any]) -> int:
    """One UPDATE; a change of validity also writes its history, in the same transaction.
    Only then is the row locked first: a lock held across the UPDATE's unique-key check
    would make concurrent address swaps deadlock."""
    assignments = ", ".join(f"{name} = %s" for name in values)
    statement = f"UPDATE customers SET {assignments} WHERE id = %s"  # noqa: S608 (checked)
    if "valid" not in values:
        return await execute(pool, statement, [*values.values(), customer_id])
    async with transaction(pool) as cur:
        await cur.execute("SELECT valid FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        before = await cur.fetchone()
        changed = await cur.execute(statement, [*values.values(), customer_id])
        new = int(str(values["valid"]))
        if before is not None and new != before["valid"]:
            await record(cur, customer_id, "valid", before["valid"], new, Source.USER, "edited")
        return changed


async def delete(pool: Pool, customer_id: int) -> bool:
    deleted = await execute(pool, "DELETE FROM customers WHERE id = %s", (customer_id,))
    totals.forget()
    return bool(deleted)


async def _raise_duplicate(
    pool: Pool, exc: pymysql.err.IntegrityError, email: object, attempt: int
) -> None:
    """DuplicateEmail when the address is taken; returns (to try again) when the holder has
    let go of it since; re-raises anything else. The refusal and the look-up are two
    statements, so another write may come between them in any order."""
    if not (exc.args and exc.args[0] == 1062 and isinstance(email, str)):
        raise exc
    existing = await by_email(pool, email)
    if existing is not None or attempt == _ATTEMPTS - 1:
        raise DuplicateEmail(email, existing) from None


async def of_company(pool: Pool, company: str, limit: int = 500) -> list[Row]:
    """A company's contacts (as the collation compares names), most recently mailed first."""
    return await fetch_all(
        pool,
        f"SELECT {_SELECT} FROM customers WHERE company = %s AND company <> ''"  # noqa: S608
        " ORDER BY last_contact_date IS NULL, last_contact_date DESC, id LIMIT %s",
        (company, limit),
    )
