"""The login page, logging in and out. Failed logins are logged and slowed per client: after
five in a minute, the next are refused (429) until the oldest is a minute old. An attempt is
counted before its password is checked and forgiven only when it succeeds, so a burst of
concurrent guesses gets no more checks than guesses made one after another would."""

import asyncio
import logging
import re
import time
from collections import deque
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from mycrmd.safety.passwords import verify_password
from mycrmd.web.forwarded import client_address, client_scheme
from mycrmd.web.pages import page_context
from mycrmd.web.params import read_form
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

    def reserve(self, client: str) -> float:
        """Count an attempt now, before its password is checked: 0 when it may go ahead,
        else the seconds until this client may try again (nothing counted then)."""
        now = time.monotonic()
        times = self._times.get(client)
        if times is None:
            if len(self._times) >= _TRACKED_CLIENTS:
                del self._times[next(iter(self._times))]
            times = self._times[client] = deque(maxlen=FAILURES)
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) >= FAILURES:
            return times[0] + WINDOW - now
        times.append(now)
        return 0.0

    def succeeded(self, client: str) -> None:
        """The right password: the client's attempts are forgiven."""
        self._times.pop(client, None)


FAILED = web.AppKey("failed_logins", FailedLogins)


def add_routes(app: web.Application) -> None:
    app[SESSIONS] = Sessions(app[SERVICES].config.state_dir)
    app[FAILED] = FailedLogins()
    app.router.add_get(LOGIN_PATH, show_login_page)
    app.router.add_post(LOGIN_PATH, log_in)
    app.router.add_post("/logout", log_out)


_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # controls, spaces and backslashes


def safe_next(target: str | None) -> str:
    """Only a path on this site: starting with exactly one `/`, and with no character a
    browser strips or turns into `/` (tabs, line breaks, backslashes), so nothing can end up as
    `//evil.example` or `/\\evil.example` in Location; our own redirects to the login page
    percent-encode everything else, so nothing but ASCII is needed."""
    if not target or not target.isascii() or _UNSAFE.search(target):
        return "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


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
    form = await read_form(request)
    target = safe_next(str(form.get("next", "")))
    if not config.password_hash:
        raise web.HTTPFound(target)
    client = client_address(request)
    failed = request.app[FAILED]
    wait = failed.reserve(client)
    if wait > 0:
        log.warning("login refused: too many failures client=%s", client)
        return await _login_page(request, target, "login.too_many", 429, str(int(wait) + 1))
    password = str(form.get("password", ""))
    if not await asyncio.to_thread(verify_password, password, config.password_hash):
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
