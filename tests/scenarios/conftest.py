"""Scenarios: the shipped blueprints end to end, in a small community on the fake clock.

Each test writes a config dir (``configuration.yaml`` with an area tree, ``automations.yaml``
using a blueprint), starts a hub from it with :func:`linli.bootstrap.async_setup_hub`, drives
it through state changes and clock moves, and looks at the alerts, calls and traces.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from linli.bootstrap import async_setup_hub
from linli.callback import callback
from linli.clock import FakeClock
from linli.components.alert import Alert, get_manager
from linli.components.automation import get_component
from linli.helpers.trace import get_trace_store
from linli.hub import Hub, HubState
from linli.services import ServiceCall

ZONE = ZoneInfo("Asia/Shanghai")

CONFIGURATION = """\
linli:
  name: 幸福里
  time_zone: Asia/Shanghai
  language: zh-CN
  areas:
    - id: b1
      kind: building
      name: {zh-CN: 1号楼, en: Building 1}
      children:
        - id: b1-u1
          kind: unit
          name: {zh-CN: 1单元, en: Unit 1}
          children:
            - id: b1-u1-f12
              kind: floor
              name: {zh-CN: 12楼, en: Floor 12}
              children:
                - {id: b1-u1-1201, kind: room, name: "1201"}
                - {id: b1-u1-1202, kind: room, name: "1202"}
automation: !include automations.yaml
"""

ROOM_1201 = "b1-u1-1201"
ROOM_1202 = "b1-u1-1202"


def local(text: str) -> datetime:
    """A wall time in the community's zone, e.g. ``local("2026-03-02 06:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@dataclass
class Community:
    """A config dir and the hubs started from it (one at a time, restarts included)."""

    config_dir: Path
    clock: FakeClock
    hubs: list[Hub] = field(default_factory=list)
    plugins: list[tuple[str, object]] = field(default_factory=list)

    @property
    def hub(self) -> Hub:
        """The hub started last."""
        return self.hubs[-1]

    def write_automations(self, text: str) -> None:
        """Write automations.yaml (YAML, dedented)."""
        (self.config_dir / "automations.yaml").write_text(textwrap.dedent(text), encoding="utf-8")

    async def start(self) -> Hub:
        """Start a hub from the config dir; every automation must have loaded."""
        hub = await async_setup_hub(
            self.config_dir, clock=self.clock, plugins=self.plugins, discover=False
        )
        self.hubs.append(hub)
        await hub.async_block_till_done()
        component = get_component(hub)
        assert component is not None
        assert component.issues == []
        return hub

    async def restart(self) -> Hub:
        """Stop the running hub and start a new one on the same config dir."""
        await self.hub.async_stop()
        return await self.start()

    async def move_to(self, wall_time: str) -> None:
        """Move the clock to a local wall time (``"2026-03-02 06:00"``); let the hub catch up."""
        self.clock.set(local(wall_time))
        if self.hubs and self.hub.state is HubState.running:
            await self.hub.async_block_till_done()

    def now(self) -> datetime:
        """The local time now."""
        return self.clock.utcnow().astimezone(ZONE)

    async def advance(self, delta: Any) -> None:
        """Move the clock (seconds or a timedelta) and let the hub catch up."""
        self.clock.advance(delta)
        await self.hub.async_block_till_done()

    async def set_state(
        self, entity_id: str, state: str, attributes: dict[str, Any] | None = None
    ) -> None:
        """Write a state, as a device integration would, and let the hub react."""
        self.hub.states.async_set(entity_id, state, attributes)
        await self.hub.async_block_till_done()

    def place(self, entity_id: str, area_id: str, name: str) -> None:
        """Register ``entity_id`` in the entity registry, in ``area_id`` (as a device would)."""
        domain, _, object_id = entity_id.partition(".")
        entry = self.hub.registries.entities.async_get_or_create(
            domain, "scenario", object_id, suggested_object_id=object_id, area_id=area_id
        )
        assert entry.entity_id == entity_id
        self.hub.states.async_set(entity_id, "unknown", {"friendly_name": name})

    def alerts(self, **filters: Any) -> list[Alert]:
        """Every alert of the running hub (filters as :meth:`AlertManager.alerts`)."""
        return get_manager(self.hub).alerts(**filters)

    def traces(self, automation_id: str) -> list[dict[str, Any]]:
        """The stored traces of an automation, oldest first, as dicts."""
        return [trace.as_dict() for trace in get_trace_store(self.hub).get(automation_id)]


@pytest.fixture
async def community(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Community]:
    """A config dir for the community; hubs started from it are stopped and checked after.

    Errors logged by the hub (a template that cannot render, a failing step) fail the test.
    """
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(CONFIGURATION, encoding="utf-8")
    made = Community(config_dir, clock)
    caplog.set_level(logging.INFO, logger="linli")
    yield made
    for hub in made.hubs:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
        assert hub.pending_timers == 0, "hub left timers scheduled after stop"
        assert not hub.pending_task_names(), "hub left tasks running after stop"
    errors = [
        record.getMessage()
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if record.levelno >= logging.ERROR
    ]
    assert errors == []


class ServiceRecorder:
    """Records the calls of services registered on a hub (a stand-in for a device domain)."""

    def __init__(self) -> None:
        self.calls: list[ServiceCall] = []

    def register(self, hub: Hub, domain: str, *services: str) -> None:
        """Register ``domain.<service>`` for each service name; calls are recorded."""

        @callback
        def record(call: ServiceCall) -> None:
            self.calls.append(call)

        for service in services:
            hub.services.async_register(domain, service, record)

    def names(self) -> list[str]:
        """``domain.service`` of every call, in order."""
        return [f"{call.domain}.{call.service}" for call in self.calls]


@pytest.fixture
def recorder() -> ServiceRecorder:
    """A :class:`ServiceRecorder`: ``recorder.register(hub, "light", "turn_on", "turn_off")``."""
    return ServiceRecorder()
