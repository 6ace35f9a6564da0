"""The Galera test bench works, and what MariaDB 10.11 with galera-4 really does with the SQL
mycrmd writes: each test pins one fact the cluster work relies on, so it fails if the fact
changes.

Reads that check what another node wrote are causal (wsrep_sync_wait=1): without it a node
may answer before it has applied the write, which is itself one of the facts.
"""

import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiomysql
import pymysql
import pytest

from tests.support.galera import GaleraCluster, GaleraNode, processes_under
from tests.support.waiting import eventually

pytestmark = pytest.mark.galera

_numbers = itertools.count(1)
_MROONGA = Path("/usr/lib/mysql/plugin/ha_mroonga.so")
_DEADLOCK = 1213
_LOCK_WAIT_TIMEOUT = 1205
_WS_TOO_LARGE = 1105  # "Maximum writeset size exceeded"
_WS_TOO_MANY_ROWS = 1180  # "wsrep_max_ws_rows exceeded"
_NOT_PREPARED = 1047  # "WSREP has not yet prepared node for application use"
_NOT_SUPPORTED = 4165  # "Galera replication not supported"
_LOST_CONNECTION = 2013
_CANNOT_CONNECT = 2003
_SCHEMA = "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
_HANG = 60.0  # a statement that should return, but might block forever if a fact changed

Connect = Callable[..., Awaitable[aiomysql.Connection]]


@pytest.fixture
async def cluster(galera: GaleraCluster) -> GaleraCluster:
    """The session's cluster with every node up, even if an earlier test failed mid-way."""
    for node in galera.nodes:
        if not node.running:
            await galera.restart(node)
    return galera


@pytest.fixture
async def connect(cluster: GaleraCluster) -> AsyncIterator[Connect]:
    """Connections to a database of the test's own, causal unless asked otherwise."""
    name = f"g{next(_numbers)}"
    admin = await cluster.nodes[0].connect()
    await run(admin, f"CREATE DATABASE {name}")
    opened = [admin]
    for node in cluster.nodes:
        await wait_for_database(node, name)

    async def open_connection(
        node: GaleraNode, *, causal: bool = True, **kwargs: Any
    ) -> aiomysql.Connection:
        conn = await node.connect(db=name, **kwargs)
        opened.append(conn)
        if causal:
            await run(conn, "SET SESSION wsrep_sync_wait = 1")
        return conn

    yield open_connection
    for conn in opened:
        conn.close()
    survivor = next(node for node in cluster.nodes if node.running)
    conn = await survivor.connect()
    try:
        await run(conn, f"DROP DATABASE IF EXISTS {name}")
    finally:
        conn.close()


async def wait_for_database(node: GaleraNode, name: str) -> None:
    """Until the node has applied the CREATE DATABASE: a causal read waits for it."""
    conn = await node.connect()
    try:
        await run(conn, "SET SESSION wsrep_sync_wait = 1")
        assert await rows(conn, _SCHEMA, (name,)) == [(name,)]
    finally:
        conn.close()


async def run(conn: aiomysql.Connection, sql: str, args: Any = None) -> int:
    async with conn.cursor() as cur:
        return await asyncio.wait_for(cur.execute(sql, args), _HANG)


