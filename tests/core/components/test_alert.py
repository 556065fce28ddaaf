"""The alert integration on a running hub: services, audit trail, dedup, areas, events,
the open-alerts sensor, persistence across a restart and purging."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

import linli.components.alert as alert_component
import linli.components.recorder as recorder_component
from linli import Context, Event, Hub, LinliError, ServiceValidationError, callback
from linli.clock import FakeClock
from linli.components.alert import (
    EVENT_ALERT_RAISED,
    EVENT_ALERT_UPDATED,
    EVENT_ALERTS_PURGED,
    OPEN_ALERTS_ENTITY_ID,
    Alert,
    AlertManager,
    AlertState,
    AuditAction,
    Severity,
    get_manager,
)
from linli.plugins.loader import IntegrationLoader, Status

HubFactory = Callable[..., Awaitable[Hub]]
GUARD = Context(user_id="u-guard")


def ensure_areas(hub: Hub) -> None:
    """A building with a unit and a floor, and a gate zone (kept across restarts)."""
    areas = hub.registries.areas
    if "b3" in areas:
        return
    areas.async_create("building", "3号楼", id="b3")
    areas.async_create("unit", "1单元", "b3", id="b3-u1")
    areas.async_create("floor", "12层", "b3-u1", id="b3-u1-f12", floor_number=12)
    areas.async_create("zone", "东门", id="east-gate")


async def start(
    hub_factory: HubFactory,
    config: dict[str, Any] | None = None,
    config_dir: Path | None = None,
) -> tuple[Hub, IntegrationLoader]:
    hub = await hub_factory(config_dir, start=False)
    ensure_areas(hub)
    loader = IntegrationLoader(hub)
    loader.register(recorder_component, name="recorder")
    loader.register(alert_component, name="alert")
    await loader.async_setup_all({} if config is None else {"alert": config})
    await hub.async_start()
    return hub, loader


async def start_alerts(
    hub_factory: HubFactory,
    config: dict[str, Any] | None = None,
    config_dir: Path | None = None,
) -> tuple[Hub, AlertManager]:
    hub, loader = await start(hub_factory, config, config_dir)
    record = loader.records["alert"]
    assert record.status is Status.loaded, record.reason
    return hub, get_manager(hub)


async def call(
    hub: Hub, service: str, data: dict[str, Any], context: Context | None = None
) -> dict[str, Any]:
    response = await hub.services.async_call(
        "alert", service, data, context=context, return_response=True
    )
    assert response is not None
    return response


async def raise_alert(hub: Hub, context: Context | None = GUARD, **data: Any) -> str:
    payload = {"kind": "falling_object", "title": "3号楼 高空抛物", **data}
    response = await call(hub, "raise", payload, context)
    return str(response["alert_id"])


def stored_alert_ids(config_dir: Path) -> list[str]:
    """The alert ids committed to the hub's SQLite database, oldest first."""
    with closing(sqlite3.connect(config_dir / ".linli" / "linli.db")) as conn:
        rows = conn.execute("SELECT alert_id FROM alerts ORDER BY created_ts, alert_id")
        return [row[0] for row in rows]


def found(manager: AlertManager, alert_id: str) -> Alert:
    alert = manager.get(alert_id)
    assert alert is not None
    return alert


