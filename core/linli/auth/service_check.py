"""The service-call check the core runs for calls made on behalf of a user.

A call's targets are its ``entity_id``, ``area_id`` and ``device_id`` (top level or under
``target``); areas and devices are expanded to their entities (areas with their subtrees).
Every target must be in the user's scope. ``alert.*`` services are checked against the alert
(or, for ``alert.raise``, the area it is raised in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from linli.auth.permissions import ALERT_DOMAIN, Permissions
from linli.exceptions import Unauthorized

if TYPE_CHECKING:
    from linli.auth.users import User
    from linli.hub import Hub

TARGET_KEYS: Final = ("entity_id", "area_id", "device_id")
ENTITY_MATCH_ALL: Final = "all"
ENTITY_MATCH_NONE: Final = "none"


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item) for item in value]
    return [str(value)]


def _targets(data: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Return the call's targets by key, or None when it names none."""
    found: dict[str, list[str]] = {}
    sources: list[Mapping[str, Any]] = [data]
    target = data.get("target")
    if isinstance(target, Mapping):
        sources.append(target)
    for source in sources:
        for key in TARGET_KEYS:
            if key in source:
                found.setdefault(key, []).extend(_ids(source[key]))
    return found or None


def _refuse(user_id: str | None, what: str) -> Unauthorized:
    return Unauthorized(what, user_id=user_id, permission="call_service")


def check_service_call(
    hub: Hub,
    user: User | None,
    permissions: Permissions | None,
    domain: str,
    service: str,
    data: Mapping[str, Any],
    user_id: str | None,
) -> None:
    """Raise :class:`Unauthorized` unless ``user`` may call ``domain.service`` with ``data``."""
    if user is None or permissions is None or not user.is_active:
        raise _refuse(user_id, f"unknown or inactive user may not call {domain}.{service}")
    if permissions.is_admin:
        return
    if domain == ALERT_DOMAIN:
        _check_alert_call(hub, permissions, service, data, user_id)
        return
    targets = _targets(data)
    if targets is None:
        raise _refuse(user_id, f"{domain}.{service} targets no entity: admins only")
    registries = hub.registries
    entity_ids: list[str] = []
    for entity_id in targets.get("entity_id", ()):
        if entity_id == ENTITY_MATCH_ALL:
            raise _refuse(user_id, f"{domain}.{service} on all entities: admins only")
        if entity_id != ENTITY_MATCH_NONE:
            entity_ids.append(entity_id)
    for area_id in targets.get("area_id", ()):
        if not permissions.area_in_scope(area_id):
            raise _refuse(user_id, f"area {area_id} is outside your scope")
        if area_id in registries.areas:
            entity_ids.extend(
                entry.entity_id
                for entry in registries.entities.entities_in_area(area_id, include_descendants=True)
            )
    for device_id in targets.get("device_id", ()):
        device = registries.devices.async_get(device_id)
        if device is None or not permissions.area_in_scope(device.area_id):
            raise _refuse(user_id, f"device {device_id} is outside your scope")
        entity_ids.extend(
            entry.entity_id for entry in registries.entities.entities_for_device(device_id)
        )
    if not entity_ids and not targets.get("area_id") and not targets.get("device_id"):
        raise _refuse(user_id, f"{domain}.{service} targets no entity: admins only")
    for entity_id in entity_ids:
        if not permissions.can_control_entity(entity_id):
            raise _refuse(user_id, f"{entity_id} is outside your scope")


def _check_alert_call(
    hub: Hub, permissions: Permissions, service: str, data: Mapping[str, Any], user_id: str | None
) -> None:
    if not permissions.can_call_service(ALERT_DOMAIN, service, None):
        raise _refuse(user_id, f"your role may not call {ALERT_DOMAIN}.{service}")
    if service == "raise":
        area_id = data.get("area_id")
        source = data.get("source_entity_id")
        if area_id is None and isinstance(source, str):
            entities = hub.registries.entities
            area_id = entities.effective_area_id(source) if source in entities else None
        if not permissions.area_in_scope(area_id):
            raise _refuse(user_id, "the alert's area is outside your scope")
        return
    from linli.components.alert.manager import ALERT_MANAGER

    manager = hub.data.get(ALERT_MANAGER)
    alert_id = data.get("alert_id")
    alert = None if manager is None or not isinstance(alert_id, str) else manager.get(alert_id)
    if alert is None:
        return  # the service itself answers "unknown alert"; there is nothing to protect
    if not permissions.can_manage_alert(alert):
        raise _refuse(user_id, f"alert {alert_id} is outside your scope")
