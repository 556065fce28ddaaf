"""The OpenAPI 3.1 description of plate_gate's REST routes (added to ``/api/linli/openapi.json``).

Data beside :mod:`linli_plate_gate.views`; a test checks that every route served under
``/api/linli/`` is described, and that the views answer only the documented codes.
"""

from __future__ import annotations

from typing import Any, Final

from linli.components.api.openapi_parts import (
    NULLABLE_STRING,
    STRING,
    array_of,
    errors,
    json_body,
    json_reply,
    path_param,
    query_param,
    ref,
)
from linli_plate_gate.api import MAX_NOTE
from linli_plate_gate.plates import COLOR_CODES, PlateClass, PlateColor, PlateFlag

_NULLABLE_NUMBER: Final = {"type": ["number", "null"]}
_TAGS: Final = ["plate_gate"]
_ERRORS: Final = {409: "The plate is registered already.", 503: "Plate gates are not set up."}


def _errors(*codes: int) -> dict[str, Any]:
    """The error responses for ``codes``, and 401 and 503 always."""
    return errors(503, *codes, descriptions=_ERRORS)


def _list(name: str, description: str, *codes: int) -> dict[str, Any]:
    return {"200": json_reply(array_of(name), description), **_errors(*codes)}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "description": description}


_HOUSEHOLD_QUERY: Final = query_param(
    "household_id", schema=_text(64, "Only this household's entries (empty: every one in reach).")
)
_DELETED: Final = json_reply(ref("Message"), "Done.")
_TIME: Final = {
    "type": ["string", "number"],
    "description": "An ISO 8601 time (local when without offset) or Unix seconds.",
}
_COLOR: Final = {
    "anyOf": [
        {"type": "string", "description": "A name: blue, yellow, 蓝, 黄牌 … or unknown."},
        {"type": "integer", "minimum": min(COLOR_CODES), "maximum": max(COLOR_CODES)},
        {"type": "null"},
    ],
    "description": "The plate colour: a name or an ANPR colorType code (0 unknown).",
}
_PLATE: Final = _text(32, "A licence plate (粤B12345); spaces and dots are ignored.")
_COLOR_OUT: Final = {"type": ["string", "null"], "enum": [*(c.value for c in PlateColor), None]}

OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/linli/plates": {
        "get": {
            "operationId": "listResidentPlates",
            "summary": "Resident plates the user may read (audited for staff and grid workers).",
            "tags": _TAGS,
            "parameters": [_HOUSEHOLD_QUERY],
            "responses": _list("ResidentPlate", "The plates.", 403, 404),
        },
        "post": {
            "operationId": "addResidentPlate",
            "summary": "Register a household's plate (staff in scope, admins).",
            "tags": _TAGS,
            "requestBody": json_body(ref("NewResidentPlate")),
            "responses": {
                "201": json_reply(
                    {
                        "allOf": [
                            ref("ResidentPlate"),
                            {
                                "type": "object",
                                "properties": {
                                    "flag": {
                                        "type": ["string", "null"],
                                        "enum": [*(f.value for f in PlateFlag), None],
                                    }
                                },
                                "required": ["flag"],
                            },
                        ]
                    },
                    "The plate, and why a plausible plate fits no standard rule (if so).",
                ),
                **_errors(400, 403, 404, 409),
            },
        },
    },
    "/api/linli/plates/{plate_id}": {
        "delete": {
            "operationId": "removeResidentPlate",
            "summary": "Remove a resident plate (staff in scope, admins).",
            "tags": _TAGS,
            "parameters": [path_param("plate_id", "The plate's id.")],
            "responses": {"200": _DELETED, **_errors(403, 404)},
        }
    },
    "/api/linli/plates/blacklist": {
        "get": {
            "operationId": "listPlateBlacklist",
            "summary": "The blacklist (staff, admins; audited for staff).",
            "tags": _TAGS,
            "responses": _list("BlacklistEntry", "The entries.", 403),
        },
        "post": {
            "operationId": "addToPlateBlacklist",
            "summary": "Never let a plate in (staff, admins).",
            "tags": _TAGS,
            "requestBody": json_body(ref("NewBlacklistEntry")),
            "responses": {
                "201": json_reply(ref("BlacklistEntry"), "The entry."),
                **_errors(400, 403),
            },
        },
    },
    "/api/linli/plates/blacklist/{entry_id}": {
        "delete": {
            "operationId": "removeFromPlateBlacklist",
            "summary": "Take a plate off the blacklist (staff, admins).",
            "tags": _TAGS,
            "parameters": [path_param("entry_id", "The entry's id.")],
            "responses": {"200": _DELETED, **_errors(403, 404)},
        }
    },
    "/api/linli/visitor_passes": {
        "get": {
            "operationId": "listVisitorPasses",
            "summary": "Visitor passes still running, or ended within a day.",
            "description": "Admins: all; staff and grid workers: in scope; residents: their own.",
            "tags": _TAGS,
            "parameters": [_HOUSEHOLD_QUERY],
            "responses": _list("VisitorPass", "The passes.", 403, 404),
        },
        "post": {
            "operationId": "addVisitorPass",
            "summary": "Let a visitor's plate in for a window of at most 31 days.",
            "description": "Residents for their own household; staff in scope; admins.",
            "tags": _TAGS,
            "requestBody": json_body(ref("NewVisitorPass")),
            "responses": {
                "201": json_reply(ref("VisitorPass"), "The pass."),
                **_errors(400, 403, 404),
            },
        },
    },
    "/api/linli/visitor_passes/{pass_id}": {
        "delete": {
            "operationId": "removeVisitorPass",
            "summary": "Cancel a visitor pass.",
            "tags": _TAGS,
            "parameters": [path_param("pass_id", "The pass's id.")],
            "responses": {"200": _DELETED, **_errors(403, 404)},
        }
    },
    "/api/linli/gate_log": {
        "get": {
            "operationId": "listGateLog",
            "summary": "Plate reads the user may see, newest first.",
            "description": (
                "Admins: all; staff, grid workers and police: gates in their areas (audited); "
                "residents: their own household's reads. Other query keys are refused."
            ),
            "tags": _TAGS,
            "parameters": [
                query_param("gate_id", schema=_text(64, "Only this gate.")),
                _HOUSEHOLD_QUERY,
                query_param("plate", schema=_text(32, "Only this plate.")),
                query_param(
                    "since", schema={**STRING, "description": "From this ISO 8601 time on."}
                ),
                query_param(
                    "until", schema={**STRING, "description": "Before this ISO 8601 time."}
                ),
                query_param(
                    "limit",
                    schema={
                        "type": "integer",
                        "description": "At most this many (1 to 1000; default 100).",
                    },
                ),
            ],
            "responses": _list("GateRead", "The reads.", 400, 403, 404),
        }
    },
}

