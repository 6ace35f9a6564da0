"""What keeps the UI safe to open: strict headers on every response.

Pages get DESIGN.md's Content-Security-Policy — scripts and styles from our own files only,
nothing inline — plus connect-src for the UI's own API calls and frame-src for the message
frame, which `default-src 'none'` would otherwise forbid. A message's content is a separate
document with a policy of its own (pages.show_message_content).
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

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
