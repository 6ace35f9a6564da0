"""The JSON API under /api/, and /healthz."""

from aiohttp import web

from mycrmd.store import jobs as job_store
from mycrmd.store.pool import ping
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.services import SERVICES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", show_health)
    app.router.add_get("/api/jobs", list_jobs)
    app.router.add_post("/api/jobs/{name}/run", run_job)


async def show_health(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (for monitors and systemd checks)."""
    services = request.app[SERVICES]
    if await ping(services.pool):
        return respond({"status": "ok"})
    return respond({"status": "database_unavailable"}, status=503)


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
        raise ApiError(404, "unknown_job", f"no job named {name!r}", field="name")
    outcome = services.scheduler.trigger(name, "ui")
    return respond({"job": name, "outcome": outcome}, status=202)
