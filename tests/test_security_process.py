"""Security through the installed command and a running daemon: `mycrmd passwd`, the
refusal to listen beyond loopback without a password, secrets that never leak, and the JSON
API fuzzed by schemathesis from its own OpenAPI document."""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
from pathlib import Path

import aiohttp
from yarl import URL

from mycrmd.config import DbConfig, load
from mycrmd.daemon import HEAD_SECONDS
from mycrmd.safety import passwords
from mycrmd.store.pool import Pool, fetch_all
from tests.support.daemon_process import (
    Daemon,
    DaemonFactory,
    db_toml,
    free_port,
    mariadbd_pids,
    mycrmd_binary,
    run_command,
)
from tests.support.dovecot import Dovecot, MailUser
from tests.support.file_servers import PASSWORD as FTP_PASSWORD
from tests.support.file_servers import FtpServer
from tests.support.waiting import eventually

WEB_PASSWORD = "daemon web password"
IMAP_PASSWORD = "imap-Secret-77"
SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")


async def passwd(config_path: Path, stdin: bytes) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        mycrmd_binary(),
        "--config",
        str(config_path),
        "passwd",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(stdin), 30)
    assert proc.returncode is not None
    return proc.returncode, output.decode()


async def test_passwd_writes_only_the_hash_into_a_private_file(tmp_path: Path) -> None:
    config_path = tmp_path / "mycrmd.toml"
    original = '# the shop\n[web]\nport = 8090  # behind nginx\n\n[jobs]\nbackup_at = "04:00"\n'
    config_path.write_text(original)
    config_path.chmod(0o644)
    code, output = await passwd(config_path, b"short\n")
    assert code == 1 and "at least 8" in output and "nothing changed" in output
    assert config_path.read_text() == original and config_path.stat().st_mode & 0o777 == 0o644
    code, output = await passwd(config_path, WEB_PASSWORD.encode() + b"\n")
    assert code == 0, output
    assert WEB_PASSWORD not in output and "reload" in output
    assert config_path.stat().st_mode & 0o777 == 0o600
    text = config_path.read_text()
    assert "# the shop" in text and "port = 8090  # behind nginx" in text, "comments are kept"
    loaded = load(config_path)
    assert loaded.web.port == 8090 and loaded.jobs.backup_at == "04:00"
    assert passwords.verify_password(WEB_PASSWORD, loaded.web.password_hash)
    first_hash = loaded.web.password_hash
    code, _ = await passwd(config_path, b"another password\n")
    assert code == 0
    replaced = load(config_path).web.password_hash
    assert replaced != first_hash and passwords.verify_password("another password", replaced)
    assert config_path.read_text().count("password_hash") == 1


async def test_passwd_edits_mycrms_config_json_too(tmp_path: Path) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"dump_path": "", "backup": {"host": "ftp.example"}}))
    code, output = await passwd(config_path, WEB_PASSWORD.encode() + b"\r\n")
    assert code == 0, output
    data = json.loads(config_path.read_text())
    assert data["backup"] == {"host": "ftp.example"}
    assert passwords.verify_password(WEB_PASSWORD, data["web"]["password_hash"])
    assert config_path.stat().st_mode & 0o777 == 0o600


