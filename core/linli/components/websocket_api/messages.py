"""Wire messages: results, errors, events, and the compressed state diffs of ``subscribe_entities``.

Every message leaves as UTF-8 JSON bytes. What many connections receive (an event, a state
diff) is serialised once: the body is cached per event and each connection only wraps it in
``{"id":<n>,"type":"event","event":<body>}``, so fan-out to hundreds of subscribers costs a
byte concatenation each.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.components.websocket_api.const import ERR_UNKNOWN_ERROR, TYPE_RESULT
from linli.util.json import json_bytes

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.context import Context
    from linli.state import State

_LOGGER = logging.getLogger(__name__)

# Keys of Home Assistant's compressed states and entity events.
COMPRESSED_STATE_STATE: Final = "s"
COMPRESSED_STATE_ATTRIBUTES: Final = "a"
COMPRESSED_STATE_CONTEXT: Final = "c"
COMPRESSED_STATE_LAST_CHANGED: Final = "lc"
COMPRESSED_STATE_LAST_UPDATED: Final = "lu"
ENTITY_EVENT_ADD: Final = "a"
ENTITY_EVENT_CHANGE: Final = "c"
ENTITY_EVENT_REMOVE: Final = "r"
STATE_DIFF_ADDITIONS: Final = "+"
STATE_DIFF_REMOVALS: Final = "-"

MINIMAL_MESSAGE_SCHEMA: Final = vol.Schema(
    {vol.Required("id"): vol.All(int, vol.Range(min=1)), vol.Required("type"): str},
    extra=vol.ALLOW_EXTRA,
)
BASE_COMMAND_MESSAGE_SCHEMA: Final = vol.Schema(
    {vol.Required("id"): vol.All(int, vol.Range(min=1))}
)
"""What every command message has; :func:`websocket_command` extends it."""


def result_message(msg_id: int, result: Any = None) -> dict[str, Any]:
    """Return a success result."""
    return {"id": msg_id, "type": TYPE_RESULT, "success": True, "result": result}


def error_message(msg_id: int | None, code: str, message: str) -> dict[str, Any]:
    """Return an error result: ``{"id", "type": "result", "success": false, "error"}``."""
    return {
        "id": msg_id,
        "type": TYPE_RESULT,
        "success": False,
        "error": {"code": code, "message": message},
    }


def event_message(msg_id: int, event: Any) -> dict[str, Any]:
    """Return an event message of subscription ``msg_id``."""
    return {"id": msg_id, "type": "event", "event": event}


def message_to_json(message: Mapping[str, Any]) -> bytes:
    """Serialise a message; one that cannot be written becomes an ``unknown_error`` result."""
    try:
        return json_bytes(message)
    except TypeError as err:
        _LOGGER.error("Cannot serialise WebSocket message %s: %s", message.get("type"), err)
        return json_bytes(
            error_message(message.get("id"), ERR_UNKNOWN_ERROR, "Invalid JSON in response")
        )


def wrap_event(msg_id: int, body: bytes) -> bytes:
    """Return the event message of subscription ``msg_id`` around an already serialised body."""
    return b'{"id":%d,"type":"event","event":%b}' % (msg_id, body)


def wrap_result(msg_id: int, body: bytes) -> bytes:
    """Return a success result around an already serialised result."""
    return b'{"id":%d,"type":"result","success":true,"result":%b}' % (msg_id, body)


# ------------------------------------------------------------------ cached event bodies
@lru_cache(maxsize=256)
def event_body(event: Event[Any]) -> bytes | None:
    """Return the event's wire form, serialised once for every subscriber (None: unwritable)."""
    try:
        return json_bytes(event.as_dict())
    except TypeError as err:
        _LOGGER.error("Cannot serialise event %s for WebSocket clients: %s", event.event_type, err)
        return None


@lru_cache(maxsize=256)
def entity_event_body(event: Event[Any]) -> bytes | None:
    """Return the compressed ``subscribe_entities`` body of a ``state_changed`` event, once."""
    try:
        return json_bytes(state_diff_event(event))
    except TypeError as err:
        _LOGGER.error("Cannot serialise the state of %s: %s", event.data.get("entity_id"), err)
        return None


