"""REST views and WebSocket commands of the privacy integration: export and data kinds."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.components.api.openapi_parts import array_of, errors, json_reply, path_param, ref
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    KEY_USER,
    HubView,
    context_for,
    json_message,
    json_response,
)
from linli.components.websocket_api import (
    async_register_command,
    async_response,
    websocket_command,
)
from linli.components.websocket_api import const as ws_const
from linli.exceptions import Unauthorized

if TYPE_CHECKING:
    from aiohttp import web

    from linli.auth import Permissions
    from linli.components.websocket_api.connection import ActiveConnection
    from linli.context import Context
    from linli.hub import Hub

ACTION_EXPORT: Final = "export_personal_data"


def may_export(hub: Hub, permissions: Permissions, person_id: str) -> bool:
    """Whether the user may export the person: admins, the person, readers of the household
    (staff and grid workers in scope, the household's residents); never police."""
    from linli.auth import Role

    if permissions.user.role is Role.police:
        return False
    return hub.registries.people.async_get_person(
        person_id
    ) is not None and permissions.can_read_person(person_id)


async def _export(hub: Hub, user_id: str, person_id: str, via: str, context: Context) -> Any:
    from linli.audit import async_audit
    from linli.privacy import get_privacy

    document = await get_privacy(hub).async_export(person_id)
    await async_audit(
        hub,
        user_id=user_id,
        action=ACTION_EXPORT,
        subject=f"person:{person_id}",
        details={"via": via},
        context=context,
    )
    return document


class PersonExportView(HubView):
    """``GET /api/linli/persons/{person_id}/export``: everything held about a person."""

    url = "/api/linli/persons/{person_id}/export"
    name = "api:linli:persons:export"

    async def get(self, request: web.Request, person_id: str) -> web.StreamResponse:
        """Answer the export, or 404 for a person the user may not export (or none)."""
        hub: Hub = request.app[KEY_HUB]
        if not may_export(hub, request[KEY_PERMISSIONS], person_id):
            return json_message("Person not found.", HTTPStatus.NOT_FOUND)
        document = await _export(
            hub,
            request[KEY_USER].id,
            person_id,
            f"{request.method} {request.path}",
            context_for(request),
        )
        return json_response(document)


class DataKindsView(HubView):
    """``GET /api/linli/privacy/data_kinds``: the kinds of personal data held, and for how long."""

    url = "/api/linli/privacy/data_kinds"
    name = "api:linli:privacy:data_kinds"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """List every registered kind with its retention policy."""
        from linli.privacy import get_privacy

        return json_response(get_privacy(request.app[KEY_HUB]).describe())


@websocket_command({vol.Required("type"): "linli/persons/export", vol.Required("person_id"): str})
@async_response
async def handle_persons_export(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Everything held about a person (as ``GET /api/linli/persons/<id>/export``)."""
    person_id = msg["person_id"]
    if not may_export(hub, connection.permissions, person_id):
        # As linli/households/get: only admins learn that an id does not exist.
        if not connection.permissions.is_admin:
            raise Unauthorized(user_id=connection.user.id, permission="export_person")
        connection.send_error(msg["id"], ws_const.ERR_NOT_FOUND, "Person not found.")
        return
    document = await _export(hub, connection.user.id, person_id, "websocket", connection.context())
    connection.send_result(msg["id"], document)


@websocket_command({vol.Required("type"): "linli/privacy/data_kinds"})
@async_response
async def handle_data_kinds(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The kinds of personal data held, with their retention."""
    from linli.privacy import get_privacy

    connection.send_result(msg["id"], get_privacy(hub).describe())


def async_register_commands(hub: Hub) -> None:
    """Register the WebSocket commands."""
    async_register_command(hub, handle_persons_export)
    async_register_command(hub, handle_data_kinds)


OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/linli/persons/{person_id}/export": {
        "get": {
            "operationId": "exportPerson",
            "summary": "Everything held about a person (audited).",
            "description": (
                "The person, their household, consents, the audit rows about them and each "
                "data kind's records. Admins, the person, and readers of their household; "
                "never police."
            ),
            "tags": ["privacy"],
            "parameters": [path_param("person_id", "The person's id.")],
            "responses": {
                "200": json_reply(ref("PersonExport"), "The export."),
                **errors(401, 404),
            },
        }
    },
    "/api/linli/privacy/data_kinds": {
        "get": {
            "operationId": "listDataKinds",
            "summary": "The kinds of personal data held, with their retention.",
            "tags": ["privacy"],
            "responses": {"200": json_reply(array_of("DataKind"), "The kinds."), **errors(401)},
        }
    },
}
OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "DataKind": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "consent_kind": {"type": ["string", "null"]},
            "keep_days": {"type": "number"},
            "floor_days": {"type": "number"},
        },
        "required": ["name", "title", "sensitive", "consent_kind", "keep_days", "floor_days"],
    },
    "PersonExport": {
        "type": "object",
        "properties": {
            "person": {"type": "object"},
            "household": {"type": ["object", "null"]},
            "consents": array_of("Consent"),
            "audit": {"type": "array", "items": {"type": "object"}},
            "data": {"type": "object"},
            "data_kinds": array_of("DataKind"),
            "exported_at": {"type": "string", "format": "date-time"},
        },
        "required": ["person", "household", "consents", "audit", "data", "data_kinds"],
    },
}
