"""CSV downloads: /export/customers.csv?type=… (model/customer.py EXPORT_KINDS)."""

from datetime import date

from aiohttp import web

from mycrmd.customers.exporting import KINDS, export_csv, file_name
from mycrmd.web.params import GRID, HOURS, Choice, list_query
from mycrmd.web.routes import Answer, Endpoint
from mycrmd.web.services import SERVICES

TYPE = Choice("type", "which customers", KINDS, "all")


async def export_customers(request: web.Request) -> web.StreamResponse:
    """Streamed as it is read; `current` takes the grid's q, only_valid, sort and order,
    which are checked whatever the type, so a mistyped link fails rather than exports."""
    kind = TYPE.read(request)
    grid = list_query(request)
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
    async for chunk in export_csv(request.app[SERVICES].pool, kind, query, hours):
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
        query=(TYPE, *GRID, HOURS),
        errors=(400,),
        downloads=True,
    ),
)