_PLATE_OUT: Final = {
    "id": STRING,
    "plate": STRING,
    "color": _COLOR_OUT,
    "created_ts": {"type": "number"},
    "created_by": NULLABLE_STRING,
}
OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "ResidentPlate": {
        "type": "object",
        "properties": {
            **_PLATE_OUT,
            "household_id": STRING,
            "class": {"type": "string", "enum": [c.value for c in PlateClass]},
            "note": NULLABLE_STRING,
        },
        "required": ["id", "household_id", "plate", "color", "class", "note", "created_ts"],
    },
    "NewResidentPlate": {
        "type": "object",
        "properties": {
            "household_id": _text(64, "The household."),
            "plate": _PLATE,
            "color": _COLOR,
            "note": {**_text(MAX_NOTE, "A note."), "type": ["string", "null"]},
        },
        "required": ["household_id", "plate"],
        "additionalProperties": False,
    },
    "BlacklistEntry": {
        "type": "object",
        "properties": {**_PLATE_OUT, "reason": NULLABLE_STRING},
        "required": ["id", "plate", "color", "reason", "created_ts"],
    },
    "NewBlacklistEntry": {
        "type": "object",
        "properties": {
            "plate": _PLATE,
            "color": _COLOR,
            "reason": {**_text(MAX_NOTE, "Why."), "type": ["string", "null"]},
        },
        "required": ["plate"],
        "additionalProperties": False,
    },
    "VisitorPass": {
        "type": "object",
        "properties": {
            **_PLATE_OUT,
            "household_id": STRING,
            "start_ts": {"type": "number"},
            "end_ts": {"type": "number"},
            "note": NULLABLE_STRING,
            "uses": {"type": "integer", "minimum": 0},
            "used": {"type": "boolean"},
            "first_used_ts": _NULLABLE_NUMBER,
            "last_read_id": NULLABLE_STRING,
        },
        "required": ["id", "household_id", "plate", "start_ts", "end_ts", "uses", "used"],
    },
    "NewVisitorPass": {
        "type": "object",
        "properties": {
            "household_id": _text(64, "The household (a resident's own by default)."),
            "plate": _PLATE,
            "color": _COLOR,
            "start": _TIME,
            "end": _TIME,
            "note": {**_text(MAX_NOTE, "A note."), "type": ["string", "null"]},
        },
        "required": ["plate", "start", "end"],
        "additionalProperties": False,
    },
    "GateRead": {
        "type": "object",
        "properties": {
            "read_id": STRING,
            "time_ts": {"type": "number"},
            "record_ts": _NULLABLE_NUMBER,
            "gate_id": STRING,
            "car_park": STRING,
            "area_id": NULLABLE_STRING,
            "direction": STRING,
            "source": STRING,
            "raw_plate": STRING,
            "plate": STRING,
            "color": NULLABLE_STRING,
            "plate_class": STRING,
            "plate_valid": {"type": "boolean"},
            "plate_flag": NULLABLE_STRING,
            "confidence": _NULLABLE_NUMBER,
            "category": STRING,
            "decision": STRING,
            "household_id": NULLABLE_STRING,
            "visitor_pass_id": NULLABLE_STRING,
            "offline": {"type": "boolean"},
            "opened_by": NULLABLE_STRING,
            "opened_ts": _NULLABLE_NUMBER,
            "denied_by": NULLABLE_STRING,
            "denied_ts": _NULLABLE_NUMBER,
        },
        "required": ["read_id", "time_ts", "gate_id", "car_park", "plate", "decision"],
    },
}
