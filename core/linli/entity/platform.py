"""Adding entities to a hub and removing them: registries, states, hooks and services.

One :class:`EntityManager` per hub (made on first use) holds the entity objects by
entity_id. It follows the registries: an entity renamed, re-iconed or given another
entity_id in the entity registry is rewritten under it; one disabled leaves the state
machine (its object is kept and comes back when it is enabled again); one removed from the
registry leaves the hub. Entities of an integration whose setup failed are removed; those of
an unloaded integration are removed by its unload (:func:`async_remove_platform`), and in
any case are never reached by a service call once their integration is unloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.const import EVENT_INTEGRATION_FAILED, EVENT_INTEGRATION_UNLOADED
from linli.entity.entity import DeviceInfo, Entity
from linli.hub import HubKey
from linli.registry.areas import UNDEFINED
from linli.registry.devices import EVENT_DEVICE_REGISTRY_UPDATED
from linli.registry.entities import (
    DISABLED_DEVICE,
    DISABLED_INTEGRATION,
    EVENT_ENTITY_REGISTRY_UPDATED,
    slugify_object_id,
)
from linli.state import split_entity_id, valid_entity_id

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.registry import DeviceEntry, Registries

_LOGGER = logging.getLogger(__name__)

OWNER: Final = "entity"
"""The owner of the entity model's listeners and domain services."""
"""Listened to (``{"domain": …}``) in case the loader announces unloads."""

_GONE: Final = frozenset({"unloaded", "failed", "retrying", "skipped"})
"""Loader statuses of an integration whose entities services must no longer reach."""
_DEVICE_FIELDS: Final = (
    "name",
    "manufacturer",
    "model",
    "sw_version",
    "hw_version",
    "serial_number",
)


