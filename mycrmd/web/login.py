"""The login page, logging in and out. Failed logins are logged and slowed per client: after
five in a minute, the next are refused (429) until the oldest is a minute old."""

import asyncio
import logging
import time
from collections import deque
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from mycrmd.safety.passwords import verify_password
from mycrmd.web.forwarded import client_address, client_scheme
from mycrmd.web.pages import page_context
from mycrmd.web.services import SERVICES
from mycrmd.web.sessions import COOKIE, Sessions

log = logging.getLogger("mycrmd.web")

SESSIONS = web.AppKey("sessions", Sessions)
LOGIN_PATH = "/login"
FAILURES = 5
WINDOW = 60.0
_TRACKED_CLIENTS = 10_000  # beyond, the oldest are forgotten: memory stays bounded


class FailedLogins:
    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def wait(self, client: str) -> float:
        """Seconds until this client may try again; 0 when it may now."""
        times = self._times.get(client)
        if not times:
            return 0.0
        now = time.monotonic()
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return times[0] + WINDOW - now if len(times) >= FAILURES else 0.0

    def failed(self, client: str) -> None:
        if client not in self._times and len(self._times) >= _TRACKED_CLIENTS:
            del self._times[next(iter(self._times))]
        self._times.setdefault(client, deque(maxlen=FAILURES)).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        self._times.pop(client, None)


FAILED = web.AppKey("failed_logins", FailedLogins)


def add_routes(app: web.Application) -> None:
    app[SESSIONS] = Sessions(app[SERVICES].config.state_dir)
    app[FAILED] = FailedLogins()
    app.router.add_get(LOGIN_PATH, show_login_page)
    app.router.add_post(LOGIN_PATH, log_in)
    app.router.add_post("/logout", log_out)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (//evil, /\\evil, http:…)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


async def show_login_page(request: web.Request) -> web.StreamResponse:
    if not request.app[SERVICES].config.web.password_hash:
        raise web.HTTPFound("/")
    return await _login_page(request, safe_next(request.query.get("next")))


async def _login_page(
    request: web.Request, target: str, error: str = "", status: int = 200, seconds: str = ""
) -> web.Response:
    """The page, with the error text `error` names (seconds to wait filled in) when given."""
    context: dict[str, Any] = await page_context(request)
    message = context["t"](error).format(seconds=seconds) if error else ""
    context.update(next=target, error=message)
    response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
    if seconds:
        response.headers["Retry-After"] = seconds
    return response


async def log_in(request: web.Request) -> web.StreamResponse:
    config = request.app[SERVICES].config.web
    form = await request.post()
    target = safe_next(str(form.get("next", "")))
    if not config.password_hash:
        raise web.HTTPFound(target)
    client = client_address(request)
    failed = request.app[FAILED]
    wait = failed.wait(client)
    if wait > 0:
        log.warning("login refused: too many failures client=%s", client)
        return await _login_page(request, target, "login.too_many", 429, str(int(wait) + 1))
    password = str(form.get("password", ""))
    if not await asyncio.to_thread(verify_password, password, config.password_hash):
        failed.failed(client)
        log.warning("login failed client=%s", client)
        return await _login_page(request, target, "login.wrong", 401)
    failed.succeeded(client)
    log.info("login client=%s", client)
    response = web.HTTPFound(target)
    lifetime = config.session_days * 86400
    response.set_cookie(
        COOKIE,
        request.app[SESSIONS].issue(config.password_hash, lifetime),
        max_age=lifetime,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=client_scheme(request) == "https",
    )
    raise response


async def log_out(request: web.Request) -> web.StreamResponse:
    password_hash = request.app[SERVICES].config.web.password_hash
    request.app[SESSIONS].revoke(request.cookies.get(COOKIE), password_hash)
    response = web.HTTPFound("/login" if password_hash else "/")
    response.del_cookie(COOKIE, path="/")
    raise response
