"""The import's staging (R-IO2): rows are staged in a temporary table inside one
transaction, then applied with one UPDATE … JOIN and one INSERT … SELECT; nothing shows until
COMMIT, and a kill at any point leaves the table as it was. Each batch reaches the server as a
small file through LOAD DATA LOCAL (twice as fast as a multi-row INSERT, whose escaping in
Python costs more than the server's work), or, where the server does not allow that, as an
INSERT."""

import asyncio
import csv
import tempfile
from dataclasses import dataclass
from typing import IO, Any

import aiomysql
import pymysql

from mycrmd.model.customer import BY_NAME, CSV_FIELDS
from mycrmd.model.history import Source
from mycrmd.safety.sanitize import clean_comment, comment_text
from mycrmd.store.counts import totals
from mycrmd.store.pool import Pool, Row, arg_marks, bulk_loading_connection

# A staged row: (email, row number, then these columns); None where the cell was empty.
STAGED_COLUMNS = tuple(name for name in CSV_FIELDS if name != "email")
_COLUMN_TYPES = ", ".join(f"{name} {BY_NAME[name].sql_type}" for name in STAGED_COLUMNS)
_EMAIL_TYPE = BY_NAME["email"].sql_type
_STAGE = f"""
CREATE TEMPORARY TABLE import_rows (
  email {_EMAIL_TYPE} NOT NULL PRIMARY KEY, row_no INT UNSIGNED NOT NULL,
  earlier_row INT UNSIGNED NULL, {_COLUMN_TYPES}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
"""
# A batch as loaded, before a later row replaces an earlier one with the same address.
_BATCH = f"""
CREATE TEMPORARY TABLE import_batch (
  email {_EMAIL_TYPE} NOT NULL, row_no INT UNSIGNED NOT NULL, {_COLUMN_TYPES}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
"""
_NAMES = ", ".join(STAGED_COLUMNS)
# The batch file is CSV as Python's csv module writes it: an empty field is an empty cell,
# and every value is written after a `v`, so that no cell's text (`NULL`, `\\N`) is ever read
# as NULL; the address (never empty, never such a word) is written as it is.
_VALUE_MARK = "v"
_LOAD_BATCH = f"""
LOAD DATA LOCAL INFILE %s INTO TABLE import_batch CHARACTER SET utf8mb4
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n'
(email, row_no, {", ".join("@" + name for name in STAGED_COLUMNS)})
SET {", ".join(f"{c} = IF(@{c} = '', NULL, SUBSTRING(@{c}, 2))" for c in STAGED_COLUMNS)}
"""
# A later row of the file replaces an earlier one with the same address, remembering it.
_REPLACE_EARLIER = f"""
ON DUPLICATE KEY UPDATE import_rows.earlier_row = import_rows.row_no,
  {", ".join(f"import_rows.{c} = VALUES({c})" for c in ("row_no", "email", *STAGED_COLUMNS))}
"""
_STAGE_BATCH = f"""
INSERT INTO import_rows (email, row_no, {_NAMES})
SELECT email, row_no, {_NAMES} FROM import_batch ORDER BY row_no {_REPLACE_EARLIER}
"""  # noqa: S608 (column names from STAGED_COLUMNS)
_STAGE_ROWS = f"""
INSERT INTO import_rows (email, row_no, {_NAMES})
VALUES ({arg_marks(2 + len(STAGED_COLUMNS))}) {_REPLACE_EARLIER}
"""  # noqa: S608 (column names from STAGED_COLUMNS)
# An import is a person's word: a change of validity it makes goes into the history, where
# it wins over older automatic evidence (store/validity.py).
_RECORD_CHANGES = """
INSERT INTO validity_history (customer_id, at, field, old, new, source, reason)
SELECT c.id, NOW(6), 'valid', c.valid, t.valid, %s, 'imported'
FROM customers c JOIN import_rows t ON c.email = t.email
WHERE t.valid IS NOT NULL AND t.valid <> c.valid
"""
# Empty cells (NULL here) never overwrite what the customer already has.
_APPLY_UPDATES = f"""
UPDATE customers c JOIN import_rows t ON c.email = t.email
SET {", ".join(f"c.{name} = COALESCE(t.{name}, c.{name})" for name in STAGED_COLUMNS)}
"""  # noqa: S608 (column names from STAGED_COLUMNS)


def _new_value(name: str) -> str:
    default = BY_NAME[name].default
    return f"t.{name}" if default is None else f"COALESCE(t.{name}, {default:d})"


# New customers take the model's defaults (unconfirmed, unrated) unless the file says otherwise.
_APPLY_INSERTS = f"""
INSERT INTO customers (email, {_NAMES})
SELECT t.email, {", ".join(_new_value(name) for name in STAGED_COLUMNS)}
FROM import_rows t LEFT JOIN customers c ON c.email = t.email
WHERE c.id IS NULL ORDER BY t.row_no
"""  # noqa: S608 (column names from STAGED_COLUMNS)
# An existing customer the import leaves exactly as it is (byte for byte: a change of case
# is a change).
_SAME = " AND ".join(
    f"BINARY COALESCE(t.{name}, c.{name}) <=> BINARY c.{name}" for name in STAGED_COLUMNS
)
_COUNTS = f"""
SELECT COUNT(*), COUNT(c.id), COALESCE(SUM(c.id IS NOT NULL AND {_SAME}), 0),
  COUNT(t.earlier_row)
FROM import_rows t LEFT JOIN customers c ON c.email = t.email
"""  # noqa: S608 (column names from STAGED_COLUMNS)


