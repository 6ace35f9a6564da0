"""Soak: the daemon as deployed (its embedded database) under mixed traffic for N minutes.

    python3 -m tests.bench.soak [--minutes 10] [--clients 20]

Starts real servers on 127.0.0.1 (Dovecot, aioftp's FTP server, the loopback fakes of the
verify API and DNS) and `mycrmd serve`, seeds 100,000 customers, then:

1. idle: the clients read (list, search, follow-up) for 30 s: p50/p95;
2. loaded: the same while a 10,000-mail initial sync and a 100,000-row import run: p50/p95,
   and p95 as a multiple of its idle value (target: at most 3x);
3. soak: for --minutes, reads and edits, an import every 30 s, new mail and SIGUSR1 every
   minute, SIGUSR2 (backup) every 3 minutes, SIGRTMIN+1 (verify) every 2 minutes.

Prints requests served, errors, p50/p95, and the daemon's RSS and open file descriptors at
the start and end of the soak. Asserts nothing. (The loop's slow callbacks are looked for by
tests/test_resilience.py, in asyncio's debug mode, which would distort these timings.)
"""

import argparse
import asyncio
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.certs import make_certificate
from tests.support.daemon_process import Daemon, DaemonFactory
from tests.support.dovecot import Dovecot, MailUser
from tests.support.fake_dns import FakeDns
from tests.support.fake_verify_api import FakeVerifyApi
from tests.support.file_servers import FtpServer
from tests.support.traffic import Traffic, percentile
from tests.support.waiting import eventually
from tests.support.workload import (
    csv_file,
    fill_folders,
    finished_runs,
    mailbox_toml,
    mails,
    point_at,
    upload,
)

IDLE_SECONDS = 30


def latencies(traffic: Traffic, since: float, until: float) -> str:
    seconds = [a.seconds * 1000 for a in traffic.answers if since <= a.at <= until]
    return (
        f"{len(seconds)} requests, p50 {percentile(seconds, 0.5):.1f} ms, "
        f"p95 {percentile(seconds, 0.95):.1f} ms"
    )


def p95(traffic: Traffic, since: float, until: float) -> float:
    return percentile([a.seconds for a in traffic.answers if since <= a.at <= until], 0.95)


async def every(seconds: float, action: Callable[[], Awaitable[None]], until: float) -> None:
    while time.monotonic() + seconds < until:
        await asyncio.sleep(seconds)
        await action()


async def soak(minutes: float, clients: int, root: Path) -> None:
    certificate = make_certificate(root / "tls")
    dovecot = Dovecot(root / "dovecot", certificate)
    ftp = FtpServer(root / "ftp")
    verify_api, dns = FakeVerifyApi(), FakeDns()
    for server in (dovecot, ftp, verify_api, dns):
        await server.start()
    factory = DaemonFactory(root)
    user: MailUser = dovecot.add_user()
    toml = (
        mailbox_toml(dovecot, certificate)
        + ftp.backup_toml("/soak/mycrm-%Y%m%d.zip")
        + f'[verify]\napi_url = "{verify_api.url}"\nnameserver = "{dns.address}"\n'
    )
    try:
        daemon = await factory.start(toml)
        print("seeding 100,000 customers and a 10,000-mail mailbox ...", flush=True)
        await upload(daemon, csv_file(root / "seed.csv", 100_000))
        await fill_folders(dovecot, user, 10_000)
        second = csv_file(root / "second.csv", 100_000, comment="second import")
        async with Traffic(daemon.url, clients=clients) as reads:
            start = time.monotonic()
            await asyncio.sleep(IDLE_SECONDS)
            idle_end = time.monotonic()
            await point_at(daemon, dovecot, user)
            daemon.send(signal.SIGUSR1)
            await upload(daemon, second)
            await eventually(lambda: finished_runs(daemon, "fetch"), within=900)
            loaded_end = time.monotonic()
        idle, loaded = p95(reads, start, idle_end), p95(reads, idle_end, loaded_end)
        print(f"idle:   {latencies(reads, start, idle_end)}")
        print(f"loaded: {latencies(reads, idle_end, loaded_end)} ({loaded_end - idle_end:.0f} s)")
        print(f"loaded p95 / idle p95: {loaded / idle:.1f}x (target <= 3x)")
        print(f"errors so far: {len(reads.failures())}", flush=True)

        rss_start, fds_start = daemon.memory_mb(), daemon.open_fds()
        until = time.monotonic() + minutes * 60
        counter = iter(range(10**9))

        async def import_some() -> None:
            n = next(counter)
            await upload(daemon, csv_file(root / f"soak{n}.csv", 5_000, comment=f"soak {n}"))

        async def new_mail() -> None:
            n = next(counter)
            await dovecot.deliver(user, "INBOX", mails(200, start=1_000_000 + n * 200))
            daemon.send(signal.SIGUSR1)

        async with Traffic(daemon.url, clients=clients, edits=True) as mixed:
            soak_start = time.monotonic()
            await asyncio.gather(
                every(30, import_some, until),
                every(60, new_mail, until),
                every(180, lambda: _signal(daemon, signal.SIGUSR2), until),
                every(120, lambda: _signal(daemon, signal.SIGRTMIN + 1), until),
                asyncio.sleep(max(0.0, until - time.monotonic())),
            )
            soak_end = time.monotonic()
        await asyncio.sleep(2)  # let the last run finish before counting descriptors
        print(f"soak {minutes:g} min: {latencies(mixed, soak_start, soak_end)}")
        print(f"requests served: {mixed.served()}, errors: {len(mixed.failures())}")
        print(f"RSS: {rss_start:.0f} MB at start, {daemon.memory_mb():.0f} MB at end")
        print(f"open fds: {fds_start} at start, {daemon.open_fds()} at end")
    finally:
        await factory.stop_all()
        await dovecot.stop()
        await ftp.stop()
        await verify_api.stop()
        dns.stop()


async def _signal(daemon: Daemon, signum: int) -> None:
    daemon.send(signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mycrmd-soak-") as root:
        Path(root).chmod(0o711)  # Dovecot's own users reach their mail below it
        asyncio.run(soak(args.minutes, args.clients, Path(root)))


if __name__ == "__main__":
    main()
