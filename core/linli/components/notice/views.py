"""REST views and WebSocket commands of the notice integration."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.components.api.openapi_parts import (
    NULLABLE_STRING,
    STRING,
    array_of,
    errors,
    json_body,
    json_reply,
    ref,
)
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    BadRequest,
    HubView,
    context_for,
    json_response,
    read_json_object,
)
from linli.components.notice.board import (
    DOMAIN,
    EVENT_NOTICE_PUBLISHED,
    EVENT_NOTICE_WITHDRAWN,
    MAX_BODY,
    MAX_TITLE,
    Notice,
    NoticeError,
    get_board,
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
    from linli.bus import Event
    from linli.components.websocket_api.connection import ActiveConnection
    from linli.context import Context
    from linli.hub import Hub

PUBLISH_KEYS: Final = frozenset({"title", "body", "area_ids", "expires_at"})


def _expiry(value: Any) -> datetime | None:
    """``expires_at`` as given (ISO 8601 text or None; naive times are UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise NoticeError("'expires_at' should be an ISO 8601 time")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise NoticeError("'expires_at' should be an ISO 8601 time") from None


def _area_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise NoticeError("'area_ids' should be a list of area ids")
    return value


async def _publish(
    hub: Hub, permissions: Permissions, data: dict[str, Any], context: Context
) -> Notice:
    """Check the user may publish for the areas, then publish; NoticeError when invalid."""
    area_ids = _area_list(data.get("area_ids"))
    if not get_board(hub).may_publish(permissions, area_ids):
        raise Unauthorized(user_id=permissions.user.id, permission="publish_notice")
    title, body = data.get("title"), data.get("body")
    if not isinstance(title, str) or not isinstance(body, str):
        raise NoticeError("'title' and 'body' should be text")
    return await get_board(hub).async_publish(
        title,
        body,
        area_ids,
        expires_at=_expiry(data.get("expires_at")),
        author_user_id=permissions.user.id,
        context=context,
    )


class NoticesView(HubView):
    """``GET /api/linli/notices`` (notices addressed to the user) and ``POST`` (publish)."""

    url = "/api/linli/notices"
    name = "api:linli:notices"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """The active notices addressed to the user, newest first."""
        board = get_board(request.app[KEY_HUB])
        return json_response([board.describe(n) for n in board.visible(request[KEY_PERMISSIONS])])

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Publish a notice: 201; 403 outside the user's scope; 400 for bad input."""
        data = await read_json_object(request)
        extra = sorted(set(data) - PUBLISH_KEYS)
        if extra:
            raise BadRequest(f"Unknown keys: {', '.join(extra)}.")
        try:
            notice = await _publish(
                request.app[KEY_HUB], request[KEY_PERMISSIONS], data, context_for(request)
            )
        except NoticeError as err:
            raise BadRequest(str(err)) from err
        return json_response(get_board(request.app[KEY_HUB]).describe(notice), HTTPStatus.CREATED)


@websocket_command({vol.Required("type"): "linli/notices/list"})
@callback
def handle_notices_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The active notices addressed to the user, newest first."""
    notices = get_board(hub).visible(connection.permissions)
    connection.send_result(msg["id"], [get_board(hub).describe(notice) for notice in notices])


@websocket_command({vol.Required("type"): "linli/notices/subscribe"})
@callback
def handle_notices_subscribe(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Send ``{"notices": [...]}`` (as ``linli/notices/list``) now and again whenever a
    notice addressed to the user is published or withdrawn."""
    msg_id: int = msg["id"]
    permissions = connection.permissions
    board = get_board(hub)

    def snapshot() -> None:
        notices = [board.describe(notice) for notice in board.visible(permissions)]
        connection.send_event(msg_id, {"notices": notices})

    @callback
    def changed(event: Event[Any]) -> None:
        notice = board.get(str((event.data.get("notice") or {}).get("id")))
        if notice is not None and board.reaches(permissions, notice):
            snapshot()

    removers = [
        hub.bus.async_listen(EVENT_NOTICE_PUBLISHED, changed, owner=DOMAIN),
        hub.bus.async_listen(EVENT_NOTICE_WITHDRAWN, changed, owner=DOMAIN),
    ]

    @callback
    def unsubscribe() -> None:
        for remove in removers:
            remove()

    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)
    snapshot()


