"""What Linli's device topics carry: kinds, messages, rejections and counters (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from linli import Hub
    from linli.entity import Entity

CONVENTION_VERSION: Final = 1

CHANNEL_EVENT: Final = "event"
CHANNEL_STATE: Final = "state"
CHANNEL_COMMAND: Final = "command"
CHANNEL_AVAILABILITY: Final = "availability"
SCHEMA_CHANNELS: Final = frozenset({CHANNEL_EVENT, CHANNEL_STATE, CHANNEL_COMMAND})
"""Channels whose payloads are JSON objects checked against the kind's schema."""

PAYLOAD_ONLINE: Final = "online"
PAYLOAD_OFFLINE: Final = "offline"

KIND_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
DEVICE_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Why a message was rejected: the keys of the diagnostics counters.
REASON_TOO_LARGE: Final = "too_large"
REASON_NOT_UTF8: Final = "not_utf8"
REASON_INVALID_JSON: Final = "invalid_json"
REASON_NOT_OBJECT: Final = "not_object"
REASON_BAD_TOPIC: Final = "bad_topic"
REASON_UNKNOWN_KIND: Final = "unknown_kind"
REASON_BAD_DEVICE_ID: Final = "bad_device_id"
REASON_UNKNOWN_CHANNEL: Final = "unknown_channel"
REASON_UNEXPECTED_CHANNEL: Final = "unexpected_channel"
REASON_UNSUPPORTED_VERSION: Final = "unsupported_version"
REASON_INVALID_PAYLOAD: Final = "invalid_payload"
REASON_BAD_AVAILABILITY: Final = "bad_availability"
REASON_HANDLER_ERROR: Final = "handler_error"
REASONS: Final = (
    REASON_TOO_LARGE,
    REASON_NOT_UTF8,
    REASON_INVALID_JSON,
    REASON_NOT_OBJECT,
    REASON_BAD_TOPIC,
    REASON_UNKNOWN_KIND,
    REASON_BAD_DEVICE_ID,
    REASON_UNKNOWN_CHANNEL,
    REASON_UNEXPECTED_CHANNEL,
    REASON_UNSUPPORTED_VERSION,
    REASON_INVALID_PAYLOAD,
    REASON_BAD_AVAILABILITY,
    REASON_HANDLER_ERROR,
)


@dataclass(slots=True)
class DeviceMessage:
    """One accepted message from a device.

    ``payload`` is the validated JSON object; on the ``availability`` channel it is
    ``{"available": True | False}``. ``received_at`` is the transport's receive timestamp.
    """

    kind: str
    device_id: str
    channel: str
    payload: dict[str, Any]
    received_at: float
    topic: str = ""

    @property
    def message_id(self) -> str | None:
        """The device's message id (``"id"``), for idempotency, or None."""
        value = self.payload.get("id")
        return value if isinstance(value, str) else None

    @property
    def device_time(self) -> datetime | None:
        """The device's own timestamp (``"ts"``) as an aware datetime, or None."""
        return parse_ts(self.payload.get("ts"))


def parse_ts(value: object) -> datetime | None:
    """Return a payload ``ts`` (ISO 8601 or epoch milliseconds) as an aware UTC datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class Rejected(NamedTuple):
    """A message that was not accepted: why, where from, and a short human detail."""

    reason: str
    topic: str
    device: str
    """``<kind>/<device_id>`` when the topic named them, else the (shortened) topic."""
    detail: str


@dataclass(slots=True)
class DeviceContext:
    """What an entity factory knows about the device it makes entities for.

    One per device, shared by its entities: ``available`` follows the device's
    ``availability`` topic, ``device_info`` is what the entities report as their device.
    """

    kind: str
    device_id: str
    unique_prefix: str
    """``<kind>/<device_id>``: prefix for the entities' unique ids, the device's identifier."""
    name: str
    available: bool = True
    device_info: dict[str, Any] = field(default_factory=dict)


EntityFactory = Callable[[DeviceContext], Iterable["Entity"]]
MessageHandler = Callable[["Hub", DeviceMessage], Any]


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """A payload kind on the Linli device topics, as a capability integration registers it.

    :param kind: The topic level ``<kind>`` (``[a-z][a-z0-9_]{0,31}``), e.g. ``"meter"``.
    :param schemas: A JSON schema (draft 7) per channel (``"event"``, ``"state"``,
        ``"command"``) for the kind's own fields; the envelope (``v``, ``ts``, ``id``,
        ``area_id``, ``device``) is checked for every kind. A channel without a schema is
        not accepted for this kind.
    :param on_message: Called with ``(hub, message)`` for every accepted message of this
        kind, on the loop (a coroutine function runs as a task).
    :param entities: Makes the entities of a device when it is first seen; an entity with a
        ``handle_device_message(message) -> bool`` method gets each message of its device and
        has its state written when it returns True.
    :param name: How devices of this kind are called ("Meter"), the device's default name
        being ``"<name> <device_id>"``.
    :param manufacturer: Default manufacturer for the device registry.
    :param private_fields: Fields holding personal data (face templates, images, PINs) that
        ``on_message`` may read but that never reach the event bus: they are left out of
        ``linli_device_event``, so neither the recorder nor any subscriber sees them.
    """

    kind: str
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    on_message: MessageHandler | None = None
    entities: EntityFactory | None = None
    name: str | None = None
    manufacturer: str | None = None
    private_fields: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or KIND_RE.fullmatch(self.kind) is None:
            raise ValueError(f"device kind {self.kind!r} must match {KIND_RE.pattern}")
        unknown = set(self.schemas) - SCHEMA_CHANNELS
        if unknown:
            raise ValueError(
                f"device kind {self.kind!r}: no schema channel {sorted(unknown)}; "
                f"use {sorted(SCHEMA_CHANNELS)}"
            )

    @property
    def display_name(self) -> str:
        """The kind's human name."""
        return self.name or self.kind.replace("_", " ").capitalize()


class DeviceCounters:
    """Diagnostics of the device topics: messages received, accepted, rejected by reason."""

    __slots__ = ("accepted", "duplicates", "ignored", "received", "rejected")

    def __init__(self) -> None:
        self.received = 0
        self.accepted = 0
        self.duplicates = 0
        """Accepted messages dropped because their ``id`` was seen just before."""
        self.ignored = 0
        """The hub's own commands heard back on the ``command`` channel."""
        self.rejected: dict[str, int] = dict.fromkeys(REASONS, 0)

    @property
    def rejected_total(self) -> int:
        """All rejected messages."""
        return sum(self.rejected.values())

    def reject(self, reason: str) -> None:
        """Count one rejection."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """The counters as plain data."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "rejected_total": self.rejected_total,
            "rejected": dict(self.rejected),
        }


class LogLimiter:
    """Says whether to log a (device, reason) now: at most once per ``interval`` seconds."""

    __slots__ = ("_interval", "_last", "_max_keys")

    def __init__(self, interval: float = 60.0, max_keys: int = 10_000) -> None:
        self._interval = interval
        self._max_keys = max_keys
        self._last: dict[tuple[str, str], float] = {}

    def should_log(self, device: str, reason: str, now: float) -> bool:
        """Return True (and remember ``now``) when this pair was not logged recently."""
        key = (device, reason)
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            return False
        if last is None and len(self._last) >= self._max_keys:
            # A flood of distinct bad topics: forget the old ones rather than grow.
            cutoff = now - self._interval
            self._last = {k: t for k, t in self._last.items() if t > cutoff}
            if len(self._last) >= self._max_keys:
                return False
        self._last[key] = now
        return True
