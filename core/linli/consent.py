"""Consents: a person's recorded agreement to one kind of data processing, and its withdrawal.

A ledger in the database (one committed transaction per change, never batched): who agreed,
to what (``data_kind`` such as ``face``, and a ``scope``), how (``method``: ``paper``,
``app``, …), under which notice version, entered by which operator, and for a minor or a
ward the guardian who agreed. Withdrawing keeps the row (with when and by whom), so the
history stays provable; withdrawn consents are purged after ``recorder:
consent_keep_days``. Each change fires ``consent_changed``
(``{"consent_id", "person_id", "data_kind", "active"}``). A withdrawal erases the data held
under it (face templates, snapshots, copies on devices) through :mod:`linli.privacy` before
:meth:`ConsentLedger.async_withdraw` returns, so an answer to "withdraw" means "deleted".

A person who may be under 14 (by birth year, counted on the safe side) consents only through
a guardian: ``guardian_person_id`` is required, and must name another known person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from linli.db import get_database
from linli.db.models import ConsentRow
from linli.exceptions import LinliError
from linli.hub import HubKey
from linli.util.dt import utc_from_timestamp
from linli.util.ids import ulid

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli.hub import Hub

__all__ = [
    "EVENT_CONSENT_CHANGED",
    "GUARDIAN_AGE",
    "Consent",
    "ConsentError",
    "ConsentLedger",
    "get_consents",
]

EVENT_CONSENT_CHANGED: Final = "consent_changed"
GUARDIAN_AGE: Final = 14
"""Below this age a guardian consents for the person (PIPL art. 31)."""


class ConsentError(LinliError, ValueError):
    """A consent change was refused (unknown consent, already withdrawn, bad value)."""


@dataclass(frozen=True, slots=True)
class Consent:
    """One consent as recorded (read-only)."""

    id: str
    person_id: str
    household_id: str | None
    data_kind: str
    scope: str
    method: str
    notice_version: str
    operator_user_id: str | None
    guardian_person_id: str | None
    granted_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None

    @property
    def active(self) -> bool:
        """Whether the consent holds (granted and not withdrawn)."""
        return self.withdrawn_at is None

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data (ISO 8601 times)."""
        return {
            "id": self.id,
            "person_id": self.person_id,
            "household_id": self.household_id,
            "data_kind": self.data_kind,
            "scope": self.scope,
            "method": self.method,
            "notice_version": self.notice_version,
            "operator_user_id": self.operator_user_id,
            "guardian_person_id": self.guardian_person_id,
            "granted_at": self.granted_at.isoformat(),
            "withdrawn_at": None if self.withdrawn_at is None else self.withdrawn_at.isoformat(),
            "withdrawn_by": self.withdrawn_by,
            "active": self.active,
        }

    @classmethod
    def from_row(cls, row: ConsentRow) -> Consent:
        """Build a consent from its database row."""
        return cls(
            id=row.consent_id,
            person_id=row.person_id,
            household_id=row.household_id,
            data_kind=row.data_kind,
            scope=row.scope,
            method=row.method,
            notice_version=row.notice_version,
            operator_user_id=row.operator_user_id,
            guardian_person_id=row.guardian_person_id,
            granted_at=utc_from_timestamp(row.granted_ts),
            withdrawn_at=None if row.withdrawn_ts is None else utc_from_timestamp(row.withdrawn_ts),
            withdrawn_by=row.withdrawn_by,
        )


