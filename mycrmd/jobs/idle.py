"""IMAP IDLE push (RFC 2177, issue 17): INBOX and the sent folder each watched on a connection
of its own, beside the fetch job's polling. A change the server pushes (EXISTS, EXPUNGE)
triggers the fetch job, so pushed mail is fetched, classified, stored and applied by the same
code as a poll. The IDLE is renewed before the servers' 30 minutes; a lost connection comes
back with backoff and triggers a fetch to catch up; a server without IDLE leaves the polling
alone. The connections, the fetch job's included, stay within [mailbox] max_connections."""

import asyncio
import logging
from typing import cast

from mycrmd.config import Config
from mycrmd.jobs.fetch_mail import MailServer, mail_server
from mycrmd.jobs.scheduler import Scheduler
from mycrmd.mail.imap import Folder, ImapClient, ImapError, LoginRefused, Security
from mycrmd.mail.signin import Credentials, sign_in
from mycrmd.model.folders import FolderRole
from mycrmd.model.jobs import JobName
from mycrmd.store import config_table, mail_ledger
from mycrmd.store.pool import Pool

log = logging.getLogger("mycrmd.idle")

RENEW = 25 * 60.0  # under the 29 minutes RFC 2177 allows
_BACKOFF_FIRST = 1.0
_BACKOFF_CAP = 300.0
_CHANGES = ("EXISTS", "EXPUNGE")
PUSH_TRIGGER = "push"


class _SettingsChanged(Exception):
    """The mailbox settings changed: every connection is made afresh."""


def watched(folders: list[Folder], room: int) -> list[Folder]:
    """INBOX, then the sent folder (by its special-use flag, else its usual name), as many as
    there are connections to spare."""
    inbox = [folder for folder in folders if folder.wire.upper() == "INBOX"]
    sent = [folder for folder in folders if folder.selectable and folder.role is FolderRole.SENT]
    return (inbox[:1] + sent[:1])[: max(room, 0)]


class IdleWatcher:
    def __init__(self, pool: Pool, scheduler: Scheduler, config: Config) -> None:
        self.pool = pool
        self.scheduler = scheduler
        self.config = config
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.config.jobs.idle and self._task is None:
            self._task = asyncio.create_task(self._watch(), name="idle")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def restart(self, config: Config) -> None:
        """SIGHUP or changed mailbox settings: the connections are made afresh."""
        await self.stop()
        self.config = config
        self.start()

    async def _watch(self) -> None:
        """Finds the folders once per login, then watches each on its own connection; when
        the settings change (seen at each renewal) everything starts over."""
        backoff = _BACKOFF_FIRST
        refused = False
        while not refused:
            server = mail_server(await config_table.load(self.pool))
            if server is None:
                await asyncio.sleep(RENEW)
                continue
            try:
                client = await self._connect(server)
                try:
                    folders = await client.folders()
                    idle = "IDLE" in client.capabilities
                finally:
                    await client.logout()
                if not idle:
                    log.warning("server offers no IDLE: polling only")
                    return
                targets = watched(folders, self.config.mailbox.max_connections - 1)
                await mail_ledger.set_push(self.pool, server.account, [f.wire for f in targets])
                log.info("watching %s", ", ".join(folder.name for folder in targets) or "nothing")
                if not targets:
                    return
                backoff = _BACKOFF_FIRST
                async with asyncio.TaskGroup() as group:
                    for folder in targets:
                        group.create_task(self._folder(server, folder))
            except* _SettingsChanged:
                log.info("mailbox settings changed: watching afresh")
            except* LoginRefused as group:
                # Providers lock accounts that keep trying: wait for new settings (restart).
                log.error("idle: %s; not again until the settings change", group.exceptions[0])
                refused = True
            except* ImapError as group:
                exc = group.exceptions[0]
                log.warning("idle: %s; again in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_CAP)

    async def _connect(self, server: MailServer) -> ImapClient:
        mailbox = self.config.mailbox
        security = cast(Security, mailbox.security)
        client = await ImapClient.connect(server.host, server.port, security, mailbox.ca_file)
        try:
            credentials = Credentials(server.user, server.password, mailbox.oauth2_token_command)
            await sign_in(client, server.host, credentials)
        except BaseException:
            client.close()
            raise
        return client

    async def _folder(self, server: MailServer, folder: Folder) -> None:
        """One folder's IDLE for as long as the settings stay; reconnects with backoff and
        catches up by a fetch once back."""
        backoff = _BACKOFF_FIRST
        lost = False
        while True:
            try:
                client = await self._connect(server)
            except ImapError as exc:
                if not exc.lost:
                    raise
                log.warning(
                    "folder=%s idle connect: %s; again in %.0f s", folder.name, exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_CAP)
                lost = True
                continue
            try:
                await client.examine(folder)
                if lost:
                    log.info("folder=%s idle back: catching up", folder.name)
                    self._fetch()
                backoff, lost = _BACKOFF_FIRST, False
                while True:
                    pushed = await client.idle(RENEW)
                    if any(line.split()[-1:] and line.split()[-1] in _CHANGES for line in pushed):
                        log.info("folder=%s pushed: %s", folder.name, "; ".join(pushed))
                        self._fetch()
                    elif not pushed:
                        current = mail_server(await config_table.load(self.pool))
                        if current is None or current.fingerprint != server.fingerprint:
                            raise _SettingsChanged
            except ImapError as exc:
                log.warning("folder=%s idle: %s; again in %.0f s", folder.name, exc, backoff)
                lost = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_CAP)
            finally:
                client.close()

    def _fetch(self) -> None:
        self.scheduler.trigger(JobName.FETCH.value, PUSH_TRIGGER)
