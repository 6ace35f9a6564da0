"""Mail in the database: messages, msg_addrs (who may see each message), and the IMAP sync
state in mail_folders."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiomysql

from mycrmd.model.folders import UidOutcome
from mycrmd.model.message import MessageType
from mycrmd.store import search
from mycrmd.store.mail_ledger import record_outcomes
from mycrmd.store.pool import (
    Pool,
    Row,
    arg_marks,
    execute,
    fetch_all,
    fetch_one,
    fetch_value,
    transaction,
)
from mycrmd.store.validity import mark_bounced, mark_received

_RETENTION_BATCH = 1000


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class NewMessage:
    dedupe_key: bytes
    sender: str
    date: datetime
    type: MessageType
    subject: str
    content: str
    addresses: tuple[str, ...]
    dead_addresses: tuple[str, ...] = ()  # dead-address bounce: those customers become invalid
    bounce_reason: str = ""  # every bounce's, hard or soft: "bounce 5.1.1 user_unknown"
    proves: str = ""  # a real mail from this address: it works (store/validity.py)


@dataclass(frozen=True)
class SaveResult:
    new: int
    duplicate: int
    invalidated: int


async def folder_states(pool: Pool, account: str) -> dict[str, FolderState]:
    rows = await fetch_all(
        pool,
        "SELECT folder, uidvalidity, last_uid FROM mail_folders WHERE account = %s",
        (account,),
    )
    return {row["folder"]: FolderState(row["uidvalidity"], row["last_uid"]) for row in rows}


async def save_batch(
    pool: Pool,
    account: str,
    folder: str,
    state: FolderState,
    batch: Sequence[tuple[int, NewMessage]],
    skipped: Sequence[tuple[int, UidOutcome]] = (),
) -> SaveResult:
    """A batch of mails (by UID), the outcome of each for the ledger, and the folder's new
    position, all or nothing: after a crash the next run neither misses nor repeats a mail,
    and every stored mail has its addresses. A mail already stored (the same Message-ID, in
    any folder) is counted, not stored again. A handful of statements per batch, not two per
    mail: round trips were half the job's time. (One fetch run at a time holds the job's lock,
    so no other writer races us.)"""
    async with transaction(pool) as cur:
        stored = await _stored_keys(cur, [message.dedupe_key for _, message in batch])
        fresh: dict[bytes, NewMessage] = {}
        outcomes = list(skipped)
        for uid, message in batch:
            if message.dedupe_key in stored or message.dedupe_key in fresh:
                outcomes.append((uid, UidOutcome.DUPLICATE))
            else:
                fresh[message.dedupe_key] = message
                outcomes.append((uid, UidOutcome.STORED))
        for chunk in _by_size(list(fresh.values())):
            await _insert_messages(cur, chunk)
        ids = await _stored_keys(cur, list(fresh))
        addresses = [
            (ids[key], address)
            for key, message in fresh.items()
            for address in message.addresses
            if len(address) <= 256
        ]
        if addresses:
            await cur.executemany(
                "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, %s)", addresses
            )
        await search.add(
            cur,
            [
                (ids[key], m.date, search.document(m.subject, m.sender, m.addresses, m.content))
                for key, m in fresh.items()
            ],
        )
        invalidated = 0
        for key, message in sorted(fresh.items(), key=lambda item: item[1].date):
            for address in message.dead_addresses:
                invalidated += await mark_bounced(
                    cur, address, message.bounce_reason, message.date, ids[key]
                )
            if message.proves:
                await mark_received(cur, message.proves, message.date, ids[key])
        await record_outcomes(cur, account, folder, state.uidvalidity, outcomes)
        await _save_state(cur, account, folder, state)
    return SaveResult(len(fresh), len(batch) - len(fresh), invalidated)


_PACKET = 8 * 2**20  # bytes per INSERT, under any server's max_allowed_packet (16 MB default)
_BYTES_PER_CHARACTER = 4  # the most UTF-8 needs: the estimate never falls short


def _by_size(messages: list[NewMessage]) -> list[list[NewMessage]]:
    chunks: list[list[NewMessage]] = [[]]
    size = 0
    for message in messages:
        characters = len(message.content) + len(message.subject) + len(message.sender)
        length = characters * _BYTES_PER_CHARACTER + 200
        if chunks[-1] and size + length > _PACKET:
            chunks.append([])
            size = 0
        chunks[-1].append(message)
        size += length
    return [chunk for chunk in chunks if chunk]


_INSERTED = "sender, date, type, subject, content, dedupe_key, bounce_reason"


async def _insert_messages(cur: aiomysql.DictCursor, chunk: list[NewMessage]) -> None:
    # Keys go in as hex: aiomysql 0.3 cannot pass bytes parameters with PyMySQL 1.2
    # (aio-libs/aiomysql#1080).
    rows = ", ".join(["(%s, %s, %s, %s, %s, UNHEX(%s), %s)"] * len(chunk))
    values = [
        value
        for message in chunk
        for value in (
            message.sender[:256],
            message.date,
            message.type,
            message.subject[:256],
            message.content,
            message.dedupe_key.hex(),
            message.bounce_reason or None,
        )
    ]
    await cur.execute(
        f"INSERT INTO messages ({_INSERTED}) VALUES {rows}",  # noqa: S608 (placeholders)
        values,
    )


async def _stored_keys(cur: aiomysql.DictCursor, keys: list[bytes]) -> dict[bytes, int]:
    """Which of these dedupe keys are stored already, with their message's id."""
    if not keys:
        return {}
    marks = ", ".join(["UNHEX(%s)"] * len(keys))
    await cur.execute(
        f"SELECT HEX(dedupe_key) AS k, id FROM messages WHERE dedupe_key IN ({marks})",  # noqa: S608 (placeholders)
        [key.hex() for key in keys],
    )
    return {bytes.fromhex(row["k"]): row["id"] for row in await cur.fetchall()}


