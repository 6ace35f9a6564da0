"""The OpenAPI 3.1 description of every API route, /api/openapi.json, made from the same
endpoint declarations the application serves (web/routes.py) and the same parameter objects
that read requests (web/params.py). schemathesis holds the responses to its schemas."""

from typing import Any

from aiohttp import web

from mycrmd import __version__
from mycrmd.web import api
from mycrmd.web.jsonout import respond
from mycrmd.web.routes import Answer, Endpoint
from mycrmd.web.schemas import ERROR
from mycrmd.web.sessions import COOKIE

_ERRORS = {
    400: "the request is not as described",
    401: "no session: log in first (a password is set)",
    403: "a cross-site request, refused",
    404: "no such record",
    408: "the body took too long to arrive",
    409: "conflicts with an existing record",
    413: "too large",
    415: "the body is not application/json in a known charset",
    421: "the Host header does not name this server",
    503: "the database is unavailable",
}
_EVERY_ROUTE = (401, 403, 421, 503)
_JSON_BODY = (408, 415)  # besides 400, for routes reading a JSON body (params.json_object)


def _answer(answer: Answer) -> dict[str, Any]:
    described: dict[str, Any] = {"description": answer.description}
    if answer.content:
        described["content"] = answer.content
    return described


def _errors(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.public:
        return {}
    content: dict[str, Any] = {"application/json": {"schema": ERROR}}
    if endpoint.downloads:  # a page for the browser, JSON when asked (Accept)
        content["text/html"] = {"schema": {"type": "string"}}
    body = _JSON_BODY if endpoint.body and "application/json" in endpoint.body else ()
    return {
        str(status): {"description": _ERRORS[status], "content": content}
        for status in (*endpoint.errors, *body, *_EVERY_ROUTE)
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters = [
        {"name": param.name, "in": "path", "required": True, "schema": param.schema()}
        for param in endpoint.path_params
    ] + [
        {
            "name": param.name,
            "in": "query",
            "required": False,
            "schema": param.schema(),
            "description": param.description,
        }
        for param in endpoint.query
    ]
    operation: dict[str, Any] = {"summary": endpoint.summary}
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {"required": True, "content": endpoint.body}
    operation["responses"] = {
        str(endpoint.answer.status): _answer(endpoint.answer),
        **{str(other.status): _answer(other) for other in endpoint.other},
        **_errors(endpoint),
    }
    if endpoint.public:
        operation["security"] = []
    return operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in SERVED:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mycrmd",
            "version": __version__,
            "license": {"name": "GPL-3.0-or-later"},
        },
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": COOKIE}}
        },
        "security": [{"session": []}],
        "paths": paths,
    }


async def show_openapi(request: web.Request) -> web.Response:
    return respond(document())


# Every endpoint the application serves, this document's own included.
SERVED: tuple[Endpoint, ...] = (
    *api.ENDPOINTS,
    Endpoint("GET", "/api/openapi.json", show_openapi, "This document", Answer(200, "OpenAPI 3.1")),
)
