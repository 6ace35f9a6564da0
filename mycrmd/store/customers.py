"""One customer at a time: read, add, change, delete."""

from collections.abc import Mapping
from typing import Any

import pymysql

from mycrmd.model.customer import COLUMNS
from mycrmd.store.counts import totals
from mycrmd.store.pool import Pool, Row, execute, fetch_all, fetch_one, insert

_SELECT = ", ".join(COLUMNS)


class DuplicateEmail(Exception):
    """Another customer already has this address."""

    def __init__(self, existing: Row) -> None:
        super().__init__(existing["email"])
        self.existing = existing


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
    try:
        new_id = await insert(
            pool,
            f"INSERT INTO customers ({', '.join(names)}) "  # noqa: S608 (checked column names)
            f"VALUES ({', '.join(['%s'] * len(names))})",
            [values[name] for name in names],
        )
    except pymysql.err.IntegrityError as exc:
        await _raise_duplicate(pool, exc, values.get("email"))
        raise
    totals.forget()
    return new_id


async def update(pool: Pool, customer_id: int, values: Mapping[str, Any]) -> bool:
    """Change some columns of one customer; False when there is no such customer."""
    if not values:
        return await get(pool, customer_id) is not None
    assignments = ", ".join(f"{name} = %s" for name in values)
    try:
        changed = await execute(
            pool,
            f"UPDATE customers SET {assignments} WHERE id = %s",  # noqa: S608 (checked names)
            [*values.values(), customer_id],
        )
    except pymysql.err.IntegrityError as exc:
        await _raise_duplicate(pool, exc, values.get("email"))
        raise
    totals.forget()
    return bool(changed) or await get(pool, customer_id) is not None


async def delete(pool: Pool, customer_id: int) -> bool:
    deleted = await execute(pool, "DELETE FROM customers WHERE id = %s", (customer_id,))
    totals.forget()
    return bool(deleted)


async def _raise_duplicate(pool: Pool, exc: pymysql.err.IntegrityError, email: object) -> None:
    if exc.args and exc.args[0] == 1062 and isinstance(email, str):
        existing = await by_email(pool, email)
        if existing is not None:
            raise DuplicateEmail(existing) from None


async def of_company(pool: Pool, company: str, limit: int = 500) -> list[Row]:
    """A company's contacts (as the collation compares names), most recently mailed first."""
    return await fetch_all(
        pool,
        f"SELECT {_SELECT} FROM customers WHERE company = %s AND company <> ''"  # noqa: S608
        " ORDER BY last_contact_date IS NULL, last_contact_date DESC, id LIMIT %s",
        (company, limit),
    )