@websocket_command(
    {
        vol.Required("type"): "linli/notices/publish",
        vol.Required("title"): str,
        vol.Required("body"): str,
        vol.Optional("area_ids", default=list): [str],
        vol.Optional("expires_at"): vol.Any(None, str),
    }
)
@async_response
async def handle_notices_publish(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Publish a notice (admins; staff and grid workers for areas in their scope)."""
    try:
        notice = await _publish(hub, connection.permissions, msg, connection.context(msg))
    except NoticeError as err:
        connection.send_error(msg["id"], ws_const.ERR_INVALID_FORMAT, str(err))
        return
    connection.send_result(msg["id"], get_board(hub).describe(notice))


@websocket_command({vol.Required("type"): "linli/notices/withdraw", vol.Required("notice_id"): str})
@async_response
async def handle_notices_withdraw(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Withdraw a notice (whoever may publish for its areas); a missing id is ``not_found``
    for admins and ``unauthorized`` for others, so ids cannot be probed."""
    board = get_board(hub)
    permissions = connection.permissions
    notice = board.get(msg["notice_id"])
    if notice is None and permissions.is_admin:
        connection.send_error(msg["id"], ws_const.ERR_NOT_FOUND, "Notice not found.")
        return
    if notice is None or not board.may_publish(permissions, notice.area_ids):
        raise Unauthorized(user_id=connection.user.id, permission="withdraw_notice")
    notice = await board.async_withdraw(notice.id, context=connection.context(msg))
    connection.send_result(msg["id"], board.describe(notice))


def async_register_commands(hub: Hub) -> None:
    """Register the WebSocket commands."""
    for handler in (
        handle_notices_list,
        handle_notices_subscribe,
        handle_notices_publish,
        handle_notices_withdraw,
    ):
        async_register_command(hub, handler)


OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/linli/notices": {
        "get": {
            "operationId": "listNotices",
            "summary": "The active community notices addressed to the user, newest first.",
            "description": (
                "A notice for an area reaches everyone whose scope lies in or under it (a "
                "notice for a building reaches its residents); one without areas reaches "
                "everyone. Withdrawn and expired notices are left out."
            ),
            "tags": ["notices"],
            "responses": {"200": json_reply(array_of("Notice"), "The notices."), **errors()},
        },
        "post": {
            "operationId": "publishNotice",
            "summary": "Publish a community notice.",
            "description": (
                "Admins; staff and grid workers for areas in their scope (no areas: the whole "
                "community, for those whose scope it is). Fires ``notice_published``."
            ),
            "tags": ["notices"],
            "requestBody": json_body(
                {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
                        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
                        "area_ids": {"type": "array", "items": STRING},
                        "expires_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                    "required": ["title", "body"],
                    "additionalProperties": False,
                }
            ),
            "responses": {
                "201": json_reply(ref("Notice"), "The published notice."),
                **errors(400, 403),
            },
        },
    }
}
OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "Notice": {
        "type": "object",
        "properties": {
            "id": STRING,
            "title": STRING,
            "body": STRING,
            "area_ids": {"type": "array", "items": STRING},
            "areas": {
                "type": "array",
                "description": "Each area's id and names (for readers below it).",
                "items": {
                    "type": "object",
                    "properties": {
                        "area_id": STRING,
                        "name": STRING,
                        "names": {"type": "object", "additionalProperties": STRING},
                    },
                    "required": ["area_id", "name", "names"],
                },
            },
            "author_user_id": NULLABLE_STRING,
            "published_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
            "withdrawn": {"type": "boolean"},
            "withdrawn_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "required": [
            "id",
            "title",
            "body",
            "area_ids",
            "areas",
            "author_user_id",
            "published_at",
            "expires_at",
            "withdrawn",
            "withdrawn_at",
        ],
    }
}
