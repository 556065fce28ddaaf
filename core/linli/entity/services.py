"""The domain services (Home Assistant's names and fields), dispatched to entity objects.

Each is registered once per hub, when the first entity of its domain is added. A call
targets ``entity_id`` (one, a list, a comma-separated string, or ``"all"``), ``area_id``
(the area and every area below it) and ``device_id``, at the top level or under
``target``; it runs the entity method on every targeted entity of the domain that is in
the hub, available and whose integration is still loaded, concurrently, under the call's
context. Targets that match no such entity are logged and skipped, as Home Assistant does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.entity.entity import Entity
from linli.entity.platform import OWNER, get_manager
from linli.helpers import config_validation as cv
from linli.services import ServiceCall

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

ENTITY_MATCH_ALL: Final = "all"
ENTITY_MATCH_NONE: Final = "none"
TARGET_KEYS: Final = ("entity_id", "area_id", "device_id")

EntityAction = Callable[[Any, ServiceCall], Awaitable[None]]


def _entity_ids(value: Any) -> str | list[str]:
    if isinstance(value, str) and value.strip().lower() in (ENTITY_MATCH_ALL, ENTITY_MATCH_NONE):
        return value.strip().lower()
    return cv.entity_ids(value)


def _id_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [cv.string(item) for item in cv.ensure_list(value)]


def _merge_target(value: Any) -> Any:
    """Move the keys of ``target`` to the top level, as the WebSocket API does."""
    if isinstance(value, Mapping) and isinstance(value.get("target"), Mapping):
        merged = {key: item for key, item in value.items() if key != "target"}
        for key, item in value["target"].items():
            if key in TARGET_KEYS and key in merged:
                merged[key] = [*_id_list(merged[key]), *_id_list(item)]
            else:
                merged[key] = item
        return merged
    return value


def _needs_target(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if not any(key in value for key in TARGET_KEYS):
        raise vol.Invalid("must contain at least one of entity_id, area_id, device_id")
    return value


def entity_service_schema(fields: Mapping[Any, Any] | None = None) -> vol.Schema:
    """A service schema: the target keys plus ``fields`` (Home Assistant's shape)."""
    return vol.Schema(
        vol.All(
            _merge_target,
            vol.Schema(
                {
                    vol.Optional("entity_id"): _entity_ids,
                    vol.Optional("area_id"): _id_list,
                    vol.Optional("device_id"): _id_list,
                    **(fields or {}),
                }
            ),
            _needs_target,
        )
    )


def _kwargs(call: ServiceCall) -> dict[str, Any]:
    return {key: value for key, value in call.data.items() if key not in TARGET_KEYS}


def _method(name: str) -> EntityAction:
    """Call ``entity.<name>(**fields)``."""

    async def run(entity: Any, call: ServiceCall) -> None:
        await getattr(entity, name)(**_kwargs(call))

    return run


@dataclass(frozen=True, slots=True)
class EntityService:
    """One domain service: its schema and what it does to each entity."""

    action: EntityAction
    fields: Mapping[Any, Any] = field(default_factory=dict)
    required_method: str | None = None


async def _press(entity: Any, call: ServiceCall) -> None:
    await entity._async_press_action()


async def _siren_on(entity: Any, call: ServiceCall) -> None:
    from linli.entity.siren import process_turn_on_params

    await entity.async_turn_on(**process_turn_on_params(entity, _kwargs(call)))


async def _snapshot(entity: Any, call: ServiceCall) -> None:
    from linli.entity.camera import async_snapshot

    await async_snapshot(entity, call.data["filename"])


_POSITION: Final = vol.All(vol.Coerce(int), vol.Range(min=0, max=100))
_CODE: Final = {vol.Optional("code"): cv.string}

DOMAIN_SERVICES: Final[Mapping[str, Mapping[str, EntityService]]] = {
    "switch": {
        "turn_on": EntityService(_method("async_turn_on")),
        "turn_off": EntityService(_method("async_turn_off")),
        "toggle": EntityService(_method("async_toggle")),
    },
    "lock": {
        "lock": EntityService(_method("async_lock"), _CODE),
        "unlock": EntityService(_method("async_unlock"), _CODE),
        "open": EntityService(_method("async_open"), _CODE),
    },
    "cover": {
        "open_cover": EntityService(_method("async_open_cover")),
        "close_cover": EntityService(_method("async_close_cover")),
        "stop_cover": EntityService(_method("async_stop_cover")),
        "toggle": EntityService(_method("async_toggle")),
        "set_cover_position": EntityService(
            _method("async_set_cover_position"), {vol.Required("position"): _POSITION}
        ),
    },
    "button": {"press": EntityService(_press)},
    "siren": {
        "turn_on": EntityService(
            _siren_on,
            {
                vol.Optional("tone"): vol.Any(vol.Coerce(int), cv.string),
                vol.Optional("volume_level"): vol.All(
                    vol.Coerce(float), vol.Range(min=0.0, max=1.0)
                ),
                vol.Optional("duration"): vol.All(vol.Coerce(int), vol.Range(min=0)),
            },
        ),
        "turn_off": EntityService(_method("async_turn_off")),
        "toggle": EntityService(_method("async_toggle")),
    },
    "camera": {"snapshot": EntityService(_snapshot, {vol.Required("filename"): cv.string})},
}
"""The services of each entity domain that has any."""


def async_register_domain_services(hub: Hub, domain: str) -> None:
    """Register ``domain``'s services on ``hub`` (owned by the entity model)."""
    for name, service in DOMAIN_SERVICES.get(domain, {}).items():
        hub.services.async_register(
            domain,
            name,
            _make_handler(hub, domain, name, service),
            entity_service_schema(service.fields),
            owner=OWNER,
        )


def _make_handler(
    hub: Hub, domain: str, name: str, service: EntityService
) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handle(call: ServiceCall) -> None:
        entities = resolve_entities(hub, domain, call.data)
        if not entities:
            return
        for entity in entities:
            entity.async_set_context(call.context)
        results = await asyncio.gather(
            *(service.action(entity, call) for entity in entities), return_exceptions=True
        )
        errors = [result for result in results if isinstance(result, BaseException)]
        for error in errors[1:]:
            _LOGGER.error("%s.%s failed on another entity too: %r", domain, name, error)
        if errors:
            raise errors[0]

    handle.__name__ = f"{domain}_{name}"
    return handle


def resolve_entities(hub: Hub, domain: str, data: Mapping[str, Any]) -> list[Entity]:
    """Return the entities of ``domain`` a call's targets stand for (see the module doc)."""
    manager = get_manager(hub)
    live = manager.entities
    wanted: dict[str, None] = {}
    entity_ids = data.get("entity_id")
    if entity_ids == ENTITY_MATCH_ALL:
        wanted.update(dict.fromkeys(eid for eid, e in live.items() if e.domain == domain))
    elif isinstance(entity_ids, list):
        wanted.update(dict.fromkeys(entity_ids))
    area_ids = data.get("area_id") or []
    device_ids = data.get("device_id") or []
    if area_ids or device_ids:
        registries = hub.registries
        for area_id in area_ids:
            if area_id not in registries.areas:
                _LOGGER.warning("%s: unknown area %s in the target", domain, area_id)
                continue
            for entry in registries.entities.entities_in_area(area_id, include_descendants=True):
                if entry.domain == domain and not entry.disabled:
                    wanted[entry.entity_id] = None
        for device_id in device_ids:
            for entry in registries.entities.entities_for_device(device_id):
                if entry.domain == domain and not entry.disabled:
                    wanted[entry.entity_id] = None
    found: list[Entity] = []
    missing: list[str] = []
    for entity_id in wanted:
        entity = live.get(entity_id)
        if (
            entity is None
            or entity.domain != domain
            or not entity.available
            or not manager.platform_loaded(entity.platform)
        ):
            missing.append(entity_id)
            continue
        found.append(entity)
    if missing and entity_ids != ENTITY_MATCH_ALL:
        _LOGGER.warning(
            "%s: referenced entities %s are missing or not currently available",
            domain,
            ", ".join(missing),
        )
    return found
