"""Names shared by the plate_gate modules: the domain, events, decisions, config keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "plate_gate"

EVENT_PLATE_GATE_READ: Final = "plate_gate_read"
"""Fired after each read is logged: gate_id, gate_entity_id, car_park, area_id, direction,
plate, color, plate_valid, plate_flag, category, decision, household_id, visitor_pass_id,
read_id, offline."""
EVENT_PLATE_GATE_OPENED: Final = "plate_gate_opened"
"""Fired when a person opens a gate (service or cover): gate_id, read_id, user_id."""
EVENT_PLATE_GATE_DENIED: Final = "plate_gate_denied"
"""Fired when a guard answers an ``ask`` with deny: gate_id, read_id, user_id."""

DEVICE_KIND: Final = "anpr_gate"
"""The Linli MQTT device kind of gates on the broker."""
DATA_KIND: Final = "plate_log"
"""The personal-data kind of the gate log (:mod:`linli.privacy`)."""

CONF_CAR_PARKS: Final = "car_parks"
CONF_GATES: Final = "gates"
CONF_OFFLINE_OPEN_WINDOW: Final = "offline_open_window"
CONF_BARRIER_OPEN_SECONDS: Final = "barrier_open_seconds"
CONF_DEVICE_ID: Final = "device_id"
CONF_WEBHOOK_ID: Final = "webhook_id"

DEFAULT_OFFLINE_OPEN_WINDOW: Final = 60.0
DEFAULT_BARRIER_OPEN_SECONDS: Final = 10.0

OPENED_BY_HUB: Final = "hub"
"""``opened_by`` of a read the hub opened by itself (resident, visitor pass)."""


class Decision(StrEnum):
    """What the hub decided for a read."""

    OPEN = "open"
    DENY = "deny"
    ASK = "ask"


class Category(StrEnum):
    """Whose plate it is."""

    RESIDENT = "resident"
    VISITOR = "visitor"
    BLACKLIST = "blacklist"
    UNKNOWN = "unknown"
    MANUAL = "manual"
    """An open without a read (a guard opened the barrier by hand)."""


class Direction(StrEnum):
    """Which way a car passes a gate."""

    IN = "in"
    OUT = "out"
