"""Existing Home Assistant client libraries work against Linli unchanged.

``homeassistant_api`` (REST, synchronous) and ``hass_client`` (WebSocket, asyncio) are
third-party clients written for Home Assistant; they talk to a hub served on a free port with
a long-lived token, exactly as they would to Home Assistant.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from hass_client import HomeAssistantClient
from homeassistant_api import Client

from linli.callback import callback
from linli.clock import FakeClock
from linli.components.http import HA_API_VERSION, get_http
from linli.components.recorder import get_recorder
from linli.services import ServiceCall
from linli.testing.http import HubClient


def _rest_session(base_url: str, token: str, since: datetime) -> dict[str, Any]:
    with Client(f"{base_url}/api", token) as client:
        config = client.get_config()
        states = client.get_states()
        entity = client.get_entity(entity_id="sensor.gate_count")
        assert entity is not None
        history = list(client.get_entity_histories(entities=[entity], start_timestamp=since))
        changed = client.trigger_service("gate", "count", entity_id="sensor.gate_count")
        return {
            "location": config["location_name"],
            "version": config["version"],
            "entity_ids": sorted(state.entity_id for state in states),
            "state": entity.state.state,
            "history": [[state.state for state in item.states] for item in history],
            "domains": sorted(client.get_domains()),
            "changed": [state.entity_id for state in changed],
        }


async def test_a_home_assistant_rest_client(hub_client: HubClient, clock: FakeClock) -> None:
    hub = hub_client.hub
    hub.states.async_set("sensor.gate_count", "1", {"friendly_name": "Gate count"})
    hub.states.async_set("sensor.gate_count", "2", {"friendly_name": "Gate count"})

    @callback
    def count(call: ServiceCall) -> None:
        # As in Home Assistant, the states a call changed are those set in its context.
        hub.states.async_set(
            "sensor.gate_count", "3", {"friendly_name": "Gate count"}, context=call.context
        )

    hub.services.async_register("gate", "count", count)
    await get_recorder(hub).async_flush()
    since = clock.utcnow() - timedelta(hours=1)
    seen = await asyncio.get_running_loop().run_in_executor(
        None, _rest_session, get_http(hub).base_url, hub_client.token, since
    )
    assert seen["location"] == hub.config.name
    assert seen["version"] == HA_API_VERSION
    assert "sensor.gate_count" in seen["entity_ids"]
    assert seen["state"] == "2"
    assert seen["history"] == [["1", "2"]]
    assert "gate" in seen["domains"]
    assert seen["changed"] == ["sensor.gate_count"]
    assert hub.states.get("sensor.gate_count").state == "3"


async def test_a_home_assistant_websocket_client(hub_client: HubClient) -> None:
    hub = hub_client.hub
    hub.states.async_set("light.lobby", "off")
    calls: list[ServiceCall] = []

    @callback
    def turn_on(call: ServiceCall) -> None:
        calls.append(call)
        hub.states.async_set("light.lobby", "on")

    hub.services.async_register("light", "turn_on", turn_on)
    url = get_http(hub).base_url.replace("http://", "ws://") + "/api/websocket"
    async with HomeAssistantClient(url, hub_client.token) as client:
        assert client.version == HA_API_VERSION
        states = await client.get_states()
        assert "light.lobby" in [state["entity_id"] for state in states]
        changed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await client.subscribe_events(changed.put_nowait, "state_changed")
        await client.call_service("light", "turn_on", target={"entity_id": "light.lobby"})
        event = await asyncio.wait_for(changed.get(), 5)
    assert event["data"]["entity_id"] == "light.lobby"
    assert event["data"]["new_state"]["state"] == "on"
    assert [call.data for call in calls] == [{"entity_id": ["light.lobby"]}]
    assert calls[0].context.user_id == hub_client.user.id
