"""Exporting customers as CSV (R-IO1): all, valid, invalid, the list as shown, those due
for follow-up, or just the headers as an import template. UTF-8 with a BOM, so Excel opens
Chinese correctly; streamed, so a million rows need no more memory than a thousand."""

import contextlib
from collections.abc import AsyncIterator
from datetime import date

from mycrmd.customers.csv_format import HEADERS_EN, HEADERS_ZH, csv_lines, neutralise
from mycrmd.model.customer import CSV_FIELDS, EXPORT_KINDS
from mycrmd.model.followup import AWAITING_HOURS
from mycrmd.safety.sanitize import comment_text
from mycrmd.store import config_table, customer_export, followup
from mycrmd.store.customer_list import ListQuery
from mycrmd.store.pool import Pool

KINDS = EXPORT_KINDS
BOM = "\ufeff"
_COMMENT = CSV_FIELDS.index("comment")  # rich text in the UI, plain text in a spreadsheet


def file_name(kind: str, day: date) -> str:
    return f"customers-{kind}-{day:%Y%m%d}.csv"


async def export_csv(
    pool: Pool,
    kind: str,
    query: ListQuery | None = None,
    grid: str = "customers",
    hours: int = AWAITING_HOURS,
) -> AsyncIterator[str]:
    """The CSV text, a chunk at a time. `query` is the grid's view for `current` and `grid`
    which grid it is, so the follow-up tab's export is its list, not every customer; `hours`
    the wait for `awaiting`."""
    english = kind == "followup"
    yield BOM + csv_lines([list(HEADERS_EN if english else HEADERS_ZH)])
    if kind == "template":
        return
    ruled = english or (kind == "current" and grid == "followup")
    rule = followup.Rule.from_settings(await config_table.load(pool)) if ruled else None
    # Closed explicitly: a reader that stops early must give the connection back now, not
    # when the garbage collector finds the rows' generator (a pool closing waits for it).
    rows = customer_export.export_rows(pool, kind, query, rule, hours=hours)
    async with contextlib.aclosing(rows):
        async for batch in rows:
            if english:
                # mass-mailing software greets by name: MyCRM wrote "Sir" where there was none
                batch = [("Sir", *row[1:]) if not row[0] else row for row in batch]
            batch = [(*row[:_COMMENT], _text(row[_COMMENT]), *row[_COMMENT + 1 :]) for row in batch]
            yield csv_lines([[neutralise(value) for value in row] for row in batch])


def _text(comment: str | None) -> str | None:
    return None if comment is None else comment_text(comment)
