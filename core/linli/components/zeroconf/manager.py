"""The hub's one zeroconf instance: advertising ``_linli._tcp.local.`` and the browsers."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import ifaddr
from zeroconf import InterfaceChoice
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from linli.callback import callback
from linli.components.zeroconf.browse import BrowseCallback, Browser
from linli.components.zeroconf.const import (
    API_PATH,
    MAX_INSTANCE_NAME_BYTES,
    SERVICE_TYPE,
    STORAGE_KEY,
    STORAGE_VERSION,
    TXT_API,
    TXT_BASE_URL,
    TXT_ID,
    TXT_NAME,
    TXT_VERSION,
    TXT_WS,
    WS_PATH,
)
from linli.const import __version__
from linli.exceptions import LinliError, SetupFailed
from linli.hub import HubKey
from linli.plugins.loader import Status
from linli.storage import Store

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

ZEROCONF_MANAGER: HubKey[ZeroconfManager] = HubKey("zeroconf")

_MAX_TXT_ENTRY_BYTES = 255
"""One TXT string (``key=value``) holds at most 255 bytes."""


class ZeroconfManager:
    """Owns the shared :class:`AsyncZeroconf`, the advertisement and the browsers."""

    def __init__(
        self, hub: Hub, aiozc: AsyncZeroconf, instance_id: str, interfaces: list[str] | None
    ) -> None:
        """Wrap an open ``aiozc``; ``interfaces`` None means every interface."""
        self._hub = hub
        self.aiozc = aiozc
        self.instance_id = instance_id
        self._interfaces = interfaces
        self._info: AsyncServiceInfo | None = None
        self._advertise_task: asyncio.Task[None] | None = None
        self._browsers: set[Browser] = set()
        self.advertise_seconds: float | None = None
        """How long probing and announcing took (None until done)."""

    @classmethod
    async def async_create(cls, hub: Hub, interfaces: list[str] | None) -> ZeroconfManager:
        """Load (or create once) the instance id and open the multicast sockets."""
        instance_id = await async_load_instance_id(hub)
        if interfaces is not None:
            # Checked first: zeroconf leaks a socket when an address is not the machine's.
            own = await hub.async_add_executor_job(_machine_addresses)
            if foreign := [address for address in interfaces if address not in own]:
                raise SetupFailed(
                    f"not an address of this machine: {', '.join(foreign)} "
                    f"(it has {', '.join(sorted(own))})"
                )
        # Opening the sockets is a few non-blocking system calls (well under a millisecond
        # here); created on the loop, the instance runs on the hub's loop, not a thread.
        aiozc = AsyncZeroconf(interfaces=InterfaceChoice.All if interfaces is None else interfaces)
        return cls(hub, aiozc, instance_id, interfaces)

    # ------------------------------------------------------------------ advertising
    @property
    def advertised_name(self) -> str | None:
        """The service name on the network (renamed on a conflict), once registered."""
        return None if self._info is None else self._info.name

    @callback
    def async_start_advertising(self) -> None:
        """Probe, register and announce in the background: start-up never waits for it."""
        if self._advertise_task is None:
            self._advertise_task = self._hub.async_create_background_task(
                self._async_advertise(), "zeroconf advertise"
            )

    async def async_wait_advertised(self) -> str | None:
        """Wait until advertising is done; return the advertised name (None if it was not)."""
        if self._advertise_task is not None:
            await asyncio.wait([self._advertise_task])  # never raises the task's cancellation
        return self.advertised_name

    async def _async_advertise(self) -> None:
        started = time.perf_counter()
        info = await self._async_service_info()
        if info is None:
            return
        try:
            # allow_name_change: if another hub already uses the name, zeroconf's probing
            # finds it and renames ours "<name>-2", "-3"…; the host name is unique already.
            announce = await self.aiozc.async_register_service(info, allow_name_change=True)
            self._info = info
            await announce
        except Exception:
            _LOGGER.exception("Cannot advertise %s on the network", SERVICE_TYPE)
            return
        self.advertise_seconds = time.perf_counter() - started
        _LOGGER.info(
            "Advertising %r (%s) on port %s at %s (in %.0f ms)",
            info.name,
            SERVICE_TYPE,
            info.port,
            ", ".join(info.parsed_addresses()),
            self.advertise_seconds * 1000,
        )

    async def _async_service_info(self) -> AsyncServiceInfo | None:
        try:
            # Imported here: zeroconf runs without the http integration (then it only browses).
            from linli.components.http import get_http

            http = get_http(self._hub)
            port, base_url = http.port, http.base_url
        except (ImportError, LinliError, KeyError) as err:
            _LOGGER.warning(
                "Not advertising %s: no HTTP server to point to (%s)", SERVICE_TYPE, err
            )
            return None
        addresses = self._interfaces
        if addresses is None:
            addresses = await self._hub.async_add_executor_job(_all_ipv4_addresses)
        properties = {
            TXT_VERSION: __version__,
            TXT_ID: self.instance_id,
            TXT_NAME: _truncate_utf8(
                self._hub.config.name, _MAX_TXT_ENTRY_BYTES - len(TXT_NAME) - 1
            ),
        }
        if len(TXT_BASE_URL) + 1 + len(base_url.encode()) <= _MAX_TXT_ENTRY_BYTES:
            properties[TXT_BASE_URL] = base_url
        else:
            _LOGGER.warning("Base URL too long for a TXT record; advertised without it")
        if self._loaded("api"):
            properties[TXT_API] = API_PATH
        if self._loaded("websocket_api"):
            properties[TXT_WS] = WS_PATH
        return AsyncServiceInfo(
            SERVICE_TYPE,
            f"{instance_name(self._hub.config.name)}.{SERVICE_TYPE}",
            parsed_addresses=addresses,
            port=port,
            properties=properties,
            server=f"linli-{self.instance_id}.local.",
        )

    def _loaded(self, domain: str) -> bool:
        loader = self._hub.loader
        record = None if loader is None else loader.records.get(domain)
        return record is not None and record.status is Status.loaded

    async def async_stop_advertising(self) -> None:
        """Stop probing, or say goodbye on the network if registered."""
        task, self._advertise_task = self._advertise_task, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        info, self._info = self._info, None
        if info is not None:
            try:
                goodbye = await self.aiozc.async_unregister_service(info)
                await goodbye
            except Exception:
                _LOGGER.exception("Cannot withdraw %s from the network", info.name)

    # ------------------------------------------------------------------ browsing
    @callback
    def async_browse(self, service_type: str, on_change: BrowseCallback) -> Callable[[], None]:
        """Start a :class:`Browser`; return a function that stops it."""
        browser = Browser(self._hub, self.aiozc.zeroconf, service_type, on_change)
        self._browsers.add(browser)

        @callback
        def unsubscribe() -> None:
            if browser in self._browsers:
                self._browsers.discard(browser)
                browser.close()
                self._hub.async_create_task(browser.async_stop(), "zeroconf browser stop")

        return unsubscribe

    # ------------------------------------------------------------------ stop
    async def async_close(self) -> None:
        """Withdraw the advertisement, stop the browsers and close the sockets."""
        await self.async_stop_advertising()
        browsers, self._browsers = self._browsers, set()
        for browser in browsers:
            await browser.async_stop()
        await self.aiozc.async_close()


async def async_load_instance_id(hub: Hub) -> str:
    """Return the hub's stable instance id, created (and stored) on the first run."""
    store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
    data: Any = await store.async_load()
    if isinstance(data, dict) and isinstance(data.get("instance_id"), str):
        return str(data["instance_id"])
    instance_id = uuid.uuid4().hex
    await store.async_save({"instance_id": instance_id})
    return instance_id


def instance_name(community_name: str) -> str:
    """The DNS-SD instance name for a community: one DNS label, without dots."""
    name = " ".join(community_name.replace(".", " ").split()) or "Linli"
    return _truncate_utf8(name, MAX_INSTANCE_NAME_BYTES)


def _truncate_utf8(text: str, max_bytes: int) -> str:
    return text.encode()[:max_bytes].decode(errors="ignore")


def _machine_addresses() -> set[str]:
    """Every IP address of this machine, normalised as ``ipaddress`` prints them."""
    found: set[str] = set()
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            with suppress(ValueError):
                found.add(str(ipaddress.ip_address(address)))
    return found


def _all_ipv4_addresses() -> list[str]:
    """The machine's IPv4 addresses others can reach (loopback only if there is no other)."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6: (address, flowinfo, scope_id)
            address = ipaddress.IPv4Address(ip.ip)
            if not (address.is_loopback or address.is_link_local or address.is_unspecified):
                found.append(str(address))
    return found or ["127.0.0.1"]
