"""The installed `mycrmd serve` as a real process: the embedded default, systemd's notify
protocol, health while the database comes and goes, a clean stop, and no server left behind."""

import asyncio
import logging
import signal
import tempfile
from pathlib import Path

import aiohttp
import aiomysql

from mycrmd.config import DbConfig
from mycrmd.daemon import AcceptFailureFilter
from mycrmd.store.pool import Pool, fetch_all
from mycrmd.system.embedded_db import EmbeddedServer
from tests.support.daemon_process import DaemonFactory, db_toml, mariadbd_pids
from tests.support.waiting import eventually


async def get_status(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status


async def test_serve_on_the_embedded_default_then_stop_on_sigterm(daemons: DaemonFactory) -> None:
    daemon = await daemons.start(notify=True, env={"WATCHDOG_USEC": "400000"})
    assert await get_status(f"{daemon.url}/healthz") == 200
    assert (daemon.datadir / "mysql").is_dir(), "the embedded server was initialised"
    assert len(mariadbd_pids(daemon.datadir)) == 1
    notes = await daemon.read_notifications("WATCHDOG=1")
    assert notes[0] == "READY=1", "READY=1 comes first, once the site listens"
    assert f"serving http://127.0.0.1:{daemon.port}/" in daemon.log()
    assert await daemon.stop(signal.SIGTERM) == 0
    await daemon.read_notifications("STOPPING=1")
    assert mariadbd_pids(daemon.datadir) == []
    assert "Traceback" not in daemon.log()


async def test_sigint_stops_as_gracefully_as_sigterm(daemons: DaemonFactory) -> None:
    daemon = await daemons.start()
    assert await daemon.stop(signal.SIGINT) == 0
    assert mariadbd_pids(daemon.datadir) == []


async def test_after_sigkill_no_server_is_left_and_the_next_start_works(
    daemons: DaemonFactory,
) -> None:
    first = await daemons.start()
    datadir = first.datadir
    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    second = await daemons.start(state_dir=first.state_dir)
    assert await get_status(f"{second.url}/healthz") == 200
    assert len(mariadbd_pids(datadir)) == 1
    assert await second.stop() == 0
    assert mariadbd_pids(datadir) == []


async def test_health_is_503_while_the_database_is_down_and_recovers(
    daemons: DaemonFactory, work_dir: Path
) -> None:
    server = EmbeddedServer(Path(tempfile.mkdtemp(prefix="h-", dir=work_dir)), "64M")
    await server.start()
    conn = await aiomysql.connect(unix_socket=str(server.socket), user="root")
    async with conn.cursor() as cur:
        await cur.execute("CREATE DATABASE health")
    conn.close()
    try:
        daemon = await daemons.start(
            f'[db]\ndb = "health"\nunix_socket = "{server.socket}"\n',
            notify=True,
            env={"WATCHDOG_USEC": "300000"},
        )
        await server.stop()
        assert await get_status(f"{daemon.url}/healthz") == 503
        assert await get_status(f"{daemon.url}/") == 200, "pages that need no data still serve"
        await asyncio.sleep(0.5)
        daemon.notifications.clear()
        await asyncio.sleep(0.5)
        await server.start()
        loop = asyncio.get_running_loop()
        back = loop.time()
        while await get_status(f"{daemon.url}/healthz") != 200:
            assert loop.time() - back < 5, "recovered within 5 s of the database's return"
            await asyncio.sleep(0.1)
        await daemon.read_notifications("WATCHDOG=1")
        assert await daemon.stop() == 0
    finally:
        await server.stop()


async def test_a_missing_database_on_a_configured_server_is_one_clear_line(
    daemons: DaemonFactory, mariadb: EmbeddedServer
) -> None:
    daemon = await daemons.start(
        f'[db]\ndb = "nowhere"\nunix_socket = "{mariadb.socket}"\n', wait=False
    )
    assert await asyncio.wait_for(daemon.proc.wait(), 30) == 1
    assert daemon.log().strip().splitlines()[-1] == (
        "mycrmd: cannot use database 'nowhere': Unknown database 'nowhere'"
    )


async def test_each_job_signal_records_a_run_of_its_job(
    daemons: DaemonFactory, pool: Pool, db_config: DbConfig
) -> None:
    daemon = await daemons.start(db_toml(db_config))

    async def runs_by_signal() -> dict[str, str]:
        rows = await fetch_all(
            pool, "SELECT job, status FROM job_runs WHERE `trigger` = 'signal' ORDER BY id"
        )
        return {row["job"]: row["status"] for row in rows}

    async def started() -> bool:
        rows = await fetch_all(pool, "SELECT job FROM job_runs WHERE finished_at IS NOT NULL")
        return {"fetch", "verify"} <= {row["job"] for row in rows}

    await eventually(started)  # both are due at start; let them finish first
    for signum in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMIN + 1):
        daemon.send(signum)

    async def all_recorded() -> bool:
        recorded = await runs_by_signal()
        finished = {job for job, status in recorded.items() if status != "running"}
        return finished == {"fetch", "backup", "verify"}

    await eventually(all_recorded, within=30, describe=runs_by_signal)
    recorded = await runs_by_signal()
    assert recorded["fetch"] == "skipped", "no IMAP server set: a skipped run, with its reason"
    assert recorded["backup"] == "ok" and recorded["verify"] == "ok"
    assert await daemon.stop() == 0


def test_failed_accepts_are_logged_once_per_interval_with_a_count() -> None:
    accept_filter = AcceptFailureFilter()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    flood = [record("socket.accept() out of system resource\nexception: ...") for _ in range(1000)]
    passed = [item for item in flood if accept_filter.filter(item)]
    assert len(passed) == 1
    assert all(accept_filter.filter(record("Task was destroyed")) for _ in range(3))
    accept_filter._next = 0.0  # the interval is over
    later = record("socket.accept() out of system resource")
    assert accept_filter.filter(later) and "(and 999 more since the last such line)" in later.msg
