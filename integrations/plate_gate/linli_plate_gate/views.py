"""REST (``/api/linli/plates…``, ``/api/linli/visitor_passes``, ``/api/linli/gate_log``) and
WebSocket (``plate_gate/…``) doors to :class:`~linli_plate_gate.api.PlateApi`.

REST answers a refused request 400 (bad input), 403 (not allowed), 404 (not there, or not
the caller's to see) or 409 (registered already); WebSocket answers ``invalid_format``,
``unauthorized`` (for both "not allowed" and "not found", so ids cannot be probed) or
``home_assistant_error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import web

from linli import Hub, HubKey
from linli.components import websocket_api
from linli.components.api import async_register_openapi
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    BadRequest,
    HubView,
    async_register_view,
    context_for,
    json_message,
    json_response,
    read_json_object,
)
from linli_plate_gate.api import ApiError, Caller, PlateApi
from linli_plate_gate.openapi import OPENAPI_PATHS, OPENAPI_SCHEMAS

if TYPE_CHECKING:
    from linli.components.websocket_api import ActiveConnection

PLATE_API: Final = HubKey[PlateApi]("plate_gate.api")

_STATUS: Final = {
    "invalid": HTTPStatus.BAD_REQUEST,
    "not_found": HTTPStatus.NOT_FOUND,
    "forbidden": HTTPStatus.FORBIDDEN,
    "conflict": HTTPStatus.CONFLICT,
}
_WS_CODE: Final = {
    "invalid": "invalid_format",
    "not_found": "unauthorized",
    "forbidden": "unauthorized",
    "conflict": "home_assistant_error",
}


def _api(hub: Hub) -> PlateApi:
    api = hub.data.get(PLATE_API)
    if api is None:  # the integration was unloaded; its routes stay until the server stops
        raise BadRequest("Plate gates are not set up.", HTTPStatus.SERVICE_UNAVAILABLE)
    return api


def _caller(request: web.Request) -> Caller:
    return Caller(
        request[KEY_PERMISSIONS], context_for(request), f"{request.method} {request.path}"
    )


async def _serve(
    request: web.Request, call: Callable[[PlateApi, Caller], Awaitable[Any]]
) -> web.Response:
    """Run ``call`` with the API and the request's caller; answer its result or refusal."""
    api, caller = _api(request.app[KEY_HUB]), _caller(request)
    return await _answer(lambda: call(api, caller))


async def _create(
    request: web.Request, call: Callable[[PlateApi, Caller, dict[str, Any]], Awaitable[Any]]
) -> web.Response:
    """Like :func:`_serve`, with the JSON body; 201 with what was made."""
    api, caller = _api(request.app[KEY_HUB]), _caller(request)
    data = await read_json_object(request)
    return await _answer(lambda: call(api, caller, data), HTTPStatus.CREATED)


async def _answer(call: Callable[[], Awaitable[Any]], status: int = HTTPStatus.OK) -> web.Response:
    try:
        result = await call()
    except ApiError as err:
        return json_message(err.message, _STATUS[err.kind])
    if result is None:
        return json_message("Done.")
    return json_response(result, status)


def _household(request: web.Request) -> str | None:
    return request.query.get("household_id") or None


class PlatesView(HubView):
    """``GET /api/linli/plates[?household_id=]``; ``POST`` registers a resident plate."""

    url = "/api/linli/plates"
    name = "api:linli:plates"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """List resident plates."""
        return await _serve(request, lambda api, c: api.async_list_plates(c, _household(request)))

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Register a plate: ``{household_id, plate, color?, note?}``."""
        return await _create(request, PlateApi.async_add_plate)


class BlacklistView(HubView):
    """``GET /api/linli/plates/blacklist``; ``POST`` adds ``{plate, color?, reason?}``."""

    url = "/api/linli/plates/blacklist"
    name = "api:linli:plates-blacklist"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """List the blacklist."""
        return await _serve(request, PlateApi.async_list_blacklist)

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Add a plate."""
        return await _create(request, PlateApi.async_add_blacklist)


