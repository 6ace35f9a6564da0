"""The one pool: a database restart is survived, transactions are all or nothing."""

import asyncio
import tempfile
from pathlib import Path

import pytest

from mycrmd.config import DbConfig
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import (
    DatabaseUnavailable,
    Pool,
    close_pool,
    create_pool,
    fetch_value,
    ping,
    transaction,
)
from mycrmd.system.embedded_db import EmbeddedServer


async def test_a_database_restart_is_survived(work_dir: Path) -> None:
    server = EmbeddedServer(Path(tempfile.mkdtemp(prefix="p-", dir=work_dir)), "64M")
    await server.start()
    pool = await create_pool(
        DbConfig(db="survivor", unix_socket=str(server.socket)), create_database=True
    )
    try:
        await migrate(pool)
        assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
        await server.stop()
        with pytest.raises(DatabaseUnavailable):
            await fetch_value(pool, "SELECT COUNT(*) FROM customers")
        assert not await ping(pool)
        await server.start()
        loop = asyncio.get_running_loop()
        back = loop.time()
        # The pooled connections died with the server; the next use reconnects by itself.
        assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
        assert loop.time() - back < 5
        assert await ping(pool)
    finally:
        await close_pool(pool)
        await server.stop()


async def test_a_transaction_is_all_or_nothing(pool: Pool) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(pool) as cur:
            await cur.execute("INSERT INTO customers (email) VALUES ('a@example.com')")
            raise RuntimeError("interrupted half-way")
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 0
    async with transaction(pool) as cur:
        await cur.execute("INSERT INTO customers (email) VALUES ('a@example.com')")
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 1
