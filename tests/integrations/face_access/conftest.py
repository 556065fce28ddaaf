"""Fixtures of the face_access tests: a served hub with MQTT on the shared broker, a sample
community, and fake face terminals speaking the real wire formats.

No real faces anywhere: templates are seeded random vectors, images are generated JPEG-shaped
bytes (SOI, a JFIF header, random filler, EOI).
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import linli_face_access
import linli_mqtt
from linli.testing.community import SAMPLE_AREAS, Community, async_build_community
from linli.testing.http import HubClient
from linli_mqtt.testing import (
    MqttPeer,
    async_wait_until,
    mqtt_base_topic,
    mqtt_broker,
    mqtt_hub,
    mqtt_hub_config,
    mqtt_hub_plugins,
    mqtt_peer,
    private_mosquitto,
)

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover
    async_fixture = pytest.fixture  # type: ignore[assignment]

__all__ = [
    "mqtt_base_topic",
    "mqtt_broker",
    "mqtt_hub",
    "mqtt_hub_config",
    "mqtt_hub_plugins",
    "mqtt_peer",
    "private_mosquitto",
]

WEBHOOK_ID = "hik-b1-02-7c4f0d2a9e61b3c5"
CARD = "A1B2C3D4"

DOORS = f"""
face_access:
  store_snapshots: STORE_SNAPSHOTS
  unlock_seconds: 5
  doors:
    - id: b1_main
      name: Building 1 main door
      area_id: b1
      methods: [face, card, qr, pin]
      terminals:
        - {{id: t-b1-01, kind: mqtt}}
        - {{id: hik-b1-02, kind: hikvision, webhook_id: {WEBHOOK_ID}}}
    - id: b2_side
      name: Building 2 side door
      area_id: b2
      methods: [face]
      terminals:
        - {{id: t-b2-01, kind: mqtt}}
"""


def template(seed: int, dims: int = 128) -> np.ndarray:
    """A synthetic face template: a seeded random unit vector (nobody's face)."""
    vector = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    return vector / np.linalg.norm(vector)


def near(vector: np.ndarray, seed: int, noise: float = 0.15) -> np.ndarray:
    """Another capture of the same synthetic face: the vector plus a little noise."""
    jitter = np.random.default_rng(seed).standard_normal(vector.shape[0]).astype(np.float32)
    return (vector + noise * jitter / np.linalg.norm(jitter)).astype(np.float32)


def b64(vector: np.ndarray) -> str:
    """Base64 of float32 little-endian, as terminals send templates."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def tiny_jpeg(seed: int = 0, size: int = 300) -> bytes:
    """Generated JPEG-shaped bytes: SOI, a JFIF APP0 header, random filler, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    filler = np.random.default_rng(seed).integers(0, 255, size, dtype=np.uint8).tobytes()
    filler = filler.replace(b"\xff", b"\x00")
    comment = b"\xff\xfe" + struct.pack(">H", len(filler) + 2) + filler
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + comment + b"\xff\xd9"


@dataclass
class FaceTerminal:
    """A fake MQTT face terminal on the shared broker."""

    peer: MqttPeer
    prefix: str
    device_id: str

    @property
    def event_topic(self) -> str:
        """Where it publishes events."""
        return f"{self.prefix}/face_terminal/{self.device_id}/event"

    @property
    def command_topic(self) -> str:
        """Where the hub sends it commands."""
        return f"{self.prefix}/face_terminal/{self.device_id}/command"

    async def send(self, payload: dict[str, Any] | bytes) -> str:
        """Publish an event (``v`` and a fresh ``id`` added to a dict); return the id."""
        if isinstance(payload, bytes):
            await self.peer.async_publish(self.event_topic, payload)
            return ""
        message = {"v": 1, "id": f"m-{uuid.uuid4().hex[:12]}", **payload}
        await self.peer.async_publish(self.event_topic, json.dumps(message))
        return str(message["id"])

    def commands(self, command: str | None = None) -> list[dict[str, Any]]:
        """Commands received so far (of one kind when given)."""
        found = [json.loads(p) for p in self.peer.payloads(self.command_topic)]
        return [c for c in found if command is None or c.get("command") == command]

    async def answer_to(self, request_id: str, timeout: float = 5) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for the hub's open/deny answer to a request."""

        def answered() -> list[dict[str, Any]]:
            return [c for c in self.commands() if c.get("request_id") == request_id]

        await async_wait_until(lambda: bool(answered()), timeout, f"an answer to {request_id}")
        return answered()[0]

    async def request(self, method: str, **fields: Any) -> dict[str, Any]:
        """Ask the hub to decide a passage; return its answer."""
        request_id = await self.send(
            {"type": "access", "method": method, "result": "request", **fields}
        )
        return await self.answer_to(request_id)


@pytest.fixture
def store_snapshots() -> bool:
    """Whether the hub keeps snapshots (override in a module)."""
    return True


@pytest.fixture
def hub_config(mqtt_broker: tuple[str, int], mqtt_base_topic: str, store_snapshots: bool) -> str:
    """The sample community, MQTT on the shared broker under this test's topics, two doors."""
    mqtt = f"""
mqtt:
  broker: {mqtt_broker[0]}
  port: {mqtt_broker[1]}
  discovery_prefix: {mqtt_base_topic}/homeassistant
  devices:
    topic_prefix: {mqtt_base_topic}/linli
"""
    return SAMPLE_AREAS + mqtt + DOORS.replace("STORE_SNAPSHOTS", str(store_snapshots).lower())


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The mqtt and face_access integrations."""
    return [("mqtt", linli_mqtt), ("face_access", linli_face_access)]


@async_fixture
async def community(hub_client: HubClient) -> Community:
    """The sample community (households 1201 and 1202, a client per role)."""
    return await async_build_community(hub_client)


@async_fixture
async def terminal(
    hub_client: HubClient, mqtt_peer: Any, mqtt_base_topic: str
) -> AsyncIterator[FaceTerminal]:
    """The MQTT face terminal ``t-b1-01`` at building 1's main door, listening for commands."""
    peer = await mqtt_peer()
    device = FaceTerminal(peer, f"{mqtt_base_topic}/linli", "t-b1-01")
    await peer.async_subscribe(device.command_topic)
    yield device


async def grant_face_consent(client: HubClient, person_id: str) -> str:
    """Record a face consent through the REST API; return its id."""
    response = await client.post(
        "/api/linli/consents",
        json={
            "person_id": person_id,
            "data_kind": "face",
            "scope": "door access, community gates",
            "method": "app",
            "notice_version": "2026-01",
        },
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])
