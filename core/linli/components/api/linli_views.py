"""Linli's own REST endpoints under ``/api/linli/``: alerts, households, consents, users.

Anything a user may not read answers 404, exactly like something that does not exist; a thing
they may read but not change answers 403. Reads of personal data (households, members,
consents) by staff, grid workers and police are written to the audit log before the answer.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    KEY_USER,
    BadRequest,
    HubView,
    context_for,
    json_response,
    read_json_object,
)
from linli.exceptions import LinliError, Unauthorized

if TYPE_CHECKING:
    from linli.auth import Permissions, User
    from linli.components.alert import Alert, AlertManager
    from linli.hub import Hub

MAX_NOTE: Final = 2000
ACTION_READ_PERSONAL_DATA: Final = "read_personal_data"


def _not_found(what: str) -> BadRequest:
    return BadRequest(f"{what} not found.", HTTPStatus.NOT_FOUND)


def _text(data: dict[str, Any], key: str, *, required: bool, max_length: int = 255) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"'{key}' is required.")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise BadRequest(f"'{key}' should be a non-empty string of at most {max_length} chars.")
    return value.strip()


def _only_keys(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise BadRequest(f"Unknown key(s): {', '.join(extra)}.")


async def _audit(request: web.Request, subject: str, **details: Any) -> None:
    """Audit a read of personal data when the user's role is audited."""
    permissions: Permissions = request[KEY_PERMISSIONS]
    if not permissions.audits_personal_data:
        return
    from linli.audit import async_audit

    await async_audit(
        request.app[KEY_HUB],
        user_id=request[KEY_USER].id,
        action=ACTION_READ_PERSONAL_DATA,
        subject=subject,
        details={"via": f"{request.method} {request.path}", **details},
        context=context_for(request),
    )


# ---------------------------------------------------------------------------- alerts


def _manager(hub: Hub) -> AlertManager:
    from linli.components.alert import get_manager

    try:
        return get_manager(hub)
    except LinliError as err:
        raise BadRequest(
            f"Alerts are not available: {err}", HTTPStatus.SERVICE_UNAVAILABLE
        ) from err


def _readable_alert(request: web.Request, alert_id: str) -> Alert:
    alert = _manager(request.app[KEY_HUB]).get(alert_id)
    if alert is None or not request[KEY_PERMISSIONS].can_read_alert(alert):
        raise _not_found("Alert")
    return alert


class AlertsView(HubView):
    """``GET /api/linli/alerts``: the alerts in the user's scope, oldest first."""

    url = "/api/linli/alerts"
    name = "api:linli:alerts"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Filter by ``state`` (comma-separated), ``kind`` and ``area_id``."""
        from linli.components.alert import AlertState

        permissions: Permissions = request[KEY_PERMISSIONS]
        query = request.query
        states = None
        if "state" in query:
            try:
                states = [AlertState(s.strip()) for s in query["state"].split(",") if s.strip()]
            except ValueError:
                known = ", ".join(s.value for s in AlertState)
                raise BadRequest(f"Invalid state: expected some of {known}.") from None
        kinds = [k for k in query["kind"].split(",") if k] if "kind" in query else None
        area_id = query.get("area_id") or None
        if area_id is not None and area_id not in request.app[KEY_HUB].registries.areas:
            raise _not_found("Area")
        alerts = _manager(request.app[KEY_HUB]).alerts(states=states, kinds=kinds, area_id=area_id)
        return json_response([a.as_dict() for a in alerts if permissions.can_read_alert(a)])


class AlertView(HubView):
    """``GET /api/linli/alerts/<alert_id>``: one alert with its history."""

    url = "/api/linli/alerts/{alert_id}"
    name = "api:linli:alert"

    async def get(self, request: web.Request, alert_id: str) -> web.StreamResponse:
        """Return the alert."""
        return json_response(_readable_alert(request, alert_id).as_dict())


class AlertActionView(HubView):
    """``POST /api/linli/alerts/<alert_id>/{acknowledge,assign,resolve}``."""

    url = "/api/linli/alerts/{alert_id}/{action:acknowledge|assign|resolve}"
    name = "api:linli:alert-action"

    async def post(self, request: web.Request, alert_id: str, action: str) -> web.StreamResponse:
        """Change the alert as the request's user; return it."""
        from linli.components.alert import AlertError, InvalidTransitionError, UnknownAlertError

        data = await read_json_object(request)
        allowed = {"note", "assignee"} if action == "assign" else {"note"}
        _only_keys(data, allowed)
        note = _text(data, "note", required=False, max_length=MAX_NOTE)
        alert = _readable_alert(request, alert_id)
        permissions: Permissions = request[KEY_PERMISSIONS]
        if not permissions.can_manage_alert(alert, action):
            raise Unauthorized(user_id=permissions.user.id, permission=f"{action}_alert")
        manager = _manager(request.app[KEY_HUB])
        context = context_for(request)
        try:
            if action == "acknowledge":
                changed = await manager.async_acknowledge(alert_id, note=note, context=context)
            elif action == "resolve":
                changed = await manager.async_resolve(alert_id, note=note, context=context)
            else:
                assignee = _text(data, "assignee", required=True)
                assert assignee is not None
                changed = await manager.async_assign(alert_id, assignee, note=note, context=context)
        except UnknownAlertError as err:
            raise _not_found("Alert") from err
        except InvalidTransitionError as err:
            raise BadRequest(str(err), HTTPStatus.CONFLICT) from err
        except AlertError as err:
            raise BadRequest(str(err)) from err
        return json_response(changed.as_dict())


