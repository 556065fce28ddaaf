"""Linli demo: a simulated community to try Linli with (households, residents, devices).

Configured by the ``demo:`` section of configuration.yaml (see the README). Its devices speak
MQTT (Linli's device topics, through the ``mqtt`` integration's broker) and HTTP webhooks, as
real ones do; offers the ``demo.step`` and ``demo.scenario`` services.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Any

import voluptuous as vol

from linli import (
    ConfigType,
    Event,
    Hub,
    HubKey,
    HubState,
    Integration,
    IotClass,
    Manifest,
    ServiceCall,
    ServiceValidationError,
    SupportsResponse,
    callback,
    hookimpl,
)
from linli.components.http import get_http
from linli.components.webhook import async_register, async_unregister
from linli.const import EVENT_LINLI_STARTED
from linli.entity import async_add_entities, async_remove_entity
from linli_demo.access import async_enrol, device_specs
from linli_demo.camera import SIGNATURE_HEADER, make_handler
from linli_demo.scenario import BUILTIN_FILE, Scenario, async_run, load_scenarios
from linli_demo.simulator import DOMAIN, Simulator, Size

_LOGGER = logging.getLogger(__name__)

_SIZE = vol.Schema(
    {
        vol.Required("buildings"): vol.All(vol.Coerce(int), vol.Range(min=1, max=100)),
        vol.Optional("units", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=20)),
        vol.Optional("floors", default=6): vol.All(vol.Coerce(int), vol.Range(min=1, max=100)),
        vol.Optional("rooms", default=2): vol.All(vol.Coerce(int), vol.Range(min=1, max=20)),
    }
)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("update_interval", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=3600)
        ),
        vol.Optional("seed", default=0): vol.Coerce(int),
        vol.Optional("occupancy", default=0.8): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional("size"): _SIZE,
        vol.Optional("topic_prefix", default="linli"): vol.All(
            str, vol.Match(r"^[^#+]+$"), vol.Length(min=1, max=200)
        ),
        vol.Optional("broker"): vol.All(str, vol.Match(r"^[^:]+:\d+$")),
        vol.Optional("cameras", default=True): bool,
        vol.Optional("face_consent_share", default=0.6): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=1)
        ),
        vol.Optional("scenario_file"): str,
        vol.Optional("traffic", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
    }
)
"""``update_interval``: seconds between readings; ``seed``: the same seed gives the same
community; ``occupancy``: share of flats lived in (0..1); ``size``: build a community of
buildings × units × floors × rooms (else the configured area tree); ``topic_prefix``: the
device topics' prefix (the ``mqtt`` integration's ``devices: topic_prefix``); ``broker``:
``host:port`` the devices connect to (default: the hub's broker); ``cameras``: the lifts'
e-bike cameras push over a webhook; ``face_consent_share``: share of adult residents who agreed
to face recognition (enrolled at ``face_access``); ``scenario_file``: more scenarios (YAML,
config dir); ``traffic``: chance per step that each door and entrance gate sees someone (a
resident by face or card, a household's car, now and then a stranger's; 0, the default: only
scenarios use them). The doors' terminals and the car park's gates are those ``face_access`` and
``plate_gate`` are configured with (none without them)."""

STEP_SCHEMA = vol.Schema(
    {vol.Optional("count", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000))}
)
SCENARIO_CALL_SCHEMA = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Optional("variables", default={}): {vol.Match(r"^[a-z_]+$"): vol.Coerce(str)},
    }
)

MANIFEST = Manifest(
    domain=DOMAIN,
    name="Demo community",
    version="0.1.0",
    dependencies=("mqtt", "webhook"),
    after_dependencies=("face_access", "plate_gate"),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    setup_timeout=60,
)

SIMULATOR: HubKey[Simulator] = HubKey("demo.simulator")
DEVICES_DELAY = 0.3
"""Seconds after the hub has started before the simulated devices connect."""
WEBHOOK_ID: HubKey[str] = HubKey("demo.webhook_id")


def _scenarios(hub: Hub, config: ConfigType) -> dict[str, Scenario]:
    scenarios = load_scenarios(BUILTIN_FILE)
    if (name := config.get("scenario_file")) is not None:
        scenarios.update(load_scenarios(hub.config_dir / Path(name)))
    return scenarios


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Build the community, connect its devices to the broker and keep them publishing."""
    from linli_mqtt import get_mqtt

    scenarios = await hub.async_add_executor_job(_scenarios, hub, config)
    simulator = Simulator(
        hub,
        seed=config["seed"],
        occupancy=config["occupancy"],
        prefix=config["topic_prefix"],
        update_interval=config["update_interval"],
    )
    simulator.traffic = config["traffic"]
    simulator.face_share = config["face_consent_share"]
    size = config.get("size")
    simulator.build(None if size is None else Size(**size))
    simulator.populate()
    simulator.plan()
    hub.data[SIMULATOR] = simulator

    if config["cameras"]:
        sensors = simulator.camera_sensors()
        await async_add_entities(hub, DOMAIN, sensors)
        webhook_id = f"demo-lift-cameras-{secrets.token_hex(8)}"
        async_register(
            hub,
            DOMAIN,
            "Lift e-bike cameras",
            webhook_id,
            make_handler(simulator.cameras),
            secret=simulator.camera_secret,
            hmac_header=SIGNATURE_HEADER,
        )
        hub.data[WEBHOOK_ID] = webhook_id
        simulator.camera_url = f"http://127.0.0.1:{get_http(hub).port}/api/webhook/{webhook_id}"

    terminals, gates = device_specs(hub)
    if not terminals:
        _LOGGER.info("Demo: no face_access doors on this hub; no face terminals simulated")
    if not gates:
        _LOGGER.info("Demo: no plate_gate gates on this hub; no barrier gates simulated")
    simulator.add_access_devices(terminals, gates, f"http://127.0.0.1:{get_http(hub).port}")

    if "broker" in config:
        host, port = config["broker"].rsplit(":", 1)
    else:
        host, port = get_mqtt(hub).broker

    async def bring_up() -> None:
        try:
            await simulator.async_connect(host, int(port))
        finally:
            simulator.connected.set()
        # After connecting, so the terminals hear the templates face_access pushes as faces
        # enrol; in the background, as a property office takes its time (a first start
        # enrols everyone).
        simulator.enrolment = hub.async_create_background_task(
            async_enrol(hub, simulator, config["face_consent_share"], config["seed"]),
            "demo enrolment",
        )
        simulator.start(config["update_interval"])

    # The simulated devices are outside the hub: like real ones, they come online once the
    # hub runs, and the hub's start does not wait for them.
    @callback
    def connect(_event: Event[Any] | None = None) -> None:
        simulator.unsubscribe_start = None

        def go() -> None:
            simulator.connecting = hub.async_create_background_task(
                bring_up(), "demo devices connecting"
            )

        # A moment after start, so the hub answers its first requests before the devices'
        # connections keep the embedded broker busy.
        simulator.unsubscribe_start = (
            asyncio.get_running_loop().call_later(DEVICES_DELAY, go).cancel
        )

    if hub.state is HubState.running:
        connect()
    else:
        simulator.unsubscribe_start = hub.bus.async_listen_once(EVENT_LINLI_STARTED, connect)

    async def handle_step(call: ServiceCall) -> dict[str, Any]:
        await simulator.async_wait_connected()
        published = 0
        for _ in range(call.data["count"]):
            published += simulator.step()
        return {"steps": simulator.steps, "published": published}

    async def handle_scenario(call: ServiceCall) -> dict[str, Any]:
        scenario = scenarios.get(call.data["name"])
        if scenario is None:
            raise ServiceValidationError(
                f"Unknown scenario {call.data['name']!r}; known: {', '.join(sorted(scenarios))}"
            )
        await simulator.async_wait_connected()
        try:
            run = await async_run(simulator, scenario, call.data["variables"])
        except (KeyError, ValueError) as err:
            raise ServiceValidationError(f"Scenario {scenario.name}: {err}") from err
        response: dict[str, Any] = {"scenario": scenario.name, "steps": run.steps}
        if run.skipped:
            response["skipped"] = run.skipped
        if run.outcomes is not None:
            response["outcomes"] = run.outcomes
        return response

    hub.services.async_register(
        DOMAIN,
        "step",
        handle_step,
        schema=STEP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
        description="Move every simulated reading `count` steps (default 1) at once and publish "
        "them; returns the number of steps since setup and the messages published.",
    )
    hub.services.async_register(
        DOMAIN,
        "scenario",
        handle_scenario,
        schema=SCENARIO_CALL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
        description="Play a scripted scenario (`name`: one of "
        f"{', '.join(sorted(scenarios))}) over the devices' own MQTT connections and "
        "webhooks; `variables` pick the room, unit, floor, zone, person, terminal, gate or "
        "plate. Returns the steps taken, those skipped (no door terminals or gates) and what "
        "the doors and gates did.",
    )
    return True


async def async_unload(hub: Hub) -> None:
    """Switch the simulated devices off and forget the cameras' webhook."""
    simulator = hub.data.pop(SIMULATOR)
    if simulator is None:
        return
    simulator.stop()
    if simulator.unsubscribe_start is not None:
        simulator.unsubscribe_start()
    for task in (simulator.connecting, simulator.enrolment):
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await simulator.async_disconnect()
    if (webhook_id := hub.data.pop(WEBHOOK_ID)) is not None:
        async_unregister(hub, webhook_id)
    for sensor in simulator.cameras.values():
        if sensor.entity_id is not None:
            await async_remove_entity(hub, sensor.entity_id)


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the demo integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
