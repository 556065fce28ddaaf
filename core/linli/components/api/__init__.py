"""The REST API, bundled with the core as the ``api`` integration.

Home Assistant's endpoints with the same JSON shapes and status codes, so its clients work,
and Linli's own under ``/api/linli/`` (described by ``/api/linli/openapi.json``). Every
request but the OpenAPI document needs ``Authorization: Bearer <token>``; without a valid one
the answer is 401 ``401: Unauthorized``.

Who may use what (✓ allowed; "filtered": answered, with only what the user may read;
403 ``{"message": "Forbidden."}``)::

    endpoint                                   admin  staff/grid_worker  police  resident
    GET    /api/                               ✓      ✓                  ✓       ✓
    GET    /api/config                         ✓      ✓ (no config_dir)  ✓ (…)   ✓ (…)
    GET    /api/states                         ✓      filtered           [] ¹    filtered
    GET    /api/states/<entity_id>             ✓      ✓ or 404 ²         404 ²   ✓ or 404 ²
    POST   /api/states/<entity_id>             ✓      403                403     403
    DELETE /api/states/<entity_id>             ✓      403                403     403
    GET    /api/services                       ✓      ✓                  ✓       ✓
    POST   /api/services/<domain>/<service>    ✓      core check ³       core ³  core ³
    GET    /api/events                         ✓      403                403     403
    POST   /api/events/<event_type>            ✓      403                403     403
    GET    /api/history/period[/<start>]       ✓      filtered           [] ¹    filtered
    GET    /api/logbook[/<start>]              ✓      filtered           [] ¹    filtered
    POST   /api/template                       ✓      403                403     403
    POST   /api/config/core/check_config       ✓      403                403     403
    GET    /api/error_log                      ✓      403                403     403
    GET    /api/linli/me                       ✓      ✓                  ✓       ✓
    GET    /api/linli/alerts[/<id>]            ✓      in scope ²         in scope ²  their rooms ²
    POST   /api/linli/alerts/<id>/acknowledge|resolve
                                               ✓      in scope ²         in scope ²  403 ²
    POST   /api/linli/alerts/<id>/assign       ✓      in scope ²         403 ²   403 ²
    GET    /api/linli/households[/<id>]        ✓      in scope ² ⁴       [] / 404  their own ²
    GET    /api/linli/consents[/<id>]          ✓      in scope ² ⁴       404     their household ²
    POST   /api/linli/consents                 ✓      in scope ²         403     their household ²
    POST   /api/linli/consents/<id>/withdraw   ✓      in scope ²         404 ²   their household ²
    GET    /api/linli/users                    ✓      403                403     403
    GET    /api/linli/persons/<id>/export      ✓      in scope ² ⁵       404     their household ²
    GET    /api/linli/privacy/data_kinds       ✓      ✓                  ✓       ✓
    GET    /api/linli/notices                  ✓      addressed to them ⁶  (all roles)
    POST   /api/linli/notices                  ✓      in scope ⁶         403     403
    GET    /api/linli/openapi.json             public

¹ police see no entity states (their view is alerts and, later, what the police link forwards).
² something the user may not read answers 404, the same as something that does not exist, so
  ids outside one's scope cannot be probed (Home Assistant answers 404 for a missing entity;
  403 there would confirm the entity exists).
³ the call carries ``Context(user_id)``; the core's service check refuses targets outside the
  user's scope and non-entity services for non-admins (403); an explicitly named entity the
  user may not control is refused here first. ``changed_states`` lists readable states only.
⁴ reads of households, members and consents by staff, grid workers and police are written to
  the audit log (``read_personal_data``).
⁵ served by the bundled ``privacy`` integration; every export is audited
  (``export_personal_data``), whoever asks.
⁶ served by the bundled ``notice`` integration: a notice for an area reaches everyone whose
  scope lies in or under it; staff and grid workers publish for areas in their scope.

Differences from Home Assistant, on purpose: ``Unauthorized`` answers 403 (HA: 401) so a client
can tell "log in again" from "not allowed"; firing ``state_changed`` through
``POST /api/events`` is refused (400) — set states with ``POST /api/states``; ``GET
/api/events`` is for admins.
"""

from __future__ import annotations

import logging
from typing import Final

import voluptuous as vol

from linli.components.api.core_views import (
    APICheckConfigView,
    APIConfigView,
    APIDomainServicesView,
    APIEntityStateView,
    APIErrorLogView,
    APIEventListenersView,
    APIEventView,
    APIServicesView,
    APIStatesView,
    APIStatusView,
    APITemplateView,
    StateJsonCache,
)
from linli.components.api.error_log import RingHandler
from linli.components.api.history import HistoryPeriodView, LogbookView
from linli.components.api.linli_views import (
    AlertActionView,
    AlertsView,
    AlertView,
    ConsentsView,
    ConsentView,
    ConsentWithdrawView,
    HouseholdsView,
    HouseholdView,
    MeView,
    UsersView,
)
from linli.components.api.openapi import (
    OpenAPIView,
    async_register_openapi,
    openapi_document,
)
from linli.components.http import async_register_view
from linli.const import __version__
from linli.hub import Hub, HubKey
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "async_register_openapi",
    "linli_integration",
    "openapi_document",
]

DOMAIN: Final = "api"
_RING: Final = HubKey[RingHandler]("api_error_log")

CONFIG_SCHEMA: Final = vol.Schema({})

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="REST API",
    version=__version__,
    dependencies=("http",),
    after_dependencies=("alert",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Register the endpoints; start keeping recent warnings for ``/api/error_log``."""
    ring = RingHandler()
    logging.getLogger().addHandler(ring)
    hub.data[_RING] = ring
    cache = StateJsonCache()
    for view in (
        APIStatusView(),
        APIConfigView(),
        APIStatesView(cache),
        APIEntityStateView(cache),
        APIEventListenersView(),
        APIEventView(),
        APIServicesView(),
        APIDomainServicesView(),
        APITemplateView(),
        APICheckConfigView(),
        APIErrorLogView(ring),
        HistoryPeriodView(),
        LogbookView(),
        MeView(),
        AlertsView(),
        AlertView(),
        AlertActionView(),
        HouseholdsView(),
        HouseholdView(),
        ConsentsView(),
        ConsentView(),
        ConsentWithdrawView(),
        UsersView(),
        OpenAPIView(),
    ):
        async_register_view(hub, view)
    return True


async def async_unload(hub: Hub) -> None:
    """Stop keeping log records."""
    ring = hub.data.pop(_RING)
    if ring is not None:
        logging.getLogger().removeHandler(ring)


@hookimpl
def linli_integration() -> Integration:
    """Describe the REST API integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
