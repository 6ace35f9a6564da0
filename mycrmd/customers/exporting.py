"""Exporting customers as CSV (R-IO1): all, valid, invalid, the list as shown, those due
for follow-up, or just the headers as an import template. UTF-8 with a BOM, so Excel opens
Chinese correctly; streamed, so a million rows need no more memory than a thousand."""

from collections.abc import AsyncIterator
from datetime import date

from mycrmd.customers.csv_format import HEADERS_EN, HEADERS_ZH, csv_lines, neutralise
from mycrmd.model.customer import EXPORT_KINDS
from mycrmd.store import config_table, customer_export, followup
from mycrmd.store.customer_list import ListQuery
from mycrmd.store.pool import Pool

KINDS = EXPORT_KINDS
BOM = "\ufeff"


def file_name(kind: str, day: date) -> str:
    return f"customers-{kind}-{day:%Y%m%d}.csv"


async def export_csv(
    pool: Pool, kind: str, query: ListQuery | None = None, grid: str = "customers"
) -> AsyncIterator[str]:
    """The CSV text, a chunk at a time. `query` is the grid's view for `current` and `grid`
    which grid it is, so the follow-up tab's export is its list, not every customer."""
    english = kind == "followup"
    yield BOM + csv_lines([list(HEADERS_EN if english else HEADERS_ZH)])
    if kind == "template":
        return
    ruled = english or (kind == "current" and grid == "followup")
    rule = followup.Rule.from_settings(await config_table.load(pool)) if ruled else None
    async for batch in customer_export.export_rows(pool, kind, query, rule):
        if english:
            # mass-mailing software greets by name: MyCRM wrote "Sir" where there was none
            batch = [("Sir", *row[1:]) if not row[0] else row for row in batch]
        yield csv_lines([[neutralise(value) for value in row] for row in batch])
