"""The backup job against the real dump tool and real FTP and SFTP servers on loopback."""

import asyncio
import os
import ssl
import stat
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mycrmd.config import BackupConfig, Config, DbConfig
from mycrmd.jobs import backup as backup_module
from mycrmd.jobs.backup import BackupJob, date_in_name, name_pattern
from mycrmd.jobs.scheduler import Job, JobResult, Scheduler, every
from mycrmd.store.migrate import migrate
from mycrmd.store.pool import Pool, execute, fetch_all, fetch_value
from tests.support.certs import ServerCertificate
from tests.support.daemon_process import db_toml, run_command
from tests.support.file_servers import PASSWORD, USER, FtpServer, SftpServer

NEVER = every(lambda c: timedelta(days=365))
TODAY = datetime.now()
STAMP = TODAY.strftime("%Y%m%d")


@pytest.fixture
async def sftp(tmp_path: Path) -> AsyncIterator[SftpServer]:
    server = SftpServer(tmp_path / "sftp-root")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_module, "RETRY_DELAYS", (0.1, 0.1, 0.1))


async def populate(pool: Pool) -> None:
    """Chinese text, rich-text comments, emoji, binary keys: what must survive byte for byte."""
    await execute(
        pool,
        "INSERT INTO customers (name, email, importance, company, country, comment, "
        "last_contact_date, valid) VALUES "
        "('张三', 'zhang@example.cn', 5, '上海贸易有限公司', '中国', "
        "'<p><b>老客户</b> <span style=\"color: #c00\">重要</span> 🚢</p>', "
        "'2026-10-01 09:30:00', 1), "
        "('O''Brien \"Bob\"', 'bob@example.com', 2, 'Back\\\\slash; Ltd', 'IE', "
        "'<ul><li>line 1</li><li>line\\n2</li></ul>', NULL, 2)",
    )
    await execute(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content, dedupe_key) VALUES "
        "('张三', '2026-10-01 09:30:00', 'receive', '询价 RE: 报价单', "
        "'<p>你好 😀</p>', UNHEX(SHA2('<a@b>', 256)))",
    )
    await execute(pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (1, 'zhang@example.cn')")


async def all_rows(pool: Pool, schema: str) -> dict[str, list[dict]]:
    tables = ["config", "customers", "messages", "msg_addrs", "schema_migrations"]
    return {
        table: await fetch_all(pool, f"SELECT * FROM `{schema}`.`{table}` ORDER BY 1")
        for table in tables
    }


def backup_config(config: Config, tmp_path: Path, **settings: object) -> Config:
    defaults: dict[str, object] = {
        "user": USER,
        "passwd": PASSWORD,
        "local_file": str(tmp_path / "local" / "mycrm-%Y%m%d.zip"),
        "remote_file": "/crm/%Y/mycrm-%Y%m%d.zip",
        "days_saved": 10,
    }
    return replace(config, backup=BackupConfig(**{**defaults, **settings}))  # type: ignore[arg-type]


async def run_backup(pool: Pool, config: Config) -> JobResult:
    scheduler = Scheduler(pool, config, [Job("backup", BackupJob().run, NEVER)])
    result = await scheduler.run_once("backup", "cli")
    assert result is not None
    return result


def backup_log(config: Config) -> str:
    return (config.log_dir / "backup.log").read_text()


def age(path: Path, days: int) -> None:
    old = (TODAY - timedelta(days=days)).timestamp()
    os.utime(path, (old, old))


def test_file_name_patterns_find_the_date() -> None:
    pattern = name_pattern("mycrm-%Y%m%d.zip")
    assert date_in_name(pattern, "mycrm-20261125.zip") == TODAY.replace(2026, 11, 25).date()
    assert date_in_name(pattern, "mycrm-20261125.zip.part") is None
    assert date_in_name(pattern, "mycrm-2026112.zip") is None
    assert date_in_name(pattern, "mycrm-20261345.zip") is None, "no 13th month"
    assert (
        date_in_name(name_pattern("crm_%d.%m.%Y.zip"), "crm_05.01.2026.zip")
        == TODAY.replace(2026, 1, 5).date()
    )
    assert date_in_name(name_pattern("backup.zip"), "backup.zip") is None


async def test_a_local_backup_restores_and_its_credentials_stay_off_the_command_line(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    await populate(pool)
    # A wrapper around the real dump tool records how it was called.
    spy = tmp_path / "dump-spy"
    seen = tmp_path / "seen"
    spy.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {seen}\n'
        f'stat -c %a "${{1#--defaults-file=}}" >> {seen}\n'
        'exec mariadb-dump "$@"\n'
    )
    spy.chmod(0o755)
    cfg = replace(backup_config(config, tmp_path), dump_path=str(spy))
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    local = tmp_path / "local" / f"mycrm-{STAMP}.zip"
    assert result.summary["file"] == str(local)
    tables = await fetch_value(
        pool,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    assert result.summary["verified"] is True and result.summary["tables"] == tables
    with zipfile.ZipFile(local) as archive:
        assert archive.namelist() == [f"mycrm-{STAMP}.sql"]
        sql = archive.read(f"mycrm-{STAMP}.sql").decode()
    assert "上海贸易有限公司" in sql and "CREATE TABLE `customers`" in sql
    args, mode = seen.read_text().splitlines()
    assert "--single-transaction" in args and "--routines" in args and "--triggers" in args
    assert args.startswith("--defaults-file=") and mode == "600"
    assert not list(cfg.state_dir.glob("client-*.cnf")), "the option file is removed"
    assert stat.S_IMODE(local.stat().st_mode) == 0o600, "the backup holds every secret"
    assert stat.S_IMODE(local.parent.stat().st_mode) == 0o700, "so does its folder"
    assert stat.S_IMODE(cfg.log_dir.stat().st_mode) == 0o700, "logs hold customers' addresses"
    assert {stat.S_IMODE(path.stat().st_mode) for path in cfg.log_dir.iterdir()} == {0o600}
    log = backup_log(cfg)
    assert "dump: " in log and f"verify: {tables} tables" in log
    assert "upload: no [backup] host set, keeping the local copy only" in log


async def test_a_password_goes_through_the_option_file_only(
    raw_pool: Pool, config: Config, tmp_path: Path, db_config: DbConfig
) -> None:
    password = "p4ss word\"with'quotes\\"
    await execute(
        raw_pool, "CREATE USER IF NOT EXISTS 'bk'@'localhost' IDENTIFIED BY %s", (password,)
    )
    await execute(raw_pool, f"GRANT ALL ON `{db_config.db}`.* TO 'bk'@'localhost'")
    await execute(raw_pool, f"GRANT ALL ON `{db_config.db}\\_verify\\_%`.* TO 'bk'@'localhost'")
    try:
        await migrate(raw_pool)
        spy = tmp_path / "dump-spy"
        seen = tmp_path / "seen"
        spy.write_text(f'#!/bin/sh\necho "$@" > {seen}\nexec mariadb-dump "$@"\n')
        spy.chmod(0o755)
        cfg = backup_config(config, tmp_path)
        cfg = replace(cfg, dump_path=str(spy), db=replace(cfg.db, user="bk", passwd=password))
        result = await run_backup(raw_pool, cfg)
        assert result.status == "ok", result.summary
        assert password not in seen.read_text() and "bk" not in seen.read_text()
    finally:
        await execute(raw_pool, "DROP USER IF EXISTS 'bk'@'localhost'")


async def test_ftp_upload_creates_folders_and_prunes_by_modification_time(
    pool: Pool, config: Config, tmp_path: Path, ftp: FtpServer
) -> None:
    folder = ftp.root / "crm" / TODAY.strftime("%Y")
    folder.mkdir(parents=True)
    # Over FTP the modification time decides, whatever date the name says.
    old_by_mtime = folder / "mycrm-29990101.zip"
    recent_by_mtime = folder / "mycrm-20000101.zip"
    unrelated = folder / "notes.txt"
    leftover = folder / f"mycrm-{(TODAY - timedelta(days=1)).strftime('%Y%m%d')}.zip.part"
    for path in (old_by_mtime, recent_by_mtime, unrelated, leftover):
        path.write_bytes(b"x")
    age(old_by_mtime, 11)
    age(unrelated, 400)
    cfg = backup_config(config, tmp_path, host="127.0.0.1", port=ftp.port)
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    uploaded = folder / f"mycrm-{STAMP}.zip"
    assert uploaded.read_bytes() == (tmp_path / "local" / f"mycrm-{STAMP}.zip").read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [uploaded.name, recent_by_mtime.name, unrelated.name]
    )
    assert sorted(result.summary["deleted_remote"]) == sorted([old_by_mtime.name, leftover.name])
    assert f"to ftp://127.0.0.1:{ftp.port}/crm/" in backup_log(cfg)


async def test_ftp_without_modification_times_in_listings_falls_back_to_mdtm(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    server = FtpServer(tmp_path / "bare", mlsd_modify=False)
    await server.start()
    try:
        folder = server.root / "crm" / TODAY.strftime("%Y")
        folder.mkdir(parents=True)
        (folder / "mycrm-20000101.zip").write_bytes(b"old")
        age(folder / "mycrm-20000101.zip", 30)
        (folder / "mycrm-20000102.zip").write_bytes(b"recent")
        cfg = backup_config(config, tmp_path, host="127.0.0.1", port=server.port)
        result = await run_backup(pool, cfg)
    finally:
        await server.stop()
    assert result.status == "ok", result.summary
    assert result.summary["deleted_remote"] == ["mycrm-20000101.zip"]
    assert (folder / "mycrm-20000102.zip").exists()


async def test_sftp_with_a_trusted_fingerprint_prunes_by_the_date_in_the_name(
    pool: Pool, config: Config, tmp_path: Path, sftp: SftpServer
) -> None:
    folder = sftp.root / "crm" / TODAY.strftime("%Y")
    folder.mkdir(parents=True)
    old_name = folder / f"mycrm-{(TODAY - timedelta(days=11)).strftime('%Y%m%d')}.zip"
    kept_name = folder / f"mycrm-{(TODAY - timedelta(days=10)).strftime('%Y%m%d')}.zip"
    other = folder / "readme.txt"
    for path in (old_name, kept_name, other):
        path.write_bytes(b"x")
    age(kept_name, 100)  # an old modification time does not matter over SFTP
    age(other, 100)
    cfg = backup_config(
        config, tmp_path, sftp=True, host="127.0.0.1", port=sftp.port, host_key=sftp.fingerprint
    )
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    assert result.summary["deleted_remote"] == [old_name.name]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"mycrm-{STAMP}.zip", kept_name.name, other.name]
    )


