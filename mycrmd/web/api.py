"""The JSON API under /api/, and /healthz."""

from datetime import date

from aiohttp import web

from mycrmd.jobs.joblog import tail
from mycrmd.store import jobs as job_store
from mycrmd.store import stats
from mycrmd.store.pool import ping
from mycrmd.text import Text
from mycrmd.web import api_customers, api_messages, api_settings
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.services import SERVICES

LOGS = ("fetch", "verify", "backup")
LOG_LINES = 500
WEEKS = 20


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", show_health)
    api_customers.add_routes(app)
    api_messages.add_routes(app)
    api_settings.add_routes(app)
    app.router.add_get("/api/stats/importance", show_importance_stats)
    app.router.add_get("/api/stats/messages", show_message_stats)
    app.router.add_get("/api/jobs", list_jobs)
    app.router.add_post("/api/jobs/{name}/run", run_job)
    app.router.add_get("/api/logs/{job}", show_log)


async def show_health(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (for monitors and systemd checks)."""
    services = request.app[SERVICES]
    if await ping(services.pool):
        return respond({"status": "ok"})
    return respond({"status": "database_unavailable"}, status=503)


async def show_importance_stats(request: web.Request) -> web.Response:
    """Customers by importance (0-5) and validity (SPEC R-ST1)."""
    return respond({"rows": await stats.customers_by_importance(request.app[SERVICES].pool)})


async def show_message_stats(request: web.Request) -> web.Response:
    """Mails sent and received per week, the last 20 weeks, oldest first (SPEC R-ST1)."""
    weeks = await stats.mails_per_week(request.app[SERVICES].pool, WEEKS, date.today())
    return respond({"weeks": weeks})


async def list_jobs(request: web.Request) -> web.Response:
    """Each job's state now (running, waiting, next due) and its recent runs."""
    services = request.app[SERVICES]
    runs = await job_store.recent_runs(services.pool, limit=50)
    jobs = []
    for status in services.scheduler.status():
        status["runs"] = [run for run in runs if run["job"] == status["name"]][:10]
        jobs.append(status)
    return respond({"jobs": jobs})


async def run_job(request: web.Request) -> web.Response:
    """Run now; a run already going means one more run after it."""
    services = request.app[SERVICES]
    name = request.match_info["name"]
    if name not in services.scheduler.jobs:
        raise ApiError(
            404, "unknown_job", Text(f"没有任务 {name}", f"no job named {name}"), field="name"
        )
    outcome = services.scheduler.trigger(name, "ui")
    return respond({"job": name, "outcome": outcome}, status=202)


async def show_log(request: web.Request) -> web.Response:
    """The last 500 lines of one job's log, newest last. Only the jobs' own logs: no part of
    the request ever becomes a path."""
    job = request.match_info["job"]
    if job not in LOGS:
        raise ApiError(404, "not_found", Text("没有此日志", "no such log"))
    lines = tail(job, request.app[SERVICES].config.log_dir, LOG_LINES)
    return respond({"job": job, "lines": lines})
