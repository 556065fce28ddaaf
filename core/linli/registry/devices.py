"""The device registry: the physical things integrations talk to.

A device is found again by any of its ``identifiers`` (``(domain, id)`` pairs the integration
knows, e.g. ``("hikvision", "DS-K1T671-123")``) or ``connections`` (``("mac", "aa:bb:…")``),
so an integration calls :meth:`DeviceRegistry.async_get_or_create` every time it starts and gets
the same entry. The user's choices (area, name, disabled) stay with the device.

When a device is removed the entity registry removes its entities (it listens to the
``device_registry_updated`` event); when an area is removed its devices lose their area.
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
from linli.registry.areas import EVENT_AREA_REGISTRY_UPDATED, UNDEFINED, UndefinedType
from linli.storage import Store
from linli.util.ids import random_hex

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.registry.areas import AreaRegistry

_LOGGER = logging.getLogger(__name__)

EVENT_DEVICE_REGISTRY_UPDATED: Final = "device_registry_updated"
STORAGE_KEY: Final = "linli.devices"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

DISABLED_USER: Final = "user"
DISABLED_INTEGRATION: Final = "integration"
DISABLED_BY_VALUES: Final = frozenset({DISABLED_USER, DISABLED_INTEGRATION})

CONNECTION_MAC: Final = "mac"

_TEXT_FIELDS: Final = (
    "manufacturer",
    "model",
    "name",
    "sw_version",
    "hw_version",
    "serial_number",
)

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEntry:
    """One device (read-only; change it through the registry)."""

    id: str
    integration: str
    """The domain of the integration that owns the device."""
    identifiers: frozenset[Pair] = frozenset()
    connections: frozenset[Pair] = frozenset()
    manufacturer: str | None = None
    model: str | None = None
    name: str | None = None
    name_by_user: str | None = None
    sw_version: str | None = None
    hw_version: str | None = None
    serial_number: str | None = None
    area_id: str | None = None
    via_device_id: str | None = None
    """The device this one reaches the hub through (a gateway, an NVR)."""
    disabled_by: str | None = None
    """``"user"``, ``"integration"`` or None."""
    created_at: datetime
    modified_at: datetime

    @property
    def disabled(self) -> bool:
        """Whether the device is disabled."""
        return self.disabled_by is not None

    @property
    def display_name(self) -> str | None:
        """The user's name for the device, else the integration's."""
        return self.name_by_user or self.name

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as plain data (storage and APIs)."""
        return {
            "id": self.id,
            "integration": self.integration,
            "identifiers": sorted([list(pair) for pair in self.identifiers]),
            "connections": sorted([list(pair) for pair in self.connections]),
            "manufacturer": self.manufacturer,
            "model": self.model,
            "name": self.name,
            "name_by_user": self.name_by_user,
            "sw_version": self.sw_version,
            "hw_version": self.hw_version,
            "serial_number": self.serial_number,
            "area_id": self.area_id,
            "via_device_id": self.via_device_id,
            "disabled_by": self.disabled_by,
            "created_at": self.created_at.isoformat(),
            "modified_at": self.modified_at.isoformat(),
        }


def format_mac(mac: str) -> str:
    """Return a MAC address as lower-case ``aa:bb:cc:dd:ee:ff`` (other text unchanged)."""
    digits = re.sub(r"[^0-9a-fA-F]", "", mac)
    if len(digits) == 12 and re.fullmatch(r"[0-9a-fA-F:.\- ]+", mac):
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()
    return mac


def _pairs(value: Iterable[Iterable[str]] | None, what: str) -> frozenset[Pair]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        raise RegistryError(f"{what} must be (kind, value) pairs, not a string")
    result = set()
    for item in value:
        pair = tuple(item)
        if len(pair) != 2 or not all(isinstance(part, str) and part for part in pair):
            raise RegistryError(f"{what} must be (kind, value) pairs of strings, not {item!r}")
        result.add((pair[0], pair[1]))
    return frozenset(result)


def _connections(value: Iterable[Iterable[str]] | None) -> frozenset[Pair]:
    return frozenset(
        (kind, format_mac(val) if kind == CONNECTION_MAC else val)
        for kind, val in _pairs(value, "connections")
    )