@dataclass(frozen=True)
class Counts:
    staged: int  # addresses
    existing: int  # of them, customers already
    unchanged: int  # of those, customers the import leaves as they are
    repeated: int  # addresses given in more than one row


_RICH_COMMENTS = """
SELECT t.email, c.comment, t.comment FROM import_rows t JOIN customers c ON c.email = t.email
WHERE t.comment IS NOT NULL AND BINARY t.comment <> BINARY c.comment
  AND (c.comment LIKE '%<%' OR c.comment LIKE '%&%')
"""
# Refusals of LOAD DATA LOCAL: MariaDB's "not allowed" (older, newer), MySQL's "disabled"
# (server, client).
_LOCAL_FILES_REFUSED = {1148, 4166, 3948, 2068}


class Import:
    """One import's connection and transaction: stage(), then counts(), then apply() and
    commit(); leaving without commit() rolls everything back."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._held: Any = None
        self.conn: aiomysql.Connection | None = None
        self.loads_files = True

    async def __aenter__(self) -> "Import":
        self._held = bulk_loading_connection(self.pool)
        self.conn = await self._held.__aenter__()
        try:
            async with self.conn.cursor() as cur:
                # Row locks only, no gap locks: people may add customers while a file imports.
                await cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                await self.conn.begin()
                await cur.execute(_STAGE)
                await cur.execute(_BATCH)
        except BaseException as exc:
            await self._held.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        """The connection is the import's own: closing it drops the temporary tables and
        rolls back whatever was not committed."""
        await self._held.__aexit__(*exc)

    async def stage(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows as (email, row number, *STAGED_COLUMNS); None where the cell was empty."""
        assert self.conn is not None
        if self.loads_files:
            try:
                await self._load(rows)
                return
            except pymysql.err.MySQLError as exc:
                if not exc.args or exc.args[0] not in _LOCAL_FILES_REFUSED:
                    raise
                self.loads_files = False
        async with self.conn.cursor() as cur:
            await cur.executemany(_STAGE_ROWS, rows)

    async def _load(self, rows: list[tuple[Any, ...]]) -> None:
        assert self.conn is not None
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".csv") as out:
            await asyncio.to_thread(_write_batch, out, rows)
            async with self.conn.cursor() as cur:
                await cur.execute(_LOAD_BATCH, (out.name,))
                await cur.execute(_STAGE_BATCH)
                await cur.execute("DELETE FROM import_batch")

    async def keep_rich_comments(self) -> None:
        """A comment exported as plain text and imported back unchanged keeps its markup:
        where the file's comment is what the stored one reads as, the stored one stays."""
        assert self.conn is not None
        async with self.conn.cursor() as cur:
            await cur.execute(_RICH_COMMENTS)
            kept = [
                (stored, email)
                for email, stored, imported in await cur.fetchall()
                if clean_comment(comment_text(stored)) == imported
            ]
            if kept:
                await cur.executemany("UPDATE import_rows SET comment = %s WHERE email = %s", kept)

    async def counts(self) -> Counts:
        assert self.conn is not None
        async with self.conn.cursor() as cur:
            await cur.execute(_COUNTS)
            staged, existing, unchanged, repeated = await cur.fetchone()
        return Counts(int(staged), int(existing), int(unchanged), int(repeated))

    async def replaced(self, limit: int) -> list[Row]:
        """Addresses given twice in the file: the later row won."""
        assert self.conn is not None
        async with self.conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(
                "SELECT email, row_no, earlier_row FROM import_rows "
                "WHERE earlier_row IS NOT NULL ORDER BY row_no LIMIT %s",
                (limit,),
            )
            return list(await cur.fetchall())

    async def apply(self) -> None:
        assert self.conn is not None
        async with self.conn.cursor() as cur:
            await cur.execute(_RECORD_CHANGES, (Source.IMPORT.value,))
            await cur.execute(_APPLY_UPDATES)
            await cur.execute(_APPLY_INSERTS)

    async def commit(self) -> None:
        assert self.conn is not None
        await self.conn.commit()
        totals.forget()


def _write_batch(out: IO[str], rows: list[tuple[Any, ...]]) -> None:
    """Runs in a thread. None (or "") is written as an empty field, which the load reads as NULL;
    any other value after _VALUE_MARK."""
    csv.writer(out, lineterminator="\n").writerows(
        (email, row_no, *("" if value in (None, "") else f"{_VALUE_MARK}{value}" for value in rest))
        for email, row_no, *rest in rows
    )
    out.flush()
