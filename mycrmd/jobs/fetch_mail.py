"""The fetch job (R-JOB3, R-JOB4): new mail from every folder into `messages`.

Provably complete (issue 17): per folder the job keeps a ledger (store/mail_ledger.py): every
UID that arrived within monitor_mail_days (SEARCH SINCE) gets an outcome — stored, or skipped
as a duplicate, as older than the window by its Date:, or as unreadable — and
only UIDs without one are fetched, so what an earlier run missed is fetched by the next; a
changed UIDVALIDITY starts the folder's outcomes afresh. Mails are read
with BODY.PEEK, in a read-only EXAMINE, so the mailbox's flags never change. The same mail in
two folders is stored once (by Message-ID, else by content). Afterwards old messages are
deleted from the database (never from the server) and customers' last_contact_date updated.
"""

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import cast

from mycrmd.config import MailboxConfig
from mycrmd.jobs.scheduler import JobContext, JobResult
from mycrmd.mail.imap import (
    BATCH,
    FetchedMail,
    Folder,
    ImapClient,
    ImapError,
    LoginRefused,
    Security,
    search_date,
)
from mycrmd.mail.parse import ParsedMail, parse_damaged, parse_mail
from mycrmd.mail.providers import UNSAFE_LOGIN_HINT, is_unsafe_login
from mycrmd.mail.signin import Credentials, sign_in
from mycrmd.model import settings
from mycrmd.model.folders import NOT_EVIDENCE, UidOutcome
from mycrmd.model.jobs import RunStatus
from mycrmd.model.message import MessageType
from mycrmd.store import config_table, mail_ledger, messages
from mycrmd.store.messages import FolderState, NewMessage


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    user: str
    password: str

    @property
    def account(self) -> str:
        """Sync state belongs to one account: another server or user starts afresh."""
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def fingerprint(self) -> str:
        """Changes when anything a login depends on changes (the password included)."""
        seen = "\0".join((self.host, str(self.port), self.user, self.password))
        return hashlib.sha256(seen.encode()).hexdigest()


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        keys = (
            "folders",
            "new",
            "duplicate",
            "bounces",
            "invalidated",
            "older",
            "skipped",
            "missing",
        )
        summary: dict[str, object] = {key: self.counts[key] for key in keys}
        if self.errors:
            summary["errors"] = self.errors
        return summary


def classify(mail: ParsedMail, mailbox: MailboxConfig) -> MessageType:
    """R-JOB3: the admin's display name, a bounce or an auto-reply → system; from our own
    address → sendto (we wrote it); anything else → receive."""
    if mailbox.admin and mail.sender_name == mailbox.admin:
        return MessageType.SYSTEM
    if mail.bounce is not None:
        return MessageType.SYSTEM
    if mail.automatic and mail.sender_address.lower() != mailbox.address.lower():
        return MessageType.SYSTEM  # an auto-reply is nobody waiting for our answer
    if mailbox.address and mail.sender_address.lower() == mailbox.address.lower():
        return MessageType.SENDTO
    return MessageType.RECEIVE


def to_record(mail: ParsedMail, mailbox: MailboxConfig) -> NewMessage:
    addresses = [mail.sender_address, *mail.recipients]
    dead: tuple[str, ...] = ()
    reason = ""
    if mail.bounce is not None:
        addresses += mail.bounce.addresses
        dead, reason = mail.bounce.dead_addresses, mail.bounce.reason[:256]
    unique = {address.lower(): address for address in addresses if address}
    kind = classify(mail, mailbox)
    real = kind == MessageType.RECEIVE and mail.bounce is None and not mail.automatic
    return NewMessage(
        dedupe_key=mail.dedupe_key,
        sender=mail.sender_name or mail.sender_address,
        date=mail.date,
        type=kind,
        subject=mail.subject,
        content=mail.html,
        addresses=tuple(unique.values()),
        dead_addresses=dead,
        bounce_reason=reason,
        proves=mail.sender_address if real else "",
    )


