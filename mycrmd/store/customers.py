"""The customers table."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pymysql

from mycrmd.store.pool import Pool, Row, execute, fetch_all, fetch_one, fetch_value, insert

COLUMNS = (
    "id",
    "name",
    "email",
    "importance",
    "company",
    "country",
    "address",
    "phone",
    "website",
    "comment",
    "last_contact_date",
    "last_checked_date",
    "last_checked_log",
    "valid",
)
SEARCHED = ("name", "email", "company", "country", "phone")
_SELECT = ", ".join(COLUMNS)
_LOG_LENGTH = 256  # customers.last_checked_log is VARCHAR(256)
_COUNT_TTL = 10.0  # seconds a total may lag behind writes made by another process


class DuplicateEmail(Exception):
    """Another customer already has this address."""

    def __init__(self, existing: Row) -> None:
        super().__init__(existing["email"])
        self.existing = existing


@dataclass(frozen=True)
class ListQuery:
    """A page of a customer grid. `sort` must be one of COLUMNS and `order` asc or desc: they
    become SQL text, so this refuses anything else."""

    q: str = ""
    only_valid: bool = False
    sort: str = "id"
    order: str = "asc"
    page: int = 1
    rows: int = 20
    # Keyset paging: the page just after (or before) this customer's row in the sort order,
    # as fast on the millionth row as on the first, where an OFFSET reads every row before.
    after_id: int | None = None
    before_id: int | None = None

    def __post_init__(self) -> None:
        if self.sort not in COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r}")
        if self.order not in ("asc", "desc"):
            raise ValueError(f"order must be asc or desc, not {self.order!r}")
        if self.page < 1 or self.rows < 0:
            raise ValueError("page starts at 1 and rows cannot be negative")
        if self.after_id is not None and self.before_id is not None:
            raise ValueError("after_id and before_id cannot both be given")

    @property
    def order_by(self) -> str:
        """The sort column, then id, so equal values page in a stable order."""
        return _order_by(self.sort, self.order)


def _order_by(sort: str, order: str) -> str:
    return f"id {order}" if sort == "id" else f"{sort} {order}, id {order}"


def _beyond(sort: str, order: str, value: Any, anchor_id: int) -> tuple[str, list[Any]]:
    """Rows strictly after (value, anchor_id) in ORDER BY sort order, id order, where MariaDB
    puts NULLs first when ascending and last when descending."""
    if sort == "id":
        return ("id > %s" if order == "asc" else "id < %s"), [anchor_id]
    if order == "asc":
        if value is None:
            return f"(({sort} IS NULL AND id > %s) OR {sort} IS NOT NULL)", [anchor_id]
        return f"({sort} > %s OR ({sort} = %s AND id > %s))", [value, value, anchor_id]
    if value is None:
        return f"({sort} IS NULL AND id < %s)", [anchor_id]
    condition = f"({sort} < %s OR ({sort} = %s AND id < %s) OR {sort} IS NULL)"
    return condition, [value, value, anchor_id]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filters(query: ListQuery) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their arguments for the search box and the "only valid" toggle."""
    clauses: list[str] = []
    args: list[Any] = []
    if query.only_valid:
        clauses.append("valid >= 1")
    if query.q.strip():
        pattern = f"%{escape_like(query.q.strip())}%"
        clauses.append("(" + " OR ".join(f"{column} LIKE %s" for column in SEARCHED) + ")")
        args += [pattern] * len(SEARCHED)
    return clauses, args


def where(clauses: list[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


async def page(pool: Pool, query: ListQuery, clauses: list[str], args: list[Any]) -> list[Row]:
    """One page under any filter: ids first, from the narrowest index the server finds, then
    the rows for just those ids. With after_id/before_id the page is found by its neighbour's
    sort key; otherwise by OFFSET, which reads (only the index of) every row before it."""
    if query.rows == 0:
        return []
    anchor_id = query.after_id or query.before_id
    order, offset = query.order, (query.page - 1) * query.rows
    clauses, args = list(clauses), list(args)
    if anchor_id is not None:
        anchor = await fetch_one(
            pool,
            f"SELECT {query.sort} AS value FROM customers WHERE id = %s",  # noqa: S608 (column)
            (anchor_id,),
        )
        if anchor is not None:
            if query.before_id is not None:
                order = "desc" if query.order == "asc" else "asc"
            condition, condition_args = _beyond(query.sort, order, anchor["value"], anchor_id)
            clauses.append(condition)
            args += condition_args
            offset = 0
    rows = await fetch_all(
        pool,
        f"SELECT {_SELECT} FROM customers JOIN ("  # noqa: S608 (whitelisted columns)
        f"SELECT id AS page_id FROM customers{where(clauses)} "
        f"ORDER BY {_order_by(query.sort, order)} LIMIT %s OFFSET %s"
        f") chosen ON chosen.page_id = customers.id ORDER BY {_order_by(query.sort, order)}",
        [*args, query.rows, offset],
    )
    return rows if order == query.order else rows[::-1]


class _Totals:
    """Totals are the slow part of a grid (a count over a million rows): remembered per
    filter, forgotten on every write made through this module, and after _COUNT_TTL seconds
    for writes made elsewhere."""

    def __init__(self) -> None:
        self._seen: dict[tuple[object, ...], tuple[float, int]] = {}

    async def count(self, pool: Pool, sql: str, args: list[Any]) -> int:
        key = (id(pool), sql, *args)
        now = time.monotonic()
        hit = self._seen.get(key)
        if hit and now - hit[0] < _COUNT_TTL:
            return hit[1]
        total = int(await fetch_value(pool, sql, args))
        self._seen[key] = (now, total)
        return total

    def forget(self) -> None:
        self._seen.clear()


totals = _Totals()


async def list_page(pool: Pool, query: ListQuery) -> list[Row]:
    clauses, args = filters(query)
    return await page(pool, query, clauses, args)


async def count(pool: Pool, query: ListQuery) -> int:
    clauses, args = filters(query)
    return await totals.count(
        pool,
        f"SELECT COUNT(*) FROM customers{where(clauses)}",  # noqa: S608 (fixed clauses)
        args,
    )


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


async def verify_candidates(pool: Pool, limit: int) -> list[Row]:
    """Addresses not known to be invalid, never-checked first (NULL sorts first), then least
    recently checked (SPEC R-JOB1)."""
    return await fetch_all(
        pool,
        "SELECT id, email FROM customers WHERE valid >= 1 ORDER BY last_checked_date, id LIMIT %s",
        (limit,),
    )


async def record_check(
    pool: Pool, customer_id: int, valid: int | None, log: str, when: datetime
) -> None:
    """What a check found; valid None leaves validity as it was."""
    await execute(
        pool,
        "UPDATE customers SET last_checked_date = %s, last_checked_log = %s, "
        "valid = COALESCE(%s, valid) WHERE id = %s",
        (when, log[:_LOG_LENGTH], valid, customer_id),
    )
    totals.forget()
