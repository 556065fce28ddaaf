"""A small served community for the REST tests: two buildings, two households, five roles."""

from __future__ import annotations

import pytest

from linli.services import ServiceCall
from linli.testing.community import SAMPLE_AREAS, Community, async_build_community
from linli.testing.http import HubClient

__all__ = ["Community"]


@pytest.fixture
def hub_config() -> str:
    """The community's areas (merged into hub_client's configuration.yaml)."""
    return SAMPLE_AREAS


@pytest.fixture
async def community(hub_client: HubClient) -> Community:
    """Areas, entities with states, households, persons, a user of each role; test.switch."""
    hub = hub_client.hub

    async def switch(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, call.data.get("state", "on"), context=call.context)

    hub.services.async_register("test", "switch", switch)
    return await async_build_community(hub_client)
