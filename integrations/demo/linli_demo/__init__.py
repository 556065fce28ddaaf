"""Linli demo: a simulated community to try Linli with (households, residents, devices).

Configured by the ``demo:`` section of configuration.yaml (see the README); offers the
``demo.step`` service.
"""

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
from linli_demo.simulator import DOMAIN, Simulator

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("update_interval", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=3600)
        ),
        vol.Optional("seed", default=0): vol.Coerce(int),
        vol.Optional("occupancy", default=0.8): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
    }
)
"""``update_interval``: seconds between readings; ``seed``: the same seed gives the same
community; ``occupancy``: share of flats lived in (0..1)."""

STEP_SCHEMA = vol.Schema(
    {vol.Optional("count", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000))}
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


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Populate the community, register the simulated devices and start updating them."""
    simulator = Simulator(hub, seed=config["seed"], occupancy=config["occupancy"])
    simulator.populate()
    simulator.register_entities()
    simulator.start(config["update_interval"])
    hub.data[SIMULATOR] = simulator

    async def handle_step(call: ServiceCall) -> dict[str, Any]:
        for _ in range(call.data["count"]):
            simulator.step()
        return {"steps": simulator.steps}

    hub.services.async_register(
        DOMAIN,
        "step",
        handle_step,
        schema=STEP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
        description="Move every simulated reading `count` steps (default 1) at once; "
        "returns the number of steps since setup.",
    )
    return True


async def async_unload(hub: Hub) -> None:
    """Stop updating the simulated devices."""
    simulator = hub.data.pop(SIMULATOR)
    if simulator is not None:
        simulator.stop()


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the demo integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