async def test_sftp_with_a_known_hosts_file(
    pool: Pool, config: Config, tmp_path: Path, sftp: SftpServer
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sftp.known_hosts_line())
    cfg = backup_config(
        config, tmp_path, sftp=True, host="127.0.0.1", port=sftp.port, known_hosts=str(known)
    )
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    assert (sftp.root / "crm" / TODAY.strftime("%Y") / f"mycrm-{STAMP}.zip").exists()


@pytest.mark.parametrize("trust", ["wrong fingerprint", "wrong known_hosts", "nothing"])
async def test_an_untrusted_sftp_host_key_is_refused_before_the_password_is_sent(
    pool: Pool, config: Config, tmp_path: Path, sftp: SftpServer, trust: str
) -> None:
    other = SftpServer(tmp_path / "other")
    settings: dict[str, object] = {}
    if trust == "wrong fingerprint":
        settings["host_key"] = other.fingerprint
    elif trust == "wrong known_hosts":
        other.port = sftp.port
        known = tmp_path / "known_hosts"
        known.write_text(other.known_hosts_line())
        settings["known_hosts"] = str(known)
    cfg = backup_config(config, tmp_path, sftp=True, host="127.0.0.1", port=sftp.port, **settings)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    message = str(result.summary["error"])
    assert "refusing to upload" in message and "is not trusted" in message
    assert f'set [backup] host_key = "{sftp.fingerprint}"' in message
    assert loop.time() - started < 5, "not retried: retrying would not help"
    assert not list(sftp.root.rglob("*.zip*"))
    assert "retrying" not in backup_log(cfg)