async def save_folder_state(pool: Pool, account: str, folder: str, state: FolderState) -> None:
    async with transaction(pool) as cur:
        await _save_state(cur, account, folder, state)


async def _save_state(cur: aiomysql.Cursor, account: str, folder: str, state: FolderState) -> None:
    await cur.execute(
        "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, synced_at) "
        "VALUES (%s, %s, %s, %s, NOW()) ON DUPLICATE KEY UPDATE uidvalidity = VALUES(uidvalidity), "
        "last_uid = VALUES(last_uid), synced_at = VALUES(synced_at)",
        (account, folder, state.uidvalidity, state.last_uid),
    )


async def delete_older_than(pool: Pool, days: int) -> int:
    """Messages dated more than `days` ago, with their addresses, in bounded batches so the
    tables are never locked for long. Nothing on the mail server is touched."""
    cutoff = datetime.now() - timedelta(days=days)
    deleted = 0
    while True:
        rows = await fetch_all(
            pool,
            "SELECT id FROM messages WHERE date < %s ORDER BY id LIMIT %s",
            (cutoff, _RETENTION_BATCH),
        )
        ids = [row["id"] for row in rows]
        if not ids:
            return deleted
        marks = arg_marks(len(ids))
        async with transaction(pool) as cur:
            await cur.execute(f"DELETE FROM msg_addrs WHERE msg_id IN ({marks})", ids)  # noqa: S608 (placeholders)
            await search.remove(cur, ids)
            deleted += await cur.execute(f"DELETE FROM messages WHERE id IN ({marks})", ids)  # noqa: S608 (placeholders)


async def update_last_contact(pool: Pool) -> int:
    """Each customer's last_contact_date becomes its newest `sendto` mail, never moving
    backwards (R-JOB4); customers added after their mails were fetched are caught up."""
    return await execute(
        pool,
        "UPDATE customers c JOIN ("
        "  SELECT a.address, MAX(m.date) AS newest FROM messages m"
        "  JOIN msg_addrs a ON a.msg_id = m.id WHERE m.type = %s GROUP BY a.address"
        ") s ON c.email = s.address "
        "SET c.last_contact_date = s.newest "
        "WHERE c.last_contact_date IS NULL OR c.last_contact_date < s.newest",
        (MessageType.SENDTO.value,),
    )


_LISTED = "m.id, m.date, m.type, m.sender, m.subject"


async def for_address(pool: Pool, address: str, page: int, rows: int) -> tuple[int, list[Row]]:
    """Messages someone with this address may see (sender, recipient or bounced), newest
    first."""
    total = await fetch_value(
        pool,
        "SELECT COUNT(DISTINCT msg_id) FROM msg_addrs WHERE address = %s",
        (address,),
    )
    found = await fetch_all(
        pool,
        f"SELECT {_LISTED} FROM messages m WHERE m.id IN ("  # noqa: S608 (fixed text)
        "SELECT msg_id FROM msg_addrs WHERE address = %s"
        ") ORDER BY m.date DESC, m.id DESC LIMIT %s OFFSET %s",
        (address, rows, (page - 1) * rows),
    )
    return int(total), found


async def of_type(pool: Pool, kind: str, page: int, rows: int) -> tuple[int, list[Row]]:
    total = await fetch_value(pool, "SELECT COUNT(*) FROM messages WHERE type = %s", (kind,))
    found = await fetch_all(
        pool,
        f"SELECT {_LISTED} FROM messages m WHERE m.type = %s "  # noqa: S608 (fixed text)
        "ORDER BY m.date DESC, m.id DESC LIMIT %s OFFSET %s",
        (kind, rows, (page - 1) * rows),
    )
    return int(total), found


async def get(pool: Pool, message_id: int) -> Row | None:
    found = await fetch_one(
        pool,
        "SELECT id, date, type, sender, subject, content FROM messages WHERE id = %s",
        (message_id,),
    )
    if found is not None:
        rows = await fetch_all(
            pool, "SELECT address FROM msg_addrs WHERE msg_id = %s ORDER BY id", (message_id,)
        )
        found["addresses"] = list(dict.fromkeys(row["address"] for row in rows))
    return found


async def for_addresses(pool: Pool, addresses: Sequence[str], limit: int = 500) -> list[Row]:
    """The mails any of these addresses may see (bounce notices included), oldest first:
    one customer's or a whole company's history on its page."""
    if not addresses:
        return []
    marks = arg_marks(len(addresses))
    found = await fetch_all(
        pool,
        f"SELECT {_LISTED} FROM messages m WHERE m.id IN ("  # noqa: S608 (fixed text)
        f"SELECT msg_id FROM msg_addrs WHERE address IN ({marks})"
        ") ORDER BY m.date DESC, m.id DESC LIMIT %s",
        [*addresses, limit],
    )
    return found[::-1]
