"""Pages of a customer grid: the search box, "only valid", sorting by any column, and paging
by OFFSET or by a neighbouring row (keyset)."""

from dataclasses import dataclass
from typing import Any

from mycrmd.model.customer import COLUMNS, SEARCHABLE, Validity
from mycrmd.store.counts import totals
from mycrmd.store.pool import Pool, Row, fetch_all, fetch_one

_SELECT = ", ".join(COLUMNS)
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class ListQuery:
    """A page of a customer grid. `sort` must be one of the model's columns and `order` asc
    or desc: they become SQL text, so this refuses anything else."""

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
        if self.order not in ORDERS:
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


def not_invalid() -> str:
    """SQL: the customer's address is valid or unconfirmed (not known to be dead)."""
    return f"valid >= {Validity.VALID:d}"


def filters(query: ListQuery) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their arguments for the search box and the "only valid" toggle."""
    clauses: list[str] = []
    args: list[Any] = []
    if query.only_valid:
        clauses.append(not_invalid())
    if query.q.strip():
        pattern = f"%{escape_like(query.q.strip())}%"
        clauses.append("(" + " OR ".join(f"{column} LIKE %s" for column in SEARCHABLE) + ")")
        args += [pattern] * len(SEARCHABLE)
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


async def count_where(pool: Pool, clauses: list[str], args: list[Any]) -> int:
    return await totals.count(
        pool,
        f"SELECT COUNT(*) FROM customers{where(clauses)}",  # noqa: S608 (fixed clauses)
        args,
    )


async def list_page(pool: Pool, query: ListQuery) -> list[Row]:
    clauses, args = filters(query)
    return await page(pool, query, clauses, args)


async def count(pool: Pool, query: ListQuery) -> int:
    clauses, args = filters(query)
    return await count_where(pool, clauses, args)
