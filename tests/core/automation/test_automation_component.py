"""The automation integration: entities, runs, traces, services, ids, problems, reload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from linli.callback import callback
from linli.clock import FakeClock
from linli.components.automation import get_component
from linli.context import Context
from linli.helpers.trace import get_trace_store
from linli.hub import Hub

StartHub = Callable[..., Awaitable[Any]]
"""The ``start_hub`` fixture (conftest.py): a hub set up from an automations.yaml."""

DOOR_ALARM = """\
- id: door_alarm
  alias: Door opened
  triggers:
    - trigger: state
      entity_id: binary_sensor.door
      to: "on"
  conditions:
    - condition: state
      entity_id: input_boolean.armed
      state: "on"
  actions:
    - action: test.record
"""


class Events(list[Any]):
    """A ``@callback`` listener keeping the events it gets."""

    def __init__(self) -> None:
        super().__init__()
        callback(self)

    def __call__(self, event: Any) -> None:
        self.append(event)


def traces(hub: Hub, automation_id: str) -> list[dict[str, Any]]:
    """The stored traces of an automation, as plain data."""
    return [trace.as_dict() for trace in get_trace_store(hub).get(automation_id)]


async def test_a_trigger_runs_the_actions_with_a_trace(start_hub: StartHub) -> None:
    started = await start_hub(DOOR_ALARM)
    hub = started.hub
    hub.states.async_set("input_boolean.armed", "on")
    fired = Events()
    hub.bus.async_listen("automation_triggered", fired, owner="test")
    context = Context(user_id="guard")

    hub.states.async_set("binary_sensor.door", "on", context=context)
    await hub.async_block_till_done()

    assert len(started.calls) == 1
    call = started.calls[0]
    state = hub.states.get("automation.door_opened")
    assert state is not None
    assert state.state == "on"
    assert state.attributes["id"] == "door_alarm"
    assert state.attributes["friendly_name"] == "Door opened"
    assert state.attributes["mode"] == "single"
    assert state.attributes["current"] == 0
    assert state.attributes["last_triggered"] == hub.clock.utcnow().isoformat()
    assert [event.data["entity_id"] for event in fired] == ["automation.door_opened"]

    (trace,) = traces(hub, "door_alarm")
    assert trace["script_execution"] == "finished"
    assert trace["trigger"]["entity_id"] == "binary_sensor.door"
    assert trace["context"]["parent_id"] == context.id  # the run was caused by the change
    assert call.context.parent_id == trace["context"]["id"]  # and caused the call
    assert [step["path"] for step in trace["steps"]][:3] == [
        "trigger/0",
        "condition/0",
        "action/0",
    ]


async def test_failing_conditions_stop_the_run(start_hub: StartHub) -> None:
    started = await start_hub(DOOR_ALARM)
    hub = started.hub
    hub.states.async_set("input_boolean.armed", "off")
    hub.states.async_set("binary_sensor.door", "on")
    await hub.async_block_till_done()
    assert started.calls == []
    (trace,) = traces(hub, "door_alarm")
    assert trace["script_execution"] == "failed_conditions"
    assert hub.states.get("automation.door_opened").attributes["last_triggered"] is None


async def test_services_trigger_turn_off_turn_on_toggle(start_hub: StartHub) -> None:
    started = await start_hub(DOOR_ALARM)
    hub = started.hub
    hub.states.async_set("input_boolean.armed", "off")
    target = {"entity_id": "automation.door_opened"}

    await hub.services.async_call("automation", "trigger", target)  # skips conditions
    await hub.services.async_call("automation", "trigger", {**target, "skip_condition": False})
    await hub.async_block_till_done()
    assert len(started.calls) == 1

    hub.states.async_set("input_boolean.armed", "on")
    await hub.services.async_call("automation", "turn_off", target)
    assert hub.states.is_state("automation.door_opened", "off")
    hub.states.async_set("binary_sensor.door", "on")
    hub.states.async_set("binary_sensor.door", "off")
    await hub.async_block_till_done()
    assert len(started.calls) == 1

    await hub.services.async_call("automation", "toggle", {"entity_id": "all"})
    assert hub.states.is_state("automation.door_opened", "on")
    hub.states.async_set("binary_sensor.door", "on")
    await hub.async_block_till_done()
    assert len(started.calls) == 2


async def test_turned_off_is_remembered_unless_initial_state_says(
    start_hub: StartHub, tmp_path: Any
) -> None:
    automations = (
        DOOR_ALARM
        + """\
