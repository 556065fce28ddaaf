"""The zeroconf integration on real multicast sockets (loopback): advertising, browsing, goodbye.

Every hub and every outside instance listens on 127.0.0.1 only. Names carry a per-test suffix
so services of other tests (or other runs on the machine) are never mistaken for ours.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

import linli.components.zeroconf as zeroconf_component
from linli import Hub, callback
from linli.components import register_bundled
from linli.components.zeroconf import (
    SERVICE_TYPE,
    DiscoveredService,
    ServiceChange,
    async_browse,
    async_get_instance,
    get_zeroconf,
)
from linli.const import __version__
from linli.plugins.loader import IntegrationLoader, Status

HubFactory = Callable[..., Awaitable[Hub]]
LOOPBACK = ["127.0.0.1"]
TIMEOUT = 5.0
DEVICE_TYPE = "_linli-test-dev._tcp.local."


async def start_hub(
    hub_factory: HubFactory,
    name: str,
    zeroconf: dict[str, Any] | None = None,
    *,
    http: bool = True,
    config_dir: Path | None = None,
    start: bool = True,
) -> Hub:
    """A hub named ``name`` with zeroconf on loopback (and the HTTP server on port 0)."""
    hub = await hub_factory(config_dir, start=False)
    hub.config.name = name
    loader = IntegrationLoader(hub)
    loader.register(zeroconf_component, name="zeroconf")
    config: dict[str, Any] = {"zeroconf": {"interfaces": LOOPBACK, **(zeroconf or {})}}
    if http:
        register_bundled(loader)  # the HTTP server and what it needs (auth, recorder…)
        config["http"] = {"server_port": 0}
    await loader.async_setup_all(config)
    for domain in config:
        record = loader.records[domain]
        assert record.status is Status.loaded, f"{domain}: {record.reason}"
    if start:
        await hub.async_start()
    return hub


@dataclass
class Watcher:
    """An outside zeroconf instance browsing a service type: records every change."""

    aiozc: AsyncZeroconf
    changes: asyncio.Queue[tuple[str, ServiceStateChange]] = field(default_factory=asyncio.Queue)

    def on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        self.changes.put_nowait((name, state_change))

    async def wait_for(self, name: str, change: ServiceStateChange) -> None:
        """Wait until ``name`` had ``change``; other services' changes are skipped."""
        async with asyncio.timeout(TIMEOUT):
            while (await self.changes.get()) != (name, change):
                pass

    async def resolve(self, name: str) -> AsyncServiceInfo:
        info = await self.aiozc.async_get_service_info(SERVICE_TYPE, name, timeout=3000)
        assert info is not None, f"{name} did not resolve"
        return info


@pytest.fixture
async def outside() -> AsyncIterator[AsyncZeroconf]:
    """Another zeroconf instance on the network (a client, a device)."""
    aiozc = AsyncZeroconf(interfaces=LOOPBACK)
    yield aiozc
    await aiozc.async_close()


@pytest.fixture
async def watcher(outside: AsyncZeroconf) -> AsyncIterator[Watcher]:
    """An outside browser of ``_linli._tcp.local.``."""
    watcher = Watcher(outside)
    browser = AsyncServiceBrowser(outside.zeroconf, [SERVICE_TYPE], handlers=[watcher.on_change])
    yield watcher
    await browser.async_cancel()


@pytest.fixture
def unique() -> str:
    """A suffix making this test's names its own."""
    return uuid.uuid4().hex[:8]


async def test_hub_advertises_in_background_and_says_goodbye_at_stop(
    hub_factory: HubFactory, watcher: Watcher, unique: str
) -> None:
    from linli.components.http import get_http

    hub = await start_hub(hub_factory, f"阳光花园 {unique}")
    manager = get_zeroconf(hub)
    # Probing takes over a second by the protocol: start-up must not have waited for it.
    assert manager.advertised_name is None

    name = f"阳光花园 {unique}.{SERVICE_TYPE}"
    await watcher.wait_for(name, ServiceStateChange.Added)
    assert await manager.async_wait_advertised() == name
    info = await watcher.resolve(name)
    http = get_http(hub)
    assert info.port == http.port
    assert info.parsed_addresses() == ["127.0.0.1"]
    assert info.server == f"linli-{manager.instance_id}.local."
    properties = info.decoded_properties
    assert properties["version"] == __version__
    assert properties["id"] == manager.instance_id
    assert properties["name"] == f"阳光花园 {unique}"
    assert properties["base_url"] == http.base_url
    assert hub.loader is not None
    loaded = {d for d, r in hub.loader.records.items() if r.status is Status.loaded}
    assert properties.get("api") == ("/api/" if "api" in loaded else None)
    assert properties.get("ws") == ("/api/websocket" if "websocket_api" in loaded else None)

    await hub.async_stop()
    await watcher.wait_for(name, ServiceStateChange.Removed)  # a goodbye, not a 2-minute TTL


