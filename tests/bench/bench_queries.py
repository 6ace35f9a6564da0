"""Query latency at a million customers, through a real `mycrmd serve`'s HTTP API, beside the
original MyCRM's follow-up SQL on the same data in the same run.

    python tests/bench/bench_queries.py [--customers 1000000] [--repeat 30]

Data: about 186k companies of skewed sizes, 10% of customers without a company, 25% never
mailed, last-contact dates over two years. Prints p50/p95 in milliseconds; asserts nothing.
"""

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import aiomysql

from mycrmd.config import DbConfig
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import close_pool, create_pool
from mycrmd.system.embedded_db import EmbeddedServer

GENERATE = """
INSERT INTO customers (name, email, importance, company, country, phone, website,
                       last_contact_date, valid)
SELECT CONCAT('Customer ', seq),
       CONCAT('c', seq, '@d', seq % 50000, '.example'),
       FLOOR(RAND(seq) * 6),
       IF(RAND(seq * 7) < 0.10, NULL, CONCAT('Company ', FLOOR(330000 * POW(RAND(seq * 3), 1.6)))),
       ELT(1 + seq % 8, 'China', 'USA', 'Germany', 'India', 'Brazil', 'Japan', 'France', 'UK'),
       CONCAT('+1 555 ', LPAD(seq % 10000, 4, '0')),
       CONCAT('https://d', seq % 50000, '.example'),
       IF(RAND(seq * 11) < 0.25, NULL,
          NOW() - INTERVAL FLOOR(RAND(seq * 13) * 730 * 86400) SECOND),
       ELT(1 + FLOOR(RAND(seq * 17) * 10), 0, 1, 1, 1, 1, 1, 2, 2, 2, 2)
FROM seq_1_to_{count}
"""

# MyCRM's follow-up query as its README describes it: the company clause is an IN over the
# companies whose every valid customer was last mailed more than N days ago.
ORIGINAL_WHERE = """
WHERE importance >= 3 AND valid >= 1
  AND (last_contact_date IS NULL OR DATEDIFF(NOW(), last_contact_date) > 30)
  AND (company IS NULL OR company = '' OR company IN (
        SELECT company FROM customers WHERE valid >= 1 GROUP BY company
        HAVING MIN(last_contact_date) IS NULL OR MIN(DATEDIFF(NOW(), last_contact_date)) > 30))
"""
ORIGINAL_PAGE = "SELECT * FROM customers" + ORIGINAL_WHERE + " ORDER BY id LIMIT 0, 20"
ORIGINAL_COUNT = "SELECT COUNT(*) FROM customers" + ORIGINAL_WHERE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def timed(
    call: Callable[[], Awaitable[object]],
    repeat: int,
    before: Callable[[], Awaitable[object]] | None = None,
) -> tuple[float, float]:
    """p50 and p95 in ms; `before` runs, untimed, ahead of each call."""
    await call()  # warm up
    samples = []
    for _ in range(repeat):
        if before is not None:
            await before()
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


async def main(count: int, repeat: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="mycrmd-bench-"))
    server = EmbeddedServer(root / "db", buffer_pool_size="1G")
    daemon = None
    try:
        await server.start()
        config = DbConfig(db="bench", unix_socket=str(server.socket))
        pool = await create_pool(config, create_database=True)
        await migrate(pool)
        started = time.perf_counter()
        conn = await aiomysql.connect(unix_socket=str(server.socket), user="root", db="bench")
        async with conn.cursor() as cur:
            await cur.execute(GENERATE.format(count=count))
            await conn.commit()
            await cur.execute("ANALYZE TABLE customers")
            await cur.execute(
                "SELECT COUNT(DISTINCT company), AVG(company IS NULL), "
                "AVG(last_contact_date IS NULL) FROM customers"
            )
            companies, no_company, never = await cur.fetchone()
        print(
            f"generated {count:,} customers in {time.perf_counter() - started:.0f} s: "
            f"{companies:,} companies, {float(no_company):.0%} without one, "
            f"{float(never):.0%} never mailed"
        )

        port = free_port()
        toml = root / "mycrmd.toml"
        toml.write_text(
            f'[db]\ndb = "bench"\nunix_socket = "{server.socket}"\n'
            f'[web]\nport = {port}\n[paths]\nstate_dir = "{root / "state"}"\n'
            "[jobs]\nfetch_interval = 10080\n"
        )
        daemon = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
            [shutil.which("mycrmd") or "mycrmd", "--config", str(toml), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

            async def api(path: str) -> Callable[[], Awaitable[object]]:
                async def call() -> object:
                    async with http.get(base + path) as resp:
                        assert resp.status == 200, await resp.text()
                        return await resp.json()

                return call

            edits = 0

            async def edit() -> None:
                """A write through the daemon, as people make them: it forgets cached
                totals, so every total below is counted afresh."""
                nonlocal edits
                edits += 1
                body = {"phone": f"+1 {edits}"}
                async with http.patch(f"{base}/api/customers/1", json=body) as reply:
                    assert reply.status == 200, await reply.text()

            deep = count // 2 // 20
            previous = await (await api(f"/api/customers?page={deep - 1}&total=false"))()
            neighbour = previous["rows"][-1]["id"]  # type: ignore[index]
            cases = [
                ("list, first page (rows)", "/api/customers?total=false", "<= 20"),
                ("list, first page (rows+total)", "/api/customers", ""),
                (
                    f"list, page {deep:,} by next (keyset)",
                    f"/api/customers?after_id={neighbour}&total=false",
                    "<= 50",
                ),
                (
                    f"list, page {deep:,} by number (offset)",
                    f"/api/customers?page={deep}&total=false",
                    "<= 50",
                ),
                ("search with matches (rows+total)", "/api/customers?q=Company%2012", "<= 1500"),
                ("search without matches (rows+total)", "/api/customers?q=nothing-like", "<= 1500"),
                ("follow-up page (rows)", "/api/followup?total=false", "<= 50"),
                ("follow-up page (rows+total)", "/api/followup", "<= 1000"),
            ]
            heading = "query (totals counted afresh each time)"
            print(f"\n{heading:<42} {'p50 ms':>9} {'p95 ms':>9}  target p95")
            results = {}
            for label, path, target in cases:
                p50, p95 = await timed(await api(path), repeat, before=edit)
                results[label] = p95
                print(f"{label:<42} {p50:9.1f} {p95:9.1f}  {target}")
            p50, p95 = await timed(await api("/api/followup"), repeat)
            print(f"{'follow-up page (rows+total), total cached':<42} {p50:9.1f} {p95:9.1f}")

        async def original(sql: str) -> Callable[[], Awaitable[object]]:
            async def call() -> object:
                async with conn.cursor() as cur:
                    await cur.execute(sql)
                    return await cur.fetchall()

            return call

        original_repeat = max(3, repeat // 10)
        page50, page95 = await timed(await original(ORIGINAL_PAGE), original_repeat)
        count50, count95 = await timed(await original(ORIGINAL_COUNT), original_repeat)
        print(f"{'original follow-up SQL, page':<42} {page50:9.1f} {page95:9.1f}")
        print(f"{'original follow-up SQL, count':<42} {count50:9.1f} {count95:9.1f}")
        ours = results["follow-up page (rows+total)"]
        print(
            f"\nfollow-up rows+total: {(page95 + count95) / ours:.0f}x faster than the original "
            f"(page+count p95 {page95 + count95:.0f} ms vs {ours:.0f} ms)"
        )
        conn.close()
        await close_pool(pool)
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(15)
        await server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.customers, args.repeat)))
