"""Changes of a customer's validity that the mailbox causes, made inside the caller's open
transaction so they commit (or roll back) with the mail that caused them. Each change is
written to validity_history with the mail's date, so evidence is weighed by time: a person's
edit or an import newer than a mail wins over it; a received mail newer than a bounce wins over
the bounce, and the other way round."""

from datetime import datetime

import aiomysql

from mycrmd.model.customer import BY_NAME, Validity
from mycrmd.model.history import PERSONAL, Source
from mycrmd.model.message import MessageType
from mycrmd.store.counts import totals
from mycrmd.store.history import record
from mycrmd.store.pool import Pool, Row, arg_marks, fetch_all, transaction

_LOG_LENGTH = BY_NAME["last_checked_log"].length or 0
_PERSONAL = tuple(source.value for source in PERSONAL)


async def mark_bounced(
    cur: aiomysql.DictCursor,
    address: str,
    reason: str,
    when: datetime,
    message_id: int | None = None,
) -> int:
    """The customer with this address is invalid: a bounce for a dead address says so, unless
    a person or a received mail spoke for it later. Returns how many customers changed."""
    changed = 0
    for customer_id, valid in await _customers(cur, address):
        if valid == int(Validity.INVALID):
            continue
        if await _newer(cur, customer_id, when, (*_PERSONAL, Source.MAIL.value)):
            continue
        await cur.execute(
            "UPDATE customers SET valid = %s, last_checked_log = %s, last_checked_date = %s "
            "WHERE id = %s",
            (int(Validity.INVALID), reason[:_LOG_LENGTH], when, customer_id),
        )
        await record(
            cur,
            customer_id,
            "valid",
            valid,
            int(Validity.INVALID),
            Source.BOUNCE,
            reason,
            message_id,
            when,
        )
        changed += 1
    return changed


async def mark_received(
    cur: aiomysql.DictCursor, address: str, when: datetime, message_id: int | None = None
) -> int:
    """A real mail from this address proves it works: unconfirmed becomes valid, and so does
    an address an older bounce made invalid; a person's newer edit stands."""
    changed = 0
    for customer_id, valid in await _customers(cur, address):
        if valid == int(Validity.VALID):
            continue
        if await _newer(cur, customer_id, when, _PERSONAL):
            continue
        if valid == int(Validity.INVALID) and not await _bounced_before(cur, customer_id, when):
            continue
        await cur.execute(
            "UPDATE customers SET valid = %s WHERE id = %s", (int(Validity.VALID), customer_id)
        )
        await record(
            cur,
            customer_id,
            "valid",
            valid,
            int(Validity.VALID),
            Source.MAIL,
            "mail received",
            message_id,
            when,
        )
        changed += 1
    return changed


async def _customers(cur: aiomysql.DictCursor, address: str) -> list[tuple[int, int]]:
    await cur.execute("SELECT id, valid FROM customers WHERE email = %s", (address,))
    return [(row["id"], row["valid"]) for row in await cur.fetchall()]


async def _newer(
    cur: aiomysql.DictCursor, customer_id: int, when: datetime, sources: tuple[str, ...]
) -> bool:
    marks = arg_marks(len(sources))
    await cur.execute(
        f"SELECT COUNT(*) AS n FROM validity_history WHERE customer_id = %s AND field = 'valid' AND at > %s AND source IN ({marks})",  # noqa: S608, E501 (placeholders)
        (customer_id, when, *sources),
    )
    row = await cur.fetchone()
    return bool(row["n"])


async def _bounced_before(cur: aiomysql.DictCursor, customer_id: int, when: datetime) -> bool:
    """Whether the latest change of validity was a bounce older than `when`."""
    await cur.execute(
        "SELECT source, at FROM validity_history WHERE customer_id = %s AND field = 'valid' "
        "ORDER BY at DESC, id DESC LIMIT 1",
        (customer_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return False
    return bool(row["source"] == Source.BOUNCE.value and row["at"] < when)


async def bounce_invalidated(pool: Pool) -> list[Row]:
    """Invalid customers whose invalidity a bounce caused: by the history, or (before the
    history existed) by the last_checked_log the old rules wrote."""
    return await fetch_all(
        pool,
        "SELECT c.id, c.email, c.last_checked_log FROM customers c WHERE c.valid = %s AND ("
        "c.last_checked_log LIKE 'bounce%%' OR (SELECT h.source FROM validity_history h "
        "WHERE h.customer_id = c.id AND h.field = 'valid' ORDER BY h.at DESC, h.id DESC "
        "LIMIT 1) = %s) ORDER BY c.id",
        (int(Validity.INVALID), Source.BOUNCE.value),
    )


async def bounces_for(pool: Pool, address: str) -> list[Row]:
    """The stored system notices that name this address, newest first."""
    return await fetch_all(
        pool,
        "SELECT m.id, m.date, m.sender, m.subject, m.content FROM messages m "
        "JOIN msg_addrs a ON a.msg_id = m.id WHERE a.address = %s AND m.type = %s "
        "ORDER BY m.date DESC, m.id DESC",
        (address, MessageType.SYSTEM.value),
    )


async def restore(pool: Pool, customer_id: int, reason: str, message_id: int | None) -> None:
    """Undo a bounce's invalidation the new rules do not uphold: back to the value the
    history says it had, else unconfirmed (nothing else is known)."""
    async with transaction(pool) as cur:
        await cur.execute(
            "SELECT old FROM validity_history WHERE customer_id = %s AND field = 'valid' "
            "AND source = %s ORDER BY at DESC, id DESC LIMIT 1",
            (customer_id, Source.BOUNCE.value),
        )
        row = await cur.fetchone()
        before = int(row["old"]) if row and row["old"] is not None else int(Validity.UNCONFIRMED)
        await cur.execute(
            "UPDATE customers SET valid = %s, last_checked_log = %s WHERE id = %s",
            (before, reason[:_LOG_LENGTH], customer_id),
        )
        await record(
            cur,
            customer_id,
            "valid",
            int(Validity.INVALID),
            before,
            Source.BOUNCE,
            reason,
            message_id,
        )
    totals.forget()
