"""What a user may read and do: the community's access policy, checked fast.

Policy (one :class:`Permissions` per user):

* ``admin``: everything.
* ``staff`` (物业) and ``grid_worker`` (网格员): entities, alerts, households and persons in
  their area subtrees; they control those entities and call services that target them, and the
  ``alert.*`` services on alerts in scope. Services without entity targets are admin only.
* ``police``: no entity states and no raw events; alerts in scope (read, acknowledge, resolve).
* ``resident``: the rooms of the household of ``user.person_id``: read and control the
  entities there, read alerts there, read their own household and its members.

An entity's place is its effective area (its own, else its device's); an entity without one
belongs to the community root, so only root-scoped users (and admins) see it. A non-admin
with no areas sees nothing.

Each :class:`Permissions` precomputes the user's allowed area ids (and, on first need, the
entity ids in them) and keeps them until an area, device, entity, household or person
changes: the registries' events bump a shared generation, and the next check recomputes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from linli.auth.users import PERSONAL_DATA_AUDITED_ROLES, Role, User
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.state import State

ALERT_DOMAIN: Final = "alert"
ALERT_EVENTS: Final = frozenset({"alert_raised", "alert_updated"})
SCOPED_ROLES: Final = frozenset({Role.staff, Role.grid_worker})
ENTITY_ROLES: Final = frozenset({Role.staff, Role.grid_worker, Role.resident})
ALERT_SERVICES_BY_ROLE: Final[Mapping[Role, frozenset[str]]] = {
    Role.staff: frozenset({"raise", "acknowledge", "resolve", "dismiss", "assign", "note"}),
    Role.grid_worker: frozenset({"raise", "acknowledge", "resolve", "dismiss", "assign", "note"}),
    Role.police: frozenset({"acknowledge", "resolve"}),
}
"""The ``alert.*`` services each non-admin role may call (on alerts in its scope)."""
ALERT_MANAGERS: Final = frozenset({Role.staff, Role.grid_worker, Role.police})


class PolicyIndex:
    """A generation counter the registries' change events bump; permissions recompute on it."""

    __slots__ = ("generation",)

    def __init__(self) -> None:
        """Start at generation 0."""
        self.generation = 0

    @callback
    def async_invalidate(self, _event: Event[Any] | None = None) -> None:
        """Mark every user's precomputed scope as stale."""
        self.generation += 1


