"""Customers and the follow-up list: /api/customers…, /api/followup."""

import re
from datetime import date, datetime

from aiohttp import web

from mycrmd.customers.fields import FieldError, check_customer, check_field
from mycrmd.model.followup import REASON_SORTS
from mycrmd.model.words import Text
from mycrmd.safety.sanitize import clean_comment
from mycrmd.store import (
    awaiting,
    config_table,
    customer_list,
    customers,
    followup,
    history,
    messages,
)
from mycrmd.store.customers import DuplicateEmail
from mycrmd.store.pool import Pool
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import (
    FOLLOWUP_LIST,
    FOLLOWUP_SORT,
    HOURS,
    ID,
    LIST,
    MESSAGE_ROWS,
    ORDER,
    PAGE,
    ROWS,
    TOTAL,
    Q,
    json_object,
    list_query,
)
from mycrmd.web.routes import Answer, Endpoint, json_answer, json_body
from mycrmd.web.schemas import (
    AWAITING_CUSTOMER,
    CUSTOMER,
    DUE_CUSTOMER,
    EDITABLE_CUSTOMER,
    HISTORY_ROW,
    MESSAGE_ROW,
    NEW_CUSTOMER,
    page_of,
)
from mycrmd.web.services import SERVICES

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SNOOZE_BODY = {
    "type": "object",
    "required": ["until"],
    "additionalProperties": False,
    "properties": {"until": {"type": "string", "format": "date"}},
}
COMMENT_BODY = {
    "type": "object",
    "required": ["comment"],
    "additionalProperties": False,
    "properties": {"comment": {"type": "string"}},
}


async def list_customers(request: web.Request) -> web.Response:
    """A page of customers and, unless total=false, how many match in all."""
    pool = request.app[SERVICES].pool
    query = list_query(request)
    rows = await customer_list.list_page(pool, query)
    total = await customer_list.count(pool, query) if TOTAL.read(request) else None
    return respond({"total": total, "rows": rows})


async def list_followup(request: web.Request) -> web.Response:
    """Customers due for follow-up under the rule saved in the settings (R-FU1), each with
    why it is due; sortable by those reasons too."""
    pool = request.app[SERVICES].pool
    sort = FOLLOWUP_SORT.read(request)
    reason_sort = sort if sort in REASON_SORTS else None
    query = list_query(request, sort="id" if reason_sort else sort)
    rule = followup.Rule.from_settings(await config_table.load(pool))
    rows = await followup.due_page(pool, rule, query, reason_sort)
    total = await followup.due_count(pool, rule, query) if TOTAL.read(request) else None
    return respond({"total": total, "rows": rows})


async def list_awaiting_reply(request: web.Request) -> web.Response:
    """待回复: customers whose newest received mail is still unanswered after `hours`."""
    pool = request.app[SERVICES].pool
    hours, page, rows, q = (
        HOURS.read(request),
        PAGE.read(request),
        ROWS.read(request),
        Q.read(request),
    )
    order = ORDER.read(request)
    found = await awaiting.waiting_page(pool, hours, page, rows, q, order)
    total = await awaiting.waiting_count(pool, hours, q) if TOTAL.read(request) else None
    return respond({"total": total, "rows": found})


async def create_customer(request: web.Request) -> web.Response:
    pool = request.app[SERVICES].pool
    values = _checked(await json_object(request), creating=True)
    try:
        new_id = await customers.create(pool, values)
    except DuplicateEmail as exc:
        raise _duplicate(exc) from None
    return await _as_now(pool, new_id, status=201)


async def show_customer(request: web.Request) -> web.Response:
    return respond(await _existing(request))


async def update_customer(request: web.Request) -> web.Response:
    """Edit a row in place; comment and last_contact_date are refused (R-CU2)."""
    pool = request.app[SERVICES].pool
    customer_id = ID.read(request)
    values = _checked(await json_object(request), creating=False)
    try:
        found = await customers.update(pool, customer_id, values)
    except DuplicateEmail as exc:
        raise _duplicate(exc) from None
    if not found:
        raise _missing()
    return await _as_now(pool, customer_id)


