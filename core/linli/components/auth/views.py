"""``POST /auth/token``: log in with a password, refresh an access token, revoke a token.

OAuth2's token endpoint shapes, as Home Assistant answers them: form or JSON bodies,
``{"error": "invalid_grant", "error_description": …}`` with 400 for bad credentials, and 429
with ``Retry-After`` while a user name or client address is locked out.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web

from linli.auth import InvalidCredentials, LockedOut, get_auth
from linli.components.http import KEY_HUB, KEY_REAL_IP, HubView, json_response
from linli.util.json import JSONDecodeError, json_loads

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FIELD_LENGTH: Final = 4096


def _error(error: str, description: str, status: int = HTTPStatus.BAD_REQUEST) -> web.Response:
    return json_response(
        {"error": error, "error_description": description}, status, headers=NO_STORE
    )


async def _read_fields(request: web.Request) -> dict[str, str] | None:
    """Return the body's fields (form or JSON object) as strings, or None when unreadable."""
    if request.content_type == "application/json":
        try:
            data: Any = json_loads(await request.read() or b"{}")
        except JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        return {str(k): v for k, v in data.items() if isinstance(v, str)}
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


class AuthTokenView(HubView):
    """The token endpoint: ``grant_type=password``, ``grant_type=refresh_token``, revoke."""

    url = "/auth/token"
    name = "auth:token"
    requires_auth = False

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Answer a token request."""
        fields = await _read_fields(request)
        if fields is None:
            return _error("invalid_request", "the body must be a form or a JSON object")
        if any(len(value) > MAX_FIELD_LENGTH for value in fields.values()):
            return _error("invalid_request", "a field is too long")
        auth = get_auth(request.app[KEY_HUB])
        if fields.get("action") == "revoke":
            await auth.async_revoke(fields.get("token", ""))
            return web.Response(status=HTTPStatus.OK, headers=NO_STORE)
        grant_type = fields.get("grant_type")
        if grant_type == "password":
            username, password = fields.get("username"), fields.get("password")
            if not username or password is None:
                return _error("invalid_request", "username and password are required")
            client_ip = request.get(KEY_REAL_IP, request.remote)
            try:
                pair = await auth.async_login(username, password, client_ip=client_ip)
            except LockedOut as err:
                retry = str(max(1, math.ceil(err.retry_after)))
                return json_response(
                    {"error": "too_many_requests", "error_description": str(err)},
                    HTTPStatus.TOO_MANY_REQUESTS,
                    headers={**NO_STORE, "Retry-After": retry},
                )
            except InvalidCredentials:
                return _error("invalid_grant", "invalid username or password")
            return json_response(pair.as_dict(), headers=NO_STORE)
        if grant_type == "refresh_token":
            token = fields.get("refresh_token")
            if not token:
                return _error("invalid_request", "refresh_token is required")
            try:
                pair = await auth.async_refresh(token)
            except InvalidCredentials:
                return _error("invalid_grant", "invalid or expired refresh token")
            body = pair.as_dict()
            del body["refresh_token"]  # the client keeps its refresh token, as in HA
            return json_response(body, headers=NO_STORE)
        return _error("unsupported_grant_type", "use password or refresh_token")
