"""The OpenAPI 3.1 description of plate_gate's REST routes (added to ``/api/linli/openapi.json``).

Data beside :mod:`linli_plate_gate.views`; a test checks that every route served under
``/api/linli/`` is described, and that the views answer only the documented codes.
"""

from __future__ import annotations

from typing import Any, Final

from linli_plate_gate.api import MAX_NOTE
from linli_plate_gate.plates import COLOR_CODES, PlateClass, PlateColor, PlateFlag

_STR: Final = {"type": "string"}
_NULLABLE_STR: Final = {"type": ["string", "null"]}
_NULLABLE_NUMBER: Final = {"type": ["number", "null"]}
_TAGS: Final = ["plate_gate"]
_ERRORS: Final = {
    400: "Bad input.",
    401: "No or invalid bearer token.",
    403: "Not allowed for this user.",
    404: "Not found, or not visible to this user.",
    409: "The plate is registered already.",
    503: "Plate gates are not set up.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    """Error responses: 401 in plain text, the others a Message; 401 and 503 always."""
    out: dict[str, Any] = {}
    for code in sorted({401, 503, *codes}):
        if code == 401:
            out["401"] = {
                "description": _ERRORS[401],
                "content": {"text/plain": {"schema": _STR}},
            }
        else:
            out[str(code)] = _json(_ref("Message"), _ERRORS[code])
    return out


def _list(name: str, description: str, *errors: int) -> dict[str, Any]:
    return {"200": _json({"type": "array", "items": _ref(name)}, description), **_errors(*errors)}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "description": description}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^/]+$"},
    }


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


_HOUSEHOLD_QUERY: Final = _query(
    "household_id", _text(64, "Only this household's entries (empty: every one in reach).")
)
_DELETED: Final = _json(_ref("Message"), "Done.")
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
            "requestBody": _body("NewResidentPlate"),
            "responses": {
                "201": _json(
                    {
                        "allOf": [
                            _ref("ResidentPlate"),
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
            "parameters": [_path("plate_id", "The plate's id.")],
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
            "requestBody": _body("NewBlacklistEntry"),
            "responses": {
                "201": _json(_ref("BlacklistEntry"), "The entry."),
                **_errors(400, 403),
            },
        },
    },
    "/api/linli/plates/blacklist/{entry_id}": {
        "delete": {
            "operationId": "removeFromPlateBlacklist",
            "summary": "Take a plate off the blacklist (staff, admins).",
            "tags": _TAGS,
            "parameters": [_path("entry_id", "The entry's id.")],
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
            "requestBody": _body("NewVisitorPass"),
            "responses": {
                "201": _json(_ref("VisitorPass"), "The pass."),
                **_errors(400, 403, 404),
            },
        },
    },
    "/api/linli/visitor_passes/{pass_id}": {
        "delete": {
            "operationId": "removeVisitorPass",
            "summary": "Cancel a visitor pass.",
            "tags": _TAGS,
            "parameters": [_path("pass_id", "The pass's id.")],
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
                _query("gate_id", _text(64, "Only this gate.")),
                _HOUSEHOLD_QUERY,
                _query("plate", _text(32, "Only this plate.")),
                _query("since", {**_STR, "description": "From this ISO 8601 time on."}),
                _query("until", {**_STR, "description": "Before this ISO 8601 time."}),
                _query(
                    "limit",
                    {
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
    "id": _STR,
    "plate": _STR,
    "color": _COLOR_OUT,
    "created_ts": {"type": "number"},
    "created_by": _NULLABLE_STR,
}
OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "ResidentPlate": {
        "type": "object",
        "properties": {
            **_PLATE_OUT,
            "household_id": _STR,
            "class": {"type": "string", "enum": [c.value for c in PlateClass]},
            "note": _NULLABLE_STR,
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
        "properties": {**_PLATE_OUT, "reason": _NULLABLE_STR},
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
            "household_id": _STR,
            "start_ts": {"type": "number"},
            "end_ts": {"type": "number"},
            "note": _NULLABLE_STR,
            "uses": {"type": "integer", "minimum": 0},
            "used": {"type": "boolean"},
            "first_used_ts": _NULLABLE_NUMBER,
            "last_read_id": _NULLABLE_STR,
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
            "read_id": _STR,
            "time_ts": {"type": "number"},
            "record_ts": _NULLABLE_NUMBER,
            "gate_id": _STR,
            "car_park": _STR,
            "area_id": _NULLABLE_STR,
            "direction": _STR,
            "source": _STR,
            "raw_plate": _STR,
            "plate": _STR,
            "color": _NULLABLE_STR,
            "plate_class": _STR,
            "plate_valid": {"type": "boolean"},
            "plate_flag": _NULLABLE_STR,
            "confidence": _NULLABLE_NUMBER,
            "category": _STR,
            "decision": _STR,
            "household_id": _NULLABLE_STR,
            "visitor_pass_id": _NULLABLE_STR,
            "offline": {"type": "boolean"},
            "opened_by": _NULLABLE_STR,
            "opened_ts": _NULLABLE_NUMBER,
            "denied_by": _NULLABLE_STR,
            "denied_ts": _NULLABLE_NUMBER,
        },
        "required": ["read_id", "time_ts", "gate_id", "car_park", "plate", "decision"],
    },
}