def excluded(folder: Folder, mailbox: MailboxConfig) -> str:
    """Why the folder is not synced, or "". `exclude` holds names as people read them or as
    the server sends them (modified UTF-7); MyCRM's config.json quoted them."""
    names = {name.strip().strip('"') for name in mailbox.exclude}
    if folder.name in names or folder.wire in names:
        return "excluded"
    role = folder.role
    if role is not None and role.value in mailbox.skip:
        return f"special use {role.value}"
    return ""


# A refused login is not tried again by the timer before this long (doubling, up to the cap),
# unless the mailbox settings change or a person asks: providers lock accounts that keep
# trying a wrong password.
_LOGIN_BACKOFF = 600.0
_LOGIN_BACKOFF_CAP = 6 * 3600.0
_MANUAL_TRIGGERS = ("ui", "cli")
# A folder the server throttles is tried again this many times, after 1, 2, 4, … seconds.
_THROTTLE_TRIES = 4
THROTTLE_PAUSE = 1.0


@dataclass
class _Refusal:
    fingerprint: str
    until: float
    backoff: float


@dataclass(frozen=True)
class _Parsed:
    uid: int
    record: NewMessage | None
    bounce: bool = False
    problem: str = ""


def _parse_batch(fetched: Sequence[FetchedMail], mailbox: MailboxConfig) -> list[_Parsed]:
    """Runs in a thread: parsing and sanitising are CPU work."""
    results = []
    for mail in fetched:
        try:
            parsed = parse_mail(mail.raw, mail.internaldate)
        except Exception as exc:  # one strange mail must not stop the run
            problem = f"{type(exc).__name__}: {exc}"
            try:
                damaged = parse_damaged(mail.raw, mail.internaldate, problem)
            except Exception:  # not even its headers: skipped as unreadable
                results.append(_Parsed(mail.uid, None, problem=problem))
                continue
            results.append(_Parsed(mail.uid, to_record(damaged, mailbox), problem=problem))
            continue
        results.append(_Parsed(mail.uid, to_record(parsed, mailbox), parsed.bounce is not None))
    return results


class FetchMailJob:
    def __init__(self) -> None:
        self._refusal: _Refusal | None = None

    async def run(self, ctx: JobContext) -> JobResult:
        values = await config_table.load(ctx.pool)
        server = mail_server(values)
        if server is None:
            reason = "no IMAP server or account set (设置 → 参数设置)"
            ctx.log.info("skipped: %s", reason)
            return JobResult(RunStatus.SKIPPED, {"reason": reason})
        refusal = self._refusal
        if refusal is not None and refusal.fingerprint != server.fingerprint:
            refusal = self._refusal = None
        if refusal is not None and ctx.trigger not in _MANUAL_TRIGGERS:
            wait = refusal.until - time.monotonic()
            if wait > 0:
                reason = (
                    f"the last login was refused; not trying again for {wait / 60:.0f} min "
                    "unless the mailbox settings change or a person starts the job"
                )
                ctx.log.warning("skipped: %s", reason)
                return JobResult(RunStatus.FAILED, {"error": reason})
        since = date.today() - timedelta(days=settings.number(values, "monitor_mail_days"))
        keep_days = settings.number(values, "mail_reserved_days")
        mailbox = ctx.config.mailbox
        tally = _Tally()
        try:
            security = cast(Security, mailbox.security)  # checked when the config was read
            client = await ImapClient.connect(server.host, server.port, security, mailbox.ca_file)
            try:
                credentials = Credentials(
                    server.user, server.password, mailbox.oauth2_token_command
                )
                await sign_in(client, server.host, credentials)
                self._refusal = None
                ctx.log.info(
                    "connected to %s:%d (%s) as %s", server.host, server.port, security, server.user
                )
                await _Run(ctx, client, server, since, tally).sync()
            finally:
                await client.logout()
        except ImapError as exc:
            if isinstance(exc, LoginRefused):
                self._refused(server)
            return _failed(ctx, exc, tally)
        deleted = await messages.delete_older_than(ctx.pool, keep_days)
        updated = await messages.update_last_contact(ctx.pool)
        ctx.log.info(
            "retention: deleted %d message(s) older than %d days; last contact updated for %d "
            "customer(s)",
            deleted,
            keep_days,
            updated,
        )
        return JobResult(RunStatus.OK, {**tally.summary(), "deleted": deleted, "contacts": updated})

    def _refused(self, server: MailServer) -> None:
        last = self._refusal
        backoff = min(last.backoff * 2, _LOGIN_BACKOFF_CAP) if last else _LOGIN_BACKOFF
        self._refusal = _Refusal(server.fingerprint, time.monotonic() + backoff, backoff)


