"""Discover integrations through entry points, set them up in dependency order, tear down.

The loader isolates failures: an integration that cannot be imported, whose setup raises,
returns False or exceeds its timeout is reported with the reason; the integrations that
depend on it are skipped and reported too; everything else starts. Teardown runs in the
reverse order of successful setup.

Entry points are imported one by one rather than with pluggy's
``load_setuptools_entrypoints``, which stops at the first plugin that fails to import; here a
broken distribution must not take the others down.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.metadata
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pluggy
import voluptuous as vol

from linli.bus import current_owner
from linli.config import issues_from_invalid
from linli.const import (
    ENTRY_POINT_GROUP,
    EVENT_INTEGRATION_FAILED,
    EVENT_INTEGRATION_LOADED,
    EVENT_INTEGRATION_UNLOADED,
    __version__,
)
from linli.exceptions import SetupAuthFailed, SetupFailed, SetupNotReady
from linli.hub import HubState
from linli.plugins import hookspecs
from linli.plugins.integration import ConfigType, Integration

if TYPE_CHECKING:
    from pathlib import Path

    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

UNLOAD_TIMEOUT = 10.0
RETRY_DELAYS = (5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds between setup retries of an integration that raised SetupNotReady."""


class Status(StrEnum):
    """Where an integration stands."""

    installed = "installed"
    """Discovered, not set up (not configured, or the hub is not running)."""
    setting_up = "setting_up"
    loaded = "loaded"
    retrying = "retrying"
    """Its device or service was not ready; setup is retried with backoff."""
    failed = "failed"
    skipped = "skipped"
    """Not set up because a dependency failed or is missing."""
    not_installed = "not_installed"
    """Configured, but no installed distribution provides it."""
    broken = "broken"
    """Installed, but importing it or asking it for its descriptor failed."""
    unloaded = "unloaded"


@dataclass(slots=True)
class IntegrationRecord:
    """What the loader knows of one integration domain."""

    domain: str
    integration: Integration | None = None
    source: str = ""
    status: Status = Status.installed
    reason: str | None = None
    configured: bool = False
    setup_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for the API, the CLI and the status file."""
        manifest = self.integration.manifest if self.integration else None
        return {
            "domain": self.domain,
            "name": manifest.name if manifest else None,
            "version": manifest.version if manifest else None,
            "source": self.source,
            "status": str(self.status),
            "reason": self.reason,
            "configured": self.configured,
            "setup_seconds": self.setup_seconds,
            "dependencies": list(manifest.dependencies) if manifest else [],
        }


def make_plugin_manager() -> pluggy.PluginManager:
    """Return a plugin manager with Linli's hookspecs."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    return manager


