"""Reading requests: query and path parameters and JSON bodies. Each parameter is defined once,
as an object that both reads it from a request (refusing it with a 400 that names it) and
describes it in the OpenAPI document, so the two cannot drift apart."""

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiDictProxy

from mycrmd.model.customer import BY_NAME, COLUMNS, SEARCHABLE
from mycrmd.model.followup import AWAITING_HOURS, REASON_SORTS
from mycrmd.model.numbers import whole_number
from mycrmd.model.words import Text
from mycrmd.store.customer_list import ORDERS, ListQuery
from mycrmd.web.errors import ApiError

MAX_ROWS = 500
MAX_PAGE = 10_000_000
MAX_ID = 4_294_967_295  # INT UNSIGNED


def bad(name: str, zh: str, en: str) -> ApiError:
    message = Text(f"参数 {name}: {zh}", f"parameter {name}: {en}")
    return ApiError(400, "bad_parameter", message, field=name)


@dataclass(frozen=True)
class Whole:
    """A whole number in [low, high]."""

    name: str
    description: str
    default: int
    low: int
    high: int

    def read(self, request: web.Request) -> int:
        raw = request.query.get(self.name)
        if raw is None:
            return self.default
        number = whole_number(raw)
        if number is None or not self.low <= number <= self.high:
            raise bad(
                self.name,
                f"必须是 {self.low} 到 {self.high} 的整数",
                f"must be a number from {self.low} to {self.high}",
            )
        return number

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class Flag:
    name: str
    description: str
    default: bool

    def read(self, request: web.Request) -> bool:
        raw = request.query.get(self.name)
        if raw is None:
            return self.default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise bad(self.name, "必须是 true 或 false", "must be true or false")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice:
    name: str
    description: str
    choices: tuple[str, ...]
    default: str

    def read(self, request: web.Request) -> str:
        value = request.query.get(self.name, self.default)
        if value not in self.choices:
            listed = " ".join(self.choices)
            raise bad(self.name, f"必须是 {listed} 之一", f"must be one of {listed}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


@dataclass(frozen=True)
class Words:
    """Free text of bounded length, e.g. a search."""

    name: str
    description: str
    max_length: int

    def read(self, request: web.Request) -> str:
        value = request.query.get(self.name, "")
        if len(value) > self.max_length:
            raise bad(self.name, "过长", "is too long")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class Day:
    """A calendar day, YYYY-MM-DD, or absent: given but empty is refused, as for numbers."""

    name: str
    description: str

    def read(self, request: web.Request) -> datetime | None:
        raw = request.query.get(self.name)
        if raw is None:
            return None
        try:
            return datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            raise bad(self.name, "必须是 YYYY-MM-DD 日期", "must be a date YYYY-MM-DD") from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


Param = Whole | Flag | Choice | Words | Day


@dataclass(frozen=True)
class PathId:
    """A record's id in the path; anything that cannot be one is simply not found."""

    name: str = "id"

    def read(self, request: web.Request) -> int:
        raw = request.match_info[self.name]
        number = whole_number(raw) if raw == raw.strip() else None
        if number is None or number > MAX_ID:
            raise ApiError(404, "not_found", Text("没有此记录", "no such record"))
        return number

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1}


@dataclass(frozen=True)
class PathName:
    """A name in the path that must be one of a few (a job, a log)."""

    name: str
    choices: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


PathParam = PathId | PathName

PAGE = Whole("page", "page number", 1, 1, MAX_PAGE)
ROWS = Whole("rows", "rows per page", 20, 0, MAX_ROWS)
MESSAGE_ROWS = Whole("rows", "messages per page", 50, 0, MAX_ROWS)
Q = Words("q", "search " + ", ".join(BY_NAME[name].label.en.lower() for name in SEARCHABLE), 256)
ONLY_VALID = Flag("only_valid", "only valid and unconfirmed customers", False)
SORT = Choice("sort", "column to sort by", COLUMNS, "id")
ORDER = Choice("order", "sort order", ORDERS, "asc")
HOURS = Whole("hours", "hours a received mail has waited at least", AWAITING_HOURS, 0, 24 * 366)
TOTAL = Flag("total", "count the matches too", True)
AFTER_ID = Whole("after_id", "the page after this customer's row", 0, 1, MAX_ID)
BEFORE_ID = Whole("before_id", "the page before this customer's row", 0, 1, MAX_ID)
# What a grid shows, and what a page of it is.
GRID = (Q, ONLY_VALID, SORT, ORDER)
LIST = (*GRID, PAGE, ROWS, TOTAL, AFTER_ID, BEFORE_ID)
# The follow-up list sorts by its reason columns too (model/followup.py).
FOLLOWUP_SORT = Choice("sort", "column or reason to sort by", (*COLUMNS, *REASON_SORTS), "id")
FOLLOWUP_LIST = tuple(FOLLOWUP_SORT if item is SORT else item for item in LIST)
ID = PathId()


def list_query(request: web.Request, sort: str | None = None) -> ListQuery:
    """A page of a grid: GRID's parameters, page and rows, and after_id or before_id for
    keyset paging; `sort` given: the caller read the sort itself."""
    after_id = AFTER_ID.read(request) or None
    before_id = BEFORE_ID.read(request) or None
    if after_id and before_id:
        raise bad(BEFORE_ID.name, "不能与 after_id 同时使用", "cannot be used with after_id")
    return ListQuery(
        q=Q.read(request),
        only_valid=ONLY_VALID.read(request),
        sort=SORT.read(request) if sort is None else sort,
        order=ORDER.read(request),
        page=PAGE.read(request),
        rows=ROWS.read(request),
        after_id=after_id,
        before_id=before_id,
    )


_T = TypeVar("_T")
BODY_SECONDS = 30.0  # a JSON body or the login form, which are small


async def _in_time(read: Awaitable[_T]) -> _T:
    """A body read within BODY_SECONDS: a client sending it a byte at a time (slowloris)
    would otherwise hold its connection, and a file descriptor, for ever."""
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await read
    except TimeoutError:
        message = Text("请求内容发送过慢", "the body took too long to arrive")
        raise ApiError(408, "request_timeout", message) from None


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """A form body (the login page's), in time."""
    return await _in_time(request.post())


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object. Only `application/json` is read (a form or `text/plain`
    body is what a page on another site can send without asking); whatever cannot be read —
    an unknown charset, bad bytes, nesting too deep, a number of thousands of digits, half a
    surrogate pair that no database or reply could encode — is refused, never a 500."""
    if request.content_type != "application/json":
        message = Text("请求内容必须是 application/json", "the body must be application/json")
        raise ApiError(415, "unsupported_media_type", message)
    try:
        text = (await _in_time(request.read())).decode(request.charset or "utf-8")
    except LookupError:
        message = Text("不支持的字符集", "unsupported charset")
        raise ApiError(415, "unsupported_media_type", message) from None
    except UnicodeDecodeError:
        raise _not_json() from None
    try:
        body = json.loads(text)
        json.dumps(body, ensure_ascii=False).encode()  # half a surrogate pair fails here
    except (ValueError, RecursionError):
        raise _not_json() from None
    if not isinstance(body, dict):
        message = Text("请求内容必须是 JSON 对象", "the body must be a JSON object")
        raise ApiError(400, "bad_json", message)
    return body


def _not_json() -> ApiError:
    return ApiError(400, "bad_json", Text("请求内容不是有效的 JSON", "the body is not valid JSON"))
