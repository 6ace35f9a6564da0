"""Mail search latency: the Mroonga index beside the LIKE scan on the same generated mail, in
one run, through store/search.py (the code the API calls).

    python tests/bench/bench_search.py [--mails 1000000] [--repeat 10]

Data (reproducible: every value is a function of the row number): mails with 2.5 addresses
each on average, subjects and HTML bodies mixing Chinese phrases, English words and model and
order numbers of varied rarity. Prints build time and size, then p50/p95 in milliseconds per
query for both paths; asserts nothing.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from mycrmd.config import DbConfig
from mycrmd.store import search
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import close_pool, create_pool, execute, fetch_value
from mycrmd.system.embedded_db import EmbeddedServer

WORDS = (
    "'最新报价单如下', '请查收附件', '订单确认', '发货通知', '样品', "
    "'quotation', 'invoice', 'shipment', 'bucket teeth', 'payment'"
)
GENERATE_MAILS = f"""
INSERT INTO messages (id, sender, date, type, subject, content)
SELECT seq, CONCAT('buyer', seq % 20000, '@client', seq % 3000, '.example'),
       '2026-01-01' - INTERVAL (seq % 1000) DAY - INTERVAL (seq % 86400) SECOND,
       ELT(1 + seq % 3, 'receive', 'sendto', 'system'),
       CONCAT('Re: ', ELT(1 + seq % 10, {WORDS}), ' PI-2026-', LPAD(seq % 9999, 4, '0')),
       CONCAT('<div><p>您好，', ELT(1 + (seq * 7) % 10, {WORDS}), '</p><p>Model ZX', seq % 500,
              ' HS-', 8000 + seq % 1000, ' ', ELT(1 + (seq * 3) % 10, {WORDS}),
              IF(seq % 997 = 0, ' 稀有词汇 platypus', ''), '</p>',
              REPEAT('<p>Best regards, the sales team 销售部 祝好</p>', 1 + seq % 4), '</div>')
FROM seq_1_to_{{count}}
"""
GENERATE_ADDRESSES = """
INSERT INTO msg_addrs (msg_id, address)
SELECT m.id, CONCAT('buyer', (m.id + n.seq) % 20000, '@client', m.id % 3000, '.example')
FROM messages m JOIN seq_1_to_3 n ON n.seq <= 2 + (m.id % 2)
"""
QUERIES = [
    "报价单",
    "最新报价单如下",
    "请查收",
    "订单",
    "发货",
    "样品",
    "稀有词汇",
    "销售部",
    "quotation",
    "INVOICE",
    "bucket teeth",
    "platypus",
    "PI-2026-0413",
    "PI-2026-9998",
    "HS-8471",
    "ZX200",
    "ZX499",
    "client42.example",
    "buyer123",
    "报价单 ZX200",
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def timed(pool, q: str, repeat: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    samples = []
    total = 0
    for _ in range(repeat):
        started = time.perf_counter()
        total, _rows = await search.search(pool, search.SearchQuery(q=q, rows=50))
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(samples)
    return p50, p95, total


async def main(count: int, repeat: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    server = EmbeddedServer(root / "db", buffer_pool_size="1G")
    await server.start()
    pool = await create_pool(DbConfig(user="root", db="bench"), server.socket, create_database=True)
    try:
        await migrate(pool)
        started = time.perf_counter()
        await execute(pool, GENERATE_MAILS.format(count=count))
        await execute(pool, GENERATE_ADDRESSES)
        addresses = await fetch_value(pool, "SELECT COUNT(*) FROM msg_addrs")
        took = time.perf_counter() - started
        print(f"generated {count} mails, {addresses} address rows in {took:.1f} s")
        started = time.perf_counter()
        indexed = await search.reindex(pool)
        build = time.perf_counter() - started
        size = await fetch_value(
            pool,
            "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (search.TABLE,),
        )
        mails_size = await fetch_value(
            pool,
            "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'messages'",
        )
        print(
            f"index build: {indexed} mails in {build:.1f} s; size {int(size or 0) / 2**20:.0f} MiB "
            f"(messages table {int(mails_size or 0) / 2**20:.0f} MiB)"
        )
        fast = {q: await timed(pool, q, repeat) for q in QUERIES}
        await execute(pool, f"RENAME TABLE {search.TABLE} TO scan_only")
        slow = {q: await timed(pool, q, max(2, repeat // 4)) for q in QUERIES}
        await execute(pool, f"RENAME TABLE scan_only TO {search.TABLE}")
        head = ("query", "hits", "mroonga p50", "p95", "LIKE p50", "p95", "ratio")
        print("{:<22} {:>6} {:>12} {:>8} {:>10} {:>8} {:>7}".format(*head))
        all_fast, all_slow = [], []
        for q in QUERIES:
            f50, f95, hits = fast[q]
            s50, s95, scan_hits = slow[q]
            all_fast.append(f95)
            all_slow.append(s95)
            line = f"{q:<22} {hits:>6} {f50:>12.1f} {f95:>8.1f} {s50:>10.1f} {s95:>8.1f}"
            differs = "" if hits == scan_hits else f"  (scan found {scan_hits})"
            print(f"{line} {s50 / f50:>6.0f}x{differs}")
        print(f"worst p95: mroonga {max(all_fast):.1f} ms, LIKE {max(all_slow):.1f} ms")
    finally:
        await close_pool(pool)
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.mails, args.repeat))
