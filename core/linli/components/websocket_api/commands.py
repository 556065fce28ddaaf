"""Home Assistant's WebSocket commands, with Linli's permissions on every one.

Shapes follow Home Assistant 2024.3 (see :data:`~linli.components.websocket_api.const.HA_VERSION`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.components.http.hub_config import config_as_dict
from linli.components.websocket_api import const, messages
from linli.components.websocket_api.connection import ActiveConnection, async_register_command
from linli.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from linli.const import EVENT_STATE_CHANGED, MATCH_ALL
from linli.exceptions import (
    LinliError,
    ServiceNotFound,
    ServiceValidationError,
    Unauthorized,
)
from linli.services import SupportsResponse
from linli.util.json import json_bytes

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.services import Service
    from linli.template import RenderInfo

_LOGGER = logging.getLogger(__name__)


@callback
def async_register_commands(hub: Hub) -> None:
    """Register Home Assistant's commands."""
    for handler in (
        handle_ping,
        handle_supported_features,
        handle_current_user,
        handle_get_states,
        handle_get_config,
        handle_get_services,
        handle_subscribe_events,
        handle_unsubscribe_events,
        handle_subscribe_entities,
        handle_call_service,
        handle_fire_event,
        handle_subscribe_trigger,
        handle_render_template,
        handle_validate_config,
        handle_area_registry_list,
        handle_device_registry_list,
        handle_entity_registry_list,
        handle_trace_list,
        handle_trace_get,
    ):
        async_register_command(hub, handler)


