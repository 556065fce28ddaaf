"""Simulated ANPR barrier gates at the car park: the common Chinese LPR HTTP push.

A gate's camera reads a plate and POSTs an ``AlarmInfoPlate`` record to its webhook; the
HTTP response decides the barrier (``Response_AlarmInfoPlate.info == "ok"`` raises it). When
the hub does not answer, the camera keeps the record and pushes it again later with
``isoffline: 1``, oldest first, until the hub acknowledges it, as real cameras do (the record
keeps its serial number, plate id and time, so the hub can tell a re-push). Between cars the
camera polls the same URL (``{"heartbeat": …}``); an ``ok`` answer raises the barrier (a
guard opened the gate for a car the hub did not know).

A gate of another make speaks MQTT instead, as kind ``anpr_gate`` on its own connection: it
sends each plate as an ``event`` (``type: plate``), reports its barrier (``state``) and obeys
``open``/``close`` commands (the hub's decision, or a guard's answer for an unknown car).
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

import aiohttp
import orjson

from linli_demo.identity import PlateColor
from linli_demo.wire import DeviceLink, LinliDevice

_LOGGER = logging.getLogger(__name__)

KIND: Final = "anpr_gate"
PUSH_TIMEOUT: Final = aiohttp.ClientTimeout(total=3)
MAX_BUFFER: Final = 1000
"""Records a camera keeps while the hub is away (the oldest go first when it is full)."""
_JSON: Final = {"Content-Type": "application/json"}
COLOR_NAMES: Final[Mapping[int, str]] = {
    PlateColor.UNKNOWN: "unknown",
    PlateColor.BLUE: "blue",
    PlateColor.YELLOW: "yellow",
    PlateColor.WHITE: "white",
    PlateColor.BLACK: "black",
    PlateColor.GREEN: "green",
}


class Outcome(StrEnum):
    """What a gate did with a car."""

    OPEN = "open"
    """The hub said ``ok``: the barrier went up."""
    DENY = "deny"
    """The hub answered ``no``: the barrier stays down (the guard may still open it)."""
    BUFFERED = "buffered"
    """The hub did not answer: the record waits in the camera for a re-push."""
    SENT = "sent"
    """Sent over MQTT: the hub answers with a command, if at all."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class AnprGate(LinliDevice):
    """One barrier lane with its plate camera."""

    kind: ClassVar[str] = KIND
    gate_id: str
    area_id: str
    name: str
    ip: str
    serialno: str
    url: str | None = None
    """The hub's webhook for this camera's pushes (``http://…/api/webhook/<id>``)."""
    protocol: str = "http"
    """``http`` (AlarmInfoPlate push) or ``mqtt`` (plate events on the gate's topics)."""
    direction: str = "in"
    encoding: str = "utf-8"
    """Some cameras write GB18030 (without saying so)."""
    prefix: str = "linli"
    run_id: str = "0"
    model: str = "Simulated ANPR gate"
    barrier: str = "closed"
    opened: int = 0
    plateid: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_BUFFER))
    """Records the hub has not acknowledged, oldest first (marked ``isoffline: 1``)."""
    answers: list[str] = field(default_factory=list)
    """The ``info`` of every acknowledged push, in order."""
    commands: list[dict[str, Any]] = field(default_factory=list)
    link: DeviceLink | None = None
    clock: Callable[[], datetime] = field(default=_utcnow)
    sequence: int = 0
    _introduced: bool = False

    # ------------------------------------------------------------------ the HTTP push
    def record(self, plate: str, color: int, now: datetime, confidence: int = 98) -> dict[str, Any]:
        """The camera's ``AlarmInfoPlate`` for one car (a new ``plateid``)."""
        self.plateid += 1
        stamp = now.timestamp()
        sec = int(stamp)
        return {
            "AlarmInfoPlate": {
                "channel": 0,
                "deviceName": self.name,
                "ipaddr": self.ip,
                "serialno": self.serialno,
                "result": {
                    "PlateResult": {
                        "license": plate,
                        "colorType": color,
                        "type": 1,
                        "confidence": confidence,
                        "plateid": self.plateid,
                        "isoffline": 0,
                        "direction": 0,
                        "timeStamp": {"Timeval": {"sec": sec, "usec": round((stamp - sec) * 1e6)}},
                    }
                },
            }
        }

    def encode(self, record: Mapping[str, Any]) -> bytes:
        """The body as this camera writes it (UTF-8, or GB18030 for some vendors)."""
        text = orjson.dumps(record).decode()
        return text.encode(self.encoding)

    async def _post(self, session: aiohttp.ClientSession, record: Mapping[str, Any]) -> str | None:
        """POST one record; the response's ``info``, or None when the hub did not answer."""
        assert self.url is not None
        try:
            async with session.post(
                self.url, data=self.encode(record), headers=_JSON, timeout=PUSH_TIMEOUT
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    _LOGGER.info("Gate %s: the hub answered %s", self.gate_id, response.status)
                    return None
            answer = orjson.loads(raw)["Response_AlarmInfoPlate"]
            info = answer["info"]
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            _LOGGER.info("Gate %s could not reach the hub: %s", self.gate_id, err or type(err))
            return None
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("Gate %s: unreadable answer: %s", self.gate_id, err)
            return None
        self.answers.append(str(info))
        return str(info)

    async def async_push(
        self,
        session: aiohttp.ClientSession,
        plate: str,
        color: int,
        now: datetime | None = None,
        confidence: int = 98,
    ) -> Outcome:
        """A car arrives: push its record and obey the answer; keep it when nobody answers.

        After a push the hub answered, the camera also re-pushes what it kept.
        """
        record = self.record(plate, color, now or self.clock(), confidence)
        if self.url is None:
            self.keep(record)
            return Outcome.BUFFERED
        info = await self._post(session, record)
        if info is None:
            self.keep(record)
            return Outcome.BUFFERED
        self._answer(info == "ok")
        if self.buffer:
            await self.async_flush(session)
        return Outcome.OPEN if info == "ok" else Outcome.DENY

    def keep(self, record: dict[str, Any]) -> None:
        """Hold a record the hub did not acknowledge, marked as an offline record."""
        record["AlarmInfoPlate"]["result"]["PlateResult"]["isoffline"] = 1
        self.buffer.append(record)

    async def async_flush(self, session: aiohttp.ClientSession) -> int:
        """Re-push the kept records, oldest first, until one is not acknowledged; return how
        many the hub took. The barrier follows only a live record, never a re-push."""
        sent = 0
        while self.buffer and self.url is not None:
            if await self._post(session, self.buffer[0]) is None:
                break
            self.buffer.popleft()
            sent += 1
        return sent

    async def async_heartbeat(self, session: aiohttp.ClientSession) -> bool | None:
        """The camera's poll (``{"heartbeat": …}``): ``info: ok`` means a guard opened the gate
        since, so the barrier goes up. Kept records follow an answered poll. None when the
        hub did not answer, else whether the barrier went up."""
        if self.url is None:
            return None
        body = {"heartbeat": {"serialno": self.serialno, "channel": 0, "countid": self.plateid}}
        try:
            async with session.post(
                self.url, data=self.encode(body), headers=_JSON, timeout=PUSH_TIMEOUT
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    return None
            info = orjson.loads(raw)["Response_Heartbeat"]["info"]
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError, TypeError):
            return None
        if info == "ok":
            self.raise_barrier()
        if self.buffer:
            await self.async_flush(session)
        return bool(info == "ok")

    # ------------------------------------------------------------------ the barrier
    def _answer(self, open_it: bool) -> None:
        if open_it:
            self.raise_barrier()

    def raise_barrier(self) -> None:
        """The barrier goes up (and the gate says so)."""
        self.barrier = "open"
        self.opened += 1
        self.publish_state()

    def lower_barrier(self) -> None:
        """The car has passed: the barrier comes down."""
        if self.barrier != "closed":
            self.barrier = "closed"
            self.publish_state()

    # ------------------------------------------------------------------ MQTT
    @property
    def device_id(self) -> str:
        """The gate's id."""
        return self.gate_id

    def make_link(self, host: str, port: int) -> DeviceLink:
        """The gate's MQTT connection: barrier state, commands, and plates when ``mqtt``."""
        return self._link(host, port, hello=self._hello)

    def _hello(self) -> tuple[str, bytes]:
        self._introduced = False
        return self.topic("state"), orjson.dumps(self.message(self.clock(), barrier=self.barrier))

    def publish_state(self) -> bool:
        """Report the barrier (retained, as device states are)."""
        if self.link is None:
            return False
        payload = orjson.dumps(self.message(self.clock(), barrier=self.barrier))
        return self.link.publish(self.topic("state"), payload, retain=True)

    def plate_event(
        self, plate: str, color: int, now: datetime, confidence: float = 0.98
    ) -> dict[str, Any]:
        """A plate read as an MQTT ``event`` (gates configured for MQTT)."""
        self.plateid += 1
        return self.message(
            now,
            type="plate",
            plate=plate,
            color=COLOR_NAMES.get(color, "unknown"),
            confidence=confidence,
            direction=self.direction,
            record_id=f"{self.serialno}-{self.plateid}",
        )

    def send_plate(self, plate: str, color: int, now: datetime | None = None) -> Outcome:
        """Send a plate over MQTT; the hub's ``open`` command, if any, raises the barrier."""
        payload = self.plate_event(plate, color, now or self.clock())
        if self.link is None or not self.link.publish(self.topic("event"), orjson.dumps(payload)):
            return Outcome.BUFFERED
        return Outcome.SENT

    def on_command(self, topic: str, raw: bytes) -> None:
        """Obey ``open``/``close`` (never raises: a device ignores what it cannot read)."""
        try:
            command = orjson.loads(raw)
            name = command["command"]
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("Gate %s ignored a command: %s", self.gate_id, err)
            return
        if name == "open":
            self.commands.append(command)
            self.raise_barrier()
        elif name == "close":
            self.commands.append(command)
            self.lower_barrier()
        else:
            _LOGGER.warning("Gate %s ignored the unknown command %r", self.gate_id, name)


def camera_serial(gate_id: str) -> str:
    """The serial number of ``gate_id``'s camera, as these cameras print it (stable)."""
    digest = hashlib.sha256(f"anpr\x1f{gate_id}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:16]}"
