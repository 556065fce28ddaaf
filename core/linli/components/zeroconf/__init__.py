"""Zeroconf (mDNS / DNS-SD): the hub advertises itself, integrations browse for devices.

Bundled with the core as the ``zeroconf`` integration. Once the hub has started, it
advertises ``_linli._tcp.local.`` on the port the HTTP server bound, in the background (start-up
never waits for the network), with these TXT properties:

============ ===========================================================
``version``  the Linli version
``id``       the hub's instance id: a uuid made on the first run, kept in
             ``<config>/.linli/linli.instance_id``
``name``     the community name (``linli: name:``)
``base_url`` the HTTP server's base URL
``api``      ``/api/`` when the REST API runs
``ws``       ``/api/websocket`` when the WebSocket API runs
============ ===========================================================

The instance name is the community name; if another hub on the network already uses it,
zeroconf's probing finds that and this hub becomes ``<name>-2`` (``-3``…). Without the HTTP
server nothing is advertised (the log says why). At stop the hub says goodbye on the network.

Configuration (optional)::

    zeroconf:
      advertise: true            # false: browse only, advertise nothing
      interfaces: all            # or a list of the hub's IP addresses: [192.168.1.10]

Without ``interfaces`` the environment's ``LINLI_ZEROCONF_INTERFACES`` (comma-separated
addresses, e.g. ``127.0.0.1`` in tests) applies, else every interface (IPv4).

Browsing, for integration authors (declare ``after_dependencies=("zeroconf",)`` or
``dependencies``)::

    from linli.components.zeroconf import DiscoveredService, ServiceChange, async_browse

    @callback
    def found(service: DiscoveredService) -> None:
        if service.change is ServiceChange.removed:
            ...                                   # service.name is gone
        else:                                     # added or updated, fully resolved:
            connect(service.addresses[0], service.port, service.properties.get("model"))

    unsubscribe = await async_browse(hub, "_hap._tcp.local.", found)   # in async_setup
    # call unsubscribe() in async_unload (zeroconf stops every browser at stop anyway)

The callback runs on the loop (it may also be a coroutine function, run as a task) and sees
``added``, then ``updated`` whenever the TXT records change, then ``removed``. For anything
else, :func:`async_get_instance` returns the hub's shared ``AsyncZeroconf``: never open
another one.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol
from zeroconf.asyncio import AsyncZeroconf

from linli.callback import callback
from linli.components.zeroconf.browse import BrowseCallback, DiscoveredService, ServiceChange
from linli.components.zeroconf.const import (
    CONF_ADVERTISE,
    CONF_INTERFACES,
    DOMAIN,
    ENV_INTERFACES,
    INTERFACES_ALL,
    SERVICE_TYPE,
)
from linli.components.zeroconf.manager import ZEROCONF_MANAGER, ZeroconfManager
from linli.const import EVENT_LINLI_STARTED, EVENT_LINLI_STOP, __version__
from linli.exceptions import LinliError, SetupFailed
from linli.helpers import config_validation as cv
from linli.hub import Hub, HubState
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "SERVICE_TYPE",
    "BrowseCallback",
    "DiscoveredService",
    "ServiceChange",
    "ZeroconfManager",
    "async_browse",
    "async_get_instance",
    "get_zeroconf",
    "linli_integration",
]

_LOGGER = logging.getLogger(__name__)


def _ip_address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError as err:
        raise vol.Invalid(f"not an IP address: {value!r}") from err


def _interfaces_from_env() -> str | list[str]:
    """``LINLI_ZEROCONF_INTERFACES`` (comma-separated addresses), else every interface."""
    value = os.environ.get(ENV_INTERFACES, "").strip()
    if not value:
        return INTERFACES_ALL
    try:
        return [_ip_address(part.strip()) for part in value.split(",") if part.strip()]
    except vol.Invalid as err:
        raise SetupFailed(f"{ENV_INTERFACES}: {err}") from err


CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_ADVERTISE, default=True): cv.boolean,
        vol.Optional(CONF_INTERFACES): vol.Any(
            INTERFACES_ALL, vol.All(cv.ensure_list, vol.Length(min=1), [_ip_address])
        ),
    }
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Zeroconf",
    version=__version__,
    after_dependencies=("http",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    load_by_default=True,
)


def get_zeroconf(hub: Hub) -> ZeroconfManager:
    """Return the hub's zeroconf manager; raises :class:`LinliError` if it is not set up."""
    manager = hub.data.get(ZEROCONF_MANAGER)
    if manager is None:
        raise LinliError("The zeroconf integration is not set up")
    return manager


async def async_get_instance(hub: Hub) -> AsyncZeroconf:
    """Return the hub's one shared ``AsyncZeroconf`` (do not close it)."""
    return get_zeroconf(hub).aiozc


async def async_browse(
    hub: Hub, service_type: str, on_change: BrowseCallback
) -> Callable[[], None]:
    """Browse for ``service_type`` (e.g. ``"_hap._tcp.local."``) until unsubscribed.

    :param hub: The hub (zeroconf must be set up).
    :param service_type: A DNS-SD service type ending in ``.local.``.
    :param on_change: Called with a :class:`DiscoveredService` for each added, updated
        (TXT changed) and removed service.
    :returns: A function (safe on the loop) that stops browsing.
    """
    return get_zeroconf(hub).async_browse(service_type, on_change)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Open the shared instance; advertise once the hub has started (unless turned off)."""
    interfaces: str | list[str] = config.get(CONF_INTERFACES) or _interfaces_from_env()
    try:
        manager = await ZeroconfManager.async_create(
            hub, None if isinstance(interfaces, str) else interfaces
        )
    except OSError as err:
        raise SetupFailed(f"cannot open the mDNS sockets on {interfaces}: {err}") from err
    hub.data[ZEROCONF_MANAGER] = manager
    if not config[CONF_ADVERTISE]:
        _LOGGER.info("Not advertising %s: turned off in the configuration", SERVICE_TYPE)
        return True

    @callback
    def start_advertising(_event: Any) -> None:
        manager.async_start_advertising()

    async def stop_advertising(_event: Any) -> None:
        # Goodbye while the HTTP server stops, before integrations unload.
        await manager.async_stop_advertising()

    if hub.state is HubState.running:
        manager.async_start_advertising()
    else:
        hub.bus.async_listen_once(EVENT_LINLI_STARTED, start_advertising)
    hub.bus.async_listen_once(EVENT_LINLI_STOP, stop_advertising)
    return True


async def async_unload(hub: Hub) -> None:
    """Withdraw the advertisement, stop every browser and close the sockets."""
    manager = hub.data.pop(ZEROCONF_MANAGER)
    if manager is not None:
        await manager.async_close()


@hookimpl
def linli_integration() -> Integration:
    """Describe the zeroconf integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