async def test_a_cut_upload_never_leaves_a_file_under_the_final_name(
    pool: Pool, config: Config, tmp_path: Path, sftp: SftpServer
) -> None:
    await execute(pool, "INSERT INTO messages (content) VALUES (%s)", (os.urandom(300_000).hex(),))
    cfg = backup_config(
        config, tmp_path, sftp=True, host="127.0.0.1", port=sftp.port, host_key=sftp.fingerprint
    )
    final = sftp.root / "crm" / TODAY.strftime("%Y") / f"mycrm-{STAMP}.zip"
    sftp.cuts, sftp.cut_after = 4, 64 * 1024
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert "failed after 4 attempts" in str(result.summary["error"])
    assert not final.exists()
    assert backup_log(cfg).count("upload: retrying in") == 3
    # The next run finishes the job and removes the leftover of the cut upload.
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    assert final.read_bytes() == (tmp_path / "local" / f"mycrm-{STAMP}.zip").read_bytes()
    assert [p.name for p in final.parent.iterdir()] == [final.name]


async def test_a_cut_that_heals_is_retried_and_succeeds(
    pool: Pool, config: Config, tmp_path: Path, sftp: SftpServer
) -> None:
    await execute(pool, "INSERT INTO messages (content) VALUES (%s)", (os.urandom(300_000).hex(),))
    cfg = backup_config(
        config, tmp_path, sftp=True, host="127.0.0.1", port=sftp.port, host_key=sftp.fingerprint
    )
    sftp.cuts, sftp.cut_after = 2, 64 * 1024
    result = await run_backup(pool, cfg)
    assert result.status == "ok", result.summary
    assert result.summary["attempts"] == 3


