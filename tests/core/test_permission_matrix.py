"""The permission matrix: every role × every REST route and WebSocket command, driven for real.

Issue 4's acceptance: "every role × REST endpoint and WS command → allowed or 401/403 as
specified; a resident can never read another household's states, access log or face data".

* :data:`REST_MATRIX` and :data:`WS_MATRIX` are the one table of expected outcomes (columns in
  :data:`ROLES` order), written from the documented tables: the REST table in the docstring of
  :mod:`linli.components.api`, the policy in :mod:`linli.auth.permissions` and the WebSocket
  API's docs (:mod:`linli.components.websocket_api`, ``commands``, ``linli_commands``).
* The completeness tests fail when a route is served or a command registered that the table
  does not list (or the table lists one that no longer exists). Only the public endpoints in
  :data:`PUBLIC_ROUTES` are left out, and :func:`test_public_endpoints` checks them.
* :func:`test_permission_matrix` drives every cell over the bound server as one role (one hub
  per role: ``hub_client`` is function-scoped) and reports every wrong cell at once. Listing
  cells also check *what* is shown (:data:`VISIBLE`), so "filtered" cannot mean "everything".
* :func:`test_resident_never_reads_household_b` follows household B's states, door (access)
  log, record, members and face consents through every REST and WebSocket path a resident has.

Where the code disagrees with the table and the table is right (see each entry's reason), the
cell keeps the right value and :data:`KNOWN_DEVIATIONS` records what the code answers today:
those cells make their role's test xfail (not pass); once the code is fixed the test fails
until the entry is removed. Any other wrong cell fails the test.

Community: building ``b1`` (household A in room ``b1-101``, a lobby ``b1-lobby``) and building
``b2`` (household B in room ``b2-201``); staff scoped to ``b1``, the grid worker to ``b2``,
police to the community root, the resident lives in household A.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import pytest
import voluptuous as vol

from linli.components.alert import get_manager
from linli.components.http import get_http
from linli.components.notice import get_board
from linli.components.websocket_api.connection import HANDLERS
from linli.consent import get_consents
from linli.services import ServiceCall, SupportsResponse

if TYPE_CHECKING:
    from aiohttp import web

    from linli.clock import FakeClock
    from linli.hub import Hub
    from linli.testing.http import HubClient

ROLES: Final = ("anonymous", "admin", "staff", "grid_worker", "police", "resident")
"""The table's columns: no token, then one user of each role."""

Outcome = int | str
"""An HTTP status, or a WebSocket outcome: ``"ok"``, an error code, ``"auth_invalid"``."""

# REST outcomes
OK: Final = 200
CREATED: Final = 201
BAD: Final = 400
ANON: Final = 401
DENIED: Final = 403
HIDDEN: Final = 404  # what the user may not read answers as if it did not exist
# WebSocket outcomes
WOK: Final = "ok"
NOAUTH: Final = "auth_invalid"  # no token: the socket never leaves the auth phase
UNAUTH: Final = "unauthorized"
NOTFOUND: Final = "not_found"

AREAS: Final = """
linli:
  areas:
    - id: b1
      kind: building
      name: Building 1
      children:
        - {id: b1-lobby, kind: zone, name: Lobby 1}
        - id: b1-f1
          kind: floor
          name: Floor 1
          children:
            - {id: b1-101, kind: room, name: "101"}
    - id: b2
      kind: building
      name: Building 2
      children:
        - id: b2-f2
          kind: floor
          name: Floor 2
          children:
            - {id: b2-201, kind: room, name: "201"}
automation:
  - id: doorbell
    alias: Doorbell
    triggers:
      - trigger: event
        event_type: test_doorbell
    actions:
      - event: test_rang
"""

ENTITIES: Final = {
    # entity id: (area, label)
    "light.flat_a": ("b1-101", "A"),
    "lock.door_a": ("b1-101", "A"),
    "sensor.meter_a": ("b1-101", "A"),
    "sensor.lobby_b1": ("b1-lobby", "B1"),
    "light.flat_b": ("b2-201", "B"),
    "lock.door_b": ("b2-201", "B"),
    "sensor.community": (None, "root"),
}
"""The labelled entities: household A's, building 1's lobby, household B's, the community's."""

PERSON_B_NAME: Final = "Li Lei"
HOUSEHOLD_B_NAME: Final = "Bldg2-201"

# ------------------------------------------------------------------------------ visibility
VIS_ENTITIES: Final = "entities"
VIS_HOUSEHOLDS: Final = "households"
VIS_ALERTS: Final = "alerts"
VIS_NOTICES: Final = "notices"

VISIBLE: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    # What a listing shows each role, by the labels of the community's objects in it.
    VIS_ENTITIES: {
        "admin": frozenset({"A", "B1", "B", "root"}),
        "staff": frozenset({"A", "B1"}),
        "grid_worker": frozenset({"B"}),
        "police": frozenset(),  # police see no entity states (api docstring ¹)
        "resident": frozenset({"A"}),
    },
    VIS_HOUSEHOLDS: {  # households, their members and consents
        "admin": frozenset({"A", "B"}),
        "staff": frozenset({"A"}),
        "grid_worker": frozenset({"B"}),
        "police": frozenset(),
        "resident": frozenset({"A"}),
    },
    VIS_ALERTS: {
        "admin": frozenset({"A", "B", "root"}),
        "staff": frozenset({"A"}),
        "grid_worker": frozenset({"B"}),
        "police": frozenset({"A", "B", "root"}),  # alerts in scope: police are root-scoped
        "resident": frozenset({"A"}),
    },
    VIS_NOTICES: {  # notices for building 1 ("B1"), building 2 ("B"), everyone ("root")
        "admin": frozenset({"B1", "B", "root"}),
        "staff": frozenset({"B1", "root"}),
        "grid_worker": frozenset({"B", "root"}),
        "police": frozenset({"B1", "B", "root"}),
        "resident": frozenset({"B1", "root"}),  # household A's room is in building 1
    },
}


# ------------------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Rest:
    """A REST cell row: one request, its expected status per role (in :data:`ROLES` order).

    ``path``, ``params`` and ``body`` may hold ``<name>`` placeholders filled from the
    community's ids (``<household_b>``) or from what ``fresh`` made (``<fresh>``).
    """

    method: str
    route: str
    """The aiohttp route pattern the request must hit (as the router's ``canonical``)."""
    case: str
    path: str
    expect: tuple[Outcome, ...]
    body: Any = None
    params: Mapping[str, str] | None = None
    fresh: str | None = None
    """Make a new object first: ``alert_a``/``alert_b``, ``consent_a``/``consent_b``,
    ``notice_b1``, ``meter_a`` (the state of ``sensor.meter_a``)."""
    shows: str | None = None
    """A :data:`VISIBLE` class the answer must match for roles it is answered to."""
    admin_key: str | None = None
    """A key that only admins' answers carry."""

    @property
    def id(self) -> str:
        """The cell row's name in reports and :data:`KNOWN_DEVIATIONS`."""
        return f"{self.method} {self.route} [{self.case}]"