- id: always_on
  initial_state: true
  triggers: {trigger: state, entity_id: binary_sensor.door}
  actions: {action: test.record}
"""
    )
    first = await start_hub(automations)
    await first.hub.services.async_call("automation", "turn_off", {"entity_id": "all"})
    await first.hub.async_stop()

    second = await start_hub(config_dir=first.config_dir)
    assert second.hub.states.is_state("automation.door_opened", "off")
    assert second.hub.states.is_state("automation.always_on", "on")


async def test_ids_and_entity_ids_without_an_id(start_hub: StartHub) -> None:
    started = await start_hub(
        """\
        - alias: Gate open at night
          triggers: {trigger: state, entity_id: lock.gate}
          actions: {action: test.record}
        - alias: 老人未出门
          triggers: {trigger: state, entity_id: lock.gate}
          actions: {action: test.record}
        - triggers: {trigger: state, entity_id: lock.gate}
          actions: {action: test.record}
        - alias: Gate open at night
          triggers: {trigger: state, entity_id: lock.gate}
          actions: {action: test.record}
        """
    )
    component = get_component(started.hub)
    assert component is not None
    ids = list(component.automations)
    assert ids[0] == "gate_open_at_night"
    assert ids[1].startswith("alias_")
    assert len(ids[1]) == len("alias_") + 8
    assert ids[2:] == ["automation_2", "gate_open_at_night_2"]
    assert [a.entity_id for a in component.automations.values()] == [
        "automation.gate_open_at_night",
        f"automation.{ids[1]}",
        "automation.automation_2",
        "automation.gate_open_at_night_2",
    ]


async def test_a_broken_automation_is_reported_and_the_others_run(start_hub: StartHub) -> None:
    started = await start_hub(
        """\
        - id: good
          triggers: {trigger: state, entity_id: light.a, to: "on"}
          actions: {action: test.record}
        - id: unknown_platform
          triggers:
            - trigger: state
              entity_id: light.a
            - trigger: doorbel
          actions: {action: test.record}
        - id: bad_entity
          triggers: {trigger: state, entity_id: "Not an entity"}
          actions: {action: test.record}
        - id: good
          triggers: {trigger: state, entity_id: light.a}
          actions: {action: test.record}
        """
    )
    hub = started.hub
    component = get_component(hub)
    assert component is not None
    assert list(component.automations) == ["good"]
    assert [str(issue) for issue in component.issues] == [
        "automations.yaml:8: automation[1].triggers[1].platform: unknown trigger platform "
        "'doorbel' (known: event, homeassistant, linli_start, numeric_state, state, template, "
        "time, time_pattern)",
        "automations.yaml:11: automation[2].triggers[0].entity_id: "
        "invalid entity ID 'not an entity'",
        "automations.yaml:13: automation[3].id: this id is used by another automation",
    ]

    hub.states.async_set("light.a", "on")
    await hub.async_block_till_done()
    assert len(started.calls) == 1


async def test_reload_replaces_only_what_changed(start_hub: StartHub, clock: FakeClock) -> None:
    started = await start_hub(
        """\
        - id: held
          triggers: {trigger: state, entity_id: light.a, to: "on", for: 600}
          actions: {action: test.record}
        - id: removed
          triggers: {trigger: state, entity_id: light.b}
          actions: {action: test.record}
        - id: changed
          triggers: {trigger: state, entity_id: light.c}
          actions: {action: test.record}
        """
    )
    hub = started.hub
    hub.states.async_set("light.a", "on")
    clock.advance(300)
    reloaded = Events()
    hub.bus.async_listen("automation_reloaded", reloaded, owner="test")
    started.write_automations(
        """\
        - id: held
          triggers: {trigger: state, entity_id: light.a, to: "on", for: 600}
          actions: {action: test.record}
        - id: changed
          alias: Changed
          triggers: {trigger: state, entity_id: light.d}
          actions: {action: test.record}
        - id: added
          triggers: {trigger: nonsense}
          actions: {action: test.record}
        """
    )
    response = await hub.services.async_call(
        "automation", "reload", blocking=True, return_response=True
    )
    assert response is not None
    assert response["automations"] == 2
    assert len(response["issues"]) == 1
    assert "nonsense" in response["issues"][0]
    assert len(reloaded) == 1
    assert hub.states.get("automation.removed") is None
    assert hub.states.get("automation.changed").attributes["friendly_name"] == "Changed"

    hub.states.async_set("light.b", "on")
    hub.states.async_set("light.c", "on")
    await hub.async_block_till_done()
    assert started.calls == []  # removed and changed-away triggers are gone
    hub.states.async_set("light.d", "on")
    clock.advance(300)  # the unchanged automation's `for:` kept running through the reload
    await hub.async_block_till_done()
    assert len(started.calls) == 2


async def test_start_trigger_fires_at_start_not_at_reload(start_hub: StartHub) -> None:
    automations = """\
    - id: on_start
      triggers: {trigger: linli_start}
      actions: {action: test.record}
    """
    started = await start_hub(automations)
    assert len(started.calls) == 1
    started.write_automations(automations.replace("on_start", "on_start_2"))
    await started.hub.services.async_call("automation", "reload")
    await started.hub.async_block_till_done()
    assert len(started.calls) == 1


async def test_mode_single_refuses_a_second_run(start_hub: StartHub, clock: FakeClock) -> None:
    started = await start_hub(
        """\
        - id: slow
          triggers: {trigger: event, event_type: go}
          actions:
            - delay: 60
            - action: test.record
        """
    )
    hub = started.hub
    hub.bus.async_fire("go")
    await hub.async_block_till_done()
    assert hub.states.get("automation.slow").attributes["current"] == 1
    hub.bus.async_fire("go")
    await hub.async_block_till_done()
    clock.advance(60)
    await hub.async_block_till_done()
    assert len(started.calls) == 1
    assert hub.states.get("automation.slow").attributes["current"] == 0
    executions = [trace["script_execution"] for trace in traces(hub, "slow")]
    assert executions == ["finished", "failed_single"]


async def test_variables_and_trigger_variables(start_hub: StartHub) -> None:
    started = await start_hub(
        """\
        - id: gate
          trigger_variables:
            gate: lock.north_gate
          variables:
            floor: "{{ trigger.to_state.attributes.floor }}"
            label: "{{ gate }} @ {{ floor }}"
          triggers:
            - trigger: template
              value_template: "{{ is_state(gate, 'unlocked') }}"
          actions:
            - action: test.record
              data:
                label: "{{ label }}"
                this: "{{ this.entity_id }}"
        """
    )
    hub = started.hub
    hub.states.async_set("lock.north_gate", "locked")
    hub.states.async_set("lock.north_gate", "unlocked", {"floor": 3})
    await hub.async_block_till_done()
    assert [dict(call.data) for call in started.calls] == [
        {"label": "lock.north_gate @ 3", "this": "automation.gate"}
    ]


async def test_a_bad_template_is_reported_with_its_line(start_hub: StartHub) -> None:
    started = await start_hub(
        """\
        - id: good
          triggers: {trigger: event, event_type: go}
          actions: {action: test.record}
        - id: broken
          triggers:
            - trigger: template
              value_template: "{{ states('sensor.a') > }}"
          actions: {action: test.record}
        """
    )
    component = get_component(started.hub)
    assert component is not None
    assert list(component.automations) == ["good"]
    (issue,) = component.issues
    assert (issue.file, issue.line) == ("automations.yaml", 7)
    assert issue.key == "automation[1].triggers[0].value_template"


async def test_automations_made_from_a_blueprint(start_hub: StartHub, tmp_path: Any) -> None:
    blueprint = tmp_path / "config" / "blueprints" / "automation" / "test" / "door.yaml"
    blueprint.parent.mkdir(parents=True)
    blueprint.write_text(
        """\
blueprint:
  name: Door alarm
  domain: automation
  input:
    door:
      name: Door
      selector: {entity: {}}
triggers:
  - trigger: state
    entity_id: !input door
    to: "on"
actions:
  - action: test.record
""",
        encoding="utf-8",
    )
    started = await start_hub(
        """\
        - id: front
          use_blueprint: {path: test/door.yaml, input: {door: binary_sensor.front}}
        - use_blueprint: {path: test/nope.yaml, input: {}}
        - triggers: {trigger: state, entity_id: binary_sensor.back, to: "on"}
          actions: {action: test.record}
        """
    )
    hub = started.hub
    component = get_component(hub)
    assert component is not None
    assert list(component.automations) == ["front", "automation_2"]
    (issue,) = component.issues
    assert issue.line == 3
    assert "nope.yaml" in str(issue)
    hub.states.async_set("binary_sensor.front", "on")
    hub.states.async_set("binary_sensor.back", "on")
    await hub.async_block_till_done()
    assert len(started.calls) == 2
