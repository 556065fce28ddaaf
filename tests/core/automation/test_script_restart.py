"""Persisted delays: a run waiting in a delay continues after the hub restarts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from linli.clock import FakeClock
from linli.context import Context
from linli.helpers.deadlines import get_deadlines
from linli.helpers.script import Script, valid_actions
from linli.helpers.trace import Trace, get_trace_store
from linli.hub import Hub
from linli.services import ServiceCall
from linli.state import State

HubFactory = Callable[..., Awaitable[Hub]]
HOUR = 3600
PREFIX = "automation.elder_out"


class Recorder:
    """``test.record``: records the ``step`` of each call and its context."""

    def __init__(self, hub: Hub) -> None:
        self.calls: list[ServiceCall] = []

        async def handle(call: ServiceCall) -> None:
            self.calls.append(call)

        hub.services.async_register("test", "record", handle)

    @property
    def steps(self) -> list[str]:
        return [call.data["step"] for call in self.calls]


def record(step: str) -> dict[str, Any]:
    return {"action": "test.record", "data": {"step": step}}


def make_script(hub: Hub, actions: list[dict[str, Any]]) -> Script:
    return Script(
        hub,
        valid_actions(actions),
        "Elder has not gone out",
        "automation",
        item_id="elder_out",
        deadline_prefix=PREFIX,
    )


def last_trace(hub: Hub) -> Trace:
    return get_trace_store(hub).get("elder_out")[-1]


DAY_LONG = [record("before"), {"delay": {"hours": 24}}, record("after")]


async def test_a_day_long_delay_survives_a_restart(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    context = Context(user_id="grid-worker")
    door = State("binary_sensor.door", "off", {"friendly_name": "门"})
    future = make_script(hub, DAY_LONG).async_start(
        {"trigger": {"id": "0", "to_state": door}, "who": "李奶奶"}, context
    )
    await hub.async_block_till_done()
    assert recorder.steps == ["before"]
    clock.advance(20 * HOUR)
    await hub.async_block_till_done()
    await hub.async_stop()
    first = future.result()
    assert first is not None
    assert first.script_execution == "suspended"

    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    script = make_script(hub, DAY_LONG)
    assert await script.async_resume_after_restart() == 1
    assert script.is_running
    await hub.async_block_till_done()
    clock.advance(4 * HOUR - 1)
    await hub.async_block_till_done()
    assert recorder.steps == []
    clock.advance(1)
    await hub.async_block_till_done()
    assert recorder.steps == ["after"]
    assert not script.is_running

    # The same run: its id, context, variables and the steps from before the restart.
    assert recorder.calls[0].context.parent_id == context.id
    trace = last_trace(hub)
    assert trace.run_id == first.run_id
    assert trace.script_execution == "finished"
    assert trace.extra["resumed_after_restart"] is True
    assert trace.extra["late"] is False
    assert [step["path"] for step in trace.steps] == ["action/0", "action/1", "action/2"]
    assert trace.steps[1]["result"] == {
        "delay": 24 * HOUR,
        "done": True,
        "resumed_after_restart": True,
        "late": False,
    }
    assert trace.context == {"id": context.id, "parent_id": None, "user_id": "grid-worker"}
    assert trace.variables is not None
    assert trace.variables["trigger"]["to_state"]["state"] == "off"
    assert get_deadlines(hub).pending(PREFIX) == []


async def test_a_deadline_passed_while_down_runs_at_once_marked_late(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    make_script(hub, DAY_LONG).async_start()
    await hub.async_block_till_done()
    clock.advance(20 * HOUR)
    await hub.async_stop()
    clock.advance(10 * HOUR)  # the hub is down when the delay falls due

    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    script = make_script(hub, DAY_LONG)
    assert await script.async_resume_after_restart() == 1
    await hub.async_block_till_done()
    assert recorder.steps == ["after"]
    trace = last_trace(hub)
    assert trace.script_execution == "finished"
    assert trace.extra["late"] is True
    assert trace.steps[1]["result"]["late"] is True


async def test_a_resumed_run_survives_another_restart(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    make_script(hub, DAY_LONG).async_start()
    await hub.async_block_till_done()
    clock.advance(10 * HOUR)
    await hub.async_stop()

    hub = await hub_factory(config_dir)
    Recorder(hub)
    assert await make_script(hub, DAY_LONG).async_resume_after_restart() == 1
    clock.advance(10 * HOUR)
    await hub.async_stop()  # stopped again while the resumed run still waits

    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    assert await make_script(hub, DAY_LONG).async_resume_after_restart() == 1
    clock.advance(4 * HOUR)
    await hub.async_block_till_done()
    assert recorder.steps == ["after"]


NESTED = [
    record("a"),
    {
        "if": [{"condition": "trigger", "id": "door"}],
        "then": [
            {"sequence": [{"delay": {"hours": 1}}, record("b")]},
            record("c"),
        ],
    },
    {
        "choose": [
            {
                "conditions": [{"condition": "trigger", "id": "door"}],
                "sequence": [{"delay": 60}, record("d")],
            }
        ]
    },
    record("e"),
]


async def test_delays_nested_in_branches_resume_and_the_run_goes_on(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    make_script(hub, NESTED).async_start({"trigger": {"id": "door"}})
    await hub.async_block_till_done()
    assert recorder.steps == ["a"]
    await hub.async_stop()

    # Resumed inside if → then → sequence: the rest of each level runs, outwards.
    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    assert await make_script(hub, NESTED).async_resume_after_restart() == 1
    clock.advance(HOUR)
    await hub.async_block_till_done()
    assert recorder.steps == ["b", "c"]  # now in the choose's delay, persisted again
    await hub.async_stop()

    # Resumed inside choose: the variables came along (the trigger id still matches).
    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    assert await make_script(hub, NESTED).async_resume_after_restart() == 1
    clock.advance(60)
    await hub.async_block_till_done()
    assert recorder.steps == ["d", "e"]
    trace = last_trace(hub)
    assert trace.script_execution == "finished"
    assert [step["path"] for step in trace.steps] == [
        "action/0",
        "action/1",
        "action/1/if/condition/0",
        "action/1/then/0",
        "action/1/then/0/sequence/0",
        "action/1/then/0/sequence/1",
        "action/1/then/1",
        "action/2",
        "action/2/choose/0/conditions/0",
        "action/2/choose/0/sequence/0",
        "action/2/choose/0/sequence/1",
        "action/3",
    ]


async def test_a_delay_inside_repeat_cannot_be_resumed(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    actions = [
        {"repeat": {"count": 3, "sequence": [{"delay": 60}, record("tick")]}},
        record("after"),
    ]
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    make_script(hub, actions).async_start()
    await hub.async_block_till_done()
    await hub.async_stop()

    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    script = make_script(hub, actions)
    assert await script.async_resume_after_restart() == 0
    assert not script.is_running
    trace = last_trace(hub)
    assert trace.script_execution == "aborted_by_restart"
    assert trace.error is not None
    assert "inside repeat or parallel" in trace.error
    assert trace.state == "stopped"
    assert get_deadlines(hub).pending(PREFIX) == []  # dropped, not tried again
    clock.advance(HOUR)
    await hub.async_block_till_done()
    assert recorder.steps == []


async def test_a_delay_inside_parallel_cannot_be_resumed(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    actions = [{"parallel": [{"delay": 60}, {"delay": 90}]}, record("after")]
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    make_script(hub, actions).async_start()
    await hub.async_block_till_done()
    assert len(get_deadlines(hub).pending(PREFIX)) == 0  # both attached, under their own keys
    await hub.async_stop()

    hub = await hub_factory(config_dir)
    Recorder(hub)
    script = make_script(hub, actions)
    assert await script.async_resume_after_restart() == 0
    traces = get_trace_store(hub).get("elder_out")
    assert [trace.script_execution for trace in traces] == ["aborted_by_restart"]
    assert get_deadlines(hub).pending(PREFIX) == []


async def test_a_changed_script_is_not_resumed(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    make_script(hub, DAY_LONG).async_start()
    await hub.async_block_till_done()
    await hub.async_stop()

    hub = await hub_factory(config_dir)
    recorder = Recorder(hub)
    edited = [record("before"), record("new step"), {"delay": {"hours": 24}}, record("after")]
    assert await make_script(hub, edited).async_resume_after_restart() == 0
    trace = last_trace(hub)
    assert trace.script_execution == "aborted_by_restart"
    assert "changed" in str(trace.error)
    clock.advance(24 * HOUR)
    await hub.async_block_till_done()
    assert recorder.steps == []


async def test_a_script_without_prefix_is_not_persisted(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    hub = await hub_factory(tmp_path / "c")
    Recorder(hub)
    script = Script(hub, valid_actions(DAY_LONG), "plain", "script", item_id="plain")
    script.async_start()
    await hub.async_block_till_done()
    assert get_deadlines(hub).get(f"{PREFIX}.run") is None
    assert await script.async_resume_after_restart() == 0
    await hub.async_stop()


async def test_cancelling_a_persisted_delay_forgets_it(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub = await hub_factory(config_dir)
    Recorder(hub)
    script = make_script(hub, DAY_LONG)
    future = script.async_start()
    await hub.async_block_till_done()
    key = script.run_key(last_trace(hub).run_id)
    assert key.startswith(f"{PREFIX}.run.")
    deadline = get_deadlines(hub).get(key)
    assert deadline is not None
    assert deadline.when == clock.time() + 24 * HOUR
    assert deadline.data["path"] == "action/1"
    await script.async_stop()
    result = future.result()
    assert result is not None
    assert result.script_execution == "cancelled"
    assert get_deadlines(hub).get(key) is None
    await hub.async_stop()

    hub = await hub_factory(config_dir)
    assert await make_script(hub, DAY_LONG).async_resume_after_restart() == 0
