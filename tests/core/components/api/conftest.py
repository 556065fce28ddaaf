"""A small served community for the REST tests: two buildings, two households, five roles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linli.services import ServiceCall
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
"""


@pytest.fixture
def hub_config() -> str:
    """The community's areas (merged into hub_client's configuration.yaml)."""
    return AREAS


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

    def role(self, name: str) -> HubClient:
        """The client of a role by name."""
        client: HubClient = getattr(self, name)
        return client


ENTITIES = {
    "light.room_1201": "b1-u1-1201",
    "light.room_1202": "b1-u1-1202",
    "sensor.lobby_b2": "b2-lobby",
    "sensor.community": None,
}


@pytest.fixture
async def community(hub_client: HubClient) -> Community:
    """Areas, entities with states, households, persons and a user of each role."""
    hub = hub_client.hub
    registries = hub.registries
    for entity_id, area_id in ENTITIES.items():
        domain, object_id = entity_id.split(".")
        entry = registries.entities.async_get_or_create(
            domain, "test", object_id, suggested_object_id=object_id, area_id=area_id
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

    hub.services.async_register("test", "switch", switch)
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
    )
