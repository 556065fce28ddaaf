"""The simulated devices as a vendor would build them: topics, payloads and readings, no I/O.

Each device speaks Linli's device topics, convention v1 (``integrations/mqtt/TOPICS.md``):
``<prefix>/<kind>/<device_id>/{state,event,availability}`` with JSON payloads carrying
``"v": 1``. Device ids are the ids of the places they are in (``meter/b1-u1-301``,
``lift/b1-u1``, ``people_counter/north-gate``); a lift's load cell is a generic ``sensor``
(``sensor/b1-u1-load``). The e-bike camera in each lift pushes over an HTTP webhook instead
(:func:`camera_push`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from linli_demo.community import (
    COMMUNITY_METER,
    COUNTER,
    ELEVATOR,
    METER,
    DeviceKind,
    ebike_in_elevator,
    elevator_load,
    foot_traffic,
    localized,
    next_power,
)

VERSION: Final = 1
MANUFACTURER: Final = "Linli demo"
ONLINE: Final = "online"
OFFLINE: Final = "offline"


class Kind(StrEnum):
    """The Linli device kinds the simulated community uses."""

    METER = "meter"
    LIFT = "lift"
    PEOPLE_COUNTER = "people_counter"
    SENSOR = "sensor"


class Channel(StrEnum):
    """The topics of one device."""

    STATE = "state"
    EVENT = "event"
    AVAILABILITY = "availability"
    COMMAND = "command"


def topic(prefix: str, kind: str, device_id: str, channel: str) -> str:
    """Return a device topic: ``<prefix>/<kind>/<device_id>/<channel>``."""
    return f"{prefix}/{kind}/{device_id}/{channel}"


@dataclass(slots=True)
class SimDevice:
    """One simulated device: who it is, where it is, and its current readings."""

    kind: Kind
    device_id: str
    area_id: str
    name: str
    model: str
    peak: float = 0.0
    """A meter's peak draw (W), a counter's busiest minute (people)."""
    power_w: float = 0.0
    energy_kwh: float = 0.0
    floor: int = 1
    floors: tuple[int, ...] = (1,)
    door: str = "closed"
    load_kg: int = 0
    count: int = 0
    ebike: bool = False
    """Only lifts: whether an e-bike is in the car (the lift reports it, its camera pushes it)."""
    online: bool = True
    run_id: str = "0"
    """Makes message ids unique across runs (the hub drops a repeated id)."""
    sequence: int = field(default=0)

    @property
    def state_topic_parts(self) -> tuple[str, str]:
        """``(kind, device_id)`` of this device's topics."""
        return self.kind.value, self.device_id

    def availability_topic(self, prefix: str) -> str:
        """Where this device says ``online``/``offline`` (its last will says ``offline``)."""
        return topic(prefix, self.kind, self.device_id, Channel.AVAILABILITY)

    def state_payload(self, now: datetime, *, first: bool = False) -> dict[str, Any]:
        """This device's state message; the first one also says where it is and what it is."""
        self.sequence += 1
        payload: dict[str, Any] = {
            "v": VERSION,
            "ts": now.isoformat(timespec="milliseconds"),
            "id": f"{self.device_id}-{self.run_id}-{self.sequence}",
        }
        if self.kind is Kind.METER:
            payload["power_w"] = round(self.power_w)
            payload["energy_kwh"] = round(self.energy_kwh, 3)
        elif self.kind is Kind.LIFT:
            payload["floor"] = self.floor
            payload["door"] = self.door
            payload["ebike_detected"] = self.ebike
        elif self.kind is Kind.PEOPLE_COUNTER:
            payload["count"] = self.count
        else:
            payload.update(value=self.load_kg, unit="kg", device_class="weight")
            payload["state_class"] = "measurement"
        if first:
            payload["area_id"] = self.area_id
            payload["device"] = {
                "name": self.name,
                "manufacturer": MANUFACTURER,
                "model": self.model,
            }
        return payload

    def event_payload(self, event: str, now: datetime, **fields: Any) -> dict[str, Any]:
        """An event message (e.g. a lift's ``ebike_entered``)."""
        self.sequence += 1
        return {
            "v": VERSION,
            "ts": now.isoformat(timespec="milliseconds"),
            "id": f"{self.device_id}-{self.run_id}-{self.sequence}",
            "event": event,
            **fields,
        }

    def advance(self, hour: float, seconds: float, rng: random.Random) -> None:
        """Move the readings one step of ``seconds`` at the local ``hour``."""
        if self.kind is Kind.METER:
            if self.peak:
                self.power_w = next_power(self.power_w, self.peak, hour, rng)
            self.energy_kwh += max(self.power_w, 0.0) * seconds / 3_600_000
        elif self.kind is Kind.LIFT:
            self.floor = rng.choice(self.floors)
            self.door = rng.choice(("open", "closed", "closed"))
            self.ebike = ebike_in_elevator(rng)
        elif self.kind is Kind.PEOPLE_COUNTER:
            self.count = foot_traffic(self.peak, hour, rng)
        else:
            self.load_kg = elevator_load(rng)


