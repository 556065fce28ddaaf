"""Scripts with templates: data, targets, loops, waits, and template errors in the trace."""

from __future__ import annotations

from typing import Any

import pytest

from linli.clock import FakeClock
from linli.helpers.script import Script, ScriptRunResult, valid_actions
from linli.hub import Hub
from linli.services import ServiceCall, SupportsResponse


class Recorder:
    """``test.record``: records the data of each call."""

    def __init__(self, hub: Hub) -> None:
        self.calls: list[ServiceCall] = []

        async def handle(call: ServiceCall) -> None:
            self.calls.append(call)

        hub.services.async_register("test", "record", handle)

    @property
    def data(self) -> list[dict[str, Any]]:
        return [dict(call.data) for call in self.calls]


@pytest.fixture
def recorder(hub: Hub) -> Recorder:
    return Recorder(hub)


def make_script(hub: Hub, actions: Any) -> Script:
    return Script(hub, valid_actions(actions), "Template script", "script", item_id="tpl")


async def run(hub: Hub, actions: Any, variables: dict[str, Any] | None = None) -> ScriptRunResult:
    result = await make_script(hub, actions).async_run(variables)
    assert result is not None
    return result


def record(data: dict[str, Any]) -> dict[str, Any]:
    return {"action": "test.record", "data": data}


async def test_data_and_target_templates_see_the_run_variables(
    hub: Hub, recorder: Recorder
) -> None:
    hub.states.async_set("sensor.gate", "open", {"friendly_name": "东门"})
    result = await run(
        hub,
        [
            {
                "action": "test.record",
                "data": {
                    "message": "{{ state_attr(trigger.entity_id, 'friendly_name') }} 未关",
                    "{{ 'ke' ~ 'y' }}": "{{ 40 + 2 }}",
                    "code": "0123",
                },
                "target": {"entity_id": "{{ trigger.entity_id }}"},
            }
        ],
        {"trigger": {"entity_id": "sensor.gate"}},
    )
    assert result.script_execution == "finished"
    assert recorder.data == [
        {"message": "东门 未关", "key": 42, "code": "0123", "entity_id": ["sensor.gate"]}
    ]


async def test_the_action_name_may_be_a_template(hub: Hub, recorder: Recorder) -> None:
    await run(hub, [{"action": "{{ 'test.' ~ what }}"}], {"what": "record"})
    assert len(recorder.calls) == 1


async def test_variables_render_in_order(hub: Hub, recorder: Recorder) -> None:
    result = await run(
        hub,
        [
            {"variables": {"floors": "{{ [1, 2, 3] }}", "top": "{{ floors | max }}"}},
            record({"top": "{{ top }}"}),
        ],
    )
    assert result.variables["floors"] == [1, 2, 3]
    assert recorder.data == [{"top": 3}]


async def test_repeat_count_sets_index_first_last(hub: Hub, recorder: Recorder) -> None:
    data = {
        "index": "{{ repeat.index }}",
        "first": "{{ repeat.first }}",
        "last": "{{ repeat.last }}",
    }
    await run(hub, [{"repeat": {"count": "{{ 1 + 1 }}", "sequence": [record(data)]}}])
    assert recorder.data == [
        {"index": 1, "first": True, "last": False},
        {"index": 2, "first": False, "last": True},
    ]


async def test_repeat_for_each_sets_item(hub: Hub, recorder: Recorder) -> None:
    await run(
        hub,
        [
            {
                "repeat": {
                    "for_each": "{{ rooms }}",
                    "sequence": [record({"room": "{{ repeat.item.id }}"})],
                }
            }
        ],
        {"rooms": [{"id": "1201"}, {"id": "1202"}]},
    )
    await run(
        hub,
        [
            {
                "repeat": {
                    "for_each": ["east", "{{ other }}"],
                    "sequence": [record({"gate": "{{ repeat.item }}"})],
                }
            }
        ],
        {"other": "west"},
    )
    assert recorder.data == [{"room": 1201}, {"room": 1202}, {"gate": "east"}, {"gate": "west"}]


async def test_repeat_until_a_template(hub: Hub, recorder: Recorder) -> None:
    await run(
        hub,
        [
            {
                "repeat": {
                    "until": "{{ repeat.index >= 3 }}",
                    "sequence": [record({"i": "{{ repeat.index }}"})],
                }
            }
        ],
    )
    assert recorder.data == [{"i": 1}, {"i": 2}, {"i": 3}]


async def test_a_bad_loop_value_is_an_error(hub: Hub) -> None:
    result = await run(hub, [{"repeat": {"for_each": "{{ 5 }}", "sequence": [{"delay": 0}]}}])
    assert result.script_execution == "error"
    assert result.error == "repeat for_each is not a list: 5"


async def test_delay_from_a_template(hub: Hub, clock: FakeClock, recorder: Recorder) -> None:
    script = make_script(
        hub,
        [
            {"delay": "{{ seconds }}"},
            record({}),
            {"delay": {"minutes": "{{ minutes }}"}},
            record({}),
        ],
    )
    script.async_start({"seconds": 30, "minutes": 2})
    await hub.async_block_till_done()
    clock.advance(30)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    clock.advance(119)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    clock.advance(1)
    await hub.async_block_till_done()
    assert len(recorder.calls) == 2


async def test_an_invalid_rendered_delay_is_an_error(hub: Hub) -> None:
    result = await run(hub, [{"delay": "{{ 'soon' }}"}])
    assert result.script_execution == "error"
    assert "invalid duration 'soon'" in str(result.error)


