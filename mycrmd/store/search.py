"""Full-text search over stored mail (issue 18).

`message_search` is derived from `messages` and `msg_addrs`: one row per mail holding its
subject, sender, addresses and body text (safety/text.py: the HTML's words, never its tags),
in a Mroonga table whose bigram tokenizer segments Chinese (`报价单` finds `最新报价单如下`)
and keeps `PI-2026-0413` findable; InnoDB FULLTEXT cannot (no Chinese segmentation, and
MariaDB refuses the ngram parser). Mroonga's storage is not transactional, so a rolled-back
batch may leave index rows without a mail: every search joins `messages`, which hides them,
and `rebuild` drops them. Without Mroonga the search scans with LIKE, slower but the same
words found."""

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiomysql
import pymysql

from mycrmd.safety.text import html_to_text
from mycrmd.store.customer_list import escape_like
from mycrmd.store.pool import Pool, Row, arg_marks, connection, fetch_all, fetch_value

log = logging.getLogger("mycrmd.search")
_ENGINE_CANNOT_OPEN = 1016

TABLE = "message_search"
CAPPED_TOTAL = (
    1000  # totals beyond this are not counted: counting every hit of a common word cost seconds
)
_REBUILD_BATCH = 2000
_UNDATED = datetime(1970, 1, 1)  # a mail without a date sorts last
_SNIPPET = 160  # characters of body text shown around the first match

# BIGINT and the index's options on the column: with INT UNSIGNED and the options on the
# table, MariaDB 10.11's Mroonga refused every insert ("unknown integer value size").
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "  message_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    "  date DATETIME NOT NULL,"
    "  body LONGTEXT NOT NULL,"
    "  KEY date (date),"
    "  FULLTEXT INDEX body (body) COMMENT "
    '\'tokenizer "TokenBigramSplitSymbolAlphaDigit", normalizer "NormalizerAuto"\''
    ") ENGINE=Mroonga DEFAULT CHARSET=utf8mb4"
)


@dataclass(frozen=True)
class SearchQuery:
    q: str
    page: int = 1
    rows: int = 20
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    customer_id: int | None = None  # mails this customer's address may see

    @property
    def terms(self) -> list[str]:
        return self.q.split()


async def has_engine(cur: aiomysql.Cursor) -> bool:
    await cur.execute(
        "SELECT COUNT(*) FROM information_schema.ENGINES "
        "WHERE ENGINE = 'Mroonga' AND SUPPORT IN ('YES', 'DEFAULT')"
    )
    (count,) = await cur.fetchone()
    return bool(count)


async def _has_table(cur: aiomysql.Cursor) -> bool:
    await cur.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND ENGINE = 'Mroonga'",
        (TABLE,),
    )
    (count,) = await cur.fetchone()
    return bool(count)


async def indexed(pool: Pool) -> bool:
    """Whether searches use the index (else the LIKE scan, which the UI mentions once)."""
    async with connection(pool) as conn, conn.cursor() as cur:
        return await _has_table(cur)


def document(subject: str, sender: str, addresses: list[str] | tuple[str, ...], html: str) -> str:
    """What one mail is searched by; the body text comes last, where snippets are cut from."""
    return "\n".join([subject or "", sender or "", " ".join(addresses), html_to_text(html or "")])


async def add(cur: aiomysql.Cursor, documents: list[tuple[int, datetime, str]]) -> None:
    """Index these (message_id, date, document) triples, when the index exists."""
    if documents and await _has_table(cur):
        async with _index_may_fail():
            await cur.executemany(
                f"INSERT INTO {TABLE} (message_id, date, body) VALUES (%s, %s, %s) "  # noqa: S608 (constant)
                "ON DUPLICATE KEY UPDATE date = VALUES(date), body = VALUES(body)",
                documents,
            )


async def remove(cur: aiomysql.Cursor, ids: list[int]) -> None:
    if ids and await _has_table(cur):
        marks = arg_marks(len(ids))
        async with _index_may_fail():
            await cur.execute(f"DELETE FROM {TABLE} WHERE message_id IN ({marks})", ids)  # noqa: S608 (placeholders)


