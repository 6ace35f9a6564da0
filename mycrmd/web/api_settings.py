"""The settings the UI edits, kept in the `config` table under their MyCRM names
(R-DB4; each one's definition: model/settings.py). The mail password is write-only, and
the settings that say where it goes (Setting.guards) change only with it."""

from typing import Any

from aiohttp import web

from mycrmd.model.settings import BY_NAME, SECRETS, SETTINGS, Refused
from mycrmd.model.words import Text, localized
from mycrmd.store import config_table
from mycrmd.web.errors import ApiError
from mycrmd.web.i18n import request_language
from mycrmd.web.jsonout import respond
from mycrmd.web.params import json_object
from mycrmd.web.routes import Endpoint, json_answer, json_body
from mycrmd.web.schemas import SETTINGS_CHANGE, SETTINGS_SHOWN
from mycrmd.web.services import SERVICES


def visible(values: dict[str, str]) -> dict[str, Any]:
    """Every known setting but the secrets, which are only said to be set or not."""
    shown: dict[str, Any] = {
        setting.name: values.get(setting.name, "") for setting in SETTINGS if not setting.secret
    }
    for name in SECRETS:
        shown[f"{name}_set"] = bool(values.get(name))
    return shown


async def show_settings(request: web.Request) -> web.Response:
    return respond(visible(await config_table.load(request.app[SERVICES].pool)))


async def update_settings(request: web.Request) -> web.Response:
    """Several settings at once, all checked before any is saved; every refused one is
    reported (`fields`), so a form can mark them all at once, not one per try."""
    pool = request.app[SERVICES].pool
    body = await json_object(request)
    changes: dict[str, str] = {}
    refused: list[ApiError] = []
    for name, value in body.items():
        try:
            changes[name] = _checked(name, value)
        except ApiError as exc:
            refused.append(exc)
    if refused:
        raise _all_refused(refused, request_language(request))
    _require_guarded_secrets(changes, await config_table.load(pool))
    await config_table.put(pool, changes)
    services = request.app[SERVICES]
    if services.idle is not None and any(name.startswith("mail_") for name in changes):
        await services.idle.restart(services.config)  # the push connections log in afresh
    return respond(visible(await config_table.load(pool)))


def _checked(name: str, value: Any) -> str:
    """The value to store for one setting, or an ApiError that names it by its label."""
    setting = BY_NAME.get(name)
    if setting is None:
        message = Text(f"未知设置: {name}", f"unknown setting: {name}")
        raise ApiError(400, "unknown_setting", message, field=name)
    label = setting.label
    if not setting.editable:
        message = Text(f"{label.zh}由系统维护，不能修改", f"{label.en} is kept by the system")
        raise ApiError(400, "field_not_editable", message, field=name)
    try:
        return setting.check(value)
    except Refused as exc:
        message = Text(f"{label.zh}: {exc.reason.zh}", f"{label.en}: {exc.reason.en}")
        raise ApiError(400, "invalid_setting", message, field=name) from None


def _all_refused(refused: list[ApiError], language: str) -> ApiError:
    """One error saying every refusal, the first one's code and field, and in `fields` each
    refused setting with its own message."""
    first = refused[0]
    message = Text(
        "；".join(localized(exc.message, "zh") for exc in refused),
        "; ".join(localized(exc.message, "en") for exc in refused),
    )
    fields = [
        {"field": exc.extra["field"], "message": localized(exc.message, language)}
        for exc in refused
    ]
    return ApiError(first.status, first.code, message, field=first.extra["field"], fields=fields)


def _require_guarded_secrets(changes: dict[str, str], stored: dict[str, str]) -> None:
    """A new server, port or account for the mail password only with the password itself:
    else the stored one would be sent wherever the change points."""
    for name, value in changes.items():
        secret = BY_NAME[name].guards
        if not secret or secret in changes or not stored.get(secret):
            continue
        if value != stored.get(name, BY_NAME[name].default):
            label, secret_label = BY_NAME[name].label, BY_NAME[secret].label
            message = Text(
                f"修改{label.zh}时必须重新输入{secret_label.zh}",
                f"changing {label.en} needs {secret_label.en} entered again",
            )
            raise ApiError(400, "secret_required", message, field=secret)


_SETTINGS = json_answer(SETTINGS_SHOWN, "settings")

ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/settings",
        show_settings,
        "The settings (the password only as set or not)",
        _SETTINGS,
    ),
    Endpoint(
        "PATCH",
        "/api/settings",
        update_settings,
        "Change settings; all are checked before any is saved",
        _SETTINGS,
        body=json_body(SETTINGS_CHANGE),
        errors=(400,),
    ),
)