async def delete_customer(request: web.Request) -> web.Response:
    if not await customers.delete(request.app[SERVICES].pool, ID.read(request)):
        raise _missing()
    return web.Response(status=204)


async def update_comment(request: web.Request) -> web.Response:
    """The rich-text comment from its editor, sanitised before it is stored."""
    pool = request.app[SERVICES].pool
    customer_id = ID.read(request)
    body = await json_object(request)
    comment = body.get("comment")
    if not isinstance(comment, str) or set(body) != {"comment"}:
        message = Text('需要 {"comment": 文本}', 'expected {"comment": text}')
        raise ApiError(400, "bad_json", message, field="comment")
    try:
        cleaned = check_field("comment", clean_comment(comment))
    except FieldError as exc:
        raise ApiError(400, "invalid_field", exc.message, field=exc.field) from None
    if not await customers.update(pool, customer_id, {"comment": cleaned}):
        raise _missing()
    return await _as_now(pool, customer_id)


async def snooze_customer(request: web.Request) -> web.Response:
    """Hide a customer from follow-up and 待回复 until the start of a day."""
    pool = request.app[SERVICES].pool
    customer_id = ID.read(request)
    body = await json_object(request)
    until = _day(body.get("until")) if set(body) == {"until"} else None
    if until is None:
        message = Text('需要 {"until": "YYYY-MM-DD"}', 'expected {"until": "YYYY-MM-DD"}')
        raise ApiError(400, "invalid_field", message, field="until")
    if until.date() < date.today():  # a snooze that ended before it began hides nothing
        message = Text("暂缓日期不能早于今天", "the day must be today or later")
        raise ApiError(400, "invalid_field", message, field="until")
    if not await customers.update(pool, customer_id, {"snoozed_until": until}):
        raise _missing()
    return await _as_now(pool, customer_id)


async def unsnooze_customer(request: web.Request) -> web.Response:
    pool = request.app[SERVICES].pool
    customer_id = ID.read(request)
    if not await customers.update(pool, customer_id, {"snoozed_until": None}):
        raise _missing()
    return await _as_now(pool, customer_id)


def _day(value: object) -> datetime | None:
    """A YYYY-MM-DD day as its first moment; None when it is not one."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


async def _as_now(pool: Pool, customer_id: int, status: int = 200) -> web.Response:
    """The row after a change; 404 when another request deleted it in between (found by
    schemathesis: the answer was `null`)."""
    row = await customers.get(pool, customer_id)
    if row is None:
        raise _missing()
    return respond(row, status=status)


async def list_customer_messages(request: web.Request) -> web.Response:
    """The messages this customer's address may see, newest first (R-CU4)."""
    customer = await _existing(request)
    total, rows = await messages.for_address(
        request.app[SERVICES].pool,
        str(customer["email"]),
        PAGE.read(request),
        MESSAGE_ROWS.read(request),
    )
    return respond({"total": total, "rows": rows})


async def list_customer_history(request: web.Request) -> web.Response:
    """Every change of this customer's validity, newest first, with its source and cause."""
    customer = await _existing(request)
    rows = await history.for_customer(request.app[SERVICES].pool, int(str(customer["id"])))
    return respond({"rows": rows})


def _checked(body: dict[str, object], *, creating: bool) -> dict[str, object]:
    try:
        return check_customer(body, creating=creating)
    except FieldError as exc:
        raise ApiError(400, exc.code, exc.message, field=exc.field) from None


async def _existing(request: web.Request) -> dict[str, object]:
    found = await customers.get(request.app[SERVICES].pool, ID.read(request))
    if found is None:
        raise _missing()
    return found


def _missing() -> ApiError:
    return ApiError(404, "not_found", Text("没有此客户", "no such customer"))