class BlacklistEntryView(HubView):
    """``DELETE /api/linli/plates/blacklist/<entry_id>``."""

    url = "/api/linli/plates/blacklist/{entry_id}"
    name = "api:linli:plates-blacklist-entry"

    async def delete(self, request: web.Request, entry_id: str) -> web.StreamResponse:
        """Take the plate off the blacklist."""
        return await _serve(request, lambda api, c: api.async_remove_blacklist(c, entry_id))


class PlateView(HubView):
    """``DELETE /api/linli/plates/<plate_id>``."""

    url = "/api/linli/plates/{plate_id}"
    name = "api:linli:plate"

    async def delete(self, request: web.Request, plate_id: str) -> web.StreamResponse:
        """Remove a resident plate."""
        return await _serve(request, lambda api, c: api.async_remove_plate(c, plate_id))


class VisitorPassesView(HubView):
    """``GET /api/linli/visitor_passes[?household_id=]``; ``POST`` registers a pass."""

    url = "/api/linli/visitor_passes"
    name = "api:linli:visitor-passes"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """List visitor passes."""
        return await _serve(request, lambda api, c: api.async_list_passes(c, _household(request)))

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Register ``{plate, start, end, household_id?, color?, note?}``."""
        return await _create(request, PlateApi.async_add_pass)


class VisitorPassView(HubView):
    """``DELETE /api/linli/visitor_passes/<pass_id>``."""

    url = "/api/linli/visitor_passes/{pass_id}"
    name = "api:linli:visitor-pass"

    async def delete(self, request: web.Request, pass_id: str) -> web.StreamResponse:
        """Cancel the pass."""
        return await _serve(request, lambda api, c: api.async_remove_pass(c, pass_id))


class GateLogView(HubView):
    """``GET /api/linli/gate_log?gate_id=&household_id=&plate=&since=&until=&limit=``."""

    url = "/api/linli/gate_log"
    name = "api:linli:gate-log"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """The reads the caller may see, newest first."""
        return await _serve(request, lambda api, c: api.async_gate_log(c, dict(request.query)))


VIEWS: Final = (
    PlatesView,
    BlacklistView,
    BlacklistEntryView,
    PlateView,
    VisitorPassesView,
    VisitorPassView,
    GateLogView,
)


# ---------------------------------------------------------------------------- WebSocket


async def _ws(
    connection: ActiveConnection,
    msg: dict[str, Any],
    call: Callable[[Caller], Awaitable[Any]],
) -> None:
    caller = Caller(connection.permissions, connection.context(), "websocket")
    try:
        result = await call(caller)
    except ApiError as err:
        connection.send_error(msg["id"], _WS_CODE[err.kind], err.message)
        return
    connection.send_result(msg["id"], result)


def _fields(msg: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: msg[key] for key in keys if key in msg}


_HOUSEHOLD: Final = {vol.Optional("household_id"): str}
_PLATE_FIELDS: Final = {
    vol.Required("plate"): str,
    vol.Optional("color"): vol.Any(str, int, None),
}


@websocket_api.websocket_command({vol.Required("type"): "plate_gate/plates/list", **_HOUSEHOLD})
@websocket_api.async_response
async def ws_plates_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List resident plates."""
    await _ws(connection, msg, lambda c: _api(hub).async_list_plates(c, msg.get("household_id")))


