"""Home Assistant's commands over a real socket, as an admin (permissions: test_permissions)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from linli.clock import FakeClock
from linli.components.websocket_api import (
    ActiveConnection,
    async_register_command,
    async_register_panel,
    async_response,
    require_admin,
    websocket_command,
)
from linli.context import Context
from linli.hub import Hub

from .conftest import Community, connect


async def test_get_states_and_config(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        states = await ws.result("get_states")
        by_id = {state["entity_id"]: state for state in states}
        assert by_id["light.room_1201"] == dict(hub.states.get("light.room_1201").as_dict())  # type: ignore[union-attr]
        assert set(by_id) == {state.entity_id for state in hub.states.async_all()}
        config = await ws.result("get_config")
        assert config["version"] == "2024.3.0"
        assert config["state"] == "RUNNING"
        assert config["time_zone"] == "Asia/Shanghai"
        assert {"websocket_api", "http", "alert"} <= set(config["components"])
        assert config["unit_system"]["temperature"] == "°C"
        assert config["config_dir"] == str(hub.config_dir)


async def test_get_services(community: Community) -> None:
    async with connect(community.admin) as ws:
        services = await ws.result("get_services")
        assert services["test"]["switch"]["fields"] == {
            "entity_id": {"required": True},
            "state": {"required": False},
        }
        assert services["test"]["echo"]["response"] == {"optional": True}
        assert "response" not in services["test"]["switch"]
        assert "raise" in services["alert"]


async def test_subscribe_and_unsubscribe_events(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        one = await ws.subscribe("subscribe_events", event_type="test_ring")
        every = await ws.subscribe("subscribe_events")
        context = Context(user_id="someone")
        hub.bus.async_fire("test_ring", {"door": "north"}, context=context)
        event = await ws.event(one)
        assert event["event_type"] == "test_ring"
        assert event["data"] == {"door": "north"}
        assert event["origin"] == "LOCAL"
        assert event["context"] == {"id": context.id, "parent_id": None, "user_id": "someone"}
        assert event["time_fired"].startswith("2026-03-01T08:00:00")
        assert (await ws.event(every))["event_type"] == "test_ring"
        # state_changed carries both states in full.
        hub.states.async_set("light.room_1201", "on")
        changed = await ws.event(every)
        assert changed["event_type"] == "state_changed"
        assert changed["data"]["old_state"]["state"] == "off"
        assert changed["data"]["new_state"]["state"] == "on"
        assert await ws.result("unsubscribe_events", subscription=one) is None
        assert await ws.error("unsubscribe_events", subscription=one) == "not_found"
        hub.bus.async_fire("test_ring", {"door": "south"})
        assert (await ws.event(every))["data"] == {"door": "south"}
        await ws.nothing_for(one)


async def test_subscribe_entities_diffs(community: Community, clock: FakeClock) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        sub = await ws.subscribe("subscribe_entities")
        first = await ws.event(sub)
        assert set(first) == {"a"}
        assert set(first["a"]) == {state.entity_id for state in hub.states.async_all()}
        light = hub.states.get("light.room_1201")
        assert light is not None
        assert first["a"]["light.room_1201"] == {
            "s": "off",
            "a": {"friendly_name": "room_1201"},
            "c": light.context.id,
            "lc": light.last_changed_timestamp,
        }

        # A new entity: added in full (a context with a user is sent as a dict).
        clock.advance(1)
        user_context = Context(user_id="u1")
        hub.states.async_set("sensor.new", "5", {"unit": "°C", "x": 1}, context=user_context)
        added = await ws.event(sub)
        assert added == {
            "a": {
                "sensor.new": {
                    "s": "5",
                    "a": {"unit": "°C", "x": 1},
                    "c": {"id": user_context.id, "parent_id": None, "user_id": "u1"},
                    "lc": clock.time(),
                }
            }
        }

        # The state changes: s, lc, the context; an attribute changes, one is removed.
        clock.advance(1)
        plain = Context()
        hub.states.async_set("sensor.new", "6", {"unit": "°F"}, context=plain)
        changed = await ws.event(sub)
        assert changed == {
            "c": {
                "sensor.new": {
                    "+": {
                        "s": "6",
                        "lc": clock.time(),
                        "c": {"user_id": None, "id": plain.id},
                        "a": {"unit": "°F"},
                    },
                    "-": {"a": ["x"]},
                }
            }
        }

        # Only an attribute changes: lu instead of lc; a bare context id when only it changed.
        clock.advance(1)
        again = Context()
        hub.states.async_set("sensor.new", "6", {"unit": "°F", "y": [1, 2]}, context=again)
        assert await ws.event(sub) == {
            "c": {"sensor.new": {"+": {"lu": clock.time(), "c": again.id, "a": {"y": [1, 2]}}}}
        }

        # Removed.
        hub.states.async_remove("sensor.new")
        assert await ws.event(sub) == {"r": ["sensor.new"]}

        # Applying every diff to the first snapshot gives the state machine's view.
        assert await ws.result("unsubscribe_events", subscription=sub) is None


async def test_subscribe_entities_for_some_entities(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        sub = await ws.subscribe("subscribe_entities", entity_ids=["light.room_1202", "light.none"])
        first = await ws.event(sub)
        assert set(first["a"]) == {"light.room_1202"}
        hub.states.async_set("light.room_1201", "on")
        hub.states.async_set("light.room_1202", "on")
        assert set((await ws.event(sub))["c"]) == {"light.room_1202"}
        await ws.nothing_for(sub)


def _apply(view: dict[str, dict[str, Any]], event: dict[str, Any]) -> None:
    """Apply a compressed entity event to a client's view, as HA's frontend does."""
    for entity_id, state in event.get("a", {}).items():
        view[entity_id] = {"s": state["s"], "a": dict(state["a"])}
    for entity_id, diff in event.get("c", {}).items():
        current = view[entity_id]
        plus = diff.get("+", {})
        if "s" in plus:
            current["s"] = plus["s"]
        current["a"].update(plus.get("a", {}))
        for key in diff.get("-", {}).get("a", []):
            del current["a"][key]
    for entity_id in event.get("r", []):
        del view[entity_id]


async def test_subscribe_entities_keeps_a_client_view_in_step(
    community: Community, clock: FakeClock
) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        sub = await ws.subscribe("subscribe_entities")
        view: dict[str, dict[str, Any]] = {}
        _apply(view, await ws.event(sub))
        changes = [
            ("sensor.t", "1", {"a": 1}),
            ("sensor.t", "2", {"a": 1, "b": 2}),
            ("sensor.t", "2", {"b": 3}),
            ("sensor.u", "x", {}),
            ("sensor.t", "3", {}),
            ("light.room_1201", "on", {"brightness": 10}),
        ]
        for entity_id, value, attributes in changes:
            clock.advance(1)
            hub.states.async_set(entity_id, value, attributes)
            _apply(view, await ws.event(sub))
        hub.states.async_remove("sensor.u")
        _apply(view, await ws.event(sub))
        assert view == {
            state.entity_id: {"s": state.state, "a": dict(state.attributes)}
            for state in hub.states.async_all()
        }


async def test_call_service(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        result = await ws.result(
            "call_service",
            domain="test",
            service="switch",
            target={"entity_id": "light.room_1201"},
            service_data={"state": "on"},
        )
        assert set(result) == {"context"}
        assert result["context"]["user_id"] == community.admin.user.id
        state = hub.states.get("light.room_1201")
        assert state is not None
        assert state.state == "on"
        assert state.context.id == result["context"]["id"]

        answer = await ws.result(
            "call_service",
            domain="test",
            service="echo",
            service_data={"x": 1},
            return_response=True,
        )
        assert answer["response"] == {"echo": {"x": 1}, "user_id": community.admin.user.id}

        missing = await ws.call("call_service", domain="test", service="nope")
        assert missing["error"] == {"code": "not_found", "message": "Service test.nope not found."}
        # The service's schema refuses the data.
        assert (
            await ws.error(
                "call_service", domain="test", service="switch", service_data={"state": 1}
            )
            == "invalid_format"
        )
        # The handler refuses it.
        refused = await ws.call("call_service", domain="test", service="picky")
        assert refused["error"]["code"] == "service_validation_error"
        assert "jammed" in refused["error"]["message"]
        # A response from a service that gives none.
        assert (
            await ws.error(
                "call_service",
                domain="test",
                service="switch",
                target={"entity_id": "light.room_1201"},
                return_response=True,
            )
            == "home_assistant_error"
        )
        assert await ws.error("call_service", domain="test") == "invalid_format"


async def test_fire_event(community: Community) -> None:
    async with connect(community.admin) as ws:
        sub = await ws.subscribe("subscribe_events", event_type="test_fired")
        result = await ws.result("fire_event", event_type="test_fired", event_data={"a": 1})
        assert result["context"]["user_id"] == community.admin.user.id
        event = await ws.event(sub)
        assert event["data"] == {"a": 1}
        assert event["context"]["id"] == result["context"]["id"]


async def test_subscribe_trigger(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        sub = await ws.subscribe(
            "subscribe_trigger",
            trigger={"platform": "state", "entity_id": "light.room_1202", "to": "on"},
            variables={"who": "test"},
        )
        context = Context(user_id="u9")
        hub.states.async_set("light.room_1202", "on", context=context)
        event = await ws.event(sub)
        trigger = event["variables"]["trigger"]
        assert trigger["platform"] == "state"
        assert trigger["entity_id"] == "light.room_1202"
        assert trigger["from_state"]["state"] == "off"
        assert trigger["to_state"]["state"] == "on"
        assert event["context"]["user_id"] == "u9"
        assert await ws.result("unsubscribe_events", subscription=sub) is None
        hub.states.async_set("light.room_1202", "off")
        hub.states.async_set("light.room_1202", "on")
        await ws.nothing_for(sub)
        assert await ws.error("subscribe_trigger", trigger={"platform": "nope"}) == "invalid_format"


async def test_render_template(community: Community, clock: FakeClock) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        sub = await ws.subscribe(
            "render_template",
            template="{{ states('light.room_1201') }} {{ who }}",
            variables={"who": "me"},
        )
        first = await ws.event(sub)
        assert first == {
            "result": "off me",
            "listeners": {
                "all": False,
                "entities": ["light.room_1201"],
                "domains": [],
                "time": False,
            },
        }
        hub.states.async_set("light.room_1202", "on")  # not read: nothing
        hub.states.async_set("light.room_1201", "on")
        assert (await ws.event(sub))["result"] == "on me"
        hub.states.async_set("light.room_1201", "on", {"x": 1})  # same result: nothing
        await ws.nothing_for(sub)
        assert await ws.result("unsubscribe_events", subscription=sub) is None
        hub.states.async_set("light.room_1201", "off")
        await ws.nothing_for(sub)

        # One render only (Linli's subscribe: false).
        once = await ws.subscribe("render_template", template="{{ 1 + 2 }}", subscribe=False)
        assert (await ws.event(once))["result"] == 3

        # Errors: a syntax error, a failing first render.
        bad = await ws.call("render_template", template="{{ 1 + }}")
        assert bad["error"]["code"] == "template_error"
        assert (
            await ws.error("render_template", template="{{ states('a.b') | float }}")
            == "template_error"
        )

        # Later errors are reported as events with report_errors.
        hub.states.async_set("sensor.num", "1")
        sub = await ws.subscribe(
            "render_template", template="{{ states('sensor.num') | float }}", report_errors=True
        )
        assert (await ws.event(sub))["result"] == 1.0
        hub.states.async_set("sensor.num", "x")
        failure = await ws.event(sub)
        assert failure["level"] == "ERROR"
        assert failure["error"]
        hub.states.async_set("sensor.num", "2")
        assert (await ws.event(sub))["result"] == 2.0

        # Templates reading the time are re-rendered every minute.
        timed = await ws.subscribe("render_template", template="{{ now().minute }}")
        assert (await ws.event(timed))["listeners"]["time"] is True
        clock.advance(60)
        assert (await ws.event(timed))["result"] == 1


async def test_validate_config(community: Community) -> None:
    async with connect(community.admin) as ws:
        result = await ws.result(
            "validate_config",
            trigger={"platform": "state", "entity_id": "light.room_1201"},
            condition={"condition": "state", "entity_id": "light.room_1201", "state": "on"},
            action=[{"action": "test.switch", "target": {"entity_id": "light.room_1201"}}],
        )
        assert result == {
            "trigger": {"valid": True, "error": None},
            "condition": {"valid": True, "error": None},
            "action": {"valid": True, "error": None},
        }
        result = await ws.result(
            "validate_config",
            trigger={"platform": "no_such"},
            condition={"condition": "bogus"},
        )
        assert result["trigger"]["valid"] is False
        assert "no_such" in result["trigger"]["error"]
        assert result["condition"]["valid"] is False
        assert "action" not in result


async def test_registry_lists(community: Community) -> None:
    async with connect(community.admin) as ws:
        areas = await ws.result("config/area_registry/list")
        by_id = {area["area_id"]: area for area in areas}
        assert {"b1", "b1-u1-1201", "b2-lobby"} <= set(by_id)
        room = by_id["b1-u1-1201"]
        assert room["name"] == "1201"
        assert room["parent_id"] == "b1-u1-f12"
        assert room["kind"] == "room"
        assert {"aliases", "floor_id", "icon", "labels", "picture"} <= set(room)

        devices = await ws.result("config/device_registry/list")
        assert len(devices) == 1
        gate = devices[0]
        assert gate["name"] == "Gate 1"
        assert gate["area_id"] == "b1"
        assert gate["identifiers"] == [["test", "gate-1"]]
        assert {"config_entries", "manufacturer", "model", "via_device_id"} <= set(gate)

        entities = await ws.result("config/entity_registry/list")
        by_entity = {entity["entity_id"]: entity for entity in entities}
        assert set(by_entity) >= {"light.room_1201", "sensor.community"}
        light = by_entity["light.room_1201"]
        assert light["platform"] == "test"
        assert light["device_id"] == gate["id"]
        assert light["area_id"] == "b1-u1-1201"
        assert {"config_entry_id", "entity_category", "has_entity_name", "unique_id"} <= set(light)


async def test_traces(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.admin) as ws:
        rang = await ws.subscribe("subscribe_events", event_type="test_rang")
        await ws.result("fire_event", event_type="test_doorbell")
        await ws.event(rang)
        await hub.async_block_till_done()
        traces = await ws.result("trace/list", domain="automation")
        assert len(traces) == 1
        summary = traces[0]
        assert summary["item_id"] == "doorbell"
        assert summary["domain"] == "automation"
        assert summary["state"] == "stopped"
        assert summary["script_execution"] == "finished"
        assert set(summary["timestamp"]) == {"start", "finish"}
        assert await ws.result("trace/list", domain="automation", item_id="other") == []
        assert await ws.result("trace/list", domain="script") == []

        trace = await ws.result(
            "trace/get", domain="automation", item_id="doorbell", run_id=summary["run_id"]
        )
        assert trace["run_id"] == summary["run_id"]
        assert trace["trigger"]["event"]["event_type"] == "test_doorbell"
        assert "action/0" in trace["trace"]
        assert (
            await ws.error("trace/get", domain="automation", item_id="doorbell", run_id="nope")
            == "not_found"
        )


async def test_get_panels(community: Community) -> None:
    hub = community.admin.hub
    async_register_panel(hub, "alerts", title="Alerts", icon="mdi:alert")
    async_register_panel(hub, "config", url_path="config", require_admin=True)
    async with connect(community.admin) as ws:
        panels = await ws.result("get_panels")
        assert panels["alerts"] == {
            "component_name": "alerts",
            "icon": "mdi:alert",
            "title": "Alerts",
            "config": {},
            "url_path": "alerts",
            "require_admin": False,
            "config_panel_domain": None,
        }
        assert "config" in panels
    async with connect(community.staff) as ws:
        assert set(await ws.result("get_panels")) == {"alerts"}


async def test_current_user(community: Community) -> None:
    async with connect(community.staff) as ws:
        me = await ws.result("auth/current_user")
        assert me["id"] == community.staff.user.id
        assert me["is_admin"] is False
        assert me["role"] == "staff"
        assert me["area_ids"] == ["b1"]


# ---------------------------------------------------------------------- extension API
@websocket_command({vol.Required("type"): "test/add", vol.Required("a"): int, "b": int})
def handle_add(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    connection.send_result(msg["id"], msg["a"] + msg.get("b", 0))


@websocket_command({vol.Required("type"): "test/slow_add", vol.Required("a"): int})
@async_response
async def handle_slow_add(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    if msg["a"] < 0:
        raise ValueError("no negatives")
    connection.send_result(msg["id"], msg["a"] + 1)


@websocket_command({vol.Required("type"): "test/secret"})
@require_admin
def handle_secret(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    connection.send_result(msg["id"], "42")


async def test_integrations_add_commands(community: Community) -> None:
    hub = community.admin.hub
    for handler in (handle_add, handle_slow_add, handle_secret):
        async_register_command(hub, handler)

    def raw(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        connection.send_result(msg["id"], sorted(msg))

    async_register_command(hub, "test/raw", raw)
    async with connect(community.admin) as ws:
        assert await ws.result("test/add", a=1, b=2) == 3
        assert await ws.result("test/add", a=1) == 1
        assert await ws.error("test/add", b=1) == "invalid_format"
        assert await ws.error("test/add", a=1, c=1) == "invalid_format"
        assert await ws.result("test/slow_add", a=1) == 2
        failed = await ws.call("test/slow_add", a=-1)
        assert failed["error"] == {"code": "unknown_error", "message": "Unknown error"}
        assert await ws.result("test/secret") == "42"
        assert await ws.result("test/raw", x=1) == ["id", "type", "x"]
    async with connect(community.staff) as ws:
        assert await ws.error("test/secret") == "unauthorized"
