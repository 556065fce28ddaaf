"""pytest plugin giving integration authors ready hubs: ``clock``, ``hub``, ``hub_factory``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # without pytest-asyncio the fixtures need another asyncio plugin
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.clock import FakeClock
from linli.hub import Hub, HubState

HubFactory = Callable[..., Awaitable[Hub]]


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
