"""Customers and the follow-up list: /api/customers…, /api/followup."""

from aiohttp import web

from mycrmd.customer_rules import FieldError, check_customer, check_field
from mycrmd.mail.sanitize import clean_comment
from mycrmd.store import customers, followup, messages, settings
from mycrmd.store.customers import DuplicateEmail
from mycrmd.store.pool import Pool
from mycrmd.text import Text
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import MAX_PAGE, MAX_ROWS, flag, integer, json_object, list_query, path_id
from mycrmd.web.services import SERVICES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/customers", list_customers)
    app.router.add_post("/api/customers", create_customer)
    app.router.add_get("/api/customers/{id}", show_customer)
    app.router.add_patch("/api/customers/{id}", update_customer)
    app.router.add_delete("/api/customers/{id}", delete_customer)
    app.router.add_put("/api/customers/{id}/comment", update_comment)
    app.router.add_get("/api/customers/{id}/messages", list_customer_messages)
    app.router.add_get("/api/followup", list_followup)


async def list_customers(request: web.Request) -> web.Response:
    """A page of customers and, unless total=false, how many match in all."""
    pool = request.app[SERVICES].pool
    query = list_query(request)
    rows = await customers.list_page(pool, query)
    total = await customers.count(pool, query) if flag(request, "total", True) else None
    return respond({"total": total, "rows": rows})


async def list_followup(request: web.Request) -> web.Response:
    """Customers due for follow-up under the rule saved in the settings (SPEC R-FU1)."""
    pool = request.app[SERVICES].pool
    query = list_query(request)
    rule = followup.Rule.from_settings(await settings.load(pool))
    rows = await followup.due_page(pool, rule, query)
    total = await followup.due_count(pool, rule, query) if flag(request, "total", True) else None
    return respond({"total": total, "rows": rows})


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
    """Edit a row in place; comment and last_contact_date are refused (SPEC R-CU2)."""
    pool = request.app[SERVICES].pool
    customer_id = path_id(request)
    values = _checked(await json_object(request), creating=False)
    try:
        found = await customers.update(pool, customer_id, values)
    except DuplicateEmail as exc:
        raise _duplicate(exc) from None
    if not found:
        raise _missing()
    return await _as_now(pool, customer_id)


async def delete_customer(request: web.Request) -> web.Response:
    if not await customers.delete(request.app[SERVICES].pool, path_id(request)):
        raise _missing()
    return web.Response(status=204)


async def update_comment(request: web.Request) -> web.Response:
    """The rich-text comment from its editor, sanitised before it is stored."""
    pool = request.app[SERVICES].pool
    customer_id = path_id(request)
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


async def _as_now(pool: Pool, customer_id: int, status: int = 200) -> web.Response:
    """The row after a change; 404 when another request deleted it in between (found by
    schemathesis: the answer was `null`)."""
    row = await customers.get(pool, customer_id)
    if row is None:
        raise _missing()
    return respond(row, status=status)


async def list_customer_messages(request: web.Request) -> web.Response:
    """The messages this customer's address may see, newest first (SPEC R-CU4)."""
    customer = await _existing(request)
    total, rows = await messages.for_address(
        request.app[SERVICES].pool,
        customer["email"],
        integer(request, "page", 1, 1, MAX_PAGE),
        integer(request, "rows", 50, 0, MAX_ROWS),
    )
    return respond({"total": total, "rows": rows})


def _checked(body: dict[str, object], *, creating: bool) -> dict[str, object]:
    try:
        return check_customer(body, creating=creating)
    except FieldError as exc:
        raise ApiError(400, exc.code, exc.message, field=exc.field) from None


async def _existing(request: web.Request) -> dict[str, object]:
    found = await customers.get(request.app[SERVICES].pool, path_id(request))
    if found is None:
        raise _missing()
    return found


def _missing() -> ApiError:
    return ApiError(404, "not_found", Text("没有此客户", "no such customer"))


def _duplicate(exc: DuplicateEmail) -> ApiError:
    other = exc.existing
    who = f"#{other['id']} {other['name'] or ''}".strip()
    message = Text(
        f"邮箱 {other['email']} 已属于客户 {who}",
        f"{other['email']} already belongs to customer {who}",
    )
    return ApiError(409, "duplicate_email", message, field="email", existing_id=other["id"])
