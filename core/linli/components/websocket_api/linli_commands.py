"""Linli's own commands, under ``linli/``: alerts, households and consents.

Every command checks the user's permissions; every read of personal data (households,
their members, consents) by staff, grid workers or police is written to the audit log
before the answer leaves.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.components.websocket_api import const, messages
from linli.components.websocket_api.connection import ActiveConnection, async_register_command
from linli.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from linli.exceptions import Unauthorized
from linli.util.dt import as_utc
from linli.util.json import json_bytes

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.components.alert import Alert
    from linli.hub import Hub

EVENT_ALERT_RAISED: Final = "alert_raised"
EVENT_ALERT_UPDATED: Final = "alert_updated"
AUDIT_READ: Final = "read_personal_data"
_TEXT: Final = vol.All(str, vol.Strip, vol.Length(min=1, max=255))


@callback
def async_register_commands(hub: Hub) -> None:
    """Register the ``linli/…`` commands."""
    for handler in (
        handle_alerts_list,
        handle_alerts_subscribe,
        handle_alerts_acknowledge,
        handle_alerts_assign,
        handle_alerts_resolve,
        handle_households_list,
        handle_households_get,
        handle_consents_list,
        handle_consents_grant,
        handle_consents_withdraw,
        handle_integrations_list,
    ):
        async_register_command(hub, handler)


def _refuse(connection: ActiveConnection, permission: str) -> Unauthorized:
    return Unauthorized(user_id=connection.user.id, permission=permission)


async def _audit(
    hub: Hub,
    connection: ActiveConnection,
    subject: str,
    *,
    area_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write the read to the audit log when the user's role is audited; return when durable."""
    if not connection.permissions.audits_personal_data:
        return
    from linli.audit import async_audit

    await async_audit(
        hub,
        user_id=connection.user.id,
        action=AUDIT_READ,
        subject=subject,
        area_id=area_id,
        details={"via": "websocket", **(details or {})},
        context=connection.context(),
    )


# ---------------------------------------------------------------------- alerts
def _manager(hub: Hub) -> Any:
    from linli.components.alert import get_manager

    return get_manager(hub)


def _since(value: Any) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise vol.Invalid(f"invalid date and time {value!r}: use ISO 8601") from None


@websocket_command(
    {
        vol.Required("type"): "linli/alerts/list",
        vol.Optional("state"): vol.All(cv.ensure_list, [str]),
        vol.Optional("kind"): vol.All(cv.ensure_list, [str]),
        vol.Optional("area_id"): str,
        vol.Optional("since"): _since,
    }
)
@callback
def handle_alerts_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List the alerts the user may read, oldest first; filters as ``AlertManager.alerts``."""
    manager = _manager(hub)
    try:
        alerts = manager.alerts(
            states=msg.get("state"),
            kinds=msg.get("kind"),
            since=msg.get("since"),
            area_id=msg.get("area_id"),
        )
    except ValueError as err:
        raise vol.Invalid(str(err)) from err
    can_read = connection.permissions.can_read_alert
    connection.send_result(msg["id"], [alert.as_dict() for alert in alerts if can_read(alert)])


@lru_cache(maxsize=64)
def _alert_event_body(event: Event[Any]) -> bytes:
    return json_bytes({"action": event.data.get("action"), "alert": event.data.get("alert")})


@websocket_command({vol.Required("type"): "linli/alerts/subscribe"})
@callback
def handle_alerts_subscribe(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Send the open alerts in scope, then every raise and change of an alert in scope.

    Events: first ``{"action": "snapshot", "alerts": [...]}``, then ``{"action", "alert"}``
    with the audit action (``raised``, ``acknowledged``, ``assigned``, ``resolved`` …).
    """
    msg_id: int = msg["id"]
    permissions = connection.permissions
    send = connection.send_bytes

    @callback
    def forward(event: Event[Any]) -> None:
        if permissions.can_read_alert(event.data.get("alert") or {}):
            send(messages.wrap_event(msg_id, _alert_event_body(event)))

    removers = [
        hub.bus.async_listen(EVENT_ALERT_RAISED, forward, owner=const.DOMAIN),
        hub.bus.async_listen(EVENT_ALERT_UPDATED, forward, owner=const.DOMAIN),
    ]

    @callback
    def unsubscribe() -> None:
        for remove in removers:
            remove()

    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)
    open_alerts = [
        a.as_dict() for a in _manager(hub).open_alerts() if permissions.can_read_alert(a)
    ]
    connection.send_event(msg_id, {"action": "snapshot", "alerts": open_alerts})


