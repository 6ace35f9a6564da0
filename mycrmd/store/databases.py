"""Whole databases: scratch databases for restores, and exact row counts to compare."""

from mycrmd.store.pool import Pool, execute, fetch_all, fetch_value, quote_name


async def create_database(pool: Pool, name: str) -> None:
    await execute(
        pool,
        f"CREATE DATABASE IF NOT EXISTS {quote_name(name)} "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )


async def drop_database(pool: Pool, name: str) -> None:
    await execute(pool, f"DROP DATABASE IF EXISTS {quote_name(name)}")


async def table_counts(pool: Pool, schema: str) -> dict[str, int]:
    """Exact row counts of every table in a database (InnoDB's TABLE_ROWS only estimates)."""
    tables = await fetch_all(
        pool,
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        (schema,),
    )
    counts = {}
    for table in tables:
        counts[table["name"]] = int(
            await fetch_value(
                pool,
                f"SELECT COUNT(*) FROM {quote_name(schema)}.{quote_name(table['name'])}",  # noqa: S608 (quoted names)
            )
        )
    return counts


async def has_tables(pool: Pool, schema: str) -> bool:
    return bool(
        await fetch_value(
            pool,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            (schema,),
        )
    )