async def test_a_server_that_is_down_fails_the_run_after_three_retries(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    cfg = backup_config(config, tmp_path, host="127.0.0.1", port=9)
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert "failed after 4 attempts" in str(result.summary["error"])
    assert "ConnectionRefusedError" in str(result.summary["error"])
    assert (tmp_path / "local" / f"mycrm-{STAMP}.zip").exists(), "the local copy is kept"


async def test_a_wrong_ftp_password_is_a_clear_failure(
    pool: Pool, config: Config, tmp_path: Path, ftp: FtpServer
) -> None:
    guess = "not-the-pw-8731"
    cfg = backup_config(config, tmp_path, host="127.0.0.1", port=ftp.port, passwd=guess)
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert str(result.summary["error"]).startswith("upload: FTP login refused")
    assert guess not in str(result.summary["error"]) and guess not in backup_log(cfg)


async def test_a_failing_dump_leaves_no_file_and_uploads_nothing(
    pool: Pool, config: Config, tmp_path: Path, ftp: FtpServer
) -> None:
    broken = tmp_path / "broken-dump"
    broken.write_text("#!/bin/sh\necho 'partial output'\necho 'Got error: 2002' >&2\nexit 2\n")
    broken.chmod(0o755)
    cfg = replace(
        backup_config(config, tmp_path, host="127.0.0.1", port=ftp.port), dump_path=str(broken)
    )
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert result.summary["error"] == "dump: broken-dump failed (2): Got error: 2002"
    assert not list((tmp_path / "local").iterdir())
    assert not list(ftp.root.rglob("*"))


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        # Cut off in the middle of a statement: the restore itself fails.
        (
            "awk '/^INSERT INTO `customers`/ {print substr($0, 1, 30); exit} {print}'",
            "verify: the backup does not restore: restoring",
        ),
        # Well-formed SQL missing a table's rows: only counting notices.
        (
            "sed '/^INSERT INTO `msg_addrs`/,/;$/d'",
            "verify: row counts differ: msg_addrs: 0 restored, 1..1 in the source",
        ),
    ],
)
async def test_a_backup_that_does_not_restore_is_a_failed_run_and_is_not_uploaded(
    pool: Pool, config: Config, tmp_path: Path, ftp: FtpServer, damage: str, error: str
) -> None:
    await populate(pool)
    damaging = tmp_path / "damaging-dump"
    damaging.write_text(f'#!/bin/sh\nmariadb-dump "$@" | {damage}\n')
    damaging.chmod(0o755)
    cfg = replace(
        backup_config(config, tmp_path, host="127.0.0.1", port=ftp.port),
        dump_path=str(damaging),
    )
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert str(result.summary["error"]).startswith(error), result.summary["error"]
    assert not list((tmp_path / "local").iterdir()), "a backup that does not restore is removed"
    assert not list(ftp.root.rglob("*.zip"))
    scratch = await fetch_all(
        pool,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%verify%'",
    )
    assert scratch == [], "the scratch database is dropped"


