"""Scripts: every action, targets, contexts, errors in the trace, and the run modes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import voluptuous as vol

from linli.bus import Event
from linli.callback import callback
from linli.clock import FakeClock
from linli.context import Context
from linli.exceptions import LinliError
from linli.helpers.script import Script, ScriptMode, ScriptRunResult, valid_actions
from linli.helpers.trace import Trace, get_trace_store
from linli.hub import Hub
from linli.services import ServiceCall, SupportsResponse


class Recorder:
    """A service that records its calls (and answers with ``response``)."""

    def __init__(
        self, hub: Hub, name: str = "test.record", response: dict[str, Any] | None = None
    ) -> None:
        self.calls: list[ServiceCall] = []
        domain, service = name.split(".")

        async def handle(call: ServiceCall) -> dict[str, Any] | None:
            self.calls.append(call)
            return response

        hub.services.async_register(
            domain,
            service,
            handle,
            supports_response=(
                SupportsResponse.NONE if response is None else SupportsResponse.OPTIONAL
            ),
        )

    @property
    def data(self) -> list[dict[str, Any]]:
        return [dict(call.data) for call in self.calls]


def make_script(hub: Hub, actions: Any, **kwargs: Any) -> Script:
    kwargs.setdefault("item_id", "test")
    name = kwargs.pop("name", "Test script")
    return Script(hub, valid_actions(actions), name, "script", **kwargs)


async def run(hub: Hub, actions: Any, variables: dict[str, Any] | None = None) -> ScriptRunResult:
    result = await make_script(hub, actions).async_run(variables)
    assert result is not None
    return result


def capture(hub: Hub, event_type: str) -> list[Event[Any]]:
    seen: list[Event[Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(event)

    hub.bus.async_listen(event_type, listener)
    return seen


def paths(result: ScriptRunResult) -> list[str]:
    return [step["path"] for step in result.trace.steps]


# ---------------------------------------------------------------------------- service calls


async def test_service_call_with_data_and_target(hub: Hub) -> None:
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"action": "test.record", "data": {"level": 3}, "target": {"entity_id": "light.a"}},
            {"service": "test.record", "entity_id": "light.b, light.c"},  # the older spelling
        ],
    )
    assert result.script_execution == "finished"
    assert recorder.data == [
        {"level": 3, "entity_id": ["light.a"]},
        {"entity_id": ["light.b", "light.c"]},
    ]
    assert result.trace.steps[0]["result"] == {
        "params": {
            "domain": "test",
            "service": "record",
            "service_data": {"level": 3, "entity_id": ["light.a"]},
        }
    }


async def test_service_calls_run_in_a_child_of_the_run_context(hub: Hub) -> None:
    recorder = Recorder(hub)
    fired = capture(hub, "done")
    context = Context(user_id="staff-1", parent_id="trigger-ctx")
    script = make_script(hub, [{"action": "test.record"}, {"event": "done"}])
    result = await script.async_run(context=context)
    assert result is not None
    assert result.trace.context == context.as_dict()
    call_context = recorder.calls[0].context
    assert call_context.parent_id == context.id
    assert call_context.user_id == "staff-1"
    assert call_context.id != context.id
    assert fired[0].context.parent_id == context.id


async def test_response_variable_holds_the_service_response(hub: Hub) -> None:
    Recorder(hub, "test.lookup", response={"room": "1201"})
    result = await run(
        hub,
        [
            {"action": "test.lookup", "response_variable": "found"},
            {"stop": "done", "response_variable": "found"},
        ],
    )
    assert result.variables["found"] == {"room": "1201"}
    assert result.response == {"room": "1201"}
    assert result.trace.steps[0]["changed_variables"] == {"found": {"room": "1201"}}


async def test_area_target_expands_to_the_entities_of_the_subtree(hub: Hub) -> None:
    registries = hub.registries
    registries.areas.async_sync_from_config(
        "幸福里",
        [
            {
                "id": "b3",
                "kind": "building",
                "name": "3号楼",
                "children": [{"id": "b3-u1", "kind": "unit", "name": "1单元", "floors": {"to": 2}}],
            },
            {"id": "east-gate", "kind": "zone", "name": "东门"},
        ],
    )
    entities = registries.entities
    meter = registries.devices.async_get_or_create(
        "demo", identifiers={("demo", "m")}, area_id="b3-u1-f2"
    )
    on_device = entities.async_get_or_create("light", "demo", "hall", device_id=meter.id)
    elsewhere = entities.async_get_or_create(
        "light", "demo", "gate", device_id=meter.id, area_id="east-gate"
    )
    in_unit = entities.async_get_or_create("light", "demo", "stairs", area_id="b3-u1")
    entities.async_get_or_create("light", "demo", "off", area_id="b3", disabled_by="user")
    recorder = Recorder(hub)

    await run(hub, [{"action": "test.record", "target": {"area_id": "b3"}}])
    assert sorted(recorder.data[0]["entity_id"]) == sorted([on_device.entity_id, in_unit.entity_id])
    await run(hub, [{"action": "test.record", "target": {"device_id": meter.id}}])
    assert recorder.data[1]["entity_id"] == [on_device.entity_id, elsewhere.entity_id]
    await run(
        hub,
        [{"action": "test.record", "target": {"area_id": "east-gate", "entity_id": "light.x"}}],
    )
    assert recorder.data[2]["entity_id"] == ["light.x", elsewhere.entity_id]

    result = await run(hub, [{"action": "test.record", "target": {"area_id": "b9"}}])
    assert result.script_execution == "error"
    assert result.error == "unknown area 'b9' in target"


async def test_a_failing_service_ends_the_run_and_the_hub_goes_on(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(hub)

    async def broken(call: ServiceCall) -> None:
        raise LinliError("the gate does not answer")

    hub.services.async_register("gate", "open", broken)
    actions = [
        {"action": "test.record"},
        {"if": [{"condition": "trigger", "id": "x"}], "then": [{"action": "gate.open"}]},
        {"action": "test.record"},
    ]
    with caplog.at_level(logging.ERROR):
        result = await run(hub, actions, {"trigger": {"id": "x"}})
    assert result.script_execution == "error"
    assert result.error == "the gate does not answer"
    assert result.trace.error == "the gate does not answer"
    assert result.trace.steps[-1] == {
        "path": "action/1/then/0",
        "timestamp": result.trace.steps[-1]["timestamp"],
        "result": {"params": {"domain": "gate", "service": "open", "service_data": {}}},
        "error": "the gate does not answer",
    }
    assert len(recorder.calls) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "Test script" in errors[0].getMessage()
    assert "action/1/then/0" in errors[0].getMessage()

    # The hub goes on: the next run works.
    again = await run(hub, [{"action": "test.record"}])
    assert again.script_execution == "finished"


async def test_an_unexpected_exception_is_logged_with_its_traceback(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def buggy(call: ServiceCall) -> None:
        raise KeyError("oops")

    hub.services.async_register("test", "buggy", buggy)
    result = await run(hub, [{"action": "test.buggy", "continue_on_error": True}])
    # continue_on_error skips expected failures only, not bugs.
    assert result.script_execution == "error"
    assert result.error == "KeyError: 'oops'"
    assert any(record.exc_info for record in caplog.records)


async def test_continue_on_error_goes_on_past_expected_failures(hub: Hub) -> None:
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"action": "nothing.here", "continue_on_error": True},
            {
                "sequence": [{"action": "nothing.there"}],
                "continue_on_error": True,
            },
            {"action": "test.record"},
        ],
    )
    assert result.script_execution == "finished"
    assert len(recorder.calls) == 1
    assert result.trace.steps[0]["error"] == "Service nothing.here not found"
    assert result.trace.steps[2]["path"] == "action/1/sequence/0"
    assert "error" in result.trace.steps[2]


async def test_an_unknown_service_is_an_error(hub: Hub) -> None:
    result = await run(hub, [{"action": "test.missing"}])
    assert result.script_execution == "error"
    assert "Service test.missing not found" in str(result.error)


# ---------------------------------------------------------------------------- other actions


async def test_event_variables_and_stop(hub: Hub) -> None:
    fired = capture(hub, "gate_opened")
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"event": "gate_opened", "event_data": {"gate": "east"}},
            {"variables": {"count": 2, "who": {"name": "张三"}}},
            {"stop": "enough"},
            {"action": "test.record"},
        ],
    )
    assert [dict(event.data) for event in fired] == [{"gate": "east"}]
    assert result.variables["count"] == 2
    assert result.trace.steps[1]["changed_variables"] == {"count": 2, "who": {"name": "张三"}}
    assert result.trace.steps[2]["result"] == {"stop": "enough", "error": False}
    assert result.script_execution == "finished"
    assert recorder.calls == []


async def test_stop_with_an_error(hub: Hub) -> None:
    result = await run(hub, [{"stop": "no resident found", "error": True}])
    assert result.script_execution == "error"
    assert result.error == "no resident found"


async def test_stop_response_must_be_a_mapping(hub: Hub) -> None:
    result = await run(hub, [{"variables": {"n": 1}}, {"stop": "x", "response_variable": "n"}])
    assert result.script_execution == "error"
    assert "is not a mapping" in str(result.error)


async def test_a_false_condition_ends_the_run_quietly(hub: Hub) -> None:
    hub.states.async_set("lock.gate", "locked")
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"condition": "state", "entity_id": "lock.gate", "state": "locked"},
            {"action": "test.record"},
            {"or": [{"condition": "state", "entity_id": "lock.gate", "state": "open"}]},
            {"action": "test.record"},
        ],
    )
    assert result.script_execution == "aborted"
    assert result.error is None
    assert len(recorder.calls) == 1
    assert [(s["path"], s.get("result", {}).get("result")) for s in result.trace.steps] == [
        ("action/0", True),
        ("action/1", None),
        ("action/2", False),
        ("action/2/conditions/0", False),
    ]


async def test_disabled_actions_are_skipped(hub: Hub) -> None:
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"action": "test.record", "data": {"n": 1}, "enabled": False},
            {"action": "test.record", "data": {"n": 2}},
        ],
    )
    assert recorder.data == [{"n": 2}]
    assert result.trace.steps[0]["result"] == {"enabled": False}


async def test_choose_takes_the_first_matching_option_or_the_default(hub: Hub) -> None:
    recorder = Recorder(hub)
    actions = [
        {
            "choose": [
                {
                    "conditions": [{"condition": "trigger", "id": "door"}],
                    "sequence": [{"action": "test.record", "data": {"chose": "door"}}],
                },
                {
                    "conditions": {"condition": "trigger", "id": ["window", "door"]},
                    "sequence": [{"action": "test.record", "data": {"chose": "window"}}],
                },
            ],
            "default": [{"action": "test.record", "data": {"chose": "default"}}],
        }
    ]
    door = await run(hub, actions, {"trigger": {"id": "door"}})
    await run(hub, actions, {"trigger": {"id": "window"}})
    await run(hub, actions, {"trigger": {"id": "roof"}})
    assert [data["chose"] for data in recorder.data] == ["door", "window", "default"]
    assert paths(door) == [
        "action/0",
        "action/0/choose/0/conditions/0",
        "action/0/choose/0/sequence/0",
    ]
    assert door.trace.steps[0]["result"] == {"choice": 0}


async def test_if_then_else(hub: Hub) -> None:
    recorder = Recorder(hub)
    actions = [
        {
            "if": [{"condition": "trigger", "id": "a"}],
            "then": [{"action": "test.record", "data": {"branch": "then"}}],
            "else": [{"action": "test.record", "data": {"branch": "else"}}],
        }
    ]
    result = await run(hub, actions, {"trigger": {"id": "b"}})
    await run(hub, actions, {"trigger": {"id": "a"}})
    assert [data["branch"] for data in recorder.data] == ["else", "then"]
    assert paths(result) == ["action/0", "action/0/if/condition/0", "action/0/else/0"]


async def test_repeat_count_while_until(hub: Hub) -> None:
    recorder = Recorder(hub)
    hub.states.async_set("counter.n", "0")

    async def bump(call: ServiceCall) -> None:
        state = hub.states.get("counter.n")
        assert state is not None
        hub.states.async_set("counter.n", str(int(state.state) + 1))

    hub.services.async_register("counter", "bump", bump)
    result = await run(hub, [{"repeat": {"count": 3, "sequence": [{"action": "test.record"}]}}])
    assert len(recorder.calls) == 3
    assert result.trace.steps[0]["result"] == {"iterations": 3}
    assert "repeat" not in result.variables

    await run(
        hub,
        [
            {
                "repeat": {
                    "while": [{"condition": "numeric_state", "entity_id": "counter.n", "below": 4}],
                    "sequence": [{"action": "counter.bump"}],
                }
            }
        ],
    )
    assert hub.states.is_state("counter.n", "4")
    until = await run(
        hub,
        [
            {
                "repeat": {
                    "until": [{"condition": "numeric_state", "entity_id": "counter.n", "above": 5}],
                    "sequence": [{"action": "counter.bump"}],
                }
            }
        ],
    )
    assert hub.states.is_state("counter.n", "6")
    assert until.trace.steps[0]["result"] == {"iterations": 2}
    assert "action/0/repeat/until/0" in paths(until)


async def test_repeat_for_each_and_nested_repeat_variables(hub: Hub) -> None:
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {
                "repeat": {
                    "for_each": ["east", "west"],
                    "sequence": [
                        {"repeat": {"count": 2, "sequence": [{"action": "test.record"}]}},
                        {"action": "test.record"},
                    ],
                }
            }
        ],
        {"repeat": "outer value"},
    )
    assert len(recorder.calls) == 6
    assert result.variables["repeat"] == "outer value"  # restored after the loop


async def test_sequence_and_parallel(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    script = make_script(
        hub,
        [
            {
                "parallel": [
                    {"sequence": [{"delay": 5}, {"action": "test.record", "data": {"b": 1}}]},
                    {"sequence": [{"delay": 2}, {"action": "test.record", "data": {"b": 2}}]},
                    {"action": "test.record", "data": {"b": 3}},
                ]
            },
            {"action": "test.record", "data": {"b": "after"}},
        ],
    )
    future = script.async_start()
    await hub.async_block_till_done()
    assert recorder.data == [{"b": 3}]
    clock.advance(2)
    await hub.async_block_till_done()
    assert recorder.data == [{"b": 3}, {"b": 2}]
    clock.advance(3)
    await hub.async_block_till_done()
    assert recorder.data == [{"b": 3}, {"b": 2}, {"b": 1}, {"b": "after"}]
    result = future.result()
    assert result is not None
    assert result.script_execution == "finished"
    assert "action/0/parallel/0/sequence/1" in paths(result)


async def test_an_error_in_a_parallel_branch_ends_the_run(hub: Hub) -> None:
    recorder = Recorder(hub)
    result = await run(
        hub,
        [
            {"parallel": [{"action": "test.missing"}, {"action": "test.record"}]},
            {"action": "test.record"},
        ],
    )
    assert result.script_execution == "error"
    assert len(recorder.calls) == 1  # the other branch ran; nothing after the parallel


async def test_delay_in_its_forms(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    script = make_script(
        hub,
        [
            {"delay": 30},
            {"action": "test.record"},
            {"delay": "00:01:00"},
            {"action": "test.record"},
            {"delay": {"minutes": 1, "seconds": 30}},
            {"action": "test.record"},
            {"delay": 0},
            {"action": "test.record"},
        ],
    )
    future = script.async_start()
    await hub.async_block_till_done()
    assert not recorder.calls
    assert script.is_running
    clock.advance(29)
    await hub.async_block_till_done()
    assert not recorder.calls
    clock.advance(1)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    clock.advance(60)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 2
    clock.advance(90)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 4
    result = future.result()
    assert result is not None
    assert result.trace.steps[0]["result"] == {"delay": 30.0, "done": True}
    assert not script.is_running


async def test_wait_for_trigger_sets_wait_trigger(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    script = make_script(
        hub,
        [
            {
                "wait_for_trigger": [{"platform": "event", "event_type": "card_swiped"}],
                "timeout": 60,
            },
            {"action": "test.record"},
        ],
    )
    future = script.async_start()
    await hub.async_block_till_done()
    assert not recorder.calls
    clock.advance(10)
    hub.bus.async_fire("card_swiped", {"card": "42"})
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    result = future.result()
    assert result is not None
    wait = result.variables["wait"]
    assert wait["remaining"] == 50
    assert wait["trigger"]["event"].data == {"card": "42"}
    assert result.trace.steps[0]["result"] == {"wait": {"remaining": 50, "trigger": True}}
    # The trigger is detached after the wait.
    assert "card_swiped" not in hub.bus.async_listeners()


async def test_wait_for_trigger_timeout(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    wait = {"wait_for_trigger": {"platform": "event", "event_type": "never"}, "timeout": 5}
    script = make_script(hub, [wait, {"action": "test.record"}])
    future = script.async_start()
    await hub.async_block_till_done()
    clock.advance(5)
    await hub.async_block_till_done()
    result = future.result()
    assert result is not None
    assert result.variables["wait"] == {"remaining": 0.0, "trigger": None}
    assert len(recorder.calls) == 1

    strict = make_script(hub, [{**wait, "continue_on_timeout": False}, {"action": "test.record"}])
    future = strict.async_start()
    await hub.async_block_till_done()
    clock.advance(5)
    await hub.async_block_till_done()
    result = future.result()
    assert result is not None
    assert result.script_execution == "aborted"
    assert len(recorder.calls) == 1


async def test_alert_action_raises_an_alert_and_keeps_the_response(hub: Hub) -> None:
    recorder = Recorder(hub, "alert.raise", response={"alert_id": "A1", "created": True})
    result = await run(
        hub,
        [
            {
                "alert": {
                    "kind": "fall",
                    "severity": "critical",
                    "title": "老人跌倒",
                    "area_id": "b3",
                },
                "response_variable": "raised",
            }
        ],
    )
    assert recorder.data == [
        {"kind": "fall", "severity": "critical", "title": "老人跌倒", "area_id": "b3"}
    ]
    assert result.variables["raised"] == {"alert_id": "A1", "created": True}
    with pytest.raises(vol.Invalid, match="required key not provided"):
        valid_actions([{"alert": {"kind": "fall"}}])


# ---------------------------------------------------------------------------- modes


async def test_single_refuses_a_second_run(
    hub: Hub, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(hub)
    script = make_script(hub, [{"delay": 10}, {"action": "test.record"}])
    first = script.async_start()
    await hub.async_block_till_done()
    trace = Trace(hub, "test", "script")
    assert await script.async_run(trace=trace) is None
    assert trace.script_execution == "failed_single"
    assert "Test script: Already running" in caplog.text
    clock.advance(10)
    await hub.async_block_till_done()
    assert first.done()
    assert len(recorder.calls) == 1
    assert script.runs == 0


async def test_restart_cancels_the_running_run(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    script = make_script(hub, [{"delay": 10}, {"action": "test.record"}], mode=ScriptMode.restart)
    first = script.async_start({"n": 1})
    await hub.async_block_till_done()
    clock.advance(5)
    second = script.async_start({"n": 2})
    await hub.async_block_till_done()
    first_result = first.result()
    assert first_result is not None
    assert first_result.script_execution == "cancelled"
    assert script.runs == 1
    clock.advance(5)
    await hub.async_block_till_done()
    assert not recorder.calls  # the second run started its 10 s over
    clock.advance(5)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    second_result = second.result()
    assert second_result is not None
    assert second_result.variables["n"] == 2


async def test_queued_runs_one_after_the_other_in_order(hub: Hub, clock: FakeClock) -> None:
    recorder = Recorder(hub)
    script = make_script(
        hub,
        [
            {"action": "test.record", "data": {"step": "start"}},
            {"delay": 10},
            {"action": "test.record", "data": {"step": "end"}},
        ],
        mode="queued",
        max_runs=3,
    )
    futures = [script.async_start({"n": n}) for n in range(3)]
    assert await script.async_run() is None  # a fourth is one too many
    await hub.async_block_till_done()
    assert recorder.data == [{"step": "start"}]
    assert script.runs == 3
    for _ in range(3):
        clock.advance(10)
        await hub.async_block_till_done()
    assert [data["step"] for data in recorder.data] == ["start", "end"] * 3
    results = [future.result() for future in futures]
    assert [r.variables["n"] for r in results if r is not None] == [0, 1, 2]
    assert not script.is_running


async def test_parallel_runs_side_by_side_up_to_max(
    hub: Hub, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(hub)
    script = make_script(
        hub, [{"delay": 10}, {"action": "test.record"}], mode=ScriptMode.parallel, max_runs=2
    )
    script.async_start()
    await hub.async_block_till_done()
    clock.advance(5)
    script.async_start()
    trace = Trace(hub, "test", "script")
    assert script.async_start(trace=trace).result() is None
    assert trace.script_execution == "failed_max_runs"
    assert "Test script: Maximum number of runs exceeded" in caplog.text
    await hub.async_block_till_done()
    clock.advance(5)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    clock.advance(5)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 2


async def test_async_stop_cancels_runs_and_cancelling_the_caller_stops_its_run(
    hub: Hub, clock: FakeClock
) -> None:
    recorder = Recorder(hub)
    script = make_script(hub, [{"delay": 10}, {"action": "test.record"}], mode="parallel")
    future = script.async_start()
    await hub.async_block_till_done()
    await script.async_stop()
    result = future.result()
    assert result is not None
    assert result.script_execution == "cancelled"
    assert result.trace.script_execution == "cancelled"
    await script.async_stop()  # nothing running: returns at once

    caller = asyncio.get_running_loop().create_task(script.async_run())
    await hub.async_block_till_done()
    assert script.is_running
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await hub.async_block_till_done()
    assert not script.is_running
    clock.advance(10)
    await hub.async_block_till_done()
    assert not recorder.calls


async def test_traces_are_kept_in_the_store(hub: Hub) -> None:
    Recorder(hub)
    script = make_script(hub, [{"action": "test.record"}], item_id="lights")
    results = [await script.async_run() for _ in range(6)]
    stored = get_trace_store(hub).get("lights")
    assert [trace.run_id for trace in stored] == [r.run_id for r in results[1:] if r is not None]


async def test_a_stopping_hub_cancels_runs_and_refuses_new_ones(
    hub_factory: Any, clock: FakeClock
) -> None:
    hub = await hub_factory()
    recorder = Recorder(hub)
    script = make_script(hub, [{"delay": 3600}, {"action": "test.record"}])
    future = script.async_start()
    await hub.async_block_till_done()
    await hub.async_stop()
    result = future.result()
    assert result is not None
    assert result.script_execution == "cancelled"
    assert await script.async_run() is None
    assert not recorder.calls


# ---------------------------------------------------------------------------- validation


def test_validation_names_the_problem() -> None:
    with pytest.raises(vol.Invalid, match="unable to determine the action"):
        valid_actions([{"foo": 1}])
    with pytest.raises(vol.Invalid, match=r"expected 'domain\.service'"):
        valid_actions([{"action": "turn_on"}])
    with pytest.raises(vol.Invalid, match="exactly one of count, while, until, for_each"):
        valid_actions([{"repeat": {"count": 2, "while": [], "sequence": []}}])
    with pytest.raises(vol.Invalid, match="either 'action' or 'service'"):
        valid_actions([{"action": "a.b", "service": "a.c"}])
    with pytest.raises(vol.Invalid, match=r"@ data\[1\]\['delay'\]"):
        valid_actions([{"delay": 1}, {"delay": "soon"}])
    assert valid_actions({"service": "Light.Turn_On", "entity_id": "light.a"}) == [
        {"action": "light.turn_on", "target": {"entity_id": ["light.a"]}}
    ]


async def test_the_change_listener_hears_runs_start_and_end(hub: Hub, clock: FakeClock) -> None:
    seen: list[int] = []
    script = make_script(hub, [{"delay": 5}], mode="parallel")

    @callback
    def changed() -> None:
        seen.append(script.runs)

    script.change_listener = changed
    script.async_start()
    script.async_start()
    await hub.async_block_till_done()
    clock.advance(5)
    await hub.async_block_till_done()
    assert seen == [1, 2, 1, 0]
