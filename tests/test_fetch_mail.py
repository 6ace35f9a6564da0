"""The fetch job against a real Dovecot: incremental sync, classification, bounces, retention
and last-contact dates."""

import asyncio
import os
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from mycrmd.config import Config, MailboxConfig
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.scheduler import Job, JobResult, Scheduler, every
from mycrmd.store import config_table, mail_ledger
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_one, fetch_value, insert
from tests.support import mail_samples as samples
from tests.support.certs import ServerCertificate
from tests.support.dovecot import Dovecot, MailUser
from tests.support.mail_samples import ADMIN_NAME, ME
from tests.support.waiting import eventually

NEVER = every(lambda c: timedelta(days=365))


@pytest.fixture
async def mail_config(
    pool: Pool,
    config: Config,
    dovecot: Dovecot,
    mail_user: MailUser,
    certificate: ServerCertificate,
) -> Config:
    await point_at(pool, dovecot, mail_user)
    mailbox = MailboxConfig(
        address=ME,
        admin=ADMIN_NAME,
        exclude=('"Drafts"',),  # as MyCRM's config.json wrote it
        security="ssl",
        ca_file=str(certificate.ca_file),
    )
    return replace(config, mailbox=mailbox)


async def point_at(pool: Pool, server: Dovecot, user: MailUser, port: int | None = None) -> None:
    await config_table.put(
        pool,
        {
            "mail_host": "127.0.0.1",
            "mail_port": str(port or server.ssl_port),
            "mail_username": user.name,
            "mail_password": user.password,
        },
    )


async def run_fetch(pool: Pool, config: Config) -> JobResult:
    scheduler = Scheduler(pool, config, [Job("fetch", FetchMailJob().run, NEVER)])
    result = await scheduler.run_once("fetch", "cli")
    assert result is not None
    return result


async def message(pool: Pool, subject: str) -> dict:
    row = await fetch_one(pool, "SELECT * FROM messages WHERE subject = %s", (subject,))
    assert row is not None, f"no message {subject!r}"
    row["addresses"] = sorted(
        r["address"]
        for r in await fetch_all(
            pool, "SELECT address FROM msg_addrs WHERE msg_id = %s", (row["id"],)
        )
    )
    return row


async def customer(pool: Pool, email: str) -> dict:
    row = await fetch_one(
        pool,
        "SELECT valid, last_checked_log, last_contact_date FROM customers WHERE email = %s",
        (email,),
    )
    assert row is not None
    return row


def fetch_log(config: Config) -> str:
    return (config.log_dir / "fetch.log").read_text()


ARRIVED_NO_DATE = (datetime.now() - timedelta(days=3)).replace(microsecond=0)


async def fill_mailbox(server: Dovecot, user: MailUser) -> None:
    await server.create(user, "Sent", "Drafts", "Archive/2024", "客户/重要")
    await server.append(
        user,
        "INBOX",
        samples.gbk_under_gb2312_label(),
        samples.big5_and_latin2(),
        samples.raw_utf8_headers_and_lying_charset(),
        samples.html_with_attachment_and_inline_image(),
        samples.plain(
            message_id="notice-1@crm",
            sender=f'"{ADMIN_NAME}" <robot@mytrade.example>',
            to=ME,
            subject="系统通知: 库存更新",
        ),
        samples.dsn("gone@buyer.example", "5.1.1", "failed", message_id="dsn-1@mx"),
        samples.exim_bounce("nobody@exim.example"),
        samples.qmail_bounce("q@q.example"),
        samples.exchange_bounce("ex@ex.example"),
        samples.gmail_bounce("g@g.example"),
        samples.exmail_bounce("cn@cn.example"),
        samples.delayed_dsn("slow@buyer.example"),
        samples.mailbox_full_dsn("full@buyer.example"),
        samples.plain(
            message_id="twice@buyer.example",
            sender="Alice <alice@buyer.example>",
            to=ME,
            subject="Order 42",
        ),
    )
    await server.append(user, "INBOX", samples.unknown_charset_no_date(), arrived=ARRIVED_NO_DATE)
    old = samples.plain(
        message_id="old@buyer.example",
        sender="alice@buyer.example",
        to=ME,
        subject="Too old",
        date=samples.when(40),
    )
    await server.append(user, "INBOX", old, arrived=datetime.now() - timedelta(days=40))
    await server.append(
        user,
        "Sent",
        samples.plain(
            message_id="sent-1@mytrade",
            sender=f"Sales <{ME}>",
            to="Alice <alice@buyer.example>",
            subject="Offer 1",
            date=samples.when(5),
        ),
        samples.plain(
            message_id="sent-2@mytrade",
            sender=ME,
            to="alice@buyer.example",
            subject="Offer 2",
            date=samples.when(2),
            extra="Cc: Bob <bob@buyer.example>\nBcc: boss@mytrade.example",
        ),
    )
    await server.append(
        user,
        "Drafts",
        samples.plain(message_id="draft@x", sender=ME, to="x@x.example", subject="Draft"),
    )
    await server.append(
        user,
        "Archive/2024",
        samples.plain(message_id="arch@x", sender="carol@c.example", to=ME, subject="Archived"),
    )
    await server.append(
        user,
        "客户/重要",
        samples.plain(
            message_id="twice@buyer.example",
            sender="Alice <alice@buyer.example>",
            to=ME,
            subject="Order 42",
        ),
        samples.plain(message_id="vip@x", sender="vip@vip.example", to=ME, subject="重要客户来信"),
    )


