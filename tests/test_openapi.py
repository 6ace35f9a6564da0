"""The OpenAPI document: it describes exactly the routes served, and is served."""

from aiohttp.test_utils import TestClient

from mycrmd.web.openapi import document
from tests.support.api import get_json


def test_the_openapi_document_describes_exactly_the_routes(client: TestClient) -> None:
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if (
            path.startswith("/api/") or path in ("/healthz",) or path.startswith("/export")
        ) and route.method != "HEAD":
            served.add((path, route.method))
    assert documented == served


async def test_the_openapi_document_is_served(client: TestClient) -> None:
    data = await get_json(client, "/api/openapi.json")
    assert data["openapi"].startswith("3.1") and "/api/customers" in data["paths"]
