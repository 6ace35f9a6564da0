"""CSV downloads: /export/customers.csv?type=… (model/customer.py EXPORT_KINDS)."""

from datetime import date

from aiohttp import web

from mycrmd.customers.exporting import KINDS, export_csv, file_name
from mycrmd.model.customer import GRID_LISTS
from mycrmd.web.params import GRID, HOURS, Choice, list_query
from mycrmd.web.routes import Answer, Endpoint
from mycrmd.web.services import SERVICES

TYPE = Choice("type", "which customers", KINDS, "all")
GRID_LIST = Choice(
    "list", "for type=current, the grid shown: customers or follow-up", GRID_LISTS, GRID_LISTS[0]
)


async def export_customers(request: web.Request) -> web.StreamResponse:
    """Streamed as it is read; `current` takes the grid's list, q, only_valid, sort and
    order, which are checked whatever the type, so a mistyped link fails rather than exports."""
    kind = TYPE.read(request)
    grid = list_query(request)
    shown = GRID_LIST.read(request)
    query = grid if kind == "current" else None
    hours = HOURS.read(request)  # checked before the answer starts, so a bad one is a 400
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{file_name(kind, date.today())}"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    async for chunk in export_csv(request.app[SERVICES].pool, kind, query, shown, hours):
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response


ENDPOINTS = (
    Endpoint(
        "GET",
        "/export/customers.csv",
        export_customers,
        "Customers as CSV (UTF-8 with BOM)",
        Answer(200, "CSV", {"text/csv": {"schema": {"type": "string"}}}),
        query=(TYPE, GRID_LIST, *GRID, HOURS),
        errors=(400,),
        downloads=True,
    ),
)
