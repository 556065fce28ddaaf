"""The ``plate_gate:`` configuration: car parks, gates and the offline window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from linli_plate_gate.const import (
    CONF_BARRIER_OPEN_SECONDS,
    CONF_CAR_PARKS,
    CONF_DEVICE_ID,
    CONF_GATES,
    CONF_OFFLINE_OPEN_WINDOW,
    CONF_WEBHOOK_ID,
    DEFAULT_BARRIER_OPEN_SECONDS,
    DEFAULT_OFFLINE_OPEN_WINDOW,
)

_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _id(value: Any) -> str:
    text = str(value)
    if not _ID.fullmatch(text):
        raise vol.Invalid(f"invalid id {value!r}: use 1–64 of A-Z a-z 0-9 _ -")
    return text


def _webhook_id(value: Any) -> str:
    text = str(value)
    if not 16 <= len(text) <= 256 or "/" in text:
        raise vol.Invalid("a webhook_id must be 16–256 characters without '/' (it is a secret)")
    return text


CAR_PARK_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _id,
        vol.Required("name"): vol.All(str, vol.Length(min=1, max=100)),
        vol.Optional("area_id"): str,
        vol.Required("capacity"): vol.All(vol.Coerce(int), vol.Range(min=0, max=100_000)),
    }
)

GATE_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Required("id"): _id,
            vol.Required("name"): vol.All(str, vol.Length(min=1, max=100)),
            vol.Required("car_park"): _id,
            vol.Optional("direction", default="both"): vol.In(["in", "out", "both"]),
            vol.Optional("area_id"): str,
            vol.Required("kind"): vol.In(["http", "mqtt"]),
            vol.Optional(CONF_WEBHOOK_ID): _webhook_id,
            vol.Optional(CONF_DEVICE_ID): _id,
        }
    ),
)


def _check(config: dict[str, Any]) -> dict[str, Any]:
    parks = {park["id"] for park in config[CONF_CAR_PARKS]}
    if len(parks) != len(config[CONF_CAR_PARKS]):
        raise vol.Invalid("car park ids must be unique")
    seen: set[str] = set()
    hooks: set[str] = set()
    devices: set[str] = set()
    for gate in config[CONF_GATES]:
        if gate["id"] in seen:
            raise vol.Invalid(f"gate id {gate['id']!r} is used twice")
        seen.add(gate["id"])
        if gate["car_park"] not in parks:
            raise vol.Invalid(f"gate {gate['id']!r} names an unknown car park {gate['car_park']!r}")
        if gate["kind"] == "http":
            hook = gate.get(CONF_WEBHOOK_ID)
            if hook is None:
                raise vol.Invalid(f"gate {gate['id']!r} (kind http) needs a webhook_id")
            if hook in hooks:
                raise vol.Invalid(f"gate {gate['id']!r}: webhook_id is used twice")
            hooks.add(hook)
        else:
            device = gate.get(CONF_DEVICE_ID, gate["id"])
            if device in devices:
                raise vol.Invalid(f"gate {gate['id']!r}: device_id {device!r} is used twice")
            devices.add(device)
    return config


CONFIG_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional(CONF_CAR_PARKS, default=list): [CAR_PARK_SCHEMA],
            vol.Optional(CONF_GATES, default=list): [GATE_SCHEMA],
            vol.Optional(CONF_OFFLINE_OPEN_WINDOW, default=DEFAULT_OFFLINE_OPEN_WINDOW): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=3600)
            ),
            vol.Optional(CONF_BARRIER_OPEN_SECONDS, default=DEFAULT_BARRIER_OPEN_SECONDS): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=600)
            ),
        }
    ),
    _check,
)
"""``plate_gate:`` — see the README for every key."""


@dataclass(frozen=True, slots=True)
class CarPark:
    """A car park: its gates count the cars in it."""

    id: str
    name: str
    area_id: str | None
    capacity: int


@dataclass(frozen=True, slots=True)
class GateConfig:
    """One gate (barrier + ANPR camera)."""

    id: str
    name: str
    car_park: str
    direction: str
    area_id: str | None
    kind: str
    webhook_id: str | None
    device_id: str


def car_parks(config: dict[str, Any]) -> dict[str, CarPark]:
    """The configured car parks by id."""
    return {
        park["id"]: CarPark(park["id"], park["name"], park.get("area_id"), park["capacity"])
        for park in config[CONF_CAR_PARKS]
    }


def gates(config: dict[str, Any], parks: dict[str, CarPark]) -> dict[str, GateConfig]:
    """The configured gates by id (a gate without area_id sits in its car park's area)."""
    return {
        gate["id"]: GateConfig(
            gate["id"],
            gate["name"],
            gate["car_park"],
            gate["direction"],
            gate.get("area_id") or parks[gate["car_park"]].area_id,
            gate["kind"],
            gate.get(CONF_WEBHOOK_ID),
            gate.get(CONF_DEVICE_ID, gate["id"]),
        )
        for gate in config[CONF_GATES]
    }
