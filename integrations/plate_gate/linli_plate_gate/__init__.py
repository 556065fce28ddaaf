"""Licence-plate gates for Linli: barriers and ANPR cameras, resident plates, visitor passes,
a blacklist, the gate log and car-park occupancy.

Cameras speak the common Chinese LPR HTTP push (``AlarmInfoPlate``; the HTTP answer opens
the barrier) or Linli's MQTT device topics (kind ``anpr_gate``). See the README for the
configuration, the push format, the topics and what is kept about whom.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from linli import ConfigType, Hub, HubKey, Integration, IotClass, Manifest, hookimpl
from linli_plate_gate.config import CONFIG_SCHEMA
from linli_plate_gate.const import DOMAIN

if TYPE_CHECKING:
    from aiohttp import web

    from linli.helpers.teardown import Teardown
    from linli_plate_gate.gate import GateManager

__all__ = ["DOMAIN", "MANIFEST", "async_add_resident_plate", "get_manager", "linli_integration"]

_LOGGER = logging.getLogger(__name__)

MANIFEST = Manifest(
    domain=DOMAIN,
    name="Licence-plate gates",
    version="0.1.0",
    dependencies=("recorder", "auth", "http", "webhook", "websocket_api", "mqtt"),
    after_dependencies=("alert", "automation"),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    documentation="https://github.com/linli/linli/tree/main/integrations/plate_gate",
)


@dataclass
class PlateGateData:
    """What the integration keeps on the hub."""

    manager: GateManager
    unloads: list[Teardown] = field(default_factory=list)


DATA: HubKey[PlateGateData] = HubKey(DOMAIN)


def get_manager(hub: Hub) -> GateManager:
    """The hub's gate manager (for tests and benchmarks); KeyError when not set up."""
    data = hub.data.get(DATA)
    if data is None:
        raise KeyError("plate_gate is not set up")
    return data.manager


async def async_add_resident_plate(
    hub: Hub, household_id: str, plate: str, color: str | None = None, *, note: str | None = None
) -> bool:
    """Register a household's car from trusted code (an import, the demo): no user, no
    permission check. Return False when the plate is registered already.

    Raises ``ValueError`` for an unknown household or a text that is not a licence plate.
    """
    from linli_plate_gate import views
    from linli_plate_gate.api import ApiError
    from linli_plate_gate.plates import classify, parse_color

    api = hub.data.get(views.PLATE_API)
    if api is None:
        raise KeyError("plate_gate is not set up")
    if hub.registries.people.async_get_household(household_id) is None:
        raise ValueError(f"unknown household {household_id!r}")
    parsed = classify(plate, parse_color(color))
    if not parsed.valid:
        raise ValueError(f"{plate!r} is not a licence plate")
    try:
        await api.async_store_resident_plate(household_id, parsed, note, None)
    except ApiError as err:
        if err.kind == "conflict":
            return False
        raise
    return True


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Create the tables, load the plates, add the entities, open the doors for devices."""
    from linli.components import webhook
    from linli.db import async_create_tables
    from linli.entity import async_add_entities
    from linli_mqtt import DeviceKind, DeviceMessage, async_register_device_kind
    from linli_plate_gate import anpr, const, views
    from linli_plate_gate import config as conf
    from linli_plate_gate.api import PlateApi
    from linli_plate_gate.entities import BarrierCover, CarParkOccupancy, GateCamera
    from linli_plate_gate.gate import GateManager
    from linli_plate_gate.retention import async_register_plate_log
    from linli_plate_gate.services import async_register_services
    from linli_plate_gate.store import METADATA

    await async_create_tables(hub, METADATA)
    parks = conf.car_parks(config)
    gates = conf.gates(config, parks)
    manager = GateManager(
        hub,
        gates,
        parks,
        offline_open_window=config[const.CONF_OFFLINE_OPEN_WINDOW],
        barrier_open_seconds=config[const.CONF_BARRIER_OPEN_SECONDS],
    )
    await manager.async_load()
    data = hub.data[DATA] = PlateGateData(manager)
    try:
        for gate in gates.values():
            manager.barriers[gate.id] = BarrierCover(manager, gate)
            manager.cameras[gate.id] = GateCamera(gate)
        for park in parks.values():
            manager.occupancy[park.id] = CarParkOccupancy(park)
        await async_add_entities(
            hub,
            DOMAIN,
            [*manager.barriers.values(), *manager.cameras.values(), *manager.occupancy.values()],
        )
        for park_id, sensor in manager.occupancy.items():
            sensor.set_count(len(manager.presence[park_id]))

        webhook_gates = {gate.webhook_id: gate for gate in gates.values() if gate.webhook_id}

        async def handle_push(
            _hub: Hub, webhook_id: str, request: web.Request
        ) -> web.StreamResponse:
            return await anpr.async_handle_push(manager, webhook_gates[webhook_id], request)

        for webhook_id, gate in webhook_gates.items():
            webhook.async_register(hub, DOMAIN, gate.name, webhook_id, handle_push)
            data.unloads.append(partial(webhook.async_unregister, hub, webhook_id))

        async def on_message(_hub: Hub, message: DeviceMessage) -> None:
            await anpr.async_handle_mqtt(hub, manager, message)

        data.unloads.append(
            async_register_device_kind(
                hub,
                DeviceKind(
                    const.DEVICE_KIND,
                    schemas=anpr.MQTT_SCHEMAS,
                    on_message=on_message,
                    name="ANPR gate",
                ),
            )
        )
        async_register_services(hub, manager)
        views.async_register(hub, PlateApi(hub, manager))
        data.unloads.append(lambda: hub.data.pop(views.PLATE_API))
        data.unloads.append(async_register_plate_log(hub, manager))
    except BaseException:
        await async_unload(hub)
        raise
    return True


async def async_unload(hub: Hub) -> None:
    """Stop serving devices, forget the data kind, remove the entities."""
    from linli.entity import async_remove_platform
    from linli.helpers.teardown import async_teardown

    data = hub.data.pop(DATA)
    if data is None:
        return
    await async_teardown(data.unloads, DOMAIN)
    data.manager.async_stop()
    await async_remove_platform(hub, DOMAIN)


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the plate_gate integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
