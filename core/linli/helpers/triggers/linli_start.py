"""The ``linli_start`` trigger: fire once the hub has started.

Attached before the hub runs, it fires on ``linli_started``; attached to a running hub it
fires at once, unless the owner attaches it by a reload (``hub_start`` false), which is no
start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.const import EVENT_LINLI_STARTED
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.hub import HubState

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub

TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_PLATFORM): "linli_start"})


async def async_attach_started(
    hub: Hub, action: TriggerActionType, trigger_info: TriggerInfo, payload: dict[str, Any]
) -> CancelCallback:
    """Call ``action(payload)`` when the hub has started (see the module docstring)."""
    if hub.state is HubState.running:
        if trigger_info["hub_start"]:
            # Not from inside the attach call: the owner is still setting up its triggers.
            async def fire_now() -> None:
                action(dict(payload), None)

            task = hub.async_create_task(fire_now(), f"start trigger of {trigger_info['name']}")

            @callback
            def cancel_task() -> None:
                task.cancel()

            return cancel_task
        return _nothing

    @callback
    def on_started(event: Event[Any]) -> None:
        action(dict(payload), event.context)

    return hub.bus.async_listen_once(EVENT_LINLI_STARTED, on_started)


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Fire once the hub has started."""
    return await async_attach_started(
        hub, action, trigger_info, {"event": "start", "description": "Linli starting"}
    )


@callback
def _nothing() -> None:
    """Detach nothing: the trigger had nothing to wait for."""
