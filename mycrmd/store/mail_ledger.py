"""The sync ledger (issue 17): per folder, what is on the server within the look-back window
and what became of each of those mails (mail_uids), so a run can prove nothing is missing and
fetch again what is."""

from collections.abc import Sequence
from dataclasses import dataclass

import aiomysql

from mycrmd.model.folders import SKIP_REASONS, UidOutcome
from mycrmd.store.pool import Pool, Row, arg_marks, fetch_all, transaction

_CHUNK = 1000


@dataclass(frozen=True)
class Ledger:
    """One folder's counts after a sync; missing = on_server − stored − skipped."""

    name: str
    uidvalidity: int
    last_uid: int
    on_server: int
    outcomes: dict[UidOutcome, int]

    @property
    def missing(self) -> int:
        return self.on_server - sum(self.outcomes.values())


async def accounted(pool: Pool, account: str, folder: str, uidvalidity: int) -> dict[int, str]:
    """Each UID of this folder (at this UIDVALIDITY) that has an outcome."""
    rows = await fetch_all(
        pool,
        "SELECT uid, outcome FROM mail_uids WHERE account = %s AND folder = %s "
        "AND uidvalidity = %s",
        (account, folder, uidvalidity),
    )
    return {int(row["uid"]): row["outcome"] for row in rows}


async def record_outcomes(
    cur: aiomysql.Cursor,
    account: str,
    folder: str,
    uidvalidity: int,
    outcomes: Sequence[tuple[int, UidOutcome]],
) -> None:
    """Inside the caller's transaction: the outcomes commit with the mails they describe."""
    if outcomes:
        await cur.executemany(
            "INSERT INTO mail_uids (account, folder, uidvalidity, uid, outcome) "
            "VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE "
            "uidvalidity = VALUES(uidvalidity), outcome = VALUES(outcome)",
            [(account, folder, uidvalidity, uid, outcome.value) for uid, outcome in outcomes],
        )


async def save_ledger(
    pool: Pool, account: str, folder: str, ledger: Ledger, on_server: Sequence[int]
) -> None:
    """The folder's counts, and its UID rows pruned to what is on the server now (another
    UIDVALIDITY's, or mails deleted or gone out of the window)."""
    known = await accounted(pool, account, folder, ledger.uidvalidity)
    gone = sorted(set(known) - set(on_server))
    async with transaction(pool) as cur:
        await cur.execute(
            "DELETE FROM mail_uids WHERE account = %s AND folder = %s AND uidvalidity <> %s",
            (account, folder, ledger.uidvalidity),
        )
        for start in range(0, len(gone), _CHUNK):
            chunk = gone[start : start + _CHUNK]
            marks = arg_marks(len(chunk))
            await cur.execute(
                "DELETE FROM mail_uids WHERE account = %s AND folder = %s "  # noqa: S608 (placeholders)
                f"AND uid IN ({marks})",
                (account, folder, *chunk),
            )
        counts = [ledger.outcomes.get(reason, 0) for reason in SKIP_REASONS]
        await cur.execute(
            "INSERT INTO mail_folders (account, folder, name, uidvalidity, last_uid, synced_at, "
            "on_server, stored, skipped_duplicate, skipped_excluded, skipped_older, "
            "skipped_unreadable, missing) VALUES (%s, %s, %s, %s, %s, NOW(), %s, %s, %s, %s, %s, "
            "%s, %s) ON DUPLICATE KEY UPDATE name = VALUES(name), "
            "uidvalidity = VALUES(uidvalidity), "
            "last_uid = VALUES(last_uid), synced_at = VALUES(synced_at), "
            "on_server = VALUES(on_server), stored = VALUES(stored), "
            "skipped_duplicate = VALUES(skipped_duplicate), "
            "skipped_excluded = VALUES(skipped_excluded), skipped_older = VALUES(skipped_older), "
            "skipped_unreadable = VALUES(skipped_unreadable), missing = VALUES(missing)",
            (
                account,
                folder,
                ledger.name,
                ledger.uidvalidity,
                ledger.last_uid,
                ledger.on_server,
                ledger.outcomes.get(UidOutcome.STORED, 0),
                *counts,
                ledger.missing,
            ),
        )


async def forget_folders_except(pool: Pool, account: str, present: Sequence[str]) -> int:
    """Folders no longer on the server (deleted or renamed) leave the ledger; their mails
    stay stored."""
    rows = await fetch_all(pool, "SELECT folder FROM mail_folders WHERE account = %s", (account,))
    gone = [row["folder"] for row in rows if row["folder"] not in set(present)]
    async with transaction(pool) as cur:
        for folder in gone:
            await cur.execute(
                "DELETE FROM mail_uids WHERE account = %s AND folder = %s", (account, folder)
            )
            await cur.execute(
                "DELETE FROM mail_folders WHERE account = %s AND folder = %s", (account, folder)
            )
    return len(gone)


async def set_push(pool: Pool, account: str, folders: Sequence[str]) -> None:
    """Which folders IDLE watches now (a folder not synced yet gets its row, at UIDVALIDITY
    0, which the first sync replaces)."""
    async with transaction(pool) as cur:
        await cur.execute("UPDATE mail_folders SET push = 0 WHERE account = %s", (account,))
        for folder in folders:
            await cur.execute(
                "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, push) "
                "VALUES (%s, %s, 0, 0, 1) ON DUPLICATE KEY UPDATE push = 1",
                (account, folder),
            )


async def rows(pool: Pool, account: str) -> list[Row]:
    """The ledger of one account, folder by folder, as the API answers it."""
    found = await fetch_all(
        pool,
        "SELECT folder, name, uidvalidity, last_uid, on_server, stored, skipped_duplicate, "
        "skipped_excluded, skipped_older, skipped_unreadable, missing, synced_at, push "
        "FROM mail_folders WHERE account = %s ORDER BY folder",
        (account,),
    )
    return [
        {
            "folder": row["name"] or row["folder"],
            "uidvalidity": int(row["uidvalidity"]),
            "last_uid": int(row["last_uid"]),
            "on_server": int(row["on_server"]),
            "stored": int(row["stored"]),
            "skipped": {
                reason.value: int(row[f"skipped_{reason.value}"]) for reason in SKIP_REASONS
            },
            "missing": int(row["missing"]),
            "last_sync": row["synced_at"],
            "push": bool(row["push"]),
        }
        for row in found
    ]
