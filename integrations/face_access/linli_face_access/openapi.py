"""The OpenAPI 3.1 description of face_access's REST routes (added to ``/api/linli/openapi.json``).

Data beside the views of :mod:`linli_face_access.api`; a test checks that every route served
under ``/api/linli/`` is described, and that the views answer only the documented codes.
"""

from __future__ import annotations

from typing import Any, Final

from linli.components.api.openapi_parts import (
    NULLABLE_STRING,
    STRING,
    errors,
    json_body,
    json_reply,
    path_param,
    query_param,
    ref,
)

_NULLABLE_TIME: Final = {"type": ["string", "null"], "format": "date-time"}
_ID: Final = {"type": "string", "minLength": 1, "maxLength": 64}
_TAGS: Final = ["face_access"]
_BAD_INPUT: Final = {400: "Bad input, or a credential that cannot be issued as asked."}


def _errors(*codes: int) -> dict[str, Any]:
    """The error responses for ``codes`` (and 401), with face_access's 400 wording."""
    return errors(*codes, descriptions=_BAD_INPUT)


OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/linli/access_log": {
        "get": {
            "operationId": "listAccessLog",
            "summary": "The door access log in the user's scope, newest first.",
            "description": (
                "Admins: every door; staff, grid workers and police: doors in their areas "
                "(audited); residents: their own household only."
            ),
            "tags": _TAGS,
            "parameters": [
                query_param("household_id", "Only this household's passages (empty: any)."),
                query_param("door_id", "Only this door (empty: any)."),
                query_param(
                    "since",
                    "Only passages at or after this ISO 8601 time (UTC when without offset).",
                    {"type": "string", "format": "date-time"},
                ),
                query_param(
                    "limit",
                    "At most this many rows (default 100).",
                    {"type": "integer", "minimum": 1, "maximum": 10_000},
                ),
            ],
            "responses": {
                "200": json_reply(
                    {"type": "array", "items": ref("FaceAccessLogEntry")}, "The rows."
                ),
                **_errors(400, 403, 404),
            },
        }
    },
    "/api/linli/credentials": {
        "get": {
            "operationId": "listFaceAccessCredentials",
            "summary": "A person's, or a household's members', credentials (audited).",
            "description": (
                "Give `person_id` or `household_id`. Each person's cards, QR codes and PINs "
                "(never a secret), face enrolment and terminal deletions; for a household, a "
                "last item with its visitor QR codes."
            ),
            "tags": _TAGS,
            "parameters": [
                query_param("person_id", "The person (wins over household_id)."),
                query_param("household_id", "The household: each member, and its visitor codes."),
            ],
            "responses": {
                "200": json_reply(
                    {
                        "type": "array",
                        "items": {
                            "anyOf": [ref("PersonCredentials"), ref("HouseholdVisitorCodes")]
                        },
                    },
                    "The credentials.",
                ),
                **_errors(400, 404),
            },
        },
        "post": {
            "operationId": "issueFaceAccessCredential",
            "summary": "Issue a card, QR code, PIN or visitor QR code.",
            "description": (
                "A card, QR code or PIN needs `person_id` (a card its `card_no`, a PIN its "
                "`pin`); a visitor QR code needs `household_id` (a resident's own by "
                "default). A QR token is returned once, here, and never again. Residents may "
                "not issue cards."
            ),
            "tags": _TAGS,
            "requestBody": json_body(ref("NewFaceAccessCredential")),
            "responses": {
                "201": json_reply(
                    ref("IssuedFaceAccessCredential"), "The credential (and a QR token)."
                ),
                **_errors(400, 403, 404),
            },
        },
    },
    "/api/linli/credentials/{credential_id}/revoke": {
        "post": {
            "operationId": "revokeFaceAccessCredential",
            "summary": "Revoke a credential.",
            "tags": _TAGS,
            "parameters": [path_param("credential_id", "The credential's id.")],
            "responses": {
                "200": json_reply(ref("FaceAccessCredential"), "The revoked credential."),
                **_errors(403, 404),
            },
        }
    },
    "/api/linli/face_access/snapshots/{snapshot_id}": {
        "get": {
            "operationId": "getFaceSnapshot",
            "summary": "A face image taken at a door (JPEG; audited).",
            "description": (
                "Admins; staff, grid workers and police whose areas hold the door; residents "
                "for their own household. Kept only with `store_snapshots`."
            ),
            "tags": _TAGS,
            "parameters": [path_param("snapshot_id", "The snapshot's id (from the access log).")],
            "responses": {
                "200": {
                    "description": "The image.",
                    "content": {"image/jpeg": {"schema": {"type": "string"}}},
                },
                **_errors(404),
            },
        }
    },
}

OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "FaceAccessLogEntry": {
        "type": "object",
        "properties": {
            "id": STRING,
            "time": {"type": "string", "format": "date-time"},
            "door_id": STRING,
            "terminal_id": STRING,
            "area_id": NULLABLE_STRING,
            "person_id": NULLABLE_STRING,
            "household_id": NULLABLE_STRING,
            "credential_id": NULLABLE_STRING,
            "method": {"type": "string", "enum": ["face", "card", "qr", "pin"]},
            "granted": {"type": "boolean"},
            "reason": STRING,
            "decided_by": {"type": "string", "enum": ["terminal", "hub"]},
            "snapshot_id": NULLABLE_STRING,
        },
        "required": ["id", "time", "door_id", "terminal_id", "method", "granted", "reason"],
    },
    "FaceAccessCredential": {
        "type": "object",
        "properties": {
            "id": STRING,
            "type": {"type": "string", "enum": ["card", "qr", "pin", "visitor_qr"]},
            "person_id": NULLABLE_STRING,
            "household_id": NULLABLE_STRING,
            "label": NULLABLE_STRING,
            "card_no_tail": {
                "type": ["string", "null"],
                "description": "A card's last four characters.",
            },
            "issued_by": NULLABLE_STRING,
            "created": {"type": "string", "format": "date-time"},
            "expires": _NULLABLE_TIME,
            "revoked": _NULLABLE_TIME,
            "used": _NULLABLE_TIME,
            "active": {"type": "boolean"},
        },
        "required": ["id", "type", "person_id", "household_id", "created", "active"],
    },
    "PersonCredentials": {
        "type": "object",
        "properties": {
            "person_id": STRING,
            "credentials": {"type": "array", "items": ref("FaceAccessCredential")},
            "face": {
                "type": "object",
                "properties": {
                    "enrolled": {"type": "integer", "minimum": 0},
                    "templates": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": STRING,
                                "dims": {"type": "integer"},
                                "enrolled": {"type": "string", "format": "date-time"},
                            },
                            "required": ["id", "dims", "enrolled"],
                        },
                    },
                },
                "required": ["enrolled", "templates"],
            },
            "snapshots": {"type": "integer", "minimum": 0},
            "terminal_deletions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "person_id": STRING,
                        "terminal_id": STRING,
                        "requested": {"type": "string", "format": "date-time"},
                        "verified": _NULLABLE_TIME,
                        "error": NULLABLE_STRING,
                    },
                    "required": ["person_id", "terminal_id", "requested"],
                },
            },
        },
        "required": ["person_id", "credentials", "face", "snapshots", "terminal_deletions"],
    },
    "HouseholdVisitorCodes": {
        "type": "object",
        "properties": {
            "household_id": STRING,
            "visitor_codes": {"type": "array", "items": ref("FaceAccessCredential")},
        },
        "required": ["household_id", "visitor_codes"],
    },
    "NewFaceAccessCredential": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["card", "qr", "pin", "visitor_qr"]},
            "person_id": {**_ID, "description": "For a card, QR code or PIN."},
            "household_id": {**_ID, "description": "For a visitor QR code."},
            "card_no": {
                "type": "string",
                "minLength": 1,
                "maxLength": 32,
                "description": "A card's number: 4 to 32 ASCII letters or digits.",
            },
            "pin": {
                "type": "string",
                "minLength": 1,
                "maxLength": 16,
                "description": "A PIN: 4 to 8 digits.",
            },
            "label": {"type": "string", "minLength": 1, "maxLength": 255},
            "valid_hours": {
                "type": "number",
                "minimum": 0.01,
                "maximum": 744,
                "description": "How long a visitor QR code is valid (default 24 hours).",
            },
        },
        "required": ["type"],
        "additionalProperties": False,
    },
    "IssuedFaceAccessCredential": {
        "type": "object",
        "properties": {
            "credential": ref("FaceAccessCredential"),
            "qr": {"type": "string", "description": "A QR code's token: shown only now."},
        },
        "required": ["credential"],
    },
}