async def rows(conn: aiomysql.Connection, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    async with conn.cursor() as cur:
        await asyncio.wait_for(cur.execute(sql, args), _HANG)
        return list(await cur.fetchall())


async def value(conn: aiomysql.Connection, sql: str, args: Any = None) -> Any:
    ((found,),) = await rows(conn, sql, args)
    return found


async def error_of(conn: aiomysql.Connection, sql: str, args: Any = None) -> int:
    """The MariaDB error code the statement fails with."""
    with pytest.raises(pymysql.err.MySQLError) as caught:
        await run(conn, sql, args)
    return caught.value.args[0]


async def set_global(node: GaleraNode, assignment: str) -> None:
    conn = await node.connect()
    try:
        await run(conn, f"SET GLOBAL {assignment}")
    finally:
        conn.close()


def provider_options(text: str) -> dict[str, str]:
    pairs = (item.split(" = ", 1) for item in text.split("; ") if " = " in item)
    return {key.strip(): option.strip().rstrip(";") for key, option in pairs}


async def cluster_size(node: GaleraNode, size: int) -> bool:
    return (await node.status())["wsrep_cluster_size"] == str(size)


def caught_up_by_ist(log: str) -> bool:
    """The SST script runs on every join; it tells which transfer it did."""
    return "rsync IST completed on joiner" in log and "rsync SST completed" not in log


def log_since(node: GaleraNode, offset: int) -> str:
    return node.error_log.read_bytes()[offset:].decode(errors="replace")


async def test_a_row_written_on_one_node_is_read_on_the_others(
    cluster: GaleraCluster, connect: Connect
) -> None:
    first, second, third = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")
    await run(writer, "INSERT INTO t VALUES (1, '客户')")
    for node in (second, third):
        reader = await connect(node)
        assert await rows(reader, "SELECT id, name FROM t") == [(1, "客户")]


async def test_defaults_the_cluster_work_builds_on(cluster: GaleraCluster) -> None:
    """Reads are not causal, an autocommit statement that loses certification is retried
    once by the server, write sets are unlimited in rows and 2 GiB in size, LOAD DATA is one
    transaction, no streaming replication, no wsrep_mode checks; a dead node is suspected
    after 5 s; a causal read waits up to 30 s."""
    node = cluster.nodes[0]
    conn = await node.connect()
    try:
        names = (
            "wsrep_sync_wait",
            "wsrep_retry_autocommit",
            "wsrep_max_ws_rows",
            "wsrep_max_ws_size",
            "wsrep_load_data_splitting",
            "wsrep_trx_fragment_size",
            "wsrep_mode",
            "binlog_format",
            "innodb_lock_wait_timeout",
        )
        found = await rows(conn, "SELECT " + ", ".join(f"@@GLOBAL.{name}" for name in names))
        options = provider_options(await value(conn, "SELECT @@wsrep_provider_options"))
    finally:
        conn.close()
    assert dict(zip(names, found[0], strict=True)) == {
        "wsrep_sync_wait": 0,
        "wsrep_retry_autocommit": 1,
        "wsrep_max_ws_rows": 0,
        "wsrep_max_ws_size": 2147483647,
        "wsrep_load_data_splitting": 0,
        "wsrep_trx_fragment_size": 0,
        "wsrep_mode": "",
        "binlog_format": "ROW",
        "innodb_lock_wait_timeout": 50,
    }
    assert {
        key: options[key]
        for key in ("evs.suspect_timeout", "evs.inactive_timeout", "repl.causal_read_timeout")
    } == {
        "evs.suspect_timeout": "PT5S",
        "evs.inactive_timeout": "PT15S",
        "repl.causal_read_timeout": "PT30S",
    }


async def test_auto_increment_steps_by_the_cluster_size_with_an_offset_per_node(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """wsrep_auto_increment_control: ids never collide across nodes, and are not 1, 2, 3."""
    writers = [await connect(node) for node in cluster.nodes]
    await run(writers[0], "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, node INT)")
    ids: dict[int, list[int]] = {}
    for index, writer in enumerate(writers):
        for _ in range(2):
            await run(writer, "INSERT INTO t (node) VALUES (%s)", (index,))
            ids.setdefault(index, []).append(await value(writer, "SELECT LAST_INSERT_ID()"))
    assert all(later - first == 3 for first, later in ids.values()), ids
    assert {first % 3 for first, _ in ids.values()} == {0, 1, 2}, ids


async def test_get_lock_is_local_to_each_node(cluster: GaleraCluster, connect: Connect) -> None:
    """No error, no warning: both nodes grant the same named lock, and the third sees it free.
    GET_LOCK cannot keep two daemons on two nodes apart."""
    first, second, third = cluster.nodes
    holder, rival, onlooker = await connect(first), await connect(second), await connect(third)
    assert await value(holder, "SELECT GET_LOCK('mycrmd.job.verify', 0)") == 1
    assert await value(rival, "SELECT GET_LOCK('mycrmd.job.verify', 0)") == 1
    assert await value(onlooker, "SELECT IS_FREE_LOCK('mycrmd.job.verify')") == 1
    assert await value(holder, "SELECT IS_USED_LOCK('mycrmd.job.verify')") == holder.thread_id()


async def _lease_table(writer: aiomysql.Connection) -> None:
    await run(
        writer,
        "CREATE TABLE lease (name VARCHAR(40) PRIMARY KEY, owner VARCHAR(40), epoch INT)",
    )
    await run(writer, "INSERT INTO lease VALUES ('verify', 'nobody', 1)")


async def _take_lease(conn: aiomysql.Connection, owner: str, epoch: int) -> int:
    """A compare-and-set on the epoch in a new transaction; the affected row count."""
    await run(conn, "BEGIN")
    return await _bump_lease(conn, owner, epoch)


async def _bump_lease(conn: aiomysql.Connection, owner: str, epoch: int) -> int:
    return await run(
        conn,
        "UPDATE lease SET owner = %s, epoch = epoch + 1 WHERE name = 'verify' AND epoch = %s",
        (owner, epoch),
    )


async def test_the_later_of_two_conflicting_commits_on_two_nodes_fails_with_1213(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Row locks are per node, so both updates go through; the conflict shows at COMMIT,
    as error 1213 (deadlock), for the one that commits second."""
    first, second, _ = cluster.nodes
    winner, loser = await connect(first), await connect(second)
    await _lease_table(winner)
    assert await _take_lease(loser, "daemon-b", 1) == 1
    assert await _take_lease(winner, "daemon-a", 1) == 1
    await run(winner, "COMMIT")
    assert await error_of(loser, "COMMIT") == _DEADLOCK
    for node in cluster.nodes:
        reader = await connect(node)
        assert await rows(reader, "SELECT owner, epoch FROM lease") == [("daemon-a", 2)]


async def test_of_two_simultaneous_commits_through_two_nodes_exactly_one_wins(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Certification orders them: whichever is first wins and the other gets 1213, never
    both, never neither."""
    first, second, _ = cluster.nodes
    a, b = await connect(first), await connect(second)
    await _lease_table(a)
    for epoch in range(1, 9):
        assert await _take_lease(a, f"a{epoch}", epoch) == 1
        assert await _take_lease(b, f"b{epoch}", epoch) == 1
        outcomes = await asyncio.gather(run(a, "COMMIT"), run(b, "COMMIT"), return_exceptions=True)
        failures = [item for item in outcomes if isinstance(item, BaseException)]
        assert len(failures) == 1, outcomes
        assert isinstance(failures[0], pymysql.err.OperationalError), failures
        assert failures[0].args[0] == _DEADLOCK
        winner = "b" if isinstance(outcomes[0], BaseException) else "a"
        assert await rows(a, "SELECT owner, epoch FROM lease") == [(f"{winner}{epoch}", epoch + 1)]


async def test_once_aborted_the_loser_fails_at_its_next_statement_and_its_work_is_gone(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """The replicated winner aborts the local loser as soon as it is applied: the loser's next
    statement, whatever it is, gets 1213, and the transaction is already rolled back."""
    first, second, _ = cluster.nodes
    winner, loser, watcher = await connect(first), await connect(second), await connect(second)
    await _lease_table(winner)
    await run(winner, "CREATE TABLE log (id INT PRIMARY KEY)")
    await run(loser, "BEGIN")
    await run(loser, "INSERT INTO log VALUES (1)")
    await _bump_lease(loser, "daemon-b", 1)
    await _take_lease(winner, "daemon-a", 1)
    await run(winner, "COMMIT")
    assert await value(watcher, "SELECT owner FROM lease") == "daemon-a"  # applied on node 2
    assert await error_of(loser, "SELECT 1") == _DEADLOCK
    assert await rows(loser, "SELECT id FROM log") == []
    await run(loser, "COMMIT")
    assert await rows(watcher, "SELECT owner, epoch FROM lease") == [("daemon-a", 2)]


async def test_select_for_update_locks_nothing_on_the_other_nodes(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """A row read FOR UPDATE on node 2 does not hold back an update through node 1; the
    reader is aborted instead, and its COMMIT fails with 1213 even though it wrote nothing."""
    first, second, _ = cluster.nodes
    writer, reader, watcher = await connect(first), await connect(second), await connect(second)
    await _lease_table(writer)
    await run(reader, "BEGIN")
    assert await rows(reader, "SELECT epoch FROM lease FOR UPDATE") == [(1,)]
    assert await run(writer, "UPDATE lease SET epoch = 2") == 1
    assert await value(watcher, "SELECT epoch FROM lease") == 2
    assert await error_of(reader, "COMMIT") == _DEADLOCK


async def test_myisam_rows_stay_on_the_node_that_wrote_them(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """The CREATE replicates, the rows do not, without a warning (the suite turns warnings into
    errors); wsrep_mode=STRICT_REPLICATION would refuse the table instead."""
    first, second, _ = cluster.nodes
    writer, reader = await connect(first), await connect(second)
    await run(writer, "CREATE TABLE m (id INT PRIMARY KEY) ENGINE=MyISAM")
    await run(writer, "INSERT INTO m VALUES (1)")
    assert await rows(writer, "SELECT id FROM m") == [(1,)]
    tables = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    assert await rows(reader, tables) == [("m",)]
    assert await rows(reader, "SELECT id FROM m") == []
    await set_global(first, "wsrep_mode = 'STRICT_REPLICATION'")
    try:
        assert await error_of(writer, "CREATE TABLE m2 (id INT PRIMARY KEY) ENGINE=MyISAM") == (
            _NOT_SUPPORTED
        )
    finally:
        await set_global(first, "wsrep_mode = ''")


@pytest.mark.skipif(
    not _MROONGA.exists(), reason="no Mroonga: apt-get install mariadb-plugin-mroonga"
)
async def test_a_galera_node_loads_mroonga_but_mroonga_rows_are_not_replicated(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """INSTALL SONAME replicates to every node. Storage mode and wrapper mode (over InnoDB)
    alike: the table is created everywhere, the rows stay on the writer, silently; with
    STRICT_REPLICATION the write is still done, with a warning."""
    first, second, third = cluster.nodes
    writer = await connect(first)
    installed = "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'Mroonga'"
    if not await rows(writer, installed):
        await run(writer, "INSTALL SONAME 'ha_mroonga'")
    for node in (second, third):
        assert await rows(await connect(node), installed) == [("ACTIVE",)]
    await run(
        writer,
        "CREATE TABLE s (id INT PRIMARY KEY, body TEXT, FULLTEXT (body)) ENGINE=Mroonga",
    )
    await run(
        writer,
        "CREATE TABLE w (id INT PRIMARY KEY, body TEXT, FULLTEXT (body)) ENGINE=Mroonga "
        "COMMENT='engine \"InnoDB\"'",
    )
    reader = await connect(second)
    for table in ("s", "w"):
        await run(writer, f"INSERT INTO {table} VALUES (1, '客户 邮件')")
        match = f"SELECT id FROM {table} WHERE MATCH(body) AGAINST('邮件' IN BOOLEAN MODE)"
        assert await rows(writer, match) == [(1,)]
        assert await rows(reader, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    await set_global(first, "wsrep_mode = 'STRICT_REPLICATION'")
    try:
        with pytest.warns(pymysql.err.Warning, match="Mroonga .* is not supported in Galera"):
            await run(writer, "INSERT INTO s VALUES (2, 'x')")
    finally:
        await set_global(first, "wsrep_mode = ''")
    assert await rows(writer, "SELECT COUNT(*) FROM s") == [(2,)]


async def test_tables_without_a_primary_key_replicate_even_duplicate_rows(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Allowed by default; wsrep_mode=REQUIRED_PRIMARY_KEY would refuse such a table."""
    first, second, _ = cluster.nodes
    writer, reader = await connect(first), await connect(second)
    await run(writer, "CREATE TABLE np (a INT, b VARCHAR(10))")
    await run(writer, "INSERT INTO np VALUES (1, 'x'), (1, 'x'), (2, 'y')")
    await run(writer, "DELETE FROM np WHERE a = 1 LIMIT 1")
    await run(writer, "UPDATE np SET b = 'z' WHERE a = 2")
    assert await rows(reader, "SELECT a, b FROM np ORDER BY a") == [(1, "x"), (2, "z")]
    await set_global(first, "wsrep_mode = 'REQUIRED_PRIMARY_KEY'")
    try:
        assert await error_of(writer, "CREATE TABLE np2 (a INT)") == _NOT_SUPPORTED
    finally:
        await set_global(first, "wsrep_mode = ''")


async def test_lock_tables_is_local_and_holds_back_replication_into_that_node(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """LOCK TABLES on node 2 does not stop a write through node 1, but node 2 cannot apply it
    until UNLOCK TABLES: plain reads there are stale, causal reads time out with 1205, and the
    backlog makes node 2 ask the whole cluster to pause (flow control)."""
    first, second, _ = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    await run(writer, "INSERT INTO t VALUES (1, 0)")
    locker, plain, causal = (
        await connect(second),
        await connect(second, causal=False),
        await connect(second),
    )
    assert await value(causal, "SELECT v FROM t") == 0
    flow_control_before = int((await second.status())["wsrep_flow_control_sent"])
    await run(locker, "LOCK TABLES t READ")
    backlog: asyncio.Task[None] | None = None
    try:
        assert await run(writer, "UPDATE t SET v = 1") == 1
        assert await value(plain, "SELECT v FROM t") == 0
        await set_global(second, "wsrep_provider_options = 'repl.causal_read_timeout=PT1S'")
        try:
            assert await error_of(causal, "SELECT v FROM t") == _LOCK_WAIT_TIMEOUT
        finally:
            await set_global(second, "wsrep_provider_options = 'repl.causal_read_timeout=PT30S'")

        async def write_backlog() -> None:
            for n in range(2, 100):
                await run(writer, "INSERT INTO t VALUES (%s, 0)", (n,))

        backlog = asyncio.create_task(write_backlog())

        async def flow_control_sent() -> bool:
            return int((await second.status())["wsrep_flow_control_sent"]) > flow_control_before

        await eventually(flow_control_sent, within=30)
    finally:
        await run(locker, "UNLOCK TABLES")
        if backlog is not None:
            await asyncio.wait_for(backlog, _HANG)
    assert await rows(causal, "SELECT COUNT(*), SUM(v) FROM t") == [(99, Decimal(1))]


async def test_ddl_through_one_node_is_missing_on_another_until_that_node_applies_it(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Even a CREATE DATABASE returns before the other nodes have run it: connecting there
    with that database fails with 1049 meanwhile, which mycrmd's pool takes for a
    configuration error. (Held back here by LOCK TABLES; under load it is a short race.)"""
    first, second, _ = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    await run(writer, "INSERT INTO t VALUES (1, 0)")
    locker = await connect(second)
    assert await value(locker, "SELECT v FROM t") == 0
    name = f"g{next(_numbers)}"
    await run(locker, "LOCK TABLES t READ")
    try:
        await run(writer, "UPDATE t SET v = 1")
        await run(writer, f"CREATE DATABASE {name}")
        with pytest.raises(pymysql.err.OperationalError) as unknown:
            await second.connect(db=name)
        assert unknown.value.args[0] == 1049
    finally:
        await run(locker, "UNLOCK TABLES")
    try:
        await wait_for_database(second, name)
        (await second.connect(db=name)).close()
    finally:
        await run(writer, f"DROP DATABASE {name}")


async def test_load_data_local_of_a_large_file_replicates_as_one_write_set(
    cluster: GaleraCluster, connect: Connect, tmp_path: Path
) -> None:
    first, second, third = cluster.nodes
    data = _rows_file(tmp_path, 200_000)
    writer = await connect(first, local_infile=True)
    await run(writer, "CREATE TABLE imported (id INT PRIMARY KEY, pad VARCHAR(200))")
    sent_before = int((await first.status())["wsrep_replicated"])
    await run(writer, _load_data("imported"), (str(data),))
    assert int((await first.status())["wsrep_replicated"]) == sent_before + 1
    for node in (second, third):
        assert await value(await connect(node), "SELECT COUNT(*) FROM imported") == 200_000


async def test_a_write_set_over_the_size_limit_fails_at_the_statement_and_loads_nothing(
    cluster: GaleraCluster, connect: Connect, tmp_path: Path
) -> None:
    """1105 "Maximum writeset size exceeded"; a temporary table does not count, so the
    import's LOAD DATA into one passes and the INSERT … SELECT out of it fails."""
    first = cluster.nodes[0]
    data = _rows_file(tmp_path, 50_000)
    writer = await connect(first, local_infile=True)
    await run(writer, "CREATE TABLE imported (id INT PRIMARY KEY, pad VARCHAR(200))")
    await run(writer, "CREATE TEMPORARY TABLE batch (id INT PRIMARY KEY, pad VARCHAR(200))")
    await set_global(first, "wsrep_max_ws_size = 1048576")
    try:
        assert await error_of(writer, _load_data("imported"), (str(data),)) == _WS_TOO_LARGE
        assert await value(writer, "SELECT COUNT(*) FROM imported") == 0
        await run(writer, _load_data("batch"), (str(data),))
        assert await value(writer, "SELECT COUNT(*) FROM batch") == 50_000
        assert await error_of(writer, "INSERT INTO imported SELECT * FROM batch") == (_WS_TOO_LARGE)
        assert await value(writer, "SELECT COUNT(*) FROM imported") == 0
    finally:
        await set_global(first, "wsrep_max_ws_size = DEFAULT")


async def test_a_write_set_over_the_row_limit_rolls_back_the_whole_transaction(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """1180 "wsrep_max_ws_rows exceeded" at the statement that crosses the limit, and the
    statements before it in the transaction are undone too: a later COMMIT commits nothing."""
    first = cluster.nodes[0]
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY)")
    await set_global(first, "wsrep_max_ws_rows = 10")
    try:
        await run(writer, "BEGIN")
        await run(writer, "INSERT INTO t SELECT seq FROM seq_1_to_8")
        assert await error_of(writer, "INSERT INTO t SELECT seq FROM seq_9_to_15") == (
            _WS_TOO_MANY_ROWS
        )
        assert await value(writer, "SELECT COUNT(*) FROM t") == 0
        await run(writer, "COMMIT")
    finally:
        await set_global(first, "wsrep_max_ws_rows = DEFAULT")
    assert await value(writer, "SELECT COUNT(*) FROM t") == 0


async def test_temporary_tables_stay_local_but_rows_copied_out_of_them_replicate(
    cluster: GaleraCluster, connect: Connect
) -> None:
    first, second, _ = cluster.nodes
    writer, reader = await connect(first), await connect(second)
    await run(writer, "CREATE TABLE customers (id INT PRIMARY KEY)")
    await run(writer, "CREATE TEMPORARY TABLE batch (id INT PRIMARY KEY) ENGINE=InnoDB")
    await run(writer, "INSERT INTO batch VALUES (1), (2)")
    await run(writer, "INSERT INTO customers SELECT id FROM batch")
    assert await rows(reader, "SELECT id FROM customers ORDER BY id") == [(1,), (2,)]
    assert await error_of(reader, "SELECT id FROM batch") == 1146  # no such table


async def test_now_is_each_nodes_own_clock_and_a_written_time_replicates_as_written(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Row-based replication copies the writer's NOW(6); the nodes never re-evaluate it. Here
    all three share one system clock; on real hosts lease expiry would see their skew."""
    for node in cluster.nodes:
        conn = await connect(node)
        before = time.time_ns() // 1000
        now = await value(conn, "SELECT UNIX_TIMESTAMP(NOW(6))")
        after = time.time_ns() // 1000
        assert before <= int(now * 1_000_000) <= after
    first, second, third = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY, at DATETIME(6) DEFAULT NOW(6))")
    await run(writer, "INSERT INTO t (id) VALUES (1)")
    written = await value(writer, "SELECT at FROM t")
    for node in (second, third):
        assert await value(await connect(node), "SELECT at FROM t") == written


async def test_a_node_cut_off_from_the_primary_component_refuses_queries_with_1047(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Connections still succeed and `SELECT 1` works, but reads and writes of tables get 1047
    (which mycrmd's pool does not count as a connection error); the rest keep working."""
    first, _, third = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY)")
    isolated = await connect(third, causal=False)
    assert await rows(isolated, "SELECT id FROM t") == []
    await set_global(third, "wsrep_provider_options = 'gmcast.isolate=1'")
    try:

        async def non_primary() -> bool:
            return (await third.status())["wsrep_cluster_status"] == "non-Primary"

        await eventually(non_primary, within=30)
        assert (await third.status())["wsrep_ready"] == "OFF"
        assert await value(isolated, "SELECT 1") == 1
        assert await error_of(isolated, "SELECT id FROM t") == _NOT_PREPARED
        assert await error_of(isolated, "INSERT INTO t VALUES (1)") == _NOT_PREPARED
        late = await third.connect()
        late.close()
        await run(writer, "INSERT INTO t VALUES (2)")
    finally:
        await set_global(third, "wsrep_provider_options = 'gmcast.isolate=0'")
        await cluster.wait_synced()
    assert await rows(await connect(third), "SELECT id FROM t") == [(2,)]


async def test_a_killed_node_loses_its_open_transaction_and_rejoins_by_ist(
    cluster: GaleraCluster, connect: Connect
) -> None:
    """Its clients get 2013 on their next statement and 2003 on connecting; its uncommitted
    work is gone. The others' writes wait until it is evicted, then go on. Restarted, it
    catches up by IST, not SST."""
    first, second, third = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    await run(writer, "INSERT INTO t VALUES (1, 0)")
    victim = await connect(third)
    await run(victim, "BEGIN")
    await run(victim, "UPDATE t SET v = 1")
    offset = third.error_log.stat().st_size
    await third.kill()
    assert await error_of(victim, "COMMIT") == _LOST_CONNECTION
    with pytest.raises(pymysql.err.OperationalError) as refused:
        await third.connect()
    assert refused.value.args[0] == _CANNOT_CONNECT
    await run(writer, "INSERT INTO t VALUES (2, 0)")
    await eventually(lambda: cluster_size(first, 2), within=30)
    await run(await connect(second), "INSERT INTO t VALUES (3, 0)")
    await cluster.restart(third)
    rejoin = log_since(third, offset)
    assert caught_up_by_ist(rejoin), rejoin[-3000:]
    assert await rows(await connect(third), "SELECT id, v FROM t ORDER BY id") == [
        (1, 0),
        (2, 0),
        (3, 0),
    ]


async def test_a_cleanly_stopped_node_leaves_at_once_and_rejoins_by_ist(
    cluster: GaleraCluster, connect: Connect
) -> None:
    first, second, _ = cluster.nodes
    writer = await connect(first)
    await run(writer, "CREATE TABLE t (id INT PRIMARY KEY)")
    offset = second.error_log.stat().st_size
    await second.stop()
    await eventually(lambda: cluster_size(first, 2), within=30)
    await run(writer, "INSERT INTO t VALUES (1)")
    await cluster.restart(second)
    rejoin = log_since(second, offset)
    assert caught_up_by_ist(rejoin), rejoin[-3000:]
    assert await rows(await connect(second), "SELECT id FROM t") == [(1,)]


async def test_a_killed_test_run_leaves_no_server_behind(work_dir: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="go-", dir=work_dir))
    owner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.galera_owner",
        str(root),
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert owner.stdout is not None
        assert await asyncio.wait_for(owner.stdout.readline(), 120) == b"ready\n"
        assert processes_under(root), "the one-node cluster is not running"
    finally:
        owner.kill()
        await owner.wait()
    await eventually(
        lambda: not processes_under(root), within=60, describe=lambda: processes_under(root)
    )


def _rows_file(folder: Path, count: int) -> Path:
    path = folder / f"rows-{count}.csv"
    with path.open("w") as out:
        out.writelines(f"{n},{'x' * 100}\n" for n in range(count))
    return path


def _load_data(table: str) -> str:
    return f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} FIELDS TERMINATED BY ','"
