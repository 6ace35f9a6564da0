"""Importing customers from a CSV file (R-IO2), for the web upload and `mycrmd import`.

A row's existing address (whatever its case) updates that customer, a new one is added; a cell
may hold several addresses, each becoming a customer with the row's other fields; empty cells
never overwrite. A row with a bad value is rejected with its row number, field and reason, and
the valid rows are imported together in one transaction, or, in a dry run, only counted.
Reading and checking run in a thread, a batch at a time, so the event loop stays free and
memory stays flat whatever the file's size; for the same reason a result lists only the first
REPORTED rejected rows and ignored columns (with their totals), cut short, and the rejected
rows go whole to a file of their own.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mycrmd.customers.addresses import split_addresses
from mycrmd.customers.csv_format import (
    MAX_COLUMNS,
    CsvSource,
    csv_lines,
    neutralise,
    open_csv,
    unescape_cell,
)
from mycrmd.customers.fields import FieldError, check_field
from mycrmd.model.customer import VALIDITY_LABELS
from mycrmd.model.words import Text
from mycrmd.safety.sanitize import clean_comment
from mycrmd.store import import_staging
from mycrmd.store.pool import Pool

BATCH = 5000
REPORTED = 100  # rejected rows, ignored columns and repeated addresses listed; the rest counted
_SHOWN_CELLS = 100  # of a listed row's cells, each cut to _SHOWN_CHARS, as column names are
_SHOWN_CHARS = 200
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y.%m.%d",
)
# A validity may be written as its label, in either language.
_VALID_WORDS = {
    word.lower(): int(validity)
    for validity, label in VALIDITY_LABELS.items()
    for word in (label.zh, label.en)
}


@dataclass
class ImportResult:
    encoding: str
    delimiter: str
    dry_run: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # existing customers the file gives exactly as they are
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_total: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    duplicates_total: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    ignored_total: int = 0


ProgressCallback = Callable[[int, int], Awaitable[None]]  # (rows read, bytes read)


def parse_date(cell: str) -> datetime:
    """The export's own format (ISO) first, fast; then what spreadsheets commonly write."""
    try:
        value = datetime.fromisoformat(cell)
    except ValueError:
        pass
    else:
        # A time zone given: the database holds local time, as the mail job writes it.
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cell, pattern)
        except ValueError:
            continue
    raise FieldError(
        "last_contact_date",
        Text(
            f"无法识别的时间: {cell}（应为 2026-11-25 09:30:00）",
            f"not a date: {cell} (2026-11-25 09:30:00)",
        ),
    )


def check_row(cells: list[str], columns: dict[int, str]) -> list[tuple[Any, ...]]:
    """The staged rows (one per address) a CSV row gives, or FieldError for its first bad
    value."""
    values: dict[str, Any] = {}
    addresses: list[str] = []
    for position, name in columns.items():
        cell = unescape_cell(cells[position]) if position < len(cells) else ""
        if not cell.strip():
            continue  # empty: never overwrites
        if name == "email":
            addresses = [check_field("email", piece) for piece in split_addresses(cell)]
        elif name == "valid":
            values[name] = check_field(name, _VALID_WORDS.get(cell.strip().lower(), cell))
        elif name == "last_contact_date":
            values[name] = parse_date(cell.strip())
        elif name == "comment":
            values[name] = check_field(name, clean_comment(cell))
        else:
            values[name] = check_field(name, cell)
    if not addresses:
        raise FieldError("email", Text("没有邮箱地址", "no email address"))
    rest = tuple(values.get(name) for name in import_staging.STAGED_COLUMNS)
    return [(address, *rest) for address in addresses]


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