@dataclass(frozen=True)
class Ws:
    """A WebSocket cell row: one command, its expected outcome per role."""

    command: str
    case: str
    expect: tuple[Outcome, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    fresh: str | None = None
    """As :attr:`Rest.fresh`, plus ``subscription`` (one made on the same socket)."""
    shows: str | None = None
    admin_key: str | None = None
    subscribes: bool = False
    """A subscription (ended again after the cell), its first event checked with ``shows``."""

    @property
    def id(self) -> str:
        """The cell row's name in reports and :data:`KNOWN_DEVIATIONS`."""
        return f"ws {self.command} [{self.case}]"


def everyone(outcome: Outcome = OK) -> tuple[Outcome, ...]:
    """Every user gets ``outcome``; no token gets 401."""
    return (ANON, outcome, outcome, outcome, outcome, outcome)


def admin_only() -> tuple[Outcome, ...]:
    """Admins only: 403 for every other role (api docstring: ``require_admin``)."""
    return (ANON, OK, DENIED, DENIED, DENIED, DENIED)


CONSENT_BODY: Final = {
    "data_kind": "face",
    "scope": "gate-access",
    "method": "paper",
    "notice_version": "v1",
}
BLUEPRINT_YAML: Final = """\
blueprint:
  name: Lobby door left open
  domain: automation
  input:
    door: {selector: {entity: {}}}
triggers:
  - trigger: state
    entity_id: !input door
    to: "on"
actions: []
"""
SWITCH: Final = "/api/services/{domain}/{service}"
ALERT_ACTION: Final = "/api/linli/alerts/{alert_id}/{action}"
STATE: Final = "/api/states/{entity_id}"

#                   columns: (anonymous, admin, staff, grid_worker, police, resident)
REST_MATRIX: Final[tuple[Rest, ...]] = (
    Rest("GET", "/api/", "status", "/api/", everyone()),
    Rest("GET", "/api/config", "settings", "/api/config", everyone(), admin_key="config_dir"),
    Rest("GET", "/api/states", "all", "/api/states", everyone(), shows=VIS_ENTITIES),
    Rest("GET", STATE, "A's light", "/api/states/light.flat_a",
         (ANON, OK, OK, HIDDEN, HIDDEN, OK)),
    Rest("GET", STATE, "B's light", "/api/states/light.flat_b",
         (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN)),
    Rest("GET", STATE, "b1 lobby", "/api/states/sensor.lobby_b1",
         (ANON, OK, OK, HIDDEN, HIDDEN, HIDDEN)),
    Rest("GET", STATE, "no area = root", "/api/states/sensor.community",
         (ANON, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    Rest("GET", STATE, "missing", "/api/states/sensor.nope", everyone(HIDDEN)),
    Rest("GET", "/api/camera_proxy/{entity_id}", "not a camera",
         "/api/camera_proxy/lock.door_a", everyone(HIDDEN)),
    Rest("POST", STATE, "new entity", "/api/states/sensor.posted", (ANON, CREATED, *[DENIED] * 4),
         body={"state": "1"}),
    Rest("POST", STATE, "A's light", "/api/states/light.flat_a", admin_only(),
         body={"state": "on"}),
    Rest("DELETE", STATE, "A's meter", "/api/states/sensor.meter_a", admin_only(),
         fresh="meter_a"),
    Rest("GET", "/api/events", "listeners", "/api/events", admin_only()),
    Rest("POST", "/api/events/{event_type}", "fire", "/api/events/test_ping", admin_only(),
         body={"x": 1}),
    Rest("GET", "/api/services", "describe", "/api/services", everyone()),
    Rest("POST", SWITCH, "test.switch A's light", "/api/services/test/switch",
         (ANON, OK, OK, DENIED, DENIED, OK), body={"entity_id": ["light.flat_a"]}),
    Rest("POST", SWITCH, "test.switch B's light", "/api/services/test/switch",
         (ANON, OK, DENIED, OK, DENIED, DENIED), body={"entity_id": ["light.flat_b"]}),
    Rest("POST", SWITCH, "test.echo no target", "/api/services/test/echo", admin_only(),
         body={"x": 1}),
    Rest("POST", SWITCH, "test.echo area B", "/api/services/test/echo",
         (ANON, OK, DENIED, OK, DENIED, DENIED), body={"area_id": "b2-201"}),
    Rest("POST", SWITCH, "alert.acknowledge alert in A", "/api/services/alert/acknowledge",
         (ANON, OK, OK, DENIED, OK, DENIED), body={"alert_id": "<fresh>"}, fresh="alert_a"),
    Rest("POST", SWITCH, "alert.assign alert in A", "/api/services/alert/assign",
         (ANON, OK, OK, DENIED, DENIED, DENIED),
         body={"alert_id": "<fresh>", "assignee": "role:staff"}, fresh="alert_a"),
    Rest("GET", "/api/history/period", "all", "/api/history/period", everyone(),
         shows=VIS_ENTITIES),
    Rest("GET", "/api/history/period/{timestamp}", "all since start",
         "/api/history/period/<start>", everyone(), shows=VIS_ENTITIES),
    Rest("GET", "/api/history/period/{timestamp}", "B's door", "/api/history/period/<start>",
         everyone(), params={"filter_entity_id": "lock.door_b"}),
    Rest("GET", "/api/logbook", "all", "/api/logbook", everyone(), shows=VIS_ENTITIES),
    Rest("GET", "/api/logbook/{timestamp}", "all since start", "/api/logbook/<start>",
         everyone(), shows=VIS_ENTITIES),
    Rest("POST", "/api/template", "render", "/api/template", admin_only(),
         body={"template": "{{ states('light.flat_b') }}"}),
    Rest("POST", "/api/config/core/check_config", "check", "/api/config/core/check_config",
         admin_only()),
    Rest("GET", "/api/error_log", "read", "/api/error_log", admin_only()),
    Rest("GET", "/api/linli/me", "me", "/api/linli/me", everyone()),
    Rest("GET", "/api/linli/alerts", "all", "/api/linli/alerts", everyone(), shows=VIS_ALERTS),
    Rest("GET", "/api/linli/alerts/{alert_id}", "alert in A", "/api/linli/alerts/<alert_a>",
         (ANON, OK, OK, HIDDEN, OK, OK)),
    Rest("GET", "/api/linli/alerts/{alert_id}", "alert in B", "/api/linli/alerts/<alert_b>",
         (ANON, OK, HIDDEN, OK, OK, HIDDEN)),
    Rest("GET", "/api/linli/alerts/{alert_id}", "community alert",
         "/api/linli/alerts/<alert_root>", (ANON, OK, HIDDEN, HIDDEN, OK, HIDDEN)),
    Rest("GET", "/api/linli/alerts/{alert_id}", "missing", "/api/linli/alerts/nope",
         everyone(HIDDEN)),
    Rest("POST", ALERT_ACTION, "acknowledge alert in A", "/api/linli/alerts/<fresh>/acknowledge",
         (ANON, OK, OK, HIDDEN, OK, DENIED), fresh="alert_a"),
    Rest("POST", ALERT_ACTION, "acknowledge alert in B", "/api/linli/alerts/<fresh>/acknowledge",
         (ANON, OK, HIDDEN, OK, OK, HIDDEN), fresh="alert_b"),
    Rest("POST", ALERT_ACTION, "resolve alert in A", "/api/linli/alerts/<fresh>/resolve",
         (ANON, OK, OK, HIDDEN, OK, DENIED), body={"note": "done"}, fresh="alert_a"),
    # Police acknowledge and resolve but never assign (permissions.py, WS linli/alerts/assign,
    # the alert.assign service); the REST docstring's row says otherwise — see KNOWN_DEVIATIONS.
    Rest("POST", ALERT_ACTION, "assign alert in A", "/api/linli/alerts/<fresh>/assign",
         (ANON, OK, OK, HIDDEN, DENIED, DENIED), body={"assignee": "role:staff"},
         fresh="alert_a"),
    Rest("POST", ALERT_ACTION, "acknowledge missing", "/api/linli/alerts/nope/acknowledge",
         everyone(HIDDEN)),
    Rest("GET", "/api/linli/households", "all", "/api/linli/households", everyone(),
         shows=VIS_HOUSEHOLDS),
    Rest("GET", "/api/linli/households/{household_id}", "A",
         "/api/linli/households/<household_a>", (ANON, OK, OK, HIDDEN, HIDDEN, OK)),
    Rest("GET", "/api/linli/households/{household_id}", "B",
         "/api/linli/households/<household_b>", (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN)),
    Rest("GET", "/api/linli/households/{household_id}", "missing",
         "/api/linli/households/nope", everyone(HIDDEN)),
    Rest("GET", "/api/linli/consents", "household A", "/api/linli/consents",
         (ANON, OK, OK, HIDDEN, HIDDEN, OK), params={"household_id": "<household_a>"}),
    Rest("GET", "/api/linli/consents", "household B", "/api/linli/consents",
         (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN), params={"household_id": "<household_b>"}),
    Rest("GET", "/api/linli/consents", "person B", "/api/linli/consents",
         (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN), params={"person_id": "<person_b>"}),
    # Non-admins must name a person or household (ConsentsView.get); not a permission answer.
    Rest("GET", "/api/linli/consents", "no filter", "/api/linli/consents",
         (ANON, OK, BAD, BAD, BAD, BAD)),
    Rest("POST", "/api/linli/consents", "grant for person A", "/api/linli/consents",
         (ANON, CREATED, CREATED, HIDDEN, DENIED, CREATED),
         body={"person_id": "<person_a>", **CONSENT_BODY}),
    Rest("POST", "/api/linli/consents", "grant for person B", "/api/linli/consents",
         (ANON, CREATED, HIDDEN, CREATED, DENIED, HIDDEN),
         body={"person_id": "<person_b>", **CONSENT_BODY}),
    Rest("POST", "/api/linli/consents", "person A, guardian from B", "/api/linli/consents",
         (ANON, CREATED, HIDDEN, HIDDEN, DENIED, HIDDEN),
         body={"person_id": "<person_a>", "guardian_person_id": "<person_b>", **CONSENT_BODY}),
    Rest("GET", "/api/linli/consents/{consent_id}", "A's face consent",
         "/api/linli/consents/<consent_a>", (ANON, OK, OK, HIDDEN, HIDDEN, OK)),
    Rest("GET", "/api/linli/consents/{consent_id}", "B's face consent",
         "/api/linli/consents/<consent_b>", (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN)),
    # Police may read no consent, so withdrawing one answers 404 (footnote ²), not the 403
    # the docstring's row shows: a 403 would confirm the consent exists.
    Rest("POST", "/api/linli/consents/{consent_id}/withdraw", "A's consent",
         "/api/linli/consents/<fresh>/withdraw", (ANON, OK, OK, HIDDEN, HIDDEN, OK),
         fresh="consent_a"),
    Rest("POST", "/api/linli/consents/{consent_id}/withdraw", "B's consent",
         "/api/linli/consents/<fresh>/withdraw", (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN),
         fresh="consent_b"),
    Rest("GET", "/api/linli/users", "list", "/api/linli/users", admin_only()),
    Rest("GET", "/api/linli/persons/{person_id}/export", "person A",
         "/api/linli/persons/<person_a>/export", (ANON, OK, OK, HIDDEN, HIDDEN, OK)),
    Rest("GET", "/api/linli/persons/{person_id}/export", "person B",
         "/api/linli/persons/<person_b>/export", (ANON, OK, HIDDEN, OK, HIDDEN, HIDDEN)),
    Rest("GET", "/api/linli/persons/{person_id}/export", "missing",
         "/api/linli/persons/nope/export", (ANON, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    Rest("GET", "/api/linli/privacy/data_kinds", "list", "/api/linli/privacy/data_kinds",
         (ANON, OK, OK, OK, OK, OK)),
    Rest("GET", "/api/linli/notices", "all", "/api/linli/notices", everyone(),
         shows=VIS_NOTICES),
    Rest("POST", "/api/linli/notices", "for b1", "/api/linli/notices",
         (ANON, CREATED, CREATED, DENIED, DENIED, DENIED),
         body={"title": "Matrix notice", "body": "Text.", "area_ids": ["b1"]}),
    Rest("POST", "/api/linli/notices", "whole community", "/api/linli/notices",
         (ANON, CREATED, *[DENIED] * 4), body={"title": "Matrix notice", "body": "Text."}),
)  # fmt: skip

PUBLIC_ROUTES: Final = frozenset(
    {
        ("GET", "/api/linli/openapi.json"),
        ("POST", "/auth/token"),
        ("POST", "/api/webhook/{webhook_id}"),
        ("GET", "/api/websocket"),
    }
)
"""Served without a bearer token on purpose; :func:`test_public_endpoints` covers them."""


def ws_everyone(outcome: Outcome = WOK) -> tuple[Outcome, ...]:
    """Every user gets ``outcome``; without a token the socket answers ``auth_invalid``."""
    return (NOAUTH, outcome, outcome, outcome, outcome, outcome)


def ws_admin_only() -> tuple[Outcome, ...]:
    """``@require_admin``: ``unauthorized`` for every other role."""
    return (NOAUTH, WOK, UNAUTH, UNAUTH, UNAUTH, UNAUTH)


def call(domain: str, service: str, **data: Any) -> dict[str, Any]:
    """A ``call_service`` message body."""
    return {"domain": domain, "service": service, **data}


#                   columns: (anonymous, admin, staff, grid_worker, police, resident)
WS_MATRIX: Final[tuple[Ws, ...]] = (
    Ws("ping", "pong", ws_everyone()),
    Ws("supported_features", "none", ws_everyone(), {"features": {}}),
    Ws("auth/current_user", "me", ws_everyone()),
    Ws("get_states", "all", ws_everyone(), shows=VIS_ENTITIES),
    Ws("get_config", "settings", ws_everyone(), admin_key="config_dir"),
    Ws("get_services", "describe", ws_everyone()),
    Ws("subscribe_events", "every type", ws_everyone(), subscribes=True),
    Ws("subscribe_events", "state_changed", ws_everyone(), {"event_type": "state_changed"},
       subscribes=True),
    Ws("unsubscribe_events", "own subscription", ws_everyone(), {"subscription": "<fresh>"},
       fresh="subscription"),
    Ws("subscribe_entities", "all", ws_everyone(), shows=VIS_ENTITIES, subscribes=True),
    Ws("call_service", "test.switch A's light", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       call("test", "switch", target={"entity_id": "light.flat_a"})),
    Ws("call_service", "test.switch B's light", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       call("test", "switch", target={"entity_id": "light.flat_b"})),
    Ws("call_service", "test.echo no target", ws_admin_only(),
       call("test", "echo", service_data={"x": 1})),
    Ws("call_service", "test.echo area B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       call("test", "echo", target={"area_id": "b2-201"})),
    Ws("call_service", "alert.acknowledge alert in A", (NOAUTH, WOK, WOK, UNAUTH, WOK, UNAUTH),
       call("alert", "acknowledge", service_data={"alert_id": "<fresh>"}), fresh="alert_a"),
    Ws("call_service", "alert.assign alert in A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, UNAUTH),
       call("alert", "assign", service_data={"alert_id": "<fresh>", "assignee": "role:staff"}),
       fresh="alert_a"),
    Ws("fire_event", "fire", ws_admin_only(), {"event_type": "test_ping"}),
    Ws("subscribe_trigger", "event trigger", ws_admin_only(),
       {"trigger": {"trigger": "event", "event_type": "test_ping"}}, subscribes=True),
    Ws("render_template", "once", ws_admin_only(),
       {"template": "{{ states('light.flat_b') }}", "subscribe": False}),
    Ws("validate_config", "a condition", ws_everyone(),
       {"condition": {"condition": "state", "entity_id": "light.flat_a", "state": "on"}}),
    Ws("config/area_registry/list", "all", ws_everyone()),
    Ws("config/device_registry/list", "all", ws_everyone()),
    Ws("config/entity_registry/list", "all", ws_everyone(), shows=VIS_ENTITIES),
    Ws("trace/list", "automations", ws_admin_only(), {"domain": "automation"}),
    Ws("trace/get", "a run", ws_admin_only(),
       {"domain": "automation", "item_id": "doorbell", "run_id": "<run_id>"}),
    Ws("get_panels", "all", ws_everyone()),
    Ws("linli/alerts/list", "all", ws_everyone(), shows=VIS_ALERTS),
    Ws("linli/alerts/subscribe", "all", ws_everyone(), shows=VIS_ALERTS, subscribes=True),
    Ws("linli/alerts/acknowledge", "alert in A", (NOAUTH, WOK, WOK, UNAUTH, WOK, UNAUTH),
       {"alert_id": "<fresh>"}, fresh="alert_a"),
    Ws("linli/alerts/acknowledge", "alert in B", (NOAUTH, WOK, UNAUTH, WOK, WOK, UNAUTH),
       {"alert_id": "<fresh>"}, fresh="alert_b"),
    # Outsiders learn nothing about which ids exist (as linli/households/get): see
    # KNOWN_DEVIATIONS for what the alert commands answer today.
    Ws("linli/alerts/acknowledge", "missing", (NOAUTH, NOTFOUND, *[UNAUTH] * 4),
       {"alert_id": "nope"}),
    Ws("linli/alerts/assign", "alert in A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, UNAUTH),
       {"alert_id": "<fresh>", "assignee": "role:staff"}, fresh="alert_a"),
    Ws("linli/alerts/resolve", "alert in A", (NOAUTH, WOK, WOK, UNAUTH, WOK, UNAUTH),
       {"alert_id": "<fresh>", "note": "done"}, fresh="alert_a"),
    Ws("linli/households/list", "all", ws_everyone(), shows=VIS_HOUSEHOLDS),
    Ws("linli/households/get", "A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       {"household_id": "<household_a>"}),
    Ws("linli/households/get", "B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"household_id": "<household_b>"}),
    Ws("linli/households/get", "missing", (NOAUTH, NOTFOUND, *[UNAUTH] * 4),
       {"household_id": "nope"}),
    Ws("linli/consents/list", "all readable", ws_everyone(), shows=VIS_HOUSEHOLDS),
    Ws("linli/consents/list", "household A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       {"household_id": "<household_a>"}),
    Ws("linli/consents/list", "household B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"household_id": "<household_b>"}),
    Ws("linli/consents/list", "person B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"person_id": "<person_b>"}),
    Ws("linli/consents/grant", "person A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       {"person_id": "<person_a>", **CONSENT_BODY}),
    Ws("linli/consents/grant", "person B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"person_id": "<person_b>", **CONSENT_BODY}),
    # As REST: the guardian must be someone the user may read, too.
    Ws("linli/consents/grant", "person A, guardian from B",
       (NOAUTH, WOK, UNAUTH, UNAUTH, UNAUTH, UNAUTH),
       {"person_id": "<person_a>", "guardian_person_id": "<person_b>", **CONSENT_BODY}),
    Ws("linli/consents/withdraw", "A's consent", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       {"consent_id": "<fresh>"}, fresh="consent_a"),
    Ws("linli/consents/withdraw", "B's consent", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"consent_id": "<fresh>"}, fresh="consent_b"),
    Ws("linli/persons/export", "A", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, WOK),
       {"person_id": "<person_a>"}),
    Ws("linli/persons/export", "B", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"person_id": "<person_b>"}),
    Ws("linli/persons/export", "missing", (NOAUTH, NOTFOUND, *[UNAUTH] * 4),
       {"person_id": "nope"}),
    Ws("linli/privacy/data_kinds", "list", ws_everyone()),
    Ws("linli/notices/list", "all", ws_everyone(), shows=VIS_NOTICES),
    Ws("linli/notices/subscribe", "all", ws_everyone(), shows=VIS_NOTICES, subscribes=True),
    Ws("linli/notices/publish", "for b2", (NOAUTH, WOK, UNAUTH, WOK, UNAUTH, UNAUTH),
       {"title": "Matrix notice", "body": "Text.", "area_ids": ["b2"]}),
    Ws("linli/notices/withdraw", "notice for b1", (NOAUTH, WOK, WOK, UNAUTH, UNAUTH, UNAUTH),
       {"notice_id": "<fresh>"}, fresh="notice_b1"),
    Ws("linli/notices/withdraw", "missing", (NOAUTH, NOTFOUND, *[UNAUTH] * 4),
       {"notice_id": "nope"}),
    Ws("linli/integrations/list", "list", (NOAUTH, WOK, *[UNAUTH] * 4)),
    Ws("linli/blueprints/list", "all", ws_admin_only()),
    Ws("linli/blueprints/import", "yaml text", ws_admin_only(), {"yaml": BLUEPRINT_YAML}),
)  # fmt: skip

KNOWN_DEVIATIONS: Final[Mapping[tuple[str, str], tuple[Outcome, str]]] = {
    # (cell row id, role): (what the code answers today, why the table is right)
}


# ------------------------------------------------------------------------------ the community
@pytest.fixture
def hub_config() -> str:
    """The community's areas and one automation (merged into hub_client's configuration)."""
    return AREAS


@dataclass
class World:
    """The served community: its ids, labels, and one client per role."""

    hub: Hub
    admin: HubClient
    clients: dict[str, HubClient]
    ids: dict[str, Any]
    labels: dict[str, str]
    """Every id (and personal name) of the community's objects → "A", "B", "B1" or "root"."""
    start: datetime

    def secrets_of(self, label: str) -> set[str]:
        """Every id and name labelled ``label``."""
        return {key for key, value in self.labels.items() if value == label}


async def build_world(hub_client: HubClient, clock: FakeClock) -> World:
    """Areas, entities with a recorded history, two households, alerts, consents, users."""
    hub = hub_client.hub
    registries = hub.registries
    labels: dict[str, str] = {}
    start = clock.utcnow()
    for entity_id, (area_id, label) in ENTITIES.items():
        domain, object_id = entity_id.split(".")
        entry = registries.entities.async_get_or_create(
            domain, "test", object_id, suggested_object_id=object_id, area_id=area_id
        )
        assert entry.entity_id == entity_id
        hub.states.async_set(entity_id, "off", {"friendly_name": object_id})
        labels[entity_id] = label
    people = registries.people
    household_a = people.async_create_household("Bldg1-101", ["b1-101"])
    household_b = people.async_create_household(HOUSEHOLD_B_NAME, ["b2-201"])
    person_a = people.async_create_person("Wang Fang", household_id=household_a.id)
    person_b = people.async_create_person(PERSON_B_NAME, household_id=household_b.id)
    labels |= {
        household_a.id: "A",
        person_a.id: "A",
        household_b.id: "B",
        person_b.id: "B",
        HOUSEHOLD_B_NAME: "B",
        PERSON_B_NAME: "B",
    }
    clock.advance(60)
    # Every labelled entity changes once; the doors' changes are the access log.
    for entity_id in ENTITIES:
        if entity_id.startswith("lock."):
            owner = PERSON_B_NAME if entity_id.endswith("_b") else "Wang Fang"
            hub.states.async_set(entity_id, "unlocked", {"method": "card", "person": owner})
        else:
            hub.states.async_set(entity_id, "on")
    clock.advance(60)

    async def switch(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, call.data.get("state", "on"), context=call.context)

    async def ring(call: ServiceCall) -> None:
        # Rings A's bell and, as a side effect, opens B's door: a caller from A must not
        # learn about that change from the call's answer.
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, "ringing", context=call.context)
        hub.states.async_set("lock.door_b", "open", {"person": PERSON_B_NAME}, context=call.context)

    async def echo(call: ServiceCall) -> dict[str, Any]:
        return {"echo": dict(call.data)}

    entity_schema = vol.Schema({vol.Required("entity_id"): [str], vol.Optional("state"): str})
    hub.services.async_register("test", "switch", switch, entity_schema)
    hub.services.async_register("test", "ring", ring, entity_schema)
    hub.services.async_register("test", "echo", echo, supports_response=SupportsResponse.OPTIONAL)

    manager = get_manager(hub)
    alert_a, _ = await manager.async_raise("smoke", "Smoke in 101", area_id="b1-101")
    alert_b, _ = await manager.async_raise("water", "Leak in 201", area_id="b2-201")
    alert_root, _ = await manager.async_raise("fire", "Fire drill")
    labels |= {alert_a.id: "A", alert_b.id: "B", alert_root.id: "root"}

    ledger = get_consents(hub)
    consent_a = await ledger.async_grant(
        person_a.id,
        "face",
        "gate-access",
        method="paper",
        notice_version="v1",
        operator_user_id=None,
    )
    consent_b = await ledger.async_grant(
        person_b.id,
        "face",
        "gate-access",
        method="paper",
        notice_version="v1",
        operator_user_id=None,
    )
    labels |= {consent_a.id: "A", consent_b.id: "B"}

    board = get_board(hub)
    notices = {
        label: await board.async_publish(f"Notice {label}", "Text.", areas, author_user_id=None)
        for label, areas in (("B1", ["b1"]), ("B", ["b2"]), ("root", []))
    }
    labels |= {notice.id: label for label, notice in notices.items()}

    from linli.helpers.trace import get_trace_store

    hub.bus.async_fire("test_doorbell")
    await hub.async_block_till_done()
    runs = get_trace_store(hub).get("doorbell")
    assert runs, "the doorbell automation left no trace"

    root_id = registries.areas.root_id
    clients = {
        "admin": hub_client,
        "staff": await hub_client.as_user("staff", name="staff-b1", area_ids=["b1"]),
        "grid_worker": await hub_client.as_user("grid_worker", name="grid-b2", area_ids=["b2"]),
        "police": await hub_client.as_user("police", name="police-root", area_ids=[root_id]),
        "resident": await hub_client.as_user("resident", name="wang", person_id=person_a.id),
    }
    ids = {
        "household_a": household_a.id,
        "household_b": household_b.id,
        "person_a": person_a.id,
        "person_b": person_b.id,
        "alert_a": alert_a.id,
        "alert_b": alert_b.id,
        "alert_root": alert_root.id,
        "consent_a": consent_a.id,
        "consent_b": consent_b.id,
        "run_id": runs[-1].run_id,
        "start": start.isoformat(),
    }
    return World(hub, hub_client, clients, ids, labels, start)


async def make_fresh(world: World, kind: str | None, socket: Socket | None) -> dict[str, Any]:
    """Make the object a cell acts on (so no cell depends on what another one changed)."""
    hub = world.hub
    if kind is None:
        return {}
    if kind in ("alert_a", "alert_b"):
        area_id = "b1-101" if kind == "alert_a" else "b2-201"
        alert, _ = await get_manager(hub).async_raise("test", "Matrix alert", area_id=area_id)
        return {"fresh": alert.id}
    if kind in ("consent_a", "consent_b"):
        person_id = world.ids["person_a" if kind == "consent_a" else "person_b"]
        consent = await get_consents(hub).async_grant(
            person_id,
            "face",
            "gate-access",
            method="app",
            notice_version="v1",
            operator_user_id=None,
        )
        return {"fresh": consent.id}
    if kind == "notice_b1":
        notice = await get_board(hub).async_publish(
            "Matrix notice", "Text.", ["b1"], author_user_id=None
        )
        return {"fresh": notice.id}
    if kind == "meter_a":
        hub.states.async_set("sensor.meter_a", "5")
        return {}
    if kind == "subscription":
        if socket is None:  # no token: the command never gets that far
            return {"fresh": 1}
        msg = await socket.call("subscribe_events", event_type="test_nothing")
        assert msg["success"], msg
        return {"fresh": msg["id"]}
    raise AssertionError(f"unknown fresh object {kind}")


PLACEHOLDER: Final = re.compile(r"<(\w+)>")


def fill(value: Any, ids: Mapping[str, Any]) -> Any:
    """Replace ``<name>`` placeholders in ``value`` (a whole-string one keeps the id's type)."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return ids[whole.group(1)]
        return PLACEHOLDER.sub(lambda match: str(ids[match.group(1)]), value)
    if isinstance(value, Mapping):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [fill(item, ids) for item in value]
    return value


def strings_in(data: Any) -> set[str]:
    """Every string in a JSON value, keys included."""
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, Mapping):
            found.update(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def labels_in(data: Any, labels: Mapping[str, str]) -> frozenset[str]:
    """The labels of the community's objects that appear in a JSON value."""
    return frozenset(labels[text] for text in strings_in(data) if text in labels)


# ------------------------------------------------------------------------------ WebSocket
TIMEOUT: Final = 5.0


class Socket:
    """An authenticated WebSocket: numbered commands, answers found by id, raw frames kept."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.last_id = 0
        self.pending: list[dict[str, Any]] = []
        self.frames: list[str] = []

    async def send(self, type_: str, **data: Any) -> int:
        """Send a command; return its id."""
        self.last_id += 1
        await self.socket.send_json({"id": self.last_id, "type": type_, **data})
        return self.last_id

    async def wait(self, msg_id: int, type_: str = "result") -> dict[str, Any]:
        """Return the next message of ``msg_id`` and ``type_``; keep the others."""
        while True:
            for index, msg in enumerate(self.pending):
                if msg.get("id") == msg_id and msg.get("type") == type_:
                    return self.pending.pop(index)
            frame = await self.socket.receive(timeout=TIMEOUT)
            if frame.type is not aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the socket ended: {frame}")
            self.frames.append(frame.data)
            data = json.loads(frame.data)
            self.pending.extend(data if isinstance(data, list) else [data])

    async def call(self, type_: str, **data: Any) -> dict[str, Any]:
        """Send a command and return its result message."""
        return await self.wait(await self.send(type_, **data))

    async def result(self, type_: str, **data: Any) -> Any:
        """Send a command that must succeed; return its result."""
        msg = await self.call(type_, **data)
        assert msg["success"] is True, msg
        return msg["result"]

    async def error(self, type_: str, **data: Any) -> str:
        """Send a command that must fail; return its error code."""
        msg = await self.call(type_, **data)
        assert msg["success"] is False, msg
        return str(msg["error"]["code"])

    async def flush(self) -> None:
        """Round-trip a ping: everything sent before it has arrived."""
        await self.wait(await self.send("ping"), "pong")

    def events(self, msg_id: int) -> list[Any]:
        """Take the events of subscription ``msg_id`` received so far."""
        mine = [m for m in self.pending if m.get("id") == msg_id and m.get("type") == "event"]
        self.pending = [m for m in self.pending if m not in mine]
        return [m["event"] for m in mine]


def outcome_of(msg: Mapping[str, Any]) -> Outcome:
    """``"ok"`` for a successful result, else its error code."""
    if msg.get("type") == "pong" or msg.get("success") is True:
        return WOK
    return str(msg.get("error", {}).get("code"))


# ------------------------------------------------------------------------------ running cells
@dataclass
class Report:
    """The cells one role got wrong, and the known deviations it met."""

    role: str
    wrong: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    def check(self, cell_id: str, expected: Outcome, got: Outcome, detail: str = "") -> None:
        """Compare one cell (outcome only)."""
        deviation = KNOWN_DEVIATIONS.get((cell_id, self.role))
        if deviation is not None:
            today, why = deviation
            if got == today != expected:
                self.known.append(f"{self.role}: {cell_id}: {got}, table says {expected}: {why}")
                return
            if got == expected:
                self.fixed.append(f"{self.role}: {cell_id} now answers {got}: drop the entry")
                return
        if got != expected:
            self.wrong.append(f"{self.role}: {cell_id}: expected {expected}, got {got} {detail}")

    def shows(self, cell_id: str, kind: str, data: Any, labels: Mapping[str, str]) -> None:
        """Compare what a listing showed with :data:`VISIBLE`."""
        expected = VISIBLE[kind][self.role]
        seen = labels_in(data, labels)
        if seen != expected:
            self.wrong.append(
                f"{self.role}: {cell_id}: shows {sorted(seen)}, expected {sorted(expected)}"
            )

    def admin_key(self, cell_id: str, key: str, data: Mapping[str, Any]) -> None:
        """Check that ``key`` is in the answer exactly when the user is an admin."""
        if (key in data) != (self.role == "admin"):
            self.wrong.append(f"{self.role}: {cell_id}: {key!r} in answer: {key in data}")

    def finish(self) -> None:
        """Fail with every wrong cell; xfail while known deviations remain."""
        problems = self.wrong + self.fixed
        assert not problems, "\n".join(["permission matrix mismatches:", *problems])
        if self.known:
            pytest.xfail("known deviations from the table:\n" + "\n".join(self.known))


async def run_rest(world: World, role: str, report: Report) -> None:
    """Drive every REST cell as ``role`` (no token: also with an invalid one)."""
    column = ROLES.index(role)
    client = world.admin if role == "anonymous" else world.clients[role]
    for cell in REST_MATRIX:
        ids = world.ids | await make_fresh(world, cell.fresh, None)
        path = fill(cell.path, ids)
        params = fill(cell.params, ids) if cell.params else None
        body = fill(cell.body, ids)
        attempts = [("", {})]
        if role == "anonymous":
            attempts.append((" (invalid token)", {"Authorization": "Bearer not-a-token"}))
        for suffix, headers in attempts:
            async with client.request(
                cell.method,
                path,
                auth=role != "anonymous",
                headers=headers,
                params=params,
                json=body,
            ) as response:
                text = await response.text()
                status = response.status
            report.check(cell.id + suffix, cell.expect[column], status, text[:200])
            if status == OK and cell.shows:
                report.shows(cell.id, cell.shows, json.loads(text), world.labels)
            if status == OK and cell.admin_key:
                report.admin_key(cell.id, cell.admin_key, json.loads(text))


async def run_ws(world: World, role: str, report: Report) -> None:
    """Drive every WebSocket command cell as ``role``."""
    column = ROLES.index(role)
    if role == "anonymous":
        await run_ws_anonymous(world, report)
        return
    async with world.clients[role].ws() as raw:
        socket = Socket(raw)
        for cell in WS_MATRIX:
            ids = world.ids | await make_fresh(world, cell.fresh, socket)
            msg_id = await socket.send(cell.command, **fill(cell.data, ids))
            msg = await socket.wait(msg_id, "pong" if cell.command == "ping" else "result")
            got = outcome_of(msg)
            report.check(cell.id, cell.expect[column], got, json.dumps(msg)[:200])
            if got != WOK:
                continue
            if cell.admin_key:
                report.admin_key(cell.id, cell.admin_key, msg["result"])
            if cell.shows:
                if cell.subscribes:
                    shown = (await socket.wait(msg_id, "event"))["event"]
                else:
                    shown = msg["result"]
                report.shows(cell.id, cell.shows, shown, world.labels)
            if cell.subscribes:
                end = await socket.call("unsubscribe_events", subscription=msg_id)
                assert end["success"], end
                socket.events(msg_id)


async def run_ws_anonymous(world: World, report: Report) -> None:
    """Without a (valid) token, every command is refused in the auth phase."""
    url = world.admin.url("/api/websocket")
    session = world.admin.session
    for cell in WS_MATRIX:
        ids = world.ids | await make_fresh(world, cell.fresh, None)
        command = {"id": 1, "type": cell.command, **fill(cell.data, ids)}
        for suffix, first in (
            ("", None),
            (" (invalid token)", {"type": "auth", "access_token": "not-a-token"}),
        ):
            async with session.ws_connect(url) as socket:
                hello = await socket.receive_json(timeout=TIMEOUT)
                assert hello["type"] == "auth_required", hello
                if first is not None:
                    await socket.send_json(first)
                    answer = await socket.receive_json(timeout=TIMEOUT)
                    got: Outcome = str(answer.get("type"))
                    if got == NOAUTH:
                        # The server closes after auth_invalid; a command gets no answer.
                        with contextlib.suppress(ConnectionError):
                            await socket.send_json(command)
                        frame = await socket.receive(timeout=TIMEOUT)
                        if frame.type is aiohttp.WSMsgType.TEXT:
                            got = f"answered after auth_invalid: {frame.data[:100]}"
                else:
                    await socket.send_json(command)
                    answer = await socket.receive_json(timeout=TIMEOUT)
                    got = str(answer.get("type"))
            report.check(cell.id + suffix, cell.expect[0], got, json.dumps(answer)[:200])


# ------------------------------------------------------------------------------ the tests
def route_regex(route: str) -> re.Pattern[str]:
    """A pattern matching the concrete paths of an aiohttp route pattern."""
    parts = re.split(r"\{[^}]+\}", route)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def test_the_table_is_well_formed() -> None:
    """Six columns everywhere, unique cells, paths that hit their routes, real deviations."""
    rest_ids = [cell.id for cell in REST_MATRIX]
    ws_ids = [cell.id for cell in WS_MATRIX]
    assert len(set(rest_ids)) == len(rest_ids), "duplicate REST cell rows"
    assert len(set(ws_ids)) == len(ws_ids), "duplicate WS cell rows"
    for cell in (*REST_MATRIX, *WS_MATRIX):
        assert len(cell.expect) == len(ROLES), cell.id
        assert cell.expect[0] in (ANON, NOAUTH), f"{cell.id}: without a token it must be refused"
    for rest_cell in REST_MATRIX:
        probe = PLACEHOLDER.sub("x", rest_cell.path)
        assert route_regex(rest_cell.route).fullmatch(probe), rest_cell.id
    expected = {cell.id: cell.expect for cell in (*REST_MATRIX, *WS_MATRIX)}
    for (cell_id, role), (today, _why) in KNOWN_DEVIATIONS.items():
        assert cell_id in expected, f"stale deviation {cell_id}"
        assert expected[cell_id][ROLES.index(role)] != today, (cell_id, role)


async def test_every_route_and_command_is_in_the_table(hub_client: HubClient) -> None:
    """A served route or registered command missing from the table (or stale in it) fails."""
    router = get_http(hub_client.hub).app.router
    served = {
        (route.method, route.resource.canonical)
        for route in router.routes()
        if route.method not in ("HEAD", "OPTIONS") and route.resource is not None
    }
    in_table = {(cell.method, cell.route) for cell in REST_MATRIX}
    registered = set(hub_client.hub.data[HANDLERS])
    commands = {cell.command for cell in WS_MATRIX}
    gaps = {
        "routes served but missing from REST_MATRIX": served - PUBLIC_ROUTES - in_table,
        "routes in REST_MATRIX but not served": in_table - served,
        "PUBLIC_ROUTES no longer served": PUBLIC_ROUTES - served,
        "commands registered but missing from WS_MATRIX": registered - commands,
        "commands in WS_MATRIX but not registered": commands - registered,
    }
    assert {what: sorted(found) for what, found in gaps.items() if found} == {}


@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(hub_client: HubClient, clock: FakeClock, role: str) -> None:
    """Every REST and WebSocket cell of ``role``'s column, over the bound server."""
    world = await build_world(hub_client, clock)
    report = Report(role)
    await run_rest(world, role, report)
    await run_ws(world, role, report)
    report.finish()


async def test_public_endpoints(hub_client: HubClient, clock: FakeClock) -> None:
    """The routes left out of the table: public, and still no way around a user's scope."""
    from linli.auth import get_auth
    from linli.components.webhook import async_register

    world = await build_world(hub_client, clock)
    admin = world.admin

    # The OpenAPI document: no token needed, a bad one does not matter.
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await admin.get("/api/linli/openapi.json", auth=False, headers=headers)
        assert response.status == OK
        assert "openapi" in await response.json()

    # /auth/token: bad credentials are a 400 (OAuth2), never a way in; a resident's token
    # from a password login has the resident's scope.
    auth = get_auth(world.hub)
    resident = world.clients["resident"].user
    await auth.async_set_password(resident.id, "correct horse battery staple")
    form = {"grant_type": "password", "username": resident.name, "password": "wrong password!"}
    response = await admin.post("/auth/token", auth=False, data=form)
    assert response.status == BAD
    assert (await response.json())["error"] == "invalid_grant"
    form["password"] = "correct horse battery staple"
    response = await admin.post("/auth/token", auth=False, data=form)
    assert response.status == OK
    headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
    me = await admin.get("/api/linli/me", auth=False, headers=headers)
    assert (await me.json())["role"] == "resident"
    for path, status in (
        ("/api/linli/users", DENIED),
        (f"/api/linli/households/{world.ids['household_b']}", HIDDEN),
        ("/api/states/light.flat_b", HIDDEN),
        ("/api/states/light.flat_a", OK),
    ):
        assert (await admin.get(path, auth=False, headers=headers)).status == status, path

    # Webhooks: no bearer token, the webhook's own secret; a valid bearer token is no substitute.
    pushed: list[bytes] = []

    async def handle(_hub: Hub, _webhook_id: str, request: web.Request) -> None:
        pushed.append(await request.read())

    async_register(world.hub, "test", "Gate", "gate-hook-0123456789", handle, secret="s3cret")
    path = "/api/webhook/gate-hook-0123456789"
    response = await admin.post("/api/webhook/unknown-id", auth=False, data=b"{}")
    assert response.status == HIDDEN
    response = await admin.post(path, data=b"{}")  # the admin's bearer token, no secret
    assert response.status == HIDDEN
    assert pushed == []
    response = await admin.post(
        path, auth=False, data=b'{"plate": "A1"}', headers={"X-Webhook-Secret": "s3cret"}
    )
    assert response.status == OK
    assert pushed == [b'{"plate": "A1"}']

    # The WebSocket endpoint: anyone may connect; nothing happens before a valid auth message.
    async with admin.session.ws_connect(admin.url("/api/websocket")) as socket:
        assert (await socket.receive_json(timeout=TIMEOUT))["type"] == "auth_required"
        await socket.send_json({"type": "auth", "access_token": "not-a-token"})
        assert (await socket.receive_json(timeout=TIMEOUT))["type"] == NOAUTH
        closing = await socket.receive(timeout=TIMEOUT)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing


async def test_resident_never_reads_household_b(hub_client: HubClient, clock: FakeClock) -> None:
    """Household B's states, door log, record, members and face consents, through every path
    a resident has (REST and WebSocket): never shown to A's resident, while A's always are."""
    world = await build_world(hub_client, clock)
    hub = world.hub
    ids = world.ids
    resident = world.clients["resident"]
    admin = world.admin
    secrets_b = world.secrets_of("B") | {"b2-201"}
    seen_texts: list[str] = []  # every body the resident received

    async def rest(method: str, path: str, status: int, **kwargs: Any) -> Any:
        async with resident.request(method, path, **kwargs) as response:
            text = await response.text()
            seen_texts.append(text)
            assert response.status == status, (method, path, kwargs, response.status, text)
            return json.loads(text) if response.content_type == "application/json" else text

    def entities(rows: Any) -> set[str]:
        return {text for text in strings_in(rows) if text in ENTITIES}

    start = ids["start"]
    # --- states, history, the door (access) log: B's exist (the admin sees them) ...
    admin_log = await (await admin.get(f"/api/logbook/{start}")).json()
    assert {"lock.door_b", "lock.door_a"} <= {entry.get("entity_id") for entry in admin_log}
    admin_history = await (await admin.get(f"/api/history/period/{start}")).json()
    assert {"light.flat_b", "lock.door_b"} <= entities(admin_history)
    # ... and the resident sees A's only.
    assert entities(await rest("GET", "/api/states", OK)) == {
        "light.flat_a",
        "lock.door_a",
        "sensor.meter_a",
    }
    missing = await rest("GET", "/api/states/sensor.nope", HIDDEN)
    assert await rest("GET", "/api/states/lock.door_b", HIDDEN) == missing  # nothing to tell
    assert (await rest("GET", "/api/states/lock.door_a", OK))["state"] == "unlocked"
    for path in ("/api/history/period", f"/api/history/period/{start}"):
        assert entities(await rest("GET", path, OK)) == {
            "light.flat_a",
            "lock.door_a",
            "sensor.meter_a",
        }
    filtered = await rest(
        "GET",
        f"/api/history/period/{start}",
        OK,
        params={"filter_entity_id": "light.flat_a,lock.door_b"},
    )
    assert entities(filtered) == {"light.flat_a"}
    assert (
        await rest(
            "GET", f"/api/history/period/{start}", OK, params={"filter_entity_id": "lock.door_b"}
        )
        == []
    )
    for path in ("/api/logbook", f"/api/logbook/{start}"):
        log = await rest("GET", path, OK)
        assert {entry["entity_id"] for entry in log} == {
            "light.flat_a",
            "lock.door_a",
            "sensor.meter_a",
        }
        assert any(entry["entity_id"] == "lock.door_a" for entry in log)  # A's access log
    assert await rest("GET", f"/api/logbook/{start}", OK, params={"entity": "lock.door_b"}) == []
    # A call the resident may make reports only what the resident may read, although it
    # opened B's door too.
    changed = await rest(
        "POST", "/api/services/test/ring", OK, json={"entity_id": ["light.flat_a"]}
    )
    assert [state["entity_id"] for state in changed] == ["light.flat_a"]
    door_b = hub.states.get("lock.door_b")
    assert door_b is not None
    assert door_b.state == "open"

    # --- the household record and its members.
    households = await rest("GET", "/api/linli/households", OK)
    assert [household["id"] for household in households] == [ids["household_a"]]
    own = await rest("GET", f"/api/linli/households/{ids['household_a']}", OK)
    assert [member["id"] for member in own["members"]] == [ids["person_a"]]
    await rest("GET", f"/api/linli/households/{ids['household_b']}", HIDDEN)

    # --- face data: consents with data_kind face.
    own_consents = await rest(
        "GET", "/api/linli/consents", OK, params={"household_id": ids["household_a"]}
    )
    assert [(c["id"], c["data_kind"]) for c in own_consents] == [(ids["consent_a"], "face")]
    assert (await rest("GET", f"/api/linli/consents/{ids['consent_a']}", OK))["id"] == ids[
        "consent_a"
    ]
    await rest("GET", "/api/linli/consents", HIDDEN, params={"household_id": ids["household_b"]})
    await rest("GET", "/api/linli/consents", HIDDEN, params={"person_id": ids["person_b"]})
    await rest("GET", f"/api/linli/consents/{ids['consent_b']}", HIDDEN)
    await rest("POST", f"/api/linli/consents/{ids['consent_b']}/withdraw", HIDDEN)
    await rest(
        "POST", "/api/linli/consents", HIDDEN, json={"person_id": ids["person_b"], **CONSENT_BODY}
    )
    consent_b = await get_consents(hub).async_get(ids["consent_b"])
    assert consent_b is not None
    assert consent_b.active

    alerts = await rest("GET", "/api/linli/alerts", OK)
    assert labels_in(alerts, world.labels) == {"A"}

    # --- the WebSocket: snapshots, then live changes of B and A.
    async with resident.ws() as raw:
        ws = Socket(raw)
        assert entities(await ws.result("get_states")) == {
            "light.flat_a",
            "lock.door_a",
            "sensor.meter_a",
        }
        assert entities(await ws.result("config/entity_registry/list")) == {
            "light.flat_a",
            "lock.door_a",
            "sensor.meter_a",
        }
        every = await ws.call("subscribe_entities")
        assert every["success"], every
        snapshot = (await ws.wait(every["id"], "event"))["event"]
        assert set(snapshot["a"]) == {"light.flat_a", "lock.door_a", "sensor.meter_a"}
        only_b = await ws.call("subscribe_entities", entity_ids=["lock.door_b", "light.flat_b"])
        assert only_b["success"], only_b
        assert (await ws.wait(only_b["id"], "event"))["event"] == {"a": {}}
        all_events = await ws.call("subscribe_events")
        changes = await ws.call("subscribe_events", event_type="state_changed")
        assert all_events["success"]
        assert changes["success"]

        hub.states.async_set("lock.door_b", "unlocked", {"method": "face", "person": PERSON_B_NAME})
        hub.states.async_set("light.flat_b", "off")
        hub.states.async_set("lock.door_a", "locked", {"method": "face", "person": "Wang Fang"})
        await hub.async_block_till_done()
        # A's change arrives on each subscription; B's (sent before it) never does.
        assert set((await ws.wait(every["id"], "event"))["event"]["c"]) == {"lock.door_a"}
        for sub in (all_events["id"], changes["id"]):
            event = (await ws.wait(sub, "event"))["event"]
            assert event["data"]["entity_id"] == "lock.door_a", event
        await ws.flush()
        for sub in (every["id"], only_b["id"], all_events["id"], changes["id"]):
            assert ws.events(sub) == [], sub

        # Alerts and face consents changing while subscribed: B's never arrive, A's do.
        alerts = await ws.call("linli/alerts/subscribe")
        assert alerts["success"], alerts
        snapshot = (await ws.wait(alerts["id"], "event"))["event"]
        assert labels_in(snapshot, world.labels) == {"A"}
        ledger = get_consents(hub)
        await ledger.async_withdraw(ids["consent_b"], operator_user_id=None)
        await ledger.async_grant(
            ids["person_b"],
            "face",
            "gate-access",
            method="app",
            notice_version="v2",
            operator_user_id=None,
        )
        manager = get_manager(hub)
        await manager.async_raise("water", "Leak again in 201", area_id="b2-201")
        await manager.async_raise("smoke", "Smoke again in 101", area_id="b1-101")
        for sub in (alerts["id"], all_events["id"]):
            event = (await ws.wait(sub, "event"))["event"]
            assert "Smoke again in 101" in json.dumps(event), event
        await ws.flush()
        for sub in (alerts["id"], every["id"], only_b["id"], all_events["id"], changes["id"]):
            assert ws.events(sub) == [], sub

        households = await ws.result("linli/households/list")
        assert [household["id"] for household in households] == [ids["household_a"]]
        own = await ws.result("linli/households/get", household_id=ids["household_a"])
        assert [member["id"] for member in own["members"]] == [ids["person_a"]]
        assert await ws.error("linli/households/get", household_id=ids["household_b"]) == UNAUTH

        consents = await ws.result("linli/consents/list")
        assert [(c["id"], c["data_kind"]) for c in consents] == [(ids["consent_a"], "face")]
        listed = await ws.result("linli/consents/list", household_id=ids["household_a"])
        assert [c["id"] for c in listed] == [ids["consent_a"]]
        for whose in ({"household_id": ids["household_b"]}, {"person_id": ids["person_b"]}):
            assert await ws.error("linli/consents/list", **whose) == UNAUTH
        assert await ws.error("linli/consents/withdraw", consent_id=ids["consent_b"]) == UNAUTH
        assert labels_in(await ws.result("linli/alerts/list"), world.labels) == {"A"}
        await ws.flush()
        seen_texts.extend(ws.frames)

    # Nothing the resident received, in any form, names B's things.
    leaks = sorted(secret for secret in secrets_b for text in seen_texts if secret in text)
    assert leaks == [], f"household B leaked to A's resident: {leaks}"
    assert any(ids["consent_a"] in text for text in seen_texts)
    assert any("lock.door_a" in text for text in seen_texts)
