"""Home Assistant's REST endpoints over a real server: shapes and status codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.clock import FakeClock
from linli.components.http import get_http
from linli.services import ServiceCall, SupportsResponse
from linli.testing.http import HubClient


async def test_status_needs_a_token(hub_client: HubClient) -> None:
    response = await hub_client.get("/api/")
    assert response.status == 200
    assert await response.json() == {"message": "API running."}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await hub_client.get("/api/", auth=False, headers=headers)
        assert response.status == 401
        assert await response.text() == "401: Unauthorized"


async def test_config_has_home_assistants_keys(hub_client: HubClient) -> None:
    config = await (await hub_client.get("/api/config")).json()
    for key in (
        "location_name",
        "latitude",
        "longitude",
        "elevation",
        "time_zone",
        "unit_system",
        "version",
        "components",
        "config_dir",
        "state",
    ):
        assert key in config, key
    assert config["location_name"] == "Linli"
    assert config["time_zone"] == "Asia/Shanghai"
    assert config["unit_system"]["temperature"] == "°C"
    assert {"http", "api", "webhook", "auth", "recorder"} <= set(config["components"])
    assert config["state"] == "RUNNING"
    resident = await hub_client.as_user("resident")
    assert "config_dir" not in await (await resident.get("/api/config")).json()
    # The WebSocket API reports the very same settings.
    async with hub_client.ws() as socket:
        await socket.send_json({"id": 1, "type": "get_config"})
        reply = await socket.receive_json()
    assert reply["success"] is True
    assert reply["result"] == config
    assert config["internal_url"] == get_http(hub_client.hub).base_url


async def test_states_get_set_delete(hub_client: HubClient) -> None:
    response = await hub_client.get("/api/states/sensor.gate")
    assert response.status == 404
    assert await response.json() == {"message": "Entity not found."}

    response = await hub_client.post(
        "/api/states/sensor.gate", json={"state": "12", "attributes": {"unit": "°C"}}
    )
    assert response.status == 201
    assert response.headers["Location"] == "/api/states/sensor.gate"
    created = await response.json()
    assert created["entity_id"] == "sensor.gate"
    assert created["state"] == "12"
    assert created["attributes"] == {"unit": "°C"}
    assert created["context"]["user_id"] == hub_client.user.id
    assert set(created) == {
        "entity_id",
        "state",
        "attributes",
        "last_changed",
        "last_updated",
        "context",
    }

    response = await hub_client.post("/api/states/sensor.gate", json={"state": 13})
    assert response.status == 200
    assert response.headers["Location"] == "/api/states/sensor.gate"
    assert hub_client.hub.states.get("sensor.gate").state == "13"  # type: ignore[union-attr]

    got = await (await hub_client.get("/api/states/sensor.gate")).json()
    assert got["state"] == "13"
    states = await (await hub_client.get("/api/states")).json()
    assert "sensor.gate" in {state["entity_id"] for state in states}

    response = await hub_client.delete("/api/states/sensor.gate")
    assert response.status == 200
    assert await response.json() == {"message": "Entity removed."}
    assert (await hub_client.delete("/api/states/sensor.gate")).status == 404


async def test_state_post_bad_input(hub_client: HubClient) -> None:
    cases: list[tuple[str, Any, str]] = [
        ("sensor.x", [1], "State data should be a JSON object."),
        ("sensor.x", {}, "No state attribute specified."),
        ("sensor.x", {"state": {"a": 1}}, "Invalid state specified."),
        ("sensor.x", {"state": "x" * 256}, "Invalid state specified."),
        ("sensor.x", {"state": "1", "attributes": [1]}, "Attributes should be a JSON object."),
        ("not_an_id", {"state": "1"}, "Invalid entity ID specified."),
    ]
    for entity_id, body, message in cases:
        response = await hub_client.post(f"/api/states/{entity_id}", json=body)
        assert response.status == 400, body
        assert await response.json() == {"message": message}
    response = await hub_client.post("/api/states/sensor.x", data=b"{nope")
    assert response.status == 400
    assert await response.json() == {"message": "State data should be valid JSON."}


async def test_services_list_and_call(hub_client: HubClient) -> None:
    hub = hub_client.hub

    async def turn_on(call: ServiceCall) -> None:
        hub.states.async_set(call.data["entity_id"], "on", context=call.context)
        hub.states.async_set("sensor.unrelated", "1")  # another context: not reported

    async def count(call: ServiceCall) -> dict[str, Any]:
        return {"count": 3}

    hub.services.async_register("lamp", "turn_on", turn_on, description="Turn a lamp on")
    hub.services.async_register("lamp", "count", count, supports_response=SupportsResponse.ONLY)
    services = await (await hub_client.get("/api/services")).json()
    lamp = next(item for item in services if item["domain"] == "lamp")
    assert lamp["services"]["turn_on"]["description"] == "Turn a lamp on"
    assert lamp["services"]["count"]["response"] == {"optional": False}
    assert "response" not in lamp["services"]["turn_on"]

    response = await hub_client.post("/api/services/lamp/turn_on", json={"entity_id": "light.hall"})
    assert response.status == 200
    changed = await response.json()
    assert [state["entity_id"] for state in changed] == ["light.hall"]
    assert changed[0]["context"]["user_id"] == hub_client.user.id

    response = await hub_client.post("/api/services/lamp/count?return_response", json={})
    assert response.status == 200
    assert await response.json() == {"changed_states": [], "service_response": {"count": 3}}

    for path, body in (
        ("/api/services/lamp/count", {}),  # needs ?return_response
        ("/api/services/lamp/turn_on?return_response", {"entity_id": "light.hall"}),
        ("/api/services/lamp/nothing", {}),
        ("/api/services/lamp/turn_on", [1]),
    ):
        response = await hub_client.post(path, json=body)
        assert response.status == 400, path
        assert "message" in await response.json()


async def test_service_validation_error_is_400(hub_client: HubClient) -> None:
    import voluptuous as vol

    hub_client.hub.services.async_register(
        "lamp", "dim", lambda call: None, schema=vol.Schema({vol.Required("level"): int})
    )
    response = await hub_client.post("/api/services/lamp/dim", json={"level": "high"})
    assert response.status == 400
    assert "level" in (await response.json())["message"]


async def test_events_list_and_fire(hub_client: HubClient) -> None:
    fired: list[Any] = []
    hub_client.hub.bus.async_listen("doorbell", fired.append)
    listeners = await (await hub_client.get("/api/events")).json()
    assert {"event": "doorbell", "listener_count": 1} in listeners

    response = await hub_client.post("/api/events/doorbell", json={"door": "north"})
    assert response.status == 200
    assert await response.json() == {"message": "Event doorbell fired."}
    await hub_client.hub.async_block_till_done()
    assert fired[0].data == {"door": "north"}
    assert fired[0].origin.value == "REMOTE"
    assert fired[0].context.user_id == hub_client.user.id
    assert (await hub_client.post("/api/events/doorbell")).status == 200

    for body in ([1, 2], "text"):
        response = await hub_client.post("/api/events/doorbell", json=body)
        assert response.status == 400
    response = await hub_client.post("/api/events/doorbell", data=b"{bad")
    assert await response.json() == {"message": "Event data should be valid JSON."}
    assert (await hub_client.post("/api/events/state_changed", json={})).status == 400


async def test_template(hub_client: HubClient) -> None:
    hub_client.hub.states.async_set("sensor.temp", "21.5")
    response = await hub_client.post(
        "/api/template",
        json={
            "template": "It is {{ states('sensor.temp') }} and {{ who }}",
            "variables": {"who": "me"},
        },
    )
    assert response.status == 200
    assert await response.text() == "It is 21.5 and me"
    response = await hub_client.post("/api/template", json={"template": "{{ 1 + }}"})
    assert response.status == 400
    assert (await response.json())["message"].startswith("Error rendering template:")
    assert (await hub_client.post("/api/template", json=[1])).status == 400


async def test_check_config(hub_client: HubClient) -> None:
    response = await hub_client.post("/api/config/core/check_config")
    assert response.status == 200
    assert await response.json() == {"result": "valid", "errors": None, "warnings": None}
    configuration = hub_client.hub.config_dir / "configuration.yaml"
    configuration.write_text(
        configuration.read_text("utf-8") + "http:\n  server_prot: 1\n", "utf-8"
    )
    result = await (await hub_client.post("/api/config/core/check_config")).json()
    assert result["result"] == "invalid"
    assert "server_prot" in result["errors"]


async def test_error_log_keeps_recent_warnings(hub_client: HubClient) -> None:
    import logging

    logging.getLogger("linli.test").error("Gate %s jammed", "north")
    response = await hub_client.get("/api/error_log")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert "ERROR" in await response.text()
    assert "[linli.test] Gate north jammed" in await response.text()


async def test_history_and_logbook(hub_client: HubClient, clock: FakeClock) -> None:
    hub = hub_client.hub
    start = clock.utcnow()
    for value in ("1", "2", "3"):
        hub.states.async_set("sensor.meter", value, {"unit": "kWh"})
        clock.advance(60)
    await hub.async_block_till_done()
    path = f"/api/history/period/{start.isoformat()}"
    response = await hub_client.get(path, params={"filter_entity_id": "sensor.meter"})
    assert response.status == 200
    history = await response.json()
    assert len(history) == 1
    assert [row["state"] for row in history[0]] == ["1", "2", "3"]
    assert history[0][0]["entity_id"] == "sensor.meter"

    response = await hub_client.get(
        path, params={"filter_entity_id": "sensor.meter", "minimal_response": ""}
    )
    minimal = (await response.json())[0]
    assert minimal[0]["attributes"] == {"unit": "kWh"}
    assert set(minimal[1]) == {"state", "last_changed"}

    end = (start + timedelta(seconds=90)).isoformat()
    response = await hub_client.get(
        path, params={"filter_entity_id": "sensor.meter", "end_time": end}
    )
    assert [row["state"] for row in (await response.json())[0]] == ["1", "2"]

    for params in ({"end_time": "yesterday"}, {"filter_entity_id": "not an id"}):
        assert (await hub_client.get(path, params=params)).status == 400
    assert (await hub_client.get("/api/history/period/notatime")).status == 400
    future = (clock.utcnow() + timedelta(days=2)).isoformat()
    assert await (await hub_client.get(f"/api/history/period/{future}")).json() == []

    response = await hub_client.get(
        f"/api/logbook/{start.isoformat()}", params={"entity": "sensor.meter"}
    )
    assert response.status == 200
    entries = await response.json()
    assert [entry["state"] for entry in entries] == ["1", "2", "3"]
    assert {"when", "name", "entity_id"} <= set(entries[0])
