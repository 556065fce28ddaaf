"""Automations, bundled with the core as the ``automation`` integration (Home Assistant's YAML).

Configuration: a list of automations, usually ``automation: !include automations.yaml``::

    - id: elder_no_exit
      alias: 独居老人 24 小时未出门
      triggers:
        - trigger: state
          entity_id: binary_sensor.room_1201_door
          to: "off"
          for: {hours: 24}
      conditions: []
      actions:
        - alert: {kind: no_activity, severity: high, title: "1201 无出门记录"}
      mode: single

Each automation is an ``automation.<object_id>`` entity, ``on`` while enabled, with the
attributes ``friendly_name``, ``id``, ``last_triggered``, ``mode``, ``current`` (runs going
on) and ``max`` (queued/parallel). A trigger firing checks the conditions and starts the
actions (a :class:`~linli.helpers.script.Script` in the automation's ``mode``) with the trigger
variables, in a context whose parent is the trigger's; each run leaves a trace (the last
``trace: {stored_traces}``, default 5, per automation; see :mod:`linli.helpers.trace`).

Triggers are attached once the hub has started. ``for:`` timers and ``delay`` steps are
persisted: after a restart they go on, or fire at once if they fell due while the hub was down
(the trigger variable and the trace then say ``late``).

An automation that cannot be used (a bad template, an unknown trigger platform …) is reported
with its file and line, and left out; the others run. ``automation.reload`` reads the section
again and, like Home Assistant, only replaces what was added, removed or changed.

Services: ``automation.trigger`` (``entity_id``, ``skip_condition`` default true,
``variables``; runs even a disabled automation, as in Home Assistant, without waiting for the
run), ``automation.turn_on``, ``automation.turn_off`` (``stop_actions`` default true),
``automation.toggle``, ``automation.reload`` (returns ``{"automations", "issues"}`` on request).

WebSocket commands (admins only): ``linli/blueprints/list`` and ``linli/blueprints/import``
(see :mod:`linli.components.automation.websocket`).
Turning one on or off is remembered across restarts unless it sets ``initial_state``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from linli.components.automation.automation import EVENT_AUTOMATION_TRIGGERED, Automation
from linli.components.automation.component import EVENT_AUTOMATION_RELOADED, AutomationComponent
from linli.components.automation.config import DOMAIN, section_schema
from linli.const import __version__
from linli.hub import Hub, HubKey
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "EVENT_AUTOMATION_RELOADED",
    "EVENT_AUTOMATION_TRIGGERED",
    "Automation",
    "AutomationComponent",
    "get_component",
    "linli_blueprint_folders",
    "linli_integration",
]

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Automations",
    version=__version__,
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    load_by_default=True,
)

_COMPONENT: HubKey[AutomationComponent] = HubKey(DOMAIN)

SHIPPED_BLUEPRINTS: Final = Path(__file__).parents[2] / "_blueprints"
"""The blueprints the project ships (its top-level ``blueprints/`` folder, packaged as
``linli/_blueprints``): ``automation/linli/no_activity_alert.yaml`` and the others."""


def get_component(hub: Hub) -> AutomationComponent | None:
    """Return the hub's automations, or None when the integration is not set up."""
    return hub.data.get(_COMPONENT)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Load the automations and register the services; triggers attach once started."""
    component = AutomationComponent(hub)
    hub.data[_COMPONENT] = component
    await component.async_setup(section_schema(config))
    from linli.components.automation.websocket import async_register_commands

    async_register_commands(hub)
    return True


async def async_unload(hub: Hub) -> None:
    """Detach every trigger and stop the runs; persisted timers stay for the next start."""
    component = hub.data.pop(_COMPONENT)
    if component is not None:
        await component.async_unload()


@hookimpl
def linli_blueprint_folders() -> list[Path]:
    """Offer the blueprints shipped with Linli (``use_blueprint: {path: linli/…}``)."""
    return [SHIPPED_BLUEPRINTS]


@hookimpl
def linli_integration() -> Integration:
    """Describe the automation integration."""
    return Integration(MANIFEST, async_setup, async_unload, section_schema)
