"""pytest plugin giving integration authors ready hubs: ``clock``, ``hub``, ``hub_factory``,
``hub_client`` (a hub served over HTTP on a free port, with an admin REST/WebSocket client).

While tests run, a hub whose configuration sets no ``http:`` host or port listens on
127.0.0.1 and a free port (``LINLI_HTTP_SERVER_HOST``/``LINLI_HTTP_SERVER_PORT``, inherited by
hubs started in subprocesses too), so no test ever needs — or takes — port 8123; and hubs
announce themselves over zeroconf on 127.0.0.1 only (``LINLI_ZEROCONF_INTERFACES``), never on
the machine's network.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # without pytest-asyncio the fixtures need another asyncio plugin
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.clock import FakeClock
from linli.hub import Hub, HubState

if TYPE_CHECKING:
    from linli.testing.http import HubClient

HubFactory = Callable[..., Awaitable[Hub]]


def pytest_configure(config: pytest.Config) -> None:
    """Keep every hub started by the tests off port 8123 and off the network."""
    os.environ.setdefault("LINLI_HTTP_SERVER_HOST", "127.0.0.1")
    os.environ.setdefault("LINLI_HTTP_SERVER_PORT", "0")
    os.environ.setdefault("LINLI_ZEROCONF_INTERFACES", "127.0.0.1")


@pytest.fixture
def clock() -> FakeClock:
    """A clock that stands still until the test moves it (``clock.advance(60)``)."""
    return FakeClock("2026-03-01T08:00:00+00:00")


@async_fixture
async def hub_factory(tmp_path: Path, clock: FakeClock) -> AsyncIterator[HubFactory]:
    """Make hubs on the fake clock; every hub made is stopped and checked after the test.

    A hub left with tracked tasks or scheduled timers after it stopped fails the test.
    """
    made: list[Hub] = []

    async def make(config_dir: Path | None = None, *, start: bool = True) -> Hub:
        hub = Hub(config_dir or tmp_path / f"config{len(made)}", clock=clock)
        hub.config_dir.mkdir(parents=True, exist_ok=True)
        made.append(hub)
        await hub.async_load()
        if start:
            await hub.async_start()
        return hub

    yield make
    for hub in made:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
        assert hub.pending_timers == 0, "hub left timers scheduled after stop"
        leftover = hub.pending_task_names()
        assert not leftover, f"hub left tasks running after stop: {leftover}"
    await asyncio.sleep(0)


@async_fixture
async def hub(hub_factory: HubFactory) -> Hub:
    """A started hub in a temporary config dir, on the fake ``clock``."""
    return await hub_factory()


@pytest.fixture
def hub_config() -> str:
    """Extra configuration.yaml text for ``hub_client``'s hub (override it in a test module)."""
    return ""


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """Extra integration plugins ``(name, module)`` for ``hub_client``'s hub."""
    return []


@async_fixture
async def hub_client(
    tmp_path: Path, clock: FakeClock, hub_config: str, hub_plugins: list[tuple[str, object]]
) -> AsyncIterator[HubClient]:
    """A hub with the bundled integrations served on a free port, and an admin client of it.

    ``await hub_client.get("/api/states")``; ``await hub_client.as_user("resident", …)`` for
    another role; ``async with hub_client.ws() as socket`` for an authenticated WebSocket.
    """
    from linli.testing.http import async_hub_client, async_start_served_hub

    hub = await async_start_served_hub(
        tmp_path / "served", clock=clock, extra_config=hub_config, plugins=hub_plugins
    )
    try:
        async with async_hub_client(hub) as client:
            yield client
    finally:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
    assert hub.pending_timers == 0, "hub left timers scheduled after stop"
    leftover = hub.pending_task_names()
    assert not leftover, f"hub left tasks running after stop: {leftover}"
