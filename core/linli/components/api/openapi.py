"""The OpenAPI 3.1 description of ``/api/linli/…``, served at ``/api/linli/openapi.json``.

Written as data beside the handlers (``linli_views``); a test checks that every route of the
table is served and every Linli route is described. Other integrations that serve routes under
``/api/linli/`` describe them with :func:`async_register_openapi` (paths and schemas in the
same OpenAPI 3.1 form, built with :mod:`linli.components.api.openapi_parts` like these), so
the one document covers what this hub serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from linli.components.api.openapi_parts import (
    MESSAGE,
    NULLABLE_STRING,
    STRING,
    array_of,
    errors,
    json_body,
    json_reply,
    path_param,
    query_param,
    ref,
)
from linli.components.http import KEY_HUB, HubView, json_response
from linli.const import __version__
from linli.hub import Hub, HubKey

_NOTE_BODY: Final = {
    "type": "object",
    "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 2000}},
    "additionalProperties": False,
}

SCHEMAS: Final[dict[str, Any]] = {
    "Message": MESSAGE,
    "Alert": {
        "type": "object",
        "properties": {
            "id": STRING,
            "kind": STRING,
            "severity": STRING,
            "title": STRING,
            "message": NULLABLE_STRING,
            "area_id": STRING,
            "source_entity_id": NULLABLE_STRING,
            "assignee": NULLABLE_STRING,
            "state": {"type": "string", "enum": ["new", "acknowledged", "resolved", "dismissed"]},
            "dedup_key": NULLABLE_STRING,
            "occurrences": {"type": "integer"},
            "created_at": STRING,
            "updated_at": STRING,
            "last_seen_at": STRING,
            "closed_at": NULLABLE_STRING,
            "evidence": {"type": "array", "items": {"type": "object"}},
            "data": {"type": "object"},
            "history": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["id", "kind", "severity", "title", "area_id", "state", "history"],
    },
    "Household": {
        "type": "object",
        "properties": {
            "id": STRING,
            "name": STRING,
            "room_ids": {"type": "array", "items": STRING},
            "created_at": STRING,
        },
        "required": ["id", "name", "room_ids"],
    },
    "Person": {
        "type": "object",
        "properties": {
            "id": STRING,
            "name": STRING,
            "household_id": NULLABLE_STRING,
            "relation": STRING,
            "birth_year": {"type": ["integer", "null"]},
            "tags": {"type": "array", "items": STRING},
            "user_id": NULLABLE_STRING,
        },
        "required": ["id", "name"],
    },
    "HouseholdWithMembers": {
        "allOf": [
            ref("Household"),
            {
                "type": "object",
                "properties": {"members": {"type": "array", "items": ref("Person")}},
                "required": ["members"],
            },
        ]
    },
    "Consent": {
        "type": "object",
        "properties": {
            "id": STRING,
            "person_id": STRING,
            "household_id": NULLABLE_STRING,
            "data_kind": STRING,
            "scope": STRING,
            "method": STRING,
            "notice_version": STRING,
            "operator_user_id": NULLABLE_STRING,
            "guardian_person_id": NULLABLE_STRING,
            "granted_at": STRING,
            "withdrawn_at": NULLABLE_STRING,
            "withdrawn_by": NULLABLE_STRING,
            "active": {"type": "boolean"},
        },
        "required": ["id", "person_id", "data_kind", "scope", "active"],
    },
    "NewConsent": {
        "type": "object",
        "properties": {
            "person_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "data_kind": {"type": "string", "minLength": 1, "maxLength": 64},
            "scope": {"type": "string", "minLength": 1, "maxLength": 255},
            "method": {"type": "string", "minLength": 1, "maxLength": 64},
            "notice_version": {"type": "string", "minLength": 1, "maxLength": 64},
            "guardian_person_id": {"type": "string", "minLength": 1, "maxLength": 64},
        },
        "required": ["person_id", "data_kind", "scope", "method", "notice_version"],
        "additionalProperties": False,
    },
    "User": {
        "type": "object",
        "properties": {
            "id": STRING,
            "name": STRING,
            "role": {
                "type": "string",
                "enum": ["admin", "staff", "grid_worker", "police", "resident"],
            },
            "area_ids": {"type": "array", "items": STRING},
            "person_id": NULLABLE_STRING,
            "is_active": {"type": "boolean"},
            "system_generated": {"type": "boolean"},
            "created_at": STRING,
        },
        "required": ["id", "name", "role"],
    },
}


def _alert_action(action: str, summary: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": f"{action}Alert",
            "summary": summary,
            "tags": ["alerts"],
            "parameters": [path_param("alert_id", "The alert's id.")],
            "requestBody": json_body(body, required=action == "assign"),
            "responses": {
                "200": json_reply(ref("Alert"), "The changed alert."),
                **errors(400, 401, 403, 404, 409),
            },
        }
    }


PATHS: Final[dict[str, Any]] = {
    "/api/linli/me": {
        "get": {
            "operationId": "getMe",
            "summary": "The user behind the token.",
            "tags": ["users"],
            "responses": {"200": json_reply(ref("User"), "The user."), **errors(401)},
        }
    },
    "/api/linli/alerts": {
        "get": {
            "operationId": "listAlerts",
            "summary": "Alerts in the user's scope, oldest first.",
            "tags": ["alerts"],
            "parameters": [
                query_param(
                    "state", "Comma-separated states: new, acknowledged, resolved, dismissed."
                ),
                query_param("kind", "Comma-separated kinds."),
                query_param("area_id", "Only this area and below."),
            ],
            "responses": {
                "200": json_reply(array_of("Alert"), "The alerts."),
                **errors(400, 401, 404),
            },
        }
    },
    "/api/linli/alerts/{alert_id}": {
        "get": {
            "operationId": "getAlert",
            "summary": "One alert with its history.",
            "tags": ["alerts"],
            "parameters": [path_param("alert_id", "The alert's id.")],
            "responses": {"200": json_reply(ref("Alert"), "The alert."), **errors(401, 404)},
        }
    },
    "/api/linli/alerts/{alert_id}/acknowledge": _alert_action(
        "acknowledge", "Acknowledge an open alert: someone is on it.", _NOTE_BODY
    ),
    "/api/linli/alerts/{alert_id}/resolve": _alert_action(
        "resolve", "Resolve an open alert, with an optional note.", _NOTE_BODY
    ),
    "/api/linli/alerts/{alert_id}/assign": _alert_action(
        "assign",
        "Give an open alert to a user id or a role (role:staff).",
        {
            "type": "object",
            "properties": {
                "assignee": {"type": "string", "minLength": 1, "maxLength": 255},
                "note": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
            "required": ["assignee"],
            "additionalProperties": False,
        },
    ),
    "/api/linli/households": {
        "get": {
            "operationId": "listHouseholds",
            "summary": "Households the user may read (audited for staff, grid workers, police).",
            "tags": ["households"],
            "responses": {
                "200": json_reply(array_of("Household"), "The households."),
                **errors(401),
            },
        }
    },
    "/api/linli/households/{household_id}": {
        "get": {
            "operationId": "getHousehold",
            "summary": "A household with its members (audited).",
            "tags": ["households"],
            "parameters": [path_param("household_id", "The household's id.")],
            "responses": {
                "200": json_reply(ref("HouseholdWithMembers"), "The household."),
                **errors(401, 404),
            },
        }
    },
    "/api/linli/consents": {
        "get": {
            "operationId": "listConsents",
            "summary": "Consents of a person or household (admins may omit both).",
            "tags": ["consents"],
            "parameters": [
                query_param("person_id", "The person's id."),
                query_param("household_id", "The household's id."),
                {
                    "name": "include_withdrawn",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["true", "false"]},
                },
            ],
            "responses": {
                "200": json_reply(array_of("Consent"), "The consents."),
                **errors(400, 401, 404),
            },
        },
        "post": {
            "operationId": "grantConsent",
            "summary": "Record a consent (admins, staff, the person's own household).",
            "tags": ["consents"],
            "requestBody": json_body(ref("NewConsent")),
            "responses": {
                "201": json_reply(ref("Consent"), "The recorded consent."),
                **errors(400, 401, 403, 404),
            },
        },
    },
    "/api/linli/consents/{consent_id}": {
        "get": {
            "operationId": "getConsent",
            "summary": "One consent.",
            "tags": ["consents"],
            "parameters": [path_param("consent_id", "The consent's id.")],
            "responses": {"200": json_reply(ref("Consent"), "The consent."), **errors(401, 404)},
        }
    },
    "/api/linli/consents/{consent_id}/withdraw": {
        "post": {
            "operationId": "withdrawConsent",
            "summary": "Withdraw an active consent.",
            "tags": ["consents"],
            "parameters": [path_param("consent_id", "The consent's id.")],
            "responses": {
                "200": json_reply(ref("Consent"), "The withdrawn consent."),
                **errors(400, 401, 403, 404, 409),
            },
        }
    },
    "/api/linli/users": {
        "get": {
            "operationId": "listUsers",
            "summary": "Every user (admins).",
            "tags": ["users"],
            "responses": {"200": json_reply(array_of("User"), "The users."), **errors(401, 403)},
        }
    },
}


_EXTRA: Final[HubKey[tuple[dict[str, Any], dict[str, Any]]]] = HubKey("linli.api.openapi")


def async_register_openapi(
    hub: Hub, paths: Mapping[str, Any], schemas: Mapping[str, Any] | None = None
) -> None:
    """Add an integration's ``paths`` (and component ``schemas``) to the hub's document.

    Path keys must start with ``/api/linli/`` and not be described already; schema names
    must be new. Call it from ``async_setup`` beside ``async_register_view``.
    """
    extra_paths, extra_schemas = hub.data.setdefault(_EXTRA, ({}, {}))
    for path in paths:
        if not path.startswith("/api/linli/"):
            raise ValueError(f"OpenAPI path {path!r} is not under /api/linli/")
        if path in PATHS or path in extra_paths:
            raise ValueError(f"OpenAPI path {path!r} is described already")
    for name in schemas or {}:
        if name in SCHEMAS or name in extra_schemas:
            raise ValueError(f"OpenAPI schema {name!r} is defined already")
    extra_paths.update(paths)
    extra_schemas.update(schemas or {})


def openapi_document(server_url: str | None = None, hub: Hub | None = None) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document (with ``hub``, the paths its integrations added)."""
    paths: dict[str, Any] = dict(PATHS)
    schemas: dict[str, Any] = dict(SCHEMAS)
    if hub is not None and (extra := hub.data.get(_EXTRA)) is not None:
        paths.update(extra[0])
        schemas.update(extra[1])
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Linli API",
            "version": __version__,
            "description": (
                "Linli's own endpoints. Every request needs `Authorization: Bearer <token>`. "
                "What a user may not see answers 404, like what does not exist."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


class OpenAPIView(HubView):
    """``GET /api/linli/openapi.json``: the description above (no token needed)."""

    url = "/api/linli/openapi.json"
    name = "api:linli:openapi"
    requires_auth = False

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the document."""
        return json_response(openapi_document(hub=request.app[KEY_HUB]))
