"""CSV import and export speed and memory, beside MariaDB's own bulk load in the same run.

    python tests/bench/bench_csv.py [--rows 100000] [--export-rows 1000000]

Imports a generated file of --rows new customers, then the same file again (every row an
update), with mycrmd's import; then the same file with `LOAD DATA LOCAL INFILE` into a
temporary table and `INSERT ... SELECT ... ON DUPLICATE KEY UPDATE`, new and again. Then
exports --export-rows customers. Each measured step runs in a fresh process, which reports
its own time and peak RSS. Prints rows/s and MB; asserts nothing.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomysql

from mycrmd.config import DbConfig
from mycrmd.customers.exporting import export_csv
from mycrmd.customers.importing import import_csv
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import close_pool, create_pool
from mycrmd.system.embedded_db import EmbeddedServer

COLUMNS = (
    "name, email, importance, company, country, address, phone, website, comment, "
    "last_contact_date, valid"
)
HEADER = "联系人,邮箱,客户评级,公司,国家,地址,电话,网站,备注,最近联系时间,有效性\r\n"
LOAD = f"""
LOAD DATA LOCAL INFILE %s INTO TABLE load_rows CHARACTER SET utf8mb4
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\\r\\n'
IGNORE 1 LINES ({COLUMNS})
"""
UPSERT = f"""
INSERT INTO customers ({COLUMNS}) SELECT {COLUMNS} FROM load_rows
ON DUPLICATE KEY UPDATE name = VALUES(name), importance = VALUES(importance),
  company = VALUES(company), country = VALUES(country), address = VALUES(address),
  phone = VALUES(phone), website = VALUES(website), comment = VALUES(comment),
  last_contact_date = VALUES(last_contact_date), valid = VALUES(valid)
"""
GENERATE = f"""
INSERT INTO customers ({COLUMNS})
SELECT CONCAT('客户 ', seq), CONCAT('e', seq, '@d', seq % 5000, '.example'), seq % 6,
       CONCAT('公司 ', seq % 90000), 'China', CONCAT('Road ', seq), CONCAT('+86 ', seq),
       CONCAT('https://d', seq % 5000, '.example'), CONCAT('<p>note ', seq, '</p>'),
       NOW() - INTERVAL seq MINUTE, seq % 3
FROM seq_1_to_{{count}}
"""


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in range(rows):
            out.write(
                f"客户 {n},c{n}@d{n % 5000}.example,{n % 6},公司 {n % 20000},China,"
                f'"Road {n}, Building {n % 40}",+86 21 {n:08d},https://d{n % 5000}.example,'
                f"第 {n} 位客户,2026-{1 + n % 12:02d}-{1 + n % 28:02d} 09:{n % 60:02d}:00,"
                f"{n % 3}\r\n"
            )


async def step(kind: str, socket: str, path: str) -> float:
    """One measured step in this (fresh) process; its duration in seconds."""
    config = DbConfig(db="bench", unix_socket=socket)
    if kind == "load":
        conn = await aiomysql.connect(
            unix_socket=socket, user="root", db="bench", local_infile=True, charset="utf8mb4"
        )
        started = time.perf_counter()
        async with conn.cursor() as cur:
            await cur.execute("CREATE TEMPORARY TABLE load_rows LIKE customers")
            await cur.execute(LOAD, (path,))
            await cur.execute(UPSERT)
        await conn.commit()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    pool = await create_pool(config)
    try:
        started = time.perf_counter()
        if kind == "import":
            result = await import_csv(pool, Path(path))
            assert not result.rejected, result.rejected[:3]
        else:
            with open(path, "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
                async for chunk in export_csv(pool, "all"):
                    out.write(chunk)
        return time.perf_counter() - started
    finally:
        await close_pool(pool)


def run_step(kind: str, socket: str, path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a step run in a fresh Python process."""
    output = subprocess.run(
        [sys.executable, __file__, "--step", kind, "--socket", socket, "--path", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return figures["seconds"], figures["rss_mb"]


async def sql(socket: str, statement: str) -> int:
    """Run one statement; the first column of its first row, if any."""
    conn = await aiomysql.connect(unix_socket=socket, user="root", db="bench")
    async with conn.cursor() as cur:
        await cur.execute(statement)
        row = await cur.fetchone()
        await conn.commit()
    conn.close()
    return int(row[0]) if row else 0


async def main(rows: int, export_rows: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="mycrmd-bench-csv-"))
    server = EmbeddedServer(root / "db")
    await server.start()
    socket = str(server.socket)
    try:
        pool = await create_pool(DbConfig(db="bench", unix_socket=socket), create_database=True)
        await migrate(pool)
        await close_pool(pool)
        source = root / "customers.csv"
        write_file(source, rows)
        size = source.stat().st_size / 2**20
        print(f"{rows:,} rows, {size:.1f} MB; buffer pool {server.buffer_pool_size}\n")
        print(f"{'step':<44} {'seconds':>8} {'rows/s':>9} {'peak RSS MB':>12}")
        rates = {}
        for label, kind, empty_first in (
            ("mycrmd import, new", "import", True),
            ("mycrmd import, again (all updates)", "import", False),
            ("LOAD DATA LOCAL + upsert, new", "load", True),
            ("LOAD DATA LOCAL + upsert, again", "load", False),
        ):
            if empty_first:
                await sql(socket, "DELETE FROM customers")
            seconds, rss = run_step(kind, socket, source)
            found = await sql(socket, "SELECT COUNT(*) FROM customers")
            assert found == rows, (label, found)
            rates[label] = rows / seconds
            print(f"{label:<44} {seconds:8.2f} {rows / seconds:9,.0f} {rss:12.0f}")
        for ours, theirs in (("new", "new"), ("again (all updates)", "again")):
            ratio = rates[f"mycrmd import, {ours}"] / rates[f"LOAD DATA LOCAL + upsert, {theirs}"]
            print(f"import {ours}: {ratio:.0%} of LOAD DATA's rate (target >= 50%)")

        await sql(socket, "DELETE FROM customers")
        await sql(socket, GENERATE.format(count=export_rows))
        exported = root / "export.csv"
        seconds, rss = run_step("export", socket, exported)
        lines = sum(1 for _ in exported.open("rb")) - 1
        assert lines == export_rows, lines
        print(
            f"\n{'mycrmd export, ' + format(export_rows, ',') + ' rows':<44} {seconds:8.2f} "
            f"{export_rows / seconds:9,.0f} {rss:12.0f}   (target >= 50,000 rows/s, <= 150 MB)"
        )
    finally:
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--step", choices=("import", "load", "export"), help=argparse.SUPPRESS)
    parser.add_argument("--socket", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        seconds = asyncio.run(step(args.step, args.socket, args.path))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "rss_mb": peak}))
    else:
        asyncio.run(main(args.rows, args.export_rows))
