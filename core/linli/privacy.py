"""Personal data: what the hub holds about people, how long, and how it is exported or erased.

The core keeps the consents (:mod:`linli.consent`) and the audit log (:mod:`linli.audit`);
the capabilities that hold personal data (face templates, door snapshots, access and gate
logs) register each kind of it here as a :class:`DataKind` with three callbacks:

* ``purge(cutoff_ts)`` deletes the records older than ``cutoff_ts`` — the retention
  policy's ceiling, run daily and by the ``privacy.purge`` service;
* ``erase(person_id, keep_after_ts)`` deletes what is held about one person (and tells the
  devices holding copies to delete theirs) — run when the person withdraws the consent the
  kind depends on, or when an admin erases the person;
* ``export(person_id)`` returns JSON-ready data about the person for
  :meth:`PrivacyManager.async_export` ("everything held about me").

Retention (``privacy: retention:`` in the configuration) has two explicit settings per kind:
``keep_days``, the ceiling (records older are purged), and ``floor_days``, the floor (records
younger are never purged nor erased, for local rules such as "access records ≥ 30 days").
A floor applies only to kinds held on another legal basis than consent: withdrawing consent
erases everything of a consent-bound kind at once, which is why such kinds cannot have one.

For integration authors::

    from linli.privacy import DataKind, get_privacy

    unregister = get_privacy(hub).async_register_data_kind(
        DataKind("face_template", "Face templates for door access", sensitive=True,
                 consent_kind="face", default_keep_days=3650,
                 purge=purge_templates, erase=erase_templates, export=export_templates)
    )                                     # in async_setup; unregister() in async_unload
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from linli.exceptions import LinliError
from linli.hub import HubKey

if TYPE_CHECKING:
    from linli.context import Context
    from linli.hub import Hub

__all__ = [
    "ACTION_ERASE",
    "EVENT_PERSONAL_DATA_ERASED",
    "DataKind",
    "PrivacyError",
    "PrivacyManager",
    "RetentionPolicy",
    "get_privacy",
]

_LOGGER = logging.getLogger(__name__)

DAY: Final = 86_400.0
EVENT_PERSONAL_DATA_ERASED: Final = "personal_data_erased"
ACTION_ERASE: Final = "erase_personal_data"
ACTION_EXPORT: Final = "export_personal_data"

Purge = Callable[[float], Awaitable[int]]
Erase = Callable[[str, float | None], Awaitable[int]]
Export = Callable[[str], Awaitable[Any]]


class PrivacyError(LinliError, ValueError):
    """A data kind or retention setting was refused (duplicate, floor above ceiling …)."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long one kind of data is kept: at most ``keep_days``, at least ``floor_days``."""

    keep_days: float
    floor_days: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Return the policy as plain data."""
        return {"keep_days": self.keep_days, "floor_days": self.floor_days}


@dataclass(frozen=True, slots=True)
class DataKind:
    """One kind of personal data a capability holds, and how to purge, erase and export it.

    :param name: Unique, e.g. ``"face_template"``, ``"access_log"``.
    :param title: What it is, for people ("Face templates for door access").
    :param sensitive: Sensitive under PIPL (faces, whereabouts, health, minors' data).
    :param consent_kind: The consent ``data_kind`` it is held under (``"face"``): withdrawing
        that consent erases it. None for data held on another basis (security records).
    :param default_keep_days: The ceiling unless the configuration sets ``keep_days``.
    :param default_floor_days: The floor unless the configuration sets ``floor_days``
        (only for kinds without ``consent_kind``).
    """

    name: str
    title: str
    sensitive: bool
    consent_kind: str | None
    default_keep_days: float
    default_floor_days: float = 0.0
    purge: Purge | None = None
    erase: Erase | None = None
    export: Export | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise PrivacyError(f"data kind name {self.name!r} must be letters, digits and _")
        if self.default_keep_days <= 0:
            raise PrivacyError(f"data kind {self.name}: default_keep_days must be > 0")
        if self.default_floor_days < 0 or self.default_floor_days > self.default_keep_days:
            raise PrivacyError(
                f"data kind {self.name}: default_floor_days must be between 0 and default_keep_days"
            )
        if self.consent_kind is not None and self.default_floor_days:
            raise PrivacyError(
                f"data kind {self.name} is held on consent ({self.consent_kind}): it cannot "
                "have a floor, a withdrawal erases it at once"
            )


class PrivacyManager:
    """The hub's registered data kinds with their retention, purge, erasure and export."""

    def __init__(self, hub: Hub) -> None:
        """Manage personal data for ``hub`` (the recorder's database holds the ledgers)."""
        self._hub = hub
        self._kinds: dict[str, DataKind] = {}
        self._settings: dict[str, Mapping[str, float]] = {}

    # ------------------------------------------------------------------ kinds and policy
    def configure(self, retention: Mapping[str, Mapping[str, float]]) -> None:
        """Apply the ``privacy: retention:`` settings (per kind ``keep_days``/``floor_days``)."""
        for name, setting in retention.items():
            keep = setting.get("keep_days")
            floor = setting.get("floor_days")
            if keep is not None and floor is not None and floor > keep:
                raise PrivacyError(
                    f"privacy.retention.{name}: floor_days ({floor:g}) is above keep_days "
                    f"({keep:g})"
                )
        self._settings = {name: dict(setting) for name, setting in retention.items()}
        for kind in self._kinds.values():
            self._check_setting(kind)

    def async_register_data_kind(self, kind: DataKind) -> Callable[[], None]:
        """Register ``kind``; return a function that unregisters it."""
        if kind.name in self._kinds:
            raise PrivacyError(f"data kind {kind.name!r} is already registered")
        self._check_setting(kind)
        self._kinds[kind.name] = kind

        def unregister() -> None:
            if self._kinds.get(kind.name) is kind:
                del self._kinds[kind.name]

        return unregister

    def _check_setting(self, kind: DataKind) -> None:
        setting = self._settings.get(kind.name, {})
        if kind.consent_kind is not None and setting.get("floor_days"):
            raise PrivacyError(
                f"privacy.retention.{kind.name}: {kind.title} is held on consent "
                f"({kind.consent_kind}), so it cannot have floor_days: a withdrawal erases it"
            )

    @property
    def kinds(self) -> Mapping[str, DataKind]:
        """The registered data kinds by name."""
        return dict(self._kinds)

    def policy(self, name: str) -> RetentionPolicy:
        """Return the retention policy in force for the kind ``name``."""
        kind = self._kinds.get(name)
        if kind is None:
            raise PrivacyError(f"unknown data kind {name!r}")
        setting = self._settings.get(name, {})
        floor = float(setting.get("floor_days", kind.default_floor_days))
        keep = float(setting.get("keep_days", max(kind.default_keep_days, floor)))
        return RetentionPolicy(keep_days=max(keep, floor), floor_days=floor)

    def keep_after_ts(self, name: str) -> float:
        """Return the epoch time before which records of ``name`` are past their ceiling."""
        return self._hub.clock.time() - self.policy(name).keep_days * DAY

    def describe(self) -> list[dict[str, Any]]:
        """Every kind with its policy, as plain data (for the API and diagnostics)."""
        return [
            {
                "name": kind.name,
                "title": kind.title,
                "sensitive": kind.sensitive,
                "consent_kind": kind.consent_kind,
                **self.policy(kind.name).as_dict(),
            }
            for kind in sorted(self._kinds.values(), key=lambda k: k.name)
        ]

    # ------------------------------------------------------------------ consent
    async def async_has_consent(self, person_id: str, consent_kind: str) -> bool:
        """Return whether the person has an active consent of ``consent_kind``."""
        from linli.consent import get_consents

        consents = await get_consents(self._hub).async_list(
            person_id=person_id, include_withdrawn=False
        )
        return any(consent.data_kind == consent_kind for consent in consents)

    # ------------------------------------------------------------------ purge
    async def async_purge(self) -> dict[str, int]:
        """Purge every kind past its ceiling now; return the rows deleted per kind.

        A kind whose purge fails is logged and reported as -1; the others still run.
        """
        deleted: dict[str, int] = {}
        for kind in list(self._kinds.values()):
            if kind.purge is None:
                continue
            try:
                deleted[kind.name] = await kind.purge(self.keep_after_ts(kind.name))
            except Exception:
                _LOGGER.exception("Purging %s failed", kind.name)
                deleted[kind.name] = -1
        if any(deleted.values()):
            _LOGGER.info("Purged personal data past its retention: %s", deleted)
        return deleted

    # ------------------------------------------------------------------ erasure
    async def async_erase(
        self,
        person_id: str,
        consent_kind: str | None = None,
        *,
        reason: str,
        user_id: str | None = None,
        context: Context | None = None,
    ) -> dict[str, int]:
        """Erase what is held about ``person_id``; return the records deleted per kind.

        With ``consent_kind``, only the kinds held under that consent (a withdrawal);
        without, every kind (records younger than a kind's floor are kept). The erasure is
        audited (``erase_personal_data``) and announced as ``personal_data_erased``. A kind
        whose erasure fails is logged and reported as -1, and the audit row says so.
        """
        from linli.audit import async_audit

        now = self._hub.clock.time()
        counts: dict[str, int] = {}
        for kind in list(self._kinds.values()):
            if kind.erase is None:
                continue
            if consent_kind is not None and kind.consent_kind != consent_kind:
                continue
            floor = self.policy(kind.name).floor_days
            keep_after = None if kind.consent_kind is not None or not floor else now - floor * DAY
            try:
                counts[kind.name] = await kind.erase(person_id, keep_after)
            except Exception:
                _LOGGER.exception("Erasing %s of person %s failed", kind.name, person_id)
                counts[kind.name] = -1
        details: dict[str, Any] = {"reason": reason, "counts": counts}
        if consent_kind is not None:
            details["consent_kind"] = consent_kind
        await async_audit(
            self._hub,
            user_id=user_id,
            action=ACTION_ERASE,
            subject=f"person:{person_id}",
            area_id=None,
            details=details,
            context=context,
        )
        self._hub.bus.async_fire(
            EVENT_PERSONAL_DATA_ERASED,
            {"person_id": person_id, "data_kind": consent_kind, "reason": reason, "counts": counts},
            context=context,
        )
        return counts

    # ------------------------------------------------------------------ export
    async def async_export(self, person_id: str) -> dict[str, Any]:
        """Return everything the hub holds about ``person_id`` as JSON-ready data.

        The person and their household (registry), their consents, the audit rows about them
        (who read or erased their data) and each registered kind's export.
        """
        from linli.audit import async_query
        from linli.consent import get_consents

        people = self._hub.registries.people
        person = people.async_get_person(person_id)
        if person is None:
            raise PrivacyError(f"unknown person {person_id!r}")
        household = (
            None if person.household_id is None else people.async_get_household(person.household_id)
        )
        consents = await get_consents(self._hub).async_list(person_id=person_id)
        audit = await async_query(self._hub, subject=f"person:{person_id}", limit=10_000)
        data: dict[str, Any] = {}
        for kind in list(self._kinds.values()):
            if kind.export is None:
                continue
            try:
                data[kind.name] = await kind.export(person_id)
            except Exception:
                _LOGGER.exception("Exporting %s of person %s failed", kind.name, person_id)
                data[kind.name] = {"error": "export failed; see the hub's log"}
        return {
            "person": person.as_dict(),
            "household": None if household is None else household.as_dict(),
            "consents": [consent.as_dict() for consent in consents],
            "audit": audit,
            "data": data,
            "data_kinds": self.describe(),
            "exported_at": self._hub.clock.utcnow().isoformat(),
        }


PRIVACY: Final[HubKey[PrivacyManager]] = HubKey("linli.privacy")


def get_privacy(hub: Hub) -> PrivacyManager:
    """Return the hub's privacy manager (raises ``LinliError`` if the recorder is not set up)."""
    from linli.db import get_database

    get_database(hub)
    manager = hub.data.get(PRIVACY)
    if manager is None:
        manager = hub.data.setdefault(PRIVACY, PrivacyManager(hub))
    return manager
