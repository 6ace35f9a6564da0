"""An API endpoint declared once: its method and path, its handler, and what it reads and
answers. The application registers these declarations and the OpenAPI document is made from
them, so the document describes exactly the routes that are served."""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from mycrmd.web.params import Param, PathParam

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Answer:
    """A success response: its status, what it is, and its body by content type."""

    status: int
    description: str
    content: dict[str, dict[str, Any]] = field(default_factory=dict)


def json_answer(schema: dict[str, Any], description: str, status: int = 200) -> Answer:
    return Answer(status, description, {"application/json": {"schema": schema}})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    answer: Answer
    query: tuple[Param, ...] = ()
    path_params: tuple[PathParam, ...] = ()
    body: dict[str, dict[str, Any]] | None = None  # the request body by content type
    errors: tuple[int, ...] = ()  # besides those every API route may answer
    other: tuple[Answer, ...] = ()  # answers that are not an error in the usual form
    public: bool = False  # needs no session
    downloads: bool = False  # a file for the browser: errors may come as a page


def json_body(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"application/json": {"schema": schema}}


def add_endpoints(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, _checking_query(endpoint))


def _checking_query(endpoint: Endpoint) -> Handler:
    """Every declared query parameter is checked before the handler runs, so a wrong value
    is refused even where the handler's path does not use it."""
    if not endpoint.query:
        return endpoint.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        for param in endpoint.query:
            param.read(request)
        return await endpoint.handler(request)

    return handler
