"""IMAP IDLE push against a real Dovecot: how soon a sent mail reaches the customer, and what
an idle hour costs.

    python3 -m tests.bench.bench_idle [--mails 50] [--idle-seconds 120]

With the fetch job polling hourly, another IMAP client APPENDs --mails sent mails one by one to
the sent folder; for each, the delay until the customer's last_contact_date is set (p50, p95).
Then nothing happens for --idle-seconds: the CPU time this process (the scheduler and the IDLE
watcher; Dovecot and MariaDB are processes of their own) spends meanwhile, extrapolated to an
hour. Targets: p95 <= 5 s; <= 1 s of CPU per idle hour. Prints figures; asserts nothing.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from mycrmd.config import Config, DbConfig, JobsConfig, MailboxConfig, PathsConfig
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.idle import IdleWatcher
from mycrmd.jobs.scheduler import Job, Scheduler, every
from mycrmd.store import config_table
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import Pool, close_pool, create_pool, execute, fetch_value
from mycrmd.system.embedded_db import EmbeddedServer
from tests.support import mail_samples as samples
from tests.support.certs import make_certificate
from tests.support.dovecot import Dovecot
from tests.support.waiting import eventually


async def contacted(pool: Pool, n: int) -> bool:
    return bool(
        await fetch_value(
            pool,
            "SELECT last_contact_date IS NOT NULL FROM customers WHERE email = %s",
            (f"c{n}@b.example",),
        )
    )


async def bench(mails: int, idle_seconds: float, root: Path) -> None:
    cert = make_certificate(root / "tls")
    dovecot = Dovecot(root / "dovecot", cert)
    server = EmbeddedServer(root / "db")
    await dovecot.start()
    await server.start()
    db = DbConfig(db="bench_idle", unix_socket=str(server.socket), user="root")
    pool = await create_pool(db, create_database=True)
    try:
        await migrate(pool)
        user = dovecot.add_user()
        await dovecot.create(user, "Sent")
        await config_table.put(
            pool,
            {
                "mail_host": "127.0.0.1",
                "mail_port": str(dovecot.ssl_port),
                "mail_username": user.name,
                "mail_password": user.password,
            },
        )
        for n in range(mails):
            await execute(
                pool, "INSERT INTO customers (email, valid) VALUES (%s, 1)", (f"c{n}@b.example",)
            )
        state = Path(tempfile.mkdtemp(prefix="bench-idle-"))
        config = replace(
            Config(),
            db=db,
            paths=PathsConfig(state_dir=str(state), log_dir=str(state / "log")),
            mailbox=MailboxConfig(address=samples.ME, ca_file=str(cert.ca_file), max_connections=3),
            jobs=JobsConfig(fetch_interval=60, idle=True),
        )
        hourly = every(lambda c: timedelta(hours=1))
        scheduler = Scheduler(pool, config, [Job("fetch", FetchMailJob().run, hourly)])
        await scheduler.run_once("fetch", "cli")
        watcher = IdleWatcher(pool, scheduler, config)
        watcher.start()

        async def watching() -> bool:
            return await fetch_value(pool, "SELECT COUNT(*) FROM mail_folders WHERE push = 1") == 2

        await eventually(watching, within=60)
        delays = []
        for n in range(mails):
            mail = samples.plain(
                message_id=f"idle-{n}@mytrade",
                sender=samples.ME,
                to=f"c{n}@b.example",
                subject=f"Offer {n}",
                date=samples.when(0),
            )
            started = time.monotonic()
            await dovecot.append(user, "Sent", mail)
            await eventually(lambda n=n: contacted(pool, n), within=60)
            delays.append(time.monotonic() - started)
        delays.sort()
        p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
        print(
            f"APPEND -> last_contact_date over {mails} mails: "
            f"p50 {statistics.median(delays):.2f} s, p95 {p95:.2f} s, "
            f"max {delays[-1]:.2f} s (target p95 <= 5 s)"
        )
        await asyncio.sleep(1)
        cpu = time.process_time()
        await asyncio.sleep(idle_seconds)
        spent = time.process_time() - cpu
        print(
            f"idle: {spent:.3f} s CPU in {idle_seconds:.0f} s measured, extrapolated "
            f"{spent * 3600 / idle_seconds:.2f} s per hour (target <= 1 s)"
        )
        await watcher.stop()
        await scheduler.stop()
    finally:
        await close_pool(pool)
        await server.stop()
        await dovecot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mycrmd-bench-") as root:
        Path(root).chmod(0o711)  # Dovecot's own users reach their mail below it
        asyncio.run(bench(args.mails, args.idle_seconds, Path(root)))


if __name__ == "__main__":
    main()