# ---------------------------------------------------------------------------- households


class HouseholdsView(HubView):
    """``GET /api/linli/households``: the households the user may read."""

    url = "/api/linli/households"
    name = "api:linli:households"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return them (audited for staff, grid workers and police)."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        households = [
            household.as_dict()
            for household in hub.registries.people.households.values()
            if permissions.can_read_household(household.id)
        ]
        await _audit(request, "households", count=len(households))
        return json_response(households)


class HouseholdView(HubView):
    """``GET /api/linli/households/<household_id>``: a household with its members."""

    url = "/api/linli/households/{household_id}"
    name = "api:linli:household"

    async def get(self, request: web.Request, household_id: str) -> web.StreamResponse:
        """Return the household and its members (audited)."""
        hub: Hub = request.app[KEY_HUB]
        people = hub.registries.people
        household = people.async_get_household(household_id)
        if household is None or not request[KEY_PERMISSIONS].can_read_household(household_id):
            raise _not_found("Household")
        await _audit(request, f"household:{household_id}")
        members = [person.as_dict() for person in people.members(household_id)]
        return json_response({**household.as_dict(), "members": members})


# ---------------------------------------------------------------------------- consents


def _check_person(request: web.Request, person_id: str) -> None:
    hub: Hub = request.app[KEY_HUB]
    if hub.registries.people.async_get_person(person_id) is None or not request[
        KEY_PERMISSIONS
    ].can_read_person(person_id):
        raise _not_found("Person")


def _check_consent_writer(request: web.Request, person_id: str) -> User:
    """The user, when they may record or withdraw the person's consents (call after the
    person was found readable, so ids outside one's scope answer 404)."""
    user: User = request[KEY_USER]
    if not request[KEY_PERMISSIONS].can_record_consent(person_id):
        raise Unauthorized(user_id=user.id, permission="record_consent")
    return user


