"""The rows of a customer export (R-IO1): which customers each kind of export holds,
read from an unbuffered cursor so memory stays flat however many rows there are."""

from collections.abc import AsyncIterator
from typing import Any

import aiomysql

from mycrmd.model.customer import CSV_FIELDS, Validity
from mycrmd.model.followup import AWAITING_HOURS
from mycrmd.store import awaiting, followup
from mycrmd.store.customer_list import ListQuery, filters, where
from mycrmd.store.pool import Pool, connection

# The export's columns, the date already as text: converting a million datetimes in Python
# only to format them again costs a third of an export.
_EXPORT_SELECT = ", ".join(
    "DATE_FORMAT(last_contact_date, '%%Y-%%m-%%d %%H:%%i:%%s')" if c == "last_contact_date" else c
    for c in CSV_FIELDS
)


def _selection(
    kind: str, query: ListQuery | None, rule: followup.Rule | None, hours: int
) -> tuple[list[str], list[Any], str]:
    """WHERE clauses, their arguments and the ORDER BY of one kind of export."""
    if kind == "valid":
        return [f"valid = {Validity.VALID:d}"], [], "id asc"
    if kind == "invalid":
        return [f"valid = {Validity.INVALID:d}"], [], "id asc"
    if kind == "current" and query is not None:
        # the follow-up grid's list is its rule with the search, the customers' the search
        clauses, args = followup.clauses(rule, query) if rule is not None else filters(query)
        return clauses, args, query.order_by
    if kind == "awaiting":
        clauses, args = awaiting.clauses(hours)
        return clauses, args, "id asc"
    if kind == "followup" and rule is not None:
        clauses, args = followup.clauses(rule, ListQuery())
        return clauses, args, "id asc"
    return [], [], "id asc"


async def export_rows(
    pool: Pool,
    kind: str,
    query: ListQuery | None = None,
    rule: followup.Rule | None = None,
    batch: int = 2000,
    hours: int = AWAITING_HOURS,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Every customer of this kind of export as a tuple of the CSV columns, a batch at a
    time. `query` is the grid's view for `current`, `rule` the follow-up rule for
    `followup` and for `current` when the grid is the follow-up list. A reader that stops
    early closes the connection rather than draining the rest."""
    clauses, args, order_by = _selection(kind, query, rule, hours)
    async with connection(pool) as conn:
        finished = False
        cur = await conn.cursor(aiomysql.SSCursor)
        try:
            await cur.execute(
                f"SELECT {_EXPORT_SELECT} FROM customers{where(clauses)} "  # noqa: S608
                f"ORDER BY {order_by}",
                tuple(args),
            )
            while rows := await cur.fetchmany(batch):
                yield list(rows)
            finished = True
        finally:
            if finished:
                await cur.close()
            else:
                conn.close()
