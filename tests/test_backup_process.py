"""The backup job through the installed command and the daemon (SIGUSR2), on a configured
database and on the embedded default."""

import signal
from datetime import datetime
from pathlib import Path

import aiohttp

from mycrmd.config import DbConfig
from mycrmd.store.pool import Pool, execute
from tests.support.daemon_process import DaemonFactory, db_toml, run_command
from tests.support.file_servers import PASSWORD, FtpServer
from tests.support.waiting import eventually

STAMP = datetime.now().strftime("%Y%m%d")


def backup_toml(ftp: FtpServer) -> str:
    return ftp.backup_toml("/nightly/mycrm-%Y%m%d.zip")


async def test_run_backup_from_the_command_line(
    pool: Pool, db_config: DbConfig, ftp: FtpServer, tmp_path: Path
) -> None:
    await execute(pool, "INSERT INTO customers (name, email) VALUES ('李四', 'li@example.cn')")
    config = tmp_path / "mycrmd.toml"
    config.write_text(
        db_toml(db_config) + backup_toml(ftp) + f'[paths]\nstate_dir = "{tmp_path / "state"}"\n'
    )
    code, output = await run_command(config, "run", "backup")
    assert code == 0, output
    assert "backup: ok\n" in output and "\n  verified: True\n" in output
    assert "{" not in output, "a readable summary, not a Python dict"
    assert (ftp.root / "nightly" / f"mycrm-{STAMP}.zip").is_file()
    assert (tmp_path / "state" / "backup" / f"mycrm-{STAMP}.zip").is_file()
    assert PASSWORD not in output


async def test_sigusr2_backs_up_the_embedded_database(
    daemons: DaemonFactory, ftp: FtpServer
) -> None:
    daemon = await daemons.start(backup_toml(ftp))
    daemon.send(signal.SIGUSR2)

    async def backup_done() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{daemon.url}/api/jobs") as resp:
            jobs = {job["name"]: job for job in (await resp.json())["jobs"]}
        runs = jobs["backup"]["runs"]
        return bool(runs) and runs[0]["status"] == "ok" and runs[0]["trigger"] == "signal"

    await eventually(backup_done, within=30, describe=daemon.log)
    assert (ftp.root / "nightly" / f"mycrm-{STAMP}.zip").is_file()
    assert (daemon.state_dir / "backup" / f"mycrm-{STAMP}.zip").is_file()
    assert await daemon.stop() == 0