def _managed_alert(
    hub: Hub, connection: ActiveConnection, alert_id: str, action: str
) -> Alert | None:
    """Return the alert if the user may do ``action`` to it; None (not_found) when there is
    none — for admins only: others are refused alike for a missing alert and one outside
    their scope, so they cannot probe which alert ids exist."""
    alert: Alert | None = _manager(hub).get(alert_id)
    permissions = connection.permissions
    if alert is None and permissions.is_admin:
        return None
    if alert is None or not permissions.can_manage_alert(alert, action):
        raise _refuse(connection, f"{action}_alert")
    return alert


async def _change_alert(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any], action: str
) -> None:
    from linli.components.alert import AlertError, InvalidTransitionError

    alert = _managed_alert(hub, connection, msg["alert_id"], action)
    if alert is None:
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "Alert not found.")
        return
    manager = _manager(hub)
    context = connection.context()
    try:
        if action == "acknowledge":
            changed = await manager.async_acknowledge(
                alert.id, note=msg.get("note"), context=context
            )
        elif action == "resolve":
            changed = await manager.async_resolve(alert.id, note=msg.get("note"), context=context)
        else:
            changed = await manager.async_assign(
                alert.id, msg["assignee"], note=msg.get("note"), context=context
            )
    except InvalidTransitionError as err:
        connection.send_error(msg["id"], const.ERR_NOT_ALLOWED, str(err))
        return
    except AlertError as err:
        connection.send_error(msg["id"], const.ERR_INVALID_FORMAT, str(err))
        return
    connection.send_result(msg["id"], changed.as_dict())


