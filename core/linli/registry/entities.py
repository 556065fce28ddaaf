"""The entity registry: which entity_id belongs to which integration's thing.

An integration knows its things by a ``unique_id``; users know them by ``entity_id``
(``sensor.gate_3_temperature``). The registry ties ``(domain, platform, unique_id)`` to one
``entity_id`` for good, so renaming an entity, moving it to an area or disabling it survives
restarts. Both directions are dictionary look-ups.

An entity's area is its own ``area_id`` or, when that is None, its device's. The registry
listens to ``device_registry_updated``: removing a device removes its entities. Removing an
area clears ``area_id`` on the entities placed in it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.exceptions import RegistryError, StorageError
from linli.registry.areas import EVENT_AREA_REGISTRY_UPDATED, UNDEFINED, UndefinedType
from linli.registry.devices import EVENT_DEVICE_REGISTRY_UPDATED
from linli.state import split_entity_id, valid_entity_id
from linli.storage import Store

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.registry.areas import AreaRegistry
    from linli.registry.devices import DeviceRegistry

_LOGGER = logging.getLogger(__name__)

EVENT_ENTITY_REGISTRY_UPDATED: Final = "entity_registry_updated"
STORAGE_KEY: Final = "linli.entities"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

DISABLED_USER: Final = "user"
DISABLED_INTEGRATION: Final = "integration"
DISABLED_DEVICE: Final = "device"
DISABLED_BY_VALUES: Final = frozenset({DISABLED_USER, DISABLED_INTEGRATION, DISABLED_DEVICE})
HIDDEN_BY_VALUES: Final = frozenset({DISABLED_USER, DISABLED_INTEGRATION})

MAX_OBJECT_ID_LENGTH: Final = 100

EntityKey = tuple[str, str, str]
"""``(domain, platform, unique_id)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityEntry:
    """One registered entity (read-only; change it through the registry)."""

    entity_id: str
    unique_id: str
    platform: str
    """The integration that provides the entity."""
    domain: str
    """The entity_id's domain (``sensor``, ``lock``…)."""
    device_id: str | None = None
    area_id: str | None = None
    """The entity's own area; None means "the device's area"."""
    disabled_by: str | None = None
    hidden_by: str | None = None
    name: str | None = None
    """The user's name for the entity; None means ``original_name``."""
    original_name: str | None = None
    icon: str | None = None
    unit_of_measurement: str | None = None
    created_at: datetime
    modified_at: datetime

    @property
    def disabled(self) -> bool:
        """Whether the entity is disabled (it gets no state)."""
        return self.disabled_by is not None

    @property
    def hidden(self) -> bool:
        """Whether the entity is hidden from default views."""
        return self.hidden_by is not None

    @property
    def display_name(self) -> str | None:
        """The user's name, else the integration's."""
        return self.name or self.original_name

    @property
    def key(self) -> EntityKey:
        """``(domain, platform, unique_id)``."""
        return (self.domain, self.platform, self.unique_id)

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as plain data (storage and APIs)."""
        return {
            "entity_id": self.entity_id,
            "unique_id": self.unique_id,
            "platform": self.platform,
            "domain": self.domain,
            "device_id": self.device_id,
            "area_id": self.area_id,
            "disabled_by": self.disabled_by,
            "hidden_by": self.hidden_by,
            "name": self.name,
            "original_name": self.original_name,
            "icon": self.icon,
            "unit_of_measurement": self.unit_of_measurement,
            "created_at": self.created_at.isoformat(),
            "modified_at": self.modified_at.isoformat(),
        }


def slugify_object_id(text: str) -> str | None:
    """Return ``text`` as an object_id ("Gate 3 Temp" → "gate_3_temp").

    Returns None when the text does not transliterate to ascii (e.g. Chinese names): a
    half-kept name such as "3" from "3号楼" would mislead more than help.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    if any(not char.isascii() and char.isalnum() for char in decomposed):
        return None
    slug = re.sub(r"[^a-z0-9]+", "_", decomposed.encode("ascii", "ignore").decode().lower())
    slug = slug.strip("_")[:MAX_OBJECT_ID_LENGTH].strip("_")
    return slug or None


