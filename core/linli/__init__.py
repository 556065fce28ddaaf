"""Linli (邻里): the public API for integration authors.

Everything an integration may use is re-exported here and listed in ``__all__``. The
documented submodules are public too: :mod:`linli.helpers.event`,
:mod:`linli.helpers.entityfilter`, :mod:`linli.helpers.config_validation`,
:mod:`linli.helpers.trigger` (trigger platforms), :mod:`linli.helpers.condition`,
:mod:`linli.helpers.script`, :mod:`linli.helpers.deadlines`, :mod:`linli.template`,
:mod:`linli.blueprint`, :mod:`linli.components.alert` (``get_manager``),
:mod:`linli.components.http` (``HubView``, ``async_register_view``, ``get_http``),
:mod:`linli.components.webhook` (``async_register``), :mod:`linli.components.websocket_api`
(``async_register_command``, ``websocket_command``), :mod:`linli.components.zeroconf`
(``async_browse``), :mod:`linli.components.recorder` (``get_recorder``), :mod:`linli.auth`
(``get_auth``, ``Permissions``), :mod:`linli.audit`, :mod:`linli.consent`, :mod:`linli.db`
(``get_database``, ``Base``), :mod:`linli.registry`, :mod:`linli.storage`,
:mod:`linli.entity` (``Entity`` and the domain classes, ``async_add_entities``),
:mod:`linli.clock`, :mod:`linli.config` and :mod:`linli.testing`. Every other module is
internal and may change without notice.
"""

from linli.bus import Event, EventBus, EventOrigin
from linli.callback import callback
from linli.const import (
    EVENT_CALL_SERVICE,
    EVENT_LINLI_FINAL_WRITE,
    EVENT_LINLI_START,
    EVENT_LINLI_STARTED,
    EVENT_LINLI_STOP,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    __version__,
)
from linli.context import Context
from linli.exceptions import (
    IntegrationError,
    InvalidEntityIdError,
    InvalidStateError,
    LinliError,
    ServiceNotFound,
    ServiceValidationError,
    SetupAuthFailed,
    SetupFailed,
    SetupNotReady,
    Unauthorized,
)
from linli.hub import CoreConfig, Hub, HubKey, HubState
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl
from linli.services import ServiceCall, SupportsResponse
from linli.state import State, StateMachine, split_entity_id, valid_entity_id

__all__ = [
    "EVENT_CALL_SERVICE",
    "EVENT_LINLI_FINAL_WRITE",
    "EVENT_LINLI_START",
    "EVENT_LINLI_STARTED",
    "EVENT_LINLI_STOP",
    "EVENT_STATE_CHANGED",
    "MATCH_ALL",
    "ConfigType",
    "Context",
    "CoreConfig",
    "Event",
    "EventBus",
    "EventOrigin",
    "Hub",
    "HubKey",
    "HubState",
    "Integration",
    "IntegrationError",
    "InvalidEntityIdError",
    "InvalidStateError",
    "IotClass",
    "LinliError",
    "Manifest",
    "ServiceCall",
    "ServiceNotFound",
    "ServiceValidationError",
    "SetupAuthFailed",
    "SetupFailed",
    "SetupNotReady",
    "State",
    "StateMachine",
    "SupportsResponse",
    "Unauthorized",
    "__version__",
    "callback",
    "hookimpl",
    "split_entity_id",
    "valid_entity_id",
]
