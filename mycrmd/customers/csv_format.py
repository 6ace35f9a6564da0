"""Customers as CSV, both ways (R-IO1, R-IO2).

Reading takes what Excel writes: UTF-8 with or without BOM, UTF-16 ("Unicode text"), GBK or
GB18030 (Excel on Chinese Windows); comma, semicolon or tab; quoted fields with newlines; the
export's Chinese headers, English ones, or no header in the original column order. Files are
read as a stream, so their size is limited by the disk, not by memory.

Writing neutralises what a spreadsheet would run as a formula (OWASP: a leading = @ tab or
carriage return, or a + or - that starts an expression rather than a number such as the phone
+86 21 5555 0101, gets an apostrophe), in every part a `,` or `;` separates, as a spreadsheet
in some locale splits a cell there; a leading apostrophe is escaped the same way, so reading
undoes exactly that and every value comes back as it was written. A cell holding `,` `;` a
tab, a line break or a quote is quoted, so no locale splits it.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from mycrmd.model.customer import BY_NAME, CSV_FIELDS

# The export's columns, in MyCRM's order, with their Chinese and English headers.
FIELDS = CSV_FIELDS
HEADERS_ZH = tuple(BY_NAME[name].label.zh for name in FIELDS)
HEADERS_EN = tuple(BY_NAME[name].csv_header or name for name in FIELDS)
_HEADER_NAMES = {
    header.lower(): field.name
    for field in (BY_NAME[name] for name in FIELDS)
    for header in (field.label.zh, field.csv_header or field.name, field.name, *field.csv_aliases)
}
_ESCAPED_FIRST = frozenset("=@\t\r'")  # formulas, and the escape itself
_SIGNS = frozenset("+-")
_NUMBER_AFTER_SIGN = re.compile(r"[\d\s.()]*")  # -2, +86 21 5555 0101: a value, no formula
_PARTS = re.compile(r"([,;])")
_QUOTED = re.compile(r'[,;\t\r\n"]')
_SAMPLE = 64 * 1024
# Excel's own limit: a line with more separators is refused before it is split into cells,
# so one hostile line cannot make millions of them.
MAX_COLUMNS = 16_384
CELL_LIMIT = csv.field_size_limit()


class CsvError(ValueError):
    """The file as a whole cannot be read (no email column, not text, …)."""


# Writing -----------------------------------------------------------------------------------


def neutralise(value: Any) -> str:
    """A cell's text, safe from spreadsheet formulas; unescape_cell() undoes it exactly."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "," in text or ";" in text:
        return "".join(_guarded(part) for part in _PARTS.split(text))
    return _guarded(text)


def _guarded(part: str) -> str:
    first = part[:1]
    if first in _ESCAPED_FIRST or (first in _SIGNS and not _NUMBER_AFTER_SIGN.fullmatch(part, 1)):
        return "'" + part
    return part


def unescape_cell(cell: str) -> str:
    """Undoes neutralise(): an apostrophe leading the cell or a part of it is dropped."""
    if "'" not in cell:
        return cell
    return "".join(part[1:] if part[:1] == "'" else part for part in _PARTS.split(cell))


def csv_lines(rows: list[list[str]]) -> str:
    """Rows as CSV lines, a cell quoted when any locale's spreadsheet would split it."""
    return "".join(",".join(_quoted(cell) for cell in row) + "\r\n" for row in rows)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if _QUOTED.search(cell) else cell


# Reading -----------------------------------------------------------------------------------


# A data row: its line, and its cells, or None when it has more than MAX_COLUMNS of them.
Row = tuple[int, list[str] | None]


@dataclass
class CsvSource:
    """An open CSV file: what was detected, and its data rows."""

    encoding: str
    delimiter: str
    columns: dict[int, str]  # cell position -> field
    ignored: list[str] = field(default_factory=list)
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    header: list[str] = field(default_factory=list)
    stream: BinaryIO | None = None

    def close(self) -> None:
        """Stop reading early (the rows generator closes the file when it finishes)."""
        if self.stream is not None:
            self.stream.close()

    def bytes_read(self) -> int:
        """How far into the file reading has got (to the read-ahead buffer), for progress."""
        return self.stream.tell() if self.stream is not None and not self.stream.closed else 0