def _short_unique_id(unique_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", unique_id.lower()).strip("_")
    if slug and len(slug) <= 12:
        return slug
    return hashlib.sha1(unique_id.encode(), usedforsecurity=False).hexdigest()[:8]


class EntityRegistry:
    """The hub's entities, persisted in ``linli.entities``."""

    def __init__(self, hub: Hub, areas: AreaRegistry, devices: DeviceRegistry) -> None:
        """Create an empty registry; :meth:`async_load` fills it."""
        self._hub = hub
        self._areas = areas
        self._devices = devices
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._entities: dict[str, EntityEntry] = {}
        self._by_key: dict[EntityKey, str] = {}
        self._by_device: dict[str, dict[str, None]] = {}
        areas.async_register_dependants(
            "entity", self._count_in_area, blocks_delete=False, plural="entities"
        )
        hub.bus.async_listen(
            EVENT_DEVICE_REGISTRY_UPDATED, self._async_device_changed, owner="entity registry"
        )
        hub.bus.async_listen(
            EVENT_AREA_REGISTRY_UPDATED, self._async_area_changed, owner="entity registry"
        )

    # ------------------------------------------------------------------ loading and saving
    async def async_load(self) -> None:
        """Load the stored entities."""
        data = await self._store.async_load()
        if data is None:
            return
        try:
            entries = [_entry_from_dict(item) for item in data["entities"]]
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError(f"{self._store.path} holds a malformed entity: {err!r}") from err
        for entry in entries:
            if entry.entity_id in self._entities or entry.key in self._by_key:
                _LOGGER.warning("Skipping duplicate stored entity %s", entry.entity_id)
                continue
            self._index(entry)

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {"entities": [entry.as_dict() for entry in self._entities.values()]}

    def _index(self, entry: EntityEntry) -> None:
        self._entities[entry.entity_id] = entry
        self._by_key[entry.key] = entry.entity_id
        if entry.device_id is not None:
            self._by_device.setdefault(entry.device_id, {})[entry.entity_id] = None

    def _unindex(self, entry: EntityEntry) -> None:
        self._entities.pop(entry.entity_id, None)
        self._by_key.pop(entry.key, None)
        if entry.device_id is not None:
            on_device = self._by_device.get(entry.device_id)
            if on_device is not None:
                on_device.pop(entry.entity_id, None)
                if not on_device:
                    del self._by_device[entry.device_id]

    # ------------------------------------------------------------------ reading
    @property
    def entities(self) -> Mapping[str, EntityEntry]:
        """All entities by entity_id (read-only view)."""
        return MappingProxyType(self._entities)

    def __iter__(self) -> Iterator[EntityEntry]:
        return iter(list(self._entities.values()))

    def __len__(self) -> int:
        return len(self._entities)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._entities

    @callback
    def async_get(self, entity_id: str) -> EntityEntry | None:
        """Return the entry of ``entity_id``, or None."""
        return self._entities.get(entity_id)

    @callback
    def async_get_entity_id(self, domain: str, platform: str, unique_id: str) -> str | None:
        """Return the entity_id registered for ``(domain, platform, unique_id)``, or None."""
        return self._by_key.get((domain, platform, unique_id))

    @callback
    def effective_area_id(self, entity_id: str) -> str | None:
        """Return the entity's own area, else its device's, else None."""
        entry = self._entities.get(entity_id)
        if entry is None:
            raise RegistryError(f"unknown entity {entity_id!r}")
        return self._effective_area_id(entry)

    def _effective_area_id(self, entry: EntityEntry) -> str | None:
        if entry.area_id is not None:
            return entry.area_id
        if entry.device_id is not None:
            device = self._devices.async_get(entry.device_id)
            if device is not None:
                return device.area_id
        return None

    @callback
    def entities_for_device(self, device_id: str) -> list[EntityEntry]:
        """Return the entities of ``device_id``."""
        return [self._entities[eid] for eid in self._by_device.get(device_id, ())]

    @callback
    def entities_in_area(
        self, area_id: str, include_descendants: bool = False
    ) -> list[EntityEntry]:
        """Return the entities whose effective area is ``area_id`` (or below it)."""
        wanted = self._areas.descendant_ids(area_id) if include_descendants else {area_id}
        return [
            entry for entry in self._entities.values() if self._effective_area_id(entry) in wanted
        ]

    def _count_in_area(self, area_id: str) -> int:
        return sum(1 for entry in self._entities.values() if entry.area_id == area_id)

    # ------------------------------------------------------------------ changing
    @callback
    def async_get_or_create(
        self,
        domain: str,
        platform: str,
        unique_id: str,
        *,
        suggested_object_id: str | None = None,
        device_id: str | None = None,
        area_id: str | None = None,
        original_name: str | None = None,
        disabled_by: str | None = None,
        hidden_by: str | None = None,
        icon: str | None = None,
        unit_of_measurement: str | None = None,
    ) -> EntityEntry:
        """Return the entry for ``(domain, platform, unique_id)``, registering it if new.

        A new entity_id comes from ``suggested_object_id`` or ``original_name``, or, when
        those do not transliterate (Chinese names), ``<platform>_<short unique id>``; ``_2``,
        ``_3`` … make it unique. For a known entity, ``device_id``, ``original_name`` and
        ``unit_of_measurement`` given (not None) are refreshed; the user's choices stay.
        """
        if not isinstance(unique_id, str) or not unique_id:
            raise RegistryError(f"unique_id must be a non-empty string, not {unique_id!r}")
        if not valid_entity_id(f"{domain}.x"):
            raise RegistryError(f"invalid entity domain {domain!r}")
        if not valid_entity_id(f"{platform}.x"):
            raise RegistryError(f"invalid platform {platform!r}")
        existing_id = self._by_key.get((domain, platform, unique_id))
        if existing_id is not None:
            refresh = {
                key: value
                for key, value in (
                    ("device_id", device_id),
                    ("original_name", original_name),
                    ("unit_of_measurement", unit_of_measurement),
                )
                if value is not None
            }
            return self._async_update(existing_id, refresh)
        self._check_area(area_id)
        self._check_device(device_id)
        _check_choice("disabled_by", disabled_by, DISABLED_BY_VALUES)
        _check_choice("hidden_by", hidden_by, HIDDEN_BY_VALUES)
        entity_id = self.async_generate_entity_id(
            domain,
            (suggested_object_id and slugify_object_id(suggested_object_id))
            or (original_name and slugify_object_id(original_name))
            or f"{platform}_{_short_unique_id(unique_id)}",
        )
        now = self._hub.clock.utcnow()
        entry = EntityEntry(
            entity_id=entity_id,
            unique_id=unique_id,
            platform=platform,
            domain=domain,
            device_id=device_id,
            area_id=area_id,
            disabled_by=disabled_by,
            hidden_by=hidden_by,
            original_name=original_name,
            icon=icon,
            unit_of_measurement=unit_of_measurement,
            created_at=now,
            modified_at=now,
        )
        self._index(entry)
        _LOGGER.debug("Entity %s registered for %s", entity_id, platform)
        self._async_fire({"action": "create", "entity_id": entity_id, "changes": {}})
        self._async_schedule_save()
        return entry

    @callback
    def async_generate_entity_id(self, domain: str, object_id: str) -> str:
        """Return ``domain.object_id``, or with ``_2``, ``_3`` … when that is taken."""
        base = f"{domain}.{object_id}"
        if not valid_entity_id(base):
            raise RegistryError(f"cannot make an entity_id from {base!r}")
        candidate, number = base, 1
        while self._is_taken(candidate):
            number += 1
            candidate = f"{base}_{number}"
        return candidate

    def _is_taken(self, entity_id: str) -> bool:
        # A state set without a registry entry also holds its entity_id.
        return entity_id in self._entities or self._hub.states.get(entity_id) is not None

    @callback
    def async_update_entity(
        self,
        entity_id: str,
        *,
        new_entity_id: str | UndefinedType = UNDEFINED,
        area_id: str | UndefinedType | None = UNDEFINED,
        device_id: str | UndefinedType | None = UNDEFINED,
        disabled_by: str | UndefinedType | None = UNDEFINED,
        hidden_by: str | UndefinedType | None = UNDEFINED,
        name: str | UndefinedType | None = UNDEFINED,
        original_name: str | UndefinedType | None = UNDEFINED,
        icon: str | UndefinedType | None = UNDEFINED,
        unit_of_measurement: str | UndefinedType | None = UNDEFINED,
    ) -> EntityEntry:
        """Change an entity; ``None`` clears a field, leaving it out keeps it.

        ``new_entity_id`` must be valid, keep the domain and be free.
        """
        fields = {
            key: value
            for key, value in (
                ("entity_id", new_entity_id),
                ("area_id", area_id),
                ("device_id", device_id),
                ("disabled_by", disabled_by),
                ("hidden_by", hidden_by),
                ("name", name),
                ("original_name", original_name),
                ("icon", icon),
                ("unit_of_measurement", unit_of_measurement),
            )
            if value is not UNDEFINED
        }
        return self._async_update(entity_id, fields)

    def _async_update(self, entity_id: str, fields: dict[str, Any]) -> EntityEntry:
        old = self._entities.get(entity_id)
        if old is None:
            raise RegistryError(f"unknown entity {entity_id!r}")
        changes = {key: value for key, value in fields.items() if getattr(old, key) != value}
        if not changes:
            return old
        if "entity_id" in changes:
            new_id = changes["entity_id"]
            if not isinstance(new_id, str) or not valid_entity_id(new_id):
                raise RegistryError(
                    f"invalid entity_id {new_id!r}: expected 'domain.object_id' in lower case"
                )
            if split_entity_id(new_id)[0] != old.domain:
                raise RegistryError(
                    f"{new_id!r} must keep the domain {old.domain!r} of {entity_id!r}"
                )
            if self._is_taken(new_id):
                raise RegistryError(f"entity_id {new_id!r} is already taken")
        if "area_id" in changes:
            self._check_area(changes["area_id"])
        if "device_id" in changes:
            self._check_device(changes["device_id"])
        if "disabled_by" in changes:
            _check_choice("disabled_by", changes["disabled_by"], DISABLED_BY_VALUES)
        if "hidden_by" in changes:
            _check_choice("hidden_by", changes["hidden_by"], HIDDEN_BY_VALUES)
        for key in ("name", "original_name", "icon", "unit_of_measurement"):
            if key in changes and changes[key] is not None and not isinstance(changes[key], str):
                raise RegistryError(f"{key} must be a string or None, not {changes[key]!r}")
        new = replace(old, **changes, modified_at=self._hub.clock.utcnow())
        self._unindex(old)
        self._index(new)
        data: dict[str, Any] = {
            "action": "update",
            "entity_id": new.entity_id,
            "changes": {key: getattr(old, key) for key in changes},
        }
        if new.entity_id != old.entity_id:
            data["old_entity_id"] = old.entity_id
        self._async_fire(data)
        self._async_schedule_save()
        return new

    @callback
    def async_remove(self, entity_id: str) -> None:
        """Remove an entity from the registry."""
        entry = self._entities.get(entity_id)
        if entry is None:
            raise RegistryError(f"unknown entity {entity_id!r}")
        self._unindex(entry)
        _LOGGER.debug("Entity %s removed", entity_id)
        self._async_fire({"action": "remove", "entity_id": entity_id, "changes": {}})
        self._async_schedule_save()

    # ------------------------------------------------------------------ helpers
    def _check_area(self, area_id: str | None) -> None:
        if area_id is not None and self._areas.async_get(area_id) is None:
            raise RegistryError(f"area {area_id!r} does not exist")

    def _check_device(self, device_id: str | None) -> None:
        if device_id is not None and self._devices.async_get(device_id) is None:
            raise RegistryError(f"device {device_id!r} does not exist")

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _async_fire(self, data: dict[str, Any]) -> None:
        self._hub.bus.async_fire(EVENT_ENTITY_REGISTRY_UPDATED, data)

    @callback
    def _async_device_changed(self, event: Event[Mapping[str, Any]]) -> None:
        if event.data.get("action") != "remove":
            return
        for entry in self.entities_for_device(event.data["id"]):
            self.async_remove(entry.entity_id)

    @callback
    def _async_area_changed(self, event: Event[Mapping[str, Any]]) -> None:
        if event.data.get("action") != "remove":
            return
        area_id = event.data["id"]
        for entry in [e for e in self._entities.values() if e.area_id == area_id]:
            self._async_update(entry.entity_id, {"area_id": None})


def _check_choice(key: str, value: str | None, allowed: frozenset[str]) -> None:
    if value is not None and value not in allowed:
        raise RegistryError(f"{key} must be one of {sorted(allowed)} or None, not {value!r}")


def _entry_from_dict(item: Mapping[str, Any]) -> EntityEntry:
    entity_id = item["entity_id"]
    return EntityEntry(
        entity_id=entity_id,
        unique_id=item["unique_id"],
        platform=item["platform"],
        domain=item.get("domain") or split_entity_id(entity_id)[0],
        device_id=item.get("device_id"),
        area_id=item.get("area_id"),
        disabled_by=item.get("disabled_by"),
        hidden_by=item.get("hidden_by"),
        name=item.get("name"),
        original_name=item.get("original_name"),
        icon=item.get("icon"),
        unit_of_measurement=item.get("unit_of_measurement"),
        created_at=datetime.fromisoformat(item["created_at"]),
        modified_at=datetime.fromisoformat(item["modified_at"]),
    )