@websocket_command(
    {
        vol.Required("type"): "linli/alerts/acknowledge",
        vol.Required("alert_id"): str,
        vol.Optional("note"): str,
    }
)
@async_response
async def handle_alerts_acknowledge(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Acknowledge an open alert in scope; returns the alert."""
    await _change_alert(hub, connection, msg, "acknowledge")


@websocket_command(
    {
        vol.Required("type"): "linli/alerts/assign",
        vol.Required("alert_id"): str,
        vol.Required("assignee"): str,
        vol.Optional("note"): str,
    }
)
@async_response
async def handle_alerts_assign(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Give an open alert in scope to a user id or ``role:<name>`` (not for police)."""
    await _change_alert(hub, connection, msg, "assign")


@websocket_command(
    {
        vol.Required("type"): "linli/alerts/resolve",
        vol.Required("alert_id"): str,
        vol.Optional("note"): str,
    }
)
@async_response
async def handle_alerts_resolve(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Resolve an open alert in scope, with an optional note; returns the alert."""
    await _change_alert(hub, connection, msg, "resolve")


# ---------------------------------------------------------------------- households
@websocket_command({vol.Required("type"): "linli/households/list", vol.Optional("area_id"): str})
@async_response
async def handle_households_list(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the households the user may read (in ``area_id`` if given), with member counts."""
    people = hub.registries.people
    area_id = msg.get("area_id")
    households = (
        list(people.households.values()) if area_id is None else people.households_in_area(area_id)
    )
    can_read = connection.permissions.can_read_household
    readable = [household for household in households if can_read(household.id)]
    if readable:
        await _audit(
            hub,
            connection,
            "households",
            area_id=area_id,
            details={"household_ids": [household.id for household in readable]},
        )
    connection.send_result(
        msg["id"],
        [
            {**household.as_dict(), "member_count": len(people.members(household.id))}
            for household in readable
        ],
    )


@websocket_command(
    {vol.Required("type"): "linli/households/get", vol.Required("household_id"): str}
)
@async_response
async def handle_households_get(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Return a household the user may read, with its members."""
    people = hub.registries.people
    household = people.async_get_household(msg["household_id"])
    if household is None:
        if not connection.permissions.is_admin:
            # Outsiders learn nothing about which households exist.
            raise _refuse(connection, "read_household")
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "Household not found.")
        return
    if not connection.permissions.can_read_household(household.id):
        raise _refuse(connection, "read_household")
    await _audit(hub, connection, f"household:{household.id}")
    connection.send_result(
        msg["id"],
        {
            **household.as_dict(),
            "members": [person.as_dict() for person in people.members(household.id)],
        },
    )


# ---------------------------------------------------------------------- consents
def _may_record_consent(connection: ActiveConnection, person_id: str) -> bool:
    """Admins; staff, grid workers and residents for persons they may read; never police."""
    return bool(connection.permissions.can_record_consent(person_id))


@websocket_command(
    {
        vol.Required("type"): "linli/consents/list",
        vol.Exclusive("person_id", "whose"): str,
        vol.Exclusive("household_id", "whose"): str,
        vol.Optional("include_withdrawn", default=True): bool,
    }
)
@async_response
async def handle_consents_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List the consents of a person, a household, or every one the user may read."""
    from linli.consent import get_consents

    permissions = connection.permissions
    person_id, household_id = msg.get("person_id"), msg.get("household_id")
    if person_id is not None and not permissions.can_read_person(person_id):
        raise _refuse(connection, "read_person")
    if household_id is not None and not permissions.can_read_household(household_id):
        raise _refuse(connection, "read_household")
    consents = await get_consents(hub).async_list(
        person_id=person_id,
        household_id=household_id,
        include_withdrawn=msg["include_withdrawn"],
    )
    if person_id is None and household_id is None and not permissions.is_admin:
        consents = [
            consent
            for consent in consents
            if consent.household_id is not None
            and permissions.can_read_household(consent.household_id)
        ]
    if consents:
        subject = (
            f"consents:person:{person_id}"
            if person_id is not None
            else f"consents:household:{household_id}"
            if household_id is not None
            else "consents"
        )
        await _audit(hub, connection, subject, details={"consent_ids": [c.id for c in consents]})
    connection.send_result(msg["id"], [consent.as_dict() for consent in consents])


@websocket_command(
    {
        vol.Required("type"): "linli/consents/grant",
        vol.Required("person_id"): _TEXT,
        vol.Required("data_kind"): _TEXT,
        vol.Required("scope"): _TEXT,
        vol.Required("method"): _TEXT,
        vol.Required("notice_version"): _TEXT,
        vol.Optional("guardian_person_id"): _TEXT,
    }
)
@async_response
async def handle_consents_grant(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Record a person's consent, entered by the user (who becomes its operator)."""
    from linli.consent import get_consents

    person_id: str = msg["person_id"]
    if hub.registries.people.async_get_person(person_id) is None:
        if not connection.permissions.is_admin:
            raise _refuse(connection, "record_consent")
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "Person not found.")
        return
    guardian: str | None = msg.get("guardian_person_id")
    if not _may_record_consent(connection, person_id) or (
        guardian is not None
        and (
            hub.registries.people.async_get_person(guardian) is None
            or not _may_record_consent(connection, guardian)
        )
    ):
        raise _refuse(connection, "record_consent")
    consent = await get_consents(hub).async_grant(
        person_id,
        msg["data_kind"],
        msg["scope"],
        method=msg["method"],
        notice_version=msg["notice_version"],
        operator_user_id=connection.user.id,
        guardian_person_id=guardian,
    )
    connection.send_result(msg["id"], consent.as_dict())


@websocket_command(
    {vol.Required("type"): "linli/consents/withdraw", vol.Required("consent_id"): str}
)
@async_response
async def handle_consents_withdraw(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Withdraw an active consent (the person's own, or one the user may record)."""
    from linli.consent import get_consents

    ledger = get_consents(hub)
    consent = await ledger.async_get(msg["consent_id"])
    if consent is None:
        if not connection.permissions.is_admin:
            raise _refuse(connection, "record_consent")
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "Consent not found.")
        return
    if not _may_record_consent(connection, consent.person_id):
        raise _refuse(connection, "record_consent")
    if not consent.active:
        connection.send_error(msg["id"], const.ERR_NOT_ALLOWED, "The consent is already withdrawn.")
        return
    withdrawn = await ledger.async_withdraw(consent.id, operator_user_id=connection.user.id)
    connection.send_result(msg["id"], withdrawn.as_dict())


@websocket_command({vol.Required("type"): "linli/integrations/list"})
@require_admin
@callback
def handle_integrations_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every integration the hub knows, with its status and, when it failed, the reason (as
    ``linli integrations list``): admins only."""
    loader = hub.loader
    connection.send_result(msg["id"], [] if loader is None else loader.status())
