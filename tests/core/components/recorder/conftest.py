"""Fixtures for the recorder tests: a hub with the recorder on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import linli.components.alert as alert_component
import linli.components.recorder as recorder_component
from linli import Hub
from linli.components.recorder import Recorder, get_recorder
from linli.db.testing import db_url
from linli.plugins.loader import IntegrationLoader, Status

__all__ = ["db_url"]

HubFactory = Callable[..., Awaitable[Hub]]
StartRecorder = Callable[..., Awaitable[tuple[Hub, Recorder]]]


@pytest.fixture
def start_recorder(hub_factory: HubFactory, db_url: str, tmp_path: Path) -> StartRecorder:
    """Start a hub with the recorder (and optionally alerts) on the test's database."""

    async def start(
        config: dict[str, Any] | None = None,
        *,
        config_dir: Path | None = None,
        alerts: bool = False,
    ) -> tuple[Hub, Recorder]:
        hub = await hub_factory(config_dir or tmp_path / "config", start=False)
        loader = IntegrationLoader(hub)
        loader.register(recorder_component, name="recorder")
        if alerts:
            loader.register(alert_component, name="alert")
        await loader.async_setup_all({"recorder": {"db_url": db_url, **(config or {})}})
        record = loader.records["recorder"]
        assert record.status is Status.loaded, record.reason
        await hub.async_start()
        return hub, get_recorder(hub)

    return start
