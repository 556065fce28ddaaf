"""The shipped ``linli/no_activity_alert.yaml``: an elder living alone, 24 hours without a sign.

The door contact of flat 1201 stops changing; after 24 hours the grid worker gets a
``no_activity`` alert placed in the flat. Every change starts the count again, the count
survives a restart, and a count that ran out while the hub was down raises at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.components.alert import AlertState, AuditAction, Severity

DOOR = "binary_sensor.room_1201_door"
STEPS = "sensor.wristband_1202_steps"
AWAY = "input_boolean.room_1201_away"

ELDER_1201 = """\
- id: elder_1201
  alias: 1201 独居老人无活动
  use_blueprint:
    path: linli/no_activity_alert.yaml
    input:
      activity_entity: binary_sensor.room_1201_door
"""


async def _door_closed_at_hour_zero(community: Any) -> None:
    community.write_automations(ELDER_1201)
    await community.start()
    community.place(DOOR, "b1-u1-1201", "1201 入户门")
    await community.set_state(DOOR, "on", {"friendly_name": "1201 入户门"})
    await community.set_state(DOOR, "off", {"friendly_name": "1201 入户门"})


async def test_24_hours_without_a_change_raise_one_alert_in_the_flat(community: Any) -> None:
    await _door_closed_at_hour_zero(community)
    closed_at = community.clock.utcnow()

    await community.advance(timedelta(hours=23, minutes=59))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))

    (alert,) = community.alerts()
    assert alert.kind == "no_activity"
    assert alert.severity is Severity.WARNING
    assert alert.state is AlertState.NEW
    assert alert.area_id == "b1-u1-1201"  # from the door's place in the registry
    assert alert.source_entity_id == DOOR
    assert alert.assignee == "role:grid_worker"
    assert alert.dedup_key == f"no_activity:{DOOR}"
    assert alert.title == "1201 入户门：24 小时无活动"
    assert alert.message is not None
    assert "1201 入户门 自 2026-03-01 16:00 起 24 小时没有变化" in alert.message
    assert "while the hub was down" not in alert.message
    assert [(e.kind.value, e.ref, e.captured_at) for e in alert.evidence] == [
        ("state", DOOR, closed_at)
    ]
    assert alert.data == {
        "entity_id": DOOR,
        "last_state": "off",
        "last_changed": closed_at.isoformat(),
        "quiet_seconds": 86400,
        "late": False,
    }
    (raised,) = alert.history
    assert raised.action is AuditAction.RAISED
    assert raised.actor == "system"
    assert raised.to_state is AlertState.NEW
    assert raised.data == {"assignee": "role:grid_worker"}

    # Another quiet day adds nothing: the timer only starts again with a change.
    await community.advance(timedelta(hours=48))
    (alert,) = community.alerts()
    assert alert.occurrences == 1


async def test_every_change_starts_the_count_again(community: Any) -> None:
    await _door_closed_at_hour_zero(community)
    await community.advance(timedelta(hours=20))
    await community.set_state(DOOR, "on")  # the elder goes out at hour 20 …
    await community.advance(timedelta(minutes=30))
    await community.set_state(DOOR, "off")  # … and comes back half an hour later

    await community.advance(timedelta(hours=23, minutes=59))
    assert community.alerts() == []  # hour 44: not yet 24 hours since the last change
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert alert.created_at == community.clock.utcnow()
    assert alert.data["last_state"] == "off"


async def test_an_attribute_change_alone_is_no_activity(community: Any) -> None:
    await _door_closed_at_hour_zero(community)
    await community.advance(timedelta(hours=12))
    await community.set_state(DOOR, "off", {"friendly_name": "1201 入户门", "battery": 80})
    await community.advance(timedelta(hours=12))
    (alert,) = community.alerts()
    assert alert.source_entity_id == DOOR


async def test_inputs_change_duration_severity_assignee_and_title(community: Any) -> None:
    community.write_automations(
        """\
        - id: wristband_1202
          use_blueprint:
            path: linli/no_activity_alert.yaml
            input:
              activity_entity: sensor.wristband_1202_steps
              quiet_for: {hours: 6, minutes: 30}
              severity: critical
              assignee: role:staff
              title: 1202 手环无步数
        """
    )
    await community.start()
    community.place(STEPS, "b1-u1-1202", "1202 手环步数")
    for steps in ("1200", "1350", "1502"):
        await community.set_state(STEPS, steps)
        await community.advance(timedelta(hours=1))

    await community.advance(timedelta(hours=5, minutes=29))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert (alert.severity, alert.assignee, alert.title) == (
        Severity.CRITICAL,
        "role:staff",
        "1202 手环无步数",
    )
    assert alert.area_id == "b1-u1-1202"
    assert alert.data["quiet_seconds"] == 6.5 * 3600
    assert alert.data["last_state"] == 1502
    assert "390 分钟没有变化" in (alert.message or "")


async def test_the_away_switch_keeps_the_rule_quiet(community: Any) -> None:
    community.write_automations(ELDER_1201 + "      away_entity: input_boolean.room_1201_away\n")
    await community.start()
    community.place(DOOR, "b1-u1-1201", "1201 入户门")
    await community.set_state(AWAY, "on")  # visiting family
    await community.set_state(DOOR, "off")
    await community.advance(timedelta(hours=24))
    assert community.alerts() == []
    (trace,) = community.traces("elder_1201")
    assert trace["script_execution"] == "failed_conditions"

    # Home again: the door opens and closes, and the count starts again.
    await community.set_state(AWAY, "off")
    await community.set_state(DOOR, "on")
    await community.set_state(DOOR, "off")
    await community.advance(timedelta(hours=24))
    (alert,) = community.alerts()
    assert alert.kind == "no_activity"


async def test_the_count_survives_a_restart_at_hour_20(community: Any) -> None:
    await _door_closed_at_hour_zero(community)
    await community.advance(timedelta(hours=20))
    await community.restart()
    assert community.alerts() == []
    await community.set_state(DOOR, "off")  # the sensor reports again: still closed

    await community.advance(timedelta(hours=3, minutes=59))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))  # hour 24 since the door closed
    (alert,) = community.alerts()
    assert alert.area_id == "b1-u1-1201"
    assert alert.data["late"] is False
    (trace,) = community.traces("elder_1201")
    assert trace["script_execution"] == "finished"
    assert trace["trigger"]["late"] is False
    assert trace["trigger"]["for"] == timedelta(hours=24)


async def test_a_count_that_ran_out_while_the_hub_was_down_raises_at_start(
    community: Any,
) -> None:
    await _door_closed_at_hour_zero(community)
    await community.advance(timedelta(hours=20))
    await community.hub.async_stop()
    community.clock.advance(timedelta(hours=6))  # down from hour 20 to hour 26

    await community.start()
    (alert,) = community.alerts()
    assert alert.created_at == community.clock.utcnow()
    assert alert.data["late"] is True
    assert alert.title == "1201 入户门：24 小时无活动"  # the name kept with the timer
    assert "while the hub was down" in (alert.message or "")
    (trace,) = community.traces("elder_1201")
    assert trace["late"] is True
    assert trace["trigger"]["late"] is True
    assert trace["trigger"]["entity_id"] == DOOR
    assert trace["script_execution"] == "finished"


async def test_a_change_after_the_restart_cancels_the_count(community: Any) -> None:
    await _door_closed_at_hour_zero(community)
    await community.advance(timedelta(hours=20))
    await community.restart()
    await community.set_state(DOOR, "on")
    await community.advance(timedelta(hours=10))
    assert community.alerts() == []
