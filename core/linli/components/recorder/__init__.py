"""The recorder: the hub's memory (states, events) and its database, bundled with the core.

It opens the project's one database (:mod:`linli.db`), which the ledgers use too (alerts,
the audit log, consents, users), records every state change and event in batches off the
loop, answers history and logbook queries (:func:`get_recorder`) and purges what is past
retention once a day. A clean stop writes everything still waiting; a crash loses at most
the last ``commit_interval`` of states and events, never a ledger row.

Configuration (optional; Home Assistant's ``recorder:`` keys)::

    recorder:
      db_url: postgresql+psycopg://linli:secret@db/linli  # default: SQLite <config>/.linli/linli.db
      commit_interval: 1       # seconds between batch commits (0: at once)
      purge_keep_days: 10      # states and events
      auto_purge: true         # purge daily
      audit_keep_days: 1095    # the audit log
      consent_keep_days: 1095  # withdrawn consents, counted from withdrawal
      max_backlog: 50000       # events waiting in memory before new ones are dropped
      include:                 # record only these (linli.helpers.entityfilter rules)
        domains: [binary_sensor, lock]
        entity_globs: [sensor.*_door]
        entities: [sensor.gate_count]
      exclude:
        domains: [sun]
        entity_globs: [sensor.*_rssi]
        entities: [sensor.noise_level]
        event_types: [call_service]

``include``/``exclude`` filter the entities whose states are recorded; ``exclude:
event_types`` the events (``state_changed`` always goes to the states table, an entity's
removal is not recorded). Service ``recorder.purge`` (``keep_days`` optional) purges now.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from linli.components.recorder.const import (
    CONF_AUDIT_KEEP_DAYS,
    CONF_AUTO_PURGE,
    CONF_COMMIT_INTERVAL,
    CONF_CONSENT_KEEP_DAYS,
    CONF_DB_URL,
    CONF_EVENT_TYPES,
    CONF_FILTER,
    CONF_MAX_BACKLOG,
    CONF_PURGE_KEEP_DAYS,
    DEFAULT_AUDIT_KEEP_DAYS,
    DEFAULT_COMMIT_INTERVAL,
    DEFAULT_CONSENT_KEEP_DAYS,
    DEFAULT_MAX_BACKLOG,
    DEFAULT_PURGE_KEEP_DAYS,
    DOMAIN,
    EVENT_RECORDER_PURGED,
    SERVICE_PURGE,
)
from linli.components.recorder.core import RECORDER, Recorder, get_recorder
from linli.const import __version__
from linli.exceptions import SetupFailed, SetupNotReady
from linli.helpers.entityfilter import (
    CONF_EXCLUDE,
    CONF_INCLUDE,
    INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA,
    EntityFilter,
)
from linli.hub import Hub
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl
from linli.services import ServiceCall, SupportsResponse

__all__ = [
    "DOMAIN",
    "EVENT_RECORDER_PURGED",
    "Recorder",
    "get_recorder",
    "linli_integration",
]


def _filters(value: Any) -> dict[str, Any]:
    """Split ``exclude: event_types`` off, validate the rest as an entity filter."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping")
    config: dict[str, Any] = dict(value)
    exclude = config.get(CONF_EXCLUDE)
    event_types: list[str] = []
    if isinstance(exclude, dict):
        exclude = dict(exclude)
        raw = exclude.pop(CONF_EVENT_TYPES, None) or []
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not all(isinstance(t, str) and t for t in raw):
            raise vol.Invalid(
                "expected a list of event types", path=[CONF_EXCLUDE, CONF_EVENT_TYPES]
            )
        event_types = raw
        value[CONF_EXCLUDE] = exclude
    filters = {k: value.pop(k) for k in (CONF_INCLUDE, CONF_EXCLUDE) if k in value}
    value[CONF_FILTER] = EntityFilter(INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA(filters))
    value[CONF_EVENT_TYPES] = event_types
    return value


_DAYS: Final = vol.All(vol.Coerce(float), vol.Range(min=0.01, max=36500))


CONFIG_SCHEMA: Final = vol.All(
    vol.Any(None, dict),
    lambda value: value or {},
    _filters,
    vol.Schema(
        {
            vol.Optional(CONF_DB_URL): vol.All(str, vol.Length(min=1)),
            vol.Optional(CONF_COMMIT_INTERVAL, default=DEFAULT_COMMIT_INTERVAL): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=3600)
            ),
            vol.Optional(CONF_PURGE_KEEP_DAYS, default=DEFAULT_PURGE_KEEP_DAYS): _DAYS,
            vol.Optional(CONF_AUTO_PURGE, default=True): bool,
            vol.Optional(CONF_AUDIT_KEEP_DAYS, default=DEFAULT_AUDIT_KEEP_DAYS): _DAYS,
            vol.Optional(CONF_CONSENT_KEEP_DAYS, default=DEFAULT_CONSENT_KEEP_DAYS): _DAYS,
            vol.Optional(CONF_MAX_BACKLOG, default=DEFAULT_MAX_BACKLOG): vol.All(
                vol.Coerce(int), vol.Range(min=100)
            ),
            vol.Required(CONF_FILTER): EntityFilter,
            vol.Required(CONF_EVENT_TYPES): [str],
        }
    ),
)

PURGE_SCHEMA: Final = vol.Schema(
    {vol.Optional("keep_days"): vol.All(vol.Coerce(float), vol.Range(min=0, max=36500))}
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Recorder",
    version=__version__,
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Open the database (creating or upgrading its schema) and start recording."""
    from sqlalchemy.exc import SQLAlchemyError

    from linli.db import DATABASE, Database, DatabaseError, default_url

    database = Database(config.get(CONF_DB_URL) or default_url(hub.config_dir))
    try:
        await database.async_start()
    except DatabaseError as err:
        raise SetupFailed(str(err)) from err
    except SQLAlchemyError as err:
        raise SetupNotReady(f"cannot open {database!r}: {err}") from err
    recorder = Recorder(
        hub,
        database,
        commit_interval=config[CONF_COMMIT_INTERVAL],
        keep_days=config[CONF_PURGE_KEEP_DAYS],
        audit_keep_days=config[CONF_AUDIT_KEEP_DAYS],
        consent_keep_days=config[CONF_CONSENT_KEEP_DAYS],
        auto_purge=config[CONF_AUTO_PURGE],
        entity_filter=config[CONF_FILTER],
        exclude_event_types=config[CONF_EVENT_TYPES],
        max_backlog=config[CONF_MAX_BACKLOG],
    )
    hub.data[DATABASE] = database
    hub.data[RECORDER] = recorder
    recorder.async_start()

    async def handle_purge(call: ServiceCall) -> dict[str, Any]:
        deleted: dict[str, Any] = dict(await recorder.async_purge(call.data.get("keep_days")))
        return deleted

    hub.services.async_register(
        DOMAIN,
        SERVICE_PURGE,
        handle_purge,
        PURGE_SCHEMA,
        SupportsResponse.OPTIONAL,
        "Delete states and events older than keep_days (default: purge_keep_days), and "
        "audit rows and withdrawn consents past their retention. Returns the counts.",
    )
    return True


async def async_unload(hub: Hub) -> None:
    """Write what is waiting, then close the database."""
    from linli.db import DATABASE

    recorder = hub.data.pop(RECORDER)
    if recorder is not None:
        await recorder.async_stop()
    database = hub.data.pop(DATABASE)
    if database is not None:
        await database.async_stop()


@hookimpl
def linli_integration() -> Integration:
    """Describe the recorder integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
