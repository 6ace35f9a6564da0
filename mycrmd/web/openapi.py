"""The OpenAPI 3.1 description of every route: /api/openapi.json. A test holds it to the
routes the application really has, and schemathesis holds the responses to its schemas."""

from typing import Any

from aiohttp import web

from mycrmd import __version__
from mycrmd.customer_export import KINDS
from mycrmd.store.customers import COLUMNS
from mycrmd.web.api import LOGS
from mycrmd.web.api_messages import TYPES
from mycrmd.web.api_settings import EDITABLE, LANGUAGE_SETTINGS, THEMES
from mycrmd.web.jsonout import respond
from mycrmd.web.params import MAX_PAGE, MAX_ROWS
from mycrmd.web.sessions import COOKIE

DATE_TIME = {"type": ["string", "null"], "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"}
NULLABLE_TEXT = {"type": ["string", "null"]}

CUSTOMER = {
    "type": "object",
    "additionalProperties": False,
    "required": list(COLUMNS),
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": NULLABLE_TEXT,
        "email": {"type": "string"},
        "importance": {"type": ["integer", "null"], "minimum": 0, "maximum": 255},
        "company": NULLABLE_TEXT,
        "country": NULLABLE_TEXT,
        "address": NULLABLE_TEXT,
        "phone": NULLABLE_TEXT,
        "website": NULLABLE_TEXT,
        "comment": NULLABLE_TEXT,
        "last_contact_date": DATE_TIME,
        "last_checked_date": DATE_TIME,
        "last_checked_log": NULLABLE_TEXT,
        "valid": {"type": ["integer", "null"], "minimum": 0, "maximum": 255},
    },
}
EDITABLE_CUSTOMER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": ["string", "null"], "maxLength": 128},
        "email": {"type": "string", "format": "email", "maxLength": 256},
        "importance": {"type": "integer", "minimum": 0, "maximum": 5},
        "company": {"type": ["string", "null"], "maxLength": 128},
        "country": {"type": ["string", "null"], "maxLength": 30},
        "address": {"type": ["string", "null"], "maxLength": 256},
        "phone": {"type": ["string", "null"], "maxLength": 30},
        "website": {"type": ["string", "null"], "maxLength": 256},
        "valid": {"type": "integer", "enum": [0, 1, 2]},
    },
}
NEW_CUSTOMER = {**EDITABLE_CUSTOMER, "required": ["email"]}
MESSAGE_ROW = {
    "type": "object",
    "required": ["id", "date", "type", "sender", "subject"],
    "properties": {
        "id": {"type": "integer"},
        "date": DATE_TIME,
        "type": {"type": ["string", "null"], "enum": [*TYPES, None]},
        "sender": NULLABLE_TEXT,
        "subject": NULLABLE_TEXT,
    },
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
                "row": {"type": "integer"},
            },
        }
    },
}
SETTINGS = {
    "type": "object",
    "required": ["mail_password_set"],
    "properties": {
        **{name: {"type": "string"} for name in EDITABLE if name != "mail_password"},
        "mail_checked_date": {"type": "string"},
        "mail_password_set": {"type": "boolean"},
    },
    "additionalProperties": False,
}
SETTINGS_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "followup_days": {"type": ["integer", "string"]},
        "followup_importance_operators": {"type": "string", "enum": ["=", ">", ">="]},
        "followup_importance": {"type": ["integer", "string"]},
        "monitor_mail_days": {"type": ["integer", "string"]},
        "mail_reserved_days": {"type": ["integer", "string"]},
        "mail_host": {"type": "string", "maxLength": 255},
        "mail_port": {"type": ["integer", "string"]},
        "mail_username": {"type": "string", "maxLength": 255},
        "mail_password": {"type": "string", "maxLength": 255, "writeOnly": True},
        "theme": {"type": "string", "enum": list(THEMES)},
        "language": {"type": "string", "enum": list(LANGUAGE_SETTINGS)},
        "woocommerce_api": {"type": "string", "maxLength": 1000},
    },
}