class EntityManager:
    """The entity objects of one hub, by entity_id."""

    def __init__(self, hub: Hub) -> None:
        """Start empty and follow the registries' changes."""
        self.hub = hub
        self.entities: dict[str, Entity] = {}
        """Entities in the hub (their state is in the state machine)."""
        self.disabled: dict[str, Entity] = {}
        """Entities whose registry entry (or device) is disabled: kept, without state."""
        self.service_domains: set[str] = set()
        bus = hub.bus
        self._unlisten = [
            bus.async_listen(
                EVENT_ENTITY_REGISTRY_UPDATED, self._async_entity_registry_updated, owner=OWNER
            ),
            bus.async_listen(
                EVENT_DEVICE_REGISTRY_UPDATED, self._async_device_registry_updated, owner=OWNER
            ),
            bus.async_listen(EVENT_INTEGRATION_FAILED, self._async_platform_gone, owner=OWNER),
            bus.async_listen(EVENT_INTEGRATION_UNLOADED, self._async_platform_gone, owner=OWNER),
        ]

    # ------------------------------------------------------------------ adding
    async def async_add(self, platform: str, entity: Entity) -> None:
        """Add one entity; see :func:`async_add_entities`."""
        if entity.hub is not None:
            raise ValueError(f"{entity!r} is already added to a hub")
        domain = entity.domain
        if not domain or not valid_entity_id(f"{domain}.x"):
            raise ValueError(f"{type(entity).__name__} has no valid domain")
        registries = self.hub.registries
        device = None
        if entity.device_info is not None:
            device = _device_from_info(registries, platform, entity.device_info)
            entity.device_name = device.display_name
        if entity.unique_id is not None:
            enabled = entity.entity_registry_enabled_default
            entry = registries.entities.async_get_or_create(
                domain,
                platform,
                entity.unique_id,
                suggested_object_id=_suggested_object_id(entity),
                device_id=None if device is None else device.id,
                original_name=entity.name,
                disabled_by=None if enabled else DISABLED_INTEGRATION,
                unit_of_measurement=entity.unit_of_measurement,
            )
            entity_id = entry.entity_id
            entity.registry_entry = entry
            disabled = entry.disabled or (device is not None and device.disabled)
        else:
            entity_id = _entity_id_without_registry(self.hub, entity)
            disabled = False
        if entity_id in self.entities or entity_id in self.disabled:
            raise ValueError(
                f"{platform} added a second entity with the id {entity_id}"
                + (f" (unique_id {entity.unique_id!r})" if entity.unique_id else "")
            )
        if entity.unique_id is None and self.hub.states.get(entity_id) is not None:
            raise ValueError(f"{entity_id} already has a state set by someone else")
        entity.entity_id = entity_id
        entity.platform = platform
        entity.hub = self.hub
        if disabled:
            self.disabled[entity_id] = entity
            _LOGGER.debug("%s of %s is disabled: no state", entity_id, platform)
            return
        self._ensure_services(domain)
        await self._async_activate(entity)

    async def _async_activate(self, entity: Entity) -> None:
        entity_id = entity.entity_id
        assert entity_id is not None
        entity.hub = self.hub
        entity._added = True
        self.entities[entity_id] = entity
        entity.async_write_state()
        try:
            await entity.async_added_to_hub()
        except Exception:
            _LOGGER.exception("Error adding %s of %s; removing it", entity_id, entity.platform)
            await self.async_remove(entity_id)

    @callback
    def _ensure_services(self, domain: str) -> None:
        if domain in self.service_domains:
            return
        self.service_domains.add(domain)
        from linli.entity.services import async_register_domain_services

        async_register_domain_services(self.hub, domain)

    # ------------------------------------------------------------------ removing
    async def async_remove(self, entity_id: str, *, keep_disabled: bool = False) -> bool:
        """Remove ``entity_id`` from the hub; with ``keep_disabled`` keep it dormant."""
        entity = self.entities.pop(entity_id, None)
        if entity is None:
            dormant = self.disabled.pop(entity_id, None)
            if dormant is not None:
                if keep_disabled:
                    self.disabled[entity_id] = dormant
                else:
                    dormant.hub = None
            return dormant is not None
        entity._added = False
        try:
            await entity.async_will_remove_from_hub()
        except Exception:
            _LOGGER.exception("Error removing %s of %s", entity_id, entity.platform)
        self.hub.states.async_remove(entity_id)
        if keep_disabled:
            self.disabled[entity_id] = entity
        else:
            entity.hub = None
        return True

    async def async_remove_platform(self, platform: str) -> int:
        """Remove every entity of ``platform``; return how many."""
        doomed = [
            entity_id
            for entity_id, entity in (*self.entities.items(), *self.disabled.items())
            if entity.platform == platform
        ]
        for entity_id in doomed:
            await self.async_remove(entity_id)
        return len(doomed)

    async def async_remove_all(self) -> None:
        """Remove every entity (the entity model is unloading)."""
        for entity_id in [*self.entities, *self.disabled]:
            await self.async_remove(entity_id)

    @callback
    def async_shutdown(self) -> None:
        """Stop following the registries."""
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()

    # ------------------------------------------------------------------ following changes
    @callback
    def platform_loaded(self, platform: str | None) -> bool:
        """Whether ``platform`` is not known to the loader as unloaded, failed or retrying."""
        loader = self.hub.loader
        if loader is None or platform is None:
            return True
        record = loader.records.get(platform)
        return record is None or str(record.status) not in _GONE

    @callback
    def _async_platform_gone(self, event: Event[Mapping[str, Any]]) -> None:
        platform = event.data.get("domain")
        if isinstance(platform, str):
            self.hub.async_create_task(
                self.async_remove_platform(platform), f"remove entities of {platform}"
            )

    @callback
    def _async_entity_registry_updated(self, event: Event[Mapping[str, Any]]) -> None:
        data = event.data
        action = data.get("action")
        entity_id = data.get("entity_id")
        if not isinstance(entity_id, str):
            return
        if action == "remove":
            if entity_id in self.entities or entity_id in self.disabled:
                self.hub.async_create_task(self.async_remove(entity_id), f"remove {entity_id}")
            return
        if action != "update":
            return
        old_id = data.get("old_entity_id", entity_id)
        entity = self.entities.get(old_id) or self.disabled.get(old_id)
        if entity is None:
            return
        self.hub.async_create_task(
            self._async_follow_update(entity, old_id, entity_id), f"update {entity_id}"
        )

    async def _async_follow_update(self, entity: Entity, old_id: str, entity_id: str) -> None:
        entry = self.hub.registries.entities.async_get(entity_id)
        if entry is None:
            return
        was_active = old_id in self.entities
        if old_id != entity_id or (was_active and entry.disabled):
            await self.async_remove(old_id, keep_disabled=True)
            self.disabled.pop(old_id, None)
            entity.entity_id = entity_id
            self.disabled[entity_id] = entity
        entity.registry_entry = entry
        if entity_id in self.disabled and not entry.disabled:
            del self.disabled[entity_id]
            self._ensure_services(entity.domain)
            await self._async_activate(entity)
        elif entity_id in self.entities:
            entity.async_write_state()

    @callback
    def _async_device_registry_updated(self, event: Event[Mapping[str, Any]]) -> None:
        data = event.data
        if data.get("action") != "update":
            return
        changes = data.get("changes") or {}
        registries = self.hub.registries
        device = registries.devices.async_get(data.get("id", ""))
        if device is None:
            return
        if "disabled_by" in changes:
            self._async_follow_device_disabled(device.id, device.disabled)
        if "name" not in changes and "name_by_user" not in changes:
            return
        for entry in registries.entities.entities_for_device(device.id):
            entity = self.entities.get(entry.entity_id) or self.disabled.get(entry.entity_id)
            if entity is not None:
                entity.device_name = device.display_name
                if entry.entity_id in self.entities:
                    entity.async_write_state()

    @callback
    def _async_follow_device_disabled(self, device_id: str, disabled: bool) -> None:
        """A disabled device disables its entities (``disabled_by="device"``), as in Home
        Assistant; enabling it again enables those, and only those."""
        entities = self.hub.registries.entities
        for entry in entities.entities_for_device(device_id):
            if disabled and entry.disabled_by is None:
                entities.async_update_entity(entry.entity_id, disabled_by=DISABLED_DEVICE)
            elif not disabled and entry.disabled_by == DISABLED_DEVICE:
                entities.async_update_entity(entry.entity_id, disabled_by=None)


