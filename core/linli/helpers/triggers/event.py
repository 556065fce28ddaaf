"""The ``event`` trigger: an event of one of the given types, whose data and context match.

``event_data`` matches when every key given is in the event's data with an equal value
(mappings are compared the same way, recursively: a subset match). As in Home Assistant, its
values may be limited templates, rendered once when the trigger is attached with the owner's
variables (``trigger_variables``, or a run's variables in ``wait_for_trigger``): a run can
wait for an event about the very thing that started it. ``context`` restricts who
caused it (``user_id``, ``parent_id``, ``context_id``: one value or a list). Event triggers
share one bus listener per event type, so many automations on one event cost one listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.hub import HubKey
from linli.template import TemplateError, render_complex, template_complex

if TYPE_CHECKING:
    from linli.bus import Event, RemoveListener
    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONF_EVENT_TYPE: Final = "event_type"
CONF_EVENT_DATA: Final = "event_data"
CONF_CONTEXT: Final = "context"
_CONTEXT_KEYS: Final = ("user_id", "parent_id", "context_id")


def _event_data(value: dict[str, Any]) -> dict[str, Any]:
    """``event_data``: kept as written; its templates are compiled now to report bad syntax."""
    template_complex(value)
    return value


TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): "event",
        vol.Required(CONF_EVENT_TYPE): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1)),
        vol.Optional(CONF_EVENT_DATA): vol.All(dict, _event_data),
        vol.Optional(CONF_CONTEXT): {
            vol.Optional(key): vol.All(cv.ensure_list, [cv.string]) for key in _CONTEXT_KEYS
        },
    }
)

_Matcher = Callable[["Event[Any]"], None]


class _EventTriggers:
    """Every event trigger of a hub, by event type, behind one bus listener per type."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._jobs: dict[str, tuple[_Matcher, ...]] = {}
        self._unsubscribe: dict[str, RemoveListener] = {}

    def add(self, event_types: list[str], job: _Matcher) -> CancelCallback:
        for event_type in event_types:
            self._jobs[event_type] = (*self._jobs.get(event_type, ()), job)
            if event_type not in self._unsubscribe:
                self._unsubscribe[event_type] = self._hub.bus.async_listen(
                    event_type, self._dispatch, owner=__name__
                )

        @callback
        def remove() -> None:
            for event_type in event_types:
                remaining = tuple(
                    item for item in self._jobs.get(event_type, ()) if item is not job
                )
                if remaining:
                    self._jobs[event_type] = remaining
                    continue
                self._jobs.pop(event_type, None)
                unsubscribe = self._unsubscribe.pop(event_type, None)
                if unsubscribe is not None:
                    unsubscribe()

        return remove

    @callback
    def _dispatch(self, event: Event[Any]) -> None:
        for job in self._jobs.get(event.event_type, ()):
            try:
                job(event)
            except Exception:
                _LOGGER.exception("Error in an event trigger for %s", event.event_type)


_EVENT_TRIGGERS: HubKey[_EventTriggers] = HubKey("linli.helpers.triggers.event")


def _matches(wanted: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        if key not in data:
            return False
        actual = data[key]
        if isinstance(value, Mapping):
            if not isinstance(actual, Mapping) or not _matches(value, actual):
                return False
        elif actual != value:
            return False
    return True


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Fire for matching events of the configured types."""
    event_types: list[str] = config[CONF_EVENT_TYPE]
    try:
        event_data: dict[str, Any] = render_complex(
            config.get(CONF_EVENT_DATA) or {}, trigger_info["variables"], hub, limited=True
        )
    except TemplateError as err:
        _LOGGER.error(
            "Event trigger of %s not attached: bad event_data: %s", trigger_info["name"], err
        )
        return lambda: None
    wanted_context = {
        key: frozenset(values) for key, values in (config.get(CONF_CONTEXT) or {}).items()
    }

    @callback
    def on_event(event: Event[Any]) -> None:
        if event_data and not _matches(event_data, event.data):
            return
        if wanted_context:
            context = event.context
            actual = {"user_id": context.user_id, "parent_id": context.parent_id}
            for key, allowed in wanted_context.items():
                value = context.id if key == "context_id" else actual[key]
                if value not in allowed:
                    return
        action(
            {"event": event, "description": f"event '{event.event_type}'"},
            event.context,
        )

    triggers = hub.data.get(_EVENT_TRIGGERS)
    if triggers is None:
        triggers = hub.data[_EVENT_TRIGGERS] = _EventTriggers(hub)
    return triggers.add(list(dict.fromkeys(event_types)), on_event)