def _check_disabled_by(value: str | None) -> None:
    if value is not None and value not in DISABLED_BY_VALUES:
        raise RegistryError(
            f"disabled_by must be one of {sorted(DISABLED_BY_VALUES)} or None, not {value!r}"
        )


class DeviceRegistry:
    """The hub's devices, persisted in ``linli.devices``."""

    def __init__(self, hub: Hub, areas: AreaRegistry) -> None:
        """Create an empty registry; :meth:`async_load` fills it."""
        self._hub = hub
        self._areas = areas
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._devices: dict[str, DeviceEntry] = {}
        self._by_identifier: dict[Pair, str] = {}
        self._by_connection: dict[Pair, str] = {}
        areas.async_register_dependants("device", self._count_in_area, blocks_delete=False)
        hub.bus.async_listen(
            EVENT_AREA_REGISTRY_UPDATED, self._async_area_changed, owner="device registry"
        )

    # ------------------------------------------------------------------ loading and saving
    async def async_load(self) -> None:
        """Load the stored devices."""
        data = await self._store.async_load()
        if data is None:
            return
        try:
            entries = [_entry_from_dict(item) for item in data["devices"]]
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError(f"{self._store.path} holds a malformed device: {err!r}") from err
        for entry in entries:
            self._index(entry)

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {"devices": [entry.as_dict() for entry in self._devices.values()]}

    def _index(self, entry: DeviceEntry) -> None:
        self._devices[entry.id] = entry
        for pair in entry.identifiers:
            self._by_identifier[pair] = entry.id
        for pair in entry.connections:
            self._by_connection[pair] = entry.id

    def _unindex(self, entry: DeviceEntry) -> None:
        for pair in entry.identifiers:
            if self._by_identifier.get(pair) == entry.id:
                del self._by_identifier[pair]
        for pair in entry.connections:
            if self._by_connection.get(pair) == entry.id:
                del self._by_connection[pair]

    # ------------------------------------------------------------------ reading
    @property
    def devices(self) -> Mapping[str, DeviceEntry]:
        """All devices by id (read-only view)."""
        return MappingProxyType(self._devices)

    def __iter__(self) -> Iterator[DeviceEntry]:
        return iter(list(self._devices.values()))

    def __len__(self) -> int:
        return len(self._devices)

    @callback
    def async_get(self, device_id: str) -> DeviceEntry | None:
        """Return the device ``device_id``, or None."""
        return self._devices.get(device_id)

    @callback
    def async_get_device(
        self,
        identifiers: Iterable[Iterable[str]] | None = None,
        connections: Iterable[Iterable[str]] | None = None,
    ) -> DeviceEntry | None:
        """Return the device having any of ``identifiers`` or ``connections``, or None."""
        for pair in _pairs(identifiers, "identifiers"):
            if (device_id := self._by_identifier.get(pair)) is not None:
                return self._devices[device_id]
        for pair in _connections(connections):
            if (device_id := self._by_connection.get(pair)) is not None:
                return self._devices[device_id]
        return None

    @callback
    def devices_in_area(self, area_id: str) -> list[DeviceEntry]:
        """Return the devices placed directly in ``area_id``."""
        return [entry for entry in self._devices.values() if entry.area_id == area_id]

    @callback
    def devices_for_integration(self, integration: str) -> list[DeviceEntry]:
        """Return the devices owned by ``integration``."""
        return [entry for entry in self._devices.values() if entry.integration == integration]

    def _count_in_area(self, area_id: str) -> int:
        return sum(1 for entry in self._devices.values() if entry.area_id == area_id)

    # ------------------------------------------------------------------ changing
    @callback
    def async_get_or_create(
        self,
        integration: str,
        *,
        identifiers: Iterable[Iterable[str]] | None = None,
        connections: Iterable[Iterable[str]] | None = None,
        manufacturer: str | UndefinedType | None = UNDEFINED,
        model: str | UndefinedType | None = UNDEFINED,
        name: str | UndefinedType | None = UNDEFINED,
        sw_version: str | UndefinedType | None = UNDEFINED,
        hw_version: str | UndefinedType | None = UNDEFINED,
        serial_number: str | UndefinedType | None = UNDEFINED,
        via_device_id: str | UndefinedType | None = UNDEFINED,
        area_id: str | None = None,
        disabled_by: str | None = None,
    ) -> DeviceEntry:
        """Return the device matching any identifier or connection, creating it if none does.

        An existing device gets the new identifiers and connections added and the given
        fields updated. ``area_id`` and ``disabled_by`` only apply to a new device: afterwards
        they are the user's to change.
        """
        idents = _pairs(identifiers, "identifiers")
        conns = _connections(connections)
        if not idents and not conns:
            raise RegistryError("a device needs at least one identifier or connection")
        fields: dict[str, Any] = {
            key: value
            for key, value in (
                ("manufacturer", manufacturer),
                ("model", model),
                ("name", name),
                ("sw_version", sw_version),
                ("hw_version", hw_version),
                ("serial_number", serial_number),
                ("via_device_id", via_device_id),
            )
            if value is not UNDEFINED
        }
        existing = self.async_get_device(idents, conns)
        if existing is not None:
            return self._async_update(
                existing.id,
                fields,
                identifiers=existing.identifiers | idents,
                connections=existing.connections | conns,
            )
        if not isinstance(integration, str) or not integration:
            raise RegistryError("a device needs the domain of the integration that owns it")
        _check_disabled_by(disabled_by)
        self._check_area(area_id)
        device_id = random_hex(16)
        self._check_via(device_id, fields.get("via_device_id"))
        for key in _TEXT_FIELDS:
            _check_text(key, fields.get(key))
        now = self._hub.clock.utcnow()
        entry = DeviceEntry(
            id=device_id,
            integration=integration,
            identifiers=idents,
            connections=conns,
            area_id=area_id,
            disabled_by=disabled_by,
            created_at=now,
            modified_at=now,
            **fields,
        )
        self._index(entry)
        _LOGGER.debug("Device %s of %s created", device_id, integration)
        self._async_fire("create", device_id, {})
        self._async_schedule_save()
        return entry

    @callback
    def async_update(
        self,
        device_id: str,
        *,
        area_id: str | UndefinedType | None = UNDEFINED,
        name_by_user: str | UndefinedType | None = UNDEFINED,
        disabled_by: str | UndefinedType | None = UNDEFINED,
        manufacturer: str | UndefinedType | None = UNDEFINED,
        model: str | UndefinedType | None = UNDEFINED,
        name: str | UndefinedType | None = UNDEFINED,
        sw_version: str | UndefinedType | None = UNDEFINED,
        hw_version: str | UndefinedType | None = UNDEFINED,
        serial_number: str | UndefinedType | None = UNDEFINED,
        via_device_id: str | UndefinedType | None = UNDEFINED,
        identifiers: Iterable[Iterable[str]] | UndefinedType = UNDEFINED,
        connections: Iterable[Iterable[str]] | UndefinedType = UNDEFINED,
    ) -> DeviceEntry:
        """Change a device; ``None`` clears a field, leaving it out keeps it."""
        fields = {
            key: value
            for key, value in (
                ("area_id", area_id),
                ("name_by_user", name_by_user),
                ("disabled_by", disabled_by),
                ("manufacturer", manufacturer),
                ("model", model),
                ("name", name),
                ("sw_version", sw_version),
                ("hw_version", hw_version),
                ("serial_number", serial_number),
                ("via_device_id", via_device_id),
            )
            if value is not UNDEFINED
        }
        return self._async_update(
            device_id,
            fields,
            identifiers=None if identifiers is UNDEFINED else _pairs(identifiers, "identifiers"),
            connections=None if connections is UNDEFINED else _connections(connections),
        )

    def _async_update(
        self,
        device_id: str,
        fields: dict[str, Any],
        *,
        identifiers: frozenset[Pair] | None = None,
        connections: frozenset[Pair] | None = None,
    ) -> DeviceEntry:
        old = self._devices.get(device_id)
        if old is None:
            raise RegistryError(f"unknown device {device_id!r}")
        if identifiers is not None:
            fields["identifiers"] = identifiers
        if connections is not None:
            fields["connections"] = connections
        changes = {key: value for key, value in fields.items() if getattr(old, key) != value}
        if not changes:
            return old
        if "area_id" in changes:
            self._check_area(changes["area_id"])
        if "disabled_by" in changes:
            _check_disabled_by(changes["disabled_by"])
        if "via_device_id" in changes:
            self._check_via(device_id, changes["via_device_id"])
        for key in (*_TEXT_FIELDS, "name_by_user"):
            if key in changes:
                _check_text(key, changes[key])
        new_idents = changes.get("identifiers", old.identifiers)
        new_conns = changes.get("connections", old.connections)
        if not new_idents and not new_conns:
            raise RegistryError("a device needs at least one identifier or connection")
        for pair in new_idents:
            owner = self._by_identifier.get(pair)
            if owner not in (None, device_id):
                raise RegistryError(f"identifier {pair!r} already belongs to device {owner!r}")
        for pair in new_conns:
            owner = self._by_connection.get(pair)
            if owner not in (None, device_id):
                raise RegistryError(f"connection {pair!r} already belongs to device {owner!r}")
        new = replace(old, **changes, modified_at=self._hub.clock.utcnow())
        self._unindex(old)
        self._index(new)
        self._async_fire("update", device_id, {key: getattr(old, key) for key in changes})
        self._async_schedule_save()
        return new

    @callback
    def async_remove(self, device_id: str) -> None:
        """Remove a device; its entities are removed, devices behind it are unlinked."""
        entry = self._devices.get(device_id)
        if entry is None:
            raise RegistryError(f"unknown device {device_id!r}")
        self._unindex(entry)
        del self._devices[device_id]
        _LOGGER.debug("Device %s removed", device_id)
        for other in list(self._devices.values()):
            if other.via_device_id == device_id:
                self._async_update(other.id, {"via_device_id": None})
        self._async_fire("remove", device_id, {})
        self._async_schedule_save()

    # ------------------------------------------------------------------ helpers
    def _check_area(self, area_id: str | None) -> None:
        if area_id is not None and self._areas.async_get(area_id) is None:
            raise RegistryError(f"area {area_id!r} does not exist")

    def _check_via(self, device_id: str, via_device_id: str | None) -> None:
        if via_device_id is None:
            return
        if via_device_id == device_id:
            raise RegistryError("a device cannot be connected via itself")
        if via_device_id not in self._devices:
            raise RegistryError(f"via device {via_device_id!r} does not exist")

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _async_fire(self, action: str, device_id: str, changes: dict[str, Any]) -> None:
        self._hub.bus.async_fire(
            EVENT_DEVICE_REGISTRY_UPDATED,
            {"action": action, "id": device_id, "changes": _plain(changes)},
        )

    @callback
    def _async_area_changed(self, event: Event[Mapping[str, Any]]) -> None:
        if event.data.get("action") != "remove":
            return
        area_id = event.data["id"]
        for entry in self.devices_in_area(area_id):
            self._async_update(entry.id, {"area_id": None})


def _check_text(key: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise RegistryError(f"{key} must be a string or None, not {value!r}")


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    """Make event data JSON-friendly (pairs become sorted lists)."""
    return {
        key: sorted([list(pair) for pair in value]) if isinstance(value, frozenset) else value
        for key, value in changes.items()
    }


def _entry_from_dict(item: Mapping[str, Any]) -> DeviceEntry:
    return DeviceEntry(
        id=item["id"],
        integration=item["integration"],
        identifiers=frozenset((a, b) for a, b in item.get("identifiers") or ()),
        connections=frozenset((a, b) for a, b in item.get("connections") or ()),
        manufacturer=item.get("manufacturer"),
        model=item.get("model"),
        name=item.get("name"),
        name_by_user=item.get("name_by_user"),
        sw_version=item.get("sw_version"),
        hw_version=item.get("hw_version"),
        serial_number=item.get("serial_number"),
        area_id=item.get("area_id"),
        via_device_id=item.get("via_device_id"),
        disabled_by=item.get("disabled_by"),
        created_at=datetime.fromisoformat(item["created_at"]),
        modified_at=datetime.fromisoformat(item["modified_at"]),
    )
