"""The mail providers our users have, through the real fetch job: a loopback front that
behaves as each provider does (tests/support/provider_proxy.py), the real Dovecot behind it."""

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from mycrmd.config import Config, MailboxConfig
from mycrmd.jobs import fetch_mail
from mycrmd.jobs.fetch_mail import FetchMailJob
from mycrmd.jobs.scheduler import Job, JobResult, Scheduler
from mycrmd.model.jobs import RunStatus
from mycrmd.store import config_table
from mycrmd.store.pool import Pool, fetch_all, fetch_value, insert
from tests.support import mail_samples as samples
from tests.support.dovecot import Dovecot, MailUser
from tests.support.mail_samples import ADMIN_NAME, ME
from tests.support.provider_proxy import ProviderProxy, Quirks
from tests.test_fetch_mail import NEVER

NETEASE_GREETING = "* OK Coremail System IMap Server Ready(163com[20141201])"
QQ_GREETING = "* OK [CAPABILITY IMAP4 IMAP4rev1 ID AUTH=PLAIN] QQMail XMIMAP4Server ready"
MICROSOFT_GREETING = "* OK The Microsoft Exchange IMAP4 service is ready."
QQ_REFUSAL = (
    "LOGIN fail. Account is abnormal, service is not open, password is incorrect, login "
    "frequency limited, or system is busy."
)


def mail(subject: str, number: int) -> bytes:
    return samples.plain(
        message_id=f"{subject}-{number}@buyer.example",
        sender="Buyer <buyer@buyer.example>",
        to=ME,
        subject=f"{subject} {number}",
    )


async def subjects(pool: Pool) -> list[str]:
    rows = await fetch_all(pool, "SELECT subject FROM messages ORDER BY subject")
    return [row["subject"] for row in rows]


class Provider:
    """One provider's front, the account pointed at it, and runs of one fetch job."""

    def __init__(self, pool: Pool, config: Config, proxy: ProviderProxy) -> None:
        self.pool = pool
        self.config = config
        self.proxy = proxy
        self.job = FetchMailJob()

    async def run(self, trigger: str = "cli", **mailbox: object) -> JobResult:
        config = replace(self.config, mailbox=replace(self.config.mailbox, **mailbox))
        scheduler = Scheduler(self.pool, config, [Job("fetch", self.job.run, NEVER)])
        result = await scheduler.run_once("fetch", trigger)
        assert result is not None
        return result

    def log(self) -> str:
        return (self.config.log_dir / "fetch.log").read_text()


@pytest.fixture
def quirks(request: pytest.FixtureRequest) -> Quirks:
    """The provider's behaviour: a test's parameter, else a plain server."""
    return getattr(request, "param", None) or Quirks()


@pytest.fixture
async def provider(
    pool: Pool, config: Config, dovecot: Dovecot, mail_user: MailUser, quirks: Quirks
) -> AsyncIterator[Provider]:
    async with ProviderProxy(dovecot, mail_user, quirks) as proxy:
        await config_table.put(
            pool,
            {
                "mail_host": "127.0.0.1",
                "mail_port": str(proxy.port),
                "mail_username": mail_user.name,
                "mail_password": mail_user.password,
            },
        )
        mailbox = MailboxConfig(address=ME, admin=ADMIN_NAME, security="plain")
        yield Provider(pool, replace(config, mailbox=mailbox), proxy)


