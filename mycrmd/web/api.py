"""The JSON API under /api/ and /healthz: every endpoint, gathered from the modules that
handle them."""

from aiohttp import web

from mycrmd.store.pool import Probe
from mycrmd.web import (
    api_customers,
    api_import,
    api_jobs,
    api_mail,
    api_messages,
    api_settings,
    api_stats,
    exports,
)
from mycrmd.web.jsonout import respond
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.services import SERVICES

PROBE = web.AppKey("health_probe", Probe)


def add_health_probe(app: web.Application) -> None:
    """The health check's own database connection (store/pool.py Probe), closed with the app."""

    async def close(app: web.Application) -> None:
        app[PROBE].close()

    app[PROBE] = Probe(app[SERVICES].pool)
    app.on_cleanup.append(close)


async def show_health(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (for monitors and systemd checks)."""
    if await request.app[PROBE].ping():
        return respond({"status": "ok"})
    return respond({"status": "database_unavailable"}, status=503)


HEALTH = Endpoint(
    "GET",
    "/healthz",
    show_health,
    "Whether the database answers",
    json_answer({"type": "object"}, "healthy"),
    other=(json_answer({"type": "object"}, "the database is unavailable", 503),),
    public=True,
)

ENDPOINTS: tuple[Endpoint, ...] = (
    HEALTH,
    *api_customers.ENDPOINTS,
    *api_messages.ENDPOINTS,
    *api_settings.ENDPOINTS,
    *api_stats.ENDPOINTS,
    *api_jobs.ENDPOINTS,
    *api_mail.ENDPOINTS,
    *api_import.ENDPOINTS,
    *exports.ENDPOINTS,
)
