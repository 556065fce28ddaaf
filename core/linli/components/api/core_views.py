"""Home Assistant's REST endpoints: status, config, states, services, events, template, checks."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from linli.bus import Event, EventOrigin
from linli.callback import callback
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    KEY_USER,
    BadRequest,
    HubView,
    context_for,
    json_message,
    json_response,
    read_json,
)
from linli.components.http.hub_config import config_as_dict
from linli.const import EVENT_STATE_CHANGED, MAX_STATE_LENGTH
from linli.exceptions import LinliError, ServiceNotFound, ServiceValidationError, Unauthorized
from linli.services import SupportsResponse
from linli.state import State, valid_entity_id
from linli.util.json import json_bytes

if TYPE_CHECKING:
    from linli.auth import Permissions
    from linli.components.api.error_log import RingHandler
    from linli.hub import Hub

CONTENT_TYPE_JSON: Final = "application/json"
MAX_EVENT_TYPE_LENGTH: Final = 64


def require_admin(request: web.Request) -> None:
    """Raise :class:`Unauthorized` (403) unless the request's user is an admin."""
    if not request[KEY_PERMISSIONS].is_admin:
        raise Unauthorized(user_id=request[KEY_USER].id, permission="admin")


class APIStatusView(HubView):
    """``GET /api/``: whether the API runs."""

    url = "/api/"
    name = "api:status"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Say that the API runs."""
        return json_message("API running.")


class APIConfigView(HubView):
    """``GET /api/config``: the community's settings in Home Assistant's shape."""

    url = "/api/config"
    name = "api:config"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the configuration (``config_dir`` only for admins)."""
        hub: Hub = request.app[KEY_HUB]
        return json_response(config_as_dict(hub, is_admin=request[KEY_PERMISSIONS].is_admin))


class StateJsonCache:
    """Each state's JSON, made once per State object (states are immutable)."""

    def __init__(self) -> None:
        """Start empty."""
        self._cache: dict[str, tuple[State, bytes]] = {}

    def fragment(self, state: State) -> bytes:
        """Return ``state`` as JSON bytes."""
        hit = self._cache.get(state.entity_id)
        if hit is not None and hit[0] is state:
            return hit[1]
        data = json_bytes(state.as_dict())
        self._cache[state.entity_id] = (state, data)
        return data

    def array(self, states: list[State]) -> bytes:
        """Return a JSON array of ``states``; forget entities that are gone now and then."""
        if len(self._cache) > 2 * len(states) + 1000:
            live = {state.entity_id for state in states}
            self._cache = {k: v for k, v in self._cache.items() if k in live}
        cache = self._cache
        parts: list[bytes] = []
        append = parts.append
        for state in states:  # the hot loop of GET /api/states: kept inline
            hit = cache.get(state.entity_id)
            if hit is None or hit[0] is not state:
                hit = cache[state.entity_id] = (state, json_bytes(state.as_dict()))
            append(hit[1])
        return b"[" + b",".join(parts) + b"]"


class APIStatesView(HubView):
    """``GET /api/states``: every state the user may read."""

    url = "/api/states"
    name = "api:states"

    def __init__(self, cache: StateJsonCache) -> None:
        """Serialise through ``cache``."""
        self.cache = cache

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the readable states."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        states = hub.states.async_all()
        if not permissions.is_admin:
            states = permissions.filter_states(states)
        return web.Response(body=self.cache.array(states), content_type=CONTENT_TYPE_JSON)


