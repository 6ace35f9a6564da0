"""What keeps the UI safe to open: only requests naming this daemon in Host are answered
(a page on a rebound DNS name names its own), strict headers on every response, cross-site
mutating requests refused, and, with a password set, a session required for everything but
the health check, the login page and static files.

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
from mycrmd.web.errors import ApiError, error_response
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


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _host_and_port(host: str) -> tuple[str, int | None] | None:
    """`name`, `name:port`, `[v6]` or `[v6]:port` as (name, port); None when malformed."""
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, port_text = host.partition(":")
        port = port_text if colon else None
    if port is None:
        return name.lower().rstrip("."), None
    if not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    return name.lower().rstrip("."), int(port)


def names_this_daemon(request: web.Request) -> bool:
    """Host is the address and port the request came in on, a loopback name with that port,
    or one of `[web] allowed_hosts` ("name" for any port, "name:port" for that one). No Host
    at all is a script's HTTP/1.0, not a browser on a rebound name."""
    host = request.headers.get("Host")
    if host is None:
        return True
    parsed = _host_and_port(host)
    if parsed is None:
        return False
    name, port = parsed
    for allowed in request.app[SERVICES].config.web.allowed_hosts:
        entry = _host_and_port(allowed)
        if entry is not None and entry[0] == name and entry[1] in (None, port):
            return True
    local = request.transport.get_extra_info("sockname") if request.transport else None
    if not local:
        return False
    address, local_port = str(local[0]), int(local[1])
    return (port or 80) == local_port and (name in _LOOPBACK_NAMES or name == address.lower())


@web.middleware
async def only_our_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """First of all: a Host naming someone else is refused before anything runs (421)."""
    if names_this_daemon(request):
        return await handler(request)
    log.warning(
        "request for another host refused: host=%r client=%s",
        request.headers.get("Host", ""),
        client_address(request),
    )
    message = Text("此服务不接受该主机名", "this server does not answer for that host name")
    response = error_response(request, 421, "misdirected", message)
    _decorate(response)
    return response


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
