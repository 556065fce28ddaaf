"""Hikvision ISAPI access-control event pushes: parse multipart (JSON + Picture) or JSON.

A terminal posts ``multipart/form-data`` with a JSON part (named ``AccessControllerEvent``
or ``event_log``) and optionally a ``Picture`` JPEG part, or the JSON alone::

    {"ipAddress": "192.168.1.64", "dateTime": "2026-03-01T08:00:00+08:00",
     "eventType": "AccessControllerEvent",
     "AccessControllerEvent": {"majorEventType": 5, "subEventType": 75,
                               "employeeNoString": "<person id>", "cardNo": "…",
                               "currentVerifyMode": "face", "serialNo": 1234}}

Major type 5 (events); minor 75 face passed, 76 face failed, 1 valid card, 0x85 tailgating,
0x86 reverse passing. Other minors are ignored (answered 200, counted). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from linli_face_access.const import (
    ANOMALY_REVERSE,
    ANOMALY_TAILGATING,
    MAX_SNAPSHOT_BYTES,
    METHOD_CARD,
    METHOD_FACE,
)

MAJOR_EVENT: Final = 5
MINOR_CARD_VALID: Final = 1
MINOR_FACE_PASSED: Final = 75
MINOR_FACE_FAILED: Final = 76
MINOR_TAILGATING: Final = 0x85
MINOR_REVERSE_PASSING: Final = 0x86
JSON_PART_NAMES: Final = ("AccessControllerEvent", "event_log")
PICTURE_PART: Final = "Picture"
_BOUNDARY_RE: Final = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME_RE: Final = re.compile(rb'\bname="?([^";\r\n]+)"?', re.IGNORECASE)


class HikvisionError(ValueError):
    """A push that is not a usable ISAPI access-control event."""


@dataclass(frozen=True, slots=True)
class HikEvent:
    """What a push says, in Linli's terms.

    ``action`` is ``access`` (with ``method`` and ``granted``), ``anomaly`` (with
    ``anomaly``) or ``ignored`` (another event type or minor).
    """

    action: str
    minor: int | None
    serial_no: int | None
    person_ref: str | None = None
    card_no: str | None = None
    method: str | None = None
    granted: bool | None = None
    anomaly: str | None = None
    verify_mode: str | None = None
    picture: bytes | None = None


def _multipart_parts(content_type: str, body: bytes) -> dict[str, bytes]:
    match = _BOUNDARY_RE.search(content_type)
    if match is None:
        raise HikvisionError("multipart body without a boundary")
    delimiter = b"--" + match.group(1).strip().encode("latin-1")
    parts: dict[str, bytes] = {}
    for raw_chunk in body.split(delimiter)[1:]:
        if raw_chunk.startswith(b"--"):
            break
        chunk = raw_chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            continue
        name = _NAME_RE.search(head)
        if name is None:
            continue
        content = content.removesuffix(b"\r\n").removesuffix(b"\n")
        parts[name.group(1).decode("latin-1")] = content
    return parts


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise HikvisionError("the event part is not UTF-8 JSON") from err
    if not isinstance(data, dict):
        raise HikvisionError("the event JSON is not an object")
    return data


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise HikvisionError(f"{what} must be an integer")
    try:
        return int(value, 0) if isinstance(value, str) else value
    except ValueError as err:
        raise HikvisionError(f"{what} must be an integer") from err


def _str(value: Any, what: str, max_length: int = 64) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > max_length:
        raise HikvisionError(f"{what} must be a string of at most {max_length} characters")
    return value.strip() or None


def parse_push(content_type: str, body: bytes) -> HikEvent:
    """Parse one push; :class:`HikvisionError` for anything unusable."""
    picture: bytes | None = None
    if content_type.lower().startswith("multipart/"):
        parts = _multipart_parts(content_type, body)
        raw = next((parts[name] for name in JSON_PART_NAMES if name in parts), None)
        if raw is None:
            raise HikvisionError("no AccessControllerEvent JSON part in the multipart body")
        picture = parts.get(PICTURE_PART) or None
        if picture is not None and (
            len(picture) > MAX_SNAPSHOT_BYTES or not picture.startswith(b"\xff\xd8")
        ):
            raise HikvisionError("the Picture part is not a JPEG of at most 48 KiB")
    else:
        raw = body
    data = _json(raw)
    if data.get("eventType") != "AccessControllerEvent":
        return HikEvent("ignored", None, None)
    event = data.get("AccessControllerEvent")
    if not isinstance(event, dict):
        raise HikvisionError("AccessControllerEvent must be an object")
    major = _int(event.get("majorEventType"), "majorEventType")
    minor = _int(event.get("subEventType"), "subEventType")
    serial = _int(event.get("serialNo"), "serialNo")
    person_ref = _str(event.get("employeeNoString"), "employeeNoString")
    card_no = _str(event.get("cardNo"), "cardNo", 32)
    verify_mode = _str(event.get("currentVerifyMode"), "currentVerifyMode")
    common: dict[str, Any] = {
        "minor": minor,
        "serial_no": serial,
        "person_ref": person_ref,
        "card_no": card_no,
        "verify_mode": verify_mode,
        "picture": picture,
    }
    if major != MAJOR_EVENT:
        return HikEvent("ignored", **common)
    if minor in (MINOR_FACE_PASSED, MINOR_FACE_FAILED):
        return HikEvent("access", method=METHOD_FACE, granted=minor == MINOR_FACE_PASSED, **common)
    if minor == MINOR_CARD_VALID:
        return HikEvent("access", method=METHOD_CARD, granted=True, **common)
    if minor == MINOR_TAILGATING:
        return HikEvent("anomaly", anomaly=ANOMALY_TAILGATING, **common)
    if minor == MINOR_REVERSE_PASSING:
        return HikEvent("anomaly", anomaly=ANOMALY_REVERSE, **common)
    return HikEvent("ignored", **common)
