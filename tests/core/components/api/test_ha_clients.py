"""An existing Home Assistant client library works against Linli unchanged.

``hass_client`` is a third-party WebSocket client written for Home Assistant; it talks to a hub
served on a free port with a long-lived token, exactly as it would to Home Assistant.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hass_client import HomeAssistantClient

from linli.callback import callback
from linli.components.http import HA_API_VERSION, get_http
from linli.services import ServiceCall
from linli.testing.http import HubClient


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
