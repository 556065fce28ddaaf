"""The shipped ``linli/sensor_threshold_alert.yaml``: smoke, leaks, bins, cold flats.

A value past a threshold for a while raises an alert in the sensor's area; with auto-resolve
the run keeps the alert's id and resolves it once the value has been normal for a while. The
``for:`` timer survives a restart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.components.alert import AlertState, AuditAction, Severity, get_manager

SMOKE = "sensor.corridor_12_smoke"
BIN = "sensor.bin_b1_u1_kitchen_fill"
TEMPERATURE = "sensor.room_1202_temperature"
PPM = {"friendly_name": "12楼走廊烟感", "unit_of_measurement": "ppm"}
PERCENT = {"friendly_name": "1单元厨余桶", "unit_of_measurement": "%"}

SMOKE_RULE = """\
- id: smoke_f12
  alias: 12楼烟感
  use_blueprint:
    path: linli/sensor_threshold_alert.yaml
    input:
      sensor: sensor.corridor_12_smoke
      threshold: 300
      kind: smoke
      severity: emergency
"""

BIN_RULE = """\
- id: kitchen_bin
  use_blueprint:
    path: linli/sensor_threshold_alert.yaml
    input:
      sensor: sensor.bin_b1_u1_kitchen_fill
      threshold: 80
      duration: {minutes: 30}
      kind: bin_full
      severity: info
      auto_resolve: false
