"""Messages: the system notices, and one message's details. Its content is served by
pages.show_message_content, into a sandboxed frame."""

from aiohttp import web

from mycrmd.model.message import MessageType
from mycrmd.model.words import Text
from mycrmd.store import messages
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import ID, MESSAGE_ROWS, PAGE, Choice
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.schemas import MESSAGE, MESSAGE_ROW, page_of
from mycrmd.web.services import SERVICES

TYPE = Choice("type", "type", tuple(MessageType), MessageType.SYSTEM)


async def list_messages(request: web.Request) -> web.Response:
    """Messages of one type, newest first; the UI shows `system` ones on opening."""
    total, rows = await messages.of_type(
        request.app[SERVICES].pool,
        TYPE.read(request),
        PAGE.read(request),
        MESSAGE_ROWS.read(request),
    )
    return respond({"total": total, "rows": rows})


async def show_message(request: web.Request) -> web.Response:
    found = await messages.get(request.app[SERVICES].pool, ID.read(request))
    if found is None:
        raise ApiError(404, "not_found", Text("没有此消息", "no such message"))
    found.pop("content")
    return respond(found)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/messages",
        list_messages,
        "Messages of one type (system notices by default)",
        json_answer(page_of(MESSAGE_ROW), "messages"),
        query=(TYPE, PAGE, MESSAGE_ROWS),
        errors=(400,),
    ),
    Endpoint(
        "GET",
        "/api/messages/{id}",
        show_message,
        "One message's details (its content is /messages/{id}/content)",
        json_answer(MESSAGE, "the message"),
        path_params=(ID,),
        errors=(404,),
    ),
)
