"""Privacy: retention of personal data, its daily purge, export and erasure (see linli.privacy).

Bundled with the core and set up by default. Configuration (optional)::

    privacy:
      retention:
        access_log: {keep_days: 180, floor_days: 30}   # keep 30 to 180 days
        face_snapshot: {keep_days: 7}                  # consent-bound: no floor

Kinds are those the installed capabilities register (``GET /api/linli/privacy/data_kinds``
lists them with the policy in force); a setting for a kind nobody registers is kept and
warned about once the hub has started.

Services (admins): ``privacy.purge`` (purge every kind past its ceiling now; also daily) and
``privacy.erase_person`` (``person_id``: erase everything held about a person, records
younger than a kind's floor excepted; audited).

API: ``GET /api/linli/persons/<person_id>/export`` and the WebSocket command
``linli/persons/export`` return everything held about a person — to admins, the person,
and those who may read the person's household (staff and grid workers in scope, their own
household for residents); police may not. Every export is written to the audit log
(``export_personal_data``). ``GET /api/linli/privacy/data_kinds`` and
``linli/privacy/data_kinds`` list the kinds and their retention (any signed-in user).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.const import EVENT_LINLI_STARTED, __version__
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl
from linli.services import ServiceCall, SupportsResponse

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "privacy"
PURGE_INTERVAL_SECONDS: Final = 86_400.0

_DAYS: Final = vol.All(vol.Coerce(float), vol.Range(min=0, max=36500))
_POLICY: Final = vol.Schema(
    {
        vol.Optional("keep_days"): vol.All(_DAYS, vol.Range(min=0.01)),
        vol.Optional("floor_days"): _DAYS,
    }
)


def _floor_below_ceiling(value: dict[str, Any]) -> dict[str, Any]:
    for name, policy in value.get("retention", {}).items():
        keep, floor = policy.get("keep_days"), policy.get("floor_days")
        if keep is not None and floor is not None and floor > keep:
            raise vol.Invalid(
                f"floor_days ({floor:g}) is above keep_days ({keep:g})",
                path=["retention", name, "floor_days"],
            )
    return value


CONFIG_SCHEMA: Final = vol.All(
    vol.Any(None, dict),
    lambda value: value or {},
    vol.Schema(
        {
            vol.Optional("retention", default={}): {
                vol.Match(r"^[a-z][a-z0-9_]{0,63}$"): vol.Any(None, _POLICY)
            },
            vol.Optional("auto_purge", default=True): bool,
        }
    ),
    _floor_below_ceiling,
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Privacy",
    version=__version__,
    iot_class=IotClass.calculated,
    dependencies=("recorder",),
    after_dependencies=("http", "websocket_api"),
    codeowners=("@linli/core",),
    load_by_default=True,
)

ERASE_SCHEMA: Final = vol.Schema({vol.Required("person_id"): vol.All(str, vol.Length(min=1))})


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Apply the retention settings; purge daily; offer the services and the export API."""
    from linli.privacy import get_privacy

    privacy = get_privacy(hub)
    retention = {name: policy or {} for name, policy in config["retention"].items()}
    privacy.configure(retention)

    async def purge_tick(_now: datetime) -> None:
        await privacy.async_purge()

    if config["auto_purge"]:
        hub.async_track_time_interval(purge_tick, PURGE_INTERVAL_SECONDS)

    def warn_unknown(_event: Event[Any]) -> None:
        unknown = sorted(set(retention) - set(privacy.kinds))
        if unknown:
            _LOGGER.warning(
                "privacy.retention names data kinds no integration holds: %s (known: %s)",
                ", ".join(unknown),
                ", ".join(sorted(privacy.kinds)) or "none",
            )

    hub.bus.async_listen_once(EVENT_LINLI_STARTED, warn_unknown)

    async def handle_purge(_call: ServiceCall) -> dict[str, Any]:
        return dict(await privacy.async_purge())

    async def handle_erase(call: ServiceCall) -> dict[str, Any]:
        person_id = call.data["person_id"]
        if hub.registries.people.async_get_person(person_id) is None:
            from linli.exceptions import ServiceValidationError

            raise ServiceValidationError(f"unknown person {person_id!r}")
        counts = await privacy.async_erase(
            person_id,
            reason="erase_person",
            user_id=call.context.user_id,
            context=call.context,
        )
        return {"person_id": person_id, "counts": counts}

    hub.services.async_register(
        DOMAIN,
        "purge",
        handle_purge,
        vol.Schema({}),
        SupportsResponse.OPTIONAL,
        "Delete personal data past its retention (keep_days) now; returns the counts per kind.",
    )
    hub.services.async_register(
        DOMAIN,
        "erase_person",
        handle_erase,
        ERASE_SCHEMA,
        SupportsResponse.OPTIONAL,
        "Erase everything held about a person (records within a kind's floor excepted).",
    )
    from linli.components.http import async_register_view
    from linli.components.privacy.views import (
        DataKindsView,
        PersonExportView,
        async_register_commands,
    )

    async_register_view(hub, PersonExportView())
    async_register_view(hub, DataKindsView())
    async_register_commands(hub)
    from linli.components.api import async_register_openapi
    from linli.components.privacy.views import OPENAPI_PATHS, OPENAPI_SCHEMAS

    async_register_openapi(hub, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    return True


async def async_unload(hub: Hub) -> None:
    """Nothing to close: the manager lives as long as the hub's data."""


@hookimpl
def linli_integration() -> Integration:
    """Describe the privacy integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
