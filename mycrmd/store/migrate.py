"""Bring an empty database, or one created by the original MyCRM, to the current schema.

Additive steps only: nothing existing is renamed or dropped (R-DB1). MariaDB commits DDL
implicitly, so every step is idempotent and the version is recorded after each one; a crash
half-way is finished by the next run. A database newer than this program is refused.
"""

import re
from collections.abc import Awaitable, Callable

import aiomysql

from mycrmd.model.customer import BY_NAME as CUSTOMER_FIELDS
from mycrmd.model.settings import SEEDED
from mycrmd.store import search
from mycrmd.store.pool import Pool, connection, fetch_value, quote_name
from mycrmd.system.resources import resource

LATEST = 5

# Unique keys an original database may lack, as (table, column).
_UNIQUE_KEYS = (("config", "parameter"), ("customers", "email"))


class MigrationError(Exception):
    """The database cannot be brought up to date without the user's decision."""


def schema_statements() -> list[str]:
    """schema.sql split into statements (it holds no semicolon inside a literal)."""
    text = resource("schema.sql").read_text(encoding="utf-8")
    text = re.sub(r"^\s*--.*$", "", text, flags=re.MULTILINE)
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


async def schema_version(pool: Pool) -> int:
    has_table = await fetch_value(
        pool,
        "SELECT COUNT(*) FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'",
    )
    if not has_table:
        return 0
    return int(await fetch_value(pool, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate(pool: Pool) -> int:
    """Apply the missing steps under a named lock (a one-shot command may start beside the
    daemon); returns the version reached."""
    async with connection(pool) as conn, conn.cursor() as cur:
        await cur.execute("SELECT GET_LOCK(CONCAT('mycrmd.migrate.', DATABASE()), 60)")
        (locked,) = await cur.fetchone()
        if locked != 1:
            raise MigrationError("another process has been migrating for a minute; try again")
        # "IF NOT EXISTS" reports an existing index as a note; on a re-run that is expected.
        await cur.execute("SET SESSION sql_notes = 0")
        try:
            version = await schema_version(pool)
            if version > LATEST:
                raise MigrationError(
                    f"the database's schema is version {version}, newer than this mycrmd "
                    f"understands ({LATEST}): upgrade mycrmd"
                )
            for step_version, step in _STEPS:
                if version < step_version:
                    await step(cur)
                    await cur.execute(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (%s, NOW())",
                        (step_version,),
                    )
                    version = step_version
            await _seed_settings(cur)
        finally:
            await cur.execute("SELECT RELEASE_LOCK(CONCAT('mycrmd.migrate.', DATABASE()))")
            await cur.execute("SET SESSION sql_notes = 1")
    return version


async def _step_1_baseline(cur: aiomysql.Cursor) -> None:
    """The baseline: an original database's tables in utf8mb4 with their unique keys, then
    everything schema.sql creates or adds."""
    await _refuse_duplicates(cur)
    await _convert_to_utf8mb4(cur)
    for statement in schema_statements():
        await cur.execute(statement)
    for table, column in _UNIQUE_KEYS:
        if not await _has_unique_key(cur, table, column):
            await cur.execute(
                f"ALTER TABLE {table} ADD UNIQUE INDEX {quote_name(column)} ({column})"
            )


async def _step_2_validity_history(cur: aiomysql.Cursor) -> None:
    """Every validity change with its source (model/history.py), reason and causing mail; the
    reason of every bounce on its message."""
    await cur.execute(
        "CREATE TABLE IF NOT EXISTS validity_history ("
        " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,"
        " customer_id INT(11) UNSIGNED NOT NULL,"
        " at DATETIME(6) NOT NULL,"
        " field VARCHAR(64) NOT NULL,"
        " old VARCHAR(256) NULL,"
        " new VARCHAR(256) NULL,"
        " source VARCHAR(16) NOT NULL,"
        " reason VARCHAR(256) NOT NULL DEFAULT '',"
        " message_id INT(11) UNSIGNED NULL,"
        " PRIMARY KEY (id),"
        " KEY customer_at (customer_id, at)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    )
    # Every bounce, hard or soft, keeps its reason ("bounce 4.2.2 mailbox_full") on its message.
    await cur.execute(
        "ALTER TABLE messages ADD COLUMN IF NOT EXISTS bounce_reason VARCHAR(256) NULL"
    )


async def _refuse_duplicates(cur: aiomysql.Cursor) -> None:
    """A unique key cannot be added over duplicates, and choosing which to drop is the user's
    call: name them instead."""
    for table, column in _UNIQUE_KEYS:
        if not await _table_exists(cur, table) or await _has_unique_key(cur, table, column):
            continue
        await cur.execute(
            f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column} "  # noqa: S608 (constants)
            "HAVING COUNT(*) > 1 LIMIT 5"
        )
        duplicates = await cur.fetchall()
        if duplicates:
            names = ", ".join(f"{value!r} ({count} rows)" for value, count in duplicates)
            raise MigrationError(
                f"table {table} has duplicate {column} values, which mycrmd keeps unique: "
                f"{names}; merge or delete them, then run `mycrmd migrate` again"
            )


async def _convert_to_utf8mb4(cur: aiomysql.Cursor) -> None:
    """MyCRM's tables were often utf8 (3-byte), which cannot store emoji in names or mails."""
    await cur.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME IN ('config', 'customers', 'messages', 'msg_addrs') "
        "AND TABLE_COLLATION NOT LIKE 'utf8mb4%'"
    )
    for (table,) in await cur.fetchall():
        await cur.execute(
            f"ALTER TABLE {quote_name(table)} ROW_FORMAT=DYNAMIC, "
            "CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        )


async def _table_exists(cur: aiomysql.Cursor, table: str) -> bool:
    await cur.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        (table,),
    )
    (count,) = await cur.fetchone()
    return bool(count)


async def _has_unique_key(cur: aiomysql.Cursor, table: str, column: str) -> bool:
    """Whether some unique index (or the primary key) is exactly this one column."""
    await cur.execute(
        "SELECT INDEX_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND NON_UNIQUE = 0 "
        "GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = %s",
        (table, column),
    )
    return bool(await cur.fetchall())


async def _seed_settings(cur: aiomysql.Cursor) -> None:
    """The defaults the original scripts assumed (R-DB4); existing values are kept."""
    await cur.executemany(
        "INSERT INTO config (parameter, value) VALUES (%s, %s) "
        "ON DUPLICATE KEY UPDATE parameter = parameter",
        list(SEEDED.items()),
    )


# The sync ledger's counts per folder (issue 17), added to mail_folders.
_LEDGER_COLUMNS = (
    ("name", "VARCHAR(255) NOT NULL DEFAULT ''"),  # decoded, as people read it
    ("on_server", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("stored", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("skipped_duplicate", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("skipped_excluded", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("skipped_older", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("skipped_unreadable", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("missing", "INT UNSIGNED NOT NULL DEFAULT 0"),
    ("push", "TINYINT(1) NOT NULL DEFAULT 0"),
)


async def _step_3_sync_ledger(cur: aiomysql.Cursor) -> None:
    """The per-folder ledger: its counts in mail_folders, each UID's outcome in mail_uids
    (created by schema.sql, which step 1 ran on a new database; an older one lacks it)."""
    for statement in schema_statements():
        if "mail_uids" in statement:
            await cur.execute(statement)
    for column, kind in _LEDGER_COLUMNS:
        await cur.execute(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'mail_folders' AND COLUMN_NAME = %s",
            (column,),
        )
        (present,) = await cur.fetchone()
        if not present:
            await cur.execute(f"ALTER TABLE mail_folders ADD COLUMN {column} {kind}")


async def _step_4_message_search(cur: aiomysql.Cursor) -> None:
    """The mail search's index, filled from the stored mail, where the server has Mroonga
    (without it the search scans; `mycrmd reindex` creates the index once it is installed)."""
    if not await _table_exists(cur, search.TABLE):
        await search.rebuild(cur)


async def _step_5_snooze(cur: aiomysql.Cursor) -> None:
    """customers.snoozed_until (nullable): follow-up and 待回复 skip the customer until then."""
    sql_type = CUSTOMER_FIELDS["snoozed_until"].sql_type
    await cur.execute(
        f"ALTER TABLE customers ADD COLUMN IF NOT EXISTS snoozed_until {sql_type} NULL"
    )


_STEPS: list[tuple[int, Callable[[aiomysql.Cursor], Awaitable[None]]]] = [
    (1, _step_1_baseline),
    (2, _step_2_validity_history),
    (3, _step_3_sync_ledger),
    (4, _step_4_message_search),
    (5, _step_5_snooze),
]
