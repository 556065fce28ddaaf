"""Alerts as records: evidence, the audit trail and the state machine.

Pure: no hub, no clock, no I/O. An :class:`Alert` is immutable; every change returns a new one
with :class:`AuditEntry` records appended, stamped with who made the change, when and in which
context (a :class:`Stamp` the caller makes from its clock and the change's context)::

    new ──► acknowledged ──► resolved
     │  │          │
     │  │          └──────► dismissed
     │  └─────────────────► resolved      (the cause went away before anyone acknowledged)
     └────────────────────► dismissed

``resolved`` and ``dismissed`` are final: the same problem coming back is a new alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

import orjson

from linli.exceptions import ServiceValidationError
from linli.util.dt import as_utc

MAX_KIND_LENGTH: Final = 64
MAX_TITLE_LENGTH: Final = 200
MAX_MESSAGE_LENGTH: Final = 4000
MAX_NOTE_LENGTH: Final = 2000
MAX_REF_LENGTH: Final = 2048
MAX_DEDUP_KEY_LENGTH: Final = 255
MAX_ASSIGNEE_LENGTH: Final = 128
MAX_EVIDENCE: Final = 50
"""Evidence references one alert keeps; later ones from repeats are not added."""
MAX_DATA_BYTES: Final = 4096
"""The free ``data`` dict is for small facts (a floor estimate, a confidence), not payloads."""

SYSTEM_ACTOR: Final = "system"
ROLE_PREFIX: Final = "role:"

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLE = re.compile(r"^role:[a-z][a-z0-9_]*$")


class AlertError(ServiceValidationError):
    """A change to an alert was refused; the message says why."""


class UnknownAlertError(AlertError):
    """No alert has the given id (it never existed or was purged)."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"unknown alert {alert_id!r}")
        self.alert_id = alert_id


class InvalidTransitionError(AlertError):
    """The alert's state does not allow the change (e.g. acknowledging a resolved alert)."""


class Severity(StrEnum):
    """How bad it is, from least to most severe."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for emergency."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: Final = {severity: rank for rank, severity in enumerate(Severity)}


class AlertState(StrEnum):
    """Where an alert stands."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


OPEN_STATES: Final = frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED})
CLOSED_STATES: Final = frozenset({AlertState.RESOLVED, AlertState.DISMISSED})

TRANSITIONS: Final[Mapping[AlertState, frozenset[AlertState]]] = MappingProxyType(
    {
        AlertState.NEW: frozenset(
            {AlertState.ACKNOWLEDGED, AlertState.RESOLVED, AlertState.DISMISSED}
        ),
        AlertState.ACKNOWLEDGED: frozenset({AlertState.RESOLVED, AlertState.DISMISSED}),
        AlertState.RESOLVED: frozenset(),
        AlertState.DISMISSED: frozenset(),
    }
)
"""The states each state may move to."""

_VERB: Final = {
    AlertState.NEW: "reopened",
    AlertState.ACKNOWLEDGED: "acknowledged",
    AlertState.RESOLVED: "resolved",
    AlertState.DISMISSED: "dismissed",
}


class AuditAction(StrEnum):
    """What an audit entry records."""

    RAISED = "raised"
    REPEATED = "repeated"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    NOTE = "note"


_STATE_ACTION: Final = {
    AlertState.ACKNOWLEDGED: AuditAction.ACKNOWLEDGED,
    AlertState.RESOLVED: AuditAction.RESOLVED,
    AlertState.DISMISSED: AuditAction.DISMISSED,
}


class EvidenceKind(StrEnum):
    """What an evidence reference points at."""

    SNAPSHOT = "snapshot"
    CLIP = "clip"
    STATE = "state"
    URL = "url"


# ---------------------------------------------------------------------- validation
def check_kind(value: Any) -> str:
    """Return ``value`` as an alert kind: a lower-case slug such as ``falling_object``."""
    if not isinstance(value, str) or len(value) > MAX_KIND_LENGTH or not _KIND.match(value):
        raise AlertError(
            f"invalid alert kind {value!r}: use lower-case letters, digits and '_', "
            f"starting with a letter, at most {MAX_KIND_LENGTH} characters"
        )
    return value


def check_severity(value: Any) -> Severity:
    """Return ``value`` as a :class:`Severity` (case-insensitive)."""
    try:
        return Severity(value.lower() if isinstance(value, str) else value)
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise AlertError(f"invalid severity {value!r}: use one of {choices}") from None