async def add_customers(pool: Pool, *emails: str) -> None:
    for email in emails:
        await insert(pool, "INSERT INTO customers (email, valid) VALUES (%s, 1)", (email,))


async def test_a_first_run_stores_every_folder_decoded_classified_and_sanitised(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await fill_mailbox(dovecot, mail_user)
    await add_customers(pool, "alice@buyer.example", "bob@buyer.example", "gone@buyer.example")
    result = await run_fetch(pool, mail_config)
    assert result.status == "ok", result.summary
    # 15 in INBOX (one too old), 2 sent, 1 archived, 2 in 客户/重要 of which one is a copy.
    assert result.summary["new"] == 19
    assert result.summary["duplicate"] == 1
    assert result.summary["bounces"] == 8
    assert result.summary["folders"] == 4, "INBOX, Sent, Archive/2024, 客户/重要"
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 19

    gbk = await message(pool, "关于朱镕基纪念品的报价")
    assert gbk["sender"] == "王喆" and gbk["type"] == "receive"
    assert "您好，附件是报价单。" in gbk["content"]
    assert (await message(pool, "報價單Zażółć gęślą"))["sender"] == "陳大文"
    raw8 = await message(pool, "Bestellung über 500 Stück — 你好")
    assert raw8["sender"] == "Müller GmbH" and "Grüße aus München" in raw8["content"]
    utc = datetime.combine(samples.RAW8_DAY, time(3, 35), tzinfo=UTC)
    assert raw8["date"] == utc.astimezone().replace(tzinfo=None), "9:05 +0530 in local time"
    undated = await message(pool, "hello")
    assert undated["date"] == ARRIVED_NO_DATE, "no Date header: the arrival time"

    html = await message(pool, "Catalogue")
    for forbidden in (
        "<script",
        "onload",
        "onerror",
        "javascript:",
        "<iframe",
        "<form",
        "url(",
        "%PDF",
        "cid:",
    ):
        assert forbidden not in html["content"], forbidden
    assert 'src="http://tracker.example/pixel.gif"' in html["content"], "blocked when shown"
    assert 'rel="noopener noreferrer"' in html["content"]

    assert (await message(pool, "系统通知: 库存更新"))["type"] == "system"
    sent = await message(pool, "Offer 2")
    assert sent["type"] == "sendto" and sent["sender"] == ME
    assert sent["addresses"] == sorted(
        [ME, "alice@buyer.example", "bob@buyer.example", "boss@mytrade.example"]
    )
    assert (await message(pool, "Offer 1"))["sender"] == "Sales"
    assert (await message(pool, "重要客户来信"))["type"] == "receive"
    assert (await message(pool, "Archived"))["type"] == "receive"
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages WHERE subject = 'Draft'") == 0
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages WHERE subject = 'Too old'") == 0

    alice = await customer(pool, "alice@buyer.example")
    assert alice["last_contact_date"] == sent["date"], "the newest mail sent to her"
    assert (await customer(pool, "bob@buyer.example"))["last_contact_date"] == sent["date"]
    log = fetch_log(mail_config)
    assert "folder=Drafts not synced: excluded" in log
    assert "folder=客户/重要 new=" in log, "the Chinese, nested folder is synced"
    assert log.count(" duplicate=1 ") == 1, "the mail in two folders is stored once"


@pytest.mark.parametrize(
    ("sample", "bounced", "valid", "log"),
    [
        ("dsn", "gone@buyer.example", 0, "bounce 5.1.1 user_unknown"),
        ("exim", "nobody@exim.example", 0, "bounce 5.1.1 user_unknown"),
        ("qmail", "q@q.example", 0, "bounce 5.1.1 user_unknown"),
        ("exchange", "ex@ex.example", 0, "bounce 5.1.10 user_unknown"),
        ("gmail", "g@g.example", 0, "bounce 5.1.1 user_unknown"),
        ("exmail", "cn@cn.example", 0, "bounce 550 user_unknown"),
        ("delayed", "slow@buyer.example", 1, None),
        ("full", "full@buyer.example", 1, None),
    ],
)
async def test_bounces_are_system_notices_and_permanent_ones_invalidate_the_address(
    pool: Pool,
    mail_config: Config,
    dovecot: Dovecot,
    mail_user: MailUser,
    sample: str,
    bounced: str,
    valid: int,
    log: str | None,
) -> None:
    raw = {
        "dsn": lambda a: samples.dsn(a, "5.1.1", "failed", message_id="dsn-1@mx"),
        "exim": samples.exim_bounce,
        "qmail": samples.qmail_bounce,
        "exchange": samples.exchange_bounce,
        "gmail": samples.gmail_bounce,
        "exmail": samples.exmail_bounce,
        "delayed": samples.delayed_dsn,
        "full": samples.mailbox_full_dsn,
    }[sample](bounced)
    await dovecot.append(mail_user, "INBOX", raw)
    # Addresses quoted from the original message are customers too: they must stay valid.
    quoted = [
        "colleague@buyer.example",
        "boss@buyer.example",
        "other@quoted.example",
        "quoted@qmail.example",
        "cc@quoted.example",
    ]
    await add_customers(pool, bounced, *quoted)
    result = await run_fetch(pool, mail_config)
    assert result.summary["bounces"] == 1
    (stored,) = await fetch_all(pool, "SELECT id, type, bounce_reason FROM messages")
    assert stored["type"] == "system"
    # Hard or soft, every bounce keeps its reason on its message.
    assert stored["bounce_reason"].startswith("bounce ")
    addresses = [
        r["address"]
        for r in await fetch_all(
            pool, "SELECT address FROM msg_addrs WHERE msg_id = %s", (stored["id"],)
        )
    ]
    assert bounced in addresses
    assert not set(quoted) & set(addresses)
    assert (await customer(pool, bounced))["valid"] == valid
    assert (await customer(pool, bounced))["last_checked_log"] == log
    for address in quoted:
        assert (await customer(pool, address))["valid"] == 1


async def test_a_second_run_fetches_nothing_new_and_a_new_mail_is_fetched_next(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="a@x", sender="a@a.example", to=ME, subject="A"),
    )
    first = await run_fetch(pool, mail_config)
    assert first.summary["new"] == 1
    second = await run_fetch(pool, mail_config)
    assert (second.summary["new"], second.summary["duplicate"]) == (0, 0)
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="b@x", sender="b@b.example", to=ME, subject="B"),
    )
    third = await run_fetch(pool, mail_config)
    assert third.summary["new"] == 1
    assert [
        r["subject"] for r in await fetch_all(pool, "SELECT subject FROM messages ORDER BY id")
    ] == ["A", "B"]


