"""The database as a zipped SQL dump, and back.

`mariadb-dump` (or `mysqldump`, or `dump_path`) writes a consistent snapshot
(--single-transaction) that is compressed into the zip as it arrives, so memory does not grow
with the database; the zip is written under a temporary name and renamed only when the dump
succeeded, so a failure leaves no half file. Credentials go in an option file readable only by
us, never on a command line where `ps` would show them.
"""

import asyncio
import contextlib
import os
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from mycrmd.config import Config
from mycrmd.system.embedded_db import find_program, socket_path

_CHUNK = 1024 * 1024


class DumpError(Exception):
    """The dump or the restore failed; the message says why."""


@dataclass(frozen=True)
class DumpStats:
    dump_bytes: int
    zip_bytes: int
    seconds: float


def dump_program(config: Config) -> str:
    program = config.dump_path or find_program("mariadb-dump", "mysqldump")
    if not program or not os.access(program, os.X_OK):
        raise DumpError(
            f"dump program {program or 'mariadb-dump'} not found: install mariadb-client "
            "or set dump_path"
        )
    return program


def client_program() -> str:
    program = find_program("mariadb", "mysql")
    if not program:
        raise DumpError("the mariadb client is not installed (apt-get install mariadb-client)")
    return program


@contextlib.contextmanager
def option_file(config: Config) -> Iterator[Path]:
    """A [client] option file with the connection and password, mode 0600, removed after."""
    db = config.db
    lines = ["[client]", f"user={_quoted(db.user)}", f"password={_quoted(db.passwd)}"]
    if db.embedded or db.unix_socket:
        sock = db.unix_socket or str(socket_path(config.state_dir))
        lines.append(f"socket={_quoted(sock)}")
    else:
        lines += [f"host={_quoted(db.host)}", f"port={db.port}", "protocol=TCP"]
    lines.append("default-character-set=utf8mb4")
    config.state_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="client-", suffix=".cnf", dir=config.state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def dump_to_zip(config: Config, target: Path, entry: str) -> DumpStats:
    """Dump config.db into the zip `target` as the single file `entry`."""
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # backups hold everything
    part = target.with_name(target.name + ".part")
    try:
        with option_file(config) as options:
            args = [
                dump_program(config),
                f"--defaults-file={options}",
                "--single-transaction",
                "--routines",
                "--triggers",
                "--hex-blob",
                config.db.db,
            ]
            dumped = await _stream_into_zip(args, part, entry)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    zip_bytes = await asyncio.to_thread(os.path.getsize, target)
    return DumpStats(dumped, zip_bytes, time.monotonic() - started)


async def _stream_into_zip(args: list[str], part: Path, entry: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())
    dumped = 0
    try:
        # 0600: a backup holds every secret in the database, the mail password included.
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
            archive.open(entry, "w", force_zip64=True) as out,
        ):
            while chunk := await proc.stdout.read(_CHUNK):
                # Compression is CPU work: off the event loop, one chunk at a time.
                await asyncio.to_thread(out.write, chunk)
                dumped += len(chunk)
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        # wait() also waits for the pipes to close, and a full, unread stdout never does
        # (a write failing half-way, e.g. a full disk, hung the run here): drain it.
        await asyncio.gather(proc.stdout.read(), proc.wait())
        errors.cancel()
        raise
    message = (await errors).decode(errors="replace").strip()
    if code != 0:
        raise DumpError(f"{Path(args[0]).name} failed ({code}): {message or 'no message'}")
    return dumped


async def load_zip(config: Config, source: Path, database: str) -> None:
    """Feed the SQL file inside `source` to the mariadb client, into `database`."""
    with option_file(config) as options:
        args = [client_program(), f"--defaults-file={options}", f"--database={database}"]
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stderr is not None
        errors = asyncio.create_task(proc.stderr.read())
        try:
            async for chunk in _sql_chunks(source):
                proc.stdin.write(chunk)
                await proc.stdin.drain()
            proc.stdin.close()
            code = await proc.wait()
        except (BrokenPipeError, ConnectionResetError):
            code = await proc.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            errors.cancel()
            raise
    message = (await errors).decode(errors="replace").strip()
    if code != 0:
        raise DumpError(f"restoring {source.name} failed ({code}): {message or 'no message'}")


async def _sql_chunks(source: Path) -> AsyncIterator[bytes]:
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DumpError(f"{source} is not a readable zip file: {exc}") from None
    with archive:
        entries = [name for name in archive.namelist() if name.endswith(".sql")]
        if len(entries) != 1:
            raise DumpError(f"{source} holds {len(entries)} .sql files, expected one")
        with archive.open(entries[0]) as sql:
            while chunk := await asyncio.to_thread(sql.read, _CHUNK):
                yield chunk
