"""The shipped ``linli/escalate_unacknowledged_alert.yaml``: nobody acknowledged it in time.

A no-activity alert for the grid worker that nobody acknowledges in 30 minutes is assigned to
the property staff on duty, with a note in its audit trail and a ``linli_notify`` event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.bus import Event
from linli.callback import callback
from linli.components.alert import AlertState, AuditAction

DOOR = "binary_sensor.room_1201_door"

ESCALATE = """\
- id: escalate_to_staff
  alias: 30 分钟未确认转物业
  use_blueprint:
    path: linli/escalate_unacknowledged_alert.yaml
    input:
      alert_kinds: [no_activity, no_power_use]
"""


async def _start(community: Any, automations: str = ESCALATE) -> list[dict[str, Any]]:
    """Start the hub; return the data of every ``linli_notify`` event fired from then on."""
    community.write_automations(automations)
    hub = await community.start()
    notified: list[dict[str, Any]] = []

    @callback
    def on_notify(event: Event[dict[str, Any]]) -> None:
        notified.append(dict(event.data))

    hub.bus.async_listen("linli_notify", on_notify)
    return notified


async def _raise(community: Any, **data: Any) -> str:
    data.setdefault("kind", "no_activity")
    data.setdefault("severity", "warning")
    data.setdefault("title", "1201 入户门：24 小时无活动")
    data.setdefault("area_id", "b1-u1-1201")
    data.setdefault("assignee", "role:grid_worker")
    response = await community.hub.services.async_call(
        "alert", "raise", data, blocking=True, return_response=True
    )
    await community.hub.async_block_till_done()
    return str(response["alert_id"])


async def _call(community: Any, service: str, **data: Any) -> None:
    await community.hub.services.async_call("alert", service, data, blocking=True)
    await community.hub.async_block_till_done()


async def test_an_alert_nobody_acknowledges_goes_to_the_staff(community: Any) -> None:
    notified = await _start(community)
    alert_id = await _raise(community)

    await community.advance(timedelta(minutes=29, seconds=59))
    assert community.alerts()[0].assignee == "role:grid_worker"
    assert notified == []
    await community.advance(timedelta(seconds=1))

    (alert,) = community.alerts()
    assert alert.id == alert_id
    assert alert.assignee == "role:staff"
    assert alert.state is AlertState.NEW  # escalated, still waiting for someone
    assigned = alert.history[-1]
    assert [e.action for e in alert.history] == [AuditAction.RAISED, AuditAction.ASSIGNED]
    assert assigned.actor == "system"
    assert assigned.data == {"assignee": "role:staff", "previous": "role:grid_worker"}
    assert assigned.note == (
        "30 分钟内无人确认，升级转交 role:staff。Not acknowledged within 30 minutes: "
        "escalated to role:staff."
    )
    assert notified == [
        {
            "role": "role:staff",
            "alert_id": alert_id,
            "kind": "no_activity",
            "severity": "warning",
            "title": "1201 入户门：24 小时无活动",
            "area_id": "b1-u1-1201",
            "previous_assignee": "role:grid_worker",
            "reason": "unacknowledged",
            "minutes": 30,
        }
    ]


async def test_an_acknowledged_alert_is_left_alone(community: Any) -> None:
    notified = await _start(community)
    alert_id = await _raise(community)
    await community.advance(timedelta(minutes=10))
    await _call(community, "note", alert_id=alert_id, note="电话未接通")  # not an answer
    await community.advance(timedelta(minutes=5))
    await _call(community, "acknowledge", alert_id=alert_id, note="网格员已上门")
    await community.advance(timedelta(hours=1))

    (alert,) = community.alerts()
    assert alert.assignee == "role:grid_worker"
    assert AuditAction.ASSIGNED not in [e.action for e in alert.history]
    assert notified == []
    (trace,) = community.traces("escalate_to_staff")
    assert trace["script_execution"] == "finished"
    assert any(
        (step.get("result") or {}).get("stop") == "Acknowledged or closed in time"
        for step in trace["steps"]
    )


async def test_each_alert_waits_on_its_own(community: Any) -> None:
    notified = await _start(community)
    first = await _raise(community, dedup_key="no_activity:1201")
    await community.advance(timedelta(minutes=10))
    second = await _raise(
        community, kind="no_power_use", area_id="b1-u1-1202", title="1202 电表：用量过低"
    )
    await _call(community, "resolve", alert_id=second, note="老人在家，刚出门买菜")
    await community.advance(timedelta(minutes=20))  # the first one's 30 minutes are up

    assert [n["alert_id"] for n in notified] == [first]
    await community.advance(timedelta(minutes=30))
    assert [n["alert_id"] for n in notified] == [first]
    by_id = {alert.id: alert for alert in community.alerts()}
    assert by_id[first].assignee == "role:staff"
    assert by_id[second].assignee == "role:grid_worker"
    assert by_id[second].state is AlertState.RESOLVED


async def test_other_kinds_lower_severities_and_the_same_role_are_not_escalated(
    community: Any,
) -> None:
    notified = await _start(community)
    await _raise(community, kind="ebike_in_elevator", title="电动车进入电梯")
    await _raise(community, severity="info", title="提示", dedup_key="info")
    await _raise(community, assignee="role:staff", title="已给物业", dedup_key="staff")
    await community.advance(timedelta(hours=2))
    assert notified == []
    assert [a.assignee for a in community.alerts()] == [
        "role:grid_worker",
        "role:grid_worker",
        "role:staff",
    ]
    assert {t["script_execution"] for t in community.traces("escalate_to_staff")} == {
        "failed_conditions"
    }


async def test_two_levels_with_two_automations(community: Any) -> None:
    notified = await _start(
        community,
        ESCALATE
        + """\
- id: escalate_to_admin
  use_blueprint:
    path: linli/escalate_unacknowledged_alert.yaml
    input:
      min_severity: critical
      wait: {hours: 2}
      escalate_to: role:admin
""",
    )
    alert_id = await _raise(community, severity="critical")
    await community.advance(timedelta(minutes=30))
    await community.advance(timedelta(minutes=90))
    (alert,) = community.alerts()
    assert [(e.action, e.data.get("assignee")) for e in alert.history] == [
        (AuditAction.RAISED, "role:grid_worker"),
        (AuditAction.ASSIGNED, "role:staff"),
        (AuditAction.ASSIGNED, "role:admin"),
    ]
    assert [(n["role"], n["alert_id"], n["minutes"]) for n in notified] == [
        ("role:staff", alert_id, 30),
        ("role:admin", alert_id, 120),
    ]


async def test_the_no_activity_rule_and_its_escalation_together(community: Any) -> None:
    notified = await _start(
        community,
        ESCALATE
        + """\
- id: elder_1201
  use_blueprint:
    path: linli/no_activity_alert.yaml
    input:
      activity_entity: binary_sensor.room_1201_door
""",
    )
    community.place(DOOR, "b1-u1-1201", "1201 入户门")
    await community.set_state(DOOR, "off")
    await community.advance(timedelta(hours=24))
    (alert,) = community.alerts()
    assert alert.assignee == "role:grid_worker"
    await community.advance(timedelta(minutes=30))
    (alert,) = community.alerts()
    assert alert.assignee == "role:staff"
    assert [(n["alert_id"], n["area_id"]) for n in notified] == [(alert.id, "b1-u1-1201")]