def _text(value: str, what: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConsentError(f"{what} must be a non-empty string")
    value = value.strip()
    if len(value) > max_length:
        raise ConsentError(f"{what} is too long ({len(value)} characters, at most {max_length})")
    return value


class ConsentLedger:
    """The hub's consents, in the database; every change is committed before it returns."""

    def __init__(self, hub: Hub) -> None:
        """Use the hub's database (the recorder must be set up)."""
        self._hub = hub

    async def async_grant(
        self,
        person_id: str,
        data_kind: str,
        scope: str,
        *,
        method: str,
        notice_version: str,
        operator_user_id: str | None,
        guardian_person_id: str | None = None,
    ) -> Consent:
        """Record that ``person_id`` consents to ``data_kind`` within ``scope``."""
        now = self._hub.clock.time()
        self._check_guardian(person_id, guardian_person_id)
        row = ConsentRow(
            consent_id=ulid(now),
            person_id=_text(person_id, "person_id", 64),
            household_id=self._household_of(person_id),
            data_kind=_text(data_kind, "data_kind", 64),
            scope=_text(scope, "scope", 255),
            method=_text(method, "method", 64),
            notice_version=_text(notice_version, "notice_version", 64),
            operator_user_id=operator_user_id,
            guardian_person_id=guardian_person_id,
            granted_ts=now,
            withdrawn_ts=None,
            withdrawn_by=None,
        )

        def write(session: Session) -> Consent:
            session.add(row)
            session.flush()
            return Consent.from_row(row)

        consent = await get_database(self._hub).async_run(write)
        self._announce(consent)
        return consent

    async def async_withdraw(self, consent_id: str, *, operator_user_id: str | None) -> Consent:
        """Withdraw an active consent; raise :class:`ConsentError` if unknown or withdrawn."""
        now = self._hub.clock.time()

        def write(session: Session) -> Consent:
            row = session.get(ConsentRow, consent_id, with_for_update=True)
            if row is None:
                raise ConsentError(f"unknown consent {consent_id!r}")
            if row.withdrawn_ts is not None:
                raise ConsentError(f"consent {consent_id!r} is already withdrawn")
            row.withdrawn_ts = now
            row.withdrawn_by = operator_user_id
            session.flush()
            return Consent.from_row(row)

        consent = await get_database(self._hub).async_run(write)
        self._announce(consent)
        from linli.privacy import PRIVACY

        privacy = self._hub.data.get(PRIVACY)
        if privacy is not None:
            await privacy.async_erase(
                consent.person_id,
                consent.data_kind,
                reason="consent_withdrawn",
                user_id=operator_user_id,
            )
        return consent

    async def async_get(self, consent_id: str) -> Consent | None:
        """Return the consent ``consent_id``, or None."""

        def read(session: Session) -> Consent | None:
            row = session.get(ConsentRow, consent_id)
            return None if row is None else Consent.from_row(row)

        return await get_database(self._hub).async_run(read)

    async def async_list(
        self,
        *,
        person_id: str | None = None,
        household_id: str | None = None,
        include_withdrawn: bool = True,
    ) -> list[Consent]:
        """Return the consents matching the filters, oldest first."""
        query = select(ConsentRow).order_by(ConsentRow.granted_ts, ConsentRow.consent_id)
        if person_id is not None:
            query = query.where(ConsentRow.person_id == person_id)
        if household_id is not None:
            query = query.where(ConsentRow.household_id == household_id)
        if not include_withdrawn:
            query = query.where(ConsentRow.withdrawn_ts.is_(None))

        def read(session: Session) -> list[Consent]:
            return [Consent.from_row(row) for row in session.scalars(query)]

        return await get_database(self._hub).async_run(read)

    def _check_guardian(self, person_id: str, guardian_person_id: str | None) -> None:
        try:
            people = self._hub.registries.people
        except RuntimeError:  # registries not loaded (a bare hub in a tool)
            return
        if guardian_person_id is not None:
            if guardian_person_id == person_id:
                raise ConsentError("a person cannot be their own guardian")
            if people.async_get_person(guardian_person_id) is None:
                raise ConsentError(f"unknown guardian {guardian_person_id!r}")
            return
        person = people.async_get_person(person_id)
        age = None if person is None else person.age_in(self._hub.clock.utcnow().year)
        # A birth year alone cannot tell 13 from 14 in the year of the 14th birthday.
        if age is not None and age <= GUARDIAN_AGE:
            raise ConsentError(
                f"{person_id} may be under {GUARDIAN_AGE}: a guardian consents for them "
                "(guardian_person_id is required)"
            )

    def _household_of(self, person_id: str) -> str | None:
        try:
            person = self._hub.registries.people.async_get_person(person_id)
        except RuntimeError:  # registries not loaded (a bare hub in a tool)
            return None
        return None if person is None else person.household_id

    def _announce(self, consent: Consent) -> None:
        self._hub.bus.async_fire(
            EVENT_CONSENT_CHANGED,
            {
                "consent_id": consent.id,
                "person_id": consent.person_id,
                "data_kind": consent.data_kind,
                "active": consent.active,
            },
        )


CONSENTS: Final[HubKey[ConsentLedger]] = HubKey("linli.consents")


def get_consents(hub: Hub) -> ConsentLedger:
    """Return the hub's consent ledger (raises ``LinliError`` if the recorder is not set up)."""
    get_database(hub)
    ledger = hub.data.get(CONSENTS)
    if ledger is None:
        ledger = hub.data.setdefault(CONSENTS, ConsentLedger(hub))
    return ledger
