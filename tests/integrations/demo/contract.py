"""The wire formats of face terminals and plate gates, written out from the published contract,
so the simulated devices are checked against the format rather than against the hub's parser."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Final

import fastjsonschema

SCHEMAS = Path(__file__).resolve().parents[3] / "integrations/mqtt/linli_mqtt/schemas"

_REF: Final = {"type": "string", "minLength": 1, "maxLength": 64}

FACE_TERMINAL_EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["access", "tailgating", "reverse_passing", "person_deleted"]},
        "method": {"enum": ["face", "card", "qr", "pin"]},
        "result": {"enum": ["granted", "denied", "request"]},
        "person_ref": _REF,
        "card_no": {"type": "string", "minLength": 1},
        "qr": {"type": "string"},
        "pin": {"type": "string"},
        "score": {"type": "number"},
        "template": {"type": "string", "pattern": "^[A-Za-z0-9+/]+={0,2}$"},
        "snapshot": {"type": "string", "pattern": "^[A-Za-z0-9+/]+={0,2}$"},
    },
    "allOf": [
        {
            "if": {"required": ["type"], "properties": {"type": {"const": "access"}}},
            "then": {"required": ["method", "result"]},
        },
        {
            "if": {
                "required": ["result", "method"],
                "properties": {"result": {"const": "request"}, "method": {"const": "face"}},
            },
            "then": {"required": ["template"]},
        },
        {
            "if": {"required": ["method"], "properties": {"method": {"const": "card"}}},
            "then": {"required": ["card_no"]},
        },
        {
            "if": {
                "required": ["result"],
                "properties": {"result": {"enum": ["granted", "denied"]}},
            },
            "then": {"required": ["person_ref"]},
        },
        {
            "if": {"required": ["type"], "properties": {"type": {"const": "person_deleted"}}},
            "then": {"required": ["person_ref"]},
        },
    ],
}

ANPR_GATE_EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["type", "plate", "color", "confidence", "direction", "record_id"],
    "properties": {
        "type": {"const": "plate"},
        "plate": {"type": "string", "minLength": 1},
        "color": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "direction": {"enum": ["in", "out"]},
        "record_id": {"type": "string", "minLength": 1},
    },
}

ANPR_GATE_STATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["barrier"],
    "properties": {"barrier": {"enum": ["open", "closed"]}},
}

ALARM_INFO_PLATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["AlarmInfoPlate"],
    "properties": {
        "AlarmInfoPlate": {
            "type": "object",
            "required": ["channel", "deviceName", "ipaddr", "serialno", "result"],
            "properties": {
                "channel": {"type": "integer"},
                "deviceName": {"type": "string"},
                "ipaddr": {"type": "string"},
                "serialno": {"type": "string", "minLength": 1},
                "result": {
                    "type": "object",
                    "required": ["PlateResult"],
                    "properties": {
                        "PlateResult": {
                            "type": "object",
                            "required": [
                                "license",
                                "colorType",
                                "type",
                                "confidence",
                                "plateid",
                                "isoffline",
                                "direction",
                                "timeStamp",
                            ],
                            "properties": {
                                "license": {"type": "string", "minLength": 7, "maxLength": 8},
                                "colorType": {"enum": [0, 1, 2, 3, 4, 5, 6]},
                                "type": {"type": "integer"},
                                "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
                                "plateid": {"type": "integer"},
                                "isoffline": {"enum": [0, 1]},
                                "direction": {"type": "integer"},
                                "timeStamp": {
                                    "type": "object",
                                    "required": ["Timeval"],
                                    "properties": {
                                        "Timeval": {
                                            "type": "object",
                                            "required": ["sec", "usec"],
                                            "properties": {
                                                "sec": {"type": "integer"},
                                                "usec": {
                                                    "type": "integer",
                                                    "minimum": 0,
                                                    "maximum": 999_999,
                                                },
                                            },
                                        }
                                    },
                                },
                            },
                        }
                    },
                },
            },
        }
    },
}

ISAPI_EVENT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["ipAddress", "dateTime", "eventType", "AccessControllerEvent"],
    "properties": {
        "ipAddress": {"type": "string"},
        "dateTime": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"},
        "eventType": {"const": "AccessControllerEvent"},
        "AccessControllerEvent": {
            "type": "object",
            "required": ["majorEventType", "subEventType", "currentVerifyMode", "serialNo"],
            "properties": {
                "majorEventType": {"const": 5},
                "subEventType": {"enum": [75, 76, 1, 133, 134]},
                "employeeNoString": {"type": "string", "minLength": 1},
                "cardNo": {"type": "string"},
                "currentVerifyMode": {"type": "string"},
                "serialNo": {"type": "integer"},
                "name": {"type": "string"},
            },
        },
    },
}


def checker(schema: dict[str, Any], *, envelope: bool = False) -> Any:
    """A validator of ``schema`` (and of the Linli envelope, for MQTT messages)."""
    own = fastjsonschema.compile(schema)
    outer = (
        fastjsonschema.compile(json.loads((SCHEMAS / "envelope.json").read_text()))
        if envelope
        else None
    )

    def check(payload: dict[str, Any]) -> None:
        if outer is not None:
            outer(payload)
        own(payload)

    return check


def template_dims(text: str) -> int:
    """How many float32 numbers a wire template holds (ValueError when not whole)."""
    raw = base64.b64decode(text, validate=True)
    if len(raw) % 4:
        raise ValueError("not float32s")
    return len(raw) // 4