async def test_a_public_address_without_a_password_is_refused(daemons: DaemonFactory) -> None:
    toml = f'[web]\nhost = "0.0.0.0"\nport = {free_port()}\n'
    daemon = await daemons.start(toml, wait=False)
    assert await asyncio.wait_for(daemon.proc.wait(), 30) != 0
    assert mariadbd_pids(daemon.datadir) == [], "refused before the embedded server starts"
    lines = [line for line in daemon.log().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "refusing to listen on 0.0.0.0 without a password" in lines[0]
    assert "mycrmd passwd" in lines[0]


async def logged_in(daemon: Daemon) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(
        f"{daemon.url}/login", data={"password": WEB_PASSWORD}, allow_redirects=False
    ) as response:
        assert response.status == 302, await response.text()
    return http


async def start_locked(daemons: DaemonFactory, db_config: DbConfig, extra: str = "") -> Daemon:
    """A daemon on the test's database with WEB_PASSWORD set."""
    port = free_port()
    password_hash = passwords.hash_password(WEB_PASSWORD)
    web = f'[web]\nport = {port}\npassword_hash = "{password_hash}"\n'
    return await daemons.start(db_toml(db_config) + extra + web, port=port)


async def test_secrets_never_leave_the_daemon(
    daemons: DaemonFactory,
    db_config: DbConfig,
    pool: Pool,
    ftp: FtpServer,
    dovecot: Dovecot,
    mail_user: MailUser,
) -> None:
    backup = ftp.backup_toml("/b/mycrm-%Y%m%d.zip")
    daemon = await start_locked(daemons, db_config, backup)
    daemon.config_path.chmod(0o644)
    password_hash = load(daemon.config_path).web.password_hash
    secrets = [FTP_PASSWORD, IMAP_PASSWORD, password_hash, password_hash.rsplit("$", 1)[1]]
    assert "readable by every user" in daemon.log(), "the world-readable file is pointed out"
    http = await logged_in(daemon)
    async with http:
        mailbox = {
            "mail_host": "127.0.0.1",
            "mail_port": str(dovecot.ssl_port),
            "mail_username": mail_user.name,
            "mail_password": IMAP_PASSWORD,  # wrong: the fetch run fails on login
        }
        async with http.patch(f"{daemon.url}/api/settings", json=mailbox) as response:
            assert response.status == 200
        for job in ("fetch", "backup"):
            async with http.post(f"{daemon.url}/api/jobs/{job}/run") as response:
                assert response.status == 202, await response.text()

        async def both_finished() -> bool:
            rows = await fetch_all(
                pool, "SELECT job FROM job_runs WHERE finished_at IS NOT NULL AND `trigger` = 'ui'"
            )
            return {row["job"] for row in rows} >= {"fetch", "backup"}

        await eventually(both_finished, within=60, describe=daemon.log)
        seen = []
        for path in (
            "/",
            "/stats",
            "/help",
            "/api/settings",
            "/api/jobs",
            "/api/logs/fetch",
            "/api/logs/backup",
            "/api/logs/verify",
            "/api/openapi.json",
        ):
            async with http.get(f"{daemon.url}{path}") as response:
                assert response.status == 200, path
                seen.append((path, await response.text()))
    runs = await fetch_all(pool, "SELECT job, status, summary FROM job_runs")
    assert {(run["job"], run["status"]) for run in runs} >= {("fetch", "failed"), ("backup", "ok")}
    seen.append(("job_runs", json.dumps(runs, default=str)))
    code, checked = await run_command(daemon.config_path, "check-config")
    assert code == 0
    seen.append(("check-config", checked))
    daemon.send(signal.SIGTERM)
    await daemon.proc.wait()
    seen.append(("daemon log", daemon.log()))
    for log_file in sorted(daemon.state_dir.rglob("*.log")):
        seen.append((str(log_file), log_file.read_text(errors="replace")))
    assert any("fetch.log" in name for name, _ in seen), "the job logs were read"
    for name, text in seen:
        for secret in secrets:
            assert secret not in text, f"{name} shows a secret"


async def test_the_api_holds_to_its_openapi_document_under_fuzzing(
    daemons: DaemonFactory, db_config: DbConfig, pool: Pool, tmp_path: Path
) -> None:
    """No 5xx, every status and content type documented, invalid input refused, session
    required (schemathesis's checks), on requests generated from the document itself."""
    daemon = await start_locked(daemons, db_config)
    http = await logged_in(daemon)
    async with http:
        async with http.get(f"{daemon.url}/api/openapi.json") as response:
            document = await response.json()
        schema = tmp_path / "openapi.json"
        schema.write_text(json.dumps(document))
        session = http.cookie_jar.filter_cookies(URL(daemon.url))["mycrmd_session"].value
    st = shutil.which("st")
    assert st, "schemathesis is not installed (pip install -e '.[test]')"
    proc = await asyncio.create_subprocess_exec(
        st,
        "--config-file",
        str(SCHEMATHESIS_CONFIG),
        "run",
        str(schema),
        "--url",
        daemon.url,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--exclude-path-regex",
        "/api/jobs/.*/run",  # starts real jobs; tested with them
        "--max-examples",
        "25",
        "--max-redirects",
        "0",
        "--workers",
        "2",
        "--seed",
        "20261130",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "MYCRMD_SESSION": session},
        cwd=tmp_path,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 600)
    report = output.decode(errors="replace")
    assert proc.returncode == 0, report
    methods = {"get", "post", "put", "patch", "delete"}
    operations = sum(len(methods & item.keys()) for item in document["paths"].values())
    assert f"Tested: {operations - 1}" in report, report  # all but jobs/run
    assert "unhandled error" not in daemon.log()


async def test_half_sent_requests_neither_starve_the_health_check_nor_flood_the_log(
    daemons: DaemonFactory, db_config: DbConfig, pool: Pool
) -> None:
    """300 slowloris connections against a daemon allowed 256 open files: it keeps fewer
    connections than that, makes room by closing the oldest half-sent one, and closes every
    head not sent within HEAD_SECONDS."""
    daemon = await daemons.start(db_toml(db_config), open_files=256)
    head = f"GET /api/customers HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n".encode()
    connections = []
    for _ in range(300):
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        writer.write(head)
        connections.append((reader, writer))
    await asyncio.sleep(1.0)
    loop = asyncio.get_running_loop()
    latencies = []
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            started = loop.time()
            async with session.get(f"{daemon.url}/healthz", timeout=aiohttp.ClientTimeout(5)) as r:
                assert r.status == 200
            latencies.append(loop.time() - started)
    assert max(latencies) < 1.0, latencies
    await asyncio.sleep(HEAD_SECONDS + 2)
    closed = 0
    for reader, writer in connections:
        with contextlib.suppress(TimeoutError, ConnectionError):
            closed += await asyncio.wait_for(reader.read(), 1) == b""
        writer.close()
    assert closed == len(connections), "every half-sent head was given up on"
    assert daemon.log().count("socket.accept() out of system resource") <= 1
    assert daemon.proc.returncode is None


async def test_a_client_leaving_during_the_login_body_is_no_error_in_the_log(
    daemons: DaemonFactory, db_config: DbConfig, pool: Pool
) -> None:
    daemon = await start_locked(daemons, db_config)
    for reset in (False, True):
        _reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        writer.write(
            f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 100000\r\n\r\npassword=abc".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        if reset:  # RST rather than FIN
            linger = struct.pack("ii", 1, 0)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        writer.close()
    await asyncio.sleep(0.5)
    await (await logged_in(daemon)).close()
    assert "Traceback" not in daemon.log() and " ERROR " not in daemon.log(), daemon.log()
