"""The embedded MariaDB server: initialised on first start, unix socket only, sized for a
million customers, and never outliving the process that started it."""

import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiomysql
import pytest

from mycrmd import cli
from mycrmd.system import embedded_db
from mycrmd.system.embedded_db import EmbeddedServer, EmbeddedServerError
from tests.support.daemon_process import mariadbd_pids
from tests.support.waiting import eventually


@pytest.fixture
def state_dir(work_dir: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix="e-", dir=work_dir))


@pytest.fixture
async def owners() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    started: list[asyncio.subprocess.Process] = []
    yield started
    for proc in started:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def start_owner(
    owners: list[asyncio.subprocess.Process], state_dir: Path, *flags: str
) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.embedded_owner",
        str(state_dir),
        *flags,
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    owners.append(proc)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line == b"ready\n"
    return proc


async def server_variables(server: EmbeddedServer, *names: str) -> dict[str, str]:
    conn = await aiomysql.connect(unix_socket=str(server.socket), user="root")
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES "
                f"WHERE VARIABLE_NAME IN ({', '.join(['%s'] * len(names))})",
                [n.upper() for n in names],
            )
            return {name.lower(): value for name, value in await cur.fetchall()}
    finally:
        conn.close()


async def test_first_start_initialises_a_sized_socket_only_server(state_dir: Path) -> None:
    server = EmbeddedServer(state_dir, buffer_pool_size="192M")
    await server.start()
    try:
        assert (server.datadir / "mysql").is_dir()
        assert oct(server.base.stat().st_mode & 0o777) == "0o700"
        variables = await server_variables(
            server,
            "innodb_buffer_pool_size",
            "skip_networking",
            "character_set_server",
            "max_allowed_packet",
            "tmp_table_size",
            "max_heap_table_size",
        )
        assert variables == {
            "innodb_buffer_pool_size": str(192 * 1024 * 1024),
            "skip_networking": "ON",
            "character_set_server": "utf8mb4",
            "max_allowed_packet": str(64 * 1024 * 1024),
            "tmp_table_size": str(64 * 1024 * 1024),
            "max_heap_table_size": str(64 * 1024 * 1024),
        }
    finally:
        await server.stop()
    assert mariadbd_pids(server.datadir) == []
    await server.start()  # the second start reuses the datadir
    await server.stop()
    assert mariadbd_pids(server.datadir) == []


def test_the_default_buffer_pool_follows_the_machine() -> None:
    size = embedded_db.default_buffer_pool()
    assert size.endswith("M") and 128 <= int(size[:-1]) <= 2048
    total_mib = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    assert int(size[:-1]) == max(128, min(2048, total_mib // 4))


async def test_the_server_dies_with_its_owner_even_on_sigkill(
    state_dir: Path, owners: list[asyncio.subprocess.Process]
) -> None:
    owner = await start_owner(owners, state_dir)
    datadir = state_dir / "mariadb" / "data"
    assert len(mariadbd_pids(datadir)) == 1
    owner.send_signal(signal.SIGKILL)
    await owner.wait()
    await eventually(lambda: not mariadbd_pids(datadir))


async def test_a_stale_server_is_stopped_by_the_next_start(
    state_dir: Path, owners: list[asyncio.subprocess.Process]
) -> None:
    owner = await start_owner(owners, state_dir, "--no-deathsig")
    datadir = state_dir / "mariadb" / "data"
    (stale,) = mariadbd_pids(datadir)
    owner.send_signal(signal.SIGKILL)
    await owner.wait()
    await asyncio.sleep(0.5)
    assert mariadbd_pids(datadir) == [stale], "without the death signal the server stays"
    server = EmbeddedServer(state_dir, buffer_pool_size="64M")
    await server.start()
    try:
        assert server.owned
        (fresh,) = mariadbd_pids(datadir)
        assert fresh != stale
        assert await server_variables(server, "skip_networking")
    finally:
        await server.stop()
    assert mariadbd_pids(datadir) == []


async def test_a_second_process_attaches_to_the_live_owners_server(
    state_dir: Path, owners: list[asyncio.subprocess.Process]
) -> None:
    owner = await start_owner(owners, state_dir)
    datadir = state_dir / "mariadb" / "data"
    (pid,) = mariadbd_pids(datadir)
    one_shot = EmbeddedServer(state_dir, buffer_pool_size="64M")
    await one_shot.start()
    assert not one_shot.owned
    assert await server_variables(one_shot, "skip_networking")
    await one_shot.stop()
    assert mariadbd_pids(datadir) == [pid], "the owner's server keeps running"
    owner.send_signal(signal.SIGTERM)
    await owner.wait()
    await eventually(lambda: not mariadbd_pids(datadir))


async def test_a_crashed_server_is_restarted(state_dir: Path) -> None:
    server = EmbeddedServer(state_dir, buffer_pool_size="64M")
    await server.start()
    try:
        (first,) = mariadbd_pids(server.datadir)
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: mariadbd_pids(server.datadir) not in ([], [first]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:
            try:
                assert await server_variables(server, "skip_networking")
                break
            except aiomysql.OperationalError:
                assert loop.time() < deadline
                await asyncio.sleep(0.1)
    finally:
        await server.stop()
    assert mariadbd_pids(server.datadir) == []


async def test_no_mariadbd_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    monkeypatch.setenv("PATH", str(state_dir))
    monkeypatch.setattr(embedded_db, "_SEARCH_PATH", ())
    with pytest.raises(EmbeddedServerError) as err:
        await EmbeddedServer(state_dir).start()
    assert str(err.value) == (
        "no MariaDB server (mariadbd) found: install it with 'apt-get install mariadb-server' "
        "or set [db] host in the configuration file"
    )


def test_the_command_reports_a_missing_server_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(embedded_db, "_SEARCH_PATH", ())
    config = tmp_path / "c.toml"
    config.write_text(f'[paths]\nstate_dir = "{tmp_path}"\n')
    assert cli.main(["--config", str(config), "serve"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mycrmd: no MariaDB server (mariadbd) found: install it with")


async def test_a_socket_path_too_long_is_refused_clearly(work_dir: Path) -> None:
    deep = work_dir / ("x" * 120)
    with pytest.raises(EmbeddedServerError, match="too long for a unix socket"):
        await EmbeddedServer(deep).start()
