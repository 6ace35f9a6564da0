"""IMAP IDLE push (issue 17) against the real Dovecot: a mail APPENDed by another client is
fetched within seconds although the fetch job polls hourly, and the push survives Dovecot
restarting."""

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mycrmd.config import Config, JobsConfig, MailboxConfig
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.idle import IdleWatcher
from mycrmd.jobs.scheduler import Job, Scheduler, every
from mycrmd.store.pool import Pool, fetch_all, fetch_value, insert
from tests.support import mail_samples as samples
from tests.support.certs import ServerCertificate
from tests.support.dovecot import Dovecot, MailUser
from tests.support.mail_samples import ME
from tests.support.waiting import eventually
from tests.test_fetch_mail import point_at

HOURLY = every(lambda c: timedelta(hours=1))


def push_config(config: Config, certificate: ServerCertificate, connections: int) -> Config:
    mailbox = MailboxConfig(
        address=ME, ca_file=str(certificate.ca_file), max_connections=connections
    )
    return replace(config, mailbox=mailbox, jobs=JobsConfig(fetch_interval=60, idle=True))


@pytest.fixture
async def watching(
    pool: Pool, config: Config, certificate: ServerCertificate
) -> AsyncIterator[tuple[Scheduler, IdleWatcher]]:
    """The daemon's parts: a scheduler polling hourly and the IDLE watcher."""
    pushing = push_config(config, certificate, 3)
    scheduler = Scheduler(pool, pushing, [Job("fetch", FetchMailJob().run, HOURLY)])
    watcher = IdleWatcher(pool, scheduler, pushing)
    yield scheduler, watcher
    await watcher.stop()
    await scheduler.stop()


async def contact(pool: Pool, email: str) -> object:
    return await fetch_value(
        pool, "SELECT last_contact_date FROM customers WHERE email = %s", (email,)
    )


async def sent_mail(server: Dovecot, user: MailUser, n: int) -> None:
    await server.append(
        user,
        "Sent",
        samples.plain(
            message_id=f"push{n}@mytrade",
            sender=ME,
            to=f"c{n}@buyer.example",
            subject=f"Offer {n}",
            date=samples.when(0),
        ),
    )


async def pushed(pool: Pool, n: int) -> None:
    async def updated() -> bool:
        return await contact(pool, f"c{n}@buyer.example") is not None

    await eventually(updated, within=10)


async def test_a_mail_appended_to_sent_updates_the_customer_within_seconds(
    pool: Pool, dovecot: Dovecot, mail_user: MailUser, watching: tuple[Scheduler, IdleWatcher]
) -> None:
    _, watcher = watching
    await dovecot.create(mail_user, "Sent")
    await point_at(pool, dovecot, mail_user)
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('c1@buyer.example', 1)")
    watcher.start()

    async def watching_both() -> bool:
        rows = await fetch_all(pool, "SELECT folder FROM mail_folders WHERE push = 1")
        return {row["folder"] for row in rows} == {"INBOX", "Sent"}

    await eventually(watching_both)
    assert await contact(pool, "c1@buyer.example") is None
    await sent_mail(dovecot, mail_user, 1)
    await pushed(pool, 1)
    runs = await fetch_all(pool, "SELECT `trigger` FROM job_runs WHERE job = 'fetch'")
    assert "push" in {row["trigger"] for row in runs}


async def test_a_bounce_appended_to_inbox_invalidates_within_seconds(
    pool: Pool, dovecot: Dovecot, mail_user: MailUser, watching: tuple[Scheduler, IdleWatcher]
) -> None:
    _, watcher = watching
    await dovecot.create(mail_user, "Sent")
    await point_at(pool, dovecot, mail_user)
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('gone@buyer.example', 1)")
    watcher.start()

    async def watching_both() -> bool:
        return await fetch_value(pool, "SELECT COUNT(*) FROM mail_folders WHERE push = 1") == 2

    await eventually(watching_both)
    bounce = samples.dsn("gone@buyer.example", "5.1.1", "failed", message_id="dsn-1@mx")
    await dovecot.append(mail_user, "INBOX", bounce)

    async def invalid() -> bool:
        valid = "SELECT valid FROM customers WHERE email = 'gone@buyer.example'"
        return await fetch_value(pool, valid) == 0

    await eventually(invalid, within=10)


async def test_the_connections_stay_within_max_connections(
    pool: Pool,
    config: Config,
    dovecot: Dovecot,
    mail_user: MailUser,
    certificate: ServerCertificate,
) -> None:
    await dovecot.create(mail_user, "Sent")
    await point_at(pool, dovecot, mail_user)
    pushing = push_config(config, certificate, 2)
    scheduler = Scheduler(pool, pushing, [Job("fetch", FetchMailJob().run, HOURLY)])
    watcher = IdleWatcher(pool, scheduler, pushing)
    watcher.start()
    try:

        async def watching_inbox() -> bool:
            rows = await fetch_all(pool, "SELECT folder FROM mail_folders WHERE push = 1")
            return [row["folder"] for row in rows] == ["INBOX"]

        await eventually(watching_inbox)
    finally:
        await watcher.stop()
        await scheduler.stop()


async def test_idle_survives_dovecot_restarting(
    pool: Pool, config: Config, work_dir: Path, certificate: ServerCertificate
) -> None:
    own = Dovecot(work_dir / f"dovecot-idle-{os.getpid()}-{id(pool)}", certificate)
    await own.start()
    pushing = push_config(config, certificate, 3)
    scheduler = Scheduler(pool, pushing, [Job("fetch", FetchMailJob().run, HOURLY)])
    watcher = IdleWatcher(pool, scheduler, pushing)
    try:
        user = own.add_user()
        await own.create(user, "Sent")
        await point_at(pool, own, user)
        for n in (1, 2):
            await insert(
                pool,
                "INSERT INTO customers (email, valid) VALUES (%s, 1)",
                (f"c{n}@buyer.example",),
            )
        watcher.start()

        async def watching() -> bool:
            return await fetch_value(pool, "SELECT COUNT(*) FROM mail_folders WHERE push = 1") == 2

        await eventually(watching)
        await own.stop()
        await own.start()
        await sent_mail(own, user, 2)
        await pushed(pool, 2)
    finally:
        await watcher.stop()
        await scheduler.stop()
        await own.stop()


async def test_a_refused_login_is_not_retried_until_the_settings_change(
    pool: Pool,
    dovecot: Dovecot,
    mail_user: MailUser,
    watching: tuple[Scheduler, IdleWatcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, watcher = watching
    await point_at(pool, dovecot, MailUser(mail_user.name, "wrong"))
    watcher.start()

    async def gave_up() -> bool:
        return "not again until the settings change" in caplog.text

    await eventually(gave_up)
    await asyncio.sleep(2)
    assert caplog.text.count("not again until the settings change") == 1