async def test_the_mailboxs_flags_are_never_changed(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="u@x", sender="u@u.example", to=ME, subject="Unread"),
    )
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="f@x", sender="f@f.example", to=ME, subject="Flagged"),
        flags="(\\Flagged)",
    )
    before = await dovecot.flags(mail_user, "INBOX")
    assert b"\\Seen" not in b"".join(before)
    result = await run_fetch(pool, mail_config)
    assert result.summary["new"] == 2
    assert await dovecot.flags(mail_user, "INBOX") == before


async def test_a_changed_uidvalidity_rescans_without_duplicates(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    mails = [
        samples.plain(message_id=f"m{n}@x", sender="a@a.example", to=ME, subject=f"M{n}")
        for n in range(3)
    ]
    await dovecot.create(mail_user, "Projects")
    await dovecot.append(mail_user, "Projects", *mails)
    assert (await run_fetch(pool, mail_config)).summary["new"] == 3
    await dovecot.delete(mail_user, "Projects")
    await dovecot.create(mail_user, "Projects")
    extra = samples.plain(message_id="m9@x", sender="a@a.example", to=ME, subject="M9")
    await dovecot.append(mail_user, "Projects", *mails, extra)
    result = await run_fetch(pool, mail_config)
    assert (result.summary["new"], result.summary["duplicate"]) == (1, 3)
    assert "folder=Projects UIDVALIDITY changed: rescanning" in fetch_log(mail_config)
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 4
    projects = (await assert_complete(pool, mail_user, dovecot))["Projects"]
    assert (projects["stored"], projects["skipped"]["duplicate"]) == (1, 3)


async def test_one_failing_folder_is_skipped_and_the_others_sync(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs a folder the server's own user cannot read: only root can arrange it")
    await dovecot.create(mail_user, "Broken")
    await dovecot.append(
        mail_user,
        "Broken",
        samples.plain(message_id="x@x", sender="x@x.example", to=ME, subject="X"),
    )
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="y@y", sender="y@y.example", to=ME, subject="Y"),
    )
    broken = dovecot.folder_path(mail_user, "Broken")
    os.chown(broken, 0, 0)
    broken.chmod(0o000)
    try:
        result = await run_fetch(pool, mail_config)
    finally:
        broken.chmod(0o700)
    assert result.status == "ok"
    assert result.summary["new"] == 1
    assert result.summary["errors"][0].startswith("Broken: ")
    assert "folder=Broken error=" in fetch_log(mail_config)


