"""The import attack of issue 14 item 5, bounded, on loopback: a real `mycrmd serve` (its
embedded database), then two hostile uploads, both dry runs:

1. a 48 MB file of `email` followed by 24 million `,a` columns;
2. 10,000 rejected rows of 2,200 cells each (44 MB).

    python3 -m tests.bench.attack_import

Prints, for each, the answer's status and size, the daemon's peak RSS while it ran (sampled
every 50 ms) and the slowest /healthz answer meanwhile (asked every 100 ms); then the RSS at
the start and 60 s after the last upload. Targets: peak <= 300 MB, /healthz <= 1 s, RSS back
within 50 MB of the start. Asserts nothing.
"""

import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.support.daemon_process import Daemon, DaemonFactory

SETTLE = 60.0


def wide_header(path: Path) -> tuple[Path, int]:
    with path.open("w") as out:
        out.write("email")
        for _ in range(24):
            out.write(",a" * 1_000_000)
        out.write("\nx@wide.example\n")
    return path, path.stat().st_size


def rejected_rows(path: Path) -> tuple[Path, int]:
    cells = ",".join(["x"] * 2199)
    with path.open("w") as out:
        out.write("email,name\n")
        for n in range(10_000):
            out.write(f"bad{n},{cells}\n")
    return path, path.stat().st_size


async def attack(daemon: Daemon, http: aiohttp.ClientSession, path: Path, size: int) -> None:
    peak = daemon.memory_mb()
    slowest = 0.0
    done = asyncio.Event()

    async def watch_memory() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, daemon.memory_mb())
            await asyncio.sleep(0.05)

    async def watch_health() -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.monotonic()
            async with http.get(f"{daemon.url}/healthz") as response:
                await response.read()
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.1)

    watchers = [asyncio.create_task(watch_memory()), asyncio.create_task(watch_health())]
    form = aiohttp.FormData()
    started = time.monotonic()
    with path.open("rb") as upload:
        form.add_field("csv_file", upload, filename=path.name, content_type="text/csv")
        async with http.post(f"{daemon.url}/api/import?dry_run=1", data=form) as response:
            body = await response.read()
    took = time.monotonic() - started
    done.set()
    await asyncio.gather(*watchers)
    print(
        f"{path.name}: {size / 2**20:.0f} MB in {took:.1f} s -> "
        f"{response.status}, answer {len(body):,} bytes; peak RSS {peak:.0f} MB; "
        f"slowest /healthz {slowest * 1000:.0f} ms"
    )
    print(f"  answer starts: {body[:160].decode(errors='replace')}")


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="attack-import-") as tmp:
        root = Path(tmp)
        files = [wide_header(root / "wide-header.csv"), rejected_rows(root / "rejected.csv")]
        factory = DaemonFactory(root)
        try:
            daemon = await factory.start()
            await asyncio.sleep(2)
            start = daemon.memory_mb()
            print(f"RSS at the start: {start:.0f} MB")
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
                for path, size in files:
                    await attack(daemon, http, path, size)
            after = daemon.memory_mb()
            await asyncio.sleep(SETTLE)
            settled = daemon.memory_mb()
            print(
                f"RSS: start {start:.0f} MB, just after {after:.0f} MB, {SETTLE:.0f} s after "
                f"{settled:.0f} MB ({settled - start:+.0f} MB); peak of the process "
                f"{daemon.memory_mb('VmHWM'):.0f} MB"
            )
        finally:
            await factory.stop_all()


if __name__ == "__main__":
    asyncio.run(main())