def detect_encoding(sample: bytes) -> tuple[str, str]:
    """(codec, name to report) from the first bytes of the file."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 (BOM)"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    head = sample[:1000]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if max(odd, even) > len(head) // 8:
        # UTF-16 without a BOM: ASCII characters (separators, digits) have a NUL high byte,
        # second in little-endian, first in big-endian.
        return ("utf-16-le", "UTF-16LE") if odd > even else ("utf-16-be", "UTF-16BE")
    try:
        sample.decode("utf-8")
        return "utf-8", "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:
            return "utf-8", "UTF-8"  # a character cut at the end of the sample
    return "gb18030", "GB18030 (GBK)"


def _delimiter(first_line: str) -> str:
    """The separator that splits the first line most, outside quotes."""
    counts = {mark: 0 for mark in (",", ";", "\t")}
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def open_csv(path: Path) -> CsvSource:
    """Open a CSV file for reading row by row; CsvError when it has no email column or its
    header is too wide. Reading its rows raises CsvError for a line the csv module cannot
    read (a cell over CELL_LIMIT characters, as a quote left open makes)."""
    with path.open("rb") as raw:
        sample = raw.read(_SAMPLE)
    codec, name = detect_encoding(sample)
    stream: BinaryIO = path.open("rb")
    text = io.TextIOWrapper(stream, encoding=codec, errors="strict", newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        text.close()
        raise CsvError(f"the file is not text in {name}") from None
    delimiter = _delimiter(first[:_SAMPLE])
    if first.count(delimiter) >= MAX_COLUMNS:
        text.close()
        raise CsvError(f"line 1 has more than {MAX_COLUMNS:,} columns; nothing was imported")
    del first
    text.seek(0)
    wide: set[int] = set()
    reader = csv.reader(_lines(text, delimiter, wide), delimiter=delimiter)
    rows = _numbered(reader, text, wide)
    first_row = next(rows, (1, []))[1]
    if first_row is None:
        text.close()
        raise CsvError(f"line 1 has more than {MAX_COLUMNS:,} columns; nothing was imported")
    columns, ignored = _map_header(first_row)
    source = CsvSource(name, delimiter, columns, ignored, rows, first_row, stream)
    if "email" not in columns.values():
        if len(first_row) >= 2 and "@" in first_row[1] and not columns:
            # No header, MyCRM's column order: the first row is data.
            source.columns = dict(enumerate(FIELDS))
            source.ignored = []
            source.header = list(HEADERS_ZH)
            source.rows = _chain_first((1, first_row), rows)
        else:
            text.close()
            raise CsvError(
                "no email column: the header must name one (邮箱 or Email), "
                "or the file must follow the export's column order without a header"
            )
    return source


def _lines(text: io.TextIOWrapper, delimiter: str, wide: set[int]) -> Iterator[str]:
    """The file's lines for the csv reader, a line with too many separators (counted in C,
    quoted or not) replaced by an empty one and its number noted in `wide`."""
    for number, line in enumerate(text, 1):
        if line.count(delimiter) >= MAX_COLUMNS:
            wide.add(number)
            yield "\n"
        else:
            yield line


def _numbered(reader: Any, text: io.TextIOWrapper, wide: set[int]) -> Iterator[Row]:
    """Rows with their (last) line in the file, a quoted field may span lines; closes the
    file. A line the reader refuses ends the file: after a quote left open, nothing that
    follows can be trusted."""
    start = 1
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CsvError(f"line {start}: {_reason(exc)}; nothing was imported") from None
            except UnicodeDecodeError as exc:
                raise CsvError(
                    f"line {start}: not text in {exc.encoding}; nothing was imported"
                ) from None
            if wide:
                wide.clear()  # the reader reads no further than the row it gives
                yield reader.line_num, None
            else:
                yield reader.line_num, cells
            start = reader.line_num + 1
    finally:
        text.close()


def _reason(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a cell longer than {CELL_LIMIT:,} characters (is a quote left open?)"
    return str(exc)


def _chain_first(first: tuple[int, list[str]], rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def _map_header(cells: list[str]) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        name = unescape_cell(cell).strip().lstrip("\ufeff").lower()
        target = _HEADER_NAMES.get(name)
        if target and target not in columns.values():
            columns[position] = target
        elif cell.strip():
            ignored.append(cell.strip())
    return columns, ignored
