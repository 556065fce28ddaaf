"""Device intake: the common Chinese LPR HTTP push (``AlarmInfoPlate``) and the MQTT kind.

HTTP: the camera POSTs to ``/api/webhook/<webhook_id>``; the body is JSON in UTF-8 or
GB18030/GBK (what most cameras send). The answer decides the barrier::

    {"Response_AlarmInfoPlate": {"info": "ok", "channelNum": 0, "content": "...",
                                 "is_pay": "false", "serialData": []}}

``info: ok`` opens it. The same URL takes the camera's comet poll, ``{"heartbeat": {...}}``,
answered ``{"Response_Heartbeat": {"info": "ok" | "no", "serialData": []}}``: ``ok`` when a
guard opened the gate since (an open for an HTTP gate waits for the camera's next request).
A malformed body is answered 400 with a message saying what is wrong.

MQTT: kind ``anpr_gate`` on Linli's device topics (event ``{"type": "plate", "plate",
"color", "confidence", "direction", "record_id"}``, command ``{"command": "open"|"close",
"read_id"}``, state ``{"barrier": "open"|"closed"}``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from linli.components.webhook import WebhookError
from linli_plate_gate.const import DEVICE_KIND, Direction
from linli_plate_gate.gate import PlateRead
from linli_plate_gate.plates import MAX_RAW_LENGTH, classify, parse_color

if TYPE_CHECKING:
    from linli import Hub
    from linli_mqtt import DeviceMessage
    from linli_plate_gate.config import GateConfig
    from linli_plate_gate.gate import GateManager, ReadOutcome

_LOGGER = logging.getLogger(__name__)

MAX_SERIAL: Final = 64


class PushError(ValueError):
    """A push that is not a usable AlarmInfoPlate or heartbeat (answered 400)."""


@dataclass(frozen=True, slots=True)
class AlarmPlate:
    """The parts of an ``AlarmInfoPlate`` push the hub uses (the picture is not kept)."""

    serialno: str | None
    channel: int
    license: str
    color_type: int
    confidence: float | None
    plateid: str | None
    offline: bool
    sec: int | None
    usec: int

    @property
    def record_ts(self) -> float | None:
        """When the camera read the plate (its own clock), or None."""
        return None if self.sec is None else self.sec + self.usec / 1_000_000

    def dedup_key(self, gate_id: str) -> str | None:
        """The record's identity: (gate, serialno, plateid, sec, usec); None without one."""
        if self.plateid is None and self.sec is None:
            return None
        return f"http:{gate_id}:{self.serialno or ''}:{self.plateid}:{self.sec}:{self.usec}"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The camera's poll: is there an open waiting for me?"""

    serialno: str | None
    channel: int