def check_text(value: Any, what: str, max_length: int) -> str:
    """Return ``value`` stripped; it must be a non-empty string of at most ``max_length``."""
    if not isinstance(value, str) or not value.strip():
        raise AlertError(f"{what} must be a non-empty string")
    text = value.strip()
    if len(text) > max_length:
        raise AlertError(f"{what} is too long ({len(text)} characters, at most {max_length})")
    return text


def check_assignee(value: Any) -> str:
    """Return ``value`` as an assignee: a user id, or a role such as ``role:staff``."""
    text = check_text(value, "assignee", MAX_ASSIGNEE_LENGTH)
    if any(char.isspace() for char in text):
        raise AlertError(f"invalid assignee {text!r}: no spaces allowed")
    if text.startswith(ROLE_PREFIX) and not _ROLE.match(text):
        raise AlertError(
            f"invalid role {text!r}: write 'role:' and a lower-case role name, e.g. 'role:staff'"
        )
    return text


def check_data(value: Any) -> dict[str, Any]:
    """Return a JSON copy of ``value``, a small dict of JSON-serialisable values."""
    if not isinstance(value, Mapping):
        raise AlertError(f"data must be a mapping, not {type(value).__name__}")
    try:
        encoded = orjson.dumps(value)
    except TypeError as err:
        raise AlertError(f"data must be JSON-serialisable: {err}") from None
    if len(encoded) > MAX_DATA_BYTES:
        raise AlertError(f"data is too large ({len(encoded)} bytes, at most {MAX_DATA_BYTES})")
    # The JSON round trip makes the stored copy independent of the caller's objects and equal
    # to what a restart reads back.
    copy: dict[str, Any] = orjson.loads(encoded)
    return copy


