"""The camera proxy over real HTTP: images for readers of the camera, 404 for the others."""

from __future__ import annotations

from typing import Any, Final

import pytest

from linli.entity import (
    CameraEntity,
    SensorEntity,
    SwitchEntity,
    async_add_entities,
    get_entity,
)
from linli.hub import Hub
from linli.plugins.loader import Status
from linli.testing.http import HubClient

AREAS: Final = """
linli:
  areas:
    - id: b1
      kind: building
      name: Building 1
      children:
        - id: b1-f1
          kind: floor
          name: Floor 1
          children:
            - {id: b1-101, kind: room, name: "101"}
            - {id: b1-102, kind: room, name: "102"}
"""

JPEG: Final = b"\xff\xd8\xff\xe0jpeg-bytes\xff\xd9"


@pytest.fixture
def hub_config() -> str:
    return AREAS


class DoorCamera(CameraEntity):
    """A flat's door camera."""

    def __init__(self, flat: str, room: str) -> None:
        self.unique_id = f"door-cam-{flat}"
        self.name = f"Door camera {flat}"
        self.device_info = {"identifiers": {("cams", flat)}, "suggested_area": room}
        self.sizes: list[tuple[int | None, int | None]] = []
        self.removed = False

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        self.sizes.append((width, height))
        return JPEG

    async def async_will_remove_from_hub(self) -> None:
        self.removed = True


async def _cameras(hub: Hub) -> tuple[DoorCamera, DoorCamera]:
    mine, theirs = DoorCamera("101", "b1-101"), DoorCamera("102", "b1-102")
    await async_add_entities(hub, "cams", [mine, theirs])
    return mine, theirs


async def _image(client: HubClient, path: str) -> tuple[int, bytes]:
    async with client.request("GET", path) as response:
        return response.status, await response.read()


async def _resident_of(client: HubClient, room: str) -> HubClient:
    people = client.hub.registries.people
    household = people.async_create_household(f"Flat {room}", room_ids=[room])
    person = people.async_create_person("Resident", household_id=household.id)
    return await client.as_user("resident", person_id=person.id)


async def test_the_entity_integration_is_bundled_and_loaded(hub_client: HubClient) -> None:
    loader = hub_client.hub.loader
    assert loader is not None
    assert loader.records["entity"].status is Status.loaded


async def test_camera_proxy_serves_the_image_to_readers(hub_client: HubClient) -> None:
    mine, _ = await _cameras(hub_client.hub)
    async with hub_client.request("GET", "/api/camera_proxy/camera.door_camera_101?width=320") as r:
        assert r.status == 200
        assert r.content_type == "image/jpeg"
        assert r.headers["Cache-Control"] == "no-store"
        assert await r.read() == JPEG
    assert mine.sizes == [(320, None)]

    response = await hub_client.get("/api/camera_proxy/camera.door_camera_101?width=huge")
    assert response.status == 400


async def test_resident_cannot_read_another_households_camera(hub_client: HubClient) -> None:
    _, theirs = await _cameras(hub_client.hub)
    resident = await _resident_of(hub_client, "b1-101")

    assert await _image(resident, "/api/camera_proxy/camera.door_camera_101") == (200, JPEG)

    response = await resident.get("/api/camera_proxy/camera.door_camera_102")
    assert response.status == 404  # as for a camera that does not exist
    assert await response.json() == {"message": "Entity not found."}
    assert theirs.sizes == []
    missing = await resident.get("/api/camera_proxy/camera.nowhere")
    assert (missing.status, await missing.json()) == (404, {"message": "Entity not found."})


async def test_camera_proxy_needs_a_token_and_a_camera(hub_client: HubClient) -> None:
    await _cameras(hub_client.hub)
    session = hub_client.session
    async with session.get(hub_client.url("/api/camera_proxy/camera.door_camera_101")) as anon:
        assert anon.status == 401
    async with hub_client.request(
        "GET",
        "/api/camera_proxy/camera.door_camera_101",
        headers={"Authorization": "Bearer not-a-token"},
    ) as forged:
        assert forged.status == 401
    sensor = SensorEntity()
    sensor.name = "Not a camera"
    await async_add_entities(hub_client.hub, "x", [sensor])
    response = await hub_client.get("/api/camera_proxy/sensor.not_a_camera")
    assert response.status == 404


async def test_camera_proxy_unavailable_and_failing(hub_client: HubClient) -> None:
    mine, _ = await _cameras(hub_client.hub)
    mine._attr_available = False
    mine.async_write_state()
    response = await hub_client.get("/api/camera_proxy/camera.door_camera_101")
    assert response.status == 503

    mine._attr_available = True

    async def no_image(width: int | None = None, height: int | None = None) -> bytes | None:
        return None

    mine.async_camera_image = no_image  # type: ignore[method-assign]
    response = await hub_client.get("/api/camera_proxy/camera.door_camera_101")
    assert response.status == 500


async def test_entities_are_removed_when_the_hub_stops(hub_client: HubClient) -> None:
    hub = hub_client.hub
    mine, theirs = await _cameras(hub)
    await hub.async_stop()
    assert mine.removed
    assert theirs.removed
    assert hub.states.get("camera.door_camera_101") is None
    assert get_entity(hub, "camera.door_camera_101") is None


class Light(SwitchEntity):
    """A flat's light."""

    def __init__(self, flat: str, room: str) -> None:
        self.unique_id = f"light-{flat}"
        self.name = f"Light {flat}"
        self.device_info = {"identifiers": {("lights", flat)}, "suggested_area": room}
        self._attr_is_on = False

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_is_on = True
        self.async_write_state()


async def test_resident_switches_only_their_own_light(hub_client: HubClient) -> None:
    hub = hub_client.hub
    await async_add_entities(hub, "lights", [Light("101", "b1-101"), Light("102", "b1-102")])
    resident = await _resident_of(hub_client, "b1-101")

    own = await resident.post("/api/services/switch/turn_on", json={"area_id": "b1-101"})
    assert own.status == 200
    assert hub.states.is_state("switch.light_101", "on")
    other = await resident.post(
        "/api/services/switch/turn_on", json={"entity_id": "switch.light_102"}
    )
    assert other.status == 403
    floor = await resident.post("/api/services/switch/turn_on", json={"area_id": "b1-f1"})
    assert floor.status == 403
    assert hub.states.is_state("switch.light_102", "off")
