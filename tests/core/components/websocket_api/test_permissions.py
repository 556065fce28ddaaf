"""Every role against every command: what it may do, and what it is shown."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ENTITIES, Community, connect

ROLES = ("admin", "staff", "grid_worker", "police", "resident", "other_resident")

READABLE = {
    "admin": set(ENTITIES) | {"sensor.open_alerts", "automation.doorbell"},
    "staff": {"light.room_1201", "light.room_1202"},
    "grid_worker": {"sensor.lobby_b2"},
    "police": set(),
    "resident": {"light.room_1201"},
    "other_resident": {"light.room_1202"},
}

ADMIN_ONLY: dict[str, dict[str, Any]] = {
    "fire_event": {"event_type": "test_x"},
    "subscribe_trigger": {"trigger": {"platform": "event", "event_type": "test_x"}},
    "render_template": {"template": "{{ 1 }}"},
    "trace/list": {"domain": "automation"},
    "trace/get": {"domain": "automation", "item_id": "doorbell", "run_id": "x"},
}

OPEN_TO_ALL: dict[str, dict[str, Any]] = {
    "ping": {},
    "get_config": {},
    "get_services": {},
    "get_panels": {},
    "auth/current_user": {},
    "validate_config": {"condition": {"condition": "state", "entity_id": "a.b", "state": "1"}},
}


@pytest.mark.parametrize("role", ROLES)
async def test_states_and_registries_are_filtered(community: Community, role: str) -> None:
    async with connect(community.role(role)) as ws:
        states = await ws.result("get_states")
        assert {s["entity_id"] for s in states} == READABLE[role]
        sub = await ws.subscribe("subscribe_entities")
        assert set((await ws.event(sub))["a"]) == READABLE[role]
        entities = await ws.result("config/entity_registry/list")
        assert {e["entity_id"] for e in entities} == READABLE[role] - {"sensor.open_alerts"}
        areas = {a["area_id"] for a in await ws.result("config/area_registry/list")}
        devices = await ws.result("config/device_registry/list")
        if role == "admin":
            assert {"b1", "b2", "b2-lobby"} <= areas
        elif role in ("staff", "police"):
            assert areas == {"b1", "b1-u1", "b1-u1-f12", "b1-u1-1201", "b1-u1-1202"}
        elif role == "grid_worker":
            assert areas == {"b2", "b2-lobby"}
        elif role == "resident":
            assert areas == {"b1-u1-1201"}
        assert [d["name"] for d in devices] == (
            ["Gate 1"] if role in ("admin", "staff", "police") else []
        )


@pytest.mark.parametrize("role", ROLES)
async def test_entity_changes_are_filtered(community: Community, role: str) -> None:
    hub = community.admin.hub
    async with connect(community.role(role)) as ws:
        entities = await ws.subscribe("subscribe_entities")
        await ws.event(entities)
        events = await ws.subscribe("subscribe_events")
        changes = await ws.subscribe("subscribe_events", event_type="state_changed")
        for entity_id in ENTITIES:
            hub.states.async_set(entity_id, "on")
        hub.bus.async_fire("test_private", {"secret": 1})
        expected = READABLE[role] & set(ENTITIES)
        seen_entities: set[str] = set()
        for _ in expected:
            seen_entities |= set((await ws.event(entities))["c"])
        assert seen_entities == expected
        seen_changes = set()
        for _ in expected:
            seen_changes.add((await ws.event(changes))["data"]["entity_id"])
        assert seen_changes == expected
        seen_types = []
        for _ in expected:
            seen_types.append((await ws.event(events))["event_type"])
        if role == "admin":
            # Admins see every event, the private one too (after the state changes).
            assert (await ws.event(events))["event_type"] == "test_private"
        for sub in (entities, events, changes):
            await ws.nothing_for(sub, 0.05)
        assert set(seen_types) <= {"state_changed"}


@pytest.mark.parametrize("role", ROLES)
async def test_alert_events_follow_the_alert_area(community: Community, role: str) -> None:
    from linli.components.alert import get_manager

    async with connect(community.role(role)) as ws:
        sub = await ws.subscribe("subscribe_events", event_type="alert_raised")
        manager = get_manager(community.admin.hub)
        await manager.async_raise("water", "Leak in 1202", area_id="b1-u1-1202")
        await manager.async_raise("water", "Leak in the lobby", area_id="b2-lobby")
        expected = {
            "admin": ["Leak in 1202", "Leak in the lobby"],
            "staff": ["Leak in 1202"],
            "police": ["Leak in 1202"],
            "grid_worker": ["Leak in the lobby"],
            "resident": [],
            "other_resident": ["Leak in 1202"],
        }[role]
        titles = [(await ws.event(sub))["data"]["alert"]["title"] for _ in expected]
        assert titles == expected
        await ws.nothing_for(sub, 0.05)


CALLERS = {
    "admin": "ok",
    "staff": "ok",
    "resident": "ok",
    "grid_worker": "unauthorized",
    "police": "unauthorized",
    "other_resident": "unauthorized",
}


@pytest.mark.parametrize("role", ROLES)
async def test_service_calls_are_checked(community: Community, role: str) -> None:
    hub = community.admin.hub
    async with connect(community.role(role)) as ws:
        msg = await ws.call(
            "call_service",
            domain="test",
            service="switch",
            target={"entity_id": "light.room_1201"},
            service_data={"state": "on"},
        )
        state = hub.states.get("light.room_1201")
        assert state is not None
        if CALLERS[role] == "ok":
            assert msg["success"] is True, msg
            assert state.state == "on"
            assert state.context.user_id == community.role(role).user.id
        else:
            assert msg["error"]["code"] == "unauthorized", msg
            assert state.state == "off"
        # A service without an entity target is for admins only.
        echo = await ws.call("call_service", domain="test", service="echo", service_data={"x": 1})
        assert echo["success"] is (role == "admin"), echo


@pytest.mark.parametrize("role", ROLES)
async def test_admin_only_and_open_commands(community: Community, role: str) -> None:
    async with connect(community.role(role)) as ws:
        for command, data in ADMIN_ONLY.items():
            msg = await ws.call(command, **data)
            if role == "admin":
                assert msg["success"] or msg["error"]["code"] == "not_found", (command, msg)
            else:
                assert msg["error"] == {"code": "unauthorized", "message": "Unauthorized"}, command
        for command, data in OPEN_TO_ALL.items():
            if command == "ping":
                await ws.result_of_ping()
            else:
                await ws.result(command, **data)
