"""Home Assistant's own motion-light blueprint, unchanged, on the demo community.

The blueprint file is Home Assistant's (``homeassistant/motion_light.yaml``, imported into the
config dir as a community would), the hub runs the demo integration, the "motion sensor" is a
demo elevator's e-bike detector, and a small ``light`` stand-in records the calls.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import linli_demo
import linli_mqtt
from linli.bootstrap import async_setup_hub
from linli.clock import FakeClock
from linli.components.automation import get_component
from linli.helpers.trace import get_trace_store
from linli.hub import Hub, HubState

ROOT = Path(__file__).resolve().parents[2]
CONFIG_EXAMPLE = ROOT / "config_example"
MOTION_LIGHT = ROOT / "tests" / "core" / "blueprint" / "fixtures" / "motion_light.yaml"
SENSOR = "binary_sensor.b1_u1_elevator_ebike"
LIGHT = "light.b1_u1_lobby"

LOBBY_LIGHT = f"""
- id: lobby_light
  alias: 1单元大堂灯
  use_blueprint:
    path: homeassistant/motion_light.yaml
    input:
      motion_entity: {SENSOR}
      light_target:
        entity_id: {LIGHT}
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The demo community's configuration, with the HA blueprint and an automation using it."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    configuration = target / "configuration.yaml"
    text = configuration.read_text(encoding="utf-8")
    assert "update_interval: 5\n" in text
    # The simulation must not move the sensor during the test: the test moves it.
    configuration.write_text(
        text.replace("update_interval: 5\n", "update_interval: 3600\n"), encoding="utf-8"
    )
    folder = target / "blueprints" / "automation" / "homeassistant"
    folder.mkdir(parents=True)
    shutil.copy(MOTION_LIGHT, folder / "motion_light.yaml")
    with (target / "automations.yaml").open("a", encoding="utf-8") as automations:
        automations.write(LOBBY_LIGHT)
    return target


@pytest.fixture
async def hub(config_dir: Path, clock: FakeClock) -> AsyncIterator[Hub]:
    """The demo community started, with ``light.turn_on``/``turn_off`` recording calls."""
    hub = await async_setup_hub(
        config_dir,
        clock=clock,
        plugins=[("mqtt", linli_mqtt), ("demo", linli_demo)],
        discover=False,
    )
    # The demo's devices speak over MQTT (the embedded broker): wait for the e-bike detector.
    for _ in range(500):
        await hub.async_block_till_done()
        if hub.states.get(SENSOR) is not None:
            break
        await asyncio.sleep(0.01)
    assert hub.states.get(SENSOR) is not None, f"{SENSOR} never arrived"
    yield hub
    if hub.state is not HubState.stopped:
        await hub.async_stop()
    assert hub.pending_timers == 0
    assert not hub.pending_task_names()


@pytest.fixture
def lights(hub: Hub, recorder: Any) -> Any:
    """``light.turn_on`` and ``light.turn_off`` on the hub, recording every call."""
    recorder.register(hub, "light", "turn_on", "turn_off")
    return recorder


async def _set(hub: Hub, state: str) -> None:
    hub.states.async_set(SENSOR, state, hub.states.get(SENSOR).attributes)
    await hub.async_block_till_done()


async def _advance(hub: Hub, clock: FakeClock, seconds: float) -> None:
    clock.advance(timedelta(seconds=seconds))
    await hub.async_block_till_done()


async def test_the_light_follows_motion_and_goes_off_after_the_wait(
    hub: Hub, clock: FakeClock, lights: Any
) -> None:
    component = get_component(hub)
    assert component is not None
    assert component.issues == []
    assert hub.states.get(SENSOR) is not None  # a real demo entity

    await _set(hub, "off")
    await _set(hub, "on")
    assert lights.names() == ["light.turn_on"]
    assert lights.calls[0].data["entity_id"] == [LIGHT]

    await _set(hub, "off")
    await _advance(hub, clock, 119)
    assert lights.names() == ["light.turn_on"]
    await _advance(hub, clock, 1)
    assert lights.names() == ["light.turn_on", "light.turn_off"]
    assert lights.calls[1].data["entity_id"] == [LIGHT]
    (trace,) = [t.as_dict() for t in get_trace_store(hub).get("lobby_light")]
    assert trace["script_execution"] == "finished"


async def test_motion_during_the_wait_starts_over(hub: Hub, clock: FakeClock, lights: Any) -> None:
    await _set(hub, "off")
    await _set(hub, "on")
    await _set(hub, "off")
    await _advance(hub, clock, 100)
    await _set(hub, "on")  # mode: restart, the first run is cancelled
    await _set(hub, "off")
    await _advance(hub, clock, 100)
    assert lights.names() == ["light.turn_on", "light.turn_on"]
    await _advance(hub, clock, 20)
    assert lights.names() == ["light.turn_on", "light.turn_on", "light.turn_off"]
    runs = [t.as_dict()["script_execution"] for t in get_trace_store(hub).get("lobby_light")]
    assert runs == ["cancelled", "finished"]