"""


async def _smoke_rule(community: Any) -> None:
    community.write_automations(SMOKE_RULE)
    await community.start()
    community.place(SMOKE, "b1-u1-f12", "12楼走廊烟感")
    await community.set_state(SMOKE, "20", PPM)


async def test_smoke_raises_at_once_and_resolves_after_five_normal_minutes(
    community: Any,
) -> None:
    await _smoke_rule(community)
    await community.set_state(SMOKE, "450", PPM)

    (alert,) = community.alerts()
    assert alert.kind == "smoke"
    assert alert.severity is Severity.EMERGENCY
    assert alert.area_id == "b1-u1-f12"
    assert alert.assignee == "role:staff"
    assert alert.dedup_key == f"smoke:{SMOKE}"
    assert alert.title == "12楼走廊烟感：高于 300 ppm"
    assert alert.message is not None
    assert alert.message.startswith("12楼走廊烟感 为 450.0 ppm，高于阈值 300 ppm。")
    assert alert.data == {
        "entity_id": SMOKE,
        "value": 450.0,
        "threshold": 300,
        "direction": "above",
    }

    await community.set_state(SMOKE, "280", PPM)  # below, but not for five minutes yet
    await community.advance(timedelta(minutes=2))
    await community.set_state(SMOKE, "320", PPM)  # up again
    await community.advance(timedelta(minutes=10))
    assert community.alerts()[0].state is AlertState.NEW
    assert community.alerts()[0].occurrences == 1  # the run was still waiting: no repeat

    await community.set_state(SMOKE, "40", PPM)
    await community.advance(timedelta(minutes=4, seconds=59))
    assert community.alerts()[0].state is AlertState.NEW
    await community.advance(timedelta(seconds=1))
    (alert,) = community.alerts()
    assert alert.state is AlertState.RESOLVED
    assert [(e.action, e.actor) for e in alert.history] == [
        (AuditAction.RAISED, "system"),
        (AuditAction.RESOLVED, "system"),
    ]
    assert alert.history[-1].note == "恢复正常：40 ppm。Back to normal: 40 ppm."
    # The second crossing (320 ppm) came while the first run waited: mode single drops it.
    assert [t["script_execution"] for t in community.traces("smoke_f12")] == [
        "finished",
        "failed_single",
    ]

    # The same sensor crossing again later is a new alert (the old one is closed).
    await community.set_state(SMOKE, "500", PPM)
    assert [a.state for a in community.alerts()] == [AlertState.RESOLVED, AlertState.NEW]


async def test_a_person_closing_the_alert_ends_the_wait(community: Any) -> None:
    await _smoke_rule(community)
    await community.set_state(SMOKE, "450", PPM)
    (alert,) = community.alerts()
    await community.hub.services.async_call(
        "alert", "dismiss", {"alert_id": alert.id, "note": "做饭油烟"}, blocking=True
    )
    await community.hub.async_block_till_done()
    await community.set_state(SMOKE, "20", PPM)
    await community.advance(timedelta(minutes=10))

    (alert,) = community.alerts()
    assert alert.state is AlertState.DISMISSED
    assert [e.action for e in alert.history] == [AuditAction.RAISED, AuditAction.DISMISSED]
    (trace,) = community.traces("smoke_f12")
    assert trace["script_execution"] == "finished"
    assert any((s.get("result") or {}).get("stop") == "Closed by a person" for s in trace["steps"])


async def test_a_bin_full_for_half_an_hour_without_auto_resolve(community: Any) -> None:
    community.write_automations(BIN_RULE)
    await community.start()
    community.place(BIN, "b1-u1", "1单元厨余桶")
    await community.set_state(BIN, "60", PERCENT)
    await community.set_state(BIN, "85", PERCENT)
    await community.advance(timedelta(minutes=20))
    await community.set_state(BIN, "70", PERCENT)  # emptied a little: the timer stops
    await community.set_state(BIN, "90", PERCENT)
    await community.advance(timedelta(minutes=29))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))

    (alert,) = community.alerts()
    assert (alert.kind, alert.severity, alert.area_id) == ("bin_full", Severity.INFO, "b1-u1")
    assert alert.title == "1单元厨余桶：高于 80 %"
    (trace,) = community.traces("kitchen_bin")
    assert trace["script_execution"] == "aborted"  # no auto-resolve: the run ends

    # Emptied and full again while the alert is open: one more occurrence of it.
    await community.set_state(BIN, "10", PERCENT)
    await community.set_state(BIN, "95", PERCENT)
    await community.advance(timedelta(minutes=30))
    (alert,) = community.alerts()
    assert alert.occurrences == 2
    assert alert.state is AlertState.NEW


async def test_below_a_threshold(community: Any) -> None:
    community.write_automations(
        """\
        - id: cold_1202
          use_blueprint:
            path: linli/sensor_threshold_alert.yaml
            input:
              sensor: sensor.room_1202_temperature
              direction: below
              threshold: 5
              duration: {minutes: 15}
              kind: temperature
              title: 1202 室温过低
              assignee: role:grid_worker
        """
    )
    await community.start()
    community.place(TEMPERATURE, "b1-u1-1202", "1202 室温")
    degrees = {"friendly_name": "1202 室温", "unit_of_measurement": "°C"}
    await community.set_state(TEMPERATURE, "12.5", degrees)
    await community.set_state(TEMPERATURE, "8", degrees)  # not below 5
    await community.set_state(TEMPERATURE, "4.5", degrees)
    await community.advance(timedelta(minutes=15))

    (alert,) = community.alerts()
    assert (alert.title, alert.assignee, alert.area_id) == (
        "1202 室温过低",
        "role:grid_worker",
        "b1-u1-1202",
    )
    assert alert.data["direction"] == "below"
    assert "低于阈值 5 °C" in (alert.message or "")

    await community.set_state(TEMPERATURE, "9", degrees)
    await community.advance(timedelta(minutes=5))
    assert community.alerts()[0].state is AlertState.RESOLVED


async def test_the_duration_survives_a_restart(community: Any) -> None:
    community.write_automations(BIN_RULE)
    await community.start()
    community.place(BIN, "b1-u1", "1单元厨余桶")
    await community.set_state(BIN, "60", PERCENT)
    await community.set_state(BIN, "90", PERCENT)
    await community.advance(timedelta(minutes=20))
    await community.restart()
    await community.set_state(BIN, "91", PERCENT)  # still past 80: the timer goes on

    await community.advance(timedelta(minutes=9))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert alert.kind == "bin_full"
    (trace,) = community.traces("kitchen_bin")
    assert trace["trigger"]["late"] is False


async def test_a_duration_that_ran_out_while_down_raises_at_start(community: Any) -> None:
    community.write_automations(BIN_RULE)
    await community.start()
    community.place(BIN, "b1-u1", "1单元厨余桶")
    await community.set_state(BIN, "60", PERCENT)
    await community.set_state(BIN, "90", PERCENT)
    await community.advance(timedelta(minutes=20))
    await community.hub.async_stop()
    community.clock.advance(timedelta(hours=1))

    await community.start()
    (alert,) = get_manager(community.hub).open_alerts()
    assert alert.kind == "bin_full"
    assert alert.data["value"] == 90.0
    (trace,) = community.traces("kitchen_bin")
    assert trace["late"] is True
    assert trace["trigger"]["late"] is True
