"""The hub's persisted registries: areas, devices, entities, and people.

Each registry keeps typed, read-only entries, fires ``<name>_registry_updated`` on every
change (``{"action": "create" | "update" | "remove", "id" | "entity_id": …, "changes": {field:
old value}}``) and writes itself to ``<config>/.linli/linli.<name>`` a few seconds after a
change, many changes sharing one write. Their methods are callbacks: call them on the loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from linli.registry.areas import AreaEntry, AreaKind, AreaRegistry
from linli.registry.devices import DeviceEntry, DeviceRegistry
from linli.registry.entities import EntityEntry, EntityRegistry
from linli.registry.people import Household, PeopleRegistry, Person

if TYPE_CHECKING:
    from linli.hub import Hub

__all__ = [
    "AreaEntry",
    "AreaKind",
    "AreaRegistry",
    "DeviceEntry",
    "DeviceRegistry",
    "EntityEntry",
    "EntityRegistry",
    "Household",
    "PeopleRegistry",
    "Person",
    "Registries",
]

_LOGGER = logging.getLogger(__name__)


class Registries:
    """The hub's registries, loaded in dependency order."""

    def __init__(self, hub: Hub) -> None:
        """Create the (empty) registries and wire them to each other."""
        self.areas = AreaRegistry(hub)
        self.devices = DeviceRegistry(hub, self.areas)
        self.entities = EntityRegistry(hub, self.areas, self.devices)
        self.people = PeopleRegistry(hub, self.areas)

    async def async_load(self) -> None:
        """Load every registry: areas, devices, entities, then people."""
        await self.areas.async_load()
        await self.devices.async_load()
        await self.entities.async_load()
        await self.people.async_load()

    async def async_save_now(self) -> None:
        """Write every registry that has unsaved changes; one failing does not stop the rest."""
        for registry in (self.areas, self.devices, self.entities, self.people):
            try:
                await registry.async_flush()
            except Exception:
                _LOGGER.exception("Could not write the %s registry", type(registry).__name__)
