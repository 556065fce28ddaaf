"""The service registry: named actions (``domain.service``) with schemas and responses."""

from __future__ import annotations

import difflib
import inspect
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from linli.bus import current_owner
from linli.callback import callback, is_callback
from linli.const import EVENT_CALL_SERVICE, EVENT_SERVICE_REGISTERED, EVENT_SERVICE_REMOVED
from linli.context import Context
from linli.exceptions import LinliError, ServiceNotFound, ServiceValidationError

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

ServiceResponse = dict[str, Any] | None
ServiceHandler = Callable[["ServiceCall"], Coroutine[Any, Any, ServiceResponse] | ServiceResponse]
PermissionCheck = Callable[[str, str, Mapping[str, Any], Context], None]
"""``check(domain, service, data, context)``: raise Unauthorized to refuse a user's call."""


class SupportsResponse(StrEnum):
    """Whether a service returns data to its caller."""

    NONE = "none"
    """Never returns data."""
    OPTIONAL = "optional"
    """Returns data when the caller asks for it."""
    ONLY = "only"
    """Only returns data; the caller must ask for it."""


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One call of a service: what, with which (validated) data, why, and whether to answer."""

    domain: str
    service: str
    data: Mapping[str, Any] = field(default_factory=dict)
    context: Context = field(default_factory=Context)
    return_response: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    """A registered service."""

    handler: ServiceHandler
    schema: vol.Schema | None
    supports_response: SupportsResponse
    owner: str
    description: str = ""


class ServiceRegistry:
    """Register services, describe them and call them."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}
        self.permission_check: PermissionCheck | None = None
        """Set by the auth: checks calls made for a user (``context.user_id``) before they run."""

    @callback
    def async_register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: vol.Schema | None = None,
        supports_response: SupportsResponse = SupportsResponse.NONE,
        description: str = "",
        owner: str | None = None,
    ) -> None:
        """Register ``domain.service``; a second registration replaces the first."""
        domain, service = domain.lower(), service.lower()
        self._services.setdefault(domain, {})[service] = Service(
            handler, schema, supports_response, owner or current_owner.get() or domain, description
        )
        self._hub.bus.async_fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})

    @callback
    def async_remove(self, domain: str, service: str) -> None:
        """Remove ``domain.service`` if it is registered."""
        domain, service = domain.lower(), service.lower()
        services = self._services.get(domain)
        if services is None or services.pop(service, None) is None:
            return
        if not services:
            del self._services[domain]
        self._hub.bus.async_fire(EVENT_SERVICE_REMOVED, {"domain": domain, "service": service})

    @callback
    def async_remove_owner(self, owner: str) -> int:
        """Remove every service ``owner`` registered; return how many."""
        doomed = [
            (domain, name)
            for domain, services in self._services.items()
            for name, item in services.items()
            if item.owner == owner
        ]
        for domain, name in doomed:
            self.async_remove(domain, name)
        return len(doomed)

    @callback
    def has_service(self, domain: str, service: str) -> bool:
        """Return whether ``domain.service`` is registered."""
        return service.lower() in self._services.get(domain.lower(), {})

    @callback
    def async_services(self) -> dict[str, dict[str, Service]]:
        """Return every registered service, by domain."""
        return {domain: dict(services) for domain, services in self._services.items()}

    def _lookup(self, domain: str, service: str) -> Service:
        try:
            return self._services[domain][service]
        except KeyError:
            known = [f"{d}.{s}" for d, items in self._services.items() for s in items]
            close = difflib.get_close_matches(f"{domain}.{service}", known, n=1)
            raise ServiceNotFound(domain, service, close[0] if close else None) from None

    async def async_call(
        self,
        domain: str,
        service: str,
        service_data: Mapping[str, Any] | None = None,
        blocking: bool = True,
        context: Context | None = None,
        return_response: bool = False,
    ) -> ServiceResponse:
        """Call ``domain.service`` with ``service_data``.

        The data is validated against the service's schema first
        (:class:`~linli.exceptions.ServiceValidationError` names the bad key). With
        ``blocking`` the call returns once the handler has finished; otherwise it is
        started as a task and None is returned. With ``return_response`` (which needs
        ``blocking``) the handler's response is returned. A call made for a user
        (``context.user_id``) is checked against that user's permissions first
        (:class:`~linli.exceptions.Unauthorized`).
        """
        domain, service = domain.lower(), service.lower()
        handler = self._lookup(domain, service)
        if return_response:
            if not blocking:
                raise LinliError("A call that returns a response must be blocking")
            if handler.supports_response is SupportsResponse.NONE:
                raise LinliError(f"Service {domain}.{service} does not return a response")
        elif handler.supports_response is SupportsResponse.ONLY:
            raise LinliError(
                f"Service {domain}.{service} only returns a response: call it with return_response"
            )
        data: Mapping[str, Any] = dict(service_data or {})
        if handler.schema is not None:
            try:
                data = handler.schema(data)
            except vol.Invalid as err:
                raise ServiceValidationError(
                    f"Invalid data for {domain}.{service}: {_describe_invalid(err)}"
                ) from err
        context = context or Context()
        if context.user_id is not None and self.permission_check is not None:
            # Calls without a user (automations, the system) are not checked.
            self.permission_check(domain, service, data, context)
        call = ServiceCall(domain, service, data, context, return_response)
        self._hub.bus.async_fire(
            EVENT_CALL_SERVICE,
            {"domain": domain, "service": service, "service_data": data},
            context=context,
        )
        if not blocking:
            self._hub.async_create_task(
                self._run_logged(handler, call), f"service call {domain}.{service}"
            )
            return None
        response = await self._run(handler, call)
        if return_response:
            if response is not None and not isinstance(response, dict):
                raise LinliError(f"Service {domain}.{service} returned a non-dict response")
            return response
        return None

    async def _run(self, handler: Service, call: ServiceCall) -> ServiceResponse:
        func = handler.handler
        if inspect.iscoroutinefunction(func):
            return await func(call)  # type: ignore[no-any-return]
        if is_callback(func):
            return func(call)  # type: ignore[return-value]
        return await self._hub.async_add_executor_job(func, call)  # type: ignore[arg-type]

    async def _run_logged(self, handler: Service, call: ServiceCall) -> None:
        try:
            await self._run(handler, call)
        except Exception:
            _LOGGER.exception(
                "Error in %s handling service %s.%s", handler.owner, call.domain, call.service
            )


def _describe_invalid(err: vol.Invalid) -> str:
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for item in errors:
        path = ".".join(str(p) for p in item.path)
        parts.append(f"{path}: {item.msg}" if path else str(item.msg))
    return "; ".join(parts)
