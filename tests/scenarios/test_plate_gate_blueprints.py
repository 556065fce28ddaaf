"""The shipped plate-gate blueprints end to end, with the simulator's ANPR gate.

``linli/visitor_plate_pass.yaml``: a visitor's car let in by the pass 1201 registered tells
1201 (a ``linli_notify`` event). ``linli/unknown_plate_ask_guard.yaml``: an unknown car at the
north entrance raises an alert for the guard with open and deny actions; the guard's answer
reaches the gate on its next poll and resolves the alert.

The gate is ``linli_demo.gate.AnprGate`` pushing ``AlarmInfoPlate`` records over real HTTP to
the hub's webhook; the hub runs mqtt (on the shared broker) and plate_gate.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import linli_mqtt
import linli_plate_gate
from linli import Context
from linli.auth import get_auth
from linli.auth.testing import async_user_with_token
from linli.components.alert import AlertState, Severity
from linli.components.http import get_http
from linli_demo.gate import AnprGate, Outcome
from linli_mqtt.testing import async_clear_retained, mqtt_broker, mqtt_section
from linli_plate_gate.api import Caller
from linli_plate_gate.views import PLATE_API

__all__ = ["mqtt_broker"]

HOOK = "north-in-5d1e9a0b7c3f2468"


def _plate_gate_config(broker: tuple[str, int], base: str) -> str:
    return (
        "\n"
        + mqtt_section(broker, base)
        + f"""plate_gate:
  car_parks:
    - {{id: p1, name: 北区停车场, area_id: b1, capacity: 50}}
  gates:
    - {{id: north-in, name: North entrance, car_park: p1, direction: in, kind: http,
        webhook_id: {HOOK}}}
"""
    )


@pytest.fixture
async def plate_community(community: Any, mqtt_broker: tuple[str, int]) -> AsyncIterator[Any]:
    """The scenario community with a car park and an HTTP gate at its north entrance."""
    base = f"linli_test/{uuid.uuid4().hex}"
    path = community.config_dir / "configuration.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + _plate_gate_config(mqtt_broker, base), encoding="utf-8"
    )
    community.plugins.extend([("mqtt", linli_mqtt), ("plate_gate", linli_plate_gate)])
    yield community
    await async_clear_retained(*mqtt_broker, f"{base}/#")


async def _start(community: Any, automations: str) -> tuple[Any, AnprGate, str, str]:
    """Start the hub; return (hub, the gate, household 1201, household 1202)."""
    community.write_automations(automations)
    hub = await community.start()
    people = hub.registries.people
    h1201 = people.async_create_household("1-1-1201", ["b1-u1-1201"]).id
    h1202 = people.async_create_household("1-1-1202", ["b1-u1-1202"]).id
    gate = AnprGate(
        gate_id="north-in",
        area_id="b1",
        name="North entrance",
        ip="192.0.2.21",
        serialno="demo-north-in",
        url=f"http://127.0.0.1:{get_http(hub).port}/api/webhook/{HOOK}",
        clock=community.clock.utcnow,
    )
    return hub, gate, h1201, h1202


async def _admin(hub: Any) -> Caller:
    user, _token = await async_user_with_token(hub, "admin", name="物业管理员")
    return Caller(get_auth(hub).permissions(user), Context(user_id=user.id), "test")


def _events(hub: Any, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    hub.bus.async_listen(event_type, lambda event: seen.append(dict(event.data)))
    return seen


VISITOR_PASS = """\
- id: visitor_plate_pass
  alias: 访客车辆入场通知
  use_blueprint:
    path: linli/visitor_plate_pass.yaml
    input: {}