class IntegrationLoader:
    """Finds integrations and runs their lifecycle for one hub."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.plugin_manager = make_plugin_manager()
        self.records: dict[str, IntegrationRecord] = {}
        self._setup_order: list[str] = []
        self._done: dict[str, asyncio.Future[bool]] = {}
        self._retry_cancel: dict[str, Any] = {}
        self._config: Mapping[str, ConfigType] = {}
        self._status_seq = 0
        self._status_writer = _StatusWriter()
        hub.loader = self

    # ------------------------------------------------------------------ discovery
    def discover(self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> None:
        """Import every integration registered in the ``linli`` entry-point group."""
        if entry_points is None:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            source = f"{dist.name} {dist.version}" if dist is not None else ep.value
            try:
                module = ep.load()
            except Exception as err:
                _LOGGER.exception("Cannot import integration %s (%s)", ep.name, source)
                self.record_broken(ep.name, source, f"import failed: {_describe(err)}")
                continue
            self.register(module, name=ep.name, source=source)

    def register(self, plugin: object, name: str | None = None, source: str = "bundled") -> None:
        """Register a plugin object or module (bundled integrations, tests)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        if self.plugin_manager.is_registered(plugin):
            return  # the same plugin offered twice (bundled and passed in by a test): one
        if self.plugin_manager.has_plugin(name):
            existing = self.records.get(name)
            self.record_broken(
                name,
                source,
                f"two installed distributions provide it: {existing.source if existing else '?'}"
                f" and {source}",
            )
            return
        try:
            self.plugin_manager.register(plugin, name=name)
        except Exception as err:
            self.record_broken(name, source, f"invalid plugin: {_describe(err)}")
            return
        caller = self.plugin_manager.subset_hook_caller(
            "linli_integration",
            [p for p in self.plugin_manager.get_plugins() if p is not plugin],
        )
        try:
            results = caller(core_version=__version__)
        except Exception as err:
            _LOGGER.exception("Integration plugin %s failed to describe itself", name)
            self.plugin_manager.unregister(plugin)
            self.record_broken(name, source, f"linli_integration hook raised: {_describe(err)}")
            return
        for integration in results:
            if not isinstance(integration, Integration):
                self.record_broken(
                    name, source, f"linli_integration returned {type(integration).__name__}"
                )
                continue
            domain = integration.domain
            if domain != name and name.isidentifier() and not name.startswith("linli_"):
                _LOGGER.warning(
                    "Entry point %s provides integration %s; name them the same", name, domain
                )
            if domain in self.records and self.records[domain].integration is not None:
                self.record_broken(
                    domain,
                    source,
                    f"provided twice: by {self.records[domain].source} and by {source}",
                )
                continue
            self.records[domain] = IntegrationRecord(domain, integration, source)

    def record_broken(self, domain: str, source: str, reason: str) -> None:
        """Record that ``domain`` is installed but cannot be used, and why."""
        record = self.records.setdefault(domain, IntegrationRecord(domain, source=source))
        record.integration = None
        record.status = Status.broken
        record.reason = reason

    # ------------------------------------------------------------------ planning
    def plan(self, configured: Iterable[str]) -> list[str]:
        """Mark which domains will be set up; return them in a valid setup order.

        Domains that are configured but not installed, part of a dependency cycle or
        missing a dependency are marked and left out.
        """
        wanted: set[str] = set()
        for domain in configured:
            record = self.records.get(domain)
            if record is None:
                record = self.records[domain] = IntegrationRecord(domain, source="")
                record.status = Status.not_installed
                dist = "linli-" + domain.replace("_", "-")
                record.reason = f"not installed: pip install {dist}"
            record.configured = True
            wanted.add(domain)
        for record in self.records.values():
            integ = record.integration
            if integ is not None and integ.manifest.load_by_default:
                wanted.add(record.domain)
        # Pull in hard dependencies, even when not configured themselves.
        stack = list(wanted)
        while stack:
            record = self.records.get(stack.pop())
            if record is None or record.integration is None:
                continue
            for dep in record.integration.manifest.dependencies:
                if dep not in wanted:
                    wanted.add(dep)
                    stack.append(dep)
        for domain in sorted(wanted):
            if domain not in self.records:
                self.records[domain] = IntegrationRecord(
                    domain,
                    status=Status.not_installed,
                    reason="not installed: pip install linli-" + domain.replace("_", "-"),
                )
        usable = {d for d in wanted if self.records[d].integration is not None}
        order = self._toposort(usable)
        self._mark_unusable_dependants(order)
        return [d for d in order if self.records[d].status is Status.installed]

    def _edges(self, domain: str, usable: set[str]) -> list[str]:
        integ = self.records[domain].integration
        assert integ is not None
        manifest = integ.manifest
        deps = list(manifest.dependencies)
        deps += [d for d in manifest.after_dependencies if d in usable]
        return deps

    def _toposort(self, usable: set[str]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = visiting, 2 = done
        path: list[str] = []

        def visit(domain: str) -> None:
            if state.get(domain) == 2:
                return
            if state.get(domain) == 1:
                cycle = [*path[path.index(domain) :], domain]
                text = " → ".join(cycle)
                for member in cycle:
                    rec = self.records[member]
                    rec.status = Status.failed
                    rec.reason = f"dependency cycle: {text}"
                return
            state[domain] = 1
            path.append(domain)
            for dep in self._edges(domain, usable):
                if dep in usable:
                    visit(dep)
            path.pop()
            state[domain] = 2
            order.append(domain)

        for domain in sorted(usable):
            visit(domain)
        return order

    def _mark_unusable_dependants(self, order: list[str]) -> None:
        for domain in order:
            record = self.records[domain]
            if record.status is not Status.installed:
                continue
            assert record.integration is not None
            for dep in record.integration.manifest.dependencies:
                dep_record = self.records.get(dep)
                if dep_record is None or dep_record.status not in (Status.installed,):
                    reason = dep_record.reason if dep_record else "unknown"
                    record.status = Status.skipped
                    record.reason = f"dependency '{dep}' is unavailable ({reason})"
                    break

    # ------------------------------------------------------------------ setup
    async def async_setup_all(self, config: Mapping[str, ConfigType]) -> None:
        """Set up every planned integration, concurrently where dependencies allow."""
        self._config = config
        order = self.plan(config)
        loop = asyncio.get_running_loop()
        for domain in order:
            self._done[domain] = loop.create_future()
        tasks = [self._start_setup_task(domain) for domain in order]
        if tasks:
            await asyncio.gather(*tasks)
        self.write_status()

    def _start_setup_task(self, domain: str) -> asyncio.Task[None]:
        ctx = contextvars.copy_context()
        ctx.run(current_owner.set, domain)
        return asyncio.get_running_loop().create_task(
            self._setup_when_ready(domain), name=f"setup {domain}", context=ctx
        )

    async def _setup_when_ready(self, domain: str) -> None:
        record = self.records[domain]
        assert record.integration is not None
        manifest = record.integration.manifest
        deps = [
            *manifest.dependencies,
            *(d for d in manifest.after_dependencies if d in self._done),
        ]
        for dep in deps:
            future = self._done.get(dep)
            ok = await asyncio.shield(future) if future is not None else False
            if not ok and dep in manifest.dependencies:
                dep_record = self.records.get(dep)
                record.status = Status.skipped
                if dep_record is not None and dep_record.status is Status.retrying:
                    record.reason = f"waiting for '{dep}', which is not ready yet"
                else:
                    record.reason = f"dependency '{dep}' failed" + (
                        f": {dep_record.reason}" if dep_record and dep_record.reason else ""
                    )
                _LOGGER.error("Skipped %s: %s", domain, record.reason)
                self._hub.bus.async_fire(
                    EVENT_INTEGRATION_FAILED, {"domain": domain, "reason": record.reason}
                )
                self._done[domain].set_result(False)
                return
        ok = await self._async_setup_one(domain)
        if not self._done[domain].done():
            self._done[domain].set_result(ok)

    async def _async_setup_one(self, domain: str) -> bool:
        record = self.records[domain]
        integ = record.integration
        assert integ is not None
        record.status = Status.setting_up
        section = self._config.get(domain)
        conf: Any = {} if section is None else section
        if integ.config_schema is not None:
            try:
                conf = integ.config_schema(conf)
            except vol.Invalid as err:
                found = issues_from_invalid(err, section, domain=domain)
                return self._fail(
                    domain, "invalid configuration: " + "; ".join(str(i) for i in found)
                )
            except Exception as err:
                return self._fail(domain, f"invalid configuration: {_describe(err)}")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(integ.manifest.setup_timeout):
                result = await integ.async_setup(self._hub, conf)
        except TimeoutError:
            self._cleanup(domain)
            return self._fail(domain, f"setup timed out after {integ.manifest.setup_timeout:g} s")
        except SetupNotReady as err:
            self._cleanup(domain)
            self._schedule_retry(domain, 0, str(err))
            return False
        except SetupAuthFailed as err:
            self._cleanup(domain)
            return self._fail(domain, f"authentication failed: {err}")
        except SetupFailed as err:
            self._cleanup(domain)
            return self._fail(domain, str(err) or "setup failed")
        except Exception as err:
            _LOGGER.exception("Error setting up %s", domain)
            self._cleanup(domain)
            return self._fail(domain, _describe(err))
        if result is False:
            self._cleanup(domain)
            return self._fail(domain, "setup returned False")
        record.setup_seconds = time.perf_counter() - started
        record.status = Status.loaded
        record.reason = None
        self._setup_order.append(domain)
        _LOGGER.info("Set up %s in %.0f ms", domain, record.setup_seconds * 1000)
        self._hub.bus.async_fire(
            EVENT_INTEGRATION_LOADED,
            {"domain": domain, "setup_seconds": record.setup_seconds},
        )
        return True

    def _fail(self, domain: str, reason: str) -> bool:
        record = self.records[domain]
        record.status = Status.failed
        record.reason = reason
        _LOGGER.error("Setup of %s failed: %s", domain, reason)
        self._hub.bus.async_fire(EVENT_INTEGRATION_FAILED, {"domain": domain, "reason": reason})
        return False

    def _cleanup(self, domain: str) -> None:
        """Remove what a failed or unloaded integration left on the bus and services."""
        self._hub.bus.async_remove_listeners_of(domain)
        self._hub.services.async_remove_owner(domain)
        # What it created elsewhere (entities) is removed by whoever keeps it.
        self._hub.bus.async_fire(EVENT_INTEGRATION_UNLOADED, {"domain": domain})

    def _schedule_retry(self, domain: str, attempt: int, reason: str) -> None:
        record = self.records[domain]
        delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
        record.status = Status.retrying
        record.reason = f"not ready ({reason}); retrying in {delay:g} s"
        _LOGGER.warning("%s is not ready: %s; retrying in %g s", domain, reason, delay)

        async def retry(_now: Any) -> None:
            self._retry_cancel.pop(domain, None)
            if self._hub.state in (HubState.stopping, HubState.stopped):
                return
            ok = await self._async_setup_one(domain)
            if ok:
                done = asyncio.get_running_loop().create_future()
                done.set_result(True)
                self._done[domain] = done
                self.write_status()
                await self._setup_waiting_dependants(domain)
            elif self.records[domain].status is Status.failed:
                pass
            else:
                self._schedule_retry(domain, attempt + 1, reason)

        def run(now: Any) -> Any:
            ctx = contextvars.copy_context()
            ctx.run(current_owner.set, domain)
            return ctx.run(retry, now)

        self._retry_cancel[domain] = self._hub.async_call_later(delay, run)

    async def _setup_waiting_dependants(self, domain: str) -> None:
        loop = asyncio.get_running_loop()
        for other, record in self.records.items():
            integ = record.integration
            if (
                record.status is Status.skipped
                and integ is not None
                and domain in integ.manifest.dependencies
            ):
                record.status = Status.installed
                self._done[other] = loop.create_future()
                await self._start_setup_task(other)
        self.write_status()

    # ------------------------------------------------------------------ teardown
    async def async_unload_all(self) -> None:
        """Unload loaded integrations in reverse setup order."""
        for cancel in self._retry_cancel.values():
            cancel()
        self._retry_cancel.clear()
        while self._setup_order:
            domain = self._setup_order.pop()
            await self._async_unload_one(domain)
        self.write_status()

    async def _async_unload_one(self, domain: str) -> None:
        record = self.records[domain]
        integ = record.integration
        if integ is not None and integ.async_unload is not None:
            try:
                async with asyncio.timeout(UNLOAD_TIMEOUT):
                    await integ.async_unload(self._hub)
            except TimeoutError:
                _LOGGER.error("Unloading %s timed out after %g s", domain, UNLOAD_TIMEOUT)
            except Exception:
                _LOGGER.exception("Error unloading %s", domain)
        self._cleanup(domain)
        record.status = Status.unloaded
        _LOGGER.debug("Unloaded %s", domain)

    # ------------------------------------------------------------------ status
    def status(self) -> list[dict[str, Any]]:
        """Return every known integration's record as plain data, sorted by domain."""
        return [self.records[d].as_dict() for d in sorted(self.records)]

    def write_status(self) -> None:
        """Write the status file the CLI reads (``.linli/integrations.json``), off the loop."""
        from linli.util.json import json_bytes

        payload = json_bytes({"written_at": self._hub.clock.time(), "integrations": self.status()})
        self._status_seq += 1
        self._hub.async_add_executor_job(
            self._status_writer.write,
            self._status_seq,
            self._hub.storage_dir / STATUS_FILE,
            payload,
        )


STATUS_FILE = "integrations.json"


class _StatusWriter:
    """Writes status snapshots from executor threads; an older snapshot never wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written = 0

    def write(self, seq: int, path: Path, payload: bytes) -> None:
        with self._lock:
            if seq <= self._written:
                return
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_bytes(payload)
                tmp.replace(path)
                self._written = seq
            except OSError as err:
                _LOGGER.warning("Cannot write %s: %s", path, err)


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