class Permissions:
    """One user's permissions: fast, synchronous checks (call them on the loop)."""

    __slots__ = (
        "_all_areas",
        "_areas",
        "_entity_ids",
        "_generation",
        "_household_id",
        "_hub",
        "_index",
        "audits_personal_data",
        "can_admin",
        "is_admin",
        "user",
    )

    def __init__(self, hub: Hub, index: PolicyIndex, user: User) -> None:
        """Make the checks for ``user``; scopes are computed on first use."""
        self._hub = hub
        self._index = index
        self.user = user
        self.is_admin = user.is_active and user.role is Role.admin
        self.can_admin = self.is_admin
        """May change configuration and registries, manage users, read the error log."""
        self.audits_personal_data = user.role in PERSONAL_DATA_AUDITED_ROLES
        """Every read of personal data by this user is to be written to the audit log."""
        self._generation = -1
        self._areas: frozenset[str] = frozenset()
        self._all_areas = False
        self._entity_ids: frozenset[str] | None = None
        self._household_id: str | None = None

    def __repr__(self) -> str:
        return f"<Permissions {self.user.name} ({self.user.role})>"

    # ------------------------------------------------------------------ scope
    def _refresh(self) -> None:
        if self._generation == self._index.generation:
            return
        self._generation = self._index.generation
        self._entity_ids = None
        self._household_id = None
        user = self.user
        registries = self._hub.registries
        areas = registries.areas
        roots: Iterable[str] = ()
        if not user.is_active:
            pass
        elif user.role is Role.admin:
            roots = (areas.root_id,)
        elif user.role is Role.resident:
            person = (
                None
                if user.person_id is None
                else registries.people.async_get_person(user.person_id)
            )
            household = (
                None
                if person is None or person.household_id is None
                else registries.people.async_get_household(person.household_id)
            )
            if household is not None:
                self._household_id = household.id
                roots = household.room_ids
        else:
            roots = user.area_ids
        allowed: set[str] = set()
        for area_id in roots:
            if area_id in areas:
                allowed |= areas.descendant_ids(area_id)
        self._areas = frozenset(allowed)
        self._all_areas = areas.root_id in allowed

    @property
    def area_ids(self) -> frozenset[str]:
        """Every area id in the user's scope (their subtrees, expanded)."""
        self._refresh()
        return self._areas

    @property
    def all_areas(self) -> bool:
        """Whether the scope is the whole community (the root's subtree)."""
        self._refresh()
        return self._all_areas

    def area_in_scope(self, area_id: str | None) -> bool:
        """Return whether ``area_id`` lies in the user's scope (None means the root)."""
        if self.is_admin:
            return True
        self._refresh()
        if area_id is None:
            return self._all_areas
        return area_id in self._areas

    def _readable_entity_ids(self) -> frozenset[str]:
        """The entity ids whose effective area is in scope (computed once per generation)."""
        if self._entity_ids is None:
            entities = self._hub.registries.entities
            allowed = self._areas
            self._entity_ids = frozenset(
                entry.entity_id
                for entry in entities.entities.values()
                if entities.effective_area_id(entry.entity_id) in allowed
            )
        return self._entity_ids

    # ------------------------------------------------------------------ entities and states
    def can_read_entity(self, entity_id: str) -> bool:
        """Return whether the user may read ``entity_id``'s state."""
        if self.is_admin:
            return True
        if self.user.role not in ENTITY_ROLES:
            return False
        self._refresh()
        if self._all_areas:
            return True
        return entity_id in self._readable_entity_ids()

    def can_control_entity(self, entity_id: str) -> bool:
        """Return whether the user may call services targeting ``entity_id``."""
        return self.can_read_entity(entity_id)

    def filter_states(self, states: Iterable[State]) -> list[State]:
        """Return the states the user may read, in their order."""
        if self.is_admin:
            return list(states)
        if self.user.role not in ENTITY_ROLES:
            return []
        self._refresh()
        if self._all_areas:
            return list(states)
        allowed = self._readable_entity_ids()
        return [state for state in states if state.entity_id in allowed]

    # ------------------------------------------------------------------ events
    def can_read_event(self, event: Event[Any]) -> bool:
        """Return whether an event subscription may deliver ``event`` to the user.

        ``state_changed`` follows the entity, ``alert_raised``/``alert_updated`` the alert's
        area; every other event type is for admins only.
        """
        if self.is_admin:
            return True
        event_type = event.event_type
        if event_type == EVENT_STATE_CHANGED:
            entity_id = event.data.get("entity_id")
            return isinstance(entity_id, str) and self.can_read_entity(entity_id)
        if event_type in ALERT_EVENTS:
            alert = event.data.get("alert")
            return isinstance(alert, Mapping) and self.area_in_scope(alert.get("area_id"))
        return False

    # ------------------------------------------------------------------ services
    def can_call_service(
        self, domain: str, service: str, entity_ids: Collection[str] | None
    ) -> bool:
        """Return whether the user may call ``domain.service`` on ``entity_ids``.

        For ``alert.*`` this says whether the role may use the service at all; the alert
        itself must also pass :meth:`can_manage_alert` (the core's check does both).
        Services without entity targets (``entity_ids`` None or empty) are admin only.
        """
        if self.is_admin:
            return True
        if not self.user.is_active:
            return False
        if domain == ALERT_DOMAIN:
            return service in ALERT_SERVICES_BY_ROLE.get(self.user.role, frozenset())
        if not entity_ids:
            return False
        return all(self.can_control_entity(entity_id) for entity_id in entity_ids)

    # ------------------------------------------------------------------ alerts
    def can_read_alert(self, alert: Any) -> bool:
        """Return whether the user may see ``alert`` (an Alert or its dict form)."""
        return self.area_in_scope(_alert_area(alert))

    def can_manage_alert(self, alert: Any, action: str | None = None) -> bool:
        """Return whether the user may change ``alert`` — with ``action`` (``acknowledge``,
        ``resolve``, ``assign`` …, the ``alert.*`` service names), whether they may do that."""
        if self.is_admin:
            return True
        if self.user.role not in ALERT_MANAGERS or not self.area_in_scope(_alert_area(alert)):
            return False
        return action is None or action in ALERT_SERVICES_BY_ROLE.get(self.user.role, ())

    # ------------------------------------------------------------------ people
    def can_read_household(self, household_id: str) -> bool:
        """Return whether the user may read the household and its members."""
        if self.is_admin:
            return True
        role = self.user.role
        self._refresh()
        if role is Role.resident:
            return household_id == self._household_id
        if role not in SCOPED_ROLES:
            return False
        household = self._hub.registries.people.async_get_household(household_id)
        if household is None:
            return False
        if self._all_areas:
            return True
        return any(room_id in self._areas for room_id in household.room_ids)

    @property
    def records_consents(self) -> bool:
        """Whether the user's role records consents at all (every role but police)."""
        return self.user.role is not Role.police

    def can_record_consent(self, person_id: str) -> bool:
        """Return whether the user may record or withdraw a consent of the person: admins;
        staff, grid workers and residents for persons they may read; never police."""
        return self.records_consents and self.can_read_person(person_id)

    def can_read_person(self, person_id: str) -> bool:
        """Return whether the user may read the person (through their household)."""
        if self.is_admin or person_id == self.user.person_id:
            return self.user.is_active
        person = self._hub.registries.people.async_get_person(person_id)
        if person is None or person.household_id is None:
            return False
        return self.can_read_household(person.household_id)


def _alert_area(alert: Any) -> str | None:
    area = alert.get("area_id") if isinstance(alert, Mapping) else getattr(alert, "area_id", None)
    return area if isinstance(area, str) else None