IMPORT_RESULT = {
    "type": "object",
    "required": ["rows", "inserted", "updated", "rejected", "encoding"],
    "properties": {
        "rows": {"type": "integer"},
        "inserted": {"type": "integer"},
        "updated": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["row", "field", "message"],
                "properties": {
                    "row": {"type": "integer"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "cells": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "encoding": {"type": "string"},
        "delimiter": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "rejected_total": {"type": "integer"},
        "duplicates": {"type": "array"},
        "ignored_columns": {"type": "array", "items": {"type": "string"}},
        "header": {"type": "array", "items": {"type": "string"}},
    },
}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["total", "rows"],
        "properties": {
            "total": {"type": ["integer", "null"]},
            "rows": {"type": "array", "items": item},
        },
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "the request is not as described",
        401: "no session: log in first (a password is set)",
        403: "a cross-site request, refused",
        404: "no such record",
        409: "conflicts with an existing record",
        413: "too large",
        503: "the database is unavailable",
    }
    return {str(status): _json(ERROR, words[status]) for status in (*statuses, 401, 403, 503)}


def _or_html(responses: dict[str, Any]) -> dict[str, Any]:
    """A download's errors: a page for the browser, JSON when asked (Accept)."""
    return {
        status: {
            **answer,
            "content": {**answer["content"], "text/html": {"schema": {"type": "string"}}},
        }
        for status, answer in responses.items()
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "page number"),
    _query("rows", {"type": "integer", "minimum": 0, "maximum": MAX_ROWS}, "rows per page"),
]
GRID_PARAMETERS = [
    _query(
        "q", {"type": "string", "maxLength": 256}, "search name, email, company, country, phone"
    ),
    _query("only_valid", {"type": "boolean"}, "only valid (1) and unconfirmed (2) customers"),
    _query("sort", {"type": "string", "enum": list(COLUMNS)}, "column to sort by"),
    _query("order", {"type": "string", "enum": ["asc", "desc"]}, "sort order"),
]
LIST_PARAMETERS = [
    *GRID_PARAMETERS,
    *PAGING,
    _query("total", {"type": "boolean"}, "count the matches too (default true)"),
    _query("after_id", {"type": "integer", "minimum": 1}, "the page after this customer's row"),
    _query("before_id", {"type": "integer", "minimum": 1}, "the page before this customer's row"),
]


