"""Migrations: an empty database and one created by the original MyCRM both reach the current
schema; nothing existing is changed or lost; a newer schema is refused."""

import asyncio

import pymysql
import pytest

from mycrmd.model.settings import SEEDED as DEFAULT_SETTINGS
from mycrmd.store import config_table
from mycrmd.store.migrate import _STEPS, LATEST, MigrationError, migrate, schema_version
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_value
from tests.support.original_mycrm import create_original_database


async def table_names(pool: Pool) -> set[str]:
    rows = await fetch_all(
        pool,
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    return {row["t"] for row in rows}


async def unique_columns(pool: Pool, table: str) -> set[str]:
    rows = await fetch_all(
        pool,
        "SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND NON_UNIQUE = 0",
        (table,),
    )
    return {row["c"] for row in rows}


async def test_an_empty_database_gets_the_whole_schema_and_the_defaults(raw_pool: Pool) -> None:
    assert await schema_version(raw_pool) == 0
    assert await migrate(raw_pool) == LATEST
    assert await table_names(raw_pool) == {
        "config",
        "customers",
        "messages",
        "msg_addrs",
        "schema_migrations",
        "mail_folders",
        "job_runs",
    }
    assert await config_table.load(raw_pool) == DEFAULT_SETTINGS
    assert DEFAULT_SETTINGS == {
        "monitor_mail_days": "10",
        "mail_reserved_days": "365",
        "mail_port": "993",
        "followup_days": "30",
        "followup_importance_operators": ">=",
        "followup_importance": "3",
        "theme": "default",
    }
    assert "email" in await unique_columns(raw_pool, "customers")


async def test_migrating_twice_changes_nothing(pool: Pool) -> None:
    await config_table.put(pool, {"theme": "dark"})
    assert await migrate(pool) == LATEST
    assert await config_table.get(pool, "theme") == "dark"
    versions = await fetch_all(pool, "SELECT version FROM schema_migrations")
    assert [row["version"] for row in versions] == [version for version, _ in _STEPS]


async def test_an_original_mycrm_database_is_brought_up_to_date_with_rows_intact(
    raw_pool: Pool,
) -> None:
    await create_original_database(raw_pool)
    before = {
        table: await fetch_all(raw_pool, f"SELECT * FROM {table} ORDER BY 1")
        for table in ("customers", "messages", "msg_addrs")
    }
    assert await migrate(raw_pool) == LATEST
    for table, rows in before.items():
        after = await fetch_all(raw_pool, f"SELECT * FROM {table} ORDER BY 1")
        original_columns = [{key: row[key] for key in rows[0]} for row in after]
        assert original_columns == rows, table
    values = await config_table.load(raw_pool)
    assert values["followup_days"] == "45", "an existing value is never overwritten"
    assert values["theme"] == "black"
    assert values["mail_checked_date"] == "2024-05-01 10:00:00"
    assert values["monitor_mail_days"] == "10", "a missing default is seeded"
    assert "email" in await unique_columns(raw_pool, "customers")
    assert "parameter" in await unique_columns(raw_pool, "config")
    # utf8mb4 now: a name with an emoji is stored (3-byte utf8 refused it).
    await execute(raw_pool, "UPDATE customers SET name = '张三 🚢' WHERE id = 1")
    assert await fetch_value(raw_pool, "SELECT name FROM customers WHERE id = 1") == "张三 🚢"
    # A duplicate email (whatever its case) is refused from now on.
    with pytest.raises(pymysql.err.IntegrityError):
        await execute(raw_pool, "INSERT INTO customers (email) VALUES ('ZHANG@example.cn')")


async def test_duplicates_in_an_original_database_are_named_and_nothing_is_changed(
    raw_pool: Pool,
) -> None:
    await create_original_database(raw_pool)
    await execute(
        raw_pool, "INSERT INTO customers (name, email) VALUES ('Twin', 'JOHN@example.com')"
    )
    with pytest.raises(MigrationError) as err:
        await migrate(raw_pool)
    assert "customers has duplicate email values" in str(err.value)
    assert "john@example.com" in str(err.value).lower()
    assert await table_names(raw_pool) == {"config", "customers", "messages", "msg_addrs"}
    assert await fetch_value(raw_pool, "SELECT COUNT(*) FROM customers") == 4


async def test_a_newer_schema_is_refused(pool: Pool) -> None:
    await execute(pool, "INSERT INTO schema_migrations VALUES (%s, NOW())", (LATEST + 1,))
    with pytest.raises(MigrationError, match="newer than this mycrmd"):
        await migrate(pool)


async def test_two_processes_migrating_at_once_both_succeed(raw_pool: Pool) -> None:
    results = await asyncio.gather(migrate(raw_pool), migrate(raw_pool))
    assert results == [LATEST, LATEST]
    assert await fetch_value(raw_pool, "SELECT COUNT(*) FROM schema_migrations") == len(_STEPS)
