"""Real FTP and SFTP servers, in-process on 127.0.0.1: aioftp's and asyncssh's.

aioftp's server lacks a few things real servers have, added here the way such a server does
them: MDTM (RFC 3659), and explicit TLS (AUTH TLS, RFC 4217). An MLSD without modification
times, and uploads cut half-way, make the clients' fallbacks and failures testable.
"""

import asyncio
import ssl
import time
from pathlib import Path, PurePosixPath

import aioftp
import asyncssh

USER = "backup"
PASSWORD = "s3cret-ftp-pw"


class _FtpServer(aioftp.Server):
    def __init__(self, *args: object, mlsd_modify: bool, tls: ssl.SSLContext | None, **kw: object):
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.mlsd_modify = mlsd_modify
        self.tls = tls
        self.commands_mapping["mdtm"] = self.mdtm
        if tls is not None:
            self.commands_mapping["auth"] = self.auth
            # As real servers do, PBSZ and PROT are accepted right after AUTH, before USER.
            self.commands_mapping["pbsz"] = self.tls_pbsz
            self.commands_mapping["prot"] = self.tls_prot

    def _build_mlsx_facts_from_stats(self, stats):  # type: ignore[no-untyped-def]
        facts = super()._build_mlsx_facts_from_stats(stats)
        if not self.mlsd_modify:
            facts.pop("Modify", None)
        return facts

    async def mdtm(self, connection: aioftp.Connection, rest: str) -> bool:
        real_path, _ = self.get_paths(connection, PurePosixPath(rest))
        if not await connection.path_io.is_file(real_path):
            connection.response("550", "no such file")
        else:
            stats = await connection.path_io.stat(real_path)
            connection.response("213", time.strftime("%Y%m%d%H%M%S", time.gmtime(stats.st_mtime)))
        return True

    async def auth(self, connection: aioftp.Connection, rest: str) -> bool:
        """AUTH TLS: answer in clear, then the control connection continues over TLS; data
        connections opened afterwards are TLS too (PROT P)."""
        assert self.tls is not None
        stream = connection.command_connection
        await stream.write(b"234 AUTH TLS accepted\r\n")
        await stream.start_tls(self.tls, server_hostname=None)
        connection.tls = True
        return True

    async def tls_pbsz(self, connection: aioftp.Connection, rest: str) -> bool:
        connection.response("200", "PBSZ=0")
        return True

    async def tls_prot(self, connection: aioftp.Connection, rest: str) -> bool:
        connection.response(*(("200", "protected") if rest == "P" else ("536", "only P")))
        return True

    async def _start_passive_server(self, connection, handler_callback):  # type: ignore[no-untyped-def]
        if getattr(connection, "tls", False):
            return await asyncio.start_server(
                handler_callback, connection.server_host, 0, ssl=self.tls
            )
        return await super()._start_passive_server(connection, handler_callback)


class FtpServer:
    def __init__(
        self,
        root: Path,
        *,
        mlsd_modify: bool = True,
        tls: ssl.SSLContext | None = None,
        read_speed_limit: int | None = None,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        user = aioftp.User(
            USER,
            PASSWORD,
            base_path=root,
            permissions=[aioftp.Permission("/", readable=True, writable=True)],
        )
        self.server = _FtpServer(
            [user], mlsd_modify=mlsd_modify, tls=tls, read_speed_limit=read_speed_limit
        )
        self.port = 0

    async def start(self) -> None:
        await self.server.start("127.0.0.1", self.port)
        self.port = self.server.address[1]

    async def stop(self) -> None:
        await self.server.close()

    def backup_toml(self, remote_file: str) -> str:
        """A [backup] section uploading to this server."""
        return (
            f'[backup]\nhost = "127.0.0.1"\nport = {self.port}\nuser = "{USER}"\n'
            f'passwd = "{PASSWORD}"\nremote_file = "{remote_file}"\n'
        )


class _Auth(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


class _CuttingSftp(asyncssh.SFTPServer):
    """Drops the connection once `cut_after` bytes of a file were written, `cuts` times."""

    owner: "SftpServer"

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        if self.owner.cuts and offset + len(data) > self.owner.cut_after:
            self.owner.cuts -= 1
            self.channel.get_connection().abort()
        return super().write(file_obj, offset, data)  # type: ignore[return-value]


class SftpServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        self.fingerprint = self.key.get_fingerprint("sha256")
        self.cuts = 0
        self.cut_after = 0
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None

    def known_hosts_line(self) -> str:
        public = self.key.export_public_key().decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"

    async def start(self) -> None:
        def sftp(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
            server = _CuttingSftp(chan, chroot=str(self.root))
            server.owner = self
            return server

        self._server = await asyncssh.create_server(
            _Auth,
            "127.0.0.1",
            self.port,
            server_host_keys=[self.key],
            sftp_factory=sftp,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
