"""WebSocket commands, REST views and services of face_access, with their permissions.

Who may do what:

* admins: everything;
* staff and grid workers: credentials of persons they may read, the access log of doors in
  their areas (reads audited);
* police: the access log of doors in their areas (audited); nothing else;
* residents: their own household only — its credentials, its access log, visitor QR codes,
  QR codes and PINs of its members, face enrolment of its members (with consent).

Templates and PIN hashes are never returned; a QR token is shown once, when issued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import web

from linli.auth.users import Role
from linli.callback import callback
from linli.components.api import async_register_openapi
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    BadRequest,
    HubView,
    async_register_view,
    context_for,
    json_response,
    read_json_object,
)
from linli.components.websocket_api import (
    async_register_command,
    async_response,
    require_admin,
    websocket_command,
)
from linli.exceptions import LinliError, Unauthorized
from linli.services import ServiceCall, SupportsResponse
from linli.util.dt import as_utc
from linli_face_access.access import FaceAccessError
from linli_face_access.const import (
    AUDIT_READ,
    CRED_CARD,
    CRED_PIN,
    CRED_QR,
    CRED_VISITOR_QR,
    CREDENTIAL_TYPES,
    DOMAIN,
)
from linli_face_access.openapi import OPENAPI_PATHS, OPENAPI_SCHEMAS

if TYPE_CHECKING:
    from linli import Hub
    from linli.auth import Permissions, User
    from linli.components.websocket_api import ActiveConnection
    from linli.context import Context
    from linli_face_access.access import FaceAccess

SNAPSHOT_URL: Final = "/api/linli/face_access/snapshots/{snapshot_id}"
NUL_MESSAGE: Final = "should not contain NUL characters"


def _no_nul(value: str) -> str:
    """Refuse text with NUL characters (PostgreSQL cannot store or compare them)."""
    if "\x00" in value:
        raise vol.Invalid(NUL_MESSAGE)
    return value


_ID: Final = vol.All(str, _no_nul, vol.Strip, vol.Length(min=1, max=64))
_LABEL: Final = vol.All(str, _no_nul, vol.Strip, vol.Length(min=1, max=255))
_TEMPLATE: Final = vol.All(str, vol.Length(min=1, max=8192))


def _face(hub: Hub) -> FaceAccess:
    from linli_face_access import get_face_access

    return get_face_access(hub)


def _since(value: Any) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError):
        raise vol.Invalid(f"invalid date and time {value!r}: use ISO 8601") from None


class NotFound(Exception):
    """Something the user may not see, answered as if it did not exist."""


# ---------------------------------------------------------------------------- permissions


def _own_household(hub: Hub, user: User) -> str | None:
    if user.person_id is None:
        return None
    person = hub.registries.people.async_get_person(user.person_id)
    return None if person is None else person.household_id


def check_person(hub: Hub, permissions: Permissions, person_id: str, *, write: bool) -> None:
    """The person exists and the user may read (``write``: manage) their credentials."""
    if hub.registries.people.async_get_person(person_id) is None:
        raise NotFound("Person")
    if not permissions.can_read_person(person_id) or permissions.user.role is Role.police:
        raise NotFound("Person")
    if write and not permissions.can_record_consent(person_id):
        raise Unauthorized(user_id=permissions.user.id, permission="manage_credentials")


def check_household(hub: Hub, permissions: Permissions, household_id: str) -> None:
    """The household exists and the user may read it (never police)."""
    if (
        hub.registries.people.async_get_household(household_id) is None
        or permissions.user.role is Role.police
        or not permissions.can_read_household(household_id)
    ):
        raise NotFound("Household")


def check_issue(
    hub: Hub, permissions: Permissions, type_: str, person_id: str | None, household_id: str | None
) -> None:
    """Whether the user may issue a credential of ``type_``."""
    user = permissions.user
    if type_ == CRED_VISITOR_QR:
        if household_id is None:
            raise FaceAccessError("a visitor QR code needs a household_id")
        check_household(hub, permissions, household_id)
        if user.role is Role.police:
            raise Unauthorized(user_id=user.id, permission="manage_credentials")
        return
    if person_id is None:
        raise FaceAccessError(f"a {type_} credential needs a person_id")
    check_person(hub, permissions, person_id, write=True)
    if type_ == CRED_CARD and user.role is Role.resident:
        raise Unauthorized(user_id=user.id, permission="issue_card")


async def _audit(
    hub: Hub,
    permissions: Permissions,
    subject: str,
    context: Context,
    details: dict[str, Any],
) -> None:
    if not permissions.audits_personal_data:
        return
    from linli.audit import async_audit

    await async_audit(
        hub,
        user_id=permissions.user.id,
        action=AUDIT_READ,
        subject=subject,
        details=details,
        context=context,
    )


async def read_log(
    hub: Hub,
    permissions: Permissions,
    context: Context,
    via: str,
    *,
    household_id: str | None = None,
    door_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The access log rows the user may read (audited for staff, grid workers, police)."""
    user = permissions.user
    household_ids: Sequence[str] | None = None
    area_ids: frozenset[str] | None = None
    area_none = False
    if permissions.is_admin:
        household_ids = None if household_id is None else [household_id]
    elif user.role is Role.resident:
        own = _own_household(hub, user)
        if own is None or (household_id is not None and household_id != own):
            raise NotFound("Household")
        household_ids = [own]
    elif user.role in (Role.staff, Role.grid_worker, Role.police):
        area_ids = permissions.area_ids
        area_none = permissions.all_areas
        household_ids = None if household_id is None else [household_id]
    else:
        raise Unauthorized(user_id=user.id, permission="read_access_log")
    rows = await _face(hub).store.async_query_log(
        household_ids=household_ids,
        area_ids=area_ids,
        area_none=area_none,
        door_id=door_id,
        since=since,
        limit=limit,
    )
    await _audit(
        hub,
        permissions,
        f"access_log:{household_id or 'scope'}",
        context,
        {"via": via, "count": len(rows), "door_id": door_id},
    )
    return rows


