"""Helpers for trigger and automation tests: attach triggers and record what they fire."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linli.bootstrap import async_setup_hub
from linli.callback import callback
from linli.clock import CancelCallback, FakeClock
from linli.components import automation as automation_integration
from linli.context import Context
from linli.helpers.trigger import async_initialize_triggers, valid_triggers
from linli.hub import Hub, HubState
from linli.plugins import ConfigType, Integration, Manifest, hookimpl
from linli.services import ServiceCall


class Fired:
    """Records every firing: the run variables and the context."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.contexts: list[Context | None] = []

    @callback
    def __call__(self, variables: dict[str, Any], context: Context | None) -> None:
        self.runs.append(variables)
        self.contexts.append(context)

    @property
    def triggers(self) -> list[dict[str, Any]]:
        """The ``trigger`` variable of every run."""
        return [run["trigger"] for run in self.runs]

    def __len__(self) -> int:
        return len(self.runs)


Attach = Callable[..., Awaitable[tuple[Fired, CancelCallback]]]


@pytest.fixture
def attach() -> Attach:
    """``await attach(hub, triggers, **kwargs)`` → (fired, detach)."""

    async def attach_triggers(
        hub: Hub, triggers: Any, **kwargs: Any
    ) -> tuple[Fired, CancelCallback]:
        fired = Fired()
        kwargs.setdefault("name", "test")
        detach = await async_initialize_triggers(hub, valid_triggers(triggers), fired, **kwargs)
        return fired, detach

    return attach_triggers


# ------------------------------------------------------------------ hubs with automations


class RecordPlugin:
    """A ``test`` integration offering ``test.record``, which records every call."""

    def __init__(self) -> None:
        self.calls: list[ServiceCall] = []

    @hookimpl
    def linli_integration(self) -> Integration:
        async def setup(hub: Hub, config: ConfigType) -> bool:
            @callback
            def record(call: ServiceCall) -> None:
                self.calls.append(call)

            hub.services.async_register("test", "record", record)
            return True

        return Integration(Manifest(domain="test", name="Test", load_by_default=True), setup)


CONFIGURATION = """\
linli:
  name: Test
  time_zone: Asia/Shanghai
automation: !include automations.yaml
"""


@dataclass
class AutomationHub:
    """A hub set up from a config dir with the automation integration, and its recorder."""

    hub: Hub
    record: RecordPlugin
    config_dir: Path

    @property
    def calls(self) -> list[ServiceCall]:
        """The ``test.record`` calls so far."""
        return self.record.calls

    def write_automations(self, text: str) -> None:
        """Replace automations.yaml (for a reload)."""
        (self.config_dir / "automations.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


StartHub = Callable[..., Awaitable[AutomationHub]]


@pytest.fixture
async def start_hub(clock: FakeClock, tmp_path: Path) -> AsyncIterator[StartHub]:
    """``await start_hub(automations_yaml, config_dir=None)``: a started hub; stopped after."""
    made: list[Hub] = []

    async def start(
        automations: str | None = None, *, config_dir: Path | None = None
    ) -> AutomationHub:
        config_dir = config_dir or tmp_path / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        if not (config_dir / "configuration.yaml").exists():
            (config_dir / "configuration.yaml").write_text(CONFIGURATION, encoding="utf-8")
        if automations is not None:
            (config_dir / "automations.yaml").write_text(
                textwrap.dedent(automations), encoding="utf-8"
            )
        record = RecordPlugin()
        hub = await async_setup_hub(
            config_dir,
            clock=clock,
            plugins=[("automation", automation_integration), ("test", record)],
            discover=False,
        )
        made.append(hub)
        await hub.async_block_till_done()
        return AutomationHub(hub, record, config_dir)

    yield start
    for hub in made:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
        assert hub.pending_timers == 0, "hub left timers scheduled after stop"
        assert not hub.pending_task_names(), "hub left tasks running after stop"
