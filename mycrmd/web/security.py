"""What keeps the UI safe to open: strict headers on every response, cross-site mutating
requests refused, and, with a password set, a session required for everything but the health
check, the login page and static files.

Pages get docs/DESIGN.md's Content-Security-Policy — scripts and styles from our own files only,
nothing inline — plus connect-src for the UI's own API calls and frame-src for the message
frame, which `default-src 'none'` would otherwise forbid. A message's content is a separate
document with a policy of its own (pages.show_message_content).
"""

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from mycrmd.model.words import Text
from mycrmd.web.api import HEALTH
from mycrmd.web.errors import ApiError
from mycrmd.web.forwarded import client_address, client_scheme
from mycrmd.web.login import LOGIN_PATH, SESSIONS
from mycrmd.web.services import SERVICES
from mycrmd.web.sessions import COOKIE

log = logging.getLogger("mycrmd.web")

APP_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _decorate(response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", APP_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _decorate(exc)
        raise
    _decorate(response)
    return response


_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_OPEN_PATHS = (HEALTH.path, LOGIN_PATH)


def _own_origin(request: web.Request) -> str:
    scheme = client_scheme(request)
    host = request.host.lower().removesuffix(_DEFAULT_PORTS[scheme])
    return f"{scheme}://{host}"


def _cross_site(request: web.Request) -> bool:
    """What the browser says: Sec-Fetch-Site when it sends one (a page cannot forge it), else
    Origin. Origin alone is not enough: with Referrer-Policy no-referrer a browser sends
    `Origin: null` for the login form's own POST. A request with neither does not come from a
    browser page (a script, curl), which a forged request cannot avoid being."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    scheme = origin.split("://", 1)[0].lower()
    return origin.lower().removesuffix(_DEFAULT_PORTS.get(scheme, "")) != _own_origin(request)


@web.middleware
async def refuse_cross_site(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in _MUTATING and _cross_site(request):
        log.warning(
            "cross-site request refused: %s %s origin=%s client=%s",
            request.method,
            request.path,
            request.headers.get("Origin", "-"),
            client_address(request),
        )
        raise ApiError(403, "cross_site", Text("拒绝跨站请求", "cross-site request refused"))
    return await handler(request)


@web.middleware
async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
    password_hash = request.app[SERVICES].config.web.password_hash
    if (
        not password_hash
        or request.path in _OPEN_PATHS
        or request.path.startswith("/static/")
        or request.app[SESSIONS].session_id(request.cookies.get(COOKIE), password_hash)
    ):
        return await handler(request)
    if request.path.startswith(("/api/", "/export/")):  # data, not pages: no redirect
        raise ApiError(401, "login_required", Text("请先登录", "log in first"))
    raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe="/"))
