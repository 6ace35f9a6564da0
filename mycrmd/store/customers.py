"""The customers table."""

import asyncio
import csv
import tempfile
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import aiomysql
import pymysql

from mycrmd.store.pool import (
    Pool,
    Row,
    bulk_loading_connection,
    connection,
    execute,
    fetch_all,
    fetch_one,
    fetch_value,
    insert,
)

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
# What a CSV file holds, in MyCRM's order: all but the id and the verify job's own columns.
CSV_FIELDS = tuple(c for c in COLUMNS if c not in ("id", "last_checked_date", "last_checked_log"))
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
        # Per pool object, not per id(pool): a new pool may reuse a closed one's id.
        self._seen: weakref.WeakKeyDictionary[Pool, dict[tuple[object, ...], tuple[float, int]]]
        self._seen = weakref.WeakKeyDictionary()

    async def count(self, pool: Pool, sql: str, args: list[Any]) -> int:
        seen = self._seen.setdefault(pool, {})
        key = (sql, *args)
        now = time.monotonic()
        hit = seen.get(key)
        if hit and now - hit[0] < _COUNT_TTL:
            return hit[1]
        total = int(await fetch_value(pool, sql, args))
        seen[key] = (now, total)
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


# The import (SPEC R-IO2): rows are staged in a temporary table inside one transaction, then
# applied with one UPDATE … JOIN and one INSERT … SELECT; nothing shows until COMMIT, and a
# kill at any point leaves the table as it was. Each batch reaches the server as a small file
# through LOAD DATA LOCAL (twice as fast as a multi-row INSERT, whose escaping in Python costs
# more than the server's work), or, where the server does not allow that, as an INSERT.

# A staged row: (email, row number, then these columns); None where the cell was empty.
STAGED_COLUMNS = tuple(c for c in CSV_FIELDS if c != "email")
_COLUMN_TYPES = """
  name VARCHAR(128), importance TINYINT UNSIGNED, company VARCHAR(128), country VARCHAR(30),
  address VARCHAR(256), phone VARCHAR(30), website VARCHAR(256), comment VARCHAR(512),
  last_contact_date DATETIME, valid TINYINT UNSIGNED
"""
_STAGE = f"""
CREATE TEMPORARY TABLE import_rows (
  email VARCHAR(256) NOT NULL PRIMARY KEY, row_no INT UNSIGNED NOT NULL,
  earlier_row INT UNSIGNED NULL, {_COLUMN_TYPES}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
"""
# A batch as loaded, before a later row replaces an earlier one with the same address.
_BATCH = f"""
CREATE TEMPORARY TABLE import_batch (
  email VARCHAR(256) NOT NULL, row_no INT UNSIGNED NOT NULL, {_COLUMN_TYPES}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
"""
_TEMPORARY = ("import_rows", "import_batch")
_NAMES = ", ".join(STAGED_COLUMNS)
# The batch file is CSV as Python's csv module writes it; an empty field is an empty cell.
_LOAD_BATCH = f"""
LOAD DATA LOCAL INFILE %s INTO TABLE import_batch CHARACTER SET utf8mb4
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n'
(email, row_no, {", ".join("@" + name for name in STAGED_COLUMNS)})
SET {", ".join(f"{name} = NULLIF(@{name}, '')" for name in STAGED_COLUMNS)}
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
VALUES ({", ".join(["%s"] * (2 + len(STAGED_COLUMNS)))}) {_REPLACE_EARLIER}
"""  # noqa: S608 (column names from STAGED_COLUMNS)
# Empty cells (NULL here) never overwrite what the customer already has.
_APPLY_UPDATES = f"""
UPDATE customers c JOIN import_rows t ON c.email = t.email
SET {", ".join(f"c.{name} = COALESCE(t.{name}, c.{name})" for name in STAGED_COLUMNS)}
"""  # noqa: S608 (column names from STAGED_COLUMNS)
# New customers are unconfirmed and unrated unless the file says otherwise.
_APPLY_INSERTS = """
INSERT INTO customers (name, email, importance, company, country, address, phone, website,
                       comment, last_contact_date, valid)
SELECT t.name, t.email, COALESCE(t.importance, 0), t.company, t.country, t.address, t.phone,
       t.website, t.comment, t.last_contact_date, COALESCE(t.valid, 2)
FROM import_rows t LEFT JOIN customers c ON c.email = t.email
WHERE c.id IS NULL ORDER BY t.row_no
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

    async def counts(self) -> tuple[int, int]:
        """(addresses staged, of which customers already have)."""
        assert self.conn is not None
        async with self.conn.cursor() as cur:
            await cur.execute(
                "SELECT COUNT(*), COUNT(c.id) FROM import_rows t "
                "LEFT JOIN customers c ON c.email = t.email"
            )
            staged, existing = await cur.fetchone()
        return int(staged), int(existing)

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
            await cur.execute(_APPLY_UPDATES)
            await cur.execute(_APPLY_INSERTS)

    async def commit(self) -> None:
        assert self.conn is not None
        await self.conn.commit()
        totals.forget()


def _write_batch(out: IO[str], rows: list[tuple[Any, ...]]) -> None:
    """Runs in a thread. None is written as an empty field, which the load reads as NULL."""
    csv.writer(out, lineterminator="\n").writerows(rows)
    out.flush()


# The export's columns (CSV_FIELDS), the date already as text: converting a million
# datetimes in Python only to format them again costs a third of an export.
_EXPORT_SELECT = ", ".join(
    "DATE_FORMAT(last_contact_date, '%%Y-%%m-%%d %%H:%%i:%%s')" if c == "last_contact_date" else c
    for c in CSV_FIELDS
)


async def stream_export(
    pool: Pool, clauses: list[str], args: list[Any], order_by: str, batch: int = 2000
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Every matching customer as a tuple of the export's columns, a batch at a time, from an
    unbuffered cursor: memory stays flat however many rows there are. A reader that stops
    early closes the connection rather than draining the rest."""
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
