"""The Galera bench's costs, in one run: cluster start from empty datadirs, how long a kill -9
stalls the survivors' writes, rejoin after a kill and after a clean stop, and the commit
latency of a small transaction on one node beside the embedded single server.

    python3 -m tests.bench.bench_galera [--starts 2] [--failovers 3] [--commits 500]

Prints seconds (medians and ranges) and commit p50/p95 in milliseconds; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiomysql

from mycrmd.system.embedded_db import EmbeddedServer
from tests.support.galera import GaleraCluster, GaleraNode

Opener = Callable[[], Awaitable[aiomysql.Connection]]


def _seconds(label: str, samples: list[float]) -> None:
    print(
        f"{label:<52} {statistics.median(samples):7.2f} s"
        f"   (min {min(samples):.2f}, max {max(samples):.2f}, n={len(samples)})"
    )


async def _execute(conn: aiomysql.Connection, sql: str) -> None:
    async with conn.cursor() as cur:
        await cur.execute(sql)


@contextlib.asynccontextmanager
async def _cluster(root: Path) -> AsyncIterator[GaleraCluster]:
    cluster = GaleraCluster(root)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


async def cold_starts(work: Path, count: int) -> list[float]:
    samples = []
    for n in range(count):
        root = work / f"cold{n}"
        started = time.monotonic()
        async with _cluster(root):
            samples.append(time.monotonic() - started)
        shutil.rmtree(root, ignore_errors=True)
    return samples


async def _stall(cluster: GaleraCluster, victim: GaleraNode, n: int) -> dict[str, float]:
    """Kill the victim; seconds until a write through node 1, a plain read and a causal read
    through node 2 each return."""
    writer = await cluster.nodes[0].connect(db="failover")
    plain = await cluster.nodes[1].connect(db="failover")
    causal = await cluster.nodes[1].connect(db="failover")
    await _execute(causal, "SET SESSION wsrep_sync_wait = 1")
    started = time.monotonic()

    async def timed(conn: aiomysql.Connection, sql: str) -> float:
        await _execute(conn, sql)
        return time.monotonic() - started

    try:
        await victim.kill()
        write, read, causal_read = await asyncio.gather(
            timed(writer, f"INSERT INTO writes VALUES ({n})"),
            timed(plain, "SELECT COUNT(*) FROM writes"),
            timed(causal, "SELECT COUNT(*) FROM writes"),
        )
    finally:
        for conn in (writer, plain, causal):
            conn.close()
    return {"stall": write, "read": read, "causal": causal_read}


async def failovers(cluster: GaleraCluster, count: int) -> dict[str, list[float]]:
    admin = await cluster.nodes[0].connect()
    await _execute(admin, "CREATE DATABASE failover")
    await _execute(admin, "CREATE TABLE failover.writes (id INT PRIMARY KEY)")
    admin.close()
    victim = cluster.nodes[2]
    found: dict[str, list[float]] = {
        key: [] for key in ("stall", "read", "causal", "killed", "stop", "stopped")
    }
    for n in range(count):
        for key, seconds in (await _stall(cluster, victim, 2 * n)).items():
            found[key].append(seconds)
        started = time.monotonic()
        await cluster.restart(victim)
        found["killed"].append(time.monotonic() - started)
        started = time.monotonic()
        await victim.stop()
        found["stop"].append(time.monotonic() - started)
        writer = await cluster.nodes[0].connect(db="failover")
        await _execute(writer, f"INSERT INTO writes VALUES ({2 * n + 1})")
        writer.close()
        started = time.monotonic()
        await cluster.restart(victim)
        found["stopped"].append(time.monotonic() - started)
    return found


async def commit_latency(
    open_connection: Opener, commits: int, database: str
) -> tuple[float, float]:
    """p50 and p95 in ms of BEGIN; INSERT one row; COMMIT."""
    conn = await open_connection()
    try:
        await _execute(conn, f"CREATE DATABASE {database}")
        await _execute(conn, f"CREATE TABLE {database}.t (id INT PRIMARY KEY, note VARCHAR(40))")
        samples = []
        for n in range(commits + 20):
            started = time.perf_counter()
            await _execute(conn, "BEGIN")
            await _execute(conn, f"INSERT INTO {database}.t VALUES ({n}, 'small transaction')")
            await _execute(conn, "COMMIT")
            if n >= 20:  # warm-up
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def main(starts: int, rounds: int, commits: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gb-") as folder:
        work = Path(folder)
        cold = await cold_starts(work, starts)
        embedded = EmbeddedServer(work / "single", buffer_pool_size="128M")
        await embedded.start()
        try:
            async with _cluster(work / "cluster") as cluster:
                node = cluster.nodes[0]
                latencies = {
                    "embedded single server, unix socket": await commit_latency(
                        lambda: aiomysql.connect(unix_socket=str(embedded.socket), user="root"),
                        commits,
                        "single",
                    ),
                    "Galera node 1 of 3, unix socket": await commit_latency(
                        lambda: aiomysql.connect(unix_socket=str(node.socket), user="root"),
                        commits,
                        "galera_socket",
                    ),
                    "Galera node 1 of 3, TCP 127.0.0.1": await commit_latency(
                        node.connect, commits, "galera_tcp"
                    ),
                }
                found = await failovers(cluster, rounds)
        finally:
            await embedded.stop()
    print()
    _seconds("cold start, 3 nodes from empty datadirs", cold)
    _seconds("kill -9 of node 3 -> a write through node 1 commits", found["stall"])
    _seconds("kill -9 of node 3 -> a plain read on node 2 answers", found["read"])
    _seconds("kill -9 of node 3 -> a causal read on node 2 answers", found["causal"])
    _seconds("killed node 3 restarted -> synced (recovery + IST)", found["killed"])
    _seconds("clean stop of node 3", found["stop"])
    _seconds("stopped node 3 restarted -> synced (IST)", found["stopped"])
    print(f"\n{'small transaction (BEGIN, INSERT, COMMIT)':<52} {'p50 ms':>7} {'p95 ms':>7}")
    anchor = latencies["embedded single server, unix socket"][0]
    for label, (p50, p95) in latencies.items():
        print(f"{label:<52} {p50:7.2f} {p95:7.2f}   p50 x{p50 / anchor:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--commits", type=int, default=500)
    options = parser.parse_args()
    asyncio.run(main(options.starts, options.failovers, options.commits))