_MANAGER: Final = HubKey[EntityManager]("entity_manager")


def get_manager(hub: Hub) -> EntityManager:
    """Return the hub's entity manager, making it on first use."""
    manager = hub.data.get(_MANAGER)
    if manager is None:
        manager = hub.data[_MANAGER] = EntityManager(hub)
    return manager


async def async_unload_manager(hub: Hub) -> None:
    """Remove every entity and forget the manager (the ``entity`` integration unloads)."""
    manager = hub.data.pop(_MANAGER)
    if manager is not None:
        await manager.async_remove_all()
        manager.async_shutdown()


# ---------------------------------------------------------------------- public API
async def async_add_entities(hub: Hub, platform: str, entities: Iterable[Entity]) -> None:
    """Add ``entities`` of the integration ``platform`` to the hub.

    For each: its device is found or created from ``device_info`` (a new device placed in
    ``suggested_area``); with a ``unique_id`` it is registered in the entity registry (its
    entity_id kept across restarts), without one it gets a free entity_id from its name and
    is not registered. A disabled registry entry (or device) gets no state; otherwise the
    state is written and ``async_added_to_hub`` awaited. The first entity of a domain
    registers that domain's services. An entity that cannot be added (a duplicate, bad
    device info) is logged with the platform's name; the others are added.
    """
    manager = get_manager(hub)
    for entity in entities:
        try:
            await manager.async_add(platform, entity)
        except Exception:
            _LOGGER.exception("%s could not add %r", platform, entity)


async def async_remove_entity(
    hub: Hub, entity_id: str, *, remove_from_registry: bool = False
) -> None:
    """Remove ``entity_id`` from the hub: ``async_will_remove_from_hub``, then its state.

    With ``remove_from_registry`` its entity registry entry goes too (the device is gone for
    good); otherwise the entry keeps its entity_id for when the entity comes back.
    Harmless for an unknown entity_id.
    """
    manager = hub.data.get(_MANAGER)
    if manager is not None:
        await manager.async_remove(entity_id)
    if remove_from_registry and entity_id in hub.registries.entities:
        hub.registries.entities.async_remove(entity_id)


async def async_remove_platform(hub: Hub, platform: str) -> int:
    """Remove every entity the integration ``platform`` added (call it from its unload)."""
    manager = hub.data.get(_MANAGER)
    return 0 if manager is None else await manager.async_remove_platform(platform)


def get_entity(hub: Hub, entity_id: str) -> Entity | None:
    """Return the entity object in the hub for ``entity_id``, or None."""
    manager = hub.data.get(_MANAGER)
    return None if manager is None else manager.entities.get(entity_id)


# ---------------------------------------------------------------------- helpers
def _suggested_object_id(entity: Entity) -> str | None:
    if entity.entity_id is not None:
        return split_entity_id(entity.entity_id)[1]
    if entity.has_entity_name and entity.device_name:
        named = f"{entity.device_name} {entity.name}" if entity.name else entity.device_name
        if slugify_object_id(named) is None and entity.unique_id:
            # A device named without Latin letters (a Chinese name) says nothing in an id, and
            # the entity's own name alone ("Power") would repeat for every device: the unique
            # id tells them apart ("meter/b1-u1-101/power_w" → meter_b1_u1_101_power_w).
            return entity.unique_id
        return named
    return entity.name


def _entity_id_without_registry(hub: Hub, entity: Entity) -> str:
    if entity.entity_id is not None:
        if not valid_entity_id(entity.entity_id):
            raise ValueError(f"invalid entity_id {entity.entity_id!r}")
        if split_entity_id(entity.entity_id)[0] != entity.domain:
            raise ValueError(f"{entity.entity_id} is not in the domain {entity.domain}")
        return entity.entity_id
    suggested = _suggested_object_id(entity)
    object_id = (suggested and slugify_object_id(suggested)) or entity.domain
    return hub.registries.entities.async_generate_entity_id(entity.domain, object_id)


def _device_from_info(registries: Registries, platform: str, info: DeviceInfo) -> DeviceEntry:
    devices = registries.devices
    fields: dict[str, Any] = {key: info[key] for key in _DEVICE_FIELDS if key in info}
    via = info.get("via_device")
    if via is not None:
        via_entry = devices.async_get_device(identifiers=[via])
        if via_entry is None:
            _LOGGER.warning("%s: via_device %s is not a known device", platform, via)
        else:
            fields["via_device_id"] = via_entry.id
    area_id = _area_id(registries, info.get("suggested_area"), platform)
    return devices.async_get_or_create(
        platform,
        identifiers=info.get("identifiers"),
        connections=info.get("connections"),
        area_id=area_id,
        **{key: fields.get(key, UNDEFINED) for key in (*_DEVICE_FIELDS, "via_device_id")},
    )


def _area_id(registries: Registries, suggested: str | None, platform: str) -> str | None:
    if not suggested:
        return None
    areas = registries.areas
    if suggested in areas:
        return suggested
    for area in areas:
        if suggested == area.name or suggested in area.names.values():
            return area.id
    _LOGGER.warning("%s suggested the area %r, which does not exist", platform, suggested)
    return None
