"""The scheduler, proven with test-only jobs: runs recorded and logged, no overlap, coalesced
triggers, a cross-process lock, intervals and daily times, interruption on stop."""

import asyncio
import stat
from datetime import datetime, timedelta
from logging.handlers import RotatingFileHandler
from pathlib import Path

import aiomysql
import pytest

from mycrmd.config import Config
from mycrmd.jobs.joblog import job_logger
from mycrmd.jobs.scheduler import Job, JobContext, JobResult, Scheduler, daily, every
from mycrmd.store.pool import Pool, execute, fetch_all
from tests.support.waiting import eventually

NEVER = every(lambda c: timedelta(days=365))


async def runs(pool: Pool, job: str = "demo") -> list[dict]:
    return await fetch_all(
        pool,
        "SELECT `trigger`, status, summary, finished_at FROM job_runs WHERE job = %s ORDER BY id",
        (job,),
    )


async def test_a_run_is_recorded_in_job_runs_and_written_to_its_log(
    pool: Pool, config: Config
) -> None:
    async def demo(ctx: JobContext) -> JobResult:
        ctx.log.info("hello from the job, trigger=%s", ctx.trigger)
        return JobResult("ok", {"items": 3})

    scheduler = Scheduler(pool, config, [Job("demo", demo, NEVER)])
    result = await scheduler.run_once("demo", "cli")
    assert result is not None and result.status == "ok"
    (row,) = await runs(pool)
    assert row["trigger"] == "cli" and row["status"] == "ok" and row["finished_at"]
    assert '"items": 3' in row["summary"]
    log = (config.log_dir / "demo.log").read_text()
    assert "hello from the job, trigger=cli" in log
    assert "run ok in" in log and "items=3" in log


async def test_triggers_while_running_are_coalesced_into_one_more_run(
    pool: Pool, config: Config
) -> None:
    release = asyncio.Event()
    started = 0

    async def slow(ctx: JobContext) -> JobResult:
        nonlocal started
        started += 1
        await release.wait()
        return JobResult()

    scheduler = Scheduler(pool, config, [Job("demo", slow, NEVER)])
    assert scheduler.trigger("demo", "ui") == "started"
    await eventually(lambda: started == 1)
    assert [scheduler.trigger("demo", "signal") for _ in range(3)] == ["queued"] * 3
    assert started == 1, "never two runs at once"
    release.set()

    async def two_finished() -> bool:
        return [r["status"] for r in await runs(pool)] == ["ok", "ok"]

    await eventually(two_finished)
    assert [r["trigger"] for r in await runs(pool)] == ["ui", "signal"]
    await asyncio.sleep(0.3)
    assert started == 2


async def test_a_failing_job_is_recorded_and_the_next_run_still_happens(
    pool: Pool, config: Config
) -> None:
    calls = 0

    async def flaky(ctx: JobContext) -> JobResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("mail server said no")
        return JobResult("ok", {"n": calls})

    scheduler = Scheduler(pool, config, [Job("demo", flaky, NEVER)])
    first = await scheduler.run_once("demo", "cli")
    assert first is not None and first.status == "failed"
    assert first.summary["error"] == "mail server said no"
    second = await scheduler.run_once("demo", "cli")
    assert second is not None and second.status == "ok"
    assert [r["status"] for r in await runs(pool)] == ["failed", "ok"]
    assert "run failed: mail server said no" in (config.log_dir / "demo.log").read_text()


async def test_a_run_held_by_another_process_is_skipped(
    pool: Pool, config: Config, db_config
) -> None:
    ran = False

    async def demo(ctx: JobContext) -> JobResult:
        nonlocal ran
        ran = True
        return JobResult()

    other = await aiomysql.connect(unix_socket=db_config.unix_socket, user="root", db=db_config.db)
    try:
        async with other.cursor() as cur:
            await cur.execute(
                "SELECT GET_LOCK(LEFT(CONCAT('mycrmd.job.demo.', DATABASE()), 64), 0)"
            )
            assert (await cur.fetchone())[0] == 1
        scheduler = Scheduler(pool, config, [Job("demo", demo, NEVER)])
        assert await scheduler.run_once("demo", "cli") is None
    finally:
        other.close()
    assert not ran
    (row,) = await runs(pool)
    assert row["status"] == "skipped" and "running in another process" in row["summary"]


