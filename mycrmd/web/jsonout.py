"""JSON as the API writes it: dates as "YYYY-MM-DD HH:MM:SS", Chinese unescaped, never kept
by a cache (the answers hold customers' data), and always encodable: text that is not
Unicode (half a surrogate pair echoed from a request) is replaced rather than failing."""

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from aiohttp import web


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


dumps = partial(json.dumps, ensure_ascii=False, default=_default)


def respond(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=dumps(data).encode("utf-8", "replace"),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )
