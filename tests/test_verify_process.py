"""The verify job through the installed command and the daemon: the guard holds across
processes and restarts, the signal triggers it, SIGHUP's new settings apply, SIGTERM ends
its wait cleanly."""

import asyncio
import signal
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from mycrmd.config import DbConfig
from mycrmd.store import config_table
from mycrmd.store.pool import Pool, fetch_all, insert
from tests.support import fake_verify_api as api
from tests.support.daemon_process import DaemonFactory, db_toml, run_command
from tests.support.fake_dns import NXDOMAIN, FakeDns
from tests.support.fake_verify_api import FakeVerifyApi
from tests.support.waiting import eventually


def verify_toml(db_config: DbConfig, api: FakeVerifyApi, dns: FakeDns, per_run: int = 5) -> str:
    return (
        db_toml(db_config)
        + f'[verify]\napi_url = "{api.url}"\nnameserver = "{dns.address}"\nper_run = {per_run}\n'
    )


async def add_customers(pool: Pool, count: int) -> None:
    for n in range(count):
        await insert(pool, "INSERT INTO customers (email) VALUES (%s)", (f"c{n}@example.com",))


async def verify_runs(pool: Pool) -> list[dict]:
    return await fetch_all(
        pool, "SELECT `trigger`, status, summary FROM job_runs WHERE job = 'verify' ORDER BY id"
    )


async def test_run_verify_twice_from_the_command_line_the_second_is_skipped(
    pool: Pool, db_config: DbConfig, verify_api: FakeVerifyApi, fake_dns: FakeDns, tmp_path: Path
) -> None:
    await add_customers(pool, 3)
    config = tmp_path / "mycrmd.toml"
    config.write_text(verify_toml(db_config, verify_api, fake_dns))
    code, output = await run_command(config, "run", "verify")
    assert code == 0, output
    assert "verify: ok\n" in output and "\n  checked: 3\n" in output
    assert "\n  precheck invalid: 0\n" in output and "{" not in output
    assert len(verify_api.asked) == 3
    code, output = await run_command(config, "run", "verify")
    assert code == 0, output
    assert "verify: skipped" in output and "less than 5 minutes" in output
    assert len(verify_api.asked) == 3
    assert [(r["trigger"], r["status"]) for r in await verify_runs(pool)] == [
        ("cli", "ok"),
        ("cli", "skipped"),
    ]


async def test_run_verify_exits_1_when_every_address_errored_or_the_run_failed(
    pool: Pool, db_config: DbConfig, verify_api: FakeVerifyApi, fake_dns: FakeDns, tmp_path: Path
) -> None:
    await add_customers(pool, 2)
    for n in range(2):
        verify_api.replies[f"c{n}@example.com"] = api.server_error
    config = tmp_path / "mycrmd.toml"
    config.write_text(verify_toml(db_config, verify_api, fake_dns))
    code, output = await run_command(config, "run", "verify")
    assert code == 1, output
    assert "verify: ok\n" in output and "\n  errors: 2\n" in output
    assert "every address asked ended in an error" in output
    fake_dns.default = NXDOMAIN
    await config_table.put(pool, {"mail_checked_date": ""})
    code, output = await run_command(config, "run", "verify")
    assert code == 1, output
    assert "verify: failed\n" in output and "\n  error: DNS is not working" in output


async def test_the_daemon_verifies_at_start_keeps_the_guard_over_a_restart_and_obeys_signals(
    pool: Pool,
    db_config: DbConfig,
    verify_api: FakeVerifyApi,
    fake_dns: FakeDns,
    daemons: DaemonFactory,
) -> None:
    await add_customers(pool, 6)
    daemon = await daemons.start(verify_toml(db_config, verify_api, fake_dns, per_run=1))

    async def first_run_done() -> bool:
        return [r["status"] for r in await verify_runs(pool)] == ["ok"]

    await eventually(first_run_done, describe=lambda: verify_runs(pool))
    assert len(verify_api.asked) == 1
    assert await daemon.stop() == 0

    again = await daemons.start(
        verify_toml(db_config, verify_api, fake_dns, per_run=1), state_dir=daemon.state_dir
    )
    await asyncio.sleep(1.5)
    assert len(await verify_runs(pool)) == 1, "ran minutes ago: not due again at start"
    again.send(signal.SIGRTMIN + 1)

    async def skipped() -> bool:
        return [(r["trigger"], r["status"]) for r in await verify_runs(pool)] == [
            ("schedule", "ok"),
            ("signal", "skipped"),
        ]

    await eventually(skipped, describe=lambda: verify_runs(pool))
    assert len(verify_api.asked) == 1, "the guard held over the restart"

    # SIGHUP: per_run 1 -> 2. Two hours later (as the guard sees it), SIGRTMIN+1 runs it.
    again.rewrite_config(verify_toml(db_config, verify_api, fake_dns, per_run=2))
    again.send(signal.SIGHUP)
    await eventually(lambda: "configuration reloaded" in again.log())
    assert "take effect after a restart" not in again.log()
    earlier = datetime.now() - timedelta(hours=2)
    await config_table.put(pool, {"mail_checked_date": earlier.strftime("%Y-%m-%d %H:%M:%S")})
    again.send(signal.SIGRTMIN + 1)
    await eventually(lambda: len(verify_api.asked) == 3)
    runs = await verify_runs(pool)
    assert runs[-1]["trigger"] == "signal"
    assert await again.stop() == 0


async def test_sigterm_ends_the_61_minute_wait_cleanly(
    pool: Pool,
    db_config: DbConfig,
    verify_api: FakeVerifyApi,
    fake_dns: FakeDns,
    daemons: DaemonFactory,
) -> None:
    await add_customers(pool, 1)
    half_hour_ago = datetime.now() - timedelta(minutes=30)
    await config_table.put(pool, {"mail_checked_date": half_hour_ago.strftime("%Y-%m-%d %H:%M:%S")})
    daemon = await daemons.start(verify_toml(db_config, verify_api, fake_dns))
    until = (half_hour_ago + timedelta(minutes=61)).strftime("%H:%M")

    async def waiting() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{daemon.url}/api/jobs") as resp:
            jobs = {job["name"]: job for job in (await resp.json())["jobs"]}
        return jobs["verify"]["state"] == f"waiting until {until}"

    await eventually(waiting)
    loop = asyncio.get_running_loop()
    asked_to_stop = loop.time()
    assert await daemon.stop(signal.SIGTERM) == 0
    assert loop.time() - asked_to_stop < 10
    assert [r["status"] for r in await verify_runs(pool)] == ["interrupted"]
    assert verify_api.asked == []