@websocket_api.websocket_command(
    {
        vol.Required("type"): "plate_gate/plates/add",
        vol.Required("household_id"): str,
        **_PLATE_FIELDS,
        vol.Optional("note"): str,
    }
)
@websocket_api.async_response
async def ws_plates_add(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Register a resident plate."""
    data = _fields(msg, "household_id", "plate", "color", "note")
    await _ws(connection, msg, lambda c: _api(hub).async_add_plate(c, data))


@websocket_api.websocket_command(
    {vol.Required("type"): "plate_gate/plates/remove", vol.Required("plate_id"): str}
)
@websocket_api.async_response
async def ws_plates_remove(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Remove a resident plate."""
    await _ws(connection, msg, lambda c: _api(hub).async_remove_plate(c, msg["plate_id"]))


@websocket_api.websocket_command(
    {vol.Required("type"): "plate_gate/visitor_passes/list", **_HOUSEHOLD}
)
@websocket_api.async_response
async def ws_passes_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List visitor passes."""
    await _ws(connection, msg, lambda c: _api(hub).async_list_passes(c, msg.get("household_id")))


@websocket_api.websocket_command(
    {
        vol.Required("type"): "plate_gate/visitor_passes/add",
        **_HOUSEHOLD,
        **_PLATE_FIELDS,
        vol.Required("start"): vol.Any(str, int, float),
        vol.Required("end"): vol.Any(str, int, float),
        vol.Optional("note"): str,
    }
)
@websocket_api.async_response
async def ws_passes_add(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Register a visitor pass."""
    data = _fields(msg, "household_id", "plate", "color", "start", "end", "note")
    await _ws(connection, msg, lambda c: _api(hub).async_add_pass(c, data))


@websocket_api.websocket_command(
    {vol.Required("type"): "plate_gate/visitor_passes/remove", vol.Required("pass_id"): str}
)
@websocket_api.async_response
async def ws_passes_remove(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Cancel a visitor pass."""
    await _ws(connection, msg, lambda c: _api(hub).async_remove_pass(c, msg["pass_id"]))


@websocket_api.websocket_command({vol.Required("type"): "plate_gate/blacklist/list"})
@websocket_api.async_response
async def ws_blacklist_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List the blacklist."""
    await _ws(connection, msg, lambda c: _api(hub).async_list_blacklist(c))


@websocket_api.websocket_command(
    {vol.Required("type"): "plate_gate/blacklist/add", **_PLATE_FIELDS, vol.Optional("reason"): str}
)
@websocket_api.async_response
async def ws_blacklist_add(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Add a plate to the blacklist."""
    data = _fields(msg, "plate", "color", "reason")
    await _ws(connection, msg, lambda c: _api(hub).async_add_blacklist(c, data))


@websocket_api.websocket_command(
    {vol.Required("type"): "plate_gate/blacklist/remove", vol.Required("entry_id"): str}
)
@websocket_api.async_response
async def ws_blacklist_remove(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Take a plate off the blacklist."""
    await _ws(connection, msg, lambda c: _api(hub).async_remove_blacklist(c, msg["entry_id"]))


@websocket_api.websocket_command(
    {
        vol.Required("type"): "plate_gate/gate_log/list",
        vol.Optional("gate_id"): str,
        vol.Optional("household_id"): str,
        vol.Optional("plate"): str,
        vol.Optional("since"): vol.Any(str, int, float),
        vol.Optional("until"): vol.Any(str, int, float),
        vol.Optional("limit"): int,
    }
)
@websocket_api.async_response
async def ws_gate_log(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The reads the caller may see, newest first."""
    query = _fields(msg, "gate_id", "household_id", "plate", "since", "until", "limit")
    await _ws(connection, msg, lambda c: _api(hub).async_gate_log(c, query))


WS_COMMANDS: Final = (
    ws_plates_list,
    ws_plates_add,
    ws_plates_remove,
    ws_passes_list,
    ws_passes_add,
    ws_passes_remove,
    ws_blacklist_list,
    ws_blacklist_add,
    ws_blacklist_remove,
    ws_gate_log,
)


def async_register(hub: Hub, api: PlateApi) -> None:
    """Serve the REST views and WebSocket commands."""
    hub.data[PLATE_API] = api
    for view in VIEWS:
        async_register_view(hub, view())
    async_register_openapi(hub, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    for command in WS_COMMANDS:
        websocket_api.async_register_command(hub, command)