async def read_credentials(
    hub: Hub,
    permissions: Permissions,
    context: Context,
    via: str,
    *,
    person_id: str | None,
    household_id: str | None,
) -> list[dict[str, Any]]:
    """Credentials of a person or of each member of a household (audited)."""
    face = _face(hub)
    if person_id is not None:
        check_person(hub, permissions, person_id, write=False)
        persons = [person_id]
        subject = f"credentials:person:{person_id}"
    elif household_id is not None:
        check_household(hub, permissions, household_id)
        persons = [p.id for p in hub.registries.people.members(household_id)]
        subject = f"credentials:household:{household_id}"
    else:
        raise FaceAccessError("give person_id or household_id")
    result = [await face.async_credentials_of(pid) for pid in persons]
    if household_id is not None:
        now = hub.clock.time()
        visitors = await face.store.async_list(household_id=household_id)
        result.append(
            {
                "household_id": household_id,
                "visitor_codes": [c.as_dict(now) for c in visitors if c.type == CRED_VISITOR_QR],
            }
        )
    await _audit(hub, permissions, subject, context, {"via": via})
    return result


async def issue(hub: Hub, permissions: Permissions, data: dict[str, Any]) -> dict[str, Any]:
    """Issue a credential as the user; the answer holds a QR token once."""
    type_ = data["type"]
    person_id = data.get("person_id")
    household_id = data.get("household_id")
    if type_ == CRED_VISITOR_QR and household_id is None and not permissions.is_admin:
        household_id = _own_household(hub, permissions.user)
    check_issue(hub, permissions, type_, person_id, household_id)
    credential, token = await _face(hub).async_issue(
        type_,
        person_id=person_id,
        household_id=household_id,
        card_no=data.get("card_no"),
        pin=data.get("pin"),
        label=data.get("label"),
        user_id=permissions.user.id,
        valid_hours=data.get("valid_hours"),
    )
    answer: dict[str, Any] = {"credential": credential.as_dict(hub.clock.time())}
    if token is not None:
        answer["qr"] = token
    return answer


async def revoke(hub: Hub, permissions: Permissions, credential_id: str) -> dict[str, Any]:
    """Revoke a credential the user may manage."""
    face = _face(hub)
    credential = await face.store.async_get(credential_id)
    if credential is None:
        raise NotFound("Credential")
    if credential.person_id is not None:
        check_person(hub, permissions, credential.person_id, write=True)
    elif credential.household_id is not None:
        check_household(hub, permissions, credential.household_id)
    elif not permissions.is_admin:
        raise NotFound("Credential")
    revoked = await face.store.async_revoke(credential_id)
    assert revoked is not None
    return revoked.as_dict(hub.clock.time())