def _failed(ctx: JobContext, exc: ImapError, tally: "_Tally") -> JobResult:
    ctx.log.error("failed: %s", exc)
    summary = {**tally.summary(), "error": str(exc)}
    if exc.hint is not None:
        ctx.log.error("hint: %s", exc.hint.en)
        ctx.log.error("hint_zh: %s", exc.hint.zh)
        summary["hint"] = {"zh": exc.hint.zh, "en": exc.hint.en}
    return JobResult(RunStatus.FAILED, summary)


@dataclass
class _Run:
    ctx: JobContext
    client: ImapClient
    server: MailServer
    since: date
    tally: _Tally

    async def sync(self) -> None:
        states = await messages.folder_states(self.ctx.pool, self.server.account)
        present = []
        for folder in await self.client.folders():
            if not folder.selectable:
                continue
            present.append(folder.wire)
            why = excluded(folder, self.ctx.config.mailbox)
            try:
                if why:
                    self.ctx.log.info("folder=%s not synced: %s", folder.name, why)
                    await self.count_excluded(folder)
                    continue
                self.tally.counts["folders"] += 1
                await self.sync_throttled(folder, states.get(folder.wire))
            except ImapError as exc:
                if exc.lost:
                    raise
                if is_unsafe_login(str(exc)):
                    raise ImapError(str(exc), hint=UNSAFE_LOGIN_HINT) from None
                # One failing folder is skipped; the others still sync.
                self.ctx.log.error("folder=%s error=%s", folder.name, exc)
                self.tally.errors.append(f"{folder.name}: {exc}")
        gone = await mail_ledger.forget_folders_except(self.ctx.pool, self.server.account, present)
        if gone:
            self.ctx.log.info("%d folder(s) no longer on the server left the ledger", gone)

    async def count_excluded(self, folder: Folder) -> None:
        """An excluded folder is in the ledger too: its mails are skipped, not missing."""
        opened = await self.client.examine(folder)
        uids = await self.client.uid_search("SINCE", search_date(self.since))
        ledger = mail_ledger.Ledger(
            folder.name,
            opened.uidvalidity,
            max(opened.uidnext - 1, 0),
            len(uids),
            {UidOutcome.EXCLUDED: len(uids)},
        )
        await mail_ledger.save_ledger(self.ctx.pool, self.server.account, folder.wire, ledger, [])

    async def sync_throttled(self, folder: Folder, known: FolderState | None) -> None:
        """A server that says "later" gets its pauses; what was stored before stays stored."""
        for attempt in range(_THROTTLE_TRIES):
            try:
                await self.sync_folder(folder, known)
                return
            except ImapError as exc:
                if not exc.throttled or attempt + 1 == _THROTTLE_TRIES:
                    raise
                pause = THROTTLE_PAUSE * 2**attempt
                self.ctx.log.warning(
                    "folder=%s throttled: %s; trying again in %.0f s", folder.name, exc, pause
                )
                await asyncio.sleep(pause)
                known = (await messages.folder_states(self.ctx.pool, self.server.account)).get(
                    folder.wire
                )

    async def sync_folder(self, folder: Folder, known: FolderState | None) -> None:
        """Every mail that arrived within the window is accounted for: those without an
        outcome yet (new, or missed by an earlier run) are fetched; those whose Date: is older
        than the window are skipped (issue 16 item 6; SENTSINCE is not used: Dovecot's
        leaves out mails without a Date:, which we date by their arrival)."""
        opened = await self.client.examine(folder)
        uidvalidity = opened.uidvalidity or (await self.client.status(folder)).uidvalidity
        if known is not None and known.uidvalidity not in (0, uidvalidity):
            self.ctx.log.warning("folder=%s UIDVALIDITY changed: rescanning", folder.name)
        since = search_date(self.since)
        arrived = await self.client.uid_search("SINCE", since)
        pool, account = self.ctx.pool, self.server.account
        done = await mail_ledger.accounted(pool, account, folder.wire, uidvalidity)
        uids = [uid for uid in arrived if uid not in done]
        newest = max([opened.uidnext - 1, *arrived, known.last_uid if known else 0])
        found: Counter[str] = Counter()
        batches = [uids[start : start + BATCH] for start in range(0, len(uids), BATCH)]
        # The next batch is fetched and parsed while this one is stored: the round trips and
        # the parsing thread overlap the database's work.
        ahead: asyncio.Future[list[_Parsed]] | None = None
        try:
            for index, batch in enumerate(batches):
                parsed = await (ahead or self._fetch_parsed(batch))
                ahead = None
                if index + 1 < len(batches):
                    ahead = asyncio.ensure_future(self._fetch_parsed(batches[index + 1]))
                await self._store(folder, FolderState(uidvalidity, max(batch)), parsed, found)
        finally:
            if ahead is not None:
                # Let it finish (it has a deadline): the connection serves the next folder.
                await asyncio.gather(ahead, return_exceptions=True)
        done = await mail_ledger.accounted(pool, account, folder.wire, uidvalidity)
        outcomes = Counter(UidOutcome(done[uid]) for uid in arrived if uid in done)
        ledger = mail_ledger.Ledger(folder.name, uidvalidity, newest, len(arrived), dict(outcomes))
        await mail_ledger.save_ledger(pool, account, folder.wire, ledger, arrived)
        found["missing"] = ledger.missing
        self.tally.counts.update(found)
        self.ctx.log.info(
            "folder=%s new=%d duplicate=%d bounces=%d older=%d skipped=%d on_server=%d missing=%d",
            folder.name,
            found["new"],
            found["duplicate"],
            found["bounces"],
            found["older"],
            found["skipped"],
            ledger.on_server,
            ledger.missing,
        )

    async def _fetch_parsed(self, batch: list[int]) -> list[_Parsed]:
        fetched = await self.client.fetch(batch)
        return await asyncio.to_thread(_parse_batch, fetched, self.ctx.config.mailbox)

    async def _store(
        self,
        folder: Folder,
        position: FolderState,
        parsed: list[_Parsed],
        found: Counter[str],
    ) -> None:
        records = []
        skipped = []
        window = datetime.combine(self.since, dt_time())
        for item in parsed:
            if item.problem:
                self.ctx.log.warning(
                    "folder=%s uid=%d damaged: %s", folder.name, item.uid, item.problem
                )
            if item.record is None:
                found["skipped"] += 1
                skipped.append((item.uid, UidOutcome.UNREADABLE))
            elif item.record.date < window:
                found["older"] += 1
                skipped.append((item.uid, UidOutcome.OLDER))
            else:
                record = item.record
                if folder.role in NOT_EVIDENCE:
                    record = replace(record, proves="")
                records.append((item.uid, record))
                found["bounces"] += item.bounce
        saved = await messages.save_batch(
            self.ctx.pool, self.server.account, folder.wire, position, records, skipped
        )
        found["new"] += saved.new
        found["duplicate"] += saved.duplicate
        found["invalidated"] += saved.invalidated


def mail_server(values: dict[str, str]) -> MailServer | None:
    host = settings.text(values, "mail_host")
    user = settings.text(values, "mail_username")
    if not host or not user:
        return None
    return MailServer(
        host, settings.number(values, "mail_port"), user, settings.text(values, "mail_password")
    )
