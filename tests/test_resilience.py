"""The daemon under load and faults, with real servers only: it keeps serving while big jobs
run, rides out its database restarting, loses nothing when killed, and stays small with big
inputs. Timings are printed by tests/bench/soak.py; here only errors and outcomes count."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import aiomysql
import pytest

from mycrmd.config import DbConfig
from mycrmd.store.pool import Pool, execute, fetch_value
from tests.support import mail_samples as samples
from tests.support.certs import ServerCertificate
from tests.support.daemon_process import Daemon, DaemonFactory, db_toml, free_port, mariadbd_pids
from tests.support.dovecot import Dovecot, MailUser
from tests.support.file_servers import FtpServer
from tests.support.traffic import Traffic
from tests.support.waiting import eventually
from tests.support.workload import (
    api,
    csv_file,
    fill_folders,
    finished_runs,
    mailbox_toml,
    mails,
    point_at,
    runs,
    upload,
)


def quiet_log(daemon: Daemon) -> str:
    """The daemon's log without its access lines."""
    return "\n".join(line for line in daemon.log().splitlines() if "aiohttp.access" not in line)


def slow_callbacks(daemon: Daemon) -> list[str]:
    """asyncio's debug mode logs every callback that held the loop over 100 ms."""
    return [line for line in daemon.log().splitlines() if "Executing" in line and " took " in line]


async def test_serving_goes_on_while_a_big_sync_and_an_import_run(
    daemons: DaemonFactory,
    db_config: DbConfig,
    pool: Pool,
    dovecot: Dovecot,
    mail_user: MailUser,
    certificate: ServerCertificate,
    tmp_path: Path,
) -> None:
    await fill_folders(dovecot, mail_user, 10_000)
    big = csv_file(tmp_path / "customers.csv", 100_000)
    toml = db_toml(db_config) + mailbox_toml(dovecot, certificate)
    daemon = await daemons.start(toml, env={"PYTHONASYNCIODEBUG": "1"})
    await point_at(daemon, dovecot, mail_user)
    async with Traffic(daemon.url, clients=20) as traffic:
        await asyncio.sleep(1)
        daemon.send(signal.SIGUSR1)
        result = await upload(daemon, big)

        async def synced() -> bool:
            return any(run["summary"].get("new") for run in await finished_runs(daemon, "fetch"))

        await eventually(synced, within=300, describe=lambda: quiet_log(daemon))
    assert result["inserted"] == 100_000 and result["rejected"] == []
    assert traffic.failures() == [], traffic.failures()[:5]
    assert traffic.served() > 200
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 10_000
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 100_000
    # Timings are the soak script's to print, not a test's to assert: on two busy cores the
    # OS and the GIL can stretch any callback. They are shown with the run's output.
    print("\n".join(["slow callbacks:", *slow_callbacks(daemon)]))


@contextlib.asynccontextmanager
async def embedded_db(daemon: Daemon) -> AsyncIterator[aiomysql.Connection]:
    """A connection to the daemon's own embedded server, for checking what it stored."""
    socket = daemon.state_dir / "mariadb" / "mariadb.sock"
    conn = await aiomysql.connect(unix_socket=str(socket), user="root", db="mycrm")
    try:
        yield conn
    finally:
        conn.close()


async def value(daemon: Daemon, sql: str) -> int:
    async with embedded_db(daemon) as conn, conn.cursor() as cur:
        await cur.execute(sql)
        (result,) = await cur.fetchone()
        return int(result)


async def stored_messages(daemon: Daemon) -> int:
    return (await api(daemon, "/api/messages?type=receive&rows=0"))["total"]


async def assert_messages_complete(daemon: Daemon, expected: int) -> None:
    """Every message once, each with its addresses: no half-stored message."""
    assert await value(daemon, "SELECT COUNT(*) FROM messages") == expected
    assert await value(daemon, "SELECT COUNT(DISTINCT subject) FROM messages") == expected
    orphans = "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM msg_addrs a WHERE a.msg_id = m.id)"  # noqa: E501
    assert await value(daemon, orphans) == 0


async def until_fetched(daemon: Daemon, after: int = 0) -> dict:
    """The first fetch run with an id above `after` that ended ok."""

    async def done() -> dict | None:
        return next(
            (
                r
                for r in await finished_runs(daemon, "fetch")
                if r["id"] > after and r["status"] == "ok"
            ),
            None,
        )

    found: list[dict] = []

    async def check() -> bool:
        run = await done()
        if run:
            found.append(run)
        return run is not None

    await eventually(check, within=120, describe=lambda: quiet_log(daemon))
    return found[0]


