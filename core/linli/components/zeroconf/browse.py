"""Browsing for services on the network: one zeroconf browser per subscription."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo

from linli.bus import current_owner
from linli.callback import callback
from linli.components.zeroconf.const import RESOLVE_TIMEOUT_MS

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)


class ServiceChange(StrEnum):
    """What happened to a browsed service."""

    added = "added"
    updated = "updated"
    removed = "removed"


@dataclass(frozen=True, slots=True)
class DiscoveredService:
    """A service seen by :func:`~linli.components.zeroconf.async_browse`.

    For ``removed`` only ``change``, ``service_type`` and ``name`` are meaningful: the
    service is gone, its other fields are empty.
    """

    change: ServiceChange
    service_type: str
    """E.g. ``"_hap._tcp.local."``."""
    name: str
    """The full service name, e.g. ``"Gate 3._hap._tcp.local."``."""
    addresses: tuple[str, ...] = ()
    """IPv4 addresses first, then IPv6 (link-local ones with ``%<scope>``)."""
    port: int | None = None
    server: str | None = None
    """The host name the service runs on, e.g. ``"gate-3.local."``."""
    properties: Mapping[str, str | None] = field(default_factory=dict)
    """TXT records decoded as UTF-8; a key without ``=`` maps to None."""

    @property
    def instance_name(self) -> str:
        """The name without the service type: ``"Gate 3"``."""
        suffix = "." + self.service_type
        return self.name[: -len(suffix)] if self.name.endswith(suffix) else self.name


BrowseCallback = Callable[[DiscoveredService], Coroutine[Any, Any, None] | None]
"""Called on the loop for each change; may be a coroutine function (then run as a task)."""


class Browser:
    """Watches one service type and reports resolved services to one callback.

    A found or changed service is resolved (address, port, TXT) before it is reported;
    ``removed`` is reported only for services that were reported before, so a callback
    sees ``added → updated* → removed`` for each name.
    """

    def __init__(
        self, hub: Hub, zc: Zeroconf, service_type: str, on_change: BrowseCallback
    ) -> None:
        """Start browsing at once."""
        self._hub = hub
        self._zc = zc
        self.service_type = service_type
        self._on_change = on_change
        self._owner = current_owner.get() or getattr(on_change, "__module__", None) or "unknown"
        self._known: set[str] = set()
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self.closed = False
        self._stopped = False
        self._browser = AsyncServiceBrowser(zc, [service_type], handlers=[self._service_changed])

    def _service_changed(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        # Called by zeroconf on the loop, with these keyword arguments.
        if self.closed:
            return
        pending = self._resolving.pop(name, None)
        if pending is not None:
            pending.cancel()
        if state_change is ServiceStateChange.Removed:
            if name in self._known:
                self._known.discard(name)
                self._deliver(DiscoveredService(ServiceChange.removed, service_type, name))
            return
        self._resolving[name] = self._hub.async_create_background_task(
            self._async_resolve(service_type, name), f"zeroconf resolve {name}"
        )

    async def _async_resolve(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        try:
            found = await info.async_request(self._zc, RESOLVE_TIMEOUT_MS)
        finally:
            if self._resolving.get(name) is asyncio.current_task():
                del self._resolving[name]
        if not found or self.closed:
            _LOGGER.debug("Could not resolve %s in %s ms", name, RESOLVE_TIMEOUT_MS)
            return
        change = ServiceChange.updated if name in self._known else ServiceChange.added
        self._known.add(name)
        self._deliver(
            DiscoveredService(
                change,
                service_type,
                name,
                tuple(info.parsed_scoped_addresses()),
                info.port,
                info.server,
                info.decoded_properties,
            )
        )

    def _deliver(self, service: DiscoveredService) -> None:
        # A boundary: a failing callback is logged with its owner's name, browsing goes on.
        try:
            result = self._on_change(service)
        except Exception:
            _LOGGER.exception(
                "Error in %s zeroconf callback for %s (%s)",
                self._owner,
                service.name,
                service.change,
            )
            return
        if result is not None:
            self._hub.async_create_task(self._await_logged(result, service), "zeroconf callback")

    async def _await_logged(
        self, coro: Coroutine[Any, Any, None], service: DiscoveredService
    ) -> None:
        try:
            await coro
        except Exception:
            _LOGGER.exception(
                "Error in %s zeroconf callback for %s (%s)",
                self._owner,
                service.name,
                service.change,
            )

    @callback
    def close(self) -> None:
        """Stop reporting at once (the browser itself stops in :meth:`async_stop`)."""
        self.closed = True
        for task in self._resolving.values():
            task.cancel()
        self._resolving.clear()

    async def async_stop(self) -> None:
        """Stop reporting and browsing; harmless when called twice."""
        self.close()
        if not self._stopped:
            self._stopped = True
            await self._browser.async_cancel()
