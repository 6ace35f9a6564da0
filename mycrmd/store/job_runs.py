"""Job runs (`job_runs`) and the named locks that keep one job from running twice at once,
whichever process starts it."""

import json
from typing import Any

import aiomysql

from mycrmd.model.jobs import RunStatus
from mycrmd.safety import redact
from mycrmd.store.pool import Pool, Row, execute, fetch_all, insert

# Named locks are server-wide, so their name, LEFT(CONCAT('mycrmd.job.', job, '.',
# DATABASE()), 64), keeps two mycrmd instances on one server apart; MariaDB allows 64 characters.


async def try_lock(conn: aiomysql.Connection, job: str) -> bool:
    """Take the job's lock on this connection without waiting; held until released or the
    connection ends."""
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT GET_LOCK(LEFT(CONCAT('mycrmd.job.', %s, '.', DATABASE()), 64), 0)", (job,)
        )
        (got,) = await cur.fetchone()
    return got == 1


async def release_lock(conn: aiomysql.Connection, job: str) -> None:
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT RELEASE_LOCK(LEFT(CONCAT('mycrmd.job.', %s, '.', DATABASE()), 64))", (job,)
        )


async def start_run(pool: Pool, job: str, trigger: str, pid: int) -> int:
    return await insert(
        pool,
        "INSERT INTO job_runs (job, `trigger`, started_at, status, pid) "
        "VALUES (%s, %s, NOW(), %s, %s)",
        (job, trigger, RunStatus.RUNNING.value, pid),
    )


async def finish_run(pool: Pool, run_id: int, status: RunStatus, summary: dict[str, Any]) -> None:
    await execute(
        pool,
        "UPDATE job_runs SET finished_at = NOW(), status = %s, summary = %s WHERE id = %s",
        (
            RunStatus(status).value,
            redact.redact(json.dumps(summary, ensure_ascii=False, default=str)),
            run_id,
        ),
    )


async def record_skipped(pool: Pool, job: str, trigger: str, pid: int, reason: str) -> None:
    await execute(
        pool,
        "INSERT INTO job_runs (job, `trigger`, started_at, finished_at, status, summary, pid) "
        "VALUES (%s, %s, NOW(), NOW(), %s, %s, %s)",
        (
            job,
            trigger,
            RunStatus.SKIPPED.value,
            json.dumps({"reason": reason}, ensure_ascii=False),
            pid,
        ),
    )


async def close_abandoned_runs(pool: Pool, job: str) -> int:
    """Runs left 'running' by a killed process, told apart from a live one by the free lock."""
    return await execute(
        pool,
        "UPDATE job_runs SET status = %s, finished_at = NOW() "
        "WHERE job = %s AND status = %s "
        "AND IS_FREE_LOCK(LEFT(CONCAT('mycrmd.job.', %s, '.', DATABASE()), 64))",
        (RunStatus.INTERRUPTED.value, job, RunStatus.RUNNING.value, job),
    )


async def last_starts(pool: Pool) -> dict[str, Any]:
    rows = await fetch_all(
        pool, "SELECT job, MAX(started_at) AS started_at FROM job_runs GROUP BY job"
    )
    return {row["job"]: row["started_at"] for row in rows}


async def recent_runs(pool: Pool, job: str | None = None, limit: int = 20) -> list[Row]:
    rows = await fetch_all(
        pool,
        "SELECT id, job, `trigger`, started_at, finished_at, status, summary FROM job_runs "
        "WHERE %s IS NULL OR job = %s ORDER BY id DESC LIMIT %s",
        (job, job, limit),
    )
    for row in rows:
        row["summary"] = json.loads(row["summary"]) if row["summary"] else {}
    return rows
