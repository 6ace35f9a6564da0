"""The JSON API under /api/, and /healthz."""

from aiohttp import web

from mycrmd.store.pool import ping
from mycrmd.web.services import SERVICES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", show_health)


async def show_health(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (for monitors and systemd checks)."""
    services = request.app[SERVICES]
    if await ping(services.pool):
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database_unavailable"}, status=503)
