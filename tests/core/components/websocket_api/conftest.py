"""A served community for the WebSocket tests, and a small client speaking HA's protocol."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from linli.components.alert import get_manager
from linli.services import ServiceCall, SupportsResponse
from linli.testing.http import HubClient

AREAS = """
linli:
  areas:
    - id: b1
      kind: building
      name: Building 1
      children:
        - id: b1-u1
          kind: unit
          name: Unit 1
          children:
            - id: b1-u1-f12
              kind: floor
              name: Floor 12
              children:
                - {id: b1-u1-1201, kind: room, name: "1201"}
                - {id: b1-u1-1202, kind: room, name: "1202"}
    - id: b2
      kind: building
      name: Building 2
      children:
        - {id: b2-lobby, kind: zone, name: Lobby}
automation:
  - id: doorbell
    alias: Doorbell
    triggers:
      - trigger: event
        event_type: test_doorbell
    actions:
      - event: test_rang
"""

ENTITIES = {
    "light.room_1201": "b1-u1-1201",
    "light.room_1202": "b1-u1-1202",
    "sensor.lobby_b2": "b2-lobby",
    "sensor.community": None,
}


@pytest.fixture
def hub_config() -> str:
    """The community's areas and one automation (merged into hub_client's configuration)."""
    return AREAS


class WSClient:
    """One authenticated connection: numbered commands, results and events by id."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.last_id = 0
        self.backlog: deque[dict[str, Any]] = deque()
        self.frames = 0
        """How many frames were received (coalesced messages arrive several per frame)."""

    async def send(self, type_: str, **data: Any) -> int:
        """Send a command; return its id."""
        self.last_id += 1
        await self.socket.send_json({"id": self.last_id, "type": type_, **data})
        return self.last_id

    async def receive(self, seconds: float = 5) -> dict[str, Any]:
        """Return the next message (splitting coalesced arrays)."""
        if self.backlog:
            return self.backlog.popleft()
        data = await self.socket.receive_json(timeout=seconds)
        self.frames += 1
        if isinstance(data, list):
            self.backlog.extend(data[1:])
            return dict(data[0])
        return dict(data)

    async def wait_for(
        self, msg_id: int, type_: str = "result", seconds: float = 5
    ) -> dict[str, Any]:
        """Return the next message of ``msg_id`` and ``type_``, keeping the others for later."""
        for index, msg in enumerate(self.backlog):
            if msg.get("id") == msg_id and msg.get("type") == type_:
                del self.backlog[index]
                return msg
        kept: list[dict[str, Any]] = []
        try:
            while True:
                data = await self.socket.receive_json(timeout=seconds)
                self.frames += 1
                for msg in data if isinstance(data, list) else [data]:
                    if msg.get("id") == msg_id and msg.get("type") == type_:
                        return dict(msg)
                    kept.append(msg)
        finally:
            self.backlog.extend(kept)

    async def call(self, type_: str, **data: Any) -> dict[str, Any]:
        """Send a command and return its result message."""
        return await self.wait_for(await self.send(type_, **data))

    async def result(self, type_: str, **data: Any) -> Any:
        """Send a command that must succeed; return its result."""
        msg = await self.call(type_, **data)
        assert msg["success"] is True, msg
        return msg["result"]

    async def error(self, type_: str, **data: Any) -> str:
        """Send a command that must fail; return its error code."""
        msg = await self.call(type_, **data)
        assert msg["success"] is False, msg
        assert set(msg["error"]) >= {"code", "message"}
        return str(msg["error"]["code"])

    async def event(self, msg_id: int, seconds: float = 5) -> Any:
        """Return the next event of subscription ``msg_id``."""
        return (await self.wait_for(msg_id, "event", seconds))["event"]

    async def subscribe(self, type_: str, **data: Any) -> int:
        """Start a subscription; return its id."""
        msg_id = await self.send(type_, **data)
        msg = await self.wait_for(msg_id)
        assert msg["success"] is True, msg
        return msg_id

    async def nothing_for(self, msg_id: int, seconds: float = 0.2) -> None:
        """Check that no event of ``msg_id`` arrives within ``seconds`` (after a ping round)."""
        await self.result_of_ping()
        assert not any(m.get("id") == msg_id for m in self.backlog), list(self.backlog)
        try:
            msg = await self.wait_for(msg_id, "event", seconds=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event: {msg}")

    async def result_of_ping(self) -> None:
        """Round-trip a ping: everything sent before it has been delivered."""
        msg = await self.wait_for(await self.send("ping"), "pong")
        assert msg["type"] == "pong"


@asynccontextmanager
async def connect(client: HubClient) -> AsyncIterator[WSClient]:
    """Open an authenticated WebSocket as ``client``'s user."""
    async with client.ws() as socket:
        yield WSClient(socket)


@dataclass
class Community:
    """The hub's people, entities and one client per role."""

    admin: HubClient
    staff: HubClient
    grid_worker: HubClient
    police: HubClient
    resident: HubClient
    other_resident: HubClient
    household_1201: str
    household_1202: str
    person_1201: str
    person_1202: str
    alert_b1: str
    alert_b2: str

    def role(self, name: str) -> HubClient:
        """The client of a role by name."""
        client: HubClient = getattr(self, name)
        return client


@pytest.fixture
async def community(hub_client: HubClient) -> Community:
    """Areas, a device, entities with states, households, alerts, services, a user per role."""
    hub = hub_client.hub
    registries = hub.registries
    device = registries.devices.async_get_or_create(
        integration="test", identifiers={("test", "gate-1")}, name="Gate 1", area_id="b1"
    )
    for entity_id, area_id in ENTITIES.items():
        domain, object_id = entity_id.split(".")
        entry = registries.entities.async_get_or_create(
            domain,
            "test",
            object_id,
            suggested_object_id=object_id,
            area_id=area_id,
            device_id=device.id if entity_id == "light.room_1201" else None,
        )
        assert entry.entity_id == entity_id
        hub.states.async_set(entity_id, "off", {"friendly_name": object_id})
    people = registries.people
    h1201 = people.async_create_household("1-1-1201", ["b1-u1-1201"])
    h1202 = people.async_create_household("1-1-1202", ["b1-u1-1202"])
    p1201 = people.async_create_person("Wang Fang", household_id=h1201.id, birth_year=1950)
    p1202 = people.async_create_person("Li Lei", household_id=h1202.id)

    async def switch(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, call.data.get("state", "on"), context=call.context)

    async def echo(call: ServiceCall) -> dict[str, Any]:
        return {"echo": dict(call.data), "user_id": call.context.user_id}

    async def picky(call: ServiceCall) -> None:
        from linli.exceptions import ServiceValidationError

        raise ServiceValidationError("the gate is jammed")

    import voluptuous as vol

    hub.services.async_register(
        "test",
        "switch",
        switch,
        vol.Schema({vol.Required("entity_id"): [str], vol.Optional("state"): str}),
    )
    hub.services.async_register("test", "echo", echo, supports_response=SupportsResponse.OPTIONAL)
    hub.services.async_register("test", "picky", picky)
    manager = get_manager(hub)
    alert_b1, _ = await manager.async_raise("smoke", "Smoke in 1201", area_id="b1-u1-1201")
    alert_b2, _ = await manager.async_raise("intrusion", "Lobby door forced", area_id="b2-lobby")
    return Community(
        admin=hub_client,
        staff=await hub_client.as_user("staff", area_ids=["b1"]),
        grid_worker=await hub_client.as_user("grid_worker", area_ids=["b2"]),
        police=await hub_client.as_user("police", area_ids=["b1"]),
        resident=await hub_client.as_user("resident", person_id=p1201.id),
        other_resident=await hub_client.as_user("resident", person_id=p1202.id),
        household_1201=h1201.id,
        household_1202=h1202.id,
        person_1201=p1201.id,
        person_1202=p1202.id,
        alert_b1=alert_b1.id,
        alert_b2=alert_b2.id,
    )
