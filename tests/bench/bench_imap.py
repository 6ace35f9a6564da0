"""The fetch job's speed against a real Dovecot, beside simpler ways of reading the same mail.

    python3 -m tests.bench.bench_imap [--mails 10000] [--original-sample 300]

A mailbox of --mails mails in four folders (5% with a 200 KB attachment, 40% with Chinese
subjects). On loopback, and through a proxy adding 20 ms to every round trip (a remote
server's reality), it times:

- the fetch job's initial sync (fetch + parse + sanitise + store, into a fresh database),
  in mails/s, and then its run with no new mail;
- MyCRM's approach, one `UID FETCH n (RFC822)` per mail (imaplib), on a sample of
  --original-sample mails per folder, in mails/s;
- a plain batched loop, `UID FETCH a:b (BODY.PEEK[])` in batches of 100 (imaplib), in mails/s.

Targets: initial sync >= 1,000 mails/s on loopback and >= 20x the original approach at 20 ms;
a no-new-mail run <= 0.1 s on loopback. Prints figures; asserts nothing.
"""

import argparse
import asyncio
import base64
import imaplib
import itertools
import os
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from mycrmd.config import Config, DbConfig, MailboxConfig, PathsConfig
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.scheduler import Job, Scheduler, every
from mycrmd.mail import mutf7
from mycrmd.store import config_table
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import close_pool, create_pool, fetch_value
from mycrmd.system.embedded_db import EmbeddedServer
from tests.support import mail_samples as samples
from tests.support.certs import ServerCertificate, make_certificate
from tests.support.dovecot import Dovecot, MailUser
from tests.support.workload import FOLDERS

DELAY = 0.010  # each way: 20 ms a round trip
BATCH = 100


def mailbox(count: int) -> Iterator[bytes]:
    attachment = base64.encodebytes(os.urandom(150 * 1024)).decode()  # 200 KB encoded
    for n in range(count):
        subject = samples.rfc2047(f"询价单 第{n}号 — 报价", "utf-8") if n % 5 < 2 else f"Order {n}"
        head = (
            f"From: Buyer {n} <buyer{n % 700}@buyer{n % 30}.example>\r\nTo: {samples.ME}\r\n"
            f"Subject: {subject}\r\nDate: {samples.when(n % 9)}\r\n"
            f"Message-ID: <bench-{n}@buyer.example>\r\nMIME-Version: 1.0\r\n"
        )
        html = f"<p>Dear sales,</p><p>please quote item {n}.</p>" * 20
        if n % 20 == 0:
            body = (
                'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
                f"Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b\r\n"
                "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
                'Content-Disposition: attachment; filename="spec.pdf"\r\n\r\n'
                f"{attachment}\r\n--b--\r\n"
            )
        else:
            body = f"Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        yield (head + body).encode()