async def enroll(
    hub: Hub, permissions: Permissions, person_id: str, template: str
) -> dict[str, Any]:
    """Enrol a face for a person the user may manage (consent required)."""
    check_person(hub, permissions, person_id, write=True)
    return await _face(hub).async_enroll_face(person_id, template, permissions.user.id)


# ---------------------------------------------------------------------------- WebSocket


def _ws_reader(hub: Hub, connection: ActiveConnection) -> tuple[Hub, Permissions, Context, str]:
    return hub, connection.permissions, connection.context(), "websocket"


async def _ws_answer(
    connection: ActiveConnection, msg: dict[str, Any], answer: Awaitable[Any]
) -> None:
    """Send the answer, or ``not_found`` for what the user may not see."""
    try:
        result = await answer
    except NotFound as err:
        connection.send_error(msg["id"], "not_found", f"{err} not found")
        return
    connection.send_result(msg["id"], result)


_ISSUE_FIELDS: Final[dict[Any, Any]] = {
    vol.Optional("person_id"): _ID,
    vol.Optional("household_id"): _ID,
    vol.Optional("card_no"): vol.All(str, vol.Length(min=1, max=32)),
    vol.Optional("pin"): vol.All(str, vol.Length(min=1, max=16)),
    vol.Optional("label"): _LABEL,
    vol.Optional("valid_hours"): vol.All(vol.Coerce(float), vol.Range(min=0.01, max=24 * 31)),
}


@websocket_command(
    {
        vol.Required("type"): "face_access/credentials/list",
        vol.Optional("person_id"): _ID,
        vol.Optional("household_id"): _ID,
    }
)
@async_response
async def ws_credentials_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Credentials, face enrolment and terminal deletions of a person or household."""
    answer = read_credentials(
        *_ws_reader(hub, connection),
        person_id=msg.get("person_id"),
        household_id=msg.get("household_id"),
    )
    await _ws_answer(connection, msg, answer)


@websocket_command(
    {
        vol.Required("type"): "face_access/credentials/issue",
        vol.Required("credential_type"): vol.In([CRED_CARD, CRED_QR, CRED_PIN, CRED_VISITOR_QR]),
        **_ISSUE_FIELDS,
    }
)
@async_response
async def ws_credentials_issue(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Issue a card, QR code, PIN or visitor QR code."""
    data = {**msg, "type": msg["credential_type"]}
    await _ws_answer(connection, msg, issue(hub, connection.permissions, data))


