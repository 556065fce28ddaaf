"""The people registry: households (who lives in which rooms) and the persons in them.

Both live in one store, ``linli.people``, so a household and its members are always written
together. This is personal data, so the registry keeps as little as it can (a birth *year*,
not a date) and never puts it where it would outlive a deletion: log lines carry ids only, and
the ``changes`` of ``person_registry_updated`` / ``household_registry_updated`` events show
personal fields as :data:`REDACTED` (the recorder stores events; a deleted name must not
survive there).

A household's rooms must be areas of kind ``room``; an area that is some household's home
cannot be deleted until the household moves out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.exceptions import RegistryError, StorageError
from linli.registry.areas import UNDEFINED, AreaKind, UndefinedType
from linli.storage import Store
from linli.util.ids import random_hex

if TYPE_CHECKING:
    from linli.hub import Hub
    from linli.registry.areas import AreaRegistry

_LOGGER = logging.getLogger(__name__)

EVENT_PERSON_REGISTRY_UPDATED: Final = "person_registry_updated"
EVENT_HOUSEHOLD_REGISTRY_UPDATED: Final = "household_registry_updated"
STORAGE_KEY: Final = "linli.people"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

REDACTED: Final = "**REDACTED**"
"""Stands for a personal value in event data."""

RELATION_OWNER: Final = "owner"
RELATION_TENANT: Final = "tenant"
RELATION_MEMBER: Final = "member"
RELATION_STAFF: Final = "staff"

_PERSONAL_FIELDS: Final = frozenset({"name", "birth_year", "tags", "user_id"})
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_MIN_BIRTH_YEAR: Final = 1850


@dataclass(frozen=True, slots=True, kw_only=True)
class Household:
    """A household: the people sharing one or more rooms (read-only)."""

    id: str
    name: str
    """How the community refers to it, e.g. "3-2-1201"."""
    room_ids: tuple[str, ...] = ()
    """Area ids of kind room."""
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as plain data (storage and APIs)."""
        return {
            "id": self.id,
            "name": self.name,
            "room_ids": list(self.room_ids),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A resident or staff member (read-only)."""

    id: str
    name: str
    household_id: str | None = None
    relation: str = RELATION_MEMBER
    """``"owner"``, ``"tenant"``, ``"member"``, ``"staff"`` or another lower-case word."""
    birth_year: int | None = None
    """Enough to tell minors and elders apart without keeping a birth date."""
    tags: frozenset[str] = frozenset()
    """Care and service flags, e.g. ``"lives_alone"``."""
    user_id: str | None = None
    """The login linked to this person, if any."""

    def age_in(self, year: int) -> int | None:
        """Return the age reached during ``year`` (None without a birth year)."""
        return None if self.birth_year is None else year - self.birth_year

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as plain data (storage and APIs)."""
        return {
            "id": self.id,
            "name": self.name,
            "household_id": self.household_id,
            "relation": self.relation,
            "birth_year": self.birth_year,
            "tags": sorted(self.tags),
            "user_id": self.user_id,
        }


class PeopleRegistry:
    """Households and persons, persisted together in ``linli.people``."""

    def __init__(self, hub: Hub, areas: AreaRegistry) -> None:
        """Create an empty registry; :meth:`async_load` fills it."""
        self._hub = hub
        self._areas = areas
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._households: dict[str, Household] = {}
        self._persons: dict[str, Person] = {}
        areas.async_register_dependants("household", self._count_households_in, blocks_delete=True)

    # ------------------------------------------------------------------ loading and saving
    async def async_load(self) -> None:
        """Load the stored households and persons."""
        data = await self._store.async_load()
        if data is None:
            return
        try:
            households = [_household_from_dict(item) for item in data.get("households", [])]
            persons = [_person_from_dict(item) for item in data.get("persons", [])]
        except (KeyError, TypeError, ValueError) as err:
            # The error text may quote stored values: keep names out of it.
            raise StorageError(
                f"{self._store.path} holds a malformed entry ({type(err).__name__})"
            ) from None
        self._households = {household.id: household for household in households}
        self._persons = {person.id: person for person in persons}

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {
            "households": [household.as_dict() for household in self._households.values()],
            "persons": [person.as_dict() for person in self._persons.values()],
        }

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    # ------------------------------------------------------------------ reading
    @property
    def households(self) -> Mapping[str, Household]:
        """All households by id (read-only view)."""
        return MappingProxyType(self._households)

    @property
    def persons(self) -> Mapping[str, Person]:
        """All persons by id (read-only view)."""
        return MappingProxyType(self._persons)

    def __iter__(self) -> Iterator[Person]:
        return iter(list(self._persons.values()))

    @callback
    def async_get_household(self, household_id: str) -> Household | None:
        """Return the household ``household_id``, or None."""
        return self._households.get(household_id)

    @callback
    def async_get_person(self, person_id: str) -> Person | None:
        """Return the person ``person_id``, or None."""
        return self._persons.get(person_id)

    @callback
    def async_get_person_by_user(self, user_id: str) -> Person | None:
        """Return the person linked to the login ``user_id``, or None."""
        for person in self._persons.values():
            if person.user_id == user_id:
                return person
        return None

    @callback
    def members(self, household_id: str) -> list[Person]:
        """Return the persons of ``household_id``."""
        if household_id not in self._households:
            raise RegistryError(f"unknown household {household_id!r}")
        return [person for person in self._persons.values() if person.household_id == household_id]

    @callback
    def households_in_area(self, area_id: str) -> list[Household]:
        """Return the households with at least one room in ``area_id`` or below it."""
        wanted = self._areas.descendant_ids(area_id)
        return [
            household
            for household in self._households.values()
            if any(room_id in wanted for room_id in household.room_ids)
        ]

    def _count_households_in(self, area_id: str) -> int:
        return sum(1 for household in self._households.values() if area_id in household.room_ids)

    # ------------------------------------------------------------------ households
    @callback
    def async_create_household(self, name: str, room_ids: Iterable[str] = ()) -> Household:
        """Create a household living in ``room_ids`` (areas of kind room)."""
        household = Household(
            id=random_hex(16),
            name=_check_name(name),
            room_ids=self._check_rooms(room_ids),
            created_at=self._hub.clock.utcnow(),
        )
        self._households[household.id] = household
        _LOGGER.debug("Household %s created", household.id)
        self._async_fire(EVENT_HOUSEHOLD_REGISTRY_UPDATED, "create", household.id, {})
        self._async_schedule_save()
        return household

    @callback
    def async_update_household(
        self,
        household_id: str,
        *,
        name: str | UndefinedType = UNDEFINED,
        room_ids: Iterable[str] | UndefinedType = UNDEFINED,
    ) -> Household:
        """Rename a household or change its rooms."""
        old = self._require_household(household_id)
        fields: dict[str, Any] = {}
        if name is not UNDEFINED:
            fields["name"] = _check_name(name)
        if room_ids is not UNDEFINED:
            fields["room_ids"] = self._check_rooms(room_ids)
        changes = {key: value for key, value in fields.items() if getattr(old, key) != value}
        if not changes:
            return old
        new = replace(old, **changes)
        self._households[household_id] = new
        self._async_fire(
            EVENT_HOUSEHOLD_REGISTRY_UPDATED,
            "update",
            household_id,
            {key: getattr(old, key) for key in changes},
        )
        self._async_schedule_save()
        return new

    @callback
    def async_remove_household(self, household_id: str, *, force: bool = False) -> None:
        """Remove a household; with members only when ``force`` (they are unlinked)."""
        self._require_household(household_id)
        members = self.members(household_id)
        if members and not force:
            raise RegistryError(
                f"household {household_id!r} has {len(members)} member"
                f"{'s' if len(members) != 1 else ''}: move or remove them first, "
                "or pass force=True to unlink them"
            )
        for person in members:
            self._async_update_person(person.id, {"household_id": None})
        del self._households[household_id]
        _LOGGER.debug("Household %s removed", household_id)
        self._async_fire(EVENT_HOUSEHOLD_REGISTRY_UPDATED, "remove", household_id, {})
        self._async_schedule_save()

    # ------------------------------------------------------------------ persons
    @callback
    def async_create_person(
        self,
        name: str,
        *,
        household_id: str | None = None,
        relation: str = RELATION_MEMBER,
        birth_year: int | None = None,
        tags: Iterable[str] = (),
        user_id: str | None = None,
    ) -> Person:
        """Create a person, optionally in a household."""
        person = Person(
            id=random_hex(16),
            name=_check_name(name),
            household_id=household_id,
            relation=_check_relation(relation),
            birth_year=self._check_birth_year(birth_year),
            tags=_check_tags(tags),
            user_id=user_id,
        )
        self._check_household_ref(household_id)
        self._check_user(person.id, user_id)
        self._persons[person.id] = person
        _LOGGER.debug("Person %s created", person.id)
        self._async_fire(EVENT_PERSON_REGISTRY_UPDATED, "create", person.id, {})
        self._async_schedule_save()
        return person

    @callback
    def async_update_person(
        self,
        person_id: str,
        *,
        name: str | UndefinedType = UNDEFINED,
        household_id: str | UndefinedType | None = UNDEFINED,
        relation: str | UndefinedType = UNDEFINED,
        birth_year: int | UndefinedType | None = UNDEFINED,
        tags: Iterable[str] | UndefinedType = UNDEFINED,
        user_id: str | UndefinedType | None = UNDEFINED,
    ) -> Person:
        """Change a person; ``None`` clears a field, leaving it out keeps it."""
        fields: dict[str, Any] = {}
        if name is not UNDEFINED:
            fields["name"] = _check_name(name)
        if household_id is not UNDEFINED:
            self._check_household_ref(household_id)
            fields["household_id"] = household_id
        if relation is not UNDEFINED:
            fields["relation"] = _check_relation(relation)
        if birth_year is not UNDEFINED:
            fields["birth_year"] = self._check_birth_year(birth_year)
        if tags is not UNDEFINED:
            fields["tags"] = _check_tags(tags)
        if user_id is not UNDEFINED:
            self._check_user(person_id, user_id)
            fields["user_id"] = user_id
        return self._async_update_person(person_id, fields)

    def _async_update_person(self, person_id: str, fields: dict[str, Any]) -> Person:
        old = self._persons.get(person_id)
        if old is None:
            raise RegistryError(f"unknown person {person_id!r}")
        changes = {key: value for key, value in fields.items() if getattr(old, key) != value}
        if not changes:
            return old
        new = replace(old, **changes)
        self._persons[person_id] = new
        self._async_fire(
            EVENT_PERSON_REGISTRY_UPDATED,
            "update",
            person_id,
            {key: getattr(old, key) for key in changes},
        )
        self._async_schedule_save()
        return new

    @callback
    def async_remove_person(self, person_id: str) -> None:
        """Remove a person."""
        if self._persons.pop(person_id, None) is None:
            raise RegistryError(f"unknown person {person_id!r}")
        _LOGGER.debug("Person %s removed", person_id)
        self._async_fire(EVENT_PERSON_REGISTRY_UPDATED, "remove", person_id, {})
        self._async_schedule_save()

    # ------------------------------------------------------------------ helpers
    def _require_household(self, household_id: str) -> Household:
        household = self._households.get(household_id)
        if household is None:
            raise RegistryError(f"unknown household {household_id!r}")
        return household

    def _check_household_ref(self, household_id: str | None) -> None:
        if household_id is not None and household_id not in self._households:
            raise RegistryError(f"household {household_id!r} does not exist")

    def _check_user(self, person_id: str, user_id: str | None) -> None:
        if user_id is None:
            return
        if not isinstance(user_id, str) or not user_id:
            raise RegistryError("user_id must be a non-empty string or None")
        other = self.async_get_person_by_user(user_id)
        if other is not None and other.id != person_id:
            raise RegistryError(f"login {user_id!r} is already linked to person {other.id!r}")

    def _check_rooms(self, room_ids: Iterable[str]) -> tuple[str, ...]:
        if isinstance(room_ids, str):
            raise RegistryError("room_ids must be a list of area ids, not a string")
        rooms: dict[str, None] = {}
        for room_id in room_ids:
            area = self._areas.async_get(room_id)
            if area is None:
                raise RegistryError(f"room {room_id!r} does not exist")
            if area.kind is not AreaKind.ROOM:
                raise RegistryError(f"area {room_id!r} is a {area.kind}, not a room")
            rooms[room_id] = None
        return tuple(rooms)

    def _check_birth_year(self, birth_year: int | None) -> int | None:
        if birth_year is None:
            return None
        this_year = self._hub.clock.utcnow().year
        if (
            isinstance(birth_year, bool)
            or not isinstance(birth_year, int)
            or not _MIN_BIRTH_YEAR <= birth_year <= this_year
        ):
            raise RegistryError(
                f"birth_year must be a year between {_MIN_BIRTH_YEAR} and {this_year}"
            )
        return birth_year

    def _async_fire(
        self, event_type: str, action: str, item_id: str, changes: dict[str, Any]
    ) -> None:
        self._hub.bus.async_fire(
            event_type,
            {"action": action, "id": item_id, "changes": _redacted(changes)},
        )


def _redacted(changes: dict[str, Any]) -> dict[str, Any]:
    """Return event ``changes`` with personal values hidden and tuples made lists."""
    result: dict[str, Any] = {}
    for key, value in changes.items():
        if key in _PERSONAL_FIELDS:
            result[key] = REDACTED
        elif isinstance(value, tuple | frozenset):
            result[key] = sorted(value) if isinstance(value, frozenset) else list(value)
        else:
            result[key] = value
    return result


def _check_name(name: Any) -> str:
    # The value is never quoted in messages: it is personal data.
    if not isinstance(name, str) or not name.strip():
        raise RegistryError("a name must be a non-empty string")
    return name.strip()


def _check_relation(relation: Any) -> str:
    if not isinstance(relation, str) or not _SLUG.match(relation):
        raise RegistryError(
            f"relation must be a lower-case word such as 'owner', 'tenant', 'member' or "
            f"'staff', not {relation!r}"
        )
    return relation


def _check_tags(tags: Iterable[str]) -> frozenset[str]:
    if isinstance(tags, str):
        raise RegistryError("tags must be a list of words, not a string")
    result = frozenset(tags)
    for tag in result:
        if not isinstance(tag, str) or not _SLUG.match(tag):
            raise RegistryError(
                "tags must be lower-case words made of letters, digits and '_', e.g. 'lives_alone'"
            )
    return result


def _household_from_dict(item: Mapping[str, Any]) -> Household:
    return Household(
        id=item["id"],
        name=item["name"],
        room_ids=tuple(item.get("room_ids") or ()),
        created_at=datetime.fromisoformat(item["created_at"]),
    )


def _person_from_dict(item: Mapping[str, Any]) -> Person:
    return Person(
        id=item["id"],
        name=item["name"],
        household_id=item.get("household_id"),
        relation=item.get("relation", RELATION_MEMBER),
        birth_year=item.get("birth_year"),
        tags=frozenset(item.get("tags") or ()),
        user_id=item.get("user_id"),
    )