async def test_the_database_restarting_gives_503s_then_everything_recovers(
    daemons: DaemonFactory, dovecot: Dovecot, mail_user: MailUser, certificate: ServerCertificate
) -> None:
    await dovecot.deliver(mail_user, "INBOX", mails(8000))
    daemon = await daemons.start(mailbox_toml(dovecot, certificate))
    await point_at(daemon, dovecot, mail_user)
    async with Traffic(daemon.url, clients=5) as traffic:
        daemon.send(signal.SIGUSR1)
        await eventually(lambda: stored_messages(daemon), within=60)
        (old,) = mariadbd_pids(daemon.datadir)
        os.kill(old, signal.SIGKILL)  # a crash: InnoDB recovers on the restart
        killed = time.monotonic()

        async def answering() -> bool:
            with contextlib.suppress(OSError, aiomysql.Error):
                return await value(daemon, "SELECT 1") == 1
            return False

        await eventually(answering, within=60, describe=lambda: quiet_log(daemon))
        back = time.monotonic()
        await asyncio.sleep(6)
    gap = traffic.failures()
    assert gap, "requests in the gap were answered 503"
    assert {answer.status for answer in gap} == {503}, gap[:5]
    assert all(killed <= answer.at <= back + 5 for answer in gap), "recovered within 5 s"
    assert traffic.failures(since=back + 5) == []
    fetch_runs = await finished_runs(daemon, "fetch")
    assert "failed" in {run["status"] for run in fetch_runs}, "the interrupted run failed"
    daemon.send(signal.SIGUSR1)
    await until_fetched(daemon, after=max(run["id"] for run in fetch_runs))
    await assert_messages_complete(daemon, 8000)
    assert len(mariadbd_pids(daemon.datadir)) == 1


async def kill_daemon(daemon: Daemon) -> None:
    """kill -9; its embedded server must follow it rather than linger."""
    daemon.send(signal.SIGKILL)
    await daemon.proc.wait()
    await eventually(lambda: mariadbd_pids(daemon.datadir) == [], within=30)


async def test_killed_mid_fetch_nothing_is_half_stored_and_the_next_run_finishes(
    daemons: DaemonFactory, dovecot: Dovecot, mail_user: MailUser, certificate: ServerCertificate
) -> None:
    await dovecot.deliver(mail_user, "INBOX", mails(8000))
    toml = mailbox_toml(dovecot, certificate)
    daemon = await daemons.start(toml)
    await point_at(daemon, dovecot, mail_user)
    daemon.send(signal.SIGUSR1)
    await eventually(lambda: stored_messages(daemon), within=60)
    await kill_daemon(daemon)
    again = await daemons.start(toml, state_dir=daemon.state_dir)
    again.send(signal.SIGUSR1)
    await until_fetched(again)
    await assert_messages_complete(again, 8000)
    interrupted = [r for r in await runs(again, "fetch") if r["status"] not in ("ok", "skipped")]
    assert interrupted and all(r["finished_at"] for r in interrupted), "closed, not running"
    assert len(mariadbd_pids(again.datadir)) == 1


@pytest.fixture
async def slow_ftp(tmp_path: Path) -> AsyncIterator[FtpServer]:
    server = FtpServer(tmp_path / "ftp-root", read_speed_limit=400_000)
    await server.start()
    yield server
    await server.stop()


async def test_killed_mid_import_and_mid_backup_nothing_is_half_done(
    daemons: DaemonFactory, slow_ftp: FtpServer, tmp_path: Path
) -> None:
    backup = slow_ftp.backup_toml("/b/mycrm-%Y%m%d.zip")
    daemon = await daemons.start(backup)
    big = csv_file(tmp_path / "customers.csv", 100_000, comment="x" * 40)
    form = aiohttp.FormData()
    form.add_field("csv_file", big.open("rb"), filename=big.name, content_type="text/csv")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{daemon.url}/api/import?progress=1", data=form) as response,
    ):
        assert b"progress" in await response.content.readline()
        await kill_daemon(daemon)
    again = await daemons.start(backup, state_dir=daemon.state_dir)
    assert await value(again, "SELECT COUNT(*) FROM customers") == 0, "all or nothing"
    assert (await upload(again, big))["inserted"] == 100_000
    again.send(signal.SIGUSR2)
    remote = slow_ftp.root / "b"
    await eventually(lambda: any(remote.glob("*")), within=60, describe=lambda: quiet_log(again))
    await kill_daemon(again)
    final = remote / f"mycrm-{time.strftime('%Y%m%d')}.zip"
    assert not final.exists(), "no truncated file under the backup's name"
    third = await daemons.start(backup, state_dir=daemon.state_dir)
    third.send(signal.SIGUSR2)

    async def backed_up() -> bool:
        return any(r["status"] == "ok" for r in await finished_runs(third, "backup"))

    await eventually(backed_up, within=120, describe=lambda: quiet_log(third))
    with zipfile.ZipFile(final) as archive:
        assert archive.testzip() is None
    assert await value(third, "SELECT COUNT(*) FROM customers") == 100_000


