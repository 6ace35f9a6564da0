"""The jobs: their state and recent runs, running one now, and their logs (R-JOB6)."""

from aiohttp import web

from mycrmd.jobs.joblog import tail
from mycrmd.model.jobs import JobName
from mycrmd.model.words import Text
from mycrmd.store import job_runs
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import PathName
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.services import SERVICES

LOG_LINES = 500
JOB = PathName("name", tuple(JobName))
LOG = PathName("job", tuple(JobName))


async def list_jobs(request: web.Request) -> web.Response:
    """Each job's state now (running, waiting, next due) and its recent runs."""
    services = request.app[SERVICES]
    runs = await job_runs.recent_runs(services.pool, limit=50)
    jobs = []
    for status in services.scheduler.status():
        status["runs"] = [run for run in runs if run["job"] == status["name"]][:10]
        jobs.append(status)
    return respond({"jobs": jobs})


async def run_job(request: web.Request) -> web.Response:
    """Run now; a run already going means one more run after it."""
    services = request.app[SERVICES]
    name = request.match_info[JOB.name]
    if name not in services.scheduler.jobs:
        raise ApiError(
            404, "unknown_job", Text(f"没有任务 {name}", f"no job named {name}"), field="name"
        )
    outcome = services.scheduler.trigger(name, "ui")
    return respond({"job": name, "outcome": outcome}, status=202)


async def show_log(request: web.Request) -> web.Response:
    """The last 500 lines of one job's log, newest last. Only the jobs' own logs: no part of
    the request ever becomes a path."""
    job = request.match_info[LOG.name]
    if job not in LOG.choices:
        raise ApiError(404, "not_found", Text("没有此日志", "no such log"))
    lines = tail(job, request.app[SERVICES].config.log_dir, LOG_LINES)
    return respond({"job": job, "lines": lines})


LOG_LINES_SCHEMA = {
    "type": "object",
    "required": ["job", "lines"],
    "properties": {
        "job": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "string"}},
    },
}

ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/jobs",
        list_jobs,
        "Each job's state and recent runs",
        json_answer({"type": "object", "required": ["jobs"]}, "jobs"),
    ),
    Endpoint(
        "POST",
        "/api/jobs/{name}/run",
        run_job,
        "Run a job now",
        json_answer({"type": "object", "required": ["job", "outcome"]}, "started or queued", 202),
        path_params=(JOB,),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/api/logs/{job}",
        show_log,
        f"The last {LOG_LINES} lines of a job's log",
        json_answer(LOG_LINES_SCHEMA, "log lines, newest last"),
        path_params=(LOG,),
        errors=(404,),
    ),
)
