"""Traces: recording steps, finishing once, the store's last N, JSON-safe persistence."""

from __future__ import annotations

import gc

from linli.clock import FakeClock
from linli.context import Context
from linli.helpers.trace import MAX_STEPS, Trace, TraceStore, get_trace_store, json_safe
from linli.hub import Hub
from linli.state import State


async def test_a_trace_records_steps_with_hub_time(hub: Hub, clock: FakeClock) -> None:
    context = Context(user_id="u1")
    trace = Trace(hub, "lights_out", "automation", context=context, trigger={"id": "0"})
    trace.add_step("condition/0", result={"result": True})
    clock.advance(2)
    step = trace.add_step("action/0", variables={"wait": {"completed": True}})
    step["result"] = {"delay": 2}
    trace.add_step("action/1", error=RuntimeError("boom"))
    trace.finish(RuntimeError("boom"))

    data = trace.as_dict()
    assert data["item_id"] == "lights_out"
    assert data["domain"] == "automation"
    assert data["context"] == context.as_dict()
    assert data["trigger"] == {"id": "0"}
    assert data["state"] == "stopped"
    assert data["script_execution"] == "error"
    assert data["error"] == "boom"
    assert data["last_step"] == "action/1"
    assert data["timestamp"] == {
        "start": "2026-03-01T08:00:00+00:00",
        "finish": "2026-03-01T08:00:02+00:00",
    }
    assert data["steps"] == [
        {
            "path": "condition/0",
            "timestamp": "2026-03-01T08:00:00+00:00",
            "result": {"result": True},
        },
        {
            "path": "action/0",
            "timestamp": "2026-03-01T08:00:02+00:00",
            "changed_variables": {"wait": {"completed": True}},
            "result": {"delay": 2},
        },
        {"path": "action/1", "timestamp": "2026-03-01T08:00:02+00:00", "error": "boom"},
    ]


async def test_only_the_first_finish_counts(hub: Hub) -> None:
    trace = Trace(hub, "a", "automation")
    assert trace.state == "running"
    trace.finish(stopped="failed_conditions")
    trace.finish()
    trace.finish(ValueError("late"))
    assert trace.script_execution == "failed_conditions"
    assert trace.error is None


async def test_the_store_keeps_the_last_traces_per_item(hub: Hub) -> None:
    store = get_trace_store(hub)
    assert get_trace_store(hub) is store
    traces = [Trace(hub, "a", "automation") for _ in range(7)]
    for trace in traces:
        store.add(trace)
    store.add(traces[-1])  # adding twice keeps one
    other = Trace(hub, "b", "script")
    store.add(other)
    assert store.get("a") == traces[2:]
    assert store.get("b") == [other]
    assert store.get("c") == []
    assert store.get_run("a", traces[3].run_id) is traces[3]
    assert store.get_run("a", traces[0].run_id) is None
    assert sorted(store.items()) == ["a", "b"]

    store.set_keep("a", 2)
    assert store.get("a") == traces[5:]
    store.clear("a")
    assert store.get("a") == []


def test_a_store_of_its_own_size() -> None:
    store = TraceStore(keep=1)
    assert store.keep == 1


async def test_persisted_form_round_trips_and_is_json_safe(hub: Hub, clock: FakeClock) -> None:
    state = State("light.a", "on", {"brightness": 3})
    trace = Trace(
        hub,
        "a",
        "automation",
        trigger={"to_state": state, "when": clock.utcnow()},
        variables={"trigger": {"to_state": state}, "callback": print, "n": 1},
    )
    trace.add_step("action/0", result={"state": state})
    trace.extra["late"] = True
    data = trace.as_persisted()
    assert data["trigger"]["to_state"]["state"] == "on"
    assert data["trigger"]["when"] == "2026-03-01T08:00:00+00:00"
    assert data["variables"] == {
        "trigger": {"to_state": state.as_dict()},
        "n": 1,
    }  # a function cannot be written: dropped

    again = Trace.from_persisted(hub, data)
    assert again.run_id == trace.run_id
    assert again.timestamp_start == trace.timestamp_start
    assert again.steps[0]["result"]["state"]["entity_id"] == "light.a"
    assert again.last_step == "action/0"
    assert again.extra == {"late": True}
    assert again.state == "running"


def test_json_safe_keeps_what_it_can() -> None:
    assert json_safe(None) is None
    assert json_safe([1, print, {"a": print, "b": 2}]) == [1, None, {"b": 2}]
    assert json_safe(print) is None


async def test_a_long_trace_drops_its_oldest_steps(hub: Hub) -> None:
    trace = Trace(hub, "a", "automation")
    for index in range(MAX_STEPS + 10):
        trace.add_step(f"action/0/repeat/sequence/{index}")
    assert len(trace.steps) == MAX_STEPS // 2 + 10
    assert trace.steps[-1]["path"] == f"action/0/repeat/sequence/{MAX_STEPS + 9}"
    assert trace.extra["steps_dropped"] == MAX_STEPS // 2


async def test_finished_traces_are_kept_as_json_once_a_newer_run_is_stored(
    hub: Hub, clock: FakeClock
) -> None:
    store = TraceStore(keep=3)
    state = State("sensor.door", "open", {"floor": 3})
    first = Trace(hub, "door", "automation", trigger={"to_state": state, "when": clock.utcnow()})
    first.add_step("action/0", {"params": {"domain": "alert"}})
    first.finish()
    expected = json_safe(first.as_dict())
    store.add(first)
    assert store.get("door") == [first]  # the latest run stays as it is

    running = Trace(hub, "door", "automation", variables={"callback": print})
    store.add(running)
    stored, live = store.get("door")
    assert live is running
    assert not isinstance(stored, Trace)
    assert (stored.run_id, stored.domain, stored.item_id) == (first.run_id, "automation", "door")
    assert stored.as_dict() == expected
    assert stored.as_dict()["trigger"]["to_state"]["attributes"] == {"floor": 3}
    assert store.get_run("door", first.run_id) == stored

    # A running trace is never frozen: it is still being written.
    store.add(Trace(hub, "door", "automation"))
    assert store.get("door")[1] is running
    # The frozen form holds no objects the garbage collector tracks.
    frozen = store._traces["door"][0]
    gc.collect()
    assert isinstance(frozen, tuple)
    assert not gc.is_tracked(frozen)