class APIEntityStateView(HubView):
    """``/api/states/<entity_id>``: read (any reader), set and remove (admins)."""

    url = "/api/states/{entity_id}"
    name = "api:entity-state"

    def __init__(self, cache: StateJsonCache) -> None:
        """Serialise through ``cache``."""
        self.cache = cache

    async def get(self, request: web.Request, entity_id: str) -> web.StreamResponse:
        """Return the state; 404 when missing *or* not readable (existence is not revealed)."""
        hub: Hub = request.app[KEY_HUB]
        state = hub.states.get(entity_id)
        if state is None or not request[KEY_PERMISSIONS].can_read_entity(entity_id):
            return json_message("Entity not found.", HTTPStatus.NOT_FOUND)
        return web.Response(body=self.cache.fragment(state), content_type=CONTENT_TYPE_JSON)

    async def post(self, request: web.Request, entity_id: str) -> web.StreamResponse:
        """Set a state: 201 with Location when it is new, else 200."""
        require_admin(request)
        hub: Hub = request.app[KEY_HUB]
        data = await read_json(request, what="State data")
        if not isinstance(data, dict):
            raise BadRequest("State data should be a JSON object.")
        if not valid_entity_id(entity_id):
            raise BadRequest("Invalid entity ID specified.")
        new_state = data.get("state")
        if new_state is None:
            raise BadRequest("No state attribute specified.")
        if isinstance(new_state, bool) or not isinstance(new_state, str | int | float):
            raise BadRequest("Invalid state specified.")
        new_state = str(new_state)
        if len(new_state) > MAX_STATE_LENGTH:
            raise BadRequest("Invalid state specified.")
        attributes = data.get("attributes")
        if attributes is not None and not isinstance(attributes, dict):
            raise BadRequest("Attributes should be a JSON object.")
        force_update = data.get("force_update", False)
        if not isinstance(force_update, bool):
            raise BadRequest("force_update should be true or false.")
        is_new = hub.states.get(entity_id) is None
        hub.states.async_set(entity_id, new_state, attributes, force_update, context_for(request))
        state = hub.states.get(entity_id)
        assert state is not None
        return json_response(
            state.as_dict(),
            HTTPStatus.CREATED if is_new else HTTPStatus.OK,
            headers={"Location": f"/api/states/{entity_id}"},
        )

    async def delete(self, request: web.Request, entity_id: str) -> web.StreamResponse:
        """Remove a state."""
        require_admin(request)
        hub: Hub = request.app[KEY_HUB]
        if hub.states.async_remove(entity_id, context_for(request)):
            return json_message("Entity removed.")
        return json_message("Entity not found.", HTTPStatus.NOT_FOUND)


class APIEventListenersView(HubView):
    """``GET /api/events``: each event type and its listener count (admins)."""

    url = "/api/events"
    name = "api:event-listeners"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the listener counts."""
        require_admin(request)
        hub: Hub = request.app[KEY_HUB]
        return json_response(
            [
                {"event": event_type, "listener_count": count}
                for event_type, count in hub.bus.async_listeners().items()
            ]
        )


class APIEventView(HubView):
    """``POST /api/events/<event_type>``: fire an event (admins)."""

    url = "/api/events/{event_type}"
    name = "api:event"

    async def post(self, request: web.Request, event_type: str) -> web.StreamResponse:
        """Fire ``event_type`` with the body as its data."""
        require_admin(request)
        data = await read_json(request, what="Event data")
        if data is not None and not isinstance(data, dict):
            raise BadRequest("Event data should be a JSON object")
        if not event_type or len(event_type) > MAX_EVENT_TYPE_LENGTH:
            raise BadRequest(f"Event type must be 1 to {MAX_EVENT_TYPE_LENGTH} characters.")
        if event_type == EVENT_STATE_CHANGED:
            raise BadRequest(
                "state_changed cannot be fired through the API; POST /api/states/<entity_id>."
            )
        hub: Hub = request.app[KEY_HUB]
        hub.bus.async_fire(event_type, data, EventOrigin.remote, context_for(request))
        return json_message(f"Event {event_type} fired.")


class APIServicesView(HubView):
    """``GET /api/services``: every service, by domain, in Home Assistant's shape."""

    url = "/api/services"
    name = "api:services"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the service descriptions."""
        hub: Hub = request.app[KEY_HUB]
        result = []
        for domain, services in sorted(hub.services.async_services().items()):
            described: dict[str, Any] = {}
            for name, service in sorted(services.items()):
                entry: dict[str, Any] = {
                    "name": name.replace("_", " ").capitalize(),
                    "description": service.description,
                    "fields": {},
                }
                if service.supports_response is not SupportsResponse.NONE:
                    entry["response"] = {
                        "optional": service.supports_response is SupportsResponse.OPTIONAL
                    }
                described[name] = entry
            result.append({"domain": domain, "services": described})
        return json_response(result)


def target_entity_ids(data: Mapping[str, Any]) -> list[str]:
    """The entity ids a call's data names directly (``entity_id`` and ``target.entity_id``)."""
    found: list[str] = []
    for source in (data, data.get("target")):
        if not isinstance(source, Mapping):
            continue
        value = source.get("entity_id")
        if isinstance(value, str):
            found += [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list):
            found += [item for item in value if isinstance(item, str)]
    return found


