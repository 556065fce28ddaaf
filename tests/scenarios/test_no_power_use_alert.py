"""The shipped ``linli/no_power_use_alert.yaml``: the electricity (and water) pilots.

Flat 1201's meter is read at 06:00 and again at 12:00; less than 0.1 kWh between them raises a
``no_power_use`` alert for the grid worker. The wait is a persisted delay, so a restart during
the window changes nothing and a window that ended while the hub was down is checked at start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.components.alert import AlertState, Severity

METER = "sensor.room_1201_energy"
WATER = "sensor.room_1202_water"
AWAY = "input_boolean.room_1201_away"
KWH = {"friendly_name": "1201 电表", "unit_of_measurement": "kWh", "device_class": "energy"}

POWER_1201 = """\
- id: power_1201
  alias: 1201 用电监测
  use_blueprint:
    path: linli/no_power_use_alert.yaml
    input:
      meter: sensor.room_1201_energy
"""


async def _meter_read_at_six(community: Any, extra_inputs: str = "") -> None:
    """Start the hub at 05:00, place the meter at 1520.40 kWh, let 06:00 (first reading) pass."""
    await community.move_to("2026-03-02 05:00")
    community.write_automations(POWER_1201 + extra_inputs)
    await community.start()
    community.place(METER, "b1-u1-1201", "1201 电表")
    await community.set_state(METER, "1520.40", KWH)
    await community.advance(timedelta(hours=1))
    assert community.now().hour == 6


def _stop_reason(trace: dict[str, Any]) -> str | None:
    for step in trace["steps"]:
        result = step.get("result") or {}
        if "stop" in result:
            return str(result["stop"])
    return None


async def test_too_little_use_by_noon_raises_an_alert(community: Any) -> None:
    await _meter_read_at_six(community)
    await community.advance(timedelta(hours=3))
    await community.set_state(METER, "1520.45", KWH)  # the fridge only
    await community.advance(timedelta(hours=2, minutes=59))
    assert community.alerts() == []

    await community.advance(timedelta(minutes=1))  # 12:00
    (alert,) = community.alerts()
    assert alert.kind == "no_power_use"
    assert alert.severity is Severity.WARNING
    assert alert.state is AlertState.NEW
    assert alert.area_id == "b1-u1-1201"
    assert alert.assignee == "role:grid_worker"
    assert alert.dedup_key == f"no_power_use:{METER}"
    assert alert.title == "1201 电表：06:00–12:00 用量过低"
    assert "1201 电表 在 06:00–12:00 仅增加 0.05 kWh" in (alert.message or "")
    assert "Checked late" not in (alert.message or "")
    assert alert.data == {
        "entity_id": METER,
        "window": "06:00–12:00",
        "start_reading": 1520.4,
        "end_reading": 1520.45,
        "used": 0.05,
        "min_increase": 0.1,
        "late": False,
    }
    assert community.now().hour == 12
    assert alert.created_at == community.clock.utcnow()


async def test_enough_use_raises_nothing(community: Any) -> None:
    await _meter_read_at_six(community)
    await community.advance(timedelta(hours=1))
    await community.set_state(METER, "1520.90", KWH)  # breakfast: the kettle, the rice cooker
    await community.advance(timedelta(hours=5))
    assert community.alerts() == []
    (trace,) = community.traces("power_1201")
    assert trace["script_execution"] == "finished"
    assert _stop_reason(trace) == "Enough use"

    # The next morning is checked again: only the fridge this time.
    await community.move_to("2026-03-03 11:00")
    await community.set_state(METER, "1520.95", KWH)
    await community.advance(timedelta(hours=1))
    (alert,) = community.alerts()
    assert alert.data["start_reading"] == 1520.9
    assert alert.data["used"] == 0.05


async def test_a_meter_that_went_backwards_is_not_judged(community: Any) -> None:
    await _meter_read_at_six(community)
    await community.set_state(METER, "0.02", KWH)  # a new meter
    await community.advance(timedelta(hours=6))
    assert community.alerts() == []
    (trace,) = community.traces("power_1201")
    assert _stop_reason(trace) == ("The meter went backwards (replaced or reset); not judged today")


async def test_a_restart_during_the_window_changes_nothing(community: Any) -> None:
    await _meter_read_at_six(community)
    await community.advance(timedelta(hours=3))
    await community.restart()  # 09:00: the run waits in its persisted delay
    await community.set_state(METER, "1520.46", KWH)

    await community.advance(timedelta(hours=2, minutes=59))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert alert.data["start_reading"] == 1520.4  # read before the restart
    assert alert.data["used"] == 0.06
    assert alert.data["late"] is False
    (trace,) = community.traces("power_1201")
    assert trace["resumed_after_restart"] is True
    assert trace["late"] is False
    assert trace["script_execution"] == "finished"


async def test_a_window_that_ended_while_the_hub_was_down_is_checked_at_start(
    community: Any,
) -> None:
    await _meter_read_at_six(community)
    await community.advance(timedelta(hours=3))
    await community.hub.async_stop()  # down at 09:00 …
    await community.move_to("2026-03-02 13:30")  # … until 13:30
    await community.start()
    assert community.alerts() == []  # the meter has not reported yet: it gets some minutes

    await community.advance(timedelta(minutes=2))
    await community.set_state(METER, "1520.41", KWH)
    (alert,) = community.alerts()
    assert alert.data["late"] is True
    assert alert.data["used"] == 0.01
    assert "Checked late: the hub was down at the window's end." in (alert.message or "")
    (trace,) = community.traces("power_1201")
    assert trace["late"] is True
    assert trace["resumed_after_restart"] is True
    delay = next(step for step in trace["steps"] if step["path"] == "action/1")
    assert delay["result"]["late"] is True


async def test_a_meter_without_reading_raises_after_ten_minutes(community: Any) -> None:
    await _meter_read_at_six(community)
    await community.set_state(METER, "unavailable", KWH)
    await community.advance(timedelta(hours=6))  # 12:00: no number to read
    await community.advance(timedelta(minutes=9))
    assert community.alerts() == []
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert alert.data["end_reading"] is None
    assert alert.data["used"] is None
    assert "没有读数" in (alert.message or "")


async def test_the_away_switch_keeps_the_rule_quiet(community: Any) -> None:
    await _meter_read_at_six(community, "      away_entity: input_boolean.room_1201_away\n")
    await community.set_state(AWAY, "on")
    await community.advance(timedelta(hours=6))
    assert community.alerts() == []
    (trace,) = community.traces("power_1201")
    assert trace["script_execution"] == "aborted"


async def test_water_over_night_with_its_own_kind_and_threshold(community: Any) -> None:
    await community.move_to("2026-03-02 19:00")
    community.write_automations(
        """\
        - id: water_1202
          use_blueprint:
            path: linli/no_power_use_alert.yaml
            input:
              meter: sensor.room_1202_water
              window_start: "20:00:00"
              window_end: "08:00:00"
              min_increase: 0.01
              kind: no_water_use
              severity: critical
        """
    )
    await community.start()
    community.place(WATER, "b1-u1-1202", "1202 水表")
    m3 = {"friendly_name": "1202 水表", "unit_of_measurement": "m³"}
    await community.set_state(WATER, "88.120", m3)
    await community.advance(timedelta(hours=1))  # 20:00
    await community.set_state(WATER, "88.124", m3)
    await community.advance(timedelta(hours=11, minutes=59))
    assert community.alerts() == []  # 07:59 the next day
    await community.advance(timedelta(minutes=1))
    (alert,) = community.alerts()
    assert (alert.kind, alert.severity, alert.area_id) == (
        "no_water_use",
        Severity.CRITICAL,
        "b1-u1-1202",
    )
    assert alert.dedup_key == f"no_water_use:{WATER}"
    assert alert.title == "1202 水表：20:00–08:00 用量过低"
    assert alert.data["used"] == 0.004
    assert "仅增加 0.004 m³" in (alert.message or "")


async def test_a_whole_day_window_checks_every_day(community: Any) -> None:
    await community.move_to("2026-03-02 06:00")
    community.write_automations(
        POWER_1201
        + """\
      window_start: "07:00:00"
      window_end: "07:00:00"
      min_increase: 0.5
"""
    )
    await community.start()
    community.place(METER, "b1-u1-1201", "1201 电表")
    await community.set_state(METER, "100.0", KWH)
    await community.advance(timedelta(hours=1))  # 07:00 on day 1: first reading
    await community.set_state(METER, "102.0", KWH)
    await community.advance(timedelta(hours=24))  # day 2: 2 kWh used, and a new reading
    assert community.alerts() == []
    await community.set_state(METER, "102.3", KWH)
    await community.advance(timedelta(hours=24))  # day 3: 0.3 kWh used

    (alert,) = community.alerts()
    assert alert.title == "1201 电表：07:00–07:00 用量过低"
    assert (alert.data["start_reading"], alert.data["used"]) == (102.0, 0.3)
    traces = community.traces("power_1201")
    assert [t["script_execution"] for t in traces] == ["finished", "finished", None]
    assert traces[-1]["state"] == "running"  # day 3's run waits for day 4
