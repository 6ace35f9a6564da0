"""Reading requests: query parameters and JSON bodies, refused with a 400 that names the
parameter when they are not what the API says."""

import json
from typing import Any

from aiohttp import web

from mycrmd.store.customers import COLUMNS, ListQuery
from mycrmd.text import Text
from mycrmd.web.errors import ApiError

MAX_ROWS = 500
MAX_PAGE = 10_000_000


def bad(name: str, zh: str, en: str) -> ApiError:
    message = Text(f"参数 {name}: {zh}", f"parameter {name}: {en}")
    return ApiError(400, "bad_parameter", message, field=name)


def integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise bad(name, f"必须是 {low} 到 {high} 的整数", f"must be a number from {low} to {high}")
    return int(raw)


def flag(request: web.Request, name: str, default: bool) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise bad(name, "必须是 true 或 false", "must be true or false")


def list_query(request: web.Request) -> ListQuery:
    """q, only_valid, sort (any column), order (asc|desc), page (from 1), rows (0-500), and
    after_id or before_id for keyset paging."""
    sort = request.query.get("sort", "id")
    if sort not in COLUMNS:
        raise bad("sort", f"没有此列: {sort}", f"no such column: {sort}")
    order = request.query.get("order", "asc").lower()
    if order not in ("asc", "desc"):
        raise bad("order", "必须是 asc 或 desc", "must be asc or desc")
    q = request.query.get("q", "")
    if len(q) > 256:
        raise bad("q", "过长", "is too long")
    after_id = integer(request, "after_id", 0, 1, 4_294_967_295) or None
    before_id = integer(request, "before_id", 0, 1, 4_294_967_295) or None
    if after_id and before_id:
        raise bad("before_id", "不能与 after_id 同时使用", "cannot be used with after_id")
    return ListQuery(
        q=q,
        only_valid=flag(request, "only_valid", False),
        sort=sort,
        order=order,
        page=integer(request, "page", 1, 1, MAX_PAGE),
        rows=integer(request, "rows", 20, 0, MAX_ROWS),
        after_id=after_id,
        before_id=before_id,
    )


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or int(raw) > 4_294_967_295:
        raise ApiError(404, "not_found", Text("没有此记录", "no such record"))
    return int(raw)


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = Text("请求内容不是有效的 JSON", "the body is not valid JSON")
        raise ApiError(400, "bad_json", message) from None
    if not isinstance(body, dict):
        message = Text("请求内容必须是 JSON 对象", "the body must be a JSON object")
        raise ApiError(400, "bad_json", message)
    return body