async def test_wait_template_waits_for_the_states_it_reads(
    hub: Hub, clock: FakeClock, recorder: Recorder
) -> None:
    hub.states.async_set("lock.gate", "open")
    script = make_script(
        hub,
        [
            {"wait_template": "{{ is_state('lock.gate', 'locked') }}", "timeout": 60},
            record({"wait": "{{ wait }}"}),
        ],
    )
    future = script.async_start()
    await hub.async_block_till_done()
    assert not recorder.calls
    clock.advance(20)
    hub.states.async_set("sensor.other", "1")
    hub.states.async_set("lock.gate", "closing")
    await hub.async_block_till_done()
    assert not recorder.calls
    hub.states.async_set("lock.gate", "locked")
    await hub.async_block_till_done()
    assert recorder.data == [{"wait": {"remaining": 40.0, "completed": True}}]
    result = future.result()
    assert result is not None
    assert result.trace.steps[0]["result"] == {"wait": {"remaining": 40.0, "completed": True}}


async def test_wait_template_already_true_or_timing_out(
    hub: Hub, clock: FakeClock, recorder: Recorder
) -> None:
    hub.states.async_set("lock.gate", "locked")
    done = await run(hub, [{"wait_template": "{{ is_state('lock.gate', 'locked') }}"}])
    assert done.variables["wait"] == {"remaining": None, "completed": True}

    wait = {"wait_template": "{{ is_state('lock.gate', 'open') }}", "timeout": "00:00:10"}
    script = make_script(hub, [wait, record({})])
    future = script.async_start()
    await hub.async_block_till_done()
    clock.advance(10)
    await hub.async_block_till_done()
    result = future.result()
    assert result is not None
    assert result.variables["wait"] == {"remaining": 0.0, "completed": False}
    assert len(recorder.calls) == 1

    strict = make_script(hub, [{**wait, "continue_on_timeout": False}, record({})])
    future = strict.async_start()
    await hub.async_block_till_done()
    clock.advance(10)
    await hub.async_block_till_done()
    result = future.result()
    assert result is not None
    assert result.script_execution == "aborted"
    assert len(recorder.calls) == 1


async def test_wait_template_on_a_domain_and_on_the_clock(
    hub: Hub, clock: FakeClock, recorder: Recorder
) -> None:
    hub.config.time_zone = "UTC"
    open_locks = "{{ states.lock | selectattr('state', 'eq', 'open') | list | count > 0 }}"
    script = make_script(
        hub,
        [
            {"wait_template": open_locks},
            record({}),
            {"wait_template": "{{ now().hour >= 9 }}"},
            record({}),
        ],
    )
    script.async_start()
    await hub.async_block_till_done()
    hub.states.async_set("lock.new_gate", "open")  # an entity it had not read before
    await hub.async_block_till_done()
    assert len(recorder.calls) == 1
    clock.advance(3600)  # 09:00: a template reading the clock is re-rendered each minute
    await hub.async_block_till_done()
    assert len(recorder.calls) == 2
    assert not script.is_running


async def test_a_template_error_ends_the_run_with_the_error_traced(
    hub: Hub, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    result = await run(hub, [record({}), record({"x": "{{ 1 / 0 }}"}), record({})])
    assert result.script_execution == "error"
    assert "division by zero" in str(result.error)
    assert result.trace.steps[1]["path"] == "action/1"
    assert "division by zero" in result.trace.steps[1]["error"]
    assert len(recorder.calls) == 1
    assert "Template script: error in action/1" in caplog.text

    # continue_on_error goes past a template error.
    result = await run(
        hub,
        [
            {"event": "x", "event_data": {"x": "{{ 1 / 0 }}"}, "continue_on_error": True},
            record({}),
        ],
    )
    assert result.script_execution == "finished"
    assert len(recorder.calls) == 2


async def test_event_and_alert_data_templates(hub: Hub) -> None:
    seen: list[dict[str, Any]] = []

    async def raise_alert(call: ServiceCall) -> dict[str, Any]:
        seen.append(dict(call.data))
        return {"alert_id": "A7", "created": True}

    hub.services.async_register(
        "alert", "raise", raise_alert, supports_response=SupportsResponse.OPTIONAL
    )
    result = await run(
        hub,
        [
            {
                "alert": {
                    "kind": "door_open",
                    "severity": "{{ 'major' if minutes > 10 else 'minor' }}",
                    "title": "{{ door }} 已开 {{ minutes }} 分钟",
                },
                "response_variable": "alert",
            },
            {"event": "notified", "event_data": {"alert_id": "{{ alert.alert_id }}"}},
            {"stop": "done", "response_variable": "alert"},
        ],
        {"door": "单元门", "minutes": 12},
    )
    assert seen == [{"kind": "door_open", "severity": "major", "title": "单元门 已开 12 分钟"}]
    assert result.trace.steps[1]["result"] == {
        "event": "notified",
        "event_data": {"alert_id": "A7"},
    }
    assert result.response == {"alert_id": "A7", "created": True}


async def test_the_older_template_keys(hub: Hub, recorder: Recorder) -> None:
    await run(
        hub,
        [
            {
                "service_template": "{{ 'test.record' }}",
                "data": {"a": 1},
                "data_template": {"b": "{{ 1 + 1 }}"},
                "entity_id": "{{ 'light.' ~ room }}",
            }
        ],
        {"room": "hall"},
    )
    assert recorder.data == [{"a": 1, "b": 2, "entity_id": ["light.hall"]}]