@pytest.mark.parametrize(
    "quirks", [Quirks(greeting=NETEASE_GREETING, require_id=True)], indirect=True
)
async def test_netease_gets_a_well_formed_id_and_then_lets_us_read(
    provider: Provider, quirks: Quirks, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(mail_user, "INBOX", mail("询盘", 1))

    result = await provider.run()

    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["询盘 1"]
    assert quirks.id_commands == [b'("name" "mycrmd" "version" "0.1.0" "vendor" "mycrmd")']


@pytest.mark.parametrize(
    "quirks",
    [Quirks(greeting=NETEASE_GREETING, require_id=True, capabilities_drop=("ID",))],
    indirect=True,
)
async def test_an_unsafe_login_refusal_says_what_it_means(
    provider: Provider, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(mail_user, "INBOX", mail("询盘", 1))

    result = await provider.run()

    assert result.status is RunStatus.FAILED
    assert "Unsafe Login" in str(result.summary["error"])
    hint = result.summary["hint"]
    assert isinstance(hint, dict)
    assert "授权密码" in hint["zh"] and "kefu@188.com" in hint["zh"]
    assert "hint_zh: 网易邮箱拒绝了未识别的客户端" in provider.log()


@pytest.mark.parametrize(
    "quirks", [Quirks(greeting=QQ_GREETING, login_refusal=QQ_REFUSAL)], indirect=True
)
async def test_a_refused_qq_login_names_the_authorization_code_and_is_not_retried_by_the_timer(
    provider: Provider, quirks: Quirks, pool: Pool, mail_user: MailUser
) -> None:
    first = await provider.run(trigger="schedule")
    assert first.status is RunStatus.FAILED
    hint = first.summary["hint"]
    assert isinstance(hint, dict) and "授权码" in hint["zh"] and "IMAP" in hint["zh"]

    again = await provider.run(trigger="schedule")
    assert again.status is RunStatus.FAILED
    assert "not trying again" in str(again.summary["error"])
    assert quirks.logins == 1  # the provider saw one wrong login, not two

    await provider.run(trigger="ui")  # a person asks: tried
    assert quirks.logins == 2
    await config_table.put(pool, {"mail_password": mail_user.password + "x"})
    await provider.run(trigger="schedule")  # new settings: tried
    assert quirks.logins == 3


async def test_chinese_folder_names_are_decoded_and_drafts_spam_and_trash_are_skipped(
    provider: Provider, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.create(mail_user, "已发送", "草稿箱", "垃圾邮件", "已删除", "客户")
    for number, folder in enumerate(("已发送", "草稿箱", "垃圾邮件", "已删除", "客户"), 1):
        await dovecot.append(mail_user, folder, mail(folder, number))

    result = await provider.run(exclude=("客户",))

    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["已发送 1"]
    log = provider.log()
    assert "folder=草稿箱 not synced: special use drafts" in log
    assert "folder=垃圾邮件 not synced: special use junk" in log
    assert "folder=已删除 not synced: special use trash" in log
    assert "folder=客户 not synced: excluded" in log
    assert "&" not in log.split("connected", 1)[1]  # no modified UTF-7 shown


@pytest.mark.parametrize(
    "quirks",
    [
        Quirks(
            greeting="* OK Gimap ready for requests",
            special_use={
                "[Gmail]/All Mail": "\\All",
                "[Gmail]/Sent Mail": "\\Sent",
                "Bulk": "\\Junk",
            },
        )
    ],
    indirect=True,
)
async def test_gmail_labels_and_special_use_flags(
    provider: Provider, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.create(mail_user, "[Gmail]/All Mail", "[Gmail]/Sent Mail", "Bulk", "客户 A")
    labelled = mail("label", 1)
    await dovecot.append(mail_user, "INBOX", labelled)
    await dovecot.append(mail_user, "客户 A", labelled)
    await dovecot.append(mail_user, "[Gmail]/All Mail", labelled, mail("all", 2))
    await dovecot.append(mail_user, "[Gmail]/Sent Mail", mail("sent", 3))
    await dovecot.append(mail_user, "Bulk", mail("spam", 4))

    result = await provider.run()

    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["label 1", "sent 3"]
    assert "folder=[Gmail]/All Mail not synced: special use all" in provider.log()
    assert "folder=Bulk not synced: special use junk" in provider.log()

    # With nothing skipped, All Mail's copy of a labelled mail is still stored once.
    result = await provider.run(skip=())
    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["all 2", "label 1", "sent 3", "spam 4"]


@pytest.mark.parametrize(
    "quirks",
    [
        Quirks(
            greeting=MICROSOFT_GREETING,
            capabilities_drop=("AUTH=PLAIN", "AUTH=LOGIN"),
            capabilities_add=("AUTH=XOAUTH2", "SASL-IR"),
            login_refusal="LOGIN failed.",
            xoauth2_token="ya29.token-from-the-command",
        )
    ],
    indirect=True,
)
async def test_microsoft_takes_an_oauth2_token_from_the_configured_command(
    provider: Provider, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await dovecot.append(mail_user, "INBOX", mail("order", 1))

    refused = await provider.run()
    assert refused.status is RunStatus.FAILED
    hint = refused.summary["hint"]
    assert isinstance(hint, dict) and "basic authentication" in hint["en"]
    assert "oauth2_token_command" in hint["zh"]

    wrong = await provider.run(oauth2_token_command="echo not-the-token")
    assert wrong.status is RunStatus.FAILED
    assert "XOAUTH2 refused" in str(wrong.summary["error"])

    result = await provider.run(oauth2_token_command="echo ya29.token-from-the-command")
    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["order 1"]
    assert "ya29" not in provider.log()


async def test_a_token_command_that_fails_says_so_without_its_output(provider: Provider) -> None:
    result = await provider.run(oauth2_token_command="sh -c 'echo secret-refresh >&2; exit 3'")

    assert result.status is RunStatus.FAILED
    assert "exit status 3" in str(result.summary["error"])
    assert "secret-refresh" not in provider.log()


@pytest.mark.parametrize("quirks", [Quirks(throttle_fetches=2)], indirect=True)
async def test_a_throttled_fetch_is_tried_again_after_a_pause(
    provider: Provider,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
    quirks: Quirks,
) -> None:
    monkeypatch.setattr(fetch_mail, "THROTTLE_PAUSE", 0.05)
    await dovecot.append(mail_user, "INBOX", mail("quote", 1), mail("quote", 2))

    result = await provider.run()

    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["quote 1", "quote 2"]
    assert quirks.throttle_fetches == 0
    assert provider.log().count("throttled: FETCH failed") == 2


@pytest.mark.parametrize("quirks", [Quirks(login_echo=True)], indirect=True)
@pytest.mark.parametrize("password", ['quo"te-4711', "back\\slash-4711", 'b"o\\th-4711'])
async def test_a_password_echoed_in_its_quoted_form_is_masked(
    provider: Provider, pool: Pool, password: str
) -> None:
    """IMAP quotes the password on the wire (\\" and \\\\), and JSON escapes it alike: a
    server echoing the command put those forms into the log and the job's summary (issue 14
    item 6)."""
    await config_table.put(pool, {"mail_password": password})
    result = await provider.run()
    assert result.status == "failed"
    stored = await fetch_value(
        pool, "SELECT summary FROM job_runs WHERE job = 'fetch' ORDER BY id DESC LIMIT 1"
    )
    assert "***" in str(stored)
    escaped = password.replace("\\", "\\\\").replace('"', '\\"')
    for text in (str(result.summary), provider.log(), str(stored)):
        for form in (password, escaped, "-4711"):
            assert form not in text, (form, text[-600:])


async def test_a_mail_in_a_synced_spam_folder_proves_nothing(
    provider: Provider, dovecot: Dovecot, mail_user: MailUser
) -> None:
    """Spam is synced when a person un-skips it, but a spammer's forged sender is no evidence
    that the address works; the same mail in INBOX is."""
    await insert(
        provider.pool, "INSERT INTO customers (email, valid) VALUES ('buyer@buyer.example', 2)"
    )
    await dovecot.create(mail_user, "垃圾邮件")
    await dovecot.append(mail_user, "垃圾邮件", mail("spam", 1))

    result = await provider.run(skip=())

    assert result.status is RunStatus.OK, result.summary
    assert await subjects(provider.pool) == ["spam 1"]
    valid = "SELECT valid FROM customers WHERE email = 'buyer@buyer.example'"
    assert await fetch_value(provider.pool, valid) == 2
    await dovecot.append(mail_user, "INBOX", mail("real", 2))
    await provider.run(skip=())
    assert await fetch_value(provider.pool, valid) == 1