# ---------------------------------------------------------------------- the community's devices
@dataclass(frozen=True, slots=True)
class Place:
    """An area as the device plan needs it: id, kind, short name, floor numbers below it."""

    id: str
    kind: str
    name: str
    floors: tuple[int, ...] = ()


def _device(kind: Kind, device_id: str, place: Place, what: DeviceKind, language: str) -> SimDevice:
    return SimDevice(
        kind,
        device_id,
        place.id,
        f"{place.name} {localized(what.names, language)}",
        what.model,
    )


LOAD_CELL = DeviceKind("load-cell", "Simulated lift load cell", ELEVATOR.names)


def plan_devices(
    community: Place,
    rooms: list[Place],
    units: list[Place],
    zones: list[Place],
    *,
    language: str,
    rng: random.Random,
) -> list[SimDevice]:
    """The devices of a community: a meter per lived-in room, a main meter, per unit a lift
    and its load cell, per zone a people counter. ``rooms`` are the lived-in ones."""
    devices = []
    for room in rooms:
        meter = _device(Kind.METER, room.id, room, METER, language)
        meter.peak = rng.uniform(800, 3500)
        meter.energy_kwh = round(rng.uniform(500, 20_000), 1)
        devices.append(meter)
    main = _device(Kind.METER, community.id, community, COMMUNITY_METER, language)
    devices.append(main)
    for unit in units:
        lift = _device(Kind.LIFT, unit.id, unit, ELEVATOR, language)
        lift.floors = unit.floors or (1,)
        devices.append(lift)
        devices.append(_device(Kind.SENSOR, f"{unit.id}-load", unit, LOAD_CELL, language))
    for zone in zones:
        counter = _device(Kind.PEOPLE_COUNTER, zone.id, zone, COUNTER, language)
        counter.peak = 40
        devices.append(counter)
    return devices


def main_meter_total(devices: list[SimDevice], community_id: str) -> float:
    """What the community's main meter reads: the sum of the flats' meters that are online."""
    return float(
        sum(
            round(d.power_w)
            for d in devices
            if d.kind is Kind.METER and d.device_id != community_id and d.online
        )
    )


def camera_push(lift: SimDevice, now: datetime, confidence: float) -> dict[str, Any]:
    """What a lift's e-bike camera POSTs to its webhook (the vendor's own JSON, not MQTT)."""
    return {
        "camera": f"{lift.device_id}-camera",
        "lift": lift.device_id,
        "detected": "ebike" if lift.ebike else "none",
        "confidence": round(confidence, 2),
        "floor": lift.floor,
        "time": now.isoformat(timespec="milliseconds"),
    }


def parse_camera_push(body: Mapping[str, Any]) -> tuple[str, bool, float]:
    """Read a camera push: ``(lift id, e-bike seen, confidence)``; ValueError when malformed."""
    lift = body.get("lift")
    detected = body.get("detected")
    confidence = body.get("confidence", 1.0)
    if not isinstance(lift, str) or not lift or len(lift) > 64:
        raise ValueError("'lift' must be a lift id")
    if detected not in ("ebike", "none"):
        raise ValueError("'detected' must be 'ebike' or 'none'")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError("'confidence' must be a number")
    return lift, detected == "ebike", float(confidence)