# ------------------------------------------------------------------ compressed states
def compressed_context(context: Context) -> str | dict[str, Any]:
    """Return a context as HA compresses it: its id alone when it has no user and no parent."""
    if context.user_id is None and context.parent_id is None:
        return context.id
    return context.as_dict()


def compressed_state(state: State) -> dict[str, Any]:
    """Return HA's compressed form of a state: ``s``, ``a``, ``c``, ``lc`` and maybe ``lu``."""
    compressed: dict[str, Any] = {
        COMPRESSED_STATE_STATE: state.state,
        # The cached wire form's attributes: a plain dict orjson writes without help.
        COMPRESSED_STATE_ATTRIBUTES: state.as_dict()["attributes"],
        COMPRESSED_STATE_CONTEXT: compressed_context(state.context),
        COMPRESSED_STATE_LAST_CHANGED: state.last_changed_timestamp,
    }
    if state.last_updated_timestamp != state.last_changed_timestamp:
        compressed[COMPRESSED_STATE_LAST_UPDATED] = state.last_updated_timestamp
    return compressed


def state_diff_event(event: Event[Any]) -> dict[str, Any]:
    """Return the compressed entity event of a ``state_changed`` event.

    ``{"a": {entity_id: compressed}}`` for a new entity, ``{"r": [entity_id]}`` for a removed
    one, else ``{"c": {entity_id: {"+": changed, "-": {"a": [removed attributes]}}}}``.
    """
    new_state: State | None = event.data["new_state"]
    if new_state is None:
        return {ENTITY_EVENT_REMOVE: [event.data["entity_id"]]}
    old_state: State | None = event.data["old_state"]
    if old_state is None:
        return {ENTITY_EVENT_ADD: {new_state.entity_id: compressed_state(new_state)}}
    return {ENTITY_EVENT_CHANGE: {new_state.entity_id: state_diff(old_state, new_state)}}


def state_diff(old_state: State, new_state: State) -> dict[str, Any]:
    """Return what changed from ``old_state`` to ``new_state`` in HA's ``+``/``-`` form."""
    additions: dict[str, Any] = {}
    diff: dict[str, Any] = {STATE_DIFF_ADDITIONS: additions}
    if old_state.state != new_state.state:
        additions[COMPRESSED_STATE_STATE] = new_state.state
    if old_state.last_changed_timestamp != new_state.last_changed_timestamp:
        additions[COMPRESSED_STATE_LAST_CHANGED] = new_state.last_changed_timestamp
    elif old_state.last_updated_timestamp != new_state.last_updated_timestamp:
        additions[COMPRESSED_STATE_LAST_UPDATED] = new_state.last_updated_timestamp
    old_context, new_context = old_state.context, new_state.context
    context: dict[str, Any] = {}
    if old_context.parent_id != new_context.parent_id:
        context["parent_id"] = new_context.parent_id
    if old_context.user_id != new_context.user_id:
        context["user_id"] = new_context.user_id
    if old_context.id != new_context.id:
        if context:
            context["id"] = new_context.id
        else:
            # Only the id changed: HA sends the bare id string.
            additions[COMPRESSED_STATE_CONTEXT] = new_context.id
    if context:
        additions[COMPRESSED_STATE_CONTEXT] = context
    old_attributes, new_attributes = old_state.attributes, new_state.attributes
    if old_attributes != new_attributes:
        changed = {
            key: value
            for key, value in new_attributes.items()
            if key not in old_attributes or old_attributes[key] != value
        }
        if changed:
            additions[COMPRESSED_STATE_ATTRIBUTES] = changed
        removed = [key for key in old_attributes if key not in new_attributes]
        if removed:
            diff[STATE_DIFF_REMOVALS] = {COMPRESSED_STATE_ATTRIBUTES: removed}
    return diff


def compressed_states_body(states: list[State]) -> bytes:
    """Return ``{"a": {entity_id: compressed, …}}`` for the first ``subscribe_entities`` event."""
    return json_bytes(
        {ENTITY_EVENT_ADD: {state.entity_id: compressed_state(state) for state in states}}
    )