async def test_advertise_false_advertises_nothing(
    hub_factory: HubFactory, watcher: Watcher, unique: str
) -> None:
    quiet = await start_hub(hub_factory, f"quiet {unique}", {"advertise": False})
    # A hub that does advertise, started after the quiet one: once it is seen, the quiet
    # one would have been seen too.
    await start_hub(hub_factory, f"loud {unique}")
    await watcher.wait_for(f"loud {unique}.{SERVICE_TYPE}", ServiceStateChange.Added)

    seen = set()
    while not watcher.changes.empty():
        seen.add(watcher.changes.get_nowait()[0])
    assert f"quiet {unique}.{SERVICE_TYPE}" not in seen
    assert await get_zeroconf(quiet).async_wait_advertised() is None


async def test_second_hub_with_the_same_name_is_renamed(
    hub_factory: HubFactory, watcher: Watcher, unique: str
) -> None:
    # The second hub is on the network (set up, not started) when the first announces
    # itself, as on a LAN. Its probe would find the first hub too, but on one machine the
    # answer to a probe is unicast to port 5353, which any of the processes listening there
    # may receive: hearing the announcement keeps this test deterministic.
    second = await start_hub(hub_factory, f"Hub {unique}", start=False)
    first = await start_hub(hub_factory, f"Hub {unique}")
    assert await get_zeroconf(first).async_wait_advertised() == f"Hub {unique}.{SERVICE_TYPE}"
    await second.async_start()
    renamed = f"Hub {unique}-2.{SERVICE_TYPE}"
    assert await get_zeroconf(second).async_wait_advertised() == renamed
    await watcher.wait_for(renamed, ServiceStateChange.Added)
    first_info = await watcher.resolve(f"Hub {unique}.{SERVICE_TYPE}")
    second_info = await watcher.resolve(renamed)
    assert first_info.decoded_properties["id"] == get_zeroconf(first).instance_id
    assert second_info.decoded_properties["id"] == get_zeroconf(second).instance_id
    assert first_info.port != second_info.port


async def test_without_http_nothing_is_advertised(
    hub_factory: HubFactory, caplog: pytest.LogCaptureFixture, unique: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="linli.components.zeroconf"):
        hub = await start_hub(hub_factory, f"no http {unique}", http=False)
        assert await get_zeroconf(hub).async_wait_advertised() is None
    assert "Not advertising _linli._tcp.local.: no HTTP server to point to" in caplog.text


async def test_instance_id_is_made_once_and_kept(
    hub_factory: HubFactory, tmp_path: Path, unique: str
) -> None:
    config_dir = tmp_path / "community"
    hub = await start_hub(
        hub_factory, unique, {"advertise": False}, http=False, config_dir=config_dir
    )
    instance_id = get_zeroconf(hub).instance_id
    assert uuid.UUID(hex=instance_id)
    await hub.async_stop()

    again = await start_hub(
        hub_factory, unique, {"advertise": False}, http=False, config_dir=config_dir
    )
    assert get_zeroconf(again).instance_id == instance_id
    other = await start_hub(hub_factory, unique, {"advertise": False}, http=False)
    assert get_zeroconf(other).instance_id != instance_id


