"""Messages: the system notices, and one message's details. Its content is served by
pages.show_message_content, into a sandboxed frame."""

from datetime import timedelta

from aiohttp import web

from mycrmd.model.message import MessageType
from mycrmd.model.words import Text
from mycrmd.store import messages, search
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import ID, MESSAGE_ROWS, PAGE, Choice, Day, Whole, Words
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.schemas import MESSAGE, MESSAGE_ROW, SEARCH_HIT, page_of
from mycrmd.web.services import SERVICES

TYPE = Choice("type", "type", tuple(MessageType), MessageType.SYSTEM)
SEARCH_Q = Words("q", "words every mail found contains (subject, sender, addresses, text)", 256)
SINCE = Day("since", "mails dated on or after this day (with q)")
UNTIL = Day("until", "mails dated on or before this day (with q)")
CUSTOMER = Whole("customer_id", "mails this customer may see (with q)", 0, 0, 4_294_967_295)


async def list_messages(request: web.Request) -> web.Response:
    """Messages of one type, newest first; the UI shows `system` ones on opening. With q, a
    search over all mail, of any type unless one is asked for."""
    if SEARCH_Q.read(request).strip():
        return await _search(request)
    total, rows = await messages.of_type(
        request.app[SERVICES].pool,
        TYPE.read(request),
        PAGE.read(request),
        MESSAGE_ROWS.read(request),
    )
    return respond({"total": total, "rows": rows})


async def _search(request: web.Request) -> web.Response:
    until = UNTIL.read(request)
    pool = request.app[SERVICES].pool
    total, rows = await search.search(
        pool,
        search.SearchQuery(
            q=SEARCH_Q.read(request),
            page=PAGE.read(request),
            rows=MESSAGE_ROWS.read(request),
            type=TYPE.read(request) if TYPE.name in request.query else None,
            since=SINCE.read(request),
            until=until + timedelta(days=1) if until else None,
            customer_id=CUSTOMER.read(request) or None,
        ),
    )
    capped = total >= search.CAPPED_TOTAL
    indexed = await search.indexed(pool)
    return respond({"total": total, "capped": capped, "indexed": indexed, "rows": rows})


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
        "Messages of one type (system notices by default), or with q a full-text search",
        json_answer(
            {"anyOf": [page_of(MESSAGE_ROW), page_of(SEARCH_HIT)]}, "messages or search hits"
        ),
        query=(TYPE, PAGE, MESSAGE_ROWS, SEARCH_Q, SINCE, UNTIL, CUSTOMER),
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
