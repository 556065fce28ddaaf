"""Behaviour of the event bus: delivery, listener kinds, filters, errors, contexts."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from linli.bus import Event, EventOrigin, current_owner
from linli.callback import callback
from linli.clock import FakeClock
from linli.const import MATCH_ALL
from linli.context import Context
from linli.hub import Hub


def _collect(into: list[Event[Any]]) -> Callable[[Event[Any]], None]:
    """Return a ``@callback`` listener appending every event it gets to ``into``."""

    @callback
    def listener(event: Event[Any]) -> None:
        into.append(event)

    return listener


# --------------------------------------------------------------------------- fire and listen


async def test_listener_receives_event_with_type_and_data(hub: Hub) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("gate_opened", _collect(received))

    hub.bus.async_fire("gate_opened", {"gate": "north", "by": "card"})

    assert len(received) == 1
    event = received[0]
    assert event.event_type == "gate_opened"
    assert event.data == {"gate": "north", "by": "card"}
    assert event.origin is EventOrigin.local


async def test_listener_only_receives_its_event_type(hub: Hub) -> None:
    received: list[str] = []
    hub.bus.async_listen("gate_opened", callback(lambda e: received.append(e.event_type)))

    hub.bus.async_fire("gate_closed")
    hub.bus.async_fire("gate_opened")
    hub.bus.async_fire("gate_opened_late")

    assert received == ["gate_opened"]


async def test_event_without_data_has_empty_mapping(hub: Hub) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(received))

    hub.bus.async_fire("ping")

    assert received[0].data == {}


async def test_remote_origin_is_kept(hub: Hub) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(received))

    hub.bus.async_fire("ping", origin=EventOrigin.remote)

    assert received[0].origin is EventOrigin.remote
    assert received[0].as_dict()["origin"] == "REMOTE"


async def test_listeners_of_one_type_run_in_registration_order(hub: Hub) -> None:
    order: list[str] = []
    for name in ("first", "second", "third"):
        hub.bus.async_listen("ping", callback(lambda e, name=name: order.append(name)))

    hub.bus.async_fire("ping")

    assert order == ["first", "second", "third"]


async def test_firing_without_any_listener_is_harmless(hub: Hub) -> None:
    hub.bus.async_fire("nobody_listens", {"x": 1})
    await hub.async_block_till_done()


# --------------------------------------------------------------------------- MATCH_ALL


async def test_match_all_receives_every_event_type(hub: Hub) -> None:
    seen: list[str] = []
    hub.bus.async_listen(MATCH_ALL, callback(lambda e: seen.append(e.event_type)))

    hub.bus.async_fire("alpha")
    hub.bus.async_fire("beta", {"n": 1})

    assert seen == ["alpha", "beta"]


async def test_match_all_and_typed_listener_each_get_event_once(hub: Hub) -> None:
    typed: list[Event[Any]] = []
    every: list[Event[Any]] = []
    hub.bus.async_listen("alpha", _collect(typed))
    hub.bus.async_listen(MATCH_ALL, _collect(every))

    hub.bus.async_fire("alpha")

    assert len(typed) == 1
    assert len(every) == 1
    assert typed[0] is every[0]


async def test_removed_match_all_listener_gets_nothing(hub: Hub) -> None:
    seen: list[str] = []
    remove = hub.bus.async_listen(MATCH_ALL, callback(lambda e: seen.append(e.event_type)))
    remove()

    hub.bus.async_fire("alpha")

    assert seen == []
    assert MATCH_ALL not in hub.bus.async_listeners()


# --------------------------------------------------------------------------- listen_once


async def test_listen_once_callback_fires_once(hub: Hub) -> None:
    calls: list[Event[Any]] = []
    hub.bus.async_listen_once("ping", _collect(calls))

    hub.bus.async_fire("ping", {"n": 1})
    hub.bus.async_fire("ping", {"n": 2})

    assert [e.data["n"] for e in calls] == [1]
    assert "ping" not in hub.bus.async_listeners()


async def test_listen_once_refired_from_inside_itself_runs_once(hub: Hub) -> None:
    calls: list[int] = []

    @callback
    def once(event: Event[Any]) -> None:
        calls.append(event.data["n"])
        if event.data["n"] < 3:
            hub.bus.async_fire("ping", {"n": event.data["n"] + 1})

    hub.bus.async_listen_once("ping", once)
    hub.bus.async_fire("ping", {"n": 1})

    assert calls == [1]


async def test_listen_once_when_earlier_listener_refires_runs_once(hub: Hub) -> None:
    """An earlier listener fires the event again before the once-listener saw the first."""
    calls: list[int] = []

    @callback
    def refire(event: Event[Any]) -> None:
        if event.data["n"] == 1:
            hub.bus.async_fire("ping", {"n": 2})

    hub.bus.async_listen("ping", refire)
    hub.bus.async_listen_once("ping", callback(lambda e: calls.append(e.data["n"])))

    hub.bus.async_fire("ping", {"n": 1})

    assert calls == [2]


async def test_listen_once_coroutine_fires_once(hub: Hub) -> None:
    calls: list[int] = []

    async def once(event: Event[Any]) -> None:
        await asyncio.sleep(0)
        calls.append(event.data["n"])

    hub.bus.async_listen_once("ping", once)
    hub.bus.async_fire("ping", {"n": 1})
    hub.bus.async_fire("ping", {"n": 2})
    await hub.async_block_till_done()

    assert calls == [1]


async def test_listen_once_blocking_fires_once_and_unregisters_on_fire(hub: Hub) -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def once(event: Event[Any]) -> None:
        with lock:
            calls.append(event.data["n"])

    hub.bus.async_listen_once("ping", once)
    for n in range(20):
        hub.bus.async_fire("ping", {"n": n})
    # Unregistered as soon as it was claimed, not later from the worker thread.
    assert "ping" not in hub.bus.async_listeners()
    await hub.async_block_till_done()

    assert calls == [0]


async def test_listen_once_can_be_removed_before_it_fires(hub: Hub) -> None:
    calls: list[Event[Any]] = []
    remove = hub.bus.async_listen_once("ping", _collect(calls))

    remove()
    hub.bus.async_fire("ping")

    assert calls == []
    assert "ping" not in hub.bus.async_listeners()


async def test_listen_once_remove_after_it_fired_is_harmless(hub: Hub) -> None:
    calls: list[Event[Any]] = []
    other: list[Event[Any]] = []
    remove = hub.bus.async_listen_once("ping", _collect(calls))
    hub.bus.async_listen("ping", _collect(other))

    hub.bus.async_fire("ping")
    remove()
    remove()
    hub.bus.async_fire("ping")

    assert len(calls) == 1
    assert len(other) == 2


async def test_listen_once_on_match_all(hub: Hub) -> None:
    seen: list[str] = []
    hub.bus.async_listen_once(MATCH_ALL, callback(lambda e: seen.append(e.event_type)))

    hub.bus.async_fire("alpha")
    hub.bus.async_fire("beta")

    assert seen == ["alpha"]


# --------------------------------------------------------------------------- filters


async def test_event_filter_selects_events(hub: Hub) -> None:
    seen: list[str] = []

    @callback
    def only_north(event: Event[Any]) -> bool:
        return bool(event.data.get("gate") == "north")

    hub.bus.async_listen(
        "gate_opened", callback(lambda e: seen.append(e.data["gate"])), event_filter=only_north
    )

    for gate in ("north", "south", "north"):
        hub.bus.async_fire("gate_opened", {"gate": gate})

    assert seen == ["north", "north"]


async def test_event_filter_must_be_a_callback(hub: Hub) -> None:
    def not_marked(event: Event[Any]) -> bool:
        return True

    with pytest.raises(TypeError, match="callback"):
        hub.bus.async_listen("ping", callback(lambda e: None), event_filter=not_marked)
    assert "ping" not in hub.bus.async_listeners()


async def test_event_filter_runs_at_fire_time_for_coroutine_listener(hub: Hub) -> None:
    seen: list[int] = []

    @callback
    def even(event: Event[Any]) -> bool:
        return bool(event.data["n"] % 2 == 0)

    async def listener(event: Event[Any]) -> None:
        seen.append(event.data["n"])

    hub.bus.async_listen("num", listener, event_filter=even)
    for n in range(5):
        hub.bus.async_fire("num", {"n": n})
    await hub.async_block_till_done()

    assert sorted(seen) == [0, 2, 4]


async def test_failing_event_filter_is_isolated(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    filtered: list[int] = []
    others: list[int] = []

    @callback
    def broken(event: Event[Any]) -> bool:
        if event.data["n"] == 1:
            raise RuntimeError("filter exploded")
        return True

    hub.bus.async_listen(
        "num", callback(lambda e: filtered.append(e.data["n"])), broken, owner="linli_gate"
    )
    hub.bus.async_listen("num", callback(lambda e: others.append(e.data["n"])))

    for n in (0, 1, 2):
        hub.bus.async_fire("num", {"n": n})

    assert filtered == [0, 2]
    assert others == [0, 1, 2]
    assert "linli_gate" in caplog.text
    assert "filter exploded" in caplog.text


# --------------------------------------------------------------------------- listener kinds


async def test_callback_runs_inline_before_fire_returns(hub: Hub) -> None:
    seen: list[tuple[str, int]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(("listener", threading.get_ident()))

    hub.bus.async_listen("ping", listener)
    hub.bus.async_fire("ping")
    seen.append(("after fire", threading.get_ident()))

    assert seen == [
        ("listener", threading.get_ident()),
        ("after fire", threading.get_ident()),
    ]


async def test_coroutine_listener_runs_as_task_awaited_by_block_till_done(hub: Hub) -> None:
    steps: list[str] = []

    async def listener(event: Event[Any]) -> None:
        steps.append("started")
        for _ in range(3):
            await asyncio.sleep(0)
        steps.append("finished")

    hub.bus.async_listen("ping", listener)
    hub.bus.async_fire("ping")

    assert steps == []  # not run inline
    await hub.async_block_till_done()
    assert steps == ["started", "finished"]


async def test_coroutine_listener_marked_callback_is_still_awaited(hub: Hub) -> None:
    done: list[Event[Any]] = []

    @callback
    async def listener(event: Event[Any]) -> None:
        await asyncio.sleep(0)
        done.append(event)

    hub.bus.async_listen("ping", listener)
    hub.bus.async_fire("ping")
    await hub.async_block_till_done()

    assert len(done) == 1


async def test_plain_function_listener_runs_off_the_loop_thread(hub: Hub) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    unblock = threading.Event()

    def listener(event: Event[Any]) -> None:
        threads.append(threading.get_ident())
        # Blocks its worker thread; the loop is free meanwhile.
        assert unblock.wait(5)

    hub.bus.async_listen("ping", listener)
    hub.bus.async_fire("ping")
    await asyncio.sleep(0)
    unblock.set()
    await hub.async_block_till_done()

    assert len(threads) == 1
    assert threads[0] != loop_thread


async def test_block_till_done_waits_for_plain_function_listener(hub: Hub) -> None:
    done = threading.Event()

    def slow(event: Event[Any]) -> None:
        threading.Event().wait(0.05)
        done.set()

    hub.bus.async_listen("ping", slow)
    hub.bus.async_fire("ping")
    await hub.async_block_till_done()

    assert done.is_set()


# --------------------------------------------------------------------------- errors and owners


def _raising_listener(kind: str) -> Any:
    if kind == "callback":

        @callback
        def broken_cb(event: Event[Any]) -> None:
            raise ValueError("listener exploded")

        return broken_cb
    if kind == "coroutine":

        async def broken_coro(event: Event[Any]) -> None:
            await asyncio.sleep(0)
            raise ValueError("listener exploded")

        return broken_coro

    def broken_sync(event: Event[Any]) -> None:
        raise ValueError("listener exploded")

    return broken_sync


@pytest.mark.parametrize("kind", ["callback", "coroutine", "blocking"])
async def test_listener_error_is_logged_with_owner_and_others_still_run(
    hub: Hub, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    before: list[Event[Any]] = []
    after: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(before))
    hub.bus.async_listen("ping", _raising_listener(kind), owner="linli_face_gate")
    hub.bus.async_listen("ping", _collect(after))

    with caplog.at_level(logging.ERROR):
        hub.bus.async_fire("ping")
        await hub.async_block_till_done()
        hub.bus.async_fire("ping")
        await hub.async_block_till_done()

    assert len(before) == 2
    assert len(after) == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert all("linli_face_gate" in r.getMessage() for r in errors)
    assert all(r.exc_info and isinstance(r.exc_info[1], ValueError) for r in errors)


async def test_default_owner_is_the_integration_being_set_up(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    token = current_owner.set("linli_parking")
    try:
        hub.bus.async_listen("ping", _raising_listener("callback"))
    finally:
        current_owner.reset(token)

    hub.bus.async_fire("ping")

    assert "linli_parking" in caplog.records[-1].getMessage()


async def test_default_owner_without_integration_is_the_module(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    listener = _raising_listener("callback")
    hub.bus.async_listen("ping", listener)

    hub.bus.async_fire("ping")

    # In the message itself, not only in the traceback's file names.
    assert listener.__module__ in caplog.records[-1].getMessage()


# --------------------------------------------------------------------------- removal and counts


async def test_remove_stops_delivery_and_twice_is_harmless(hub: Hub) -> None:
    calls: list[Event[Any]] = []
    remove = hub.bus.async_listen("ping", _collect(calls))

    hub.bus.async_fire("ping")
    remove()
    remove()
    hub.bus.async_fire("ping")

    assert len(calls) == 1
    assert "ping" not in hub.bus.async_listeners()


async def test_same_function_registered_twice_is_removed_one_registration_at_a_time(
    hub: Hub,
) -> None:
    calls: list[Event[Any]] = []
    listener = _collect(calls)
    remove_first = hub.bus.async_listen("ping", listener)
    hub.bus.async_listen("ping", listener)

    hub.bus.async_fire("ping")
    assert len(calls) == 2

    remove_first()
    remove_first()  # must not take the second registration with it
    hub.bus.async_fire("ping")
    assert len(calls) == 3
    assert hub.bus.async_listeners()["ping"] == 1


async def test_listener_removing_itself_during_delivery(hub: Hub) -> None:
    order: list[str] = []
    removers: dict[str, Any] = {}

    @callback
    def self_removing(event: Event[Any]) -> None:
        order.append("self_removing")
        removers["self"]()

    hub.bus.async_listen("ping", callback(lambda e: order.append("before")))
    removers["self"] = hub.bus.async_listen("ping", self_removing)
    hub.bus.async_listen("ping", callback(lambda e: order.append("after")))

    hub.bus.async_fire("ping")
    hub.bus.async_fire("ping")

    # The listener after the removed one is neither skipped nor called twice.
    assert order == ["before", "self_removing", "after", "before", "after"]
    assert hub.bus.async_listeners()["ping"] == 2


async def test_removing_another_listener_during_delivery(hub: Hub) -> None:
    """Who gets an event is decided when it is fired: a removal takes effect from the next."""
    order: list[str] = []
    removers: dict[str, Any] = {}

    @callback
    def remover(event: Event[Any]) -> None:
        order.append("remover")
        removers["victim"]()

    hub.bus.async_listen("ping", remover)
    removers["victim"] = hub.bus.async_listen("ping", callback(lambda e: order.append("victim")))
    hub.bus.async_listen("ping", callback(lambda e: order.append("last")))

    hub.bus.async_fire("ping")
    hub.bus.async_fire("ping")

    assert order == ["remover", "victim", "last", "remover", "last"]


async def test_listener_added_during_delivery_gets_next_event_only(hub: Hub) -> None:
    order: list[int] = []

    @callback
    def adder(event: Event[Any]) -> None:
        if event.data["n"] == 1:
            hub.bus.async_listen("ping", callback(lambda e: order.append(e.data["n"])))

    hub.bus.async_listen("ping", adder)
    hub.bus.async_fire("ping", {"n": 1})
    hub.bus.async_fire("ping", {"n": 2})

    assert order == [2]


async def test_listener_counts(hub: Hub) -> None:
    baseline = hub.bus.async_listeners()
    assert "alpha" not in baseline

    remove_a1 = hub.bus.async_listen("alpha", callback(lambda e: None))
    hub.bus.async_listen("alpha", callback(lambda e: None))
    hub.bus.async_listen("beta", callback(lambda e: None))
    remove_all = hub.bus.async_listen(MATCH_ALL, callback(lambda e: None))
    hub.bus.async_listen_once("gamma", callback(lambda e: None))

    counts = hub.bus.async_listeners()
    assert counts["alpha"] == 2
    assert counts["beta"] == 1
    assert counts["gamma"] == 1
    assert counts[MATCH_ALL] == baseline.get(MATCH_ALL, 0) + 1

    remove_a1()
    remove_all()
    hub.bus.async_fire("gamma")

    counts = hub.bus.async_listeners()
    assert counts["alpha"] == 1
    assert "gamma" not in counts
    assert counts.get(MATCH_ALL, 0) == baseline.get(MATCH_ALL, 0)


# --------------------------------------------------------------------------- context and time


async def test_given_context_is_carried(hub: Hub) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(received))
    context = Context(user_id="staff-7")

    hub.bus.async_fire("ping", context=context)

    assert received[0].context is context
    assert received[0].context.user_id == "staff-7"


async def test_missing_context_is_made_once_per_event_and_unique(hub: Hub) -> None:
    first: list[Event[Any]] = []
    second: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(first))
    hub.bus.async_listen("ping", _collect(second))

    hub.bus.async_fire("ping")
    hub.bus.async_fire("ping")

    # Every listener of one event sees the same context; two events never share one.
    assert first[0].context is second[0].context
    assert first[0].context.id == first[0].context.id
    assert first[0].context.id != first[1].context.id
    assert first[0].context.user_id is None
    assert first[0].context.parent_id is None


async def test_contexts_are_unique() -> None:
    ids = {Context().id for _ in range(2000)}
    assert len(ids) == 2000


async def test_context_id_is_stable_and_child_points_to_parent() -> None:
    parent = Context(user_id="resident-1")
    child = parent.child()

    assert parent.id == parent.id
    assert child.id != parent.id
    assert child.parent_id == parent.id
    assert child.user_id == "resident-1"
    assert Context(id="abc") == Context(id="abc")
    assert Context(id="abc") != Context(id="abd")
    assert parent.as_dict() == {"id": parent.id, "parent_id": None, "user_id": "resident-1"}


async def test_time_fired_comes_from_the_hub_clock(hub: Hub, clock: FakeClock) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(received))
    start = clock.utcnow()

    hub.bus.async_fire("ping")
    clock.advance(90.5)
    hub.bus.async_fire("ping")

    assert received[0].time_fired == start
    assert received[1].time_fired == start + timedelta(seconds=90.5)
    assert received[1].time_fired.utcoffset() == timedelta(0)


async def test_explicit_time_fired_is_used(hub: Hub, clock: FakeClock) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("ping", _collect(received))

    hub.bus.async_fire("ping", time_fired=clock.time() - 60)

    assert received[0].time_fired == clock.utcnow() - timedelta(seconds=60)


async def test_event_as_dict_shape(hub: Hub) -> None:
    received: list[Event[Any]] = []
    hub.bus.async_listen("gate_opened", _collect(received))
    context = Context(user_id="guard-2")

    hub.bus.async_fire("gate_opened", {"gate": "north"}, context=context)

    wire = received[0].as_dict()
    assert wire == {
        "event_type": "gate_opened",
        "data": {"gate": "north"},
        "origin": "LOCAL",
        "time_fired": "2026-03-01T08:00:00+00:00",
        "context": {"id": context.id, "parent_id": None, "user_id": "guard-2"},
    }
    json.dumps(wire)  # plain JSON types only
    wire["data"]["gate"] = "changed"
    assert received[0].data == {"gate": "north"}
