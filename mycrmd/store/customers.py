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

    def __post_init__(self) -> None:
        if self.sort not in COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r}")
        if self.order not in ("asc", "desc"):
            raise ValueError(f"order must be asc or desc, not {self.order!r}")
        if self.page < 1 or self.rows < 0:
            raise ValueError("page starts at 1 and rows cannot be negative")

    @property
    def order_by(self) -> str:
        """The sort column, then id, so equal values page in a stable order."""
        if self.sort == "id":
            return f"id {self.order}"
        return f"{self.sort} {self.order}, id {self.order}"


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
    """One page under any filter: ids first from the narrowest index the server finds, then
    the rows for just those ids (a deep page then reads 20 rows, not every row before it)."""
    if query.rows == 0:
        return []
    offset = (query.page - 1) * query.rows
    return await fetch_all(
        pool,
        f"SELECT {_SELECT} FROM customers JOIN ("  # noqa: S608 (whitelisted columns)
        f"SELECT id AS page_id FROM customers{where(clauses)} "
        f"ORDER BY {query.order_by} LIMIT %s OFFSET %s"
        f") chosen ON chosen.page_id = customers.id ORDER BY {query.order_by}",
        [*args, query.rows, offset],
    )


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
