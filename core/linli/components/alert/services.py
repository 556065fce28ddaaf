"""The ``alert.*`` services: their schemas and handlers.

The actor of every change is the calling user (``call.context.user_id``), or ``"system"``
when no user asked for it; callers cannot name someone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.components.alert.const import DOMAIN
from linli.components.alert.model import (
    MAX_DEDUP_KEY_LENGTH,
    MAX_EVIDENCE,
    MAX_MESSAGE_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_TITLE_LENGTH,
    Evidence,
    Severity,
    check_assignee,
    check_data,
    check_kind,
    check_severity,
    check_text,
)
from linli.registry.areas import MAX_ID_LENGTH
from linli.services import ServiceCall, SupportsResponse

if TYPE_CHECKING:
    from linli.components.alert.manager import AlertManager
    from linli.hub import Hub

SERVICE_RAISE: Final = "raise"
SERVICE_ACKNOWLEDGE: Final = "acknowledge"
SERVICE_RESOLVE: Final = "resolve"
SERVICE_DISMISS: Final = "dismiss"
SERVICE_ASSIGN: Final = "assign"
SERVICE_NOTE: Final = "note"

MAX_ALERT_ID_LENGTH: Final = 64


def _checked(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Turn a model check into a voluptuous validator that keeps the model's message."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as err:
            raise vol.Invalid(str(err)) from err

    return validate


def _text(what: str, max_length: int) -> Callable[[Any], str]:
    return _checked(lambda value: check_text(value, what, max_length))


def _optional(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Accept None (an empty YAML value) as "not given"."""

    def validate(value: Any) -> Any:
        return None if value is None else validator(value)

    return validate


kind = _checked(check_kind)
assignee = _checked(check_assignee)
evidence_item = _checked(lambda value: Evidence.from_dict(value).as_dict())
alert_id = _text("alert_id", MAX_ALERT_ID_LENGTH)

RAISE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("kind"): kind,
        vol.Optional("severity", default=Severity.WARNING.value): _checked(
            lambda value: check_severity(value).value
        ),
        vol.Required("title"): _text("title", MAX_TITLE_LENGTH),
        vol.Optional("message"): _optional(_text("message", MAX_MESSAGE_LENGTH)),
        vol.Optional("area_id"): _optional(_text("area_id", MAX_ID_LENGTH)),
        vol.Optional("source_entity_id"): _optional(cv.entity_id),
        vol.Optional("evidence", default=list): vol.All(
            cv.ensure_list, vol.Length(max=MAX_EVIDENCE), [evidence_item]
        ),
        vol.Optional("dedup_key"): _optional(_text("dedup_key", MAX_DEDUP_KEY_LENGTH)),
        vol.Optional("assignee"): _optional(assignee),
        vol.Optional("data", default=dict): _checked(check_data),
    }
)
"""``alert.raise``: ``evidence`` items are ``{kind: snapshot|clip|state|url, ref,
captured_at?}``; ``data`` is a small JSON object."""

CHANGE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("alert_id"): alert_id,
        vol.Optional("note"): _optional(_text("note", MAX_NOTE_LENGTH)),
    }
)
"""``alert.acknowledge``, ``alert.resolve`` and ``alert.dismiss``."""

ASSIGN_SCHEMA: Final = CHANGE_SCHEMA.extend({vol.Required("assignee"): assignee})
NOTE_SCHEMA: Final = vol.Schema(
    {vol.Required("alert_id"): alert_id, vol.Required("note"): _text("note", MAX_NOTE_LENGTH)}
)


def async_register_services(hub: Hub, manager: AlertManager) -> None:
    """Register the ``alert.*`` services, handled by ``manager``."""

    async def handle_raise(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        alert, created = await manager.async_raise(
            data["kind"],
            data["title"],
            severity=data["severity"],
            message=data.get("message"),
            area_id=data.get("area_id"),
            source_entity_id=data.get("source_entity_id"),
            evidence=[Evidence.from_dict(item) for item in data["evidence"]],
            dedup_key=data.get("dedup_key"),
            assignee=data.get("assignee"),
            data=data["data"],
            context=call.context,
        )
        return {"alert_id": alert.id, "created": created}

    async def handle_acknowledge(call: ServiceCall) -> dict[str, Any]:
        alert = await manager.async_acknowledge(
            call.data["alert_id"], note=call.data.get("note"), context=call.context
        )
        return {"alert": alert.as_dict()}

    async def handle_resolve(call: ServiceCall) -> dict[str, Any]:
        alert = await manager.async_resolve(
            call.data["alert_id"], note=call.data.get("note"), context=call.context
        )
        return {"alert": alert.as_dict()}

    async def handle_dismiss(call: ServiceCall) -> dict[str, Any]:
        alert = await manager.async_dismiss(
            call.data["alert_id"], note=call.data.get("note"), context=call.context
        )
        return {"alert": alert.as_dict()}

    async def handle_assign(call: ServiceCall) -> dict[str, Any]:
        alert = await manager.async_assign(
            call.data["alert_id"],
            call.data["assignee"],
            note=call.data.get("note"),
            context=call.context,
        )
        return {"alert": alert.as_dict()}

    async def handle_note(call: ServiceCall) -> dict[str, Any]:
        alert = await manager.async_note(
            call.data["alert_id"], call.data["note"], context=call.context
        )
        return {"alert": alert.as_dict()}

    register = hub.services.async_register
    optional = SupportsResponse.OPTIONAL
    register(
        DOMAIN,
        SERVICE_RAISE,
        handle_raise,
        RAISE_SCHEMA,
        optional,
        "Raise an alert; while one with the same dedup_key is open, count another occurrence "
        "of it instead. Returns alert_id and whether it was created.",
    )
    register(
        DOMAIN,
        SERVICE_ACKNOWLEDGE,
        handle_acknowledge,
        CHANGE_SCHEMA,
        optional,
        "Acknowledge a new alert. Returns the alert.",
    )
    register(
        DOMAIN,
        SERVICE_RESOLVE,
        handle_resolve,
        CHANGE_SCHEMA,
        optional,
        "Resolve an open alert. Returns the alert.",
    )
    register(
        DOMAIN,
        SERVICE_DISMISS,
        handle_dismiss,
        CHANGE_SCHEMA,
        optional,
        "Dismiss an open alert as a false alarm. Returns the alert.",
    )
    register(
        DOMAIN,
        SERVICE_ASSIGN,
        handle_assign,
        ASSIGN_SCHEMA,
        optional,
        "Assign an open alert to a user id or a role (role:staff). Returns the alert.",
    )
    register(
        DOMAIN,
        SERVICE_NOTE,
        handle_note,
        NOTE_SCHEMA,
        optional,
        "Add a note to an alert's history. Returns the alert.",
    )
