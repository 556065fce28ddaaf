"""An ANPR gate on the real broker (kind ``anpr_gate``): reads in, ``open`` commands out."""

from __future__ import annotations

import json
from typing import Any

from linli.testing.http import HubClient
from linli_mqtt.testing import async_wait_until


async def _gate(mqtt_peer: Any, base_topic: str) -> tuple[Any, str]:
    device = await mqtt_peer()
    topic = f"{base_topic}/linli/anpr_gate/east"
    await device.async_subscribe(f"{topic}/command")
    return device, topic


def _logged(hub_client: HubClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    hub_client.hub.bus.async_listen("plate_gate_read", lambda event: events.append(event.data))
    return events


async def test_a_resident_plate_gets_open_on_the_broker(
    hub_client: HubClient, community: Any, mqtt_peer: Any, base_topic: str
) -> None:
    response = await hub_client.post(
        "/api/linli/plates",
        json={"household_id": community.household_1202, "plate": "川A·8N8N8", "color": 1},
    )
    assert response.status == 201, await response.text()
    reads = _logged(hub_client)
    device, topic = await _gate(mqtt_peer, base_topic)
    event = {
        "v": 1,
        "type": "plate",
        "plate": "川A8N8N8",
        "color": "blue",
        "confidence": 0.96,
        "direction": "in",
        "record_id": "r-1",
    }
    await device.async_publish(f"{topic}/event", json.dumps(event))
    (command,) = await device.async_wait_for(f"{topic}/command")
    await async_wait_until(lambda: len(reads) == 1, what="the read")
    assert json.loads(command.payload) == {
        "v": 1,
        "command": "open",
        "read_id": reads[0]["read_id"],
    }
    assert reads[0]["category"] == "resident"
    assert reads[0]["household_id"] == community.household_1202

    # The same record again (a retry): no second open, no second read.
    await device.async_publish(f"{topic}/event", json.dumps({**event, "id": "other"}))
    await device.async_publish(f"{topic}/state", json.dumps({"v": 1, "barrier": "open"}))
    await async_wait_until(
        lambda: hub_client.hub.states.get("cover.east_barrier").state == "open",  # type: ignore[union-attr]
        what="the barrier's state",
    )
    assert len(device.received(f"{topic}/command")) == 1
    assert len(reads) == 1


async def test_an_unknown_plate_waits_for_the_guard_who_opens_over_mqtt(
    hub_client: HubClient, community: Any, mqtt_peer: Any, base_topic: str
) -> None:
    reads = _logged(hub_client)
    device, topic = await _gate(mqtt_peer, base_topic)
    await device.async_publish(
        f"{topic}/event",
        json.dumps({"v": 1, "type": "plate", "plate": "沪C55555", "record_id": "r-9"}),
    )
    await async_wait_until(lambda: len(reads) == 1, what="the read")
    assert (reads[0]["decision"], reads[0]["direction"]) == ("ask", "in")  # a both-ways gate
    assert device.received(f"{topic}/command") == []
    grid_worker = community.grid_worker  # building b2, where the east gate is
    response = await grid_worker.post(
        "/api/services/plate_gate/open",
        json={"entity_id": "cover.east_barrier", "read_id": reads[0]["read_id"]},
    )
    assert response.status == 200, await response.text()
    (command,) = await device.async_wait_for(f"{topic}/command")
    assert json.loads(command.payload)["command"] == "open"


async def test_bad_gate_messages_are_dropped_and_the_gate_goes_on(
    hub_client: HubClient, community: Any, mqtt_peer: Any, base_topic: str
) -> None:
    from linli_mqtt.devices import devices_diagnostics

    reads = _logged(hub_client)
    device, topic = await _gate(mqtt_peer, base_topic)
    await device.async_publish(f"{topic}/event", b"{nope")
    await device.async_publish(f"{topic}/event", json.dumps({"v": 1, "type": "plate"}))
    await device.async_publish(
        f"{base_topic}/linli/anpr_gate/nowhere/event",
        json.dumps({"v": 1, "type": "plate", "plate": "沪C55555"}),
    )
    await device.async_publish(
        f"{topic}/event", json.dumps({"v": 1, "type": "plate", "plate": "沪C55556"})
    )
    await async_wait_until(lambda: len(reads) == 1, what="the good read")
    rejected = devices_diagnostics(hub_client.hub)["rejected"]
    assert rejected["invalid_json"] >= 1
    assert rejected["invalid_payload"] >= 1
    assert reads[0]["plate"] == "沪C55556"