"""


async def test_the_household_hears_when_its_visitor_drives_in(plate_community: Any) -> None:
    community = plate_community
    hub, gate, h1201, h1202 = await _start(community, VISITOR_PASS)
    api = hub.data[PLATE_API]
    admin = await _admin(hub)
    await api.async_add_plate(admin, {"household_id": h1202, "plate": "川A8N8N8"})
    await api.async_add_pass(
        admin,
        {
            "household_id": h1201,
            "plate": "粤BD12345",
            "color": 5,
            "start": "2026-03-01T18:00",
            "end": "2026-03-01T22:00",
        },
    )
    notices = _events(hub, "linli_notify")

    async with aiohttp.ClientSession() as session:
        await community.move_to("2026-03-01 19:05")
        assert await gate.async_push(session, "粤BD12345", 5) is Outcome.OPEN
        assert await gate.async_push(session, "川A8N8N8", 1) is Outcome.OPEN  # a resident
        await community.move_to("2026-03-01 23:00")
        assert await gate.async_push(session, "粤BD12345", 5) is Outcome.DENY  # pass over
    await hub.async_block_till_done()

    (notice,) = notices
    assert notice["household_id"] == h1201
    assert notice["kind"] == "visitor_plate_pass"
    assert notice["plate"] == "粤BD12345"
    assert notice["gate_id"] == "north-in"
    assert notice["car_park"] == "p1"
    assert "19:05" in notice["message"]
    assert "North entrance Barrier" in notice["message"]
    assert notice["title"] == "访客车辆已入场 · Your visitor has arrived"


ASK_GUARD = """\
- id: unknown_plate_ask_guard
  alias: 未登记车辆请保安处理
  use_blueprint:
    path: linli/unknown_plate_ask_guard.yaml
    input:
      severity: critical
      assignee: role:staff
"""


async def _answer(hub: Any, alert: Any, action: str, user_id: str) -> None:
    """Do what the alert's button does, as the guard."""
    (chosen,) = [item for item in alert.data["actions"] if item["action"] == action]
    domain, service = chosen["service"].split(".")
    await hub.services.async_call(
        domain, service, chosen["data"], blocking=True, context=Context(user_id=user_id)
    )
    await hub.async_block_till_done()


async def test_an_unknown_plate_asks_the_guard_who_opens_or_refuses(
    plate_community: Any,
) -> None:
    community = plate_community
    hub, gate, _h1201, _h1202 = await _start(community, ASK_GUARD)
    guard, _token = await async_user_with_token(hub, "staff", name="门岗", area_ids=("b1",))
    reads = _events(hub, "plate_gate_read")

    async with aiohttp.ClientSession() as session:
        await community.move_to("2026-03-01 20:00")
        assert await gate.async_push(session, "沪C55555", 1) is Outcome.DENY
        await hub.async_block_till_done()
        (alert,) = community.alerts()
        read_id = reads[0]["read_id"]
        assert alert.kind == "unknown_plate"
        assert alert.severity is Severity.CRITICAL
        assert alert.assignee == "role:staff"
        assert alert.area_id == "b1"
        assert alert.source_entity_id == "cover.north_in_barrier"
        assert alert.dedup_key == f"unknown_plate:{read_id}"
        assert alert.title == "North entrance Barrier：未登记车辆 沪C55555"
        assert alert.data["actions"] == [
            {
                "action": "open",
                "service": "plate_gate.open",
                "data": {
                    "entity_id": "cover.north_in_barrier",
                    "gate_id": "north-in",
                    "read_id": read_id,
                },
            },
            {
                "action": "deny",
                "service": "plate_gate.deny",
                "data": {"entity_id": "cover.north_in_barrier", "read_id": read_id},
            },
        ]

        await _answer(hub, alert, "open", guard.id)
        assert await gate.async_heartbeat(session) is True  # the barrier goes up
        (alert,) = community.alerts()
        assert alert.state is AlertState.RESOLVED
        assert guard.id in (alert.history[-1].note or "")

        # Another car: the guard refuses it; the barrier stays down.
        assert await gate.async_push(session, "沪C66666", 1) is Outcome.DENY
        await hub.async_block_till_done()
        second = community.alerts(states=[AlertState.NEW])[0]
        assert second.id != alert.id
        await _answer(hub, second, "deny", guard.id)
        assert await gate.async_heartbeat(session) is False
    assert community.alerts(states=[AlertState.NEW]) == []
    assert gate.opened == 1


async def test_an_unanswered_alert_stays_for_a_person(plate_community: Any) -> None:
    community = plate_community
    hub, gate, _h1201, _h1202 = await _start(community, ASK_GUARD)
    async with aiohttp.ClientSession() as session:
        await community.move_to("2026-03-01 20:00")
        assert await gate.async_push(session, "沪C55555", 1) is Outcome.DENY
        await hub.async_block_till_done()
        await community.move_to("2026-03-01 20:16")
    (alert,) = community.alerts()
    assert alert.state is AlertState.NEW
