"""CSV downloads: /export/customers.csv?type=all|valid|invalid|current|followup|template."""

from datetime import date

from aiohttp import web

from mycrmd.customer_export import KINDS, export_csv, file_name
from mycrmd.web.params import bad, list_query
from mycrmd.web.services import SERVICES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/export/customers.csv", export_customers)


async def export_customers(request: web.Request) -> web.StreamResponse:
    """Streamed as it is read; `current` takes the grid's q, only_valid, sort and order,
    which are checked whatever the type, so a mistyped link fails rather than exports."""
    kind = request.query.get("type", "all")
    if kind not in KINDS:
        raise bad("type", f"必须是 {' '.join(KINDS)} 之一", f"must be one of {' '.join(KINDS)}")
    grid = list_query(request)
    query = grid if kind == "current" else None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{file_name(kind, date.today())}"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    async for chunk in export_csv(request.app[SERVICES].pool, kind, query):
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response