async def test_a_wrong_password_fails_the_run_with_its_cause(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await config_table.put(pool, {"mail_password": "not-it-4711"})
    result = await run_fetch(pool, mail_config)
    assert result.status == "failed"
    assert "login refused" in str(result.summary["error"])
    assert "not-it-4711" not in str(result.summary) + fetch_log(mail_config)


async def test_no_server_configured_is_a_skipped_run(pool: Pool, config: Config) -> None:
    result = await run_fetch(pool, config)
    assert result.status == "skipped"
    assert "no IMAP server" in str(result.summary["reason"])


async def test_a_dead_server_fails_quickly(pool: Pool, mail_config: Config) -> None:
    await config_table.put(pool, {"mail_port": "9"})
    result = await run_fetch(pool, mail_config)
    assert result.status == "failed"
    assert "cannot connect to 127.0.0.1:9" in str(result.summary["error"])


@pytest.mark.parametrize("security", ["starttls", "plain"])
async def test_starttls_and_plain_connections(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser, security: str
) -> None:
    await point_at(pool, dovecot, mail_user, port=dovecot.plain_port)
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="s@x", sender="s@s.example", to=ME, subject="S"),
    )
    config = replace(mail_config, mailbox=replace(mail_config.mailbox, security=security))
    result = await run_fetch(pool, config)
    assert result.status == "ok", result.summary
    assert result.summary["new"] == 1


async def test_old_messages_are_deleted_from_the_database_only(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(
            message_id="r@x", sender="r@r.example", to=ME, subject="Recent", date=samples.when(5)
        ),
    )
    await config_table.put(pool, {"mail_reserved_days": "3", "monitor_mail_days": "10"})
    old_id = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject) VALUES ('x', %s, 'receive', 'Ancient')",
        (datetime.now() - timedelta(days=4),),
    )
    await execute(
        pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, 'x@x.example')", (old_id,)
    )
    result = await run_fetch(pool, mail_config)
    # The 5-day-old mail is fetched (within 10 days), then deleted (kept only 3 days).
    assert result.summary["new"] == 1 and result.summary["deleted"] == 2
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 0
    assert await fetch_value(pool, "SELECT COUNT(*) FROM msg_addrs") == 0
    assert await dovecot.count(mail_user, "INBOX") == 1, "never deleted from the mailbox"


async def test_last_contact_never_moves_backwards(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    later = (datetime.now() - timedelta(hours=1)).replace(microsecond=0)
    await insert(
        pool,
        "INSERT INTO customers (email, last_contact_date) VALUES ('late@buyer.example', %s)",
        (later,),
    )
    await add_customers(pool, "new@buyer.example")
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(
            message_id="o@x",
            sender=ME,
            to="late@buyer.example, new@buyer.example",
            subject="Older offer",
            date=samples.when(3),
        ),
    )
    await run_fetch(pool, mail_config)
    assert (await customer(pool, "late@buyer.example"))["last_contact_date"] == later
    assert (await customer(pool, "new@buyer.example"))["last_contact_date"] is not None