def capture(hub: Hub, *event_types: str) -> list[Event[Any]]:
    events: list[Event[Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        events.append(event)

    for event_type in event_types:
        hub.bus.async_listen(event_type, listener)
    return events


# ---------------------------------------------------------------------- setup
async def test_loads_by_default_with_services_and_an_empty_sensor(hub_factory: HubFactory) -> None:
    hub, loader = await start(hub_factory)
    record = loader.records["alert"]
    assert record.status is Status.loaded
    assert not record.configured  # loaded without an alert: section
    for service in ("raise", "acknowledge", "resolve", "dismiss", "assign", "note"):
        assert hub.services.has_service("alert", service)
    state = hub.states.get(OPEN_ALERTS_ENTITY_ID)
    assert state is not None
    assert state.state == "0"
    assert state.attributes["friendly_name"] == "Open alerts"
    for key in ("info", "warning", "critical", "emergency", "new", "acknowledged"):
        assert state.attributes[key] == 0
    assert get_manager(hub).retention == timedelta(days=180)


async def test_get_manager_without_the_integration(hub: Hub) -> None:
    with pytest.raises(LinliError, match="alert integration is not set up"):
        get_manager(hub)


async def test_invalid_configuration_fails_only_the_integration(hub_factory: HubFactory) -> None:
    hub, loader = await start(
        hub_factory, {"retention_days": 0, "default_assignee_by_kind": {"Bad Kind": "u1"}}
    )
    record = loader.records["alert"]
    assert record.status is Status.failed
    assert "retention_days" in (record.reason or "")
    assert not hub.services.has_service("alert", "raise")


async def test_a_malformed_store_fails_setup_and_is_left_alone(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    config_dir = tmp_path / "broken"
    store = config_dir / ".linli" / "linli.alerts"
    store.parent.mkdir(parents=True)
    content = b'{"version": 1, "key": "linli.alerts", "data": {"alerts": [{"id": "x"}]}}'
    store.write_bytes(content)
    _, loader = await start(hub_factory, config_dir=config_dir)
    record = loader.records["alert"]
    assert record.status is Status.failed
    assert "malformed alert" in (record.reason or "")
    assert store.read_bytes() == content


# ---------------------------------------------------------------------- lifecycle and audit
async def test_lifecycle_builds_the_audit_trail(hub_factory: HubFactory, clock: FakeClock) -> None:
    hub, manager = await start_alerts(hub_factory)
    t0 = clock.utcnow()
    response = await call(
        hub,
        "raise",
        {
            "kind": "falling_object",
            "severity": "critical",
            "title": "3号楼 高空抛物",
            "message": "疑似从12层抛下",
            "area_id": "b3-u1-f12",
            "evidence": [{"kind": "clip", "ref": "cam-7/0301-0800.mp4"}],
            "data": {"floor": 12, "floor_error": 1},
        },
        GUARD,
    )
    assert response["created"] is True
    alert_id = response["alert_id"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", alert_id)  # a ULID

    clock.advance(60)
    staff = Context(user_id="u-staff")
    acked = await call(hub, "acknowledge", {"alert_id": alert_id, "note": "马上到"}, staff)
    assert acked["alert"]["state"] == "acknowledged"
    clock.advance(60)
    await call(hub, "assign", {"alert_id": alert_id, "assignee": "role:police"}, staff)
    clock.advance(60)
    await call(hub, "note", {"alert_id": alert_id, "note": "已报派出所"})  # no user: system
    clock.advance(600)
    police = Context(user_id="u-police")
    await call(hub, "resolve", {"alert_id": alert_id, "note": "已找到责任人"}, police)

    alert = manager.get(alert_id)
    assert alert is not None
    assert alert.state is AlertState.RESOLVED
    assert alert.assignee == "role:police"
    assert alert.area_id == "b3-u1-f12"
    assert alert.severity is Severity.CRITICAL
    assert alert.created_at == t0
    assert alert.updated_at == alert.closed_at == t0 + timedelta(seconds=780)
    assert alert.data == {"floor": 12, "floor_error": 1}
    assert [e.ref for e in alert.evidence] == ["cam-7/0301-0800.mp4"]
    history = [
        (e.action, e.actor, e.at - t0, e.note, e.from_state, e.to_state) for e in alert.history
    ]
    new, ack, resolved = AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.RESOLVED
    assert history == [
        (AuditAction.RAISED, "u-guard", timedelta(0), None, None, new),
        (AuditAction.ACKNOWLEDGED, "u-staff", timedelta(seconds=60), "马上到", new, ack),
        (AuditAction.ASSIGNED, "u-staff", timedelta(seconds=120), None, None, None),
        (AuditAction.NOTE, "system", timedelta(seconds=180), "已报派出所", None, None),
        (AuditAction.RESOLVED, "u-police", timedelta(seconds=780), "已找到责任人", ack, resolved),
    ]
    assert alert.history[2].data == {"assignee": "role:police", "previous": None}
    assert alert.history[1].context_id == staff.id
    assert alert.context_id == GUARD.id
    assert manager.open_alerts() == []


async def test_dismiss_and_invalid_transitions(hub_factory: HubFactory) -> None:
    hub, manager = await start_alerts(hub_factory)
    alert_id = await raise_alert(hub)
    await call(hub, "dismiss", {"alert_id": alert_id, "note": "风吹落的衣服"})
    assert found(manager, alert_id).state is AlertState.DISMISSED
    with pytest.raises(
        ServiceValidationError, match=f"^alert {alert_id} is dismissed; it cannot be acknowledged$"
    ):
        await call(hub, "acknowledge", {"alert_id": alert_id})
    with pytest.raises(ServiceValidationError, match="is dismissed; it cannot be resolved"):
        await call(hub, "resolve", {"alert_id": alert_id})
    with pytest.raises(ServiceValidationError, match="is dismissed; it cannot be assigned"):
        await call(hub, "assign", {"alert_id": alert_id, "assignee": "u-li"})
    # Notes stay possible after closing, and refused changes left no trace.
    await call(hub, "note", {"alert_id": alert_id, "note": "已提醒住户"})
    alert = manager.get(alert_id)
    assert alert is not None
    assert [e.action for e in alert.history] == [
        AuditAction.RAISED,
        AuditAction.DISMISSED,
        AuditAction.NOTE,
    ]

    other = await raise_alert(hub)
    await call(hub, "acknowledge", {"alert_id": other})
    with pytest.raises(ServiceValidationError, match=f"alert {other} is already acknowledged"):
        await call(hub, "acknowledge", {"alert_id": other})
    with pytest.raises(ServiceValidationError, match="unknown alert '01NOPE'"):
        await call(hub, "resolve", {"alert_id": "01NOPE"})


# ---------------------------------------------------------------------- dedup
async def test_dedup_makes_one_alert_until_it_is_closed(
    hub_factory: HubFactory, clock: FakeClock
) -> None:
    hub, manager = await start_alerts(hub_factory)
    events = capture(hub, EVENT_ALERT_RAISED, EVENT_ALERT_UPDATED)
    t0 = clock.utcnow()
    responses = []
    for _ in range(100):
        responses.append(
            await call(
                hub,
                "raise",
                {"kind": "sound_help", "title": "呼救声", "dedup_key": "mic-12:help"},
            )
        )
        clock.advance(5)
    ids = {r["alert_id"] for r in responses}
    assert len(ids) == 1
    assert [r["created"] for r in responses] == [True] + [False] * 99
    assert len(manager) == 1
    [alert] = manager.open_alerts()
    assert alert.occurrences == 100
    assert alert.created_at == t0
    assert alert.last_seen_at == t0 + timedelta(seconds=495)
    assert [e.action for e in alert.history] == [AuditAction.RAISED, AuditAction.REPEATED]
    assert [e.event_type for e in events] == [EVENT_ALERT_RAISED] + [EVENT_ALERT_UPDATED] * 99
    assert {e.data["action"] for e in events[1:]} == {"repeated"}

    # A higher severity escalates the open alert instead of making another.
    escalated = await call(
        hub,
        "raise",
        {
            "kind": "sound_help",
            "title": "呼救声",
            "severity": "emergency",
            "dedup_key": "mic-12:help",
        },
    )
    assert escalated == {"alert_id": alert.id, "created": False}
    assert events[-1].data["action"] == "escalated"
    assert found(manager, alert.id).severity is Severity.EMERGENCY

    # Once resolved, the same key raises a new alert; the old one is left as it was.
    await call(hub, "resolve", {"alert_id": alert.id})
    again = await call(
        hub, "raise", {"kind": "sound_help", "title": "呼救声", "dedup_key": "mic-12:help"}
    )
    assert again["created"] is True
    assert again["alert_id"] != alert.id
    assert found(manager, again["alert_id"]).occurrences == 1
    assert found(manager, alert.id).occurrences == 101
    assert len(manager) == 2


async def test_alerts_without_a_dedup_key_are_never_merged(hub_factory: HubFactory) -> None:
    hub, manager = await start_alerts(hub_factory)
    first = await raise_alert(hub)
    second = await raise_alert(hub)
    assert first != second
    assert [a.id for a in manager.open_alerts()] == [first, second]


# ---------------------------------------------------------------------- areas and queries
async def test_area_comes_from_the_source_entity(hub_factory: HubFactory) -> None:
    hub, manager = await start_alerts(hub_factory)
    devices, entities = hub.registries.devices, hub.registries.entities
    camera = devices.async_get_or_create("cam", identifiers={("cam", "7")}, area_id="b3-u1-f12")
    on_device = entities.async_get_or_create("binary_sensor", "cam", "fall-7", device_id=camera.id)
    own_area = entities.async_get_or_create(
        "binary_sensor", "cam", "gate-1", device_id=camera.id, area_id="east-gate"
    )

    def area_of(alert_id: str) -> str | None:
        alert = manager.get(alert_id)
        assert alert is not None
        return alert.area_id

    inferred = await raise_alert(hub, source_entity_id=on_device.entity_id)
    assert area_of(inferred) == "b3-u1-f12"
    assert area_of(await raise_alert(hub, source_entity_id=own_area.entity_id)) == "east-gate"
    explicit = await raise_alert(hub, source_entity_id=on_device.entity_id, area_id="b3")
    assert area_of(explicit) == "b3"
    # Not registered, or nothing given: the whole community.
    unplaced = await raise_alert(hub, source_entity_id="sensor.not_registered")
    assert area_of(unplaced) == "community"
    assert found(manager, unplaced).source_entity_id == "sensor.not_registered"
    with pytest.raises(ServiceValidationError, match="unknown area 'b99'"):
        await raise_alert(hub, area_id="b99")

    assert [a.id for a in manager.open_alerts(area_id="b3")] == [inferred, explicit]
    assert [a.id for a in manager.open_alerts(area_id="b3", include_descendants=False)] == [
        explicit
    ]
    assert len(manager.open_alerts(area_id="community")) == 4
    assert manager.open_alerts(area_id="community", include_descendants=False)[0].id == unplaced


async def test_queries_filter_by_state_kind_time_and_area(
    hub_factory: HubFactory, clock: FakeClock
) -> None:
    hub, manager = await start_alerts(hub_factory)
    fall = await raise_alert(hub, area_id="b3-u1-f12")
    clock.advance(3600)
    since = clock.utcnow()
    ebike = await raise_alert(hub, kind="ebike_in_elevator", title="电梯内电动车", area_id="b3-u1")
    gate = await raise_alert(hub, kind="no_activity", title="独居老人无活动", area_id="east-gate")
    await call(hub, "resolve", {"alert_id": fall})
    await call(hub, "acknowledge", {"alert_id": gate})

    def ids(alerts: list[Any]) -> list[str]:
        return [a.id for a in alerts]

    assert ids(manager.alerts()) == [fall, ebike, gate]
    assert ids(manager.alerts(states=["resolved"])) == [fall]
    assert ids(manager.alerts(states=[AlertState.NEW, "acknowledged"])) == [ebike, gate]
    assert ids(manager.alerts(kinds=["no_activity", "ebike_in_elevator"])) == [ebike, gate]
    assert ids(manager.alerts(since=since)) == [ebike, gate]
    assert ids(manager.alerts(area_id="b3")) == [fall, ebike]
    assert ids(manager.alerts(area_id="b3", states=["new"], since=since)) == [ebike]
    assert ids(manager.open_alerts()) == [ebike, gate]


# ---------------------------------------------------------------------- events and sensor
async def test_every_change_fires_an_event_with_the_alert(hub_factory: HubFactory) -> None:
    hub, _ = await start_alerts(hub_factory)
    events = capture(hub, EVENT_ALERT_RAISED, EVENT_ALERT_UPDATED)
    alert_id = await raise_alert(hub, area_id="b3")
    staff = Context(user_id="u-staff")
    for service, extra in [
        ("acknowledge", {}),
        ("assign", {"assignee": "u-li"}),
        ("note", {"note": "已到场"}),
        ("resolve", {}),
    ]:
        await call(hub, service, {"alert_id": alert_id, **extra}, staff)
    assert [(e.event_type, e.data["action"]) for e in events] == [
        (EVENT_ALERT_RAISED, "raised"),
        (EVENT_ALERT_UPDATED, "acknowledged"),
        (EVENT_ALERT_UPDATED, "assigned"),
        (EVENT_ALERT_UPDATED, "note"),
        (EVENT_ALERT_UPDATED, "resolved"),
    ]
    assert all(e.data["alert_id"] == alert_id for e in events)
    assert events[0].context is GUARD
    assert all(e.context is staff for e in events[1:])
    assert events[0].data["alert"]["state"] == "new"
    assert events[0].data["alert"]["area_id"] == "b3"
    assert events[-1].data["alert"]["state"] == "resolved"
    assert len(events[-1].data["alert"]["history"]) == 5
    orjson.dumps(events[-1].data)  # ready for the WebSocket API as it is


async def test_open_alerts_sensor_counts_by_severity_and_state(hub_factory: HubFactory) -> None:
    hub, _ = await start_alerts(hub_factory)

    def sensor() -> tuple[str, dict[str, Any]]:
        state = hub.states.get(OPEN_ALERTS_ENTITY_ID)
        assert state is not None
        return state.state, {
            k: state.attributes[k]
            for k in ("info", "warning", "critical", "emergency", "new", "acknowledged")
        }

    first = await raise_alert(hub, severity="critical")
    await raise_alert(hub)
    second = await raise_alert(hub)
    assert sensor() == (
        "3",
        {"info": 0, "warning": 2, "critical": 1, "emergency": 0, "new": 3, "acknowledged": 0},
    )
    await call(hub, "acknowledge", {"alert_id": first})
    await call(hub, "dismiss", {"alert_id": second})
    assert sensor() == (
        "2",
        {"info": 0, "warning": 1, "critical": 1, "emergency": 0, "new": 1, "acknowledged": 1},
    )
    context = Context(user_id="u-staff")
    await call(hub, "resolve", {"alert_id": first}, context)
    state = hub.states.get(OPEN_ALERTS_ENTITY_ID)
    assert state is not None
    assert state.state == "1"
    assert state.context is context  # the sensor says what changed it


# ---------------------------------------------------------------------- configuration
async def test_default_assignee_by_kind(hub_factory: HubFactory) -> None:
    hub, manager = await start_alerts(
        hub_factory,
        {"default_assignee_by_kind": {"no_activity": "role:grid_worker"}, "retention_days": 30},
    )
    assert manager.retention == timedelta(days=30)
    default = await raise_alert(hub, kind="no_activity", title="独居老人12小时无用水")
    given = await raise_alert(hub, kind="no_activity", title="独居老人", assignee="u-wang")
    other = await raise_alert(hub)
    assert found(manager, default).assignee == "role:grid_worker"
    assert found(manager, given).assignee == "u-wang"
    assert found(manager, other).assignee is None


# ---------------------------------------------------------------------- schemas
@pytest.mark.parametrize(
    ("service", "data", "message"),
    [
        ("raise", {"kind": "falling_object"}, "title: required key not provided"),
        ("raise", {"kind": "Falling Object", "title": "x"}, "kind: invalid alert kind"),
        ("raise", {"kind": "fall", "title": "x", "severity": "urgent"}, "severity: invalid"),
        ("raise", {"kind": "fall", "title": ""}, "title: title must be a non-empty string"),
        (
            "raise",
            {"kind": "fall", "title": "x", "evidence": [{"kind": "photo", "ref": "a"}]},
            "evidence.0: invalid evidence kind 'photo'",
        ),
        ("raise", {"kind": "fall", "title": "x", "data": "text"}, "data: data must be a mapping"),
        (
            "raise",
            {"kind": "fall", "title": "x", "source_entity_id": "not an entity"},
            "source_entity_id: invalid entity ID",
        ),
        ("raise", {"kind": "fall", "title": "x", "assignee": "role:"}, "assignee: invalid role"),
        ("raise", {"kind": "fall", "title": "x", "colour": "red"}, "extra keys not allowed"),
        ("acknowledge", {}, "alert_id: required key not provided"),
        ("assign", {"alert_id": "01A"}, "assignee: required key not provided"),
        ("note", {"alert_id": "01A", "note": "  "}, "note: note must be a non-empty string"),
        ("resolve", {"alert_id": "01A", "note": "x" * 2001}, "note: note is too long"),
    ],
)
async def test_service_schema_errors(
    hub_factory: HubFactory, service: str, data: dict[str, Any], message: str
) -> None:
    hub, manager = await start_alerts(hub_factory)
    with pytest.raises(ServiceValidationError, match=re.escape(message)):
        await call(hub, service, data)
    assert len(manager) == 0


async def test_raise_accepts_single_evidence_and_empty_optional_values(
    hub_factory: HubFactory,
) -> None:
    hub, manager = await start_alerts(hub_factory)
    alert_id = await raise_alert(
        hub,
        message=None,
        assignee=None,
        evidence={
            "kind": "snapshot",
            "ref": "cam-7/1.jpg",
            "captured_at": "2026-03-01T16:00:00+08:00",
        },
    )
    alert = manager.get(alert_id)
    assert alert is not None
    assert alert.message is None
    assert [e.as_dict() for e in alert.evidence] == [
        {"kind": "snapshot", "ref": "cam-7/1.jpg", "captured_at": "2026-03-01T08:00:00+00:00"}
    ]


# ---------------------------------------------------------------------- persistence and purge
async def test_alerts_and_their_history_survive_a_restart(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub, manager = await start_alerts(hub_factory, config_dir=config_dir)
    staff = Context(user_id="u-staff")
    handled = await raise_alert(hub, area_id="b3-u1-f12", data={"floor": 12})
    clock.advance(30)
    await call(hub, "acknowledge", {"alert_id": handled, "note": "收到"}, staff)
    await call(hub, "assign", {"alert_id": handled, "assignee": "role:police"}, staff)
    clock.advance(30)
    await call(hub, "resolve", {"alert_id": handled}, staff)
    flapping = ""
    for _ in range(3):
        flapping = await raise_alert(
            hub, kind="sound_help", title="呼救声", dedup_key="mic-12", context=None
        )
        clock.advance(1)
    before = manager.alerts()
    sensor_before = hub.states.get(OPEN_ALERTS_ENTITY_ID)
    await hub.async_stop()

    assert stored_alert_ids(config_dir) == [handled, flapping]

    hub2, manager2 = await start_alerts(hub_factory, config_dir=config_dir)
    after = manager2.alerts()
    assert after == before
    assert [a.as_dict() for a in after] == [a.as_dict() for a in before]
    assert [e.action for e in after[0].history] == [
        AuditAction.RAISED,
        AuditAction.ACKNOWLEDGED,
        AuditAction.ASSIGNED,
        AuditAction.RESOLVED,
    ]
    sensor_after = hub2.states.get(OPEN_ALERTS_ENTITY_ID)
    assert sensor_before is not None
    assert sensor_after is not None
    assert sensor_after.state == sensor_before.state == "1"
    assert sensor_after.attributes == sensor_before.attributes
    # The open alert still holds its dedup key after the restart.
    response = await call(
        hub2, "raise", {"kind": "sound_help", "title": "呼救声", "dedup_key": "mic-12"}
    )
    assert response == {"alert_id": flapping, "created": False}
    assert found(manager2, flapping).occurrences == 4

    # A change after the restart is kept with every other alert.
    expected = [a.as_dict() for a in manager2.alerts()]
    await hub2.async_stop()
    _, manager3 = await start_alerts(hub_factory, config_dir=config_dir)
    assert [a.as_dict() for a in manager3.alerts()] == expected


async def test_changes_are_committed_before_they_are_announced(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub, _ = await start_alerts(hub_factory, config_dir=config_dir)
    seen: list[list[str]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(stored_alert_ids(config_dir))

    hub.bus.async_listen(EVENT_ALERT_RAISED, listener)
    alert_id = await raise_alert(hub)
    assert seen == [[alert_id]]  # no delay, no batching: a ledger row
    assert stored_alert_ids(config_dir) == [alert_id]


async def test_old_closed_alerts_are_purged_daily(
    hub_factory: HubFactory, clock: FakeClock
) -> None:
    hub, manager = await start_alerts(hub_factory, {"retention_days": 30})
    purged = capture(hub, EVENT_ALERTS_PURGED)
    resolved = await raise_alert(hub)
    dismissed = await raise_alert(hub)
    still_open = await raise_alert(hub)
    clock.advance(timedelta(days=5))
    late = await raise_alert(hub)
    await call(hub, "resolve", {"alert_id": resolved})
    await call(hub, "dismiss", {"alert_id": dismissed})
    await call(hub, "resolve", {"alert_id": late})
    await hub.async_block_till_done()

    clock.advance(timedelta(days=29))
    await hub.async_block_till_done()
    assert len(manager) == 4  # closed 29 days ago: kept
    clock.advance(timedelta(days=2))
    await hub.async_block_till_done()
    # Past retention at the next daily purge: gone, however old the alert itself; open
    # alerts are never purged.
    assert [a.id for a in manager.alerts()] == [still_open]
    assert sorted(purged[0].data["alert_ids"]) == sorted([resolved, dismissed, late])
    assert manager.get(resolved) is None
    with pytest.raises(ServiceValidationError, match="unknown alert"):
        await call(hub, "note", {"alert_id": resolved, "note": "too late"})


async def test_expired_alerts_are_purged_at_start(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub, _ = await start_alerts(hub_factory, config_dir=config_dir)
    old = await raise_alert(hub)
    kept = await raise_alert(hub)
    await call(hub, "resolve", {"alert_id": old})
    await hub.async_stop()

    clock.advance(timedelta(days=181))  # the hub is down: no daily purge runs
    _, manager = await start_alerts(hub_factory, config_dir=config_dir)
    assert [a.id for a in manager.alerts()] == [kept]
