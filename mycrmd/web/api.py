"""The JSON API under /api/ and /healthz: every endpoint, gathered from the modules that
handle them."""

from aiohttp import web

from mycrmd.store.pool import ping
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


async def show_health(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (for monitors and systemd checks)."""
    services = request.app[SERVICES]
    if await ping(services.pool):
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
