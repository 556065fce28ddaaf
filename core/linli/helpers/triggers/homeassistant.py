"""Home Assistant's ``homeassistant`` trigger: ``event: start`` or ``event: shutdown``.

``start`` is :mod:`linli_start <linli.helpers.triggers.linli_start>`; ``shutdown`` fires on
``linli_stop``. Kept so automations and blueprints written for Home Assistant work unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.const import EVENT_LINLI_STOP
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.helpers.triggers.linli_start import async_attach_started

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub

CONF_EVENT: Final = "event"

TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): "homeassistant",
        vol.Required(CONF_EVENT): vol.In(("start", "shutdown")),
    }
)


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Fire when the hub has started, or when it begins to stop."""
    if config[CONF_EVENT] == "start":
        return await async_attach_started(
            hub, action, trigger_info, {"event": "start", "description": "Home Assistant starting"}
        )

    @callback
    def on_stop(event: Event[Any]) -> None:
        action({"event": "shutdown", "description": "Home Assistant stopping"}, event.context)

    return hub.bus.async_listen_once(EVENT_LINLI_STOP, on_stop)