async def test_an_interval_job_runs_at_start_and_again_after_its_interval(
    pool: Pool, config: Config
) -> None:
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def tick(ctx: JobContext) -> JobResult:
        times.append(loop.time())
        return JobResult()

    scheduler = Scheduler(pool, config, [Job("demo", tick, every(lambda c: timedelta(seconds=1)))])
    await scheduler.start()
    try:
        await eventually(lambda: len(times) >= 2, within=5)
    finally:
        await scheduler.stop()
    assert [r["trigger"] for r in await runs(pool)][:2] == ["schedule", "schedule"]
    assert times[1] - times[0] >= 0.9


async def test_stop_interrupts_a_running_job_and_records_it(pool: Pool, config: Config) -> None:
    async def forever(ctx: JobContext) -> JobResult:
        ctx.set_state("waiting until 14:05")
        await asyncio.Event().wait()
        return JobResult()

    scheduler = Scheduler(pool, config, [Job("demo", forever, NEVER)])
    scheduler.trigger("demo", "ui")
    await eventually(lambda: scheduler.status()[0]["state"] != "")
    (status,) = scheduler.status()
    assert status["running"] and status["state"] == "waiting until 14:05"
    await scheduler.stop(grace=2)
    (row,) = await runs(pool)
    assert row["status"] == "interrupted"
    assert not scheduler.status()[0]["running"]


async def test_runs_left_running_by_a_killed_process_are_closed_at_start(
    pool: Pool, config: Config
) -> None:
    await execute(
        pool,
        "INSERT INTO job_runs (job, `trigger`, started_at, status) "
        "VALUES ('demo', 'schedule', NOW() - INTERVAL 1 HOUR, 'running')",
    )
    scheduler = Scheduler(pool, config, [Job("demo", lambda ctx: asyncio.sleep(0), NEVER)])
    await scheduler.start()
    await scheduler.stop()
    (row,) = await runs(pool)
    assert row["status"] == "interrupted" and row["finished_at"]


@pytest.mark.parametrize(
    ("last_start", "booted", "due"),
    [
        (None, "2026-03-01 10:00", "2026-03-02 03:00"),  # never ran: the next 03:00
        (None, "2026-03-01 02:00", "2026-03-01 03:00"),
        ("2026-03-01 03:00", "2026-03-01 10:00", "2026-03-02 03:00"),
        ("2026-02-27 03:00", "2026-03-01 10:00", "2026-02-28 03:00"),  # missed: catch up now
    ],
)
def test_a_daily_job_is_due_at_the_first_time_after_its_last_run(
    last_start: str | None, booted: str, due: str
) -> None:
    schedule = daily(lambda c: "03:00")
    parse = datetime.fromisoformat
    last = parse(last_start) if last_start else None
    assert schedule(Config(), last, parse(booted)) == parse(due)


def test_unknown_jobs_are_refused(pool: Pool, config: Config) -> None:
    scheduler = Scheduler(pool, config, [])
    with pytest.raises(KeyError):
        scheduler.trigger("nope", "ui")


def test_job_logs_stay_private_across_rotations(tmp_path: Path) -> None:
    log_dir = tmp_path / "fresh" / "log"
    logger = job_logger("fetch", log_dir)
    for n in range(3):
        logger.info("line %d %s", n, "x" * 100)
        handler = logger.handlers[0]
        assert isinstance(handler, RotatingFileHandler)
        handler.doRollover()
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in log_dir.iterdir()}
    assert len(modes) == 4 and set(modes.values()) == {0o600}, modes
