"""The server's middlewares: access log, client address, CORS, body size, authentication.

They run in that order, outermost first. Each sets what the next needs on the request
(``KEY_REAL_IP``, ``KEY_USER``, ``KEY_PERMISSIONS``) rather than cloning it, so the access log
sees the user and address the inner ones found.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from http import HTTPStatus
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import TYPE_CHECKING

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware as _Middleware

from linli.components.http.const import KEY_PERMISSIONS, KEY_REAL_IP, KEY_USER
from linli.components.http.view import json_message

if TYPE_CHECKING:
    from linli.hub import Hub

ACCESS_LOGGER = logging.getLogger("linli.http.access")
"""One INFO line per request; set this logger to WARNING to silence it."""

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = _Middleware

SENSITIVE_QUERY_KEYS = frozenset(
    {"access_token", "token", "refresh_token", "authsig", "code", "password", "secret", "key"}
)
ALLOWED_CORS_HEADERS = "Origin, Accept, X-Requested-With, Content-Type, Authorization"
ALLOWED_CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_MAX_AGE = "3600"
WEBHOOK_PREFIX = "/api/webhook/"


def loggable_path(request: web.Request) -> str:
    """Return the path and query fit for a log: token-like values and webhook ids hidden.

    A webhook id is a bearer secret for webhooks without their own secret, so it is never logged.
    """
    path = request.path
    if path.startswith(WEBHOOK_PREFIX):
        path = WEBHOOK_PREFIX + "***"
    if not request.query_string:
        return path
    parts = [
        f"{key}=***" if key.lower() in SENSITIVE_QUERY_KEYS else f"{key}={value}"
        for key, value in request.query.items()
    ]
    return f"{path}?{'&'.join(parts)}"


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log one line per request: method, path, status, milliseconds, user, client."""
    if not ACCESS_LOGGER.isEnabledFor(logging.INFO):
        return await handler(request)
    started = time.perf_counter()
    status = HTTPStatus.INTERNAL_SERVER_ERROR.value
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as err:
        status = err.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away (nginx's code for it)
        raise
    finally:
        user = request.get(KEY_USER)
        elapsed_ms = (time.perf_counter() - started) * 1000
        ACCESS_LOGGER.info(
            "%s %s %d %.1fms user=%s remote=%s",
            request.method,
            loggable_path(request),
            status,
            elapsed_ms,
            "-" if user is None else user.id,
            request.get(KEY_REAL_IP, request.remote),
            extra={
                "http_method": request.method,
                "http_path": loggable_path(request),
                "http_status": status,
                "http_ms": round(elapsed_ms, 3),
                "http_user_id": None if user is None else user.id,
                "http_remote": request.get(KEY_REAL_IP, request.remote),
            },
        )


Network = IPv4Network | IPv6Network


def real_ip(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """Return the client's address given the peer and the X-Forwarded-For hops.

    X-Forwarded-For is honoured only when the peer is a trusted proxy; then hops are read from
    the right, skipping trusted proxies, and the first untrusted one is the client (the others
    are whatever the client claimed). A malformed hop stops the walk at the last good address.
    """
    if peer is None:
        return "unknown"
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    client = peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return client


def _is_trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in trusted)


def forwarded_middleware(trusted: Sequence[Network]) -> Middleware:
    """Set ``KEY_REAL_IP`` from the peer, or from X-Forwarded-For behind a trusted proxy."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded = request.headers.getall(hdrs.X_FORWARDED_FOR, [])
        request[KEY_REAL_IP] = real_ip(request.remote, forwarded, trusted)
        return await handler(request)

    return middleware


def cors_middleware(allowed_origins: Iterable[str]) -> Middleware:
    """Answer preflights and add CORS headers for the configured origins only."""
    allowed = frozenset(allowed_origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or origin not in allowed:
            return await handler(request)
        headers = {
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
            hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS: "true",
            hdrs.VARY: "Origin",
        }
        if (
            request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        ):
            headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = ALLOWED_CORS_METHODS
            headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOWED_CORS_HEADERS
            headers[hdrs.ACCESS_CONTROL_MAX_AGE] = CORS_MAX_AGE
            return web.Response(status=HTTPStatus.OK, headers=headers)
        headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = "Location"
        try:
            response = await handler(request)
        except web.HTTPException as err:
            err.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return middleware


def size_limit_middleware(limit: int) -> Middleware:
    """Refuse a body announced bigger than ``limit`` with 413 before reading it.

    Bodies without Content-Length (chunked) are cut by aiohttp's ``client_max_size``, which the
    views turn into the same 413.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > limit:
            return json_message(
                f"Request body too large: the limit is {limit} bytes.",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        return await handler(request)

    return middleware


def auth_middleware(hub: Hub) -> Middleware:
    """Resolve ``Authorization: Bearer <token>`` to a user and their permissions.

    Sets ``KEY_USER`` and ``KEY_PERMISSIONS`` for a valid token and nothing otherwise; the
    view decides whether it needs them (401 when it does and they are missing).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                from linli.auth import get_auth

                auth = get_auth(hub)
                user = await auth.async_validate_access_token(token.strip())
                if user is not None and user.is_active:
                    request[KEY_USER] = user
                    request[KEY_PERMISSIONS] = auth.permissions(user)
        return await handler(request)

    return middleware