@websocket_command(
    {vol.Required("type"): "face_access/credentials/revoke", vol.Required("credential_id"): _ID}
)
@async_response
async def ws_credentials_revoke(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Revoke a credential."""
    await _ws_answer(connection, msg, revoke(hub, connection.permissions, msg["credential_id"]))


@websocket_command(
    {
        vol.Required("type"): "face_access/visitor_qr",
        vol.Optional("household_id"): _ID,
        vol.Optional("valid_hours"): vol.All(vol.Coerce(float), vol.Range(min=0.01, max=24 * 31)),
        vol.Optional("label"): _LABEL,
    }
)
@async_response
async def ws_visitor_qr(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Issue a one-time visitor QR code for the user's (or a named) household."""
    data = {**msg, "type": CRED_VISITOR_QR}
    await _ws_answer(connection, msg, issue(hub, connection.permissions, data))


@websocket_command(
    {
        vol.Required("type"): "face_access/enroll_face",
        vol.Required("person_id"): _ID,
        vol.Required("template"): _TEMPLATE,
    }
)
@async_response
async def ws_enroll_face(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Enrol a face template (base64 float32); needs the person's face consent."""
    answer = enroll(hub, connection.permissions, msg["person_id"], msg["template"])
    await _ws_answer(connection, msg, answer)


@websocket_command(
    {
        vol.Required("type"): "face_access/log",
        vol.Optional("household_id"): _ID,
        vol.Optional("door_id"): _ID,
        vol.Optional("since"): _since,
        vol.Optional("limit", default=100): vol.All(int, vol.Range(min=1, max=10_000)),
    }
)
@async_response
async def ws_log(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The access log in the user's scope, newest first."""
    try:
        rows = await read_log(
            *_ws_reader(hub, connection),
            household_id=msg.get("household_id"),
            door_id=msg.get("door_id"),
            since=msg.get("since"),
            limit=msg["limit"],
        )
    except NotFound as err:
        raise Unauthorized(user_id=connection.user.id, permission="read_access_log") from err
    connection.send_result(msg["id"], rows)


@websocket_command({vol.Required("type"): "face_access/lint"})
@callback
def ws_lint(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Warnings about the doors (a door without a non-biometric way in…)."""
    connection.send_result(msg["id"], [issue.as_dict() for issue in _face(hub).lint])


@websocket_command({vol.Required("type"): "face_access/diagnostics"})
@require_admin
@callback
def ws_diagnostics(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Counters, doors, lint (admins)."""
    connection.send_result(msg["id"], _face(hub).diagnostics())


# ---------------------------------------------------------------------------- REST


def _limit(value: str | None) -> int:
    if value is None:
        return 100
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest("'limit' should be an integer from 1 to 10000.") from None
    if not 1 <= limit <= 10_000:
        raise BadRequest("'limit' should be an integer from 1 to 10000.")
    return limit


def _text(value: str | None, name: str) -> str | None:
    """A query or path value (None when empty); 400 for one with NUL characters."""
    if value and "\x00" in value:
        raise BadRequest(f"'{name}' {NUL_MESSAGE}.")
    return value or None


def _rest_reader(request: web.Request) -> tuple[Hub, Permissions, Context, str]:
    return (
        request.app[KEY_HUB],
        request[KEY_PERMISSIONS],
        context_for(request),
        f"{request.method} {request.path}",
    )


@contextmanager
def _rest_refusals() -> Iterator[None]:
    """Answer 404 for what the user may not see, 400 for what the integration refuses."""
    try:
        yield
    except NotFound as err:
        raise BadRequest(f"{err} not found.", HTTPStatus.NOT_FOUND) from err
    except FaceAccessError as err:
        raise BadRequest(str(err)) from err
    except LinliError as err:  # the integration failed or was unloaded; its routes remain
        raise BadRequest("Face access is not set up.", HTTPStatus.SERVICE_UNAVAILABLE) from err


class AccessLogView(HubView):
    """``GET /api/linli/access_log``: the access log in the user's scope."""

    url = "/api/linli/access_log"
    name = "api:linli:access_log"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Filter by ``household_id``, ``door_id``, ``since`` (ISO 8601), ``limit``."""
        query = request.query
        try:
            since = _since(query["since"]) if "since" in query else None
        except vol.Invalid as err:
            raise BadRequest(str(err)) from err
        with _rest_refusals():
            rows = await read_log(
                *_rest_reader(request),
                household_id=_text(query.get("household_id"), "household_id"),
                door_id=_text(query.get("door_id"), "door_id"),
                since=since,
                limit=_limit(query.get("limit")),
            )
        return json_response(rows)


_ISSUE_BODY: Final = vol.Schema(
    {vol.Required("type"): vol.In(list(CREDENTIAL_TYPES)), **_ISSUE_FIELDS}
)


class CredentialsView(HubView):
    """``GET /api/linli/credentials`` (``person_id`` or ``household_id``); ``POST`` to issue."""

    url = "/api/linli/credentials"
    name = "api:linli:credentials"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """A person's (or a household's members') credentials and face enrolment."""
        with _rest_refusals():
            result = await read_credentials(
                *_rest_reader(request),
                person_id=_text(request.query.get("person_id"), "person_id"),
                household_id=_text(request.query.get("household_id"), "household_id"),
            )
        return json_response(result)

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Issue a credential; 201 with the credential (and a QR token, shown once)."""
        data = _ISSUE_BODY(await read_json_object(request))
        with _rest_refusals():
            answer = await issue(request.app[KEY_HUB], request[KEY_PERMISSIONS], data)
        return json_response(answer, HTTPStatus.CREATED)


class CredentialRevokeView(HubView):
    """``POST /api/linli/credentials/<id>/revoke``."""

    url = "/api/linli/credentials/{credential_id}/revoke"
    name = "api:linli:credential-revoke"

    async def post(self, request: web.Request, credential_id: str) -> web.StreamResponse:
        """Revoke the credential."""
        _text(credential_id, "credential_id")
        with _rest_refusals():
            result = await revoke(request.app[KEY_HUB], request[KEY_PERMISSIONS], credential_id)
        return json_response(result)


class SnapshotView(HubView):
    """``GET /api/linli/face_access/snapshots/<id>``: a stored face image (JPEG)."""

    url = SNAPSHOT_URL
    name = "api:linli:face_access:snapshot"

    async def get(self, request: web.Request, snapshot_id: str) -> web.StreamResponse:
        """The image, for users whose scope holds its door (or their own household)."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        with _rest_refusals():
            store = _face(hub).store
        _text(snapshot_id, "snapshot_id")
        meta = await store.async_get_snapshot(snapshot_id)
        user = permissions.user
        allowed = meta is not None and (
            permissions.is_admin
            or (
                user.role in (Role.staff, Role.grid_worker, Role.police)
                and permissions.area_in_scope(meta["area_id"])
            )
            or (
                user.role is Role.resident
                and meta["household_id"] is not None
                and meta["household_id"] == _own_household(hub, user)
            )
        )
        if not allowed or meta is None:
            raise BadRequest("Snapshot not found.", HTTPStatus.NOT_FOUND)
        image = await store.async_read_snapshot(snapshot_id)
        if image is None:
            raise BadRequest("Snapshot not found.", HTTPStatus.NOT_FOUND)
        await _audit(
            hub,
            permissions,
            f"face_snapshot:{snapshot_id}",
            context_for(request),
            {"via": f"GET {request.path}"},
        )
        return web.Response(
            body=image, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )


# ---------------------------------------------------------------------------- services


async def _async_service(hub: Hub, call: ServiceCall) -> dict[str, Any]:
    """Run a service as the hub (services without entity targets are admin only)."""
    face = _face(hub)
    data = dict(call.data)
    user_id = call.context.user_id
    try:
        if call.service == "enroll_face":
            return await face.async_enroll_face(data["person_id"], data["template"], user_id)
        if call.service == "revoke_credential":
            revoked = await face.store.async_revoke(data["credential_id"])
            if revoked is None:
                raise FaceAccessError(f"unknown credential {data['credential_id']!r}")
            return revoked.as_dict(hub.clock.time())
        type_ = CRED_VISITOR_QR if call.service == "visitor_qr" else data["type"]
        credential, token = await face.async_issue(
            type_,
            person_id=data.get("person_id"),
            household_id=data.get("household_id"),
            card_no=data.get("card_no"),
            pin=data.get("pin"),
            label=data.get("label"),
            user_id=user_id,
            valid_hours=data.get("valid_hours"),
        )
    except FaceAccessError as err:
        from linli.exceptions import ServiceValidationError

        raise ServiceValidationError(str(err)) from err
    answer: dict[str, Any] = {"credential": credential.as_dict(hub.clock.time())}
    if token is not None:
        answer["qr"] = token
    return answer


SERVICE_SCHEMAS: Final = {
    "issue_credential": vol.Schema(
        {vol.Required("type"): vol.In([CRED_CARD, CRED_QR, CRED_PIN]), **_ISSUE_FIELDS}
    ),
    "visitor_qr": vol.Schema(
        {
            vol.Required("household_id"): _ID,
            vol.Optional("valid_hours"): vol.All(
                vol.Coerce(float), vol.Range(min=0.01, max=24 * 31)
            ),
            vol.Optional("label"): _LABEL,
        }
    ),
    "revoke_credential": vol.Schema({vol.Required("credential_id"): _ID}),
    "enroll_face": vol.Schema(
        {vol.Required("person_id"): _ID, vol.Required("template"): _TEMPLATE}
    ),
}


@callback
def async_register_api(hub: Hub) -> None:
    """Register the WebSocket commands, REST views and services."""
    for handler in (
        ws_credentials_list,
        ws_credentials_issue,
        ws_credentials_revoke,
        ws_visitor_qr,
        ws_enroll_face,
        ws_log,
        ws_lint,
        ws_diagnostics,
    ):
        async_register_command(hub, handler)
    for view in (AccessLogView(), CredentialsView(), CredentialRevokeView(), SnapshotView()):
        async_register_view(hub, view)
    async_register_openapi(hub, OPENAPI_PATHS, OPENAPI_SCHEMAS)

    async def handle(call: ServiceCall) -> dict[str, Any]:
        return await _async_service(hub, call)

    for service, schema in SERVICE_SCHEMAS.items():
        hub.services.async_register(
            DOMAIN, service, handle, schema, supports_response=SupportsResponse.OPTIONAL
        )