async def test_old_local_copies_are_deleted_by_their_date(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    old = local / f"mycrm-{(TODAY - timedelta(days=11)).strftime('%Y%m%d')}.zip"
    kept = local / f"mycrm-{(TODAY - timedelta(days=3)).strftime('%Y%m%d')}.zip"
    mine = local / "keep-me.zip"
    for path in (old, kept, mine):
        path.write_bytes(b"x")
    age(mine, 100)
    result = await run_backup(pool, backup_config(config, tmp_path))
    assert result.summary["deleted_local"] == [old.name]
    assert sorted(p.name for p in local.iterdir()) == sorted(
        [f"mycrm-{STAMP}.zip", kept.name, mine.name]
    )


async def test_restore_round_trips_chinese_text_and_rich_comments_byte_for_byte(
    pool: Pool, config: Config, tmp_path: Path, db_config: DbConfig
) -> None:
    await populate(pool)
    result = await run_backup(pool, backup_config(config, tmp_path))
    local = Path(str(result.summary["file"]))
    config_file = tmp_path / "mycrmd.toml"
    config_file.write_text(db_toml(db_config))
    into = f"{db_config.db}_copy"
    try:
        code, output = await run_command(config_file, "restore", str(local), "--into", into)
        assert code == 0, output
        assert f"restored {local} into database {into}:" in output
        assert "customers                     2 rows" in output
        assert await all_rows(pool, into) == await all_rows(pool, db_config.db)
        code, output = await run_command(config_file, "restore", str(local), "--into", into)
        assert code == 1
        assert f"database {into} already has tables; add --replace" in output
        code, output = await run_command(
            config_file, "restore", str(local), "--into", into, "--replace"
        )
        assert code == 0, output
    finally:
        await execute(pool, f"DROP DATABASE IF EXISTS `{into}`")


async def test_restore_without_a_target_makes_a_new_database(
    pool: Pool, config: Config, tmp_path: Path, db_config: DbConfig
) -> None:
    result = await run_backup(pool, backup_config(config, tmp_path))
    config_file = tmp_path / "mycrmd.toml"
    config_file.write_text(db_toml(db_config))
    code, output = await run_command(config_file, "restore", str(result.summary["file"]))
    assert code == 0, output
    created = output.split("into database ")[1].split(":")[0]
    assert created.startswith(f"{db_config.db}_restore_")
    await execute(pool, f"DROP DATABASE `{created}`")


async def test_restoring_something_that_is_not_a_backup_is_one_clear_line(
    pool: Pool, tmp_path: Path, db_config: DbConfig
) -> None:
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    config_file = tmp_path / "mycrmd.toml"
    config_file.write_text(db_toml(db_config))
    code, output = await run_command(config_file, "restore", str(bogus), "--into", "x_bogus")
    assert code == 1
    assert output.strip().splitlines()[-1].startswith(f"mycrmd: {bogus} is not a readable zip file")
    await execute(pool, "DROP DATABASE IF EXISTS x_bogus")


async def test_ftps_uploads_over_explicit_tls(
    pool: Pool,
    config: Config,
    tmp_path: Path,
    certificate: ServerCertificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate.cert_file, certificate.key_file)
    server = FtpServer(tmp_path / "ftps-root", tls=tls)
    await server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))  # the client trusts our CA
    try:
        cfg = backup_config(config, tmp_path, host="127.0.0.1", port=server.port, ftps=True)
        result = await run_backup(pool, cfg)
    finally:
        await server.stop()
    assert result.status == "ok", result.summary
    uploaded = server.root / "crm" / TODAY.strftime("%Y") / f"mycrm-{STAMP}.zip"
    assert uploaded.read_bytes() == (tmp_path / "local" / f"mycrm-{STAMP}.zip").read_bytes()


async def test_ftps_against_a_server_without_tls_never_sends_the_password(
    pool: Pool, config: Config, tmp_path: Path, ftp: FtpServer
) -> None:
    cfg = backup_config(config, tmp_path, host="127.0.0.1", port=ftp.port, ftps=True)
    result = await run_backup(pool, cfg)
    assert result.status == "failed"
    assert str(result.summary["error"]).startswith(
        "upload: the FTP server refused AUTH TLS (ftps = true): 'auth' not implemented"
    )
    assert "retrying" not in backup_log(cfg)
