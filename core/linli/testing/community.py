"""A small sample community for tests of what each role may see: areas, households, users.

Two buildings: building ``b1`` has unit ``b1-u1`` with floor 12 and rooms ``b1-u1-1201`` and
``b1-u1-1202`` (one household each); building ``b2`` has a lobby zone. Entities sit in those
areas (one, ``sensor.community``, in none: the community root). Users: an admin, staff of
``b1``, a grid worker of ``b2``, police of ``b1`` and a resident of each household::

    @pytest.fixture
    def hub_config() -> str:
        return SAMPLE_AREAS

    async def test_resident_sees_own_room(hub_client):
        community = await async_build_community(hub_client)
        states = await (await community.resident.get("/api/states")).json()
        assert [s["entity_id"] for s in states] == ["light.room_1201"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from linli.testing.http import HubClient

SAMPLE_AREAS: Final = """
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
"""
"""The ``linli: areas:`` configuration of the sample community (for the ``hub_config`` fixture)."""

SAMPLE_ENTITIES: Final[Mapping[str, str | None]] = {
    "light.room_1201": "b1-u1-1201",
    "light.room_1202": "b1-u1-1202",
    "sensor.lobby_b2": "b2-lobby",
    "sensor.community": None,
}
"""Entity id → area id (None: the community root), each with the state ``off``."""


@dataclass
class Community:
    """The sample community's households, persons and one client per role."""

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
    device_id: str | None = None
    """The device ``light.room_1201`` belongs to (with ``device=True``)."""

    def role(self, name: str) -> HubClient:
        """The client of a role by name (``resident``, ``staff`` …)."""
        client: HubClient = getattr(self, name)
        return client


async def async_build_community(hub_client: HubClient, *, device: bool = False) -> Community:
    """Fill ``hub_client``'s hub (started with :data:`SAMPLE_AREAS`) with the sample community.

    With ``device``, ``light.room_1201`` belongs to a device ``Gate 1`` placed in ``b1``.
    """
    hub = hub_client.hub
    registries = hub.registries
    device_id = None
    if device:
        device_id = registries.devices.async_get_or_create(
            integration="test", identifiers={("test", "gate-1")}, name="Gate 1", area_id="b1"
        ).id
    for entity_id, area_id in SAMPLE_ENTITIES.items():
        domain, object_id = entity_id.split(".")
        entry = registries.entities.async_get_or_create(
            domain,
            "test",
            object_id,
            suggested_object_id=object_id,
            area_id=area_id,
            device_id=device_id if entity_id == "light.room_1201" else None,
        )
        assert entry.entity_id == entity_id, f"{entity_id} is taken: {entry.entity_id}"
        hub.states.async_set(entity_id, "off", {"friendly_name": object_id})
    people = registries.people
    h1201 = people.async_create_household("1-1-1201", ["b1-u1-1201"])
    h1202 = people.async_create_household("1-1-1202", ["b1-u1-1202"])
    p1201 = people.async_create_person("Wang Fang", household_id=h1201.id, birth_year=1950)
    p1202 = people.async_create_person("Li Lei", household_id=h1202.id)
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
        device_id=device_id,
    )
