"""Where backups go: an FTP server (aioftp; passive mode, optionally explicit TLS) or an SFTP
server (asyncssh), behind one small interface.

SFTP host keys are always checked (the original disabled the check): against `[backup]
known_hosts`, or the fingerprint in `[backup] host_key`. The check happens during the key
exchange, before the password is sent. An unknown key is refused, and the message names the
key the server offered so the user can decide to trust it.
"""

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Protocol

import aioftp
import asyncssh

from mycrmd.config import BackupConfig

_CHUNK = 256 * 1024
_CONNECT_TIMEOUT = 15.0
_IO_TIMEOUT = 60.0


class RemoteRefused(Exception):
    """The server refused us in a way that retrying will not fix (host key, login)."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    modified: datetime | None  # local time; None when the server does not say


class Remote(Protocol):
    async def make_dirs(self, folder: PurePosixPath) -> None: ...

    async def upload(self, source: Path, target: PurePosixPath) -> None: ...

    async def replace(self, source: PurePosixPath, target: PurePosixPath) -> None: ...

    async def files(self, folder: PurePosixPath) -> list[RemoteFile]: ...

    async def delete(self, path: PurePosixPath) -> None: ...


@contextlib.asynccontextmanager
async def connect(config: BackupConfig) -> AsyncIterator[Remote]:
    opener = _sftp if config.sftp else _ftp
    async with opener(config) as remote:
        yield remote


def describe(config: BackupConfig) -> str:
    """The server as the log names it (no credentials)."""
    return f"{'sftp' if config.sftp else 'ftp'}://{config.host}:{config.port}"


# FTP --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _ftp(config: BackupConfig) -> AsyncIterator[Remote]:
    client = aioftp.Client(
        socket_timeout=_IO_TIMEOUT, connection_timeout=_CONNECT_TIMEOUT, path_timeout=_IO_TIMEOUT
    )
    await client.connect(config.host, config.port)
    try:
        if config.ftps:
            # Explicit TLS before the login, so the password travels encrypted.
            try:
                await client.upgrade_to_tls()
            except aioftp.StatusCodeError as exc:
                reply = " ".join(exc.info).strip()
                raise RemoteRefused(
                    f"the FTP server refused AUTH TLS (ftps = true): {reply}"
                ) from None
        try:
            await client.login(config.user, config.passwd)
        except aioftp.StatusCodeError as exc:
            raise RemoteRefused(f"FTP login refused: {' '.join(exc.info).strip()}") from None
        yield _FtpRemote(client)
    finally:
        client.close()


class _FtpRemote:
    def __init__(self, client: aioftp.Client) -> None:
        self.client = client

    async def make_dirs(self, folder: PurePosixPath) -> None:
        await self.client.make_directory(folder, parents=True)

    async def upload(self, source: Path, target: PurePosixPath) -> None:
        async with self.client.upload_stream(target) as stream:
            with source.open("rb") as fh:
                while chunk := await asyncio.to_thread(fh.read, _CHUNK):
                    await stream.write(chunk)

    async def replace(self, source: PurePosixPath, target: PurePosixPath) -> None:
        try:
            await self.client.rename(source, target)
        except aioftp.StatusCodeError:
            # Some servers refuse to rename over an existing file.
            await self.client.remove_file(target)
            await self.client.rename(source, target)

    async def files(self, folder: PurePosixPath) -> list[RemoteFile]:
        """Names with modification times: MLSD's (or LIST's) "modify", else MDTM."""
        found = []
        for path, info in await self.client.list(folder):
            if info.get("type") != "file":
                continue
            modified = _utc_stamp(str(info.get("modify", "")))
            if modified is None:
                modified = await self._mdtm(folder / path.name)
            found.append(RemoteFile(path.name, modified))
        return found

    async def _mdtm(self, path: PurePosixPath) -> datetime | None:
        try:
            _, info = await self.client.command(f"MDTM {path}", "213")
        except aioftp.StatusCodeError:
            return None
        return _utc_stamp(" ".join(info).strip().split(" ")[-1])

    async def delete(self, path: PurePosixPath) -> None:
        await self.client.remove_file(path)


def _utc_stamp(text: str) -> datetime | None:
    """An FTP time value (RFC 3659: YYYYMMDDHHMMSS[.sss], UTC) in local time."""
    try:
        stamp = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return stamp.astimezone().replace(tzinfo=None)


# SFTP -------------------------------------------------------------------------------------


class _HostKeyCheck(asyncssh.SSHClient):
    """Trusts a host key by its SHA256 fingerprint, and remembers what the server offered."""

    def __init__(self, fingerprint: str) -> None:
        self.expected = fingerprint
        self.offered = ""

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.offered = key.get_fingerprint("sha256")
        return bool(self.expected) and hmac.compare_digest(self.offered, self.expected)


@contextlib.asynccontextmanager
async def _sftp(config: BackupConfig) -> AsyncIterator[Remote]:
    check = _HostKeyCheck(config.host_key)
    if config.known_hosts:
        try:
            known_hosts = asyncssh.read_known_hosts(config.known_hosts)
        except (OSError, ValueError) as exc:
            raise RemoteRefused(f"cannot read [backup] known_hosts: {exc}") from None
    else:
        # An empty list of our own: never ~/.ssh/known_hosts behind the user's back.
        known_hosts = asyncssh.import_known_hosts("")
    try:
        conn = await asyncssh.connect(
            config.host,
            config.port,
            username=config.user,
            password=config.passwd,
            known_hosts=known_hosts,
            client_factory=lambda: check,
            client_keys=None,
            agent_path=None,
            config=[],
            connect_timeout=_CONNECT_TIMEOUT,
        )
    except asyncssh.HostKeyNotVerifiable:
        raise RemoteRefused(_untrusted(config, check.offered)) from None
    except asyncssh.PermissionDenied as exc:
        raise RemoteRefused(f"SFTP login refused: {exc.reason}") from None
    async with conn, conn.start_sftp_client() as sftp:
        yield _SftpRemote(sftp)


def _untrusted(config: BackupConfig, offered: str) -> str:
    where = (
        f"[backup] known_hosts ({config.known_hosts})"
        if config.known_hosts
        else f'[backup] host_key ("{config.host_key}")'
        if config.host_key
        else "no [backup] known_hosts or host_key is set"
    )
    return (
        f"refusing to upload: the SFTP server's host key {offered or '(none)'} is not trusted "
        f'by {where}; if it is the right server, set [backup] host_key = "{offered}"'
    )


class _SftpRemote:
    def __init__(self, sftp: asyncssh.SFTPClient) -> None:
        self.sftp = sftp

    async def make_dirs(self, folder: PurePosixPath) -> None:
        await self.sftp.makedirs(str(folder), exist_ok=True)

    async def upload(self, source: Path, target: PurePosixPath) -> None:
        await self.sftp.put(str(source), str(target))

    async def replace(self, source: PurePosixPath, target: PurePosixPath) -> None:
        try:
            await self.sftp.posix_rename(str(source), str(target))
        except asyncssh.SFTPOpUnsupported:
            # SFTPv3's plain rename will not overwrite.
            if await self.sftp.exists(str(target)):
                await self.sftp.remove(str(target))
            await self.sftp.rename(str(source), str(target))

    async def files(self, folder: PurePosixPath) -> list[RemoteFile]:
        found = []
        for entry in await self.sftp.readdir(str(folder)):
            if entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                continue
            mtime = entry.attrs.mtime
            modified = datetime.fromtimestamp(mtime) if mtime is not None else None
            found.append(RemoteFile(str(entry.filename), modified))
        return found

    async def delete(self, path: PurePosixPath) -> None:
        await self.sftp.remove(str(path))
