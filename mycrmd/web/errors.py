"""Errors as the API promises them: JSON `{error: {code, message, field?, row?}}` with the
right status, never a traceback; pages get a short HTML page instead."""

import logging
from html import escape
from typing import Any

from aiohttp import web

from mycrmd.model.words import Text, localized
from mycrmd.store.pool import DatabaseUnavailable
from mycrmd.web.i18n import request_language
from mycrmd.web.jsonout import respond

log = logging.getLogger("mycrmd.web")


class ApiError(Exception):
    """A mistake the user can fix, worded for them; `field` names the offending input."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Text | str,
        *,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(localized(message, "en"))
        self.status = status
        self.code = code
        self.message = message
        self.extra = {"field": field, **extra} if field else extra


def error_response(
    request: web.Request, status: int, code: str, message: Text | str, **extra: Any
) -> web.Response:
    message = localized(message, request_language(request))
    if _wants_json(request):
        return respond({"error": {"code": code, "message": message, **extra}}, status=status)
    return web.Response(
        status=status, content_type="text/html", charset="utf-8", text=_html_error(status, message)
    )


def _wants_json(request: web.Request) -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or ("application/json" in request.headers.get("Accept", ""))
    )


def _html_error(status: int, message: str) -> str:
    return (
        "<!doctype html><meta charset=utf-8><title>mycrmd</title>"
        f"<h1>{status}</h1><p>{escape(message)}</p>"
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(request, exc.status, exc.code, exc.message, **exc.extra)
    except DatabaseUnavailable:
        log.warning("database unavailable for %s %s", request.method, request.path)
        message = Text(
            "数据库暂时不可用，请稍后再试", "the database is unavailable; try again soon"
        )
        return error_response(request, 503, "database_unavailable", message)
    except ConnectionResetError:
        # the client went away mid-request (e.g. during the body): nobody is left to answer
        log.info("client went away during %s %s", request.method, request.path)
        return web.Response(status=400)
    except web.HTTPException as exc:
        if exc.status >= 400 and _wants_json(request):
            response = error_response(request, exc.status, _code_for(exc.status), exc.reason)
            if "Allow" in exc.headers:  # a 405 says what is allowed (RFC 9110)
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        message = Text("内部错误，请查看服务日志", "internal error; see the daemon's log")
        return error_response(request, 500, "internal_error", message)


def _code_for(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status, "http_error")
