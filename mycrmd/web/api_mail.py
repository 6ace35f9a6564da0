"""The mail sync's ledger (issue 17): per folder, what the server holds within the window and
what became of it, so a person can see that nothing is missing."""

from aiohttp import web

from mycrmd.jobs.fetch_mail import mail_server
from mycrmd.model.folders import SKIP_REASONS
from mycrmd.store import config_table, mail_ledger
from mycrmd.web.jsonout import respond
from mycrmd.web.routes import Endpoint, json_answer
from mycrmd.web.services import SERVICES


async def list_folders(request: web.Request) -> web.Response:
    """The ledger of the configured account (another account's is not shown)."""
    pool = request.app[SERVICES].pool
    server = mail_server(await config_table.load(pool))
    rows = await mail_ledger.rows(pool, server.account) if server is not None else []
    return respond({"rows": rows})


_COUNT = {"type": "integer", "minimum": 0}
FOLDER_ROW_SCHEMA = {
    "type": "object",
    "required": [
        "folder",
        "uidvalidity",
        "last_uid",
        "on_server",
        "stored",
        "skipped",
        "missing",
        "last_sync",
        "push",
    ],
    "properties": {
        "folder": {"type": "string"},
        "uidvalidity": _COUNT,
        "last_uid": _COUNT,
        "on_server": _COUNT,
        "stored": _COUNT,
        "skipped": {
            "type": "object",
            "required": [reason.value for reason in SKIP_REASONS],
            "properties": {reason.value: _COUNT for reason in SKIP_REASONS},
        },
        "missing": _COUNT,
        "last_sync": {"type": ["string", "null"]},
        "push": {"type": "boolean"},
    },
}

ENDPOINTS = (
    Endpoint(
        "GET",
        "/api/mail/folders",
        list_folders,
        "The sync ledger per mail folder: on the server, stored, skipped by reason, missing",
        json_answer(
            {
                "type": "object",
                "required": ["rows"],
                "properties": {"rows": {"type": "array", "items": FOLDER_ROW_SCHEMA}},
            },
            "one row per folder",
        ),
    ),
)
