"""Simulated face terminals at the units' entrances: Linli MQTT ones and a Hikvision-style one.

A :class:`FaceTerminal` speaks Linli's device topics as kind ``face_terminal``: it sends
``access`` events (a face capture as a template for the hub to decide, or a card swipe) on
its ``event`` topic and obeys the hub on its ``command`` topic: ``open``/``deny`` move its
door, ``enroll_face`` stores a template for on-device matching, ``delete_person`` deletes
the person's template and confirms with ``person_deleted``.

An :class:`IsapiTerminal` is another vendor's: it recognises faces itself and POSTs a
Hikvision ISAPI access-control event (multipart: a JSON ``AccessControllerEvent`` part and a
``Picture`` JPEG) to its webhook.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any, ClassVar, Final

import aiohttp
import orjson

from linli_demo.devices import VERSION
from linli_demo.identity import cosine, decode_template, encode_template, tiny_jpeg
from linli_demo.wire import DeviceLink, LinliDevice

_LOGGER = logging.getLogger(__name__)

KIND: Final = "face_terminal"
ANSWER_TIMEOUT: Final = 3.0
"""Seconds a terminal waits for the hub's answer before it shows "try again"."""
MATCH_THRESHOLD: Final = 0.8
PUSH_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Answer(StrEnum):
    """What happened at the door."""

    OPEN = "open"
    DENY = "deny"
    TIMEOUT = "timeout"
    """The hub did not answer in time: the door stays shut."""
    OFFLINE = "offline"
    """The terminal is not connected: nothing was sent."""


@dataclass(slots=True)
class FaceTerminal(LinliDevice):
    """A face/card terminal on a door, over its own MQTT connection."""

    kind: ClassVar[str] = KIND
    terminal_id: str
    area_id: str
    name: str
    prefix: str = "linli"
    run_id: str = "0"
    model: str = "Simulated face terminal"
    on_device: bool = False
    """Match faces against the templates the hub enrolled here, before asking the hub."""
    threshold: float = MATCH_THRESHOLD
    door: str = "closed"
    opened: int = 0
    denied: int = 0
    templates: dict[str, list[float]] = field(default_factory=dict)
    """Enrolled on the device (``enroll_face``), by person ref."""
    commands: list[dict[str, Any]] = field(default_factory=list)
    """Every command received, in order (for the demo's log and its tests)."""
    link: DeviceLink | None = None
    clock: Callable[[], datetime] = field(default=_utcnow)
    """The terminal's clock (the hub's, in the demo)."""
    sequence: int = 0
    _introduced: bool = False
    _pending: dict[str, asyncio.Future[Mapping[str, Any]]] = field(default_factory=dict)

    @property
    def device_id(self) -> str:
        """The terminal's id."""
        return self.terminal_id

    def make_link(self, host: str, port: int) -> DeviceLink:
        """This terminal's MQTT connection (last will ``offline``, subscribed to commands)."""
        return self._link(host, port)

    # ------------------------------------------------------------------ what it sends
    def face_event(
        self, capture: Sequence[float], now: datetime, snapshot: bytes | None = None
    ) -> dict[str, Any]:
        """A face at the door: ``granted`` when it matches a template enrolled here (with
        ``on_device``), else a ``request`` with the capture's template for the hub."""
        fields: dict[str, Any] = {"type": "access", "method": "face"}
        best, score = self.match(capture) if self.on_device else (None, 0.0)
        if best is not None:
            fields.update(result="granted", person_ref=best, score=round(score, 4))
        else:
            fields.update(result="request", template=encode_template(capture))
        if snapshot is not None:
            fields["snapshot"] = base64.b64encode(snapshot).decode("ascii")
        return self.message(now, **fields)

    def card_event(
        self, card_no: str, now: datetime, capture: Sequence[float] | None = None
    ) -> dict[str, Any]:
        """A card swiped: the hub decides. ``capture``: the face the camera saw at the swipe,
        sent as a template (the hub counts who uses the card)."""
        fields: dict[str, Any] = {
            "type": "access",
            "method": "card",
            "result": "request",
            "card_no": card_no,
        }
        if capture is not None:
            fields["template"] = encode_template(capture)
        return self.message(now, **fields)

    def match(self, capture: Sequence[float]) -> tuple[str | None, float]:
        """The best enrolled template for ``capture`` and its score (None below threshold)."""
        best: str | None = None
        score = 0.0
        for ref, template in self.templates.items():
            if len(template) == len(capture) and (s := cosine(template, capture)) > score:
                best, score = ref, s
        return (best, score) if score >= self.threshold else (None, score)

    # ------------------------------------------------------------------ the wire
    def publish(self, payload: Mapping[str, Any], channel: str = "event") -> bool:
        """Send one message over the terminal's own connection."""
        if self.link is None:
            return False
        return self.link.publish(self.topic(channel), orjson.dumps(payload))

    async def async_access(self, payload: dict[str, Any], wait: float = ANSWER_TIMEOUT) -> Answer:
        """Send an ``access`` event and, for a ``request``, wait for the hub's answer."""
        if payload["result"] != "request":
            if not self.publish(payload):
                return Answer.OFFLINE
            self._move_door(payload["result"] == "granted")
            return Answer.OPEN if payload["result"] == "granted" else Answer.DENY
        future: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[payload["id"]] = future
        try:
            if not self.publish(payload):
                return Answer.OFFLINE
            try:
                command = await asyncio.wait_for(future, wait)
            except TimeoutError:
                return Answer.TIMEOUT
        finally:
            self._pending.pop(payload["id"], None)
        return Answer(command["command"])

    def report(self, kind: str, now: datetime, snapshot: bytes | None = None) -> bool:
        """Report ``tailgating`` or ``reverse_passing`` seen by the door's sensor."""
        fields: dict[str, Any] = {"type": kind}
        if snapshot is not None:
            fields["snapshot"] = base64.b64encode(snapshot).decode("ascii")
        return self.publish(self.message(now, **fields))

    def on_command(self, topic: str, raw: bytes) -> None:
        """Obey one command of the hub (never raises: a device ignores what it cannot read)."""
        try:
            command = orjson.loads(raw)
            if not isinstance(command, dict) or command.get("v") not in (None, VERSION):
                raise ValueError("not a v1 object")
            self._obey(command)
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("Terminal %s ignored a command: %s", self.terminal_id, err)

    def _obey(self, command: dict[str, Any]) -> None:
        name = command["command"]
        if name in ("open", "deny"):
            self.commands.append(command)
            future = self._pending.get(str(command.get("request_id")))
            if future is not None and not future.done():
                future.set_result(command)
            self._move_door(name == "open")
        elif name == "enroll_face":
            ref = str(command["person_ref"])
            self.templates[ref] = decode_template(command["template"])
            self.commands.append({"command": name, "person_ref": ref})
        elif name == "delete_person":
            ref = str(command["person_ref"])
            self.templates.pop(ref, None)
            self.commands.append(command)
            self.publish(self.message(self.clock(), type="person_deleted", person_ref=ref))
        else:
            raise ValueError(f"unknown command {name!r}")

    def _move_door(self, open_it: bool) -> None:
        if open_it:
            self.door = "open"
            self.opened += 1
        else:
            self.denied += 1

    def relock(self) -> None:
        """The door has closed behind whoever went through."""
        self.door = "closed"