async def test_big_inputs_keep_the_daemon_small(
    daemons: DaemonFactory,
    db_config: DbConfig,
    pool: Pool,
    dovecot: Dovecot,
    mail_user: MailUser,
    certificate: ServerCertificate,
    tmp_path: Path,
) -> None:
    await execute(
        pool,
        "INSERT INTO customers (email, name, company) "
        "SELECT CONCAT('m', seq, '@million.example'), CONCAT('客户', seq), 'co' "
        "FROM seq_1_to_1000000",
    )
    huge = huge_mail(100 * 2**20)
    await dovecot.deliver(mail_user, "INBOX", [huge])
    big = csv_file(tmp_path / "big.csv", 400_000, comment="备注" * 80)
    assert big.stat().st_size > 200 * 2**20
    port = free_port()
    web = f"[web]\nport = {port}\nmax_upload_mb = 300\n"
    daemon = await daemons.start(
        db_toml(db_config) + mailbox_toml(dovecot, certificate) + web, port=port
    )
    timeout = aiohttp.ClientTimeout(total=600)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(f"{daemon.url}/export/customers.csv?type=all") as response,
    ):
        lines = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            lines += chunk.count(b"\n")
    assert lines >= 1_000_001
    after_export = daemon.memory_mb("VmHWM")
    assert (await upload(daemon, big))["inserted"] == 400_000
    after_import = daemon.memory_mb("VmHWM")
    await point_at(daemon, dovecot, mail_user)
    daemon.send(signal.SIGUSR1)
    await until_fetched(daemon)
    assert await fetch_value(pool, "SELECT COUNT(*) FROM messages") == 1
    after_mail = daemon.memory_mb("VmHWM")
    print(
        f"peak RSS MB: export {after_export:.0f}, import {after_import:.0f}, mail {after_mail:.0f}"
    )
    assert after_mail < 300, (after_export, after_import, after_mail)


def huge_mail(size: int) -> bytes:
    chunk = (b"A" * 76 + b"\r\n") * 13_000
    body = b"".join([chunk] * (size // len(chunk) + 1))
    head = (
        samples.plain(
            message_id="huge@buyer.example",
            sender="Big <big@buyer.example>",
            to=samples.ME,
            subject="catalogue",
        )
        .split(b"\r\n\r\n")[0]
        .replace(b"Content-Type: text/plain; charset=utf-8", b"")
    )
    boundary = b"XYZ-boundary"
    return (
        head
        + b"Content-Type: multipart/mixed; boundary="
        + boundary
        + b"\r\n\r\n"
        + b"--"
        + boundary
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
        + b"--"
        + boundary
        + b"\r\nContent-Type: application/pdf\r\n"
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="cat.pdf"\r\n\r\n'
        + body
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB filesystem (tmpfs): a backup's zip does not fit."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_a_full_disk_fails_the_backup_and_the_daemon_keeps_serving(
    daemons: DaemonFactory, db_config: DbConfig, pool: Pool, small_disk: Path
) -> None:
    await execute(
        pool,
        "INSERT INTO customers (email, name, comment) "
        "SELECT CONCAT('d', seq, '@disk.example'), MD5(seq), REPEAT(MD5(seq), 8) "
        "FROM seq_1_to_100000",
    )
    toml = db_toml(db_config) + f'[backup]\nlocal_file = "{small_disk}/mycrm-%Y%m%d.zip"\n'
    daemon = await daemons.start(toml)
    async with Traffic(daemon.url, clients=3) as traffic:
        daemon.send(signal.SIGUSR2)

        async def failed() -> bool:
            return any(r["status"] == "failed" for r in await finished_runs(daemon, "backup"))

        await eventually(failed, within=120, describe=lambda: quiet_log(daemon))
    (run,) = await finished_runs(daemon, "backup")
    assert "No space left on device" in json.dumps(run["summary"]), run["summary"]
    assert os.listdir(small_disk) == [], "no half-written zip left behind"
    assert traffic.failures() == [] and traffic.served() > 0
    assert (await api(daemon, "/api/customers?rows=1"))["total"] == 100_000
