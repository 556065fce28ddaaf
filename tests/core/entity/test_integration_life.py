"""Entities across their integration's life on a served hub: failed setup, services."""

from __future__ import annotations

from typing import Any

import pytest

from linli.entity import SwitchEntity, async_add_entities, get_entity
from linli.hub import Hub
from linli.plugins import ConfigType, Integration, Manifest, hookimpl
from linli.plugins.loader import Status
from linli.testing.http import HubClient


class Valve(SwitchEntity):
    """A water valve."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.unique_id = name
        self._attr_is_on = False
        self.turned_on = 0

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.turned_on += 1
        self._attr_is_on = True
        self.async_write_state()


VALVES: list[Valve] = []


class ValvesPlugin:
    """An integration that adds valves, then fails its setup."""

    @hookimpl
    def linli_integration(self) -> Integration:
        async def setup(hub: Hub, config: ConfigType) -> bool:
            VALVES[:] = [Valve("valve_1"), Valve("valve_2")]
            await async_add_entities(hub, "valves", VALVES)
            raise RuntimeError("the valve controller went away")

        return Integration(Manifest("valves", "Valves", load_by_default=True), setup)


class PumpsPlugin:
    """An integration that adds a pump and stays loaded."""

    @hookimpl
    def linli_integration(self) -> Integration:
        async def setup(hub: Hub, config: ConfigType) -> bool:
            await async_add_entities(hub, "pumps", [Valve("pump")])
            return True

        return Integration(Manifest("pumps", "Pumps", load_by_default=True), setup)


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    return [("valves", ValvesPlugin()), ("pumps", PumpsPlugin())]


async def test_entities_of_a_failed_integration_are_gone(hub_client: HubClient) -> None:
    hub = hub_client.hub
    await hub.async_block_till_done()
    assert hub.loader is not None
    assert hub.loader.records["valves"].status is Status.failed
    assert hub.states.get("switch.valve_1") is None
    assert get_entity(hub, "switch.valve_1") is None
    # The domain's services stay for the integrations still loaded, and skip the others.
    response = await hub_client.post(
        "/api/services/switch/turn_on", json={"entity_id": ["switch.valve_1", "switch.pump"]}
    )
    assert response.status == 200
    assert [valve.turned_on for valve in VALVES] == [0, 0]
    pump = get_entity(hub, "switch.pump")
    assert isinstance(pump, Valve)
    assert pump.turned_on == 1
    assert hub.states.is_state("switch.pump", "on")


async def test_services_never_reach_entities_of_an_unloaded_integration(
    hub_client: HubClient,
) -> None:
    hub = hub_client.hub
    assert hub.loader is not None
    pump = get_entity(hub, "switch.pump")
    assert isinstance(pump, Valve)
    # The loader's own unload path (what a stop runs for each integration), for pumps alone:
    # pumps forgets to remove its entities, yet calls must not reach them any more.
    await hub.loader._async_unload_one("pumps")
    assert hub.services.has_service("switch", "turn_on")  # owned by the entity model
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.pump"})
    await hub.services.async_call("switch", "turn_on", {"entity_id": "all"})
    assert pump.turned_on == 0