async def test_dovecot_stopped_mid_run_fails_the_run_and_the_next_run_completes(
    pool: Pool, config: Config, work_dir: Path, certificate: ServerCertificate
) -> None:
    own = Dovecot(work_dir / f"dovecot-{os.getpid()}-{id(pool)}", certificate)
    await own.start()
    try:
        user = own.add_user()
        mails = [
            samples.plain(
                message_id=f"bulk{n}@x",
                sender="a@a.example",
                to=ME,
                subject=f"Bulk {n}",
                body="x" * 20_000,
            )
            for n in range(450)
        ]
        await own.append(user, "INBOX", *mails)
        await point_at(pool, own, user)
        mail_config = replace(
            config, mailbox=MailboxConfig(address=ME, ca_file=str(certificate.ca_file))
        )
        scheduler = Scheduler(pool, mail_config, [Job("fetch", FetchMailJob().run, NEVER)])
        run = asyncio.create_task(scheduler.run_once("fetch", "cli"))

        async def some_stored() -> bool:
            return await fetch_value(pool, "SELECT COUNT(*) FROM messages") > 0

        await eventually(some_stored)
        own.kill()
        result = await asyncio.wait_for(run, 60)
        assert result is not None and result.status == "failed", result
        stored = await fetch_value(pool, "SELECT COUNT(*) FROM messages")
        assert 0 < stored < 450
        orphans = await fetch_value(
            pool,
            "SELECT COUNT(*) FROM messages m LEFT JOIN msg_addrs a ON a.msg_id = m.id "
            "WHERE a.id IS NULL",
        )
        assert orphans == 0, "every stored message has its addresses"
        await own.stop()
        await own.start()
        again = await run_fetch(pool, mail_config)
        assert again.status == "ok", again.summary
        assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 450
        assert await fetch_value(pool, "SELECT COUNT(DISTINCT dedupe_key) FROM messages") == 450
        inbox = (await assert_complete(pool, user, own))["INBOX"]
        assert (inbox["on_server"], inbox["stored"], inbox["missing"]) == (450, 450, 0)
    finally:
        await own.stop()


async def ledger(pool: Pool, user: MailUser) -> dict[str, dict]:
    account = f"{user.name}@127.0.0.1:"
    rows = await fetch_all(
        pool, "SELECT account FROM mail_folders WHERE account LIKE %s", (account + "%",)
    )
    if not rows:
        return {}
    return {row["folder"]: row for row in await mail_ledger.rows(pool, rows[0]["account"])}


def accounted(row: dict) -> int:
    return row["stored"] + sum(row["skipped"].values())


async def assert_complete(pool: Pool, user: MailUser, server: Dovecot) -> dict[str, dict]:
    """Every folder's ledger adds up, with nothing missing, and no mail is stored twice."""
    rows = await ledger(pool, user)
    for name, row in rows.items():
        assert row["missing"] == 0, (name, row)
        assert accounted(row) == row["on_server"], (name, row)
        assert row["on_server"] <= await server.count(user, name), (name, row)
    keys = await fetch_value(pool, "SELECT COUNT(DISTINCT dedupe_key) FROM messages")
    assert keys == await fetch_value(pool, "SELECT COUNT(*) FROM messages")
    return rows


async def test_the_ledger_accounts_for_every_mail_in_every_folder(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await fill_mailbox(dovecot, mail_user)
    result = await run_fetch(pool, mail_config)
    assert result.summary["missing"] == 0
    rows = await assert_complete(pool, mail_user, dovecot)
    assert set(rows) == {"INBOX", "Sent", "Drafts", "Archive/2024", "客户/重要"}
    inbox = rows["INBOX"]
    assert inbox["on_server"] == 15, "the mail that arrived 40 days ago is outside the window"
    duplicates = [row["skipped"]["duplicate"] for row in rows.values()]
    assert sum(duplicates) == 1, "Order 42 is in two folders"
    assert rows["Drafts"]["skipped"]["excluded"] == 1
    assert rows["Drafts"]["stored"] == 0
    stored = sum(row["stored"] for row in rows.values())
    assert stored == await fetch_value(pool, "SELECT COUNT(*) FROM messages")
    assert inbox["uidvalidity"] > 0 and inbox["last_uid"] == 16
    assert inbox["last_sync"] is not None and inbox["push"] is False


async def test_an_old_dated_mail_delivered_today_is_skipped_as_older(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    """Issue 16 item 6: the window counts from the mail's Date:, not its arrival."""
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(
            message_id="ancient@x",
            sender="a@a.example",
            to=ME,
            subject="Ancient",
            date=samples.when(40),
        ),
        samples.plain(message_id="recent@x", sender="a@a.example", to=ME, subject="Recent"),
    )
    result = await run_fetch(pool, mail_config)
    assert (result.summary["new"], result.summary["older"]) == (1, 1)
    subjects = [r["subject"] for r in await fetch_all(pool, "SELECT subject FROM messages")]
    assert subjects == ["Recent"]
    inbox = (await assert_complete(pool, mail_user, dovecot))["INBOX"]
    assert (inbox["on_server"], inbox["stored"], inbox["skipped"]["older"]) == (2, 1, 1)
    again = await run_fetch(pool, mail_config)
    assert (again.summary["new"], again.summary["older"]) == (0, 0), "not read again"


async def test_an_unparseable_mail_is_stored_with_what_can_be_read(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser, monkeypatch
) -> None:
    from mycrmd.jobs import fetch_mail

    def broken(raw: bytes, internaldate: object) -> None:
        raise ValueError("a part nobody can decode")

    monkeypatch.setattr(fetch_mail, "parse_mail", broken)
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(message_id="odd@x", sender="Odd <odd@o.example>", to=ME, subject="Odd"),
    )
    result = await run_fetch(pool, mail_config)
    assert result.summary["new"] == 1
    row = await message(pool, "Odd")
    assert row["addresses"] == sorted(["odd@o.example", ME])
    assert "a part nobody can decode" in row["content"]
    assert (await assert_complete(pool, mail_user, dovecot))["INBOX"]["stored"] == 1


