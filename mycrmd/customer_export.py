"""Exporting customers as CSV (SPEC R-IO1): all, valid, invalid, the list as shown, those due
for follow-up, or just the headers as an import template. UTF-8 with a BOM, so Excel opens
Chinese correctly; streamed, so a million rows need no more memory than a thousand."""

from collections.abc import AsyncIterator
from datetime import date

from mycrmd.csvio import HEADERS_EN, HEADERS_ZH, csv_lines, neutralise
from mycrmd.store import customers, followup, settings
from mycrmd.store.customers import ListQuery
from mycrmd.store.pool import Pool

KINDS = ("all", "valid", "invalid", "current", "followup", "template")
BOM = "\ufeff"


def file_name(kind: str, day: date) -> str:
    return f"customers-{kind}-{day:%Y%m%d}.csv"


async def export_csv(pool: Pool, kind: str, query: ListQuery | None = None) -> AsyncIterator[str]:
    """The CSV text, a chunk at a time. `query` is the grid's view for `current`."""
    english = kind == "followup"
    yield BOM + csv_lines([list(HEADERS_EN if english else HEADERS_ZH)])
    if kind == "template":
        return
    clauses: list[str] = []
    args: list[object] = []
    order_by = "id asc"
    if kind == "valid":
        clauses = ["valid = 1"]
    elif kind == "invalid":
        clauses = ["valid = 0"]
    elif kind == "current" and query is not None:
        clauses, args = customers.filters(query)
        order_by = query.order_by
    elif kind == "followup":
        rule = followup.Rule.from_settings(await settings.load(pool))
        clauses, args = followup.clauses(rule, ListQuery())
    async for batch in customers.stream_export(pool, clauses, list(args), order_by):
        if english:
            # mass-mailing software greets by name: MyCRM wrote "Sir" where there was none
            batch = [("Sir", *row[1:]) if not row[0] else row for row in batch]
        yield csv_lines([[neutralise(value) for value in row] for row in batch])
