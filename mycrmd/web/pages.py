"""HTML pages."""

import aiohttp_jinja2
from aiohttp import web


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", show_index_page)


@aiohttp_jinja2.template("index.html")
async def show_index_page(request: web.Request) -> dict[str, object]:
    return {}
