"""The per-message path of the device topics: topic → route, payload → checked dict (no I/O).

Every message is checked in this order, and the first failure is its reason: topic shape
(``bad_topic``), known kind (``unknown_kind``), device id (``bad_device_id``), channel
(``unknown_channel``; ``unexpected_channel`` when the kind has no schema for it), size
(``too_large``), then for ``availability`` the exact text ``online``/``offline``
(``bad_availability``), else UTF-8 (``not_utf8``), JSON (``invalid_json``), an object
(``not_object``), ``"v": 1`` (``unsupported_version``) and the schema (``invalid_payload``).

A topic seen once with a valid kind, device id and channel is remembered, so a known
device's message costs one dict look-up before the JSON parse and the compiled validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

import orjson

from linli_mqtt.devices.model import (
    CHANNEL_AVAILABILITY,
    CHANNEL_COMMAND,
    CONVENTION_VERSION,
    DEVICE_ID_RE,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
    REASON_BAD_AVAILABILITY,
    REASON_BAD_DEVICE_ID,
    REASON_BAD_TOPIC,
    REASON_INVALID_JSON,
    REASON_INVALID_PAYLOAD,
    REASON_NOT_OBJECT,
    REASON_NOT_UTF8,
    REASON_TOO_LARGE,
    REASON_UNEXPECTED_CHANNEL,
    REASON_UNKNOWN_CHANNEL,
    REASON_UNKNOWN_KIND,
    REASON_UNSUPPORTED_VERSION,
    DeviceMessage,
    Rejected,
)
from linli_mqtt.devices.validation import SchemaError, Validator

MAX_ROUTES: Final = 100_000
"""Remembered topics; beyond this the memory starts again (a flood of new device ids)."""

_CHANNELS: Final = frozenset({"event", "state", CHANNEL_AVAILABILITY, CHANNEL_COMMAND})
_ONLINE: Final = {
    PAYLOAD_ONLINE: True,
    PAYLOAD_OFFLINE: False,
    PAYLOAD_ONLINE.encode(): True,
    PAYLOAD_OFFLINE.encode(): False,
}
_MAX_SHOWN: Final = 120
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


class Route(NamedTuple):
    """Where a topic leads: kind, device id, channel and the channel's validator."""

    kind: str
    device_id: str
    channel: str
    validator: Validator | None


IGNORED: Final = Route("", "", CHANNEL_COMMAND, None)
"""What :meth:`DeviceTopicParser.parse` returns for the hub's own commands heard back."""


def _shown(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


class DeviceTopicParser:
    """Checks messages on ``<prefix>/<kind>/<device_id>/<channel>`` against the kinds.

    ``validators`` maps each registered kind to its compiled validators per channel; it is
    read live, so call :meth:`forget_routes` after a kind is added or removed.
    """

    __slots__ = ("_max_payload", "_prefix", "_prefix_len", "_routes", "_validators")

    def __init__(
        self, prefix: str, max_payload: int, validators: Mapping[str, Mapping[str, Validator]]
    ) -> None:
        """Parse topics under ``prefix``; payloads over ``max_payload`` bytes are rejected."""
        self._prefix = prefix.rstrip("/") + "/"
        self._prefix_len = len(self._prefix)
        self._max_payload = max_payload
        self._validators = validators
        self._routes: dict[str, Route] = {}

    @property
    def prefix(self) -> str:
        """The topic prefix, without the trailing slash."""
        return self._prefix[:-1]

    def forget_routes(self) -> None:
        """Forget remembered topics (after kinds change)."""
        self._routes.clear()

    def route(self, topic: str) -> Route | Rejected:
        """Return where ``topic`` leads, or why it leads nowhere."""
        route = self._routes.get(topic)
        if route is not None:
            return route
        if not topic.startswith(self._prefix):
            return Rejected(REASON_BAD_TOPIC, topic, _shown(topic), "outside the prefix")
        parts = topic[self._prefix_len :].split("/")
        if len(parts) != 3:
            return Rejected(REASON_BAD_TOPIC, topic, _shown(topic), "not <kind>/<id>/<channel>")
        kind, device_id, channel = parts
        validators = self._validators.get(kind)
        if validators is None:
            return Rejected(REASON_UNKNOWN_KIND, topic, _shown(topic), f"kind {_shown(kind)!r}")
        if DEVICE_ID_RE.fullmatch(device_id) is None:
            return Rejected(
                REASON_BAD_DEVICE_ID,
                topic,
                _shown(topic),
                f"device id {_shown(device_id)!r} is not [A-Za-z0-9_-]{{1,64}}",
            )
        device = f"{kind}/{device_id}"
        if channel not in _CHANNELS:
            return Rejected(REASON_UNKNOWN_CHANNEL, topic, device, f"channel {_shown(channel)!r}")
        if channel == CHANNEL_COMMAND:
            return IGNORED
        validator = None
        if channel != CHANNEL_AVAILABILITY:
            validator = validators.get(channel)
            if validator is None:
                return Rejected(
                    REASON_UNEXPECTED_CHANNEL, topic, device, f"{kind} has no {channel} schema"
                )
        route = Route(kind, device_id, channel, validator)
        if len(self._routes) >= MAX_ROUTES:
            self._routes.clear()
        self._routes[topic] = route
        return route

    def parse(
        self, topic: str, payload: bytes | str, received_at: float
    ) -> DeviceMessage | Rejected | Route:
        """Check one message: the accepted message, the rejection, or :data:`IGNORED`."""
        route = self._routes.get(topic)
        if route is None:
            found = self.route(topic)
            if isinstance(found, Rejected):
                return found
            route = found
        validator = route.validator
        if validator is None:
            if route is IGNORED:
                return IGNORED
            return self._availability(route, topic, payload, received_at)
        size = len(payload)
        if size > self._max_payload or (
            type(payload) is str
            and size * 4 > self._max_payload
            and len(payload.encode(errors="surrogatepass")) > self._max_payload
        ):
            return self._reject(REASON_TOO_LARGE, route, topic, f"{size} bytes")
        try:
            data = _loads(payload)
        except _JSONDecodeError as err:
            if type(payload) is bytes:
                try:
                    payload.decode()
                except UnicodeDecodeError:
                    return self._reject(REASON_NOT_UTF8, route, topic, "payload is not UTF-8")
            return self._reject(REASON_INVALID_JSON, route, topic, str(err))
        if type(data) is not dict:
            return self._reject(REASON_NOT_OBJECT, route, topic, f"JSON {type(data).__name__}")
        try:
            validator(data)
        except SchemaError as err:
            version = data.get("v")
            if type(version) not in (int, float) or version != CONVENTION_VERSION:
                return self._reject(
                    REASON_UNSUPPORTED_VERSION, route, topic, f"v={_shown(repr(version))}"
                )
            return self._reject(REASON_INVALID_PAYLOAD, route, topic, _shown(str(err.message)))
        return DeviceMessage(route.kind, route.device_id, route.channel, data, received_at, topic)

    def _availability(
        self, route: Route, topic: str, payload: bytes | str, received_at: float
    ) -> DeviceMessage | Rejected:
        online = _ONLINE.get(payload) if len(payload) <= 7 else None
        if online is None:
            return self._reject(
                REASON_BAD_AVAILABILITY, route, topic, "payload is not 'online' or 'offline'"
            )
        return DeviceMessage(
            route.kind, route.device_id, route.channel, {"available": online}, received_at, topic
        )

    @staticmethod
    def _reject(reason: str, route: Route, topic: str, detail: str) -> Rejected:
        return Rejected(reason, topic, f"{route.kind}/{route.device_id}", detail)