def check_time(value: Any, what: str) -> datetime:
    """Return ``value`` (a datetime or ISO 8601 text) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise AlertError(f"{what} must be an ISO 8601 time, not {value!r}")


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else check_time(value, "time")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# ---------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class Stamp:
    """Who makes a change, when, and in which context."""

    actor: str
    """A user id, or ``"system"`` (or an automation's id) when no user asked for it."""
    at: datetime
    context_id: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A reference to what shows the incident; the media itself lives elsewhere."""

    kind: EvidenceKind
    ref: str
    """A media id, a file or clip reference, an entity id, or a URL."""
    captured_at: datetime | None = None

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Evidence:
        """Build (and check) evidence from ``{kind, ref, captured_at?}``."""
        if not isinstance(item, Mapping):
            raise AlertError(f"evidence must be a mapping, not {type(item).__name__}")
        try:
            kind = EvidenceKind(str(item.get("kind")))
        except ValueError:
            choices = ", ".join(k.value for k in EvidenceKind)
            raise AlertError(
                f"invalid evidence kind {item.get('kind')!r}: use one of {choices}"
            ) from None
        captured = item.get("captured_at")
        return cls(
            kind,
            check_text(item.get("ref"), "evidence ref", MAX_REF_LENGTH),
            None if captured is None else check_time(captured, "captured_at"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        return {
            "kind": self.kind.value,
            "ref": self.ref,
            "captured_at": _iso(self.captured_at),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One line of an alert's audit trail."""

    action: AuditAction
    actor: str
    at: datetime
    note: str | None = None
    from_state: AlertState | None = None
    """Set for state changes (and ``raised``, which only has ``to_state``)."""
    to_state: AlertState | None = None
    context_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, hash=False)
    """Details of the change: the assignee for ``assigned``, the severities for ``escalated``."""

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> AuditEntry:
        """Build an entry from :meth:`as_dict` data."""
        return cls(
            action=AuditAction(item["action"]),
            actor=str(item["actor"]),
            at=check_time(item["at"], "at"),
            note=item.get("note"),
            from_state=None if item.get("from_state") is None else AlertState(item["from_state"]),
            to_state=None if item.get("to_state") is None else AlertState(item["to_state"]),
            context_id=item.get("context_id"),
            data=dict(item.get("data") or {}),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        return {
            "action": self.action.value,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "note": self.note,
            "from_state": None if self.from_state is None else self.from_state.value,
            "to_state": None if self.to_state is None else self.to_state.value,
            "context_id": self.context_id,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One incident: what, how bad, where, what shows it, who handles it, and its history.

    Immutable: the methods that change an alert return a new one. Read it, never mutate
    ``data``.
    """

    id: str
    kind: str
    """A lower-case slug: ``no_activity``, ``falling_object``, ``ebike_in_elevator`` …"""
    severity: Severity
    title: str
    message: str | None = None
    area_id: str | None = None
    source_entity_id: str | None = None
    evidence: tuple[Evidence, ...] = ()
    assignee: str | None = None
    """A user id, or a role such as ``role:staff``."""
    state: AlertState = AlertState.NEW
    dedup_key: str | None = None
    occurrences: int = 1
    created_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None = None
    """When it was resolved or dismissed; retention counts from here."""
    context_id: str | None = None
    """The context that raised it."""
    data: dict[str, Any] = field(default_factory=dict, hash=False)
    history: tuple[AuditEntry, ...] = ()

    # ------------------------------------------------------------------ creating
    @classmethod
    def create(
        cls,
        alert_id: str,
        stamp: Stamp,
        *,
        kind: str,
        title: str,
        severity: Severity | str = Severity.WARNING,
        message: str | None = None,
        area_id: str | None = None,
        source_entity_id: str | None = None,
        evidence: Iterable[Evidence] = (),
        dedup_key: str | None = None,
        assignee: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Alert:
        """Return a new alert, checking every field; its history starts with ``raised``."""
        assignee = None if assignee is None else check_assignee(assignee)
        evidence = tuple(evidence)
        if len(evidence) > MAX_EVIDENCE:
            raise AlertError(f"too much evidence ({len(evidence)} items, at most {MAX_EVIDENCE})")
        raised = AuditEntry(
            action=AuditAction.RAISED,
            actor=stamp.actor,
            at=stamp.at,
            to_state=AlertState.NEW,
            context_id=stamp.context_id,
            data={} if assignee is None else {"assignee": assignee},
        )
        return cls(
            id=alert_id,
            kind=check_kind(kind),
            severity=check_severity(severity),
            title=check_text(title, "title", MAX_TITLE_LENGTH),
            message=None if message is None else check_text(message, "message", MAX_MESSAGE_LENGTH),
            area_id=area_id,
            source_entity_id=source_entity_id,
            evidence=evidence,
            assignee=assignee,
            dedup_key=(
                None
                if dedup_key is None
                else check_text(dedup_key, "dedup_key", MAX_DEDUP_KEY_LENGTH)
            ),
            created_at=stamp.at,
            updated_at=stamp.at,
            last_seen_at=stamp.at,
            context_id=stamp.context_id,
            data=check_data(data or {}),
            history=(raised,),
        )

    # ------------------------------------------------------------------ reading
    @property
    def is_open(self) -> bool:
        """Whether it still needs attention (new or acknowledged)."""
        return self.state in OPEN_STATES

    def closed_before(self, cutoff: datetime) -> bool:
        """Whether it was resolved or dismissed before ``cutoff``."""
        return self.closed_at is not None and self.closed_at < cutoff

    # ------------------------------------------------------------------ changing
    def repeat(
        self,
        stamp: Stamp,
        *,
        severity: Severity | str | None = None,
        evidence: Iterable[Evidence] = (),
    ) -> Alert:
        """Return the alert seen again: one more occurrence, maybe escalated, new evidence.

        A run of repeats by the same actor is one ``repeated`` audit entry (the first), so a
        flapping sensor does not bury the human actions; ``occurrences`` and
        ``last_seen_at`` count every one. A higher severity escalates the alert.
        """
        if not self.is_open:
            raise InvalidTransitionError(f"alert {self.id} is {self.state}; it cannot be repeated")
        entries: list[AuditEntry] = []
        last = self.history[-1] if self.history else None
        if last is None or last.action is not AuditAction.REPEATED or last.actor != stamp.actor:
            entries.append(self._entry(AuditAction.REPEATED, stamp))
        new_severity = self.severity
        if severity is not None:
            wanted = check_severity(severity)
            if wanted.rank > self.severity.rank:
                entries.append(
                    self._entry(
                        AuditAction.ESCALATED,
                        stamp,
                        data={"from": self.severity.value, "to": wanted.value},
                    )
                )
                new_severity = wanted
        known = {(item.kind, item.ref) for item in self.evidence}
        added = []
        for item in evidence:
            if (item.kind, item.ref) not in known:
                known.add((item.kind, item.ref))
                added.append(item)
        return replace(
            self,
            severity=new_severity,
            occurrences=self.occurrences + 1,
            last_seen_at=stamp.at,
            updated_at=stamp.at,
            evidence=(*self.evidence, *added)[:MAX_EVIDENCE],
            history=(*self.history, *entries),
        )

    def transition(self, to_state: AlertState, stamp: Stamp, note: str | None = None) -> Alert:
        """Return the alert moved to ``to_state``; refuse moves the state machine forbids."""
        if to_state is self.state:
            raise InvalidTransitionError(f"alert {self.id} is already {self.state}")
        if to_state not in TRANSITIONS[self.state]:
            raise InvalidTransitionError(
                f"alert {self.id} is {self.state}; it cannot be {_VERB[to_state]}"
            )
        entry = self._entry(
            _STATE_ACTION[to_state],
            stamp,
            note=_note(note),
            from_state=self.state,
            to_state=to_state,
        )
        return replace(
            self,
            state=to_state,
            updated_at=stamp.at,
            closed_at=stamp.at if to_state in CLOSED_STATES else None,
            history=(*self.history, entry),
        )

    def acknowledge(self, stamp: Stamp, note: str | None = None) -> Alert:
        """Return the alert acknowledged: someone is on it."""
        return self.transition(AlertState.ACKNOWLEDGED, stamp, note)

    def resolve(self, stamp: Stamp, note: str | None = None) -> Alert:
        """Return the alert resolved: handled, or the cause went away."""
        return self.transition(AlertState.RESOLVED, stamp, note)

    def dismiss(self, stamp: Stamp, note: str | None = None) -> Alert:
        """Return the alert dismissed: a false alarm, or not worth handling."""
        return self.transition(AlertState.DISMISSED, stamp, note)

    def assign(self, assignee: str, stamp: Stamp, note: str | None = None) -> Alert:
        """Return the alert given to ``assignee`` (a user id or ``role:<name>``); open only."""
        assignee = check_assignee(assignee)
        if not self.is_open:
            raise InvalidTransitionError(f"alert {self.id} is {self.state}; it cannot be assigned")
        entry = self._entry(
            AuditAction.ASSIGNED,
            stamp,
            note=_note(note),
            data={"assignee": assignee, "previous": self.assignee},
        )
        return replace(self, assignee=assignee, updated_at=stamp.at, history=(*self.history, entry))

    def add_note(self, note: str, stamp: Stamp) -> Alert:
        """Return the alert with a note in its history; allowed in every state."""
        entry = self._entry(AuditAction.NOTE, stamp, note=check_text(note, "note", MAX_NOTE_LENGTH))
        return replace(self, updated_at=stamp.at, history=(*self.history, entry))

    def _entry(
        self,
        action: AuditAction,
        stamp: Stamp,
        *,
        note: str | None = None,
        from_state: AlertState | None = None,
        to_state: AlertState | None = None,
        data: dict[str, Any] | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            action=action,
            actor=stamp.actor,
            at=stamp.at,
            note=note,
            from_state=from_state,
            to_state=to_state,
            context_id=stamp.context_id,
            data=data or {},
        )

    # ------------------------------------------------------------------ plain data
    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data (ISO 8601 times); also the stored form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "area_id": self.area_id,
            "source_entity_id": self.source_entity_id,
            "evidence": [item.as_dict() for item in self.evidence],
            "assignee": self.assignee,
            "state": self.state.value,
            "dedup_key": self.dedup_key,
            "occurrences": self.occurrences,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "closed_at": _iso(self.closed_at),
            "context_id": self.context_id,
            "data": dict(self.data),
            "history": [entry.as_dict() for entry in self.history],
        }

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Alert:
        """Build an alert from :meth:`as_dict` data (raises KeyError/ValueError if malformed)."""
        return cls(
            id=str(item["id"]),
            kind=item["kind"],
            severity=Severity(item["severity"]),
            title=item["title"],
            message=item.get("message"),
            area_id=item.get("area_id"),
            source_entity_id=item.get("source_entity_id"),
            evidence=tuple(Evidence.from_dict(e) for e in item.get("evidence") or ()),
            assignee=item.get("assignee"),
            state=AlertState(item["state"]),
            dedup_key=item.get("dedup_key"),
            occurrences=int(item["occurrences"]),
            created_at=check_time(item["created_at"], "created_at"),
            updated_at=check_time(item["updated_at"], "updated_at"),
            last_seen_at=check_time(item["last_seen_at"], "last_seen_at"),
            closed_at=_optional_time(item.get("closed_at")),
            context_id=item.get("context_id"),
            data=dict(item.get("data") or {}),
            history=tuple(AuditEntry.from_dict(e) for e in item.get("history") or ()),
        )


def _note(note: str | None) -> str | None:
    return None if note is None else check_text(note, "note", MAX_NOTE_LENGTH)
