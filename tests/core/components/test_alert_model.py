"""The pure alert model: validation, the state machine, repeats, the audit trail, plain data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from linli.components.alert import (
    Alert,
    AlertError,
    AlertState,
    AuditAction,
    Evidence,
    EvidenceKind,
    InvalidTransitionError,
    Severity,
)
from linli.components.alert.model import Stamp
from linli.exceptions import ServiceValidationError

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def stamp(actor: str = "system", minutes: float = 0, context_id: str | None = "ctx") -> Stamp:
    return Stamp(actor, T0 + timedelta(minutes=minutes), context_id)


def make(**kwargs: object) -> Alert:
    fields: dict[str, object] = {"kind": "falling_object", "title": "3号楼 高空抛物"}
    fields.update(kwargs)
    return Alert.create("01ALERT", stamp("u-guard"), **fields)  # type: ignore[arg-type]


def test_create_fills_fields_and_starts_the_history() -> None:
    snapshot = Evidence(EvidenceKind.SNAPSHOT, "media/abc.jpg", T0)
    alert = make(
        severity="CRITICAL",
        message="  疑似从12层抛下  ",
        evidence=[snapshot],
        dedup_key="cam-7:fall",
        assignee="role:staff",
        data={"floor": 12, "confidence": 0.7},
    )
    assert alert.severity is Severity.CRITICAL
    assert alert.message == "疑似从12层抛下"  # stripped
    assert alert.state is AlertState.NEW
    assert alert.is_open
    assert alert.occurrences == 1
    assert alert.created_at == alert.updated_at == alert.last_seen_at == T0
    assert alert.closed_at is None
    assert alert.context_id == "ctx"
    assert alert.evidence == (snapshot,)
    [raised] = alert.history
    assert raised.action is AuditAction.RAISED
    assert (raised.actor, raised.at, raised.to_state) == ("u-guard", T0, AlertState.NEW)
    assert raised.from_state is None
    assert raised.data == {"assignee": "role:staff"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "Falling Object"}, "invalid alert kind 'Falling Object'"),
        ({"kind": "1st"}, "invalid alert kind"),
        ({"title": "   "}, "title must be a non-empty string"),
        ({"title": "x" * 201}, "title is too long (201 characters, at most 200)"),
        ({"severity": "urgent"}, "invalid severity 'urgent': use one of info, warning"),
        ({"assignee": "role:Night Shift"}, "invalid assignee 'role:Night Shift'"),
        ({"assignee": "role:"}, "invalid role 'role:'"),
        ({"data": {"blob": "x" * 5000}}, "data is too large"),
        ({"data": {"when": object()}}, "data must be JSON-serialisable"),
        ({"data": ["not", "a", "dict"]}, "data must be a mapping, not list"),
        ({"dedup_key": ""}, "dedup_key must be a non-empty string"),
    ],
)
def test_create_refuses_invalid_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(AlertError, match=re.escape(message)):
        make(**fields)


def test_alert_errors_are_service_validation_errors() -> None:
    assert issubclass(AlertError, ServiceValidationError)
    assert issubclass(InvalidTransitionError, AlertError)


def test_data_is_copied_as_json() -> None:
    source = {"nested": {"values": [1, 2]}, "at": T0}
    alert = make(data=source)
    source["nested"]["values"].append(3)  # type: ignore[index]
    assert alert.data == {"nested": {"values": [1, 2]}, "at": "2026-03-01T08:00:00+00:00"}


ALLOWED = {
    (AlertState.NEW, AlertState.ACKNOWLEDGED),
    (AlertState.NEW, AlertState.RESOLVED),
    (AlertState.NEW, AlertState.DISMISSED),
    (AlertState.ACKNOWLEDGED, AlertState.RESOLVED),
    (AlertState.ACKNOWLEDGED, AlertState.DISMISSED),
}


def in_state(state: AlertState) -> Alert:
    alert = make()
    if state is AlertState.NEW:
        return alert
    if state is AlertState.ACKNOWLEDGED:
        return alert.acknowledge(stamp(minutes=1))
    return alert.transition(state, stamp(minutes=1))


@pytest.mark.parametrize("source", list(AlertState))
@pytest.mark.parametrize("target", list(AlertState))
def test_state_machine(source: AlertState, target: AlertState) -> None:
    alert = in_state(source)
    if (source, target) in ALLOWED:
        moved = alert.transition(target, stamp("u-staff", minutes=5), note="on my way")
        assert moved.state is target
        entry = moved.history[-1]
        assert (entry.from_state, entry.to_state) == (source, target)
        assert (entry.actor, entry.note, entry.at) == (
            "u-staff",
            "on my way",
            T0 + timedelta(minutes=5),
        )
        assert entry.action.value == target.value
        assert moved.updated_at == T0 + timedelta(minutes=5)
        closed = target in (AlertState.RESOLVED, AlertState.DISMISSED)
        assert moved.closed_at == (T0 + timedelta(minutes=5) if closed else None)
        assert moved.is_open is not closed
        assert alert.state is source  # the original is unchanged
        return
    if source is target:
        expected = f"alert 01ALERT is already {source.value}"
    else:
        verb = "reopened" if target is AlertState.NEW else target.value
        expected = f"alert 01ALERT is {source.value}; it cannot be {verb}"
    with pytest.raises(InvalidTransitionError) as err:
        alert.transition(target, stamp(minutes=5))
    assert str(err.value) == expected


def test_resolved_alert_cannot_be_acknowledged_message() -> None:
    resolved = make().resolve(stamp(minutes=1))
    with pytest.raises(
        InvalidTransitionError, match=r"^alert 01ALERT is resolved; it cannot be acknowledged$"
    ):
        resolved.acknowledge(stamp(minutes=2))


def test_assign_records_old_and_new_and_is_refused_when_closed() -> None:
    alert = make(assignee="role:staff")
    assigned = alert.assign("u-li", stamp("u-boss", minutes=3), note="你去看看")
    assert assigned.assignee == "u-li"
    entry = assigned.history[-1]
    assert entry.action is AuditAction.ASSIGNED
    assert entry.data == {"assignee": "u-li", "previous": "role:staff"}
    assert (entry.actor, entry.note) == ("u-boss", "你去看看")
    with pytest.raises(AlertError, match="invalid assignee"):
        alert.assign("two words", stamp())
    dismissed = assigned.dismiss(stamp(minutes=4))
    with pytest.raises(InvalidTransitionError, match="is dismissed; it cannot be assigned"):
        dismissed.assign("u-wang", stamp(minutes=5))


def test_notes_are_allowed_in_every_state() -> None:
    closed = make().resolve(stamp(minutes=1))
    noted = closed.add_note("回访: 已处理", stamp("u-staff", minutes=60))
    assert noted.state is AlertState.RESOLVED
    assert noted.history[-1].action is AuditAction.NOTE
    assert noted.history[-1].note == "回访: 已处理"
    assert noted.closed_at == closed.closed_at  # a later note does not extend retention
    with pytest.raises(AlertError, match="note must be a non-empty string"):
        closed.add_note(" ", stamp())


def test_repeats_count_coalesce_escalate_and_add_evidence() -> None:
    first = Evidence(EvidenceKind.CLIP, "clip-1")
    alert = make(severity="warning", evidence=[first])
    for minute in range(1, 5):
        alert = alert.repeat(
            stamp("system", minutes=minute),
            evidence=[first, Evidence(EvidenceKind.CLIP, f"clip-{minute + 1}")],
        )
    assert alert.occurrences == 5
    assert alert.last_seen_at == alert.updated_at == T0 + timedelta(minutes=4)
    assert alert.created_at == T0
    assert [e.ref for e in alert.evidence] == ["clip-1", "clip-2", "clip-3", "clip-4", "clip-5"]
    # A run of repeats by one actor is one audit entry.
    assert [e.action for e in alert.history] == [AuditAction.RAISED, AuditAction.REPEATED]
    assert alert.history[-1].at == T0 + timedelta(minutes=1)

    # Another actor's repeat is recorded; a higher severity escalates, a lower one does not.
    alert = alert.repeat(stamp("u-resident", minutes=10), severity="critical")
    assert alert.severity is Severity.CRITICAL
    assert [e.action for e in alert.history[-2:]] == [AuditAction.REPEATED, AuditAction.ESCALATED]
    assert alert.history[-1].data == {"from": "warning", "to": "critical"}
    alert = alert.repeat(stamp("u-resident", minutes=11), severity="info")
    assert alert.severity is Severity.CRITICAL
    assert alert.history[-1].action is AuditAction.REPEATED  # after the escalation, a new run

    closed = alert.resolve(stamp(minutes=12))
    with pytest.raises(InvalidTransitionError, match="is resolved; it cannot be repeated"):
        closed.repeat(stamp(minutes=13))


def test_evidence_is_capped() -> None:
    many = [Evidence(EvidenceKind.SNAPSHOT, f"s{i}") for i in range(60)]
    with pytest.raises(AlertError, match="too much evidence"):
        make(evidence=many)
    alert = make(evidence=many[:49]).repeat(stamp(minutes=1), evidence=many[49:])
    assert len(alert.evidence) == 50
    assert alert.evidence[-1].ref == "s49"


def test_evidence_from_dict_checks_and_parses() -> None:
    item = Evidence.from_dict(
        {"kind": "snapshot", "ref": "cam7/1.jpg", "captured_at": "2026-03-01T16:00:00+08:00"}
    )
    assert item.captured_at == T0
    assert item.as_dict() == {
        "kind": "snapshot",
        "ref": "cam7/1.jpg",
        "captured_at": "2026-03-01T08:00:00+00:00",
    }
    with pytest.raises(AlertError, match="invalid evidence kind 'photo'"):
        Evidence.from_dict({"kind": "photo", "ref": "x"})
    with pytest.raises(AlertError, match="evidence ref must be a non-empty string"):
        Evidence.from_dict({"kind": "url"})
    with pytest.raises(AlertError, match="captured_at must be an ISO 8601 time"):
        Evidence.from_dict({"kind": "url", "ref": "https://x", "captured_at": "yesterday"})


def test_plain_data_round_trip_is_exact_and_json_ready() -> None:
    alert = (
        make(
            evidence=[Evidence(EvidenceKind.STATE, "binary_sensor.b3_motion", T0)],
            data={"floor": 12},
        )
        .acknowledge(stamp("u-staff", minutes=1), note="收到")
        .assign("role:police", stamp("u-staff", minutes=2))
        .repeat(stamp(minutes=3), severity="emergency")
        .resolve(stamp("u-police", minutes=30))
    )
    data = alert.as_dict()
    assert data["created_at"] == "2026-03-01T08:00:00+00:00"
    assert data["closed_at"] == "2026-03-01T08:30:00+00:00"
    assert data["severity"] == "emergency"
    assert data["state"] == "resolved"
    assert [h["action"] for h in data["history"]] == [
        "raised",
        "acknowledged",
        "assigned",
        "repeated",
        "escalated",
        "resolved",
    ]
    restored = Alert.from_dict(orjson.loads(orjson.dumps(data)))
    assert restored == alert
    assert restored.as_dict() == data


def test_closed_before() -> None:
    alert = make()
    assert not alert.closed_before(T0 + timedelta(days=999))
    closed = alert.dismiss(stamp(minutes=0))
    assert not closed.closed_before(T0)
    assert closed.closed_before(T0 + timedelta(seconds=1))
