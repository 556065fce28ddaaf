"""Webhooks: HTTP push from vendors' devices at ``POST /api/webhook/<id>``.

An integration registers a webhook id with a handler::

    from linli.components.webhook import async_register

    async_register(hub, "plate_gate", "North gate ANPR", "gate-3f9c…", handle_push,
                   secret=config["secret"], hmac_header="X-Signature")

Requests carry no bearer token; each webhook authenticates its sender one of three ways:

* ``hmac_header`` (with ``secret``): the header holds the HMAC-SHA256 of the raw body keyed
  with ``secret``, in hex, optionally prefixed ``sha256=`` (GitHub's form);
* ``secret`` alone: the sender repeats it in ``secret_header`` (``X-Webhook-Secret``);
* neither: the id itself is the secret (Home Assistant's model) — make it long and random.

Comparisons are constant-time. An unknown id and a failed check get the same answer (404,
``{"message": "Webhook not found."}``) after the same work (the body is read and an HMAC
computed either way), so the endpoint does not tell which ids exist; the log says which it was.
Bodies beyond the server's ``max_request_size`` are refused (413) before any id is looked up;
a webhook's own smaller ``max_size`` is enforced only once the sender is authenticated, so it
reveals nothing to others. The handler gets ``(hub, webhook_id, request)`` — ``await
request.read()``/``json()`` return the body already read — and returns a Response or None
(200, empty); raising :class:`WebhookError` answers its status and message as JSON; any
other exception is logged with the owning domain and answered 500.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import voluptuous as vol
from aiohttp import web

from linli.components.http import (
    HubView,
    async_register_view,
    json_message,
)
from linli.const import __version__
from linli.hub import Hub, HubKey
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DEFAULT_MAX_SIZE",
    "DEFAULT_SECRET_HEADER",
    "DOMAIN",
    "WebhookError",
    "WebhookHandler",
    "async_register",
    "async_unregister",
    "linli_integration",
]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "webhook"
URL: Final = "/api/webhook/{webhook_id}"
DEFAULT_MAX_SIZE: Final = 1024 * 1024
"""Bytes a webhook body may have unless the webhook says otherwise (1 MiB)."""
DEFAULT_SECRET_HEADER: Final = "X-Webhook-Secret"
NOT_FOUND: Final = "Webhook not found."
_DUMMY_KEY: Final = b"linli-webhook-unknown"

WebhookHandler = Callable[[Hub, str, web.Request], Awaitable[web.StreamResponse | None]]


class WebhookError(Exception):
    """Raised by a handler for bad input: answered ``status`` with ``{"message": …}``."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        """Refuse the request with ``message`` (a 4xx ``status``)."""
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered webhook."""

    domain: str
    name: str
    webhook_id: str
    handler: WebhookHandler
    secret: bytes | None
    hmac_header: str | None
    secret_header: str
    max_size: int

    def authentic(self, request: web.Request, body: bytes) -> bool:
        """Check the request's secret or signature (constant-time).

        The body's HMAC is computed whatever the method, so every path costs the same.
        """
        expected = _digest(self.secret or _DUMMY_KEY, body)
        if self.hmac_header is not None:
            given = request.headers.get(self.hmac_header, "").strip().lower()
            given = given.removeprefix("sha256=")
            return hmac.compare_digest(given.encode(), expected.encode())
        if self.secret is not None:
            given_secret = request.headers.get(self.secret_header, "")
            return hmac.compare_digest(given_secret.encode(), self.secret)
        return True


def _digest(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


_WEBHOOKS: Final = HubKey[dict[str, Webhook]]("webhooks")


def async_register(
    hub: Hub,
    domain: str,
    name: str,
    webhook_id: str,
    handler: WebhookHandler,
    *,
    secret: str | None = None,
    hmac_header: str | None = None,
    secret_header: str = DEFAULT_SECRET_HEADER,
    max_size: int = DEFAULT_MAX_SIZE,
) -> None:
    """Serve ``POST /api/webhook/<webhook_id>`` with ``handler``; see the module docstring."""
    webhooks = hub.data.setdefault(_WEBHOOKS, {})
    if webhook_id in webhooks:
        raise ValueError(f"Webhook id is already registered (by {webhooks[webhook_id].domain})")
    if not webhook_id or len(webhook_id) > 256 or "/" in webhook_id:
        raise ValueError("A webhook id must be 1 to 256 characters without '/'")
    if hmac_header is not None and not secret:
        raise ValueError("An HMAC-signed webhook needs its secret")
    if max_size <= 0:
        raise ValueError("max_size must be positive")
    webhooks[webhook_id] = Webhook(
        domain,
        name,
        webhook_id,
        handler,
        None if secret is None else secret.encode(),
        hmac_header,
        secret_header,
        max_size,
    )


def async_unregister(hub: Hub, webhook_id: str) -> None:
    """Stop serving ``webhook_id``; harmless if it is not registered."""
    webhooks = hub.data.get(_WEBHOOKS)
    if webhooks is not None:
        webhooks.pop(webhook_id, None)


class WebhookView(HubView):
    """``POST /api/webhook/<id>``: authenticate the sender, then run the webhook's handler."""

    url = URL
    name = "api:webhook"
    requires_auth = False

    def __init__(self, hub: Hub) -> None:
        """Serve the webhooks registered on ``hub``."""
        self.hub = hub

    async def post(self, request: web.Request, webhook_id: str) -> web.StreamResponse:
        """Handle one push."""
        body = await request.read()  # the server's max_request_size applies (413)
        webhook = (self.hub.data.get(_WEBHOOKS) or {}).get(webhook_id)
        if webhook is None:
            # The same work as a failed check, so timing does not tell unknown ids apart.
            hmac.compare_digest(_digest(_DUMMY_KEY, body).encode(), b"")
            _LOGGER.info("Webhook push for an unknown id from %s", request.remote)
            return json_message(NOT_FOUND, HTTPStatus.NOT_FOUND)
        if not webhook.authentic(request, body):
            _LOGGER.warning(
                "Webhook push to %s (%s) failed its %s check",
                webhook.name,
                webhook.domain,
                "signature" if webhook.hmac_header else "secret",
            )
            return json_message(NOT_FOUND, HTTPStatus.NOT_FOUND)
        if len(body) > webhook.max_size:
            return json_message(
                f"Request body too large: the limit is {webhook.max_size} bytes.",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            response = await webhook.handler(self.hub, webhook_id, request)
        except WebhookError as err:
            return json_message(err.message, err.status)
        except Exception:
            _LOGGER.exception("Error in %s's webhook %s", webhook.domain, webhook.name)
            return json_message("Webhook handler failed.", HTTPStatus.INTERNAL_SERVER_ERROR)
        return web.Response(status=HTTPStatus.OK) if response is None else response


CONFIG_SCHEMA: Final = vol.Schema({})

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Webhooks",
    version=__version__,
    dependencies=("http",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Serve the webhook endpoint."""
    hub.data.setdefault(_WEBHOOKS, {})
    async_register_view(hub, WebhookView(hub))
    return True


async def async_unload(hub: Hub) -> None:
    """Forget every webhook."""
    hub.data.pop(_WEBHOOKS)


@hookimpl
def linli_integration() -> Integration:
    """Describe the webhook integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
