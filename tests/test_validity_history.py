"""Validity from the mailbox, weighed by time through validity_history, against a real
MariaDB: a dead-address bounce invalidates, a real received mail restores, a person's newer
edit wins, and GET /api/customers/{id}/history tells it all, newest first."""

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.daemon import open_store
from mycrmd.jobs.rejudge import rejudge_bounces
from mycrmd.model.message import MessageType
from mycrmd.store import customers, verification
from mycrmd.store.messages import FolderState, NewMessage, save_batch
from mycrmd.store.migrate import LATEST
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_value, insert
from tests.support.api import get_json

NOW = datetime.now().replace(microsecond=0)


def mail(key: str, days_ago: float, *, dead: str = "", proves: str = "") -> NewMessage:
    return NewMessage(
        dedupe_key=hashlib.sha256(key.encode()).digest(),
        sender=proves or "MAILER-DAEMON",
        date=NOW - timedelta(days=days_ago),
        type=MessageType.SYSTEM if dead else MessageType.RECEIVE,
        subject=key,
        content="",
        addresses=(dead or proves,),
        dead_addresses=(dead,) if dead else (),
        bounce_reason="bounce 5.1.1 user_unknown" if dead else "",
        proves=proves,
    )


async def store(pool: Pool, *mails: NewMessage) -> None:
    await save_batch(pool, "acct", "INBOX", FolderState(1, len(mails)), list(enumerate(mails, 1)))


async def new_customer(pool: Pool, email: str, valid: int) -> int:
    return await insert(
        pool, "INSERT INTO customers (email, valid) VALUES (%s, %s)", (email, valid)
    )


async def valid_of(pool: Pool, customer_id: int) -> int:
    return int(await fetch_value(pool, "SELECT valid FROM customers WHERE id = %s", (customer_id,)))


async def test_a_bounce_invalidates_and_a_newer_mail_restores(pool: Pool) -> None:
    who = await new_customer(pool, "a@buyer.example", 1)
    await store(pool, mail("bounce", 3, dead="a@buyer.example"))
    assert await valid_of(pool, who) == 0
    await store(pool, mail("hello", 1, proves="a@buyer.example"))
    assert await valid_of(pool, who) == 1
    rows = await fetch_all(
        pool, "SELECT source, old, new, message_id FROM validity_history ORDER BY at"
    )
    assert [(r["source"], r["old"], r["new"]) for r in rows] == [
        ("bounce", "1", "0"),
        ("mail", "0", "1"),
    ]
    assert all(r["message_id"] for r in rows)


async def test_a_bounce_older_than_the_last_mail_changes_nothing(pool: Pool) -> None:
    who = await new_customer(pool, "b@buyer.example", 2)
    await store(pool, mail("hello", 1, proves="b@buyer.example"))
    assert await valid_of(pool, who) == 1
    await store(pool, mail("old bounce", 5, dead="b@buyer.example"))
    assert await valid_of(pool, who) == 1


async def test_a_persons_newer_edit_wins_over_an_older_mail(pool: Pool) -> None:
    who = await new_customer(pool, "c@buyer.example", 1)
    assert await customers.update(pool, who, {"valid": 2})
    await store(pool, mail("old mail", 2, proves="c@buyer.example"))
    assert await valid_of(pool, who) == 2


async def test_an_invalid_address_without_a_bounce_is_not_restored_by_mail(pool: Pool) -> None:
    who = await new_customer(pool, "d@buyer.example", 0)
    await store(pool, mail("hello", 1, proves="d@buyer.example"))
    assert await valid_of(pool, who) == 0


async def test_the_history_endpoint_lists_changes_newest_first(
    client: TestClient, pool: Pool
) -> None:
    who = await new_customer(pool, "e@buyer.example", 1)
    await store(pool, mail("bounce", 3, dead="e@buyer.example"))
    await store(pool, mail("hello", 1, proves="e@buyer.example"))
    data = await get_json(client, f"/api/customers/{who}/history")
    assert [row["source"] for row in data["rows"]] == ["mail", "bounce"]
    assert set(data["rows"][0]) == {
        "id",
        "at",
        "field",
        "old",
        "new",
        "source",
        "reason",
        "message_id",
    }
    assert data["rows"][1]["reason"] == "bounce 5.1.1 user_unknown"
    await get_json(client, "/api/customers/999999/history", status=404)


async def test_verify_candidates_skip_what_the_mailbox_settled(pool: Pool) -> None:
    proved = await new_customer(pool, "proved@buyer.example", 2)
    await store(pool, mail("hello", 10, proves="proved@buyer.example"))
    bounced = await new_customer(pool, "bounced@buyer.example", 1)
    await store(pool, mail("bounce", 2, dead="bounced@buyer.example"))
    checked = await new_customer(pool, "checked@buyer.example", 2)
    await verification.record_check(pool, checked, None, "checked", NOW - timedelta(days=9))
    valid_new = await new_customer(pool, "valid@buyer.example", 1)
    unconfirmed = await new_customer(pool, "unconfirmed@buyer.example", 2)
    old_proof = await new_customer(pool, "oldproof@buyer.example", 2)
    await store(pool, mail("long ago", 200, proves="oldproof@buyer.example"))
    found = [row["id"] for row in await verification.verify_candidates(pool, 10)]
    assert proved not in found and bounced not in found
    assert found == [unconfirmed, valid_new, old_proof, checked]


def notice(key: str, address: str, diagnostic: str) -> NewMessage:
    """A stored system notice as the fetch job keeps it: its text as HTML."""
    text = (
        "<p>This message was created automatically by mail delivery software.</p>"
        f"<p>The following address(es) failed:</p><p>&lt;{address}&gt;:<br>{diagnostic}</p>"
    )
    return replace(mail(key, 4, dead=address), content=text, dead_addresses=())


async def test_rejudging_restores_what_the_old_rules_invalidated_wrongly(pool: Pool) -> None:
    full = await new_customer(pool, "full@buyer.example", 0)
    gone = await new_customer(pool, "gone@buyer.example", 0)
    for who in (full, gone):
        await execute(
            pool,
            "UPDATE customers SET last_checked_log = 'bounce 5.0.0 undeliverable' WHERE id = %s",
            (who,),
        )
    await store(
        pool,
        notice("n1", "full@buyer.example", "550 5.0.0 mailbox full, permanent error"),
        notice("n2", "gone@buyer.example", "550 5.1.1 user unknown"),
    )
    planned = await rejudge_bounces(pool, dry_run=True)
    assert [change.email for change in planned] == ["full@buyer.example"]
    assert await valid_of(pool, full) == 0
    done = await rejudge_bounces(pool, dry_run=False)
    assert [change.customer_id for change in done] == [full]
    assert "mailbox_full" in done[0].now
    assert await valid_of(pool, full) == 2
    assert await valid_of(pool, gone) == 0
    assert await rejudge_bounces(pool, dry_run=False) == []


async def test_the_upgrade_to_the_history_rejudges_once(pool: Pool, config: Config) -> None:
    full = await new_customer(pool, "upgraded@buyer.example", 0)
    await execute(
        pool,
        "UPDATE customers SET last_checked_log = 'bounce 5.0.0 undeliverable' WHERE id = %s",
        (full,),
    )
    await store(pool, notice("n3", "upgraded@buyer.example", "552 5.2.2 mailbox full"))
    await execute(pool, "DELETE FROM schema_migrations WHERE version >= 2")
    async with open_store(config):
        pass
    assert await valid_of(pool, full) == 2
    assert await fetch_value(pool, "SELECT MAX(version) FROM schema_migrations") == LATEST
