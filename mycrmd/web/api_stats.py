"""Figures for the statistics tab (R-ST1)."""

from datetime import date

from aiohttp import web

from mycrmd.store import stats
from mycrmd.web.jsonout import respond
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.services import SERVICES

WEEKS = 20


async def show_importance_stats(request: web.Request) -> web.Response:
    """Customers by importance and validity."""
    return respond({"rows": await stats.customers_by_importance(request.app[SERVICES].pool)})


async def show_message_stats(request: web.Request) -> web.Response:
    """Mails sent and received per week, the last WEEKS weeks, oldest first."""
    weeks = await stats.mails_per_week(request.app[SERVICES].pool, WEEKS, date.today())
    return respond({"weeks": weeks})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/stats/importance",
        show_importance_stats,
        "Customers by importance and validity",
        json_answer({"type": "object", "required": ["rows"]}, "counts"),
    ),
    Endpoint(
        "GET",
        "/api/stats/messages",
        show_message_stats,
        f"Mails sent and received per week, the last {WEEKS} weeks",
        json_answer({"type": "object", "required": ["weeks"]}, "counts"),
    ),
)
