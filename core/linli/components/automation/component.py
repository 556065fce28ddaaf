"""The set of automations: loading, starting, reloading, on/off memory, and the services."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.blueprint import async_resolve_blueprint_automations, is_blueprint_instance_config
from linli.callback import callback
from linli.components.automation.automation import Automation, deadline_prefix
from linli.components.automation.config import (
    CONF_ALIAS,
    CONF_ID,
    CONF_INITIAL_STATE,
    DOMAIN,
    LoadedAutomations,
    async_check_triggers,
    load_automations,
    section_schema,
)
from linli.config import ConfigIssue, load_config_file
from linli.const import EVENT_LINLI_STARTED, MATCH_ALL
from linli.exceptions import LinliError, ServiceValidationError
from linli.helpers.deadlines import get_deadlines
from linli.hub import HubState
from linli.registry.entities import slugify_object_id
from linli.services import SupportsResponse
from linli.storage import Store

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub
    from linli.services import ServiceCall, ServiceResponse

_LOGGER = logging.getLogger(__name__)

EVENT_AUTOMATION_RELOADED: Final = "automation_reloaded"

ATTR_SKIP_CONDITION: Final = "skip_condition"
ATTR_STOP_ACTIONS: Final = "stop_actions"
ATTR_VARIABLES: Final = "variables"

_ENTITIES: Final[dict[Any, Any]] = {vol.Required("entity_id"): cv.entity_ids_or_match_all}
TRIGGER_SERVICE_SCHEMA: Final = vol.Schema(
    {
        **_ENTITIES,
        vol.Optional(ATTR_SKIP_CONDITION, default=True): cv.boolean,
        vol.Optional(ATTR_VARIABLES, default=dict): dict,
    }
)
TURN_ON_SERVICE_SCHEMA: Final = vol.Schema(_ENTITIES)
TURN_OFF_SERVICE_SCHEMA: Final = vol.Schema(
    {**_ENTITIES, vol.Optional(ATTR_STOP_ACTIONS, default=True): cv.boolean}
)
RELOAD_SERVICE_SCHEMA: Final = vol.Schema({})

STORAGE_KEY: Final = "linli.automation"
STORAGE_VERSION: Final = 1


class AutomationComponent:
    """Every automation of the hub, by id, in configuration order."""

    def __init__(self, hub: Hub) -> None:
        """Create an empty set; :meth:`async_setup` fills it."""
        self.hub = hub
        self.automations: dict[str, Automation] = {}
        self.issues: list[ConfigIssue] = []
        """The problems found in the automations at the last setup or reload."""
        self._configured_ids: set[str] = set()
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._turned_off: set[str] = set()
        """Ids the user turned off (remembered across restarts unless ``initial_state``)."""
        self._started = False

    # ------------------------------------------------------------------ setup and teardown
    async def async_setup(self, section: Sequence[Any]) -> None:
        """Load the automations; they start when the hub has started (or now, if it has)."""
        stored = await self._store.async_load() or {}
        self._turned_off = set(stored.get("turned_off", []))
        await get_deadlines(self.hub).async_load()
        await self._async_apply(await self._async_load(section))
        self._register_services()
        if self.hub.state is HubState.running:
            await self._async_start()
        else:
            self.hub.bus.async_listen_once(EVENT_LINLI_STARTED, self._async_on_started)

    async def _async_on_started(self, _event: Event[Any]) -> None:
        await self._async_start()

    async def _async_start(self) -> None:
        """Attach every enabled automation, resume their persisted runs, drop the rest."""
        self._started = True
        for automation in list(self.automations.values()):
            if automation.enabled:
                await automation.async_attach(hub_start=True)
        for automation in list(self.automations.values()):
            if automation.enabled:
                await automation.async_resume_after_restart()
        self._drop_orphaned_deadlines()

    @callback
    def _drop_orphaned_deadlines(self) -> None:
        """Forget deadlines of automations removed, turned off, or changed while down."""
        deadlines = get_deadlines(self.hub)
        keep = [
            deadline_prefix(automation_id) + "."
            for automation_id in self._configured_ids
            if (automation := self.automations.get(automation_id)) is None
            or automation.enabled  # an invalid automation keeps its timers until fixed
        ]
        for deadline in deadlines.pending(f"{DOMAIN}."):
            if not any(deadline.key.startswith(prefix) for prefix in keep):
                deadlines.async_drop(deadline.key)

    async def async_unload(self) -> None:
        """Detach and stop every automation (persisted timers and delays stay for next time)."""
        for automation in self.automations.values():
            automation.async_detach()
        for automation in self.automations.values():
            await automation.script.async_stop()
        await self._store.async_flush()

    # ------------------------------------------------------------------ loading
    async def _async_load(self, section: Sequence[Any]) -> LoadedAutomations:
        """Resolve blueprints, validate each automation, give ids; collect the problems."""
        configs = list(section)
        resolved, blueprint_issues = await async_resolve_blueprint_automations(self.hub, configs)
        # A blueprint that cannot be made is left out of ``resolved``; line the others up
        # with what was written, so positions (and ids made from them) stay the same.
        plain = {id(config) for config in configs if not is_blueprint_instance_config(config)}
        made: list[Any] = []
        made_from: list[Any] = []
        position = 0
        for config in configs:
            if id(config) in plain:
                made.append(resolved[position])
                made_from.append(None)
                position += 1
            elif position < len(resolved) and id(resolved[position]) not in plain:
                made.append(resolved[position])
                made_from.append(config)
                position += 1
            else:
                made.append(None)  # reported by the blueprint resolver
                made_from.append(config)
        loaded = load_automations(made, made_from)
        loaded.issues[:0] = blueprint_issues
        await async_check_triggers(self.hub, loaded)
        # In the order they are written, file by file.
        loaded.issues.sort(key=lambda issue: (issue.file or "", issue.line or 0))
        return loaded

    async def _async_apply(self, loaded: LoadedAutomations, *, hub_start: bool = True) -> None:
        """Make the running set match ``loaded``: unchanged automations are left running.

        As Home Assistant does since 2022.11, a reload only touches automations that were
        added, removed or changed; the others keep their runs and their ``for:`` timers.
        """
        self.issues = loaded.issues
        for issue in loaded.issues:
            _LOGGER.error("Invalid automation: %s", issue)
        self._configured_ids = set(loaded.ids)
        wanted = {entry.automation_id: entry for entry in loaded.valid}
        previous = self.automations
        for automation_id, automation in list(previous.items()):
            new = wanted.get(automation_id)
            if new is None or new.source != automation.source:
                await self._async_remove(automation, keep_entity=new is not None)
        current: dict[str, Automation] = {}
        added: list[Automation] = []
        for automation_id, entry in wanted.items():
            config = entry.config
            existing = previous.get(automation_id)
            if existing is not None and existing.source == entry.source:
                current[automation_id] = existing
                continue
            automation = Automation(
                self.hub,
                automation_id,
                self._entity_id(automation_id, config, existing),
                config,
                entry.source,
            )
            await automation.async_prepare()
            initial = config.get(CONF_INITIAL_STATE)
            automation.enabled = (
                initial if initial is not None else automation_id not in self._turned_off
            )
            automation.async_write_state()
            current[automation_id] = automation
            added.append(automation)
        self.automations = current
        if self._started:
            for automation in added:
                if automation.enabled:
                    await automation.async_attach(hub_start=hub_start)

    def _entity_id(
        self, automation_id: str, config: dict[str, Any], existing: Automation | None
    ) -> str:
        if existing is not None:
            return existing.entity_id
        # Named after the alias, else the id (as Home Assistant names them).
        alias = config.get(CONF_ALIAS)
        entities = self.hub.registries.entities
        if config.get(CONF_ID) is not None:
            # An explicit id is a unique id: the entity id survives a change of alias.
            return entities.async_get_or_create(
                DOMAIN,
                DOMAIN,
                automation_id,
                suggested_object_id=alias or automation_id,
                original_name=alias,
            ).entity_id
        object_id = (alias and slugify_object_id(alias)) or slugify_object_id(automation_id)
        return entities.async_generate_entity_id(DOMAIN, object_id or DOMAIN)

    async def _async_remove(self, automation: Automation, *, keep_entity: bool) -> None:
        automation.enabled = False
        automation.async_detach()
        await automation.script.async_stop()
        if not keep_entity:
            self.hub.states.async_remove(automation.entity_id)

    async def async_reload(self) -> LoadedAutomations:
        """Read ``automation:`` from configuration.yaml again and apply it.

        Raises :class:`LinliError` when configuration.yaml cannot be read at all; then
        nothing changes.
        """
        raw, issues = await self.hub.async_add_executor_job(load_config_file, self.hub.config_dir)
        if raw is None:
            raise LinliError(
                "configuration.yaml cannot be read; automations unchanged: "
                + "; ".join(str(issue) for issue in issues)
            )
        try:
            section = section_schema(raw.get(DOMAIN))
        except vol.Invalid as err:
            raise LinliError(f"automation: {err.msg}; automations unchanged") from err
        loaded = await self._async_load(section)
        await self._async_apply(loaded, hub_start=False)
        self.hub.bus.async_fire(EVENT_AUTOMATION_RELOADED)
        return loaded

    # ------------------------------------------------------------------ on / off
    def by_entity_ids(self, entity_ids: list[str] | str) -> list[Automation]:
        """Return the automations with these entity ids (``*`` for all)."""
        if entity_ids == MATCH_ALL:
            return list(self.automations.values())
        wanted = set(entity_ids)
        return [a for a in self.automations.values() if a.entity_id in wanted]

    async def async_turn_on(self, automation: Automation) -> None:
        """Enable an automation and attach its triggers."""
        self._remember(automation.id, on=True)
        if automation.enabled:
            return
        automation.enabled = True
        automation.async_write_state()
        if self._started:
            await automation.async_attach(hub_start=False)

    async def async_turn_off(self, automation: Automation, *, stop_actions: bool = True) -> None:
        """Disable an automation: detach its triggers and (by default) stop its runs."""
        self._remember(automation.id, on=False)
        automation.enabled = False
        automation.async_detach()
        if stop_actions:
            await automation.script.async_stop()
        automation.async_write_state()

    def _remember(self, automation_id: str, *, on: bool) -> None:
        if on:
            self._turned_off.discard(automation_id)
        else:
            self._turned_off.add(automation_id)
        self._store.async_delay_save(lambda: {"turned_off": sorted(self._turned_off)})

    # ------------------------------------------------------------------ services
    def _register_services(self) -> None:
        register = self.hub.services.async_register
        register(
            DOMAIN,
            "trigger",
            self._async_service_trigger,
            TRIGGER_SERVICE_SCHEMA,
            description="Run the automations' actions now (conditions skipped by default).",
        )
        register(
            DOMAIN,
            "turn_on",
            self._async_service_turn_on,
            TURN_ON_SERVICE_SCHEMA,
            description="Enable the automations.",
        )
        register(
            DOMAIN,
            "turn_off",
            self._async_service_turn_off,
            TURN_OFF_SERVICE_SCHEMA,
            description="Disable the automations; stop_actions (default true) stops their runs.",
        )
        register(
            DOMAIN,
            "toggle",
            self._async_service_toggle,
            TURN_ON_SERVICE_SCHEMA,
            description="Enable the disabled automations and disable the enabled ones.",
        )
        register(
            DOMAIN,
            "reload",
            self._async_service_reload,
            RELOAD_SERVICE_SCHEMA,
            SupportsResponse.OPTIONAL,
            description="Read the automations from configuration.yaml again; returns the "
            "number loaded and the problems found.",
        )

    async def _async_service_trigger(self, call: ServiceCall) -> None:
        variables = {**call.data[ATTR_VARIABLES], "trigger": {"platform": None}}
        for automation in self.by_entity_ids(call.data["entity_id"]):
            automation.async_trigger(
                variables, call.context, skip_condition=call.data[ATTR_SKIP_CONDITION]
            )

    async def _async_service_turn_on(self, call: ServiceCall) -> None:
        for automation in self.by_entity_ids(call.data["entity_id"]):
            await self.async_turn_on(automation)

    async def _async_service_turn_off(self, call: ServiceCall) -> None:
        for automation in self.by_entity_ids(call.data["entity_id"]):
            await self.async_turn_off(automation, stop_actions=call.data[ATTR_STOP_ACTIONS])

    async def _async_service_toggle(self, call: ServiceCall) -> None:
        for automation in self.by_entity_ids(call.data["entity_id"]):
            if automation.enabled:
                await self.async_turn_off(automation)
            else:
                await self.async_turn_on(automation)

    async def _async_service_reload(self, call: ServiceCall) -> ServiceResponse:
        try:
            loaded = await self.async_reload()
        except LinliError as err:
            raise ServiceValidationError(str(err)) from err
        return {
            "automations": len(loaded.valid),
            "issues": [str(issue) for issue in loaded.issues],
        }
