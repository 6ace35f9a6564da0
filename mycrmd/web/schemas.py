"""JSON Schemas of what the API reads and answers, made from the model's definitions."""

from typing import Any

from mycrmd.model.customer import FIELDS, Field, Kind
from mycrmd.model.followup import REASON_COLUMNS, DueRule
from mycrmd.model.history import Source
from mycrmd.model.message import MessageType
from mycrmd.model.settings import SECRETS, SETTINGS, SettingKind

DATE_TIME = {"type": ["string", "null"], "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"}
_TINYINT = {"minimum": 0, "maximum": 255}  # what the column holds, whatever a client wrote


def _stored(field: Field) -> dict[str, Any]:
    """A field as the API answers it: what the column may hold."""
    if field.kind is Kind.ID:
        return {"type": "integer", "minimum": 1}
    if field.kind is Kind.EMAIL:
        return {"type": "string"}
    if field.kind in (Kind.NUMBER, Kind.VALIDITY):
        return {"type": ["integer", "null"], **_TINYINT}
    if field.kind is Kind.DATETIME:
        return DATE_TIME
    return {"type": ["string", "null"]}


def _written(field: Field) -> dict[str, Any]:
    """A field as a person may write it."""
    if field.kind is Kind.EMAIL:
        return {"type": "string", "format": "email", "maxLength": field.length}
    if field.kind is Kind.VALIDITY:
        return {"type": "integer", "enum": list(field.choices)}
    if field.kind is Kind.NUMBER:
        return {"type": "integer", "minimum": min(field.choices), "maximum": max(field.choices)}
    return {"type": ["string", "null"], "maxLength": field.length}


CUSTOMER = {
    "type": "object",
    "additionalProperties": False,
    "required": [field.name for field in FIELDS],
    "properties": {field.name: _stored(field) for field in FIELDS},
}
EDITABLE_CUSTOMER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {field.name: _written(field) for field in FIELDS if field.editable},
}
NEW_CUSTOMER = {**EDITABLE_CUSTOMER, "required": ["email"]}
_DAYS = {"type": ["integer", "null"]}
AWAITING_CUSTOMER = {
    **CUSTOMER,
    "required": [*CUSTOMER["required"], "waiting_since", "last_received_id"],
    "properties": {
        **CUSTOMER["properties"],
        "waiting_since": DATE_TIME,
        "last_received_subject": {"type": ["string", "null"]},
        "last_received_id": {"type": ["integer", "null"]},
    },
}
DUE_CUSTOMER = {
    **CUSTOMER,
    "required": [*CUSTOMER["required"], *REASON_COLUMNS, "due_after_days"],
    "properties": {
        **CUSTOMER["properties"],
        "days_since_contact": _DAYS,
        "days_since_company_contact": _DAYS,
        "due_rule": {"type": "string", "enum": list(DueRule)},
        "due_after_days": {"type": "integer"},
    },
}
MESSAGE_ROW = {
    "type": "object",
    "required": ["id", "date", "type", "sender", "subject"],
    "properties": {
        "id": {"type": "integer"},
        "date": DATE_TIME,
        "type": {"type": ["string", "null"], "enum": [*MessageType, None]},
        "sender": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"]},
    },
}
HISTORY_ROW = {
    "type": "object",
    "required": ["id", "at", "field", "old", "new", "source", "reason", "message_id"],
    "properties": {
        "id": {"type": "integer"},
        "at": DATE_TIME,
        "field": {"type": "string"},
        "old": {"type": ["string", "null"]},
        "new": {"type": ["string", "null"]},
        "source": {"type": "string", "enum": list(Source)},
        "reason": {"type": "string"},
        "message_id": {"type": ["integer", "null"]},
    },
}
MESSAGE = {
    **MESSAGE_ROW,
    "required": [*MESSAGE_ROW["required"], "addresses"],
    "properties": {
        **MESSAGE_ROW["properties"],
        "addresses": {"type": "array", "items": {"type": "string"}},
    },
}
# A search hit: the message row, its addresses, and plain text around the match with the
# matches' [start, end) offsets (UTF-16 units), which the UI escapes and wraps.
SEARCH_HIT = {
    **MESSAGE,
    "required": [*MESSAGE["required"], "snippet"],
    "properties": {
        **MESSAGE["properties"],
        "snippet": {
            "type": "object",
            "required": ["text", "marks"],
            "properties": {
                "text": {"type": "string"},
                "marks": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
            },
        },
    },
}
# A secret is only said to be set or not, as <name>_set.
SETTINGS_SHOWN = {
    "type": "object",
    "required": [f"{name}_set" for name in SECRETS],
    "properties": {
        **{setting.name: {"type": "string"} for setting in SETTINGS if not setting.secret},
        **{f"{name}_set": {"type": "boolean"} for name in SECRETS},
    },
    "additionalProperties": False,
}


def _setting_change(kind: SettingKind, choices: tuple[str, ...], length: int) -> dict[str, Any]:
    if kind is SettingKind.WHOLE:
        return {"type": ["integer", "string"]}
    if kind is SettingKind.CHOICE:
        return {"type": "string", "enum": list(choices)}
    return {"type": "string", "maxLength": length}


SETTINGS_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        setting.name: {
            **_setting_change(setting.kind, setting.choices, setting.max_length),
            **({"writeOnly": True} if setting.secret else {}),
        }
        for setting in SETTINGS
        if setting.editable
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
                # every refused input when there are several (PATCH /api/settings)
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["total", "rows"],
        "properties": {
            "total": {"type": ["integer", "null"]},
            "rows": {"type": "array", "items": item},
        },
    }