class ConsentsView(HubView):
    """``GET /api/linli/consents`` (by ``person_id`` or ``household_id``), ``POST`` to grant."""

    url = "/api/linli/consents"
    name = "api:linli:consents"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """List consents; non-admins name a person or household they may read."""
        from linli.consent import get_consents

        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        person_id = request.query.get("person_id") or None
        household_id = request.query.get("household_id") or None
        include_withdrawn = request.query.get("include_withdrawn", "true").lower() != "false"
        if person_id is not None:
            _check_person(request, person_id)
        if household_id is not None and (
            hub.registries.people.async_get_household(household_id) is None
            or not permissions.can_read_household(household_id)
        ):
            raise _not_found("Household")
        if person_id is None and household_id is None and not permissions.is_admin:
            raise BadRequest("Give person_id or household_id.")
        consents = await get_consents(hub).async_list(
            person_id=person_id, household_id=household_id, include_withdrawn=include_withdrawn
        )
        subject = f"person:{person_id}" if person_id else f"household:{household_id}"
        await _audit(request, f"consents:{subject}", count=len(consents))
        return json_response([consent.as_dict() for consent in consents])

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Record a consent given by a person (or their guardian); 201 with Location."""
        from linli.consent import ConsentError, get_consents

        permissions: Permissions = request[KEY_PERMISSIONS]
        if not permissions.records_consents:  # a role that never records: 403 whatever the id
            raise Unauthorized(user_id=permissions.user.id, permission="record_consent")
        data = await read_json_object(request)
        keys = {"person_id", "data_kind", "scope", "method", "notice_version"}
        _only_keys(data, {*keys, "guardian_person_id"})
        values = {key: _text(data, key, required=True, max_length=64) for key in keys}
        values["scope"] = _text(data, "scope", required=True)
        guardian = _text(data, "guardian_person_id", required=False, max_length=64)
        person_id = values.pop("person_id")
        assert person_id is not None
        _check_person(request, person_id)
        if guardian is not None:
            _check_person(request, guardian)
        user = _check_consent_writer(request, person_id)
        try:
            consent = await get_consents(request.app[KEY_HUB]).async_grant(
                person_id,
                values["data_kind"] or "",
                values["scope"] or "",
                method=values["method"] or "",
                notice_version=values["notice_version"] or "",
                operator_user_id=user.id,
                guardian_person_id=guardian,
            )
        except ConsentError as err:
            raise BadRequest(str(err)) from err
        return json_response(
            consent.as_dict(),
            HTTPStatus.CREATED,
            headers={"Location": f"/api/linli/consents/{consent.id}"},
        )


class ConsentView(HubView):
    """``GET /api/linli/consents/<consent_id>``: one consent."""

    url = "/api/linli/consents/{consent_id}"
    name = "api:linli:consent"

    async def get(self, request: web.Request, consent_id: str) -> web.StreamResponse:
        """Return the consent (audited)."""
        from linli.consent import get_consents

        consent = await get_consents(request.app[KEY_HUB]).async_get(consent_id)
        if consent is None or not request[KEY_PERMISSIONS].can_read_person(consent.person_id):
            raise _not_found("Consent")
        await _audit(request, f"consent:{consent_id}")
        return json_response(consent.as_dict())


class ConsentWithdrawView(HubView):
    """``POST /api/linli/consents/<consent_id>/withdraw``."""

    url = "/api/linli/consents/{consent_id}/withdraw"
    name = "api:linli:consent-withdraw"

    async def post(self, request: web.Request, consent_id: str) -> web.StreamResponse:
        """Withdraw an active consent; 409 when it is withdrawn already."""
        from linli.consent import ConsentError, get_consents

        ledger = get_consents(request.app[KEY_HUB])
        consent = await ledger.async_get(consent_id)
        if consent is None or not request[KEY_PERMISSIONS].can_read_person(consent.person_id):
            raise _not_found("Consent")
        user = _check_consent_writer(request, consent.person_id)
        _only_keys(await read_json_object(request), set())
        if not consent.active:
            raise BadRequest("The consent is withdrawn already.", HTTPStatus.CONFLICT)
        try:
            withdrawn = await ledger.async_withdraw(consent_id, operator_user_id=user.id)
        except ConsentError as err:
            raise BadRequest(str(err), HTTPStatus.CONFLICT) from err
        return json_response(withdrawn.as_dict())


# ---------------------------------------------------------------------------- users


class UsersView(HubView):
    """``GET /api/linli/users``: every user (admins)."""

    url = "/api/linli/users"
    name = "api:linli:users"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the users."""
        from linli.auth import get_auth

        permissions: Permissions = request[KEY_PERMISSIONS]
        if not permissions.can_admin:
            raise Unauthorized(user_id=permissions.user.id, permission="admin")
        users = await get_auth(request.app[KEY_HUB]).async_list_users()
        return json_response([user.as_dict() for user in users])


class MeView(HubView):
    """``GET /api/linli/me``: the request's own user."""

    url = "/api/linli/me"
    name = "api:linli:me"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the user."""
        return json_response(request[KEY_USER].as_dict())
