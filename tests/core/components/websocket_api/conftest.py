"""A served community for the WebSocket tests (the sample community, an automation, alerts)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import pytest
import voluptuous as vol

from linli.components.alert import get_manager
from linli.exceptions import ServiceValidationError
from linli.services import ServiceCall, SupportsResponse
from linli.testing.community import SAMPLE_AREAS, SAMPLE_ENTITIES, async_build_community
from linli.testing.community import Community as SampleCommunity
from linli.testing.http import HubClient
from linli.testing.ws import WSClient

__all__ = ["AUTOMATION", "ENTITIES", "Community", "WSClient", "connect"]

ENTITIES = SAMPLE_ENTITIES

AUTOMATION = """
automation:
  - id: doorbell
    alias: Doorbell
    triggers:
      - trigger: event
        event_type: test_doorbell
    actions:
      - event: test_rang
"""


@pytest.fixture
def hub_config() -> str:
    """The community's areas and one automation (merged into hub_client's configuration)."""
    return SAMPLE_AREAS + AUTOMATION


def connect(client: HubClient) -> AbstractAsyncContextManager[WSClient]:
    """Open an authenticated WebSocket as ``client``'s user."""
    return client.ws_client()


@dataclass
class Community(SampleCommunity):
    """The sample community plus an open alert in each building."""

    alert_b1: str = ""
    alert_b2: str = ""


@pytest.fixture
async def community(hub_client: HubClient) -> Community:
    """The sample community (with a device), services test.switch/echo/picky, two alerts."""
    hub = hub_client.hub
    sample = await async_build_community(hub_client, device=True)

    async def switch(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, call.data.get("state", "on"), context=call.context)

    async def echo(call: ServiceCall) -> dict[str, Any]:
        return {"echo": dict(call.data), "user_id": call.context.user_id}

    async def picky(call: ServiceCall) -> None:
        raise ServiceValidationError("the gate is jammed")

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
    return Community(**vars(sample), alert_b1=alert_b1.id, alert_b2=alert_b2.id)