class DelayProxy:
    """TCP to Dovecot, each chunk held DELAY in each direction, order kept."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + DELAY, data))
        queue.put_nowait((time.monotonic() + DELAY, b""))
        await sender


async def job_runs(
    server: EmbeddedServer, name: str, port: int, user: MailUser, cert: ServerCertificate
) -> tuple[float, float, int]:
    """The fetch job into a fresh database: the initial sync's and the next run's seconds."""
    db = DbConfig(db=name, unix_socket=str(server.socket), user="root")
    pool = await create_pool(db, create_database=True)
    try:
        await migrate(pool)
        await config_table.put(
            pool,
            {
                "mail_host": "127.0.0.1",
                "mail_port": str(port),
                "mail_username": user.name,
                "mail_password": user.password,
                "monitor_mail_days": "30",
            },
        )
        state = Path(tempfile.mkdtemp(prefix="bench-imap-"))
        config = replace(
            Config(),
            db=db,
            paths=PathsConfig(state_dir=str(state), log_dir=str(state / "log")),
            mailbox=MailboxConfig(address=samples.ME, ca_file=str(cert.ca_file)),
        )
        never = every(lambda c: timedelta(days=365))
        scheduler = Scheduler(pool, config, [Job("fetch", FetchMailJob().run, never)])
        started = time.monotonic()
        first = await scheduler.run_once("fetch", "cli")
        initial = time.monotonic() - started
        started = time.monotonic()
        second = await scheduler.run_once("fetch", "cli")
        quiet = time.monotonic() - started
        assert first and second and first.status == second.status == "ok", (first, second)
        stored = int(await fetch_value(pool, "SELECT COUNT(*) FROM messages"))
        return initial, quiet, stored
    finally:
        await close_pool(pool)


def imap_client(port: int, user: MailUser, cert: ServerCertificate) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(cert.ca_file))
    client = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context)
    client.login(user.name, user.password)
    return client


def quoted(folder: str) -> str:
    return '"' + mutf7.encode(folder) + '"'


def original_approach(port: int, user: MailUser, cert: ServerCertificate, sample: int) -> float:
    """One UID FETCH (RFC822) per mail, as MyCRM did: mails/s over `sample` mails a folder."""
    client = imap_client(port, user, cert)
    started, count = time.monotonic(), 0
    for folder in FOLDERS:
        client.select(quoted(folder), readonly=True)
        _, data = client.uid("SEARCH", "ALL")
        for uid in data[0].split()[:sample]:
            typ, _ = client.uid("FETCH", uid.decode(), "(RFC822)")
            assert typ == "OK"
            count += 1
    client.logout()
    return count / (time.monotonic() - started)


def batched_loop(port: int, user: MailUser, cert: ServerCertificate) -> float:
    """UID FETCH a:b (BODY.PEEK[]) in batches of BATCH over every mail: mails/s."""
    client = imap_client(port, user, cert)
    started, count = time.monotonic(), 0
    for folder in FOLDERS:
        client.select(quoted(folder), readonly=True)
        _, data = client.uid("SEARCH", "ALL")
        uids = data[0].split()
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            typ, _ = client.uid("FETCH", b",".join(batch).decode(), "(BODY.PEEK[])")
            assert typ == "OK"
            count += len(batch)
    client.logout()
    return count / (time.monotonic() - started)


async def bench(mails: int, sample: int, root: Path) -> None:
    cert = make_certificate(root / "tls")
    dovecot = Dovecot(root / "dovecot", cert)
    server = EmbeddedServer(root / "db", buffer_pool_size="512M")
    await dovecot.start()
    await server.start()
    proxy = DelayProxy(dovecot.ssl_port)
    await proxy.start()
    try:
        user = dovecot.add_user()
        await dovecot.create(user, *FOLDERS[1:])
        generated = mailbox(mails)
        for index, folder in enumerate(FOLDERS):
            share = mails // len(FOLDERS) + (1 if index < mails % len(FOLDERS) else 0)
            await dovecot.deliver(user, folder, itertools.islice(generated, share))
        await dovecot.count(user, "INBOX")  # Dovecot indexes before anything is timed
        print(f"{mails} mails in {len(FOLDERS)} folders; batches of {BATCH}")
        results = {}
        for label, port in (("loopback", dovecot.ssl_port), ("20 ms RTT", proxy.port)):
            name = "bench_" + ("loop" if port == dovecot.ssl_port else "rtt")
            initial, quiet, stored = await job_runs(server, name, port, user, cert)
            original = await asyncio.to_thread(original_approach, port, user, cert, sample)
            plain = await asyncio.to_thread(batched_loop, port, user, cert)
            rate = stored / initial
            results[label] = (rate, original)
            print(
                f"{label:>10}: job initial sync {rate:,.0f} mails/s ({stored} in {initial:.1f} s);"
                f" no-new-mail run {quiet * 1000:.0f} ms; original approach {original:,.0f}"
                f" mails/s; batched BODY.PEEK[] loop {plain:,.0f} mails/s"
            )
        rate, original = results["20 ms RTT"]
        print(f"job vs original approach at 20 ms: {rate / original:.0f}x (target >= 20x)")
    finally:
        await proxy.stop()
        await server.stop()
        await dovecot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--original-sample", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mycrmd-bench-") as root:
        Path(root).chmod(0o711)  # Dovecot's own users reach their mail below it
        asyncio.run(bench(args.mails, args.original_sample, Path(root)))


if __name__ == "__main__":
    main()
