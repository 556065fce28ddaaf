"""The event trigger: types, data subset matching, context, one listener per event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from linli.context import Context
from linli.hub import Hub

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""


async def test_matches_types_and_a_subset_of_the_data(hub: Hub, attach: Attach) -> None:
    fired, _ = await attach(
        hub,
        {
            "platform": "event",
            "event_type": ["gate_opened", "gate_forced"],
            "event_data": {"gate": "north", "reader": {"kind": "face"}},
        },
    )
    hub.bus.async_fire("gate_opened", {"gate": "north", "reader": {"kind": "face", "n": 1}})
    hub.bus.async_fire("gate_forced", {"gate": "north", "reader": {"kind": "face"}, "x": 1})
    hub.bus.async_fire("gate_opened", {"gate": "south", "reader": {"kind": "face"}})
    hub.bus.async_fire("gate_opened", {"gate": "north", "reader": {"kind": "card"}})
    hub.bus.async_fire("gate_opened", {"gate": "north", "reader": "face"})
    hub.bus.async_fire("door_opened", {"gate": "north", "reader": {"kind": "face"}})

    assert [t["event"].event_type for t in fired.triggers] == ["gate_opened", "gate_forced"]
    assert fired.triggers[0]["platform"] == "event"
    assert fired.triggers[0]["description"] == "event 'gate_opened'"


async def test_matches_the_context_user(hub: Hub, attach: Attach) -> None:
    fired, _ = await attach(
        hub,
        {"platform": "event", "event_type": "button_pressed", "context": {"user_id": ["u1", "u2"]}},
    )
    for user in ("u1", "u3", None, "u2"):
        hub.bus.async_fire("button_pressed", context=Context(user_id=user))
    assert [c.user_id for c in fired.contexts if c is not None] == ["u1", "u2"]


async def test_event_triggers_share_one_bus_listener(hub: Hub, attach: Attach) -> None:
    detachers = []
    counters = []
    for index in range(50):
        fired, detach = await attach(
            hub, {"platform": "event", "event_type": "tick", "event_data": {"n": index % 2}}
        )
        detachers.append(detach)
        counters.append(fired)
    assert hub.bus.async_listeners()["tick"] == 1
    hub.bus.async_fire("tick", {"n": 1})
    assert sum(len(fired) for fired in counters) == 25
    for detach in detachers:
        detach()
    assert "tick" not in hub.bus.async_listeners()
