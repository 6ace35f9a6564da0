"""Named jobs on intervals or at a daily time, never two runs of one job at once.

Every trigger (the timer, a signal, the UI's "run now", `mycrmd run JOB`) goes through
`trigger()` or `run_once()`. A trigger while the job runs is coalesced into one more run after
it. Across processes the job holds a MariaDB named lock while it runs; a run that finds the
lock taken is recorded as skipped. Each run is a `job_runs` row and lines in the job's log.
"""

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from mycrmd.config import Config
from mycrmd.jobs.joblog import job_logger
from mycrmd.model.jobs import RunStatus
from mycrmd.safety import redact
from mycrmd.store import job_runs
from mycrmd.store.pool import DatabaseUnavailable, Pool, connection

log = logging.getLogger("mycrmd.scheduler")

_TICK = 1.0
_FINISH_RETRY = 30.0  # how long a finished run keeps trying to record itself while the db is down


@dataclass
class JobResult:
    status: RunStatus = RunStatus.OK
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobContext:
    """What a run gets: the pool, the configuration as of its start, its logger, and a way
    to say what it is doing (shown by /api/jobs, e.g. "waiting until 14:05")."""

    pool: Pool
    config: Config
    log: logging.Logger
    trigger: str
    set_state: Callable[[str], None]


Schedule = Callable[[Config, datetime | None, datetime], datetime]


def every(interval: Callable[[Config], timedelta]) -> Schedule:
    """Due one interval after the last start; at once when the job never ran."""

    def due(config: Config, last_start: datetime | None, booted: datetime) -> datetime:
        return last_start + interval(config) if last_start else booted

    return due


def daily(at: Callable[[Config], str]) -> Schedule:
    """Due at the first HH:MM after the last start (or after boot when it never ran), so a
    machine that was off at that time catches up when it starts."""

    def due(config: Config, last_start: datetime | None, booted: datetime) -> datetime:
        hour, minute = map(int, at(config).split(":"))
        after = last_start or booted
        candidate = after.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return candidate if candidate > after else candidate + timedelta(days=1)

    return due


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[JobContext], Awaitable[JobResult]]
    schedule: Schedule


class Scheduler:
    def __init__(self, pool: Pool, config: Config, jobs: list[Job]) -> None:
        self.pool = pool
        self.config = config
        self.jobs = {job.name: job for job in jobs}
        self._running: dict[str, asyncio.Task[JobResult | None]] = {}
        self._again: dict[str, str] = {}
        self._state: dict[str, str] = {}
        self._last_start: dict[str, datetime] = {}
        self._booted = datetime.now()
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Close runs a killed process left open, learn the last starts, start the timers."""
        for name in self.jobs:
            closed = await job_runs.close_abandoned_runs(self.pool, name)
            if closed:
                log.warning("job=%s marked %d abandoned run(s) interrupted", name, closed)
        starts = await job_runs.last_starts(self.pool)
        self._last_start = {name: starts[name] for name in self.jobs if starts.get(name)}
        self._ticker = asyncio.create_task(self._tick(), name="scheduler")

    def trigger(self, name: str, source: str) -> Literal["started", "queued"]:
        """Start the job now, or once more after the current run. Unknown names: KeyError."""
        if name not in self.jobs:
            raise KeyError(name)
        if self._stopping:
            return "queued"
        if name in self._running:
            self._again[name] = source
            return "queued"
        self._last_start[name] = datetime.now()
        self._running[name] = asyncio.create_task(self._run(name, source), name=f"job-{name}")
        return "started"

    async def run_once(self, name: str, source: str) -> JobResult | None:
        """Run the job in this task and return its result (None when another process holds
        its lock, or the database is down); for `mycrmd run JOB`."""
        return await self._execute(self.jobs[name], source)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the timers and interrupt running jobs; each records itself interrupted."""
        self._stopping = True
        if self._ticker:
            self._ticker.cancel()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)

    def status(self) -> list[dict[str, Any]]:
        """Per job: running or not, what it says it is doing, and when it is next due."""
        return [
            {
                "name": name,
                "running": name in self._running,
                "state": self._state.get(name, ""),
                "next_due": job.schedule(self.config, self._last_start.get(name), self._booted),
            }
            for name, job in self.jobs.items()
        ]

    async def _tick(self) -> None:
        while True:
            now = datetime.now()
            for name, job in self.jobs.items():
                due = job.schedule(self.config, self._last_start.get(name), self._booted)
                if now >= due and name not in self._running:
                    self.trigger(name, "schedule")
            await asyncio.sleep(_TICK)

    async def _run(self, name: str, source: str) -> JobResult | None:
        try:
            return await self._execute(self.jobs[name], source)
        finally:
            del self._running[name]
            again = self._again.pop(name, None)
            if again and not self._stopping:
                self.trigger(name, again)

    async def _execute(self, job: Job, source: str) -> JobResult | None:
        logger = job_logger(job.name, self.config.log_dir)
        try:
            async with connection(self.pool) as lock_conn:
                if not await job_runs.try_lock(lock_conn, job.name):
                    logger.info("skipped: already running in another process")
                    await job_runs.record_skipped(
                        self.pool, job.name, source, os.getpid(), "running in another process"
                    )
                    return None
                try:
                    return await self._record(job, source, logger)
                finally:
                    with contextlib.suppress(Exception):
                        await job_runs.release_lock(lock_conn, job.name)
        except DatabaseUnavailable as exc:
            logger.error("not run: %s", exc)
            return None
        finally:
            self._state.pop(job.name, None)

    async def _record(self, job: Job, source: str, logger: logging.Logger) -> JobResult:
        run_id = await job_runs.start_run(self.pool, job.name, source, os.getpid())
        ctx = JobContext(
            pool=self.pool,
            config=self.config,
            log=logger,
            trigger=source,
            set_state=functools.partial(self._state.__setitem__, job.name),
        )
        logger.info("run started (trigger=%s)", source)
        started = time.monotonic()
        try:
            result = await job.run(ctx)
        except asyncio.CancelledError:
            logger.warning("run interrupted: the daemon is stopping")
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    job_runs.finish_run(
                        self.pool, run_id, RunStatus.INTERRUPTED, {"reason": "stopped"}
                    )
                )
            raise
        except Exception as exc:
            logger.error("run failed: %s", exc, exc_info=not isinstance(exc, DatabaseUnavailable))
            result = JobResult(RunStatus.FAILED, {"error": str(exc)})
        seconds = round(time.monotonic() - started, 2)
        # A server's answer quoted in the summary may echo a secret; `mycrmd run` prints it.
        result.summary = {
            key: redact.redact(value) if isinstance(value, str) else value
            for key, value in result.summary.items()
        }
        result.summary.setdefault("seconds", seconds)
        logger.info("run %s in %.2f s: %s", result.status, seconds, _describe(result.summary))
        await self._finish(run_id, result, logger)
        return result

    async def _finish(self, run_id: int, result: JobResult, logger: logging.Logger) -> None:
        """Record the outcome, waiting a little for a database that is restarting."""
        deadline = time.monotonic() + _FINISH_RETRY
        while True:
            try:
                await job_runs.finish_run(self.pool, run_id, result.status, result.summary)
                return
            except DatabaseUnavailable:
                if time.monotonic() > deadline or self._stopping:
                    logger.error("could not record the run's outcome: database unavailable")
                    return
                await asyncio.sleep(1.0)


def _describe(summary: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in summary.items() if key != "seconds")