class _Rejections:
    """Rejected rows, seen in the reading thread: the first REPORTED kept for the result
    (cut short), every one written whole, with its reason, to `path` when one is given."""

    def __init__(
        self, header: list[str], language: str, path: Path | None, error_column: str
    ) -> None:
        self.listed: list[dict[str, Any]] = []
        self.total = 0
        self.language = language
        self.out = None
        if path is not None:
            self.out = path.open("x", encoding="utf-8", newline="")
            self.out.write("\ufeff" + csv_lines([[*_rewritten(header), error_column]]))

    def add(self, row_no: int, error: FieldError, cells: list[str]) -> None:
        self.total += 1
        message = error.message.in_(self.language)
        if len(self.listed) < REPORTED:
            shown = [_shown(cell) for cell in cells[:_SHOWN_CELLS]]
            self.listed.append(
                {"row": row_no, "field": error.field, "message": message, "cells": shown}
            )
        if self.out is not None:
            self.out.write(csv_lines([[*_rewritten(cells), f"{error.field}: {message}"]]))

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def _rewritten(cells: list[str]) -> list[str]:
    """Cells as read, written back so that reading them again gives the same values."""
    return [neutralise(unescape_cell(cell)) for cell in cells]


def _too_wide(row_no: int) -> FieldError:
    return FieldError(
        "",
        Text(
            f"第 {row_no} 行超过 {MAX_COLUMNS:,} 列，未读取",
            f"line {row_no} has more than {MAX_COLUMNS:,} columns; not read",
        ),
    )


@dataclass
class _Batch:
    staged: list[tuple[Any, ...]]
    rows: int
    done: bool


def _read_batch(source: CsvSource, rejections: _Rejections) -> tuple[_Batch, int]:
    """Runs in a thread: the next BATCH rows, checked; the rejected ones to `rejections`."""
    staged: list[tuple[Any, ...]] = []
    rows = 0
    for row_no, cells in source.rows:
        if cells is None:
            rows += 1
            rejections.add(row_no, _too_wide(row_no), [])
        elif not any(cell.strip() for cell in cells):
            continue  # a blank line
        else:
            rows += 1
            try:
                checked = check_row(cells, source.columns)
            except FieldError as exc:
                rejections.add(row_no, exc, cells)
            else:
                staged += [(email, row_no, *rest) for email, *rest in checked]
        if rows >= BATCH:
            return _Batch(staged, rows, done=False), source.bytes_read()
    return _Batch(staged, rows, done=True), source.bytes_read()


async def import_csv(
    pool: Pool,
    path: Path,
    *,
    dry_run: bool = False,
    language: str = "en",
    progress: ProgressCallback | None = None,
    rejected_csv: Path | None = None,
    error_column: str = "error",
) -> ImportResult:
    """Import a CSV file; CsvError when the file as a whole cannot be read. With
    `rejected_csv`, the rejected rows are written there (a new file), with a last column
    `error_column` giving the reason, to be fixed and imported again."""
    source = await asyncio.to_thread(open_csv, path)
    result = ImportResult(
        source.encoding,
        source.delimiter,
        dry_run,
        ignored_columns=[_shown(name) for name in source.ignored[:REPORTED]],
        ignored_total=len(source.ignored),
    )
    try:
        rejections = _Rejections(source.header, language, rejected_csv, error_column)
    except BaseException:
        source.close()
        raise
    # The next batch is read (in a thread) while the database stages the current one.
    reading = asyncio.ensure_future(asyncio.to_thread(_read_batch, source, rejections))
    try:
        async with import_staging.Import(pool) as staging:
            while True:
                batch, read = await reading
                if not batch.done:
                    reading = asyncio.ensure_future(
                        asyncio.to_thread(_read_batch, source, rejections)
                    )
                result.rows += batch.rows
                if batch.staged:
                    await staging.stage(batch.staged)
                if progress is not None:
                    await progress(result.rows, read)
                if batch.done:
                    break
            await staging.keep_rich_comments()
            counts = await staging.counts()
            result.inserted = counts.staged - counts.existing
            result.updated = counts.existing - counts.unchanged
            result.unchanged, result.duplicates_total = counts.unchanged, counts.repeated
            result.duplicates = [
                {"row": row["row_no"], "email": row["email"], "earlier_row": row["earlier_row"]}
                for row in await staging.replaced(REPORTED)
            ]
            if not dry_run:
                await staging.apply()
                await staging.commit()
    finally:
        # A thread cannot be cancelled: let the batch it reads finish before closing the file.
        await asyncio.wait([reading])
        if not reading.cancelled():
            reading.exception()  # seen: a failure here is not the one to report
        source.close()
        rejections.close()
    result.rejected, result.rejected_total = rejections.listed, rejections.total
    return result
