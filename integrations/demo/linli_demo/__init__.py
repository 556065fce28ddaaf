"""Linli demo: a simulated community to try Linli with (households, residents, devices)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from linli import (
    ConfigType,
    Hub,
    HubKey,
    Integration,
    IotClass,
    Manifest,
    ServiceCall,
    SupportsResponse,
    hookimpl,
)
from linli.clock import CancelCallback
from linli_demo.simulator import DOMAIN, Simulator

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("update_interval", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=3600)
        ),
        vol.Optional("seed", default=0): vol.Coerce(int),
        vol.Optional("occupancy", default=0.8): vol.All(vol.Coerce(float), vol.Range(0, 1)),
    }
)

MANIFEST = Manifest(
    domain=DOMAIN,
    name="Demo community",
    version="0.1.0",
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    setup_timeout=30,
)

SIMULATOR: HubKey[Simulator] = HubKey("demo.simulator")
STOP_TIMER: HubKey[CancelCallback] = HubKey("demo.stop_timer")


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Populate the community, register the simulated devices and start updating them."""
    simulator = Simulator(hub, seed=config["seed"], occupancy=config["occupancy"])
    simulator.populate()
    simulator.register_entities()
    hub.data[SIMULATOR] = simulator
    hub.data[STOP_TIMER] = hub.async_track_time_interval(simulator.step, config["update_interval"])

    async def handle_step(call: ServiceCall) -> dict[str, Any]:
        for _ in range(call.data["count"]):
            simulator.step()
        return {"steps": simulator.steps}

    hub.services.async_register(
        DOMAIN,
        "step",
        handle_step,
        schema=vol.Schema({vol.Optional("count", default=1): vol.All(int, vol.Range(1, 1000))}),
        supports_response=SupportsResponse.OPTIONAL,
        description="Advance the simulation by `count` steps at once.",
    )
    return True


async def async_unload(hub: Hub) -> None:
    """Stop updating the simulated devices."""
    cancel = hub.data.pop(STOP_TIMER)
    if cancel is not None:
        cancel()
    hub.data.pop(SIMULATOR)


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the demo integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