def document() -> dict[str, Any]:
    customers = _list(CUSTOMER)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mycrmd",
            "version": __version__,
            "license": {"name": "GPL-3.0-or-later"},
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE},
            }
        },
        "security": [{"session": []}],
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Whether the database answers",
                    "security": [],
                    "responses": {
                        "200": _json({"type": "object"}, "healthy"),
                        "503": _json({"type": "object"}, "the database is unavailable"),
                    },
                }
            },
            "/api/customers": {
                "get": {
                    "summary": "A page of customers",
                    "parameters": LIST_PARAMETERS,
                    "responses": {"200": _json(customers, "customers"), **_errors(400)},
                },
                "post": {
                    "summary": "Add a customer",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": NEW_CUSTOMER}},
                    },
                    "responses": {"201": _json(CUSTOMER, "the new customer"), **_errors(400, 409)},
                },
            },
            "/api/customers/{id}": {
                "parameters": [ID],
                "get": {
                    "summary": "One customer",
                    "responses": {"200": _json(CUSTOMER, "the customer"), **_errors(404)},
                },
                "patch": {
                    "summary": "Edit a customer in place (not its comment or last contact date)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": EDITABLE_CUSTOMER}},
                    },
                    "responses": {"200": _json(CUSTOMER, "the customer"), **_errors(400, 404, 409)},
                },
                "delete": {
                    "summary": "Delete a customer",
                    "responses": {"204": {"description": "deleted"}, **_errors(404)},
                },
            },
            "/api/customers/{id}/comment": {
                "parameters": [ID],
                "put": {
                    "summary": "Replace the rich-text comment (sanitised)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["comment"],
                                    "additionalProperties": False,
                                    "properties": {"comment": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {"200": _json(CUSTOMER, "the customer"), **_errors(400, 404)},
                },
            },
            "/api/customers/{id}/messages": {
                "parameters": [ID],
                "get": {
                    "summary": "Messages this customer's address may see, newest first",
                    "parameters": PAGING,
                    "responses": {
                        "200": _json(_list(MESSAGE_ROW), "messages"),
                        **_errors(400, 404),
                    },
                },
            },
            "/api/followup": {
                "get": {
                    "summary": "Customers due for follow-up",
                    "parameters": LIST_PARAMETERS,
                    "responses": {"200": _json(customers, "customers"), **_errors(400)},
                }
            },
            "/api/messages": {
                "get": {
                    "summary": "Messages of one type (system notices by default)",
                    "parameters": [
                        _query("type", {"type": "string", "enum": list(TYPES)}, "type"),
                        *PAGING,
                    ],
                    "responses": {"200": _json(_list(MESSAGE_ROW), "messages"), **_errors(400)},
                }
            },
            "/api/messages/{id}": {
                "parameters": [ID],
                "get": {
                    "summary": "One message's details (its content is /messages/{id}/content)",
                    "responses": {
                        "200": _json(
                            {
                                **MESSAGE_ROW,
                                "required": [*MESSAGE_ROW["required"], "addresses"],
                                "properties": {
                                    **MESSAGE_ROW["properties"],
                                    "addresses": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                            "the message",
                        ),
                        **_errors(404),
                    },
                },
            },
            "/api/settings": {
                "get": {
                    "summary": "The settings (the password only as set or not)",
                    "responses": {"200": _json(SETTINGS, "settings"), **_errors()},
                },
                "patch": {
                    "summary": "Change settings; all are checked before any is saved",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": SETTINGS_PATCH}},
                    },
                    "responses": {"200": _json(SETTINGS, "settings"), **_errors(400)},
                },
            },
            "/api/stats/importance": {
                "get": {
                    "summary": "Customers by importance and validity",
                    "responses": {
                        "200": _json({"type": "object", "required": ["rows"]}, "counts"),
                        **_errors(),
                    },
                }
            },
            "/api/stats/messages": {
                "get": {
                    "summary": "Mails sent and received per week, the last 20 weeks",
                    "responses": {
                        "200": _json({"type": "object", "required": ["weeks"]}, "counts"),
                        **_errors(),
                    },
                }
            },
            "/api/jobs": {
                "get": {
                    "summary": "Each job's state and recent runs",
                    "responses": {
                        "200": _json({"type": "object", "required": ["jobs"]}, "jobs"),
                        **_errors(),
                    },
                }
            },
            "/api/jobs/{name}/run": {
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(LOGS)},
                    }
                ],
                "post": {
                    "summary": "Run a job now",
                    "responses": {
                        "202": _json(
                            {"type": "object", "required": ["job", "outcome"]}, "started or queued"
                        ),
                        **_errors(404),
                    },
                },
            },
            "/api/logs/{job}": {
                "parameters": [
                    {
                        "name": "job",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(LOGS)},
                    }
                ],
                "get": {
                    "summary": "The last 500 lines of a job's log",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["job", "lines"],
                                "properties": {
                                    "job": {"type": "string"},
                                    "lines": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                            "log lines, newest last",
                        ),
                        **_errors(404),
                    },
                },
            },
            "/api/import": {
                "post": {
                    "summary": "Import customers from a CSV file (multipart field csv_file)",
                    "parameters": [
                        _query("dry_run", {"type": "boolean"}, "check and count only"),
                        _query("progress", {"type": "boolean"}, "answer NDJSON progress lines"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["csv_file"],
                                    "properties": {
                                        "csv_file": {"type": "string", "format": "binary"}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "what was imported; with progress, NDJSON lines "
                            "of progress and then the result or the error",
                            "content": {
                                "application/json": {"schema": IMPORT_RESULT},
                                "application/x-ndjson": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 413),
                    },
                }
            },
            "/export/customers.csv": {
                "get": {
                    "summary": "Customers as CSV (UTF-8 with BOM)",
                    "parameters": [
                        _query("type", {"type": "string", "enum": list(KINDS)}, "which customers"),
                        *GRID_PARAMETERS,
                    ],
                    "responses": {
                        "200": {
                            "description": "CSV",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_or_html(_errors(400)),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1"}, **_errors()},
                }
            },
        },
    }


async def show_openapi(request: web.Request) -> web.Response:
    return respond(document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", show_openapi)