# ---------------------------------------------------------------------- connection
@websocket_command({vol.Required("type"): "ping"})
@callback
def handle_ping(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Answer ``pong``."""
    connection.send_message(b'{"id":%d,"type":"pong"}' % msg["id"])


@websocket_command(
    {
        vol.Required("type"): "supported_features",
        vol.Required("features"): {str: vol.Any(int, bool)},
    }
)
@callback
def handle_supported_features(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Enable client features (``coalesce_messages``: several messages per frame, as an array)."""
    connection.async_set_supported_features(msg["features"])
    connection.send_result(msg["id"])


@websocket_command({vol.Required("type"): "auth/current_user"})
@callback
def handle_current_user(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return the connection's user (HA's shape, plus the Linli role and areas)."""
    user = connection.user
    connection.send_result(
        msg["id"],
        {
            "id": user.id,
            "name": user.name,
            "is_owner": False,
            "is_admin": connection.permissions.is_admin,
            "credentials": [],
            "mfa_modules": [],
            "role": str(user.role),
            "area_ids": list(user.area_ids),
            "person_id": user.person_id,
        },
    )


# ---------------------------------------------------------------------- states and config
@websocket_command({vol.Required("type"): "get_states"})
@callback
def handle_get_states(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return the states the user may read."""
    states = connection.permissions.filter_states(hub.states.async_all())
    body = json_bytes([state.as_dict() for state in states])
    connection.send_message(messages.wrap_result(msg["id"], body))


@websocket_command({vol.Required("type"): "get_config"})
@callback
def handle_get_config(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return the community's settings (``config_dir`` for admins only)."""
    connection.send_result(msg["id"], config_as_dict(hub, is_admin=connection.permissions.is_admin))


def _describe_service(name: str, service: Service) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    schema = getattr(service.schema, "schema", None)
    if isinstance(schema, dict):
        for key in schema:
            if isinstance(key, vol.Marker | str):
                fields[str(key)] = {"required": isinstance(key, vol.Required)}
    description: dict[str, Any] = {
        "name": name,
        "description": service.description,
        "fields": fields,
    }
    if service.supports_response is not SupportsResponse.NONE:
        description["response"] = {
            "optional": service.supports_response is SupportsResponse.OPTIONAL
        }
    return description


@websocket_command({vol.Required("type"): "get_services"})
@callback
def handle_get_services(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Describe every service: ``{domain: {service: {name, description, fields, response?}}}``."""
    connection.send_result(
        msg["id"],
        {
            domain: {name: _describe_service(name, service) for name, service in services.items()}
            for domain, services in hub.services.async_services().items()
        },
    )


# ---------------------------------------------------------------------- events
@websocket_command(
    {vol.Required("type"): "subscribe_events", vol.Optional("event_type", default=MATCH_ALL): str}
)
@callback
def handle_subscribe_events(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Forward events of a type (every type by default) the user may read."""
    msg_id: int = msg["id"]
    send = connection.send_bytes
    permissions = connection.permissions
    body_of = messages.event_body
    wrap = messages.wrap_event

    if permissions.is_admin:

        @callback
        def forward(event: Event[Any]) -> None:
            body = body_of(event)
            if body is not None:
                send(wrap(msg_id, body))

    else:
        can_read = permissions.can_read_event

        @callback
        def forward(event: Event[Any]) -> None:
            if can_read(event):
                body = body_of(event)
                if body is not None:
                    send(wrap(msg_id, body))

    connection.subscriptions[msg_id] = hub.bus.async_listen(
        msg["event_type"], forward, owner=const.DOMAIN
    )
    connection.send_result(msg_id)


@websocket_command({vol.Required("type"): "unsubscribe_events", vol.Required("subscription"): int})
@callback
def handle_unsubscribe_events(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """End a subscription made by any ``subscribe_*`` command of this connection."""
    unsubscribe = connection.subscriptions.pop(msg["subscription"], None)
    if unsubscribe is None:
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "Subscription not found.")
        return
    unsubscribe()
    connection.send_result(msg["id"])


@websocket_command(
    {vol.Required("type"): "subscribe_entities", vol.Optional("entity_ids"): cv.entity_ids}
)
@callback
def handle_subscribe_entities(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Send the readable states compressed, then their changes as compressed diffs."""
    msg_id: int = msg["id"]
    send = connection.send_bytes
    permissions = connection.permissions
    wanted: frozenset[str] | None = frozenset(msg.get("entity_ids") or ()) or None
    can_read: Callable[[str], bool] | None = (
        None if permissions.is_admin else permissions.can_read_entity
    )
    body_of = messages.entity_event_body
    wrap = messages.wrap_event

    @callback
    def forward(event: Event[Any]) -> None:
        entity_id = event.data["entity_id"]
        if (wanted is not None and entity_id not in wanted) or (
            can_read is not None and not can_read(entity_id)
        ):
            return
        body = body_of(event)
        if body is not None:
            send(wrap(msg_id, body))

    connection.subscriptions[msg_id] = hub.bus.async_listen(
        EVENT_STATE_CHANGED, forward, owner=const.DOMAIN
    )
    connection.send_result(msg_id)
    states = permissions.filter_states(
        hub.states.async_all()
        if wanted is None
        else [state for eid in wanted if (state := hub.states.get(eid)) is not None]
    )
    send(wrap(msg_id, messages.compressed_states_body(states)))


@websocket_command(
    {
        vol.Required("type"): "fire_event",
        vol.Required("event_type"): str,
        vol.Optional("event_data"): dict,
    }
)
@require_admin
@callback
def handle_fire_event(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Fire an event as the user (admins only, as HA)."""
    context = connection.context(msg)
    hub.bus.async_fire(msg["event_type"], msg.get("event_data"), context=context)
    connection.send_result(msg["id"], {"context": context})


# ---------------------------------------------------------------------- services
TARGET_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("entity_id"): cv.entity_ids_or_match_all,
        vol.Optional("device_id"): vol.Any(str, [str]),
        vol.Optional("area_id"): vol.Any(str, [str]),
        vol.Optional("floor_id"): vol.Any(str, [str]),
        vol.Optional("label_id"): vol.Any(str, [str]),
    }
)


@websocket_command(
    {
        vol.Required("type"): "call_service",
        vol.Required("domain"): str,
        vol.Required("service"): str,
        vol.Optional("target"): TARGET_SCHEMA,
        vol.Optional("service_data"): dict,
        vol.Optional("return_response", default=False): bool,
    }
)
@async_response
async def handle_call_service(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Call a service as the user; the core checks the user may (``unauthorized`` if not)."""
    msg_id: int = msg["id"]
    domain, service = msg["domain"], msg["service"]
    data = dict(msg.get("service_data") or {})
    if target := msg.get("target"):
        data.update(target)
    context = connection.context(msg)
    try:
        response = await hub.services.async_call(
            domain,
            service,
            data,
            blocking=True,
            context=context,
            return_response=msg["return_response"],
        )
    except ServiceNotFound as err:
        if err.domain == domain.lower() and err.service == service.lower():
            connection.send_error(
                msg_id, const.ERR_NOT_FOUND, f"Service {domain}.{service} not found."
            )
        else:  # the service called another one that does not exist
            connection.send_error(
                msg_id,
                const.ERR_HOME_ASSISTANT_ERROR,
                f"Service {err.domain}.{err.service} called service {domain}.{service} "
                "which was not found.",
            )
    except Unauthorized:
        connection.send_error(msg_id, const.ERR_UNAUTHORIZED, "Unauthorized")
    except ServiceValidationError as err:
        if isinstance(err.__cause__, vol.Invalid):  # the service's schema refused the data
            connection.send_error(msg_id, const.ERR_INVALID_FORMAT, str(err))
        else:
            connection.send_error(
                msg_id, const.ERR_SERVICE_VALIDATION_ERROR, f"Validation error: {err}"
            )
    except vol.Invalid as err:
        connection.send_error(msg_id, const.ERR_INVALID_FORMAT, str(err))
    except LinliError as err:
        connection.send_error(msg_id, const.ERR_HOME_ASSISTANT_ERROR, str(err))
    except Exception as err:
        _LOGGER.exception("Error calling %s.%s over the WebSocket API", domain, service)
        connection.send_error(msg_id, const.ERR_UNKNOWN_ERROR, str(err) or "Unknown error")
    else:
        result: dict[str, Any] = {"context": context}
        if msg["return_response"]:
            result["response"] = response
        connection.send_result(msg_id, result)


# ---------------------------------------------------------------------- automation tools
@websocket_command(
    {
        vol.Required("type"): "subscribe_trigger",
        vol.Required("trigger"): object,
        vol.Optional("variables"): dict,
    }
)
@require_admin
@async_response
async def handle_subscribe_trigger(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Attach triggers; send ``{"variables": {"trigger": …}, "context"}`` each time one fires."""
    from linli.helpers.trace import json_safe
    from linli.helpers.trigger import async_initialize_triggers, valid_triggers

    msg_id: int = msg["id"]
    configs = valid_triggers(msg["trigger"])

    @callback
    def forward(variables: dict[str, Any], context: Any = None) -> None:
        payload = {"variables": variables, "context": context}
        try:
            body = json_bytes(payload)
        except TypeError:
            body = json_bytes(json_safe(payload))
        connection.send_message(messages.wrap_event(msg_id, body))

    remove = await async_initialize_triggers(
        hub,
        configs,
        forward,
        name=f"WebSocket subscription {msg_id} of user {connection.user.id}",
        variables=msg.get("variables"),
        hub_start=False,
    )
    connection.subscriptions[msg_id] = remove
    connection.send_result(msg_id)


@websocket_command(
    {
        vol.Required("type"): "render_template",
        vol.Required("template"): str,
        vol.Optional("entity_ids"): cv.entity_ids,
        vol.Optional("variables"): dict,
        vol.Optional("timeout"): vol.Coerce(float),
        vol.Optional("strict", default=False): bool,
        vol.Optional("report_errors", default=False): bool,
        vol.Optional("subscribe", default=True): bool,
    }
)
@require_admin
@callback
def handle_render_template(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Render a template and send ``{"result", "listeners"}``; re-render when what it read changes.

    As HA: the result comes as an event of the subscription, again whenever an entity the
    template read (or one of ``entity_ids``) changes the result, and every minute for templates
    that read the time; an error on the first render is a ``template_error`` result, later
    ones are events ``{"error", "level"}`` with ``report_errors``. Linli adds
    ``subscribe: false``: one render, then the subscription ends by itself.
    """
    from linli.template import Template, TemplateError

    msg_id: int = msg["id"]
    template = Template(msg["template"], hub)
    variables: dict[str, Any] = msg.get("variables") or {}
    extra_entities = frozenset(msg.get("entity_ids") or ())
    report_errors: bool = msg["report_errors"]
    try:
        template.ensure_valid()
    except TemplateError as err:
        connection.send_error(msg_id, const.ERR_TEMPLATE_ERROR, str(err))
        return
    info = template.async_render_to_info(variables)
    if info.exception is not None:
        connection.send_error(msg_id, const.ERR_TEMPLATE_ERROR, str(info.exception))
        return
    connection.send_result(msg_id)
    connection.send_event(
        msg_id, {"result": info.result, "listeners": _listeners(info, extra_entities)}
    )
    if not msg["subscribe"] or template.is_static:
        if msg["subscribe"]:
            connection.subscriptions[msg_id] = lambda: None
        return

    state: dict[str, Any] = {"info": info}

    @callback
    def rerender(_arg: Any = None) -> None:
        previous: RenderInfo = state["info"]
        new = template.async_render_to_info(variables)
        state["info"] = new
        if new.exception is not None:
            _LOGGER.debug("Template of subscription %s failed: %s", msg_id, new.exception)
            if report_errors:
                connection.send_event(msg_id, {"error": str(new.exception), "level": "ERROR"})
            return
        if previous.exception is None and new.result == previous.result:
            return
        connection.send_event(
            msg_id, {"result": new.result, "listeners": _listeners(new, extra_entities)}
        )

    @callback
    def on_state_changed(event: Event[Any]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id in extra_entities or state["info"].matches(entity_id):
            rerender()

    removers = [hub.bus.async_listen(EVENT_STATE_CHANGED, on_state_changed, owner=const.DOMAIN)]
    if info.has_time:
        removers.append(hub.async_track_time_interval(rerender, const.TEMPLATE_TIME_INTERVAL))

    @callback
    def unsubscribe() -> None:
        for remove in removers:
            remove()

    connection.subscriptions[msg_id] = unsubscribe


def _listeners(info: RenderInfo, extra_entities: frozenset[str]) -> dict[str, Any]:
    return {
        "all": info.all_states,
        "entities": sorted(info.entities | extra_entities),
        "domains": sorted(info.domains),
        "time": info.has_time,
    }


@websocket_command(
    {
        vol.Required("type"): "validate_config",
        vol.Optional("trigger"): object,
        vol.Optional("condition"): object,
        vol.Optional("action"): object,
    }
)
@async_response
async def handle_validate_config(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Check triggers, conditions and actions: ``{key: {"valid", "error"}}`` for each given."""
    from linli.helpers.condition import valid_conditions
    from linli.helpers.script import valid_actions
    from linli.helpers.trigger import async_validate_trigger_config, valid_triggers

    result: dict[str, Any] = {}
    for key in ("trigger", "condition", "action"):
        if key not in msg:
            continue
        try:
            if key == "trigger":
                await async_validate_trigger_config(hub, valid_triggers(msg[key]))
            elif key == "condition":
                valid_conditions(msg[key])
            else:
                valid_actions(msg[key])
        except (vol.Invalid, LinliError) as err:
            result[key] = {"valid": False, "error": str(err)}
        else:
            result[key] = {"valid": True, "error": None}
    connection.send_result(msg["id"], result)


# ---------------------------------------------------------------------- registries
@websocket_command({vol.Required("type"): "config/area_registry/list"})
@callback
def handle_area_registry_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List the areas in the user's scope (HA's fields plus the tree: kind, parent, names)."""
    permissions = connection.permissions
    connection.send_result(
        msg["id"],
        [
            {
                "area_id": area.id,
                "name": area.name,
                "aliases": [],
                "floor_id": None,
                "icon": None,
                "labels": [],
                "picture": None,
                "kind": str(area.kind),
                "parent_id": area.parent_id,
                "names": dict(area.names),
                "floor_number": area.floor_number,
            }
            for area in hub.registries.areas
            if permissions.area_in_scope(area.id)
        ],
    )


@websocket_command({vol.Required("type"): "config/device_registry/list"})
@callback
def handle_device_registry_list(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the devices whose area is in the user's scope (HA's fields)."""
    permissions = connection.permissions
    connection.send_result(
        msg["id"],
        [
            {
                "id": device.id,
                "area_id": device.area_id,
                "config_entries": [],
                "configuration_url": None,
                "connections": sorted([list(pair) for pair in device.connections]),
                "disabled_by": device.disabled_by,
                "entry_type": None,
                "hw_version": device.hw_version,
                "identifiers": sorted([list(pair) for pair in device.identifiers]),
                "labels": [],
                "manufacturer": device.manufacturer,
                "model": device.model,
                "name_by_user": device.name_by_user,
                "name": device.name,
                "serial_number": device.serial_number,
                "sw_version": device.sw_version,
                "via_device_id": device.via_device_id,
                "integration": device.integration,
            }
            for device in hub.registries.devices
            if permissions.area_in_scope(device.area_id)
        ],
    )


@websocket_command({vol.Required("type"): "config/entity_registry/list"})
@callback
def handle_entity_registry_list(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the registered entities the user may read (HA's fields)."""
    can_read = connection.permissions.can_read_entity
    connection.send_result(
        msg["id"],
        [
            {
                "area_id": entry.area_id,
                "config_entry_id": None,
                "device_id": entry.device_id,
                "disabled_by": entry.disabled_by,
                "entity_category": None,
                "entity_id": entry.entity_id,
                "has_entity_name": False,
                "hidden_by": entry.hidden_by,
                "icon": entry.icon,
                "id": entry.entity_id,
                "labels": [],
                "name": entry.name,
                "options": {},
                "original_name": entry.original_name,
                "platform": entry.platform,
                "translation_key": None,
                "unique_id": entry.unique_id,
            }
            for entry in hub.registries.entities
            if can_read(entry.entity_id)
        ],
    )


# ---------------------------------------------------------------------- traces
_TRACE_DOMAINS: Final = vol.In(["automation", "script"])


def _trace_summary(trace: Any) -> dict[str, Any]:
    data = trace.as_dict()
    trigger = data.get("trigger") or {}
    summary = {
        key: data[key]
        for key in (
            "run_id",
            "domain",
            "item_id",
            "state",
            "script_execution",
            "timestamp",
            "last_step",
            "error",
        )
    }
    summary["trigger"] = trigger.get("description") if isinstance(trigger, dict) else None
    summary["context"] = data.get("context")
    return summary


@websocket_command(
    {
        vol.Required("type"): "trace/list",
        vol.Required("domain"): _TRACE_DOMAINS,
        vol.Optional("item_id"): str,
    }
)
@require_admin
@callback
def handle_trace_list(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Summarise the stored traces of a domain, or of one item (admins only, as HA)."""
    from linli.helpers.trace import get_trace_store

    store = get_trace_store(hub)
    item_ids = [msg["item_id"]] if "item_id" in msg else store.items()
    connection.send_result(
        msg["id"],
        [
            _trace_summary(trace)
            for item_id in item_ids
            for trace in store.get(item_id)
            if trace.domain == msg["domain"]
        ],
    )


@websocket_command(
    {
        vol.Required("type"): "trace/get",
        vol.Required("domain"): _TRACE_DOMAINS,
        vol.Required("item_id"): str,
        vol.Required("run_id"): str,
    }
)
@require_admin
@callback
def handle_trace_get(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return one run's trace; ``trace`` groups its steps by path, as HA's frontend reads it."""
    from linli.helpers.trace import get_trace_store, json_safe

    trace = get_trace_store(hub).get_run(msg["item_id"], msg["run_id"])
    if trace is None or trace.domain != msg["domain"]:
        connection.send_error(msg["id"], const.ERR_NOT_FOUND, "The trace could not be found")
        return
    data = json_safe(trace.as_dict())
    by_path: dict[str, list[dict[str, Any]]] = {}
    for step in data.get("steps") or ():
        by_path.setdefault(step["path"], []).append(step)
    data["trace"] = by_path
    connection.send_result(msg["id"], data)
