"""JSON schemas of the ``face_terminal`` kind on Linli's MQTT device topics."""

from __future__ import annotations

from typing import Any, Final

_PERSON_REF: Final = {"type": "string", "minLength": 1, "maxLength": 64}

EVENT_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "face_terminal event, convention v1",
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["access", "tailgating", "reverse_passing", "person_deleted"]},
        "method": {"enum": ["face", "card", "qr", "pin"]},
        "result": {"enum": ["granted", "denied", "request"]},
        "person_ref": _PERSON_REF,
        "card_no": {"type": "string", "minLength": 1, "maxLength": 32},
        "qr": {"type": "string", "minLength": 1, "maxLength": 256},
        "pin": {"type": "string", "minLength": 1, "maxLength": 16},
        "score": {"type": "number"},
        "template": {"type": "string", "minLength": 1, "maxLength": 8192},
        "snapshot": {"type": "string", "minLength": 1, "maxLength": 65536},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "access"}}},
            "then": {"required": ["method", "result"]},
        },
        {
            "if": {"properties": {"type": {"const": "person_deleted"}}},
            "then": {"required": ["person_ref"]},
        },
    ],
}

COMMAND_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "face_terminal command, convention v1",
    "type": "object",
    "required": ["command"],
    "properties": {
        "command": {"enum": ["open", "deny", "delete_person", "enroll_face"]},
        "request_id": {"type": "string", "minLength": 1, "maxLength": 128},
        "person_ref": _PERSON_REF,
        "reason": {"type": "string", "maxLength": 64},
        "template": {"type": "string", "minLength": 1, "maxLength": 8192},
    },
}