class APIDomainServicesView(HubView):
    """``POST /api/services/<domain>/<service>``: call a service as the request's user."""

    url = "/api/services/{domain}/{service}"
    name = "api:domain-services"

    async def post(self, request: web.Request, domain: str, service: str) -> web.StreamResponse:
        """Call the service; return the states it changed (and its response if asked)."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        data = await read_json(request)
        if data is not None and not isinstance(data, dict):
            raise BadRequest("Data should be a JSON object.")
        data = data or {}
        registered = hub.services.async_services().get(domain.lower(), {}).get(service.lower())
        if registered is None:
            raise BadRequest(f"Service {domain}.{service} not found.")
        want_response = "return_response" in request.query
        if want_response and registered.supports_response is SupportsResponse.NONE:
            raise BadRequest(
                "Service does not support responses. Remove return_response from request."
            )
        if not want_response and registered.supports_response is SupportsResponse.ONLY:
            raise BadRequest(
                "Service call requires responses but caller did not ask for responses. "
                "Add ?return_response to query parameters."
            )
        # The core checks every call made with a user's context (areas expanded); this only
        # refuses early what it would refuse anyway: an explicit entity the user may not control.
        named = target_entity_ids(data)
        if named and not all(permissions.can_control_entity(e) for e in named):
            raise Unauthorized(user_id=permissions.user.id, permission="control")
        context = context_for(request)
        changed: list[State] = []

        @callback
        def collect(event: Event[Any]) -> None:
            new_state = event.data.get("new_state")
            if new_state is not None and event.context == context:
                changed.append(new_state)

        remove = hub.bus.async_listen(EVENT_STATE_CHANGED, collect, owner="api")
        try:
            response = await hub.services.async_call(
                domain, service, data, True, context, return_response=want_response
            )
        except (ServiceNotFound, ServiceValidationError) as err:
            raise BadRequest(str(err)) from err
        except Unauthorized:
            raise
        except LinliError as err:
            raise BadRequest(str(err)) from err
        finally:
            remove()
        readable = permissions.filter_states(changed)
        if want_response:
            return json_response({"changed_states": readable, "service_response": response})
        return json_response(readable)


class APITemplateView(HubView):
    """``POST /api/template``: render a template (admins); the text is returned as is."""

    url = "/api/template"
    name = "api:template"

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Render ``{"template": …, "variables": {…}}``."""
        from linli.template import Template, TemplateError

        require_admin(request)
        data = await read_json(request, what="Template data")
        if not isinstance(data, dict):
            raise BadRequest("Template data should be a JSON object")
        source = data.get("template")
        variables = data.get("variables")
        if not isinstance(source, str):
            raise BadRequest("Error rendering template: 'template' should be a string")
        if variables is not None and not isinstance(variables, dict):
            raise BadRequest("Error rendering template: 'variables' should be a JSON object")
        try:
            result = Template(source, request.app[KEY_HUB]).async_render(
                variables, parse_result=False
            )
        except TemplateError as err:
            raise BadRequest(f"Error rendering template: {err}") from err
        return web.Response(text=str(result), content_type="text/plain")


class APICheckConfigView(HubView):
    """``POST /api/config/core/check_config``: check configuration.yaml (admins)."""

    url = "/api/config/core/check_config"
    name = "api:config:core:check_config"

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Return ``{"result": "valid"|"invalid", "errors": …, "warnings": None}``."""
        from linli.bootstrap import check_config_dir

        require_admin(request)
        hub: Hub = request.app[KEY_HUB]
        plugins = list(hub.loader.plugin_manager.list_name_plugin()) if hub.loader else []
        issues = await hub.async_add_executor_job(check_config_dir, hub.config_dir, plugins)
        if not issues:
            return json_response({"result": "valid", "errors": None, "warnings": None})
        return json_response(
            {
                "result": "invalid",
                "errors": "\n".join(str(issue) for issue in issues),
                "warnings": None,
            }
        )


class APIErrorLogView(HubView):
    """``GET /api/error_log``: the hub's recent warnings and errors, as text (admins)."""

    url = "/api/error_log"
    name = "api:error_log"

    def __init__(self, ring: RingHandler) -> None:
        """Read the lines ``ring`` kept."""
        self.ring = ring

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Return the kept log lines, oldest first."""
        require_admin(request)
        return web.Response(text=self.ring.text(), content_type="text/plain")
