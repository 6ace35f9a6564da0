"""A real Dovecot (Debian's dovecot-imapd) for the tests: its own configuration, 127.0.0.1
only, IMAP with STARTTLS and IMAPS with a generated certificate. Each test gets a fresh user,
so mailboxes never leak between tests. Mailboxes are filled over IMAP with the standard
library's imaplib, as any mail client would.
"""

import asyncio
import contextlib
import ctypes
import imaplib
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mycrmd.mail import mutf7
from tests.support.certs import ServerCertificate

# Dovecot re-reads its passwd file when the file's mtime changes, to the second: users written
# within the second of a read would stay unknown. So all users are written before it starts.
_USERS = 300
_libc_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:
    _libc_prctl(1, signal.SIGTERM, 0, 0, 0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class MailUser:
    name: str
    password: str


class Dovecot:
    def __init__(self, root: Path, certificate: ServerCertificate) -> None:
        self.root = root
        self.certificate = certificate
        self.plain_port = _free_port()
        self.ssl_port = _free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self._users = [MailUser(f"u{n}@test.example", secrets.token_hex(8)) for n in range(_USERS)]
        self._handed_out = itertools.count()
        if os.geteuid() == 0:
            # Dovecot will not give mail access to root; its own system users run it.
            self.mail_user, self.login_user = "dovecot", "dovenull"
        else:
            self.mail_user = self.login_user = pwd.getpwuid(os.geteuid()).pw_name

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    def _config(self) -> str:
        entry = pwd.getpwnam(self.mail_user)
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = mycrmd-test-{self.ssl_port}
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{self.certificate.cert_file}
ssl_key = <{self.certificate.key_file}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {entry.pw_uid}
default_internal_user = {self.mail_user}
default_login_user = {self.login_user}
log_path = {self.root}/dovecot.log
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={entry.pw_uid} gid={entry.pw_gid} home={self.root}/home/%u
}}
mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
}}
"""

    async def start(self) -> None:
        binary = shutil.which("dovecot", path=os.environ.get("PATH", "") + ":/usr/sbin")
        assert binary, "dovecot is not installed (apt-get install dovecot-imapd)"
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        entry = pwd.getpwnam(self.mail_user)
        os.chown(self.root / "home", entry.pw_uid, entry.pw_gid)
        self.passwd.write_text(
            "".join(f"{user.name}:{{PLAIN}}{user.password}\n" for user in self._users)
        )
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self.proc = await asyncio.create_subprocess_exec(
            binary,
            "-F",
            "-c",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            start_new_session=True,  # its sessions are its children: kill() takes them all
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.ssl_port)
                writer.close()
                return
            except OSError:
                assert self.proc.returncode is None, (self.root / "dovecot.log").read_text()
                assert loop.time() < deadline, "dovecot did not start"
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()

    def kill(self) -> None:
        """Dovecot gone at once, open sessions included, as when its machine dies."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)

    def add_user(self) -> MailUser:
        """A user with an empty mailbox."""
        return self._users[next(self._handed_out)]

    def folder_path(self, user: MailUser, folder: str) -> Path:
        base = self.root / "home" / user.name / "Maildir"
        return base if folder == "INBOX" else base / mutf7.encode(folder)

    # Mail clients' view -----------------------------------------------------------------

    def _client(self, user: MailUser) -> imaplib.IMAP4:
        context = ssl.create_default_context(cafile=str(self.certificate.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.ssl_port, ssl_context=context)
        client.login(user.name, user.password)
        return client

    async def create(self, user: MailUser, *folders: str) -> None:
        def run() -> None:
            client = self._client(user)
            for folder in folders:
                typ, data = client.create(_quoted(folder))
                assert typ == "OK", data
            client.logout()

        await asyncio.to_thread(run)

    async def delete(self, user: MailUser, folder: str) -> None:
        def run() -> None:
            client = self._client(user)
            typ, data = client.delete(_quoted(folder))
            assert typ == "OK", data
            client.logout()

        await asyncio.to_thread(run)

    async def rename(self, user: MailUser, old: str, new: str) -> None:
        def run() -> None:
            client = self._client(user)
            typ, data = client.rename(_quoted(old), _quoted(new))
            assert typ == "OK", data
            client.logout()

        await asyncio.to_thread(run)

    async def move(self, user: MailUser, folder: str, subject: str, to: str | None) -> None:
        """The mail with this subject leaves the folder: copied to `to` first unless None
        (deleted), then expunged, as a mail client moves or deletes a mail."""

        def run() -> None:
            client = self._client(user)
            client.select(_quoted(folder))
            typ, data = client.uid("SEARCH", "HEADER", "Subject", f'"{subject}"')
            assert typ == "OK" and data[0], data
            uids = data[0].decode().replace(" ", ",")
            if to is not None:
                typ, data = client.uid("COPY", uids, _quoted(to))
                assert typ == "OK", data
            client.uid("STORE", uids, "+FLAGS", "(\\Deleted)")
            client.expunge()
            client.logout()

        await asyncio.to_thread(run)

    async def append(
        self,
        user: MailUser,
        folder: str,
        *mails: bytes,
        flags: str = "",
        arrived: datetime | None = None,
    ) -> None:
        def run() -> None:
            client = self._client(user)
            for mail in mails:
                stamp = imaplib.Time2Internaldate(arrived.astimezone()) if arrived else None
                typ, data = client.append(_quoted(folder), flags or None, stamp, mail)
                assert typ == "OK", data
            client.logout()

        await asyncio.to_thread(run)

    async def deliver(self, user: MailUser, folder: str, mails: Iterable[bytes]) -> int:
        """Many mails at once, written into the folder's Maildir as a local delivery agent
        does (APPEND of ten thousand mails would take minutes); Dovecot indexes them when a
        client next looks. The folder must exist. The number delivered."""
        await self.count(user, folder)  # Dovecot makes the folder's directories, as its user
        entry = pwd.getpwnam(self.mail_user)
        new = self.folder_path(user, folder) / "new"
        stamp = f"{time.time_ns()}P{os.getpid()}"

        def run() -> int:
            count = 0
            for count, mail in enumerate(mails, 1):
                path = new / f"{stamp}.M{count}.mycrmd-test"
                path.write_bytes(mail)
                os.chown(path, entry.pw_uid, entry.pw_gid)
            return count

        return await asyncio.to_thread(run)

    async def flags(self, user: MailUser, folder: str) -> list[bytes]:
        def run() -> list[bytes]:
            client = self._client(user)
            client.select(_quoted(folder), readonly=True)
            typ, data = client.fetch("1:*", "(FLAGS)")
            assert typ == "OK", data
            client.logout()
            return [item for item in data if isinstance(item, bytes)]

        return await asyncio.to_thread(run)

    async def count(self, user: MailUser, folder: str) -> int:
        def run() -> int:
            client = self._client(user)
            typ, data = client.select(_quoted(folder), readonly=True)
            assert typ == "OK", data
            client.logout()
            return int(data[0])

        return await asyncio.to_thread(run)


def _quoted(folder: str) -> str:
    return '"' + mutf7.encode(folder) + '"'
