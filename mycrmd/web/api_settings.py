"""The settings the UI edits, kept in the `config` table under their MyCRM names
(SPEC R-DB4): GET /api/settings, PATCH /api/settings. The mail password is write-only."""

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from mycrmd.store import settings
from mycrmd.store.followup import OPERATORS
from mycrmd.store.settings import SECRET
from mycrmd.text import Text
from mycrmd.web.errors import ApiError
from mycrmd.web.jsonout import respond
from mycrmd.web.params import json_object
from mycrmd.web.services import SERVICES

THEMES = ("default", "gray", "black", "metro")
LANGUAGE_SETTINGS = ("auto", "zh", "en")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]{1,255}")

Check = Callable[[Any], str]


class _Refused(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.reason = Text(zh, en)


def _whole(low: int, high: int) -> Check:
    def check(value: Any) -> str:
        text = "" if isinstance(value, bool) else str(value).strip()
        if not text.isdigit() or not low <= int(text) <= high:
            raise _Refused(
                f"必须是 {low} 到 {high} 的整数", f"must be a number from {low} to {high}"
            )
        return str(int(text))

    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            listed = " ".join(choices)
            raise _Refused(f"必须是 {listed} 之一", f"must be one of {listed}")
        return str(value)

    return check


def _text(limit: int, pattern: re.Pattern[str] | None = None) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise _Refused(
                f"必须是不超过 {limit} 个字符的文本", f"must be text of at most {limit} characters"
            )
        text = value.strip()
        if pattern is not None and text and not pattern.fullmatch(text):
            raise _Refused("不是有效的服务器地址", "is not a server name or address")
        return text

    return check


EDITABLE: dict[str, Check] = {
    "followup_days": _whole(1, 36500),
    "followup_importance_operators": _one_of(*OPERATORS),
    "followup_importance": _whole(0, 5),
    "monitor_mail_days": _whole(1, 36500),
    "mail_reserved_days": _whole(1, 36500),
    "mail_host": _text(255, _HOST),
    "mail_port": _whole(1, 65535),
    "mail_username": _text(255),
    "mail_password": _text(255),
    "theme": _one_of(*THEMES),
    "language": _one_of(*LANGUAGE_SETTINGS),
    "woocommerce_api": _text(1000),
}
READ_ONLY = ("mail_checked_date",)  # the verify job's guard


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/settings", show_settings)
    app.router.add_patch("/api/settings", update_settings)


def visible(values: dict[str, str]) -> dict[str, Any]:
    """Every known setting but the password, which is only said to be set or not."""
    shown: dict[str, Any] = {
        name: values.get(name, "") for name in (*EDITABLE, *READ_ONLY) if name != SECRET
    }
    shown["mail_password_set"] = bool(values.get(SECRET))
    return shown


async def show_settings(request: web.Request) -> web.Response:
    return respond(visible(await settings.load(request.app[SERVICES].pool)))


async def update_settings(request: web.Request) -> web.Response:
    """Several settings at once, all checked before any is saved."""
    pool = request.app[SERVICES].pool
    changes: dict[str, str] = {}
    for name, value in (await json_object(request)).items():
        if name in READ_ONLY:
            message = Text(f"{name} 由系统维护，不能修改", f"{name} is kept by the system")
            raise ApiError(400, "field_not_editable", message, field=name)
        check = EDITABLE.get(name)
        if check is None:
            message = Text(f"未知设置: {name}", f"unknown setting: {name}")
            raise ApiError(400, "unknown_setting", message, field=name)
        try:
            changes[name] = check(value)
        except _Refused as exc:
            message = Text(f"{name}: {exc.reason.zh}", f"{name}: {exc.reason.en}")
            raise ApiError(400, "invalid_setting", message, field=name) from None
    await settings.put(pool, changes)
    return respond(visible(await settings.load(pool)))