@contextlib.asynccontextmanager
async def _index_may_fail() -> AsyncIterator[None]:
    """The index is derived from the stored mail: an index the engine cannot open (Mroonga
    after a database crash: 1016) must not stop mail being stored or retired. The failed
    statement alone is rolled back; `mycrmd reindex` makes the index whole again."""
    try:
        yield
    except pymysql.err.OperationalError as exc:
        if not exc.args or exc.args[0] != _ENGINE_CANNOT_OPEN:
            raise
        log.warning("search index not updated, run `mycrmd reindex`: %s", exc.args[1])


async def rebuild(cur: aiomysql.Cursor) -> int:
    """Create the index (when the server has Mroonga) and fill it from every stored mail, in
    batches; returns the mails indexed, or -1 without Mroonga."""
    if not await has_engine(cur):
        return -1
    await cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await cur.execute(CREATE)
    done, last = 0, 0
    while True:
        await cur.execute(
            "SELECT id, date, subject, sender, content FROM messages "
            "WHERE id > %s ORDER BY id LIMIT %s",
            (last, _REBUILD_BATCH),
        )
        batch = await cur.fetchall()
        if not batch:
            return done
        ids = [row[0] for row in batch]
        marks = arg_marks(len(ids))
        await cur.execute(
            f"SELECT msg_id, address FROM msg_addrs WHERE msg_id IN ({marks}) ORDER BY id",  # noqa: S608 (placeholders)
            ids,
        )
        addresses: dict[int, list[str]] = {}
        for msg_id, address in await cur.fetchall():
            addresses.setdefault(msg_id, []).append(address)
        await cur.executemany(
            f"INSERT INTO {TABLE} (message_id, date, body) VALUES (%s, %s, %s)",  # noqa: S608 (constant)
            [
                (mid, date or _UNDATED, document(subject, sender, addresses.get(mid, []), content))
                for mid, date, subject, sender, content in batch
            ],
        )
        done += len(batch)
        last = ids[-1]


async def reindex(pool: Pool) -> int:
    async with connection(pool) as conn, conn.cursor() as cur:
        return await rebuild(cur)


def _boolean_query(terms: list[str]) -> str:
    """Every term required, each as a phrase (so `PI-2026-0413` is one token run)."""
    return " ".join('+"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"' for term in terms)


def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if query.type:
        clauses.append("m.type = %s")
        args.append(query.type)
    if query.since:
        clauses.append("m.date >= %s")
        args.append(query.since)
    if query.until:
        clauses.append("m.date < %s")
        args.append(query.until)
    if query.customer_id is not None:
        clauses.append(
            "m.id IN (SELECT a.msg_id FROM msg_addrs a JOIN customers c ON c.email = a.address "
            "WHERE c.id = %s)"
        )
        args.append(query.customer_id)
    return clauses, args


async def search(pool: Pool, query: SearchQuery) -> tuple[int, list[Row]]:
    """Mails with every term, newest first: the total (capped at CAPPED_TOTAL) and one page,
    each row with its addresses and a snippet of the match."""
    if not query.terms:
        return 0, []
    clauses, args = _filters(query)
    use_index = await indexed(pool)
    if use_index and not clauses:
        return await _search_index_only(pool, query)
    if use_index:
        source = f"{TABLE} s JOIN messages m ON m.id = s.message_id"
        clauses.insert(0, "MATCH (s.body) AGAINST (%s IN BOOLEAN MODE)")
        args.insert(0, _boolean_query(query.terms))
    else:
        source = "messages m"
        for term in query.terms:
            pattern = f"%{escape_like(term)}%"
            clauses.append(
                "(m.subject LIKE %s OR m.sender LIKE %s OR m.content LIKE %s OR m.id IN "
                "(SELECT msg_id FROM msg_addrs WHERE address LIKE %s))"
            )
            args += [pattern] * 4
    where = " AND ".join(clauses)
    total = await fetch_value(
        pool,
        f"SELECT COUNT(*) FROM (SELECT m.id FROM {source} WHERE {where} LIMIT %s) hits",  # noqa: S608 (fixed clauses)
        [*args, CAPPED_TOTAL],
    )
    text = "s.body" if use_index else "m.content"
    found = await fetch_all(
        pool,
        f"SELECT m.id, m.date, m.type, m.sender, m.subject, {text} AS body FROM {source} "  # noqa: S608 (fixed clauses)
        f"WHERE {where} ORDER BY m.date DESC, m.id DESC LIMIT %s OFFSET %s",
        [*args, query.rows, (query.page - 1) * query.rows],
    )
    await _add_addresses(pool, found)
    for row in found:
        body = row.pop("body") or ""
        row["snippet"] = snippet(body if use_index else html_to_text(body), query.terms)
    return int(total), found


async def _search_index_only(pool: Pool, query: SearchQuery) -> tuple[int, list[Row]]:
    """No filter: Mroonga counts and sorts by its own date column, so a common word's
    thousands of hits are neither joined nor sorted outside the engine."""
    match = _boolean_query(query.terms)
    total = await fetch_value(
        pool,
        f"SELECT COUNT(*) FROM {TABLE} WHERE MATCH (body) AGAINST (%s IN BOOLEAN MODE)",  # noqa: S608 (constant)
        (match,),
    )
    chosen = await fetch_all(
        pool,
        f"SELECT message_id FROM {TABLE} WHERE MATCH (body) AGAINST (%s IN BOOLEAN MODE) "  # noqa: S608 (constant)
        "ORDER BY date DESC, message_id DESC LIMIT %s OFFSET %s",
        (match, query.rows, (query.page - 1) * query.rows),
    )
    ids = [row["message_id"] for row in chosen]
    found: list[Row] = []
    if ids:
        marks = arg_marks(len(ids))
        found = await fetch_all(
            pool,
            "SELECT m.id, m.date, m.type, m.sender, m.subject, s.body FROM messages m "  # noqa: S608 (placeholders)
            f"JOIN {TABLE} s ON s.message_id = m.id WHERE m.id IN ({marks}) "
            "ORDER BY m.date DESC, m.id DESC",
            ids,
        )
    await _add_addresses(pool, found)
    for row in found:
        row["snippet"] = snippet(row.pop("body") or "", query.terms)
    return min(int(total), CAPPED_TOTAL), found


async def _add_addresses(pool: Pool, rows: list[Row]) -> None:
    for row in rows:
        row["addresses"] = []
    if not rows:
        return
    by_id = {row["id"]: row for row in rows}
    marks = arg_marks(len(by_id))
    for pair in await fetch_all(
        pool,
        f"SELECT msg_id, address FROM msg_addrs WHERE msg_id IN ({marks}) ORDER BY id",  # noqa: S608 (placeholders)
        list(by_id),
    ):
        addresses = by_id[pair["msg_id"]]["addresses"]
        if pair["address"] not in addresses:
            addresses.append(pair["address"])


def snippet(text: str, terms: list[str]) -> dict[str, Any]:
    """Plain text around the first match and where each term occurs in it, as
    [start, end) offsets in UTF-16 units (JavaScript's string indexes): the UI escapes the
    text and wraps the marks, so nothing from the mail is ever markup."""
    folded = text.lower()
    starts = [folded.find(term.lower()) for term in terms]
    first = min((start for start in starts if start >= 0), default=0)
    begin = max(0, first - _SNIPPET // 4)
    window = text[begin : begin + _SNIPPET]
    lowered = window.lower()
    marks: list[list[int]] = []
    for term in terms:
        needle = term.lower()
        at = lowered.find(needle)
        while needle and at >= 0:
            marks.append([_utf16(window[:at]), _utf16(window[: at + len(needle)])])
            at = lowered.find(needle, at + len(needle))
    return {"text": window, "marks": sorted(marks)}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