async def test_missed_mails_are_fetched_again_by_the_next_run(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    mails = [
        samples.plain(message_id=f"r{n}@x", sender="a@a.example", to=ME, subject=f"R{n}")
        for n in range(5)
    ]
    await dovecot.append(mail_user, "INBOX", *mails)
    await run_fetch(pool, mail_config)
    # As if a run had stored the folder's position but lost two mails' outcomes.
    await execute(pool, "DELETE FROM mail_uids WHERE uid IN (2, 4)")
    await execute(pool, "DELETE FROM messages WHERE subject IN ('R1', 'R3')")
    result = await run_fetch(pool, mail_config)
    assert result.summary["new"] == 2
    assert (await assert_complete(pool, mail_user, dovecot))["INBOX"]["stored"] == 5


async def test_moved_deleted_and_renamed_mail_leave_the_ledger_complete(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.create(mail_user, "Projects", "Old")
    await dovecot.append(
        mail_user,
        "INBOX",
        *[
            samples.plain(message_id=f"v{n}@x", sender="a@a.example", to=ME, subject=f"V{n}")
            for n in range(4)
        ],
    )
    await dovecot.append(
        mail_user,
        "Old",
        samples.plain(message_id="o@x", sender="a@a.example", to=ME, subject="O"),
    )
    await run_fetch(pool, mail_config)
    await dovecot.move(mail_user, "INBOX", "V0", "Projects")
    await dovecot.move(mail_user, "INBOX", "V1", None)
    await dovecot.rename(mail_user, "Old", "Renamed")
    result = await run_fetch(pool, mail_config)
    assert (result.summary["new"], result.summary["duplicate"]) == (0, 2)
    rows = await assert_complete(pool, mail_user, dovecot)
    assert "Old" not in rows
    assert rows["Renamed"]["skipped"]["duplicate"] == 1
    assert rows["Projects"]["skipped"]["duplicate"] == 1
    assert rows["INBOX"]["on_server"] == 2
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 5, "deleted mail is kept"


async def test_a_real_mail_makes_an_unconfirmed_customer_valid_and_a_list_mail_does_not(
    pool: Pool, mail_config: Config, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('real@buyer.example', 2)")
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('list@buyer.example', 2)")
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(
            message_id="real-1@buyer", sender="real@buyer.example", to=ME, subject="询价"
        ),
    )
    await dovecot.append(
        mail_user,
        "INBOX",
        samples.plain(
            message_id="list-1@buyer",
            sender="list@buyer.example",
            to=ME,
            subject="[news] 新品",
            extra="List-Id: <news.buyer.example>",
        ),
    )
    await run_fetch(pool, mail_config)
    assert (await customer(pool, "real@buyer.example"))["valid"] == 1
    assert (await customer(pool, "list@buyer.example"))["valid"] == 2
    (change,) = await fetch_all(pool, "SELECT source, message_id FROM validity_history")
    assert change["source"] == "mail"
    assert (
        await fetch_value(
            pool, "SELECT subject FROM messages WHERE id = %s", (change["message_id"],)
        )
        == "询价"
    )
