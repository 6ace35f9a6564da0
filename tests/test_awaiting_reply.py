"""待回复 (awaiting our reply) against the real database, and auto-replies kept out of it."""

from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient

from mycrmd.config import MailboxConfig
from mycrmd.jobs.fetch_mail import classify
from mycrmd.mail.parse import parse_mail
from mycrmd.model.message import MessageType
from mycrmd.store.awaiting import waiting_count, waiting_page
from mycrmd.store.pool import Pool, execute, insert
from tests.test_followup import customer

NOW = datetime.now().replace(microsecond=0)


async def mail(pool: Pool, kind: MessageType, hours_ago: float, subject: str, *to: str) -> int:
    message_id = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) VALUES (%s, %s, %s, %s, '')",
        ("x", NOW - timedelta(hours=hours_ago), kind.value, subject),
    )
    for address in to:
        await execute(
            pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, %s)", (message_id, address)
        )
    return message_id


async def waiting(pool: Pool, hours: int = 24) -> list[str]:
    rows = await waiting_page(pool, hours, 1, 100)
    assert await waiting_count(pool, hours) == len(rows)
    return [row["email"] for row in rows]


async def test_who_waits_longest_comes_first_and_answered_ones_do_not(pool: Pool) -> None:
    await customer(pool, "old@x.example", contacted=NOW - timedelta(days=10))
    await customer(pool, "older@x.example")
    await customer(pool, "answered@x.example", contacted=NOW - timedelta(hours=30))
    await customer(pool, "fresh@x.example")
    await mail(pool, MessageType.RECEIVE, 48, "hello", "old@x.example")
    await mail(pool, MessageType.RECEIVE, 72, "first", "older@x.example")
    newest = await mail(pool, MessageType.RECEIVE, 60, "second", "older@x.example")
    await mail(pool, MessageType.RECEIVE, 40, "thanks", "answered@x.example")
    await mail(pool, MessageType.RECEIVE, 2, "just now", "fresh@x.example")
    assert await waiting(pool) == ["older@x.example", "old@x.example"]
    rows = await waiting_page(pool, 24, 1, 1)
    assert rows[0]["last_received_id"] == newest
    assert rows[0]["last_received_subject"] == "second"
    assert rows[0]["waiting_since"] == NOW - timedelta(hours=60)
    assert await waiting(pool, 1) == ["older@x.example", "old@x.example", "fresh@x.example"]


async def test_bounces_notices_invalid_snoozed_and_company_answers_are_left_out(
    pool: Pool,
) -> None:
    await customer(pool, "bounced@x.example")
    await customer(pool, "dead@x.example", valid=0)
    snoozed = await customer(pool, "snoozed@x.example")
    await customer(pool, "a@acme.example", company="Acme")
    await customer(pool, "b@acme.example", company="Acme", contacted=NOW - timedelta(hours=30))
    await customer(pool, "waits@x.example", valid=2)
    await mail(pool, MessageType.SYSTEM, 48, "Undelivered", "bounced@x.example")
    await mail(pool, MessageType.RECEIVE, 48, "hi", "dead@x.example")
    await mail(pool, MessageType.RECEIVE, 48, "hi", "snoozed@x.example")
    await mail(pool, MessageType.RECEIVE, 48, "hi", "a@acme.example")
    await mail(pool, MessageType.RECEIVE, 48, "hi", "waits@x.example")
    await execute(
        pool,
        "UPDATE customers SET snoozed_until = NOW() + INTERVAL 1 DAY WHERE id = %s",
        (snoozed,),
    )
    assert await waiting(pool) == ["waits@x.example"]
    await execute(pool, "UPDATE customers SET snoozed_until = NOW() WHERE id = %s", (snoozed,))
    assert await waiting(pool) == ["snoozed@x.example", "waits@x.example"]


def test_an_auto_reply_is_stored_as_system_not_received() -> None:
    box = MailboxConfig(address="me@us.example", admin="")
    raw = (
        b"From: Ann <ann@x.example>\r\nTo: me@us.example\r\nSubject: Out of office\r\n"
        b"Auto-Submitted: auto-replied\r\nMessage-ID: <a@x>\r\n\r\nAway.\r\n"
    )
    person = raw.replace(b"Auto-Submitted: auto-replied\r\n", b"")
    assert classify(parse_mail(raw, None), box) is MessageType.SYSTEM
    assert classify(parse_mail(person, None), box) is MessageType.RECEIVE
    vacation = raw.replace(b"Auto-Submitted: auto-replied", b"Precedence: auto_reply")
    assert classify(parse_mail(vacation, None), box) is MessageType.SYSTEM


async def test_the_awaiting_reply_api_pages_and_counts(client: TestClient, pool: Pool) -> None:
    for n in range(3):
        await customer(pool, f"w{n}@x.example")
        await mail(pool, MessageType.RECEIVE, 50 - n, f"s{n}", f"w{n}@x.example")
    data = await (await client.get("/api/awaiting-reply?hours=24&page=2&rows=2")).json()
    assert data["total"] == 3
    assert [row["email"] for row in data["rows"]] == ["w2@x.example"]
    assert data["rows"][0]["last_received_subject"] == "s2"
    assert (await client.get("/api/awaiting-reply?hours=-1")).status == 400


async def test_the_awaiting_list_exports_as_csv(client: TestClient, pool: Pool) -> None:
    await customer(pool, "waits@x.example")
    await customer(pool, "quiet@x.example")
    await mail(pool, MessageType.RECEIVE, 30, "hi", "waits@x.example")
    answer = await client.get("/export/customers.csv?type=awaiting&hours=24")
    assert answer.status == 200
    text = await answer.text()
    assert "waits@x.example" in text
    assert "quiet@x.example" not in text
    later = await (await client.get("/export/customers.csv?type=awaiting&hours=48")).text()
    assert "waits@x.example" not in later
    reversed_rows = await (await client.get("/api/awaiting-reply?order=desc")).json()
    assert [row["email"] for row in reversed_rows["rows"]] == ["waits@x.example"]
