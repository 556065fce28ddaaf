"""The lifts' e-bike cameras: a vendor device that pushes detections over an HTTP webhook.

The hub side: one webhook (HMAC-signed, as vendors sign their pushes) receives every camera's
JSON, and each lift's ``binary_sensor.<unit>_elevator_ebike`` entity shows what its camera
saw. The device side (the cameras posting) is :func:`async_push`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any, Final

import aiohttp
import orjson
from aiohttp import web

from linli import Hub
from linli.components.webhook import WebhookError
from linli.entity import BinarySensorEntity
from linli_demo.devices import parse_camera_push

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Signature"
PUSH_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


class LiftEbikeSensor(BinarySensorEntity):
    """Whether a lift's e-bike camera sees an e-bike in the car."""

    def __init__(self, unit_id: str, name: str, device_name: str, model: str) -> None:
        """The sensor of the camera in the lift of ``unit_id``."""
        self.unique_id = f"{unit_id}-elevator_ebike"
        # The id people know from the rules (binary_sensor.b1_u1_elevator_ebike), whatever
        # the language of the name.
        self.entity_id = f"binary_sensor.{unit_id.replace('-', '_').lower()}_elevator_ebike"
        self.name = name
        self.device_class = "occupancy"
        self.device_info = {
            "identifiers": {("demo", f"elevator-{unit_id}")},
            "name": device_name,
            "manufacturer": "Linli demo",
            "model": model,
            "suggested_area": unit_id,
        }
        self.unit_id = unit_id
        self.confidence: float | None = None
        self._seen = False

    @property
    def is_on(self) -> bool:
        """Whether an e-bike is in the car, as last pushed."""
        return self._seen

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The detector's confidence of the last push."""
        return None if self.confidence is None else {"confidence": self.confidence}

    def detected(self, seen: bool, confidence: float) -> None:
        """Take a camera's push and write the state."""
        self._seen = seen
        self.confidence = confidence
        self.async_schedule_write_state()


def sign(secret: str, body: bytes) -> str:
    """The camera's signature of ``body``: ``sha256=`` and the HMAC-SHA256 in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def make_handler(sensors: Mapping[str, LiftEbikeSensor]) -> Any:
    """The webhook handler: a push sets the sensor of the camera's lift."""

    async def handle(hub: Hub, webhook_id: str, request: web.Request) -> None:
        try:
            lift, seen, confidence = parse_camera_push(await request.json())
        except ValueError as err:
            raise WebhookError(f"Bad camera push: {err}") from err
        sensor = sensors.get(lift)
        if sensor is None:
            raise WebhookError(f"Unknown lift {lift!r}", 404)
        sensor.detected(seen, confidence)

    return handle


async def async_push(
    session: aiohttp.ClientSession, url: str, secret: str, body: Mapping[str, Any]
) -> int:
    """POST one detection as the camera does; return the HTTP status."""
    raw = orjson.dumps(body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, raw)}
    async with session.post(url, data=raw, headers=headers, timeout=PUSH_TIMEOUT) as response:
        await response.read()
        if response.status != 200:
            _LOGGER.warning("Camera push to the hub answered %s", response.status)
        return response.status
