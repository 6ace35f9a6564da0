"""Attack: issue 14's figures, against real daemons on 127.0.0.1.

    python3 -m tests.bench.attack [--burst 300] [--half-open 2000]

Starts `mycrmd serve` (its embedded database, a password set) with the file limit of
systemd/mycrmd.service (LimitNOFILE=), then prints:

1. login attempts verified in one minute: 5 wrong guesses one after another (the anchor),
   then a burst of --burst concurrent wrong guesses (target: at most 5 verified);
2. /healthz latency p50/p95/max idle (the anchor) and with --half-open connections that
   each sent half a request head (target: max at most 1 s), and the count of
   "socket.accept() out of system resource" lines in the daemon's log;
3. the import attack of tests/bench/attack_import.py, on a daemon of its own: peak RSS for
   the 45 MB wide-header upload and RSS 60 s after.

Bounded: one burst, 50 health checks per phase, two uploads, about two minutes. Asserts nothing.
"""

import argparse
import asyncio
import re
import resource
import tempfile
import time
from pathlib import Path

import aiohttp

from mycrmd.safety import passwords
from tests.bench import attack_import
from tests.support.daemon_process import Daemon, DaemonFactory, free_port
from tests.support.traffic import percentile

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "mycrmd.service"
PASSWORD = "bench-password-1"
SAMPLES = 50


def unit_file_limit() -> int:
    found = re.search(r"^LimitNOFILE=(\d+)$", UNIT.read_text(), re.MULTILINE)
    assert found, f"{UNIT} sets no LimitNOFILE="
    return int(found.group(1))


async def guesses(session: aiohttp.ClientSession, daemon: Daemon, count: int) -> dict[int, int]:
    """Statuses of `count` concurrent wrong logins: 401 = verified, 429 = refused unchecked."""

    async def one(n: int) -> int:
        data = {"password": f"wrong-{n}", "next": "/"}
        async with session.post(f"{daemon.url}/login", data=data, allow_redirects=False) as r:
            return r.status

    statuses = await asyncio.gather(*(one(n) for n in range(count)))
    return {status: statuses.count(status) for status in sorted(set(statuses))}


async def health_latencies(session: aiohttp.ClientSession, daemon: Daemon) -> str:
    seconds = []
    timeout = aiohttp.ClientTimeout(total=10)
    for _ in range(SAMPLES):
        started = time.monotonic()
        try:
            async with session.get(f"{daemon.url}/healthz", timeout=timeout) as r:
                await r.read()
        except (TimeoutError, aiohttp.ClientError):
            pass
        seconds.append((time.monotonic() - started) * 1000)
        await asyncio.sleep(0.05)
    return (
        f"p50 {percentile(seconds, 0.5):.1f} ms, p95 {percentile(seconds, 0.95):.1f} ms, "
        f"max {max(seconds):.1f} ms"
    )


async def main(burst: int, half_open: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, half_open + 512)), hard))
    limit = unit_file_limit()
    with tempfile.TemporaryDirectory(prefix="mycrmd-attack-") as work:
        factory = DaemonFactory(Path(work))
        port = free_port()
        toml = f'[web]\nport = {port}\npassword_hash = "{passwords.hash_password(PASSWORD)}"\n'

        try:
            daemon = await factory.start(toml, open_files=limit, port=port)
            # one connection per request: each guess is a client of its own connection
            connector = aiohttp.TCPConnector(limit=0, force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                print(f"file limit {limit} (LimitNOFILE in {UNIT.name})")
                in_turn: dict[int, int] = {}
                for _ in range(5):
                    for status, count in (await guesses(session, daemon, 1)).items():
                        in_turn[status] = in_turn.get(status, 0) + count
                print(f"login, 5 guesses in turn: {in_turn}")
                await factory.stop_all()
                daemon = await factory.start(toml, open_files=limit, port=port)
                statuses = await guesses(session, daemon, burst)
                print(
                    f"login, burst of {burst}: {statuses}: verified per minute "
                    f"{statuses.get(401, 0)} (target <= 5)"
                )
                print(f"/healthz idle: {await health_latencies(session, daemon)}")
                head = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n".encode()
                writers = []
                opened = time.monotonic()
                for _ in range(half_open):
                    try:
                        _reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
                    except OSError:
                        continue
                    writer.write(head)
                    writers.append(writer)
                print(
                    f"/healthz with {len(writers)} half-open connections "
                    f"(opened in {time.monotonic() - opened:.1f} s): "
                    f"{await health_latencies(session, daemon)}"
                )
                for writer in writers:
                    writer.close()
            flood = daemon.log().count("socket.accept() out of system resource")
            print(f"'socket.accept() out of system resource' lines in the log: {flood}")
        finally:
            await factory.stop_all()
    await attack_import.main()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--half-open", type=int, default=2000)
    options = parser.parse_args()
    asyncio.run(main(options.burst, options.half_open))
