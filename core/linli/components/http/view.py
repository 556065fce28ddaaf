"""Views: the way integrations add HTTP endpoints, and the JSON helpers they answer with."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import voluptuous as vol
from aiohttp import web

from linli.components.http.const import KEY_HUB, KEY_USER
from linli.context import Context
from linli.exceptions import Unauthorized
from linli.hub import HubState
from linli.util.json import JSONDecodeError, json_bytes, json_loads

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONTENT_TYPE_JSON = "application/json"
METHODS = ("get", "post", "put", "patch", "delete")

Handler = Callable[..., Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """Raised by a view for a request it cannot use: answered 400 with ``{"message": …}``."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def json_response(
    data: Any, status: int = HTTPStatus.OK, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return ``data`` as a JSON response (serialised with orjson)."""
    return web.Response(
        body=json_bytes(data), status=status, content_type=CONTENT_TYPE_JSON, headers=headers
    )


def json_message(
    message: str, status: int = HTTPStatus.OK, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return Home Assistant's message shape: ``{"message": message}``."""
    return json_response({"message": message}, status, headers)


async def read_json(request: web.Request, *, what: str = "Data") -> Any:
    """Parse the request body as JSON (None when empty); :class:`BadRequest` when invalid."""
    body = await request.read()
    if not body.strip():
        return None
    try:
        return json_loads(body)
    except JSONDecodeError:
        raise BadRequest(f"{what} should be valid JSON.") from None


async def read_json_object(request: web.Request, *, what: str = "Data") -> dict[str, Any]:
    """Parse the body as a JSON object (``{}`` when empty); :class:`BadRequest` otherwise."""
    data = await read_json(request, what=what)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest(f"{what} should be a JSON object.")
    return data


def context_for(request: web.Request) -> Context:
    """Return a new context carrying the request's user (if any)."""
    user = request.get(KEY_USER)
    return Context(user_id=None if user is None else user.id)


class HubView:
    """An HTTP endpoint, like Home Assistant's ``HomeAssistantView``.

    Subclasses set ``url`` (aiohttp's route syntax, ``/api/states/{entity_id}``), a ``name``
    and define ``async def get/post/put/patch/delete(self, request, **match_info)``. With
    ``requires_auth`` (the default) a request without a valid bearer token is answered
    401 before the method runs. :class:`~linli.exceptions.Unauthorized` raised by a method
    becomes 403, :class:`BadRequest` and ``vol.Invalid`` become 400.
    """

    url: ClassVar[str]
    name: ClassVar[str]
    extra_urls: ClassVar[list[str]] = []
    requires_auth: ClassVar[bool] = True

    def register(self, router: web.UrlDispatcher) -> None:
        """Add a route for each method this view defines, on every one of its URLs."""
        handlers = [(method, getattr(self, method)) for method in METHODS if hasattr(self, method)]
        if not handlers:
            raise ValueError(f"View {self.name} defines no method")
        for url in (self.url, *self.extra_urls):
            for method, handler in handlers:
                router.add_route(method.upper(), url, _wrap(self, handler))


def _wrap(
    view: HubView, handler: Handler
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    requires_auth = view.requires_auth

    async def handle(request: web.Request) -> web.StreamResponse:
        hub: Hub = request.app[KEY_HUB]
        if hub.state in (HubState.stopping, HubState.stopped):
            return json_message("The hub is stopping.", HTTPStatus.SERVICE_UNAVAILABLE)
        if requires_auth and KEY_USER not in request:
            raise web.HTTPUnauthorized
        try:
            return await handler(request, **request.match_info)
        except BadRequest as err:
            return json_message(err.message, err.status)
        except Unauthorized:
            return json_message("Forbidden.", HTTPStatus.FORBIDDEN)
        except vol.Invalid as err:
            return json_message(f"Invalid data: {err}", HTTPStatus.BAD_REQUEST)
        except web.HTTPRequestEntityTooLarge:
            limit = request.client_max_size
            return json_message(
                f"Request body too large: the limit is {limit} bytes.",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )

    handle.__name__ = f"{type(view).__name__}.{handler.__name__}"
    return handle