def decode_body(body: bytes) -> str:
    """The body as text: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError:
        raise PushError("the body is neither UTF-8 nor GB18030 text") from None


def _int(value: Any, what: str, *, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise PushError(f"{what} should be an integer, got {value!r}"[:200])


def _text(value: Any, what: str, max_length: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value).strip()
        if len(text) > max_length:
            raise PushError(f"{what} is longer than {max_length} characters")
        return text or None
    raise PushError(f"{what} should be a string, got {type(value).__name__}")


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PushError(f"{what} should be a JSON object")
    return value


def parse_push(body: bytes) -> AlarmPlate | Heartbeat:
    """Parse a push body; raise :class:`PushError` saying what is wrong."""
    if not body.strip():
        raise PushError("the body is empty: expected an AlarmInfoPlate or heartbeat JSON object")
    try:
        data = json.loads(decode_body(body))
    except json.JSONDecodeError as err:
        raise PushError(f"the body is not valid JSON ({err.msg} at {err.pos})") from None
    data = _object(data, "the body")
    if "heartbeat" in data:
        beat = data["heartbeat"]
        beat = {} if beat is None else _object(beat, "heartbeat")
        channel = _int(beat.get("channel"), "heartbeat.channel", default=0)
        return Heartbeat(
            _text(beat.get("serialno"), "heartbeat.serialno", MAX_SERIAL), channel or 0
        )
    if "AlarmInfoPlate" not in data:
        raise PushError("expected an AlarmInfoPlate or heartbeat object")
    alarm = _object(data["AlarmInfoPlate"], "AlarmInfoPlate")
    result = _object(alarm.get("result"), "AlarmInfoPlate.result")
    plate = _object(result.get("PlateResult"), "AlarmInfoPlate.result.PlateResult")
    license_ = plate.get("license")
    if not isinstance(license_, str):
        raise PushError("PlateResult.license should be a string (the plate number)")
    if len(license_) > MAX_RAW_LENGTH:
        raise PushError(f"PlateResult.license is longer than {MAX_RAW_LENGTH} characters")
    color_type = _int(plate.get("colorType"), "PlateResult.colorType", default=0) or 0
    confidence = plate.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, int | float)
    ):
        raise PushError("PlateResult.confidence should be a number")
    offline = _int(plate.get("isoffline"), "PlateResult.isoffline", default=0)
    if offline not in (0, 1):
        raise PushError("PlateResult.isoffline should be 0 or 1")
    stamp = plate.get("timeStamp")
    sec: int | None = None
    usec = 0
    if stamp is not None:
        timeval = _object(_object(stamp, "PlateResult.timeStamp").get("Timeval"), "Timeval")
        sec = _int(timeval.get("sec"), "Timeval.sec")
        usec = _int(timeval.get("usec"), "Timeval.usec", default=0) or 0
        if sec is not None and not 0 <= sec < 2**33:
            raise PushError("Timeval.sec is out of range")
    return AlarmPlate(
        serialno=_text(alarm.get("serialno"), "AlarmInfoPlate.serialno", MAX_SERIAL),
        channel=_int(alarm.get("channel"), "AlarmInfoPlate.channel", default=0) or 0,
        license=license_,
        color_type=color_type,
        confidence=None if confidence is None else float(confidence),
        plateid=_text(plate.get("plateid"), "PlateResult.plateid", MAX_SERIAL),
        offline=offline == 1,
        sec=sec,
        usec=usec,
    )


def _json(data: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(data), content_type="application/json")


def plate_response(opens: bool, content: str, channel: int = 0) -> web.Response:
    """The answer to an AlarmInfoPlate push (``info: ok`` opens the barrier)."""
    return _json(
        {
            "Response_AlarmInfoPlate": {
                "info": "ok" if opens else "no",
                "channelNum": channel,
                "content": content,
                "is_pay": "false",
                "serialData": [],
            }
        }
    )


def heartbeat_response(opens: bool) -> web.Response:
    """The answer to a heartbeat poll (``info: ok`` opens the barrier)."""
    return _json({"Response_Heartbeat": {"info": "ok" if opens else "no", "serialData": []}})


def _content(outcome: ReadOutcome) -> str:
    if outcome.opens:
        return f"open: {outcome.category.value}"
    if outcome.offline and outcome.category.value != "blacklist":
        return "deny: offline record, logged"
    if outcome.decision.value == "ask":
        return "ask: please wait for the guard"
    return f"deny: {outcome.category.value}"


async def async_handle_push(
    manager: GateManager, gate: GateConfig, request: web.Request
) -> web.Response:
    """Answer one push of an HTTP gate (a read or a heartbeat)."""
    try:
        parsed = parse_push(await request.read())
    except PushError as err:
        _LOGGER.info("Refused a push to gate %s: %s", gate.id, err)
        raise WebhookError(str(err), HTTPStatus.BAD_REQUEST) from err
    if isinstance(parsed, Heartbeat):
        return heartbeat_response(manager.take_pending_open(gate.id))
    try:
        color = parse_color(parsed.color_type)
    except ValueError as err:
        raise WebhookError(f"PlateResult.colorType: {err}") from err
    outcome = await manager.async_handle_read(
        PlateRead(
            gate,
            classify(parsed.license, color),
            "http",
            dedup_key=parsed.dedup_key(gate.id),
            record_ts=parsed.record_ts,
            offline=parsed.offline,
            confidence=parsed.confidence,
        )
    )
    opens = outcome.opens or manager.take_pending_open(gate.id)
    return plate_response(opens, _content(outcome), parsed.channel)


# ---------------------------------------------------------------------------- MQTT

MQTT_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "event": {
        "type": "object",
        "required": ["type", "plate"],
        "properties": {
            "type": {"enum": ["plate"]},
            "plate": {"type": "string", "maxLength": MAX_RAW_LENGTH},
            "color": {"type": ["string", "integer", "null"], "maxLength": 16},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "direction": {"enum": ["in", "out"]},
            "record_id": {"type": "string", "minLength": 1, "maxLength": 128},
        },
    },
    "command": {
        "type": "object",
        "required": ["command"],
        "properties": {
            "command": {"enum": ["open", "close"]},
            "read_id": {"type": "string", "maxLength": 64},
        },
    },
    "state": {
        "type": "object",
        "required": ["barrier"],
        "properties": {"barrier": {"enum": ["open", "closed"]}},
    },
}
"""The ``anpr_gate`` kind's own fields (the envelope ``v``/``ts``/``id`` is checked too)."""


async def async_handle_mqtt(hub: Hub, manager: GateManager, message: DeviceMessage) -> None:
    """Handle one accepted ``anpr_gate`` message."""
    gate = manager.gates_by_device.get(message.device_id)
    if gate is None:
        _LOGGER.warning(
            "Message from %s/%s, which is no configured gate: ignored",
            DEVICE_KIND,
            message.device_id,
        )
        return
    payload = message.payload
    if message.channel == "state":
        manager.report_barrier(gate.id, payload["barrier"] == "open")
        return
    if message.channel != "event":
        return
    try:
        color = parse_color(payload.get("color"))
    except ValueError as err:
        _LOGGER.warning("Gate %s sent %s; taken as unknown colour", gate.id, err)
        color = None
    device_time = message.device_time
    record_ts = None if device_time is None else device_time.timestamp()
    now = hub.clock.time()
    offline = record_ts is not None and now - record_ts > manager.offline_open_window
    record_id = payload.get("record_id") or message.message_id
    direction = payload.get("direction")
    await manager.async_handle_read(
        PlateRead(
            gate,
            classify(payload["plate"], color),
            "mqtt",
            direction=None if direction is None else Direction(direction),
            dedup_key=None if record_id is None else f"mqtt:{gate.id}:{record_id}",
            record_ts=record_ts,
            offline=offline,
            confidence=payload.get("confidence"),
        )
    )
