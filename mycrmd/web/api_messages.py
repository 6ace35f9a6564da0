"""Messages: the system notices, and one message's details. Its content is served by
pages.show_message_content, into a sandboxed frame."""

from aiohttp import web

from mycrmd.store import messages
from mycrmd.text import Text
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import MAX_PAGE, MAX_ROWS, bad, integer, path_id
from mycrmd.web.services import SERVICES

TYPES = ("receive", "sendto", "comment", "system")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/messages", list_messages)
    app.router.add_get("/api/messages/{id}", show_message)


async def list_messages(request: web.Request) -> web.Response:
    """Messages of one type, newest first; the UI shows `system` ones on opening."""
    kind = request.query.get("type", "system")
    if kind not in TYPES:
        raise bad("type", f"必须是 {' '.join(TYPES)} 之一", f"must be one of {' '.join(TYPES)}")
    total, rows = await messages.of_type(
        request.app[SERVICES].pool,
        kind,
        integer(request, "page", 1, 1, MAX_PAGE),
        integer(request, "rows", 50, 0, MAX_ROWS),
    )
    return respond({"total": total, "rows": rows})


async def show_message(request: web.Request) -> web.Response:
    found = await messages.get(request.app[SERVICES].pool, path_id(request))
    if found is None:
        raise ApiError(404, "not_found", Text("没有此消息", "no such message"))
    found.pop("content")
    return respond(found)