# ---------------------------------------------------------------------- Hikvision ISAPI
class SubEvent(IntEnum):
    """ISAPI access-control minor event types (major type 5, "event")."""

    CARD_VALID = 1
    FACE_PASSED = 75
    FACE_FAILED = 76
    TAILGATING = 0x85
    REVERSE_PASSING = 0x86


@dataclass(slots=True)
class IsapiTerminal:
    """A Hikvision-style face terminal: recognises on the device, pushes ISAPI events."""

    terminal_id: str
    area_id: str
    ip: str
    url: str | None = None
    """Its webhook on the hub (``http://…/api/webhook/<id>``)."""
    serial: int = 0
    """The last ``serialNo`` sent; the hub drops a repeated one."""
    enrolled: set[str] = field(default_factory=set)
    """Person refs whose face the terminal knows (its own face library)."""
    door: str = "closed"
    opened: int = 0
    pushes: list[int] = field(default_factory=list)
    """The hub's HTTP status of each push."""

    def event(
        self,
        sub_type: SubEvent,
        now: datetime,
        *,
        person_ref: str | None = None,
        card_no: str | None = None,
        verify_mode: str = "cardOrFace",
    ) -> dict[str, Any]:
        """The JSON part of one event, as the terminal writes it."""
        self.serial += 1
        event: dict[str, Any] = {
            "majorEventType": 5,
            "subEventType": int(sub_type),
            "currentVerifyMode": verify_mode,
            "serialNo": self.serial,
        }
        if person_ref is not None:
            event["employeeNoString"] = person_ref
        if card_no is not None:
            event["cardNo"] = card_no
        return {
            "ipAddress": self.ip,
            "portNo": 80,
            "protocol": "HTTP",
            "channelID": 1,
            "dateTime": now.isoformat(timespec="seconds"),
            "activePostCount": 1,
            "eventType": "AccessControllerEvent",
            "eventState": "active",
            "eventDescription": "Access Controller Event",
            "AccessControllerEvent": event,
        }

    def face(self, person_ref: str | None, now: datetime) -> dict[str, Any]:
        """A face at the door: passed when the terminal knows it, else failed."""
        if person_ref is not None and person_ref in self.enrolled:
            self.door, self.opened = "open", self.opened + 1
            return self.event(SubEvent.FACE_PASSED, now, person_ref=person_ref, verify_mode="face")
        return self.event(SubEvent.FACE_FAILED, now, verify_mode="face")

    def card(self, person_ref: str, card_no: str, now: datetime) -> dict[str, Any]:
        """A card the terminal's own card list accepts."""
        self.door, self.opened = "open", self.opened + 1
        return self.event(
            SubEvent.CARD_VALID, now, person_ref=person_ref, card_no=card_no, verify_mode="card"
        )

    async def async_push(
        self, session: aiohttp.ClientSession, event: Mapping[str, Any], picture: bool = True
    ) -> int:
        """POST one event (multipart, with a snapshot when ``picture``); the HTTP status."""
        if self.url is None:
            return 0
        body = multipart(event, tiny_jpeg((self.terminal_id, self.serial)) if picture else None)
        async with session.post(self.url, data=body, timeout=PUSH_TIMEOUT) as response:
            await response.read()
            self.pushes.append(response.status)
            if response.status != 200:
                _LOGGER.warning(
                    "Terminal %s: the hub answered %s", self.terminal_id, response.status
                )
            return response.status


def multipart(event: Mapping[str, Any], picture: bytes | None) -> aiohttp.MultipartWriter:
    """An ISAPI event notification: ``multipart/form-data``, JSON part then ``Picture``."""
    writer = aiohttp.MultipartWriter("form-data")
    part = writer.append(orjson.dumps(event), {"Content-Type": "application/json"})
    part.set_content_disposition("form-data", name="AccessControllerEvent")
    if picture is not None:
        image = writer.append(picture, {"Content-Type": "image/jpeg"})
        image.set_content_disposition("form-data", name="Picture", filename="Picture.jpg")
    return writer