def _duplicate(exc: DuplicateEmail) -> ApiError:
    other = exc.existing
    if other is None:
        message = Text(
            f"邮箱 {exc.email} 已属于另一客户", f"{exc.email} belongs to another customer"
        )
        return ApiError(409, "duplicate_email", message, field="email")
    who = f"#{other['id']} {other['name'] or ''}".strip()
    message = Text(
        f"邮箱 {other['email']} 已属于客户 {who}",
        f"{other['email']} already belongs to customer {who}",
    )
    return ApiError(409, "duplicate_email", message, field="email", existing_id=other["id"])


_PAGE_OF_CUSTOMERS = json_answer(page_of(CUSTOMER), "customers")
_THE_CUSTOMER = json_answer(CUSTOMER, "the customer")

ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/customers",
        list_customers,
        "A page of customers",
        _PAGE_OF_CUSTOMERS,
        query=LIST,
        errors=(400,),
    ),
    Endpoint(
        "POST",
        "/api/customers",
        create_customer,
        "Add a customer",
        json_answer(CUSTOMER, "the new customer", 201),
        body=json_body(NEW_CUSTOMER),
        errors=(400, 409),
    ),
    Endpoint(
        "GET",
        "/api/customers/{id}",
        show_customer,
        "One customer",
        _THE_CUSTOMER,
        path_params=(ID,),
        errors=(404,),
    ),
    Endpoint(
        "PATCH",
        "/api/customers/{id}",
        update_customer,
        "Edit a customer in place (not its comment or last contact date)",
        _THE_CUSTOMER,
        path_params=(ID,),
        body=json_body(EDITABLE_CUSTOMER),
        errors=(400, 404, 409),
    ),
    Endpoint(
        "DELETE",
        "/api/customers/{id}",
        delete_customer,
        "Delete a customer",
        Answer(204, "deleted"),
        path_params=(ID,),
        errors=(404,),
    ),
    Endpoint(
        "PUT",
        "/api/customers/{id}/comment",
        update_comment,
        "Replace the rich-text comment (sanitised)",
        _THE_CUSTOMER,
        path_params=(ID,),
        body=json_body(COMMENT_BODY),
        errors=(400, 404),
    ),
    Endpoint(
        "PUT",
        "/api/customers/{id}/snooze",
        snooze_customer,
        "Hide from follow-up and awaiting-reply until a day (YYYY-MM-DD)",
        _THE_CUSTOMER,
        path_params=(ID,),
        body=json_body(SNOOZE_BODY),
        errors=(400, 404),
    ),
    Endpoint(
        "DELETE",
        "/api/customers/{id}/snooze",
        unsnooze_customer,
        "End a snooze",
        _THE_CUSTOMER,
        path_params=(ID,),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/api/customers/{id}/messages",
        list_customer_messages,
        "Messages this customer's address may see, newest first",
        json_answer(page_of(MESSAGE_ROW), "messages"),
        query=(PAGE, MESSAGE_ROWS),
        path_params=(ID,),
        errors=(400, 404),
    ),
    Endpoint(
        "GET",
        "/api/customers/{id}/history",
        list_customer_history,
        "Changes of this customer's validity, newest first, with their source and cause",
        json_answer(
            {
                "type": "object",
                "required": ["rows"],
                "properties": {"rows": {"type": "array", "items": HISTORY_ROW}},
            },
            "the history",
        ),
        path_params=(ID,),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/api/followup",
        list_followup,
        "Customers due for follow-up, with why each is due",
        json_answer(page_of(DUE_CUSTOMER), "customers due"),
        query=FOLLOWUP_LIST,
        errors=(400,),
    ),
    Endpoint(
        "GET",
        "/api/awaiting-reply",
        list_awaiting_reply,
        "Customers whose newest received mail awaits our reply, longest wait first",
        json_answer(page_of(AWAITING_CUSTOMER), "customers awaiting a reply"),
        query=(HOURS, Q, ORDER, PAGE, ROWS, TOTAL),
        errors=(400,),
    ),
)