async def test_browse_reports_added_updated_removed(
    hub_factory: HubFactory, outside: AsyncZeroconf, unique: str
) -> None:
    hub = await start_hub(hub_factory, unique, {"advertise": False}, http=False)
    seen: asyncio.Queue[DiscoveredService] = asyncio.Queue()

    @callback
    def found(service: DiscoveredService) -> None:
        if service.name.startswith(unique):
            seen.put_nowait(service)

    unsubscribe = await async_browse(hub, DEVICE_TYPE, found)

    def gate(properties: dict[str, str | None]) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            DEVICE_TYPE,
            f"{unique} gate.{DEVICE_TYPE}",
            addresses=[socket.inet_aton("127.0.0.1")],
            port=4711,
            properties=properties,
            server=f"gate-{unique}.local.",
        )

    device = gate({"model": "G3", "fw": "1.2", "flag": None})
    # The device is not the subject: it skips probing to be announced at once.
    await (await outside.async_register_service(device, cooperating_responders=True))

    async with asyncio.timeout(TIMEOUT):
        added = await seen.get()
    assert added.change is ServiceChange.added
    assert added.instance_name == f"{unique} gate"
    assert added.service_type == DEVICE_TYPE
    assert added.addresses == ("127.0.0.1",)
    assert added.port == 4711
    assert added.server == f"gate-{unique}.local."
    assert added.properties == {"model": "G3", "fw": "1.2", "flag": None}

    device = gate({"model": "G3", "fw": "1.3"})
    await (await outside.async_update_service(device))
    async with asyncio.timeout(TIMEOUT):
        updated = await seen.get()
    assert updated.change is ServiceChange.updated
    assert updated.properties == {"model": "G3", "fw": "1.3"}

    await (await outside.async_unregister_service(device))
    async with asyncio.timeout(TIMEOUT):
        removed = await seen.get()
    assert removed.change is ServiceChange.removed
    assert removed.name == f"{unique} gate.{DEVICE_TYPE}"

    unsubscribe()
    await hub.async_block_till_done()
    await (await outside.async_register_service(device, cooperating_responders=True))
    await asyncio.sleep(0.3)
    assert seen.empty()


async def test_a_failing_browse_callback_is_logged_and_browsing_goes_on(
    hub_factory: HubFactory,
    outside: AsyncZeroconf,
    caplog: pytest.LogCaptureFixture,
    unique: str,
) -> None:
    hub = await start_hub(hub_factory, unique, {"advertise": False}, http=False)
    names: asyncio.Queue[str] = asyncio.Queue()

    async def flaky(service: DiscoveredService) -> None:
        if service.name.startswith(unique):
            names.put_nowait(service.instance_name)
            if service.instance_name.endswith("bad"):
                raise RuntimeError("device parser broke")

    await async_browse(hub, DEVICE_TYPE, flaky)  # stopped with the hub
    for suffix in ("bad", "good"):
        info = AsyncServiceInfo(
            DEVICE_TYPE,
            f"{unique} {suffix}.{DEVICE_TYPE}",
            addresses=[socket.inet_aton("127.0.0.1")],
            port=80,
            server=f"{suffix}-{unique}.local.",
        )
        await (await outside.async_register_service(info, cooperating_responders=True))
    async with asyncio.timeout(TIMEOUT):
        got = {await names.get(), await names.get()}
    assert got == {f"{unique} bad", f"{unique} good"}
    await hub.async_block_till_done()
    assert "device parser broke" in caplog.text


async def test_shared_instance_and_invalid_interfaces(
    hub_factory: HubFactory, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    hub = await start_hub(hub_factory, unique, {"advertise": False}, http=False)
    assert await async_get_instance(hub) is get_zeroconf(hub).aiozc

    async def setup_fails(config: dict[str, Any], reason: str) -> None:
        other = await hub_factory(start=False)
        loader = IntegrationLoader(other)
        loader.register(zeroconf_component, name="zeroconf")
        await loader.async_setup_all({"zeroconf": config})
        record = loader.records["zeroconf"]
        assert record.status is Status.failed
        assert reason in (record.reason or "")

    await setup_fails({"interfaces": ["not-an-ip"]}, "not an IP address")
    # 192.0.2.1 (TEST-NET-1) is nobody's address.
    await setup_fails({"interfaces": "192.0.2.1"}, "not an address of this machine: 192.0.2.1")
    # Without interfaces in the config, the environment's apply.
    monkeypatch.setenv("LINLI_ZEROCONF_INTERFACES", "127.0.0.1, 192.0.2.1")
    await setup_fails({}, "not an address of this machine: 192.0.2.1")
