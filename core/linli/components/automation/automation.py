"""One automation: its ``automation.<id>`` entity, triggers, conditions, script and traces."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.components.automation.config import (
    CONF_ACTIONS,
    CONF_ALIAS,
    CONF_CONDITIONS,
    CONF_MAX,
    CONF_MODE,
    CONF_STORED_TRACES,
    CONF_TRACE,
    CONF_TRIGGER_VARIABLES,
    CONF_TRIGGERS,
    CONF_VARIABLES,
    DOMAIN,
)
from linli.context import Context
from linli.helpers.condition import async_conditions_from_config
from linli.helpers.script import Script, ScriptMode, ScriptRunResult
from linli.helpers.trace import Trace, get_trace_store
from linli.helpers.trigger import async_initialize_triggers
from linli.template import TemplateError, render_complex
from linli.util.dt import utc_from_timestamp

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.helpers.condition import ConditionChecker
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
"""Fired when a run starts (its conditions passed): ``name``, ``entity_id``, ``source``."""

ATTR_LAST_TRIGGERED: Final = "last_triggered"
ATTR_CURRENT: Final = "current"


def deadline_prefix(automation_id: str) -> str:
    """Where an automation's persisted deadlines live (``for:`` and delays)."""
    return f"{DOMAIN}.{automation_id}"


class Automation:
    """An automation as configured, and whether and how it is running."""

    def __init__(
        self,
        hub: Hub,
        automation_id: str,
        entity_id: str,
        config: dict[str, Any],
        source: Any,
    ) -> None:
        """Build it from a validated config; nothing runs until it is enabled."""
        self.hub = hub
        self.id = automation_id
        self.entity_id = entity_id
        self.config = config
        self.source = source
        """The config as loaded, before validation (a reload compares it to spot changes)."""
        self.name: str = config.get(CONF_ALIAS) or automation_id
        self.enabled = False
        self.last_triggered: float | None = None
        self._logger = logging.getLogger(f"{__name__}.{automation_id}")
        self._mode = ScriptMode(config[CONF_MODE])
        self.script = Script(
            hub,
            config[CONF_ACTIONS],
            self.name,
            DOMAIN,
            mode=self._mode,
            max_runs=config[CONF_MAX],
            item_id=automation_id,
            deadline_prefix=deadline_prefix(automation_id),
            logger=self._logger,
            change_listener=self._runs_changed,
        )
        self._condition: ConditionChecker | None = None
        self._detach: CancelCallback | None = None
        self._trigger_variables: dict[str, Any] = {}
        get_trace_store(hub).set_keep(automation_id, config[CONF_TRACE][CONF_STORED_TRACES])

    # ------------------------------------------------------------------ state
    @callback
    def async_write_state(self) -> None:
        """Write the entity's state: on/off with Home Assistant's attributes."""
        attributes: dict[str, Any] = {
            "friendly_name": self.name,
            "id": self.id,
            ATTR_LAST_TRIGGERED: (
                None
                if self.last_triggered is None
                else utc_from_timestamp(self.last_triggered).isoformat()
            ),
            "mode": self._mode.value,
            ATTR_CURRENT: self.script.runs,
        }
        if self._mode in (ScriptMode.queued, ScriptMode.parallel):
            attributes["max"] = self.config[CONF_MAX]
        self.hub.states.async_set(self.entity_id, "on" if self.enabled else "off", attributes)

    # ------------------------------------------------------------------ lifecycle
    async def async_prepare(self) -> None:
        """Build the condition checker (once, before the first run)."""
        if self.config[CONF_CONDITIONS]:
            self._condition = await async_conditions_from_config(
                self.hub, self.config[CONF_CONDITIONS]
            )

    async def async_attach(self, *, hub_start: bool) -> None:
        """Attach the triggers; persisted ``for:`` timers of the last run are taken over."""
        if self._detach is not None:
            return
        state = self.hub.states.get(self.entity_id)
        variables: dict[str, Any] = {"this": state.as_dict() if state is not None else None}
        if self.config.get(CONF_TRIGGER_VARIABLES):
            try:
                variables = _render_variables(
                    self.hub, self.config[CONF_TRIGGER_VARIABLES], variables, limited=True
                )
            except TemplateError as err:
                self._logger.error("Triggers of %s not attached: %s", self.name, err)
                return
        self._trigger_variables = {k: v for k, v in variables.items() if k != "this"}
        try:
            self._detach = await async_initialize_triggers(
                self.hub,
                self.config[CONF_TRIGGERS],
                self._triggered,
                name=self.name,
                variables=variables,
                deadline_prefix=f"{deadline_prefix(self.id)}.trigger",
                hub_start=hub_start,
            )
        except vol.Invalid as err:
            # Checked when loaded; only an integration gone since then can get here.
            self._logger.error("Triggers of %s not attached: %s", self.name, err)

    @callback
    def async_detach(self) -> None:
        """Detach the triggers (a running ``for:`` is cancelled, or kept if the hub stops)."""
        if self._detach is not None:
            self._detach()
            self._detach = None

    # ------------------------------------------------------------------ running
    @callback
    def _triggered(self, run_variables: dict[str, Any], context: Context | None) -> None:
        if self.enabled:
            self.async_trigger(run_variables, context)

    @callback
    def async_trigger(
        self,
        run_variables: Mapping[str, Any],
        context: Context | None = None,
        *,
        skip_condition: bool = False,
    ) -> asyncio.Future[ScriptRunResult | None] | None:
        """Check the conditions (unless skipped) and start the actions, with a trace.

        Runs on the loop without waiting for the actions (a run may wait in a delay for a
        day); returns the run's future, or None when the run did not start.
        """
        # The run's own context, caused by what triggered it.
        run_context = Context(parent_id=context.id if context is not None else None)
        trigger: dict[str, Any] = dict(run_variables.get("trigger") or {})
        trace = Trace(self.hub, self.id, DOMAIN, context=run_context, trigger=trigger)
        if trigger.get("late"):
            trace.extra["late"] = True
        get_trace_store(self.hub).add(trace)
        state = self.hub.states.get(self.entity_id)
        variables: dict[str, Any] = {
            "this": state.as_dict() if state is not None else None,
            **self._trigger_variables,
            **run_variables,
        }
        try:
            if self.config.get(CONF_VARIABLES):
                variables = _render_variables(self.hub, self.config[CONF_VARIABLES], variables)
        except TemplateError as err:
            self._logger.error("Error rendering the variables of %s: %s", self.name, err)
            trace.finish(error=err)
            return None
        trace.set_variables(variables)
        trace.add_step(f"trigger/{trigger['idx']}" if "idx" in trigger else "trigger")
        if (
            not skip_condition
            and self._condition is not None
            and not self._condition(variables, trace)
        ):
            self._logger.debug("Conditions of %s not met", self.name)
            trace.finish(stopped="failed_conditions")
            return None
        self.last_triggered = self.hub.clock.time()
        event_data = {"name": self.name, "entity_id": self.entity_id}
        if "description" in trigger:
            event_data["source"] = trigger["description"]
        self.hub.bus.async_fire(EVENT_AUTOMATION_TRIGGERED, event_data, context=run_context)
        future = self.script.async_start(variables, run_context, trace)
        self.async_write_state()
        return future

    @callback
    def _runs_changed(self) -> None:
        # ``current`` counts the runs (resumed ones too); the entity is gone when the
        # automation was removed.
        if self.hub.states.get(self.entity_id) is not None:
            self.async_write_state()

    async def async_resume_after_restart(self) -> int:
        """Continue the runs that waited in a persisted delay when the hub stopped."""
        return await self.script.async_resume_after_restart()


def _render_variables(
    hub: Hub, templates: Mapping[str, Any], variables: Mapping[str, Any], *, limited: bool = False
) -> dict[str, Any]:
    """Render ``variables:`` in order: each may use the ones before it."""
    rendered = dict(variables)
    for key, value in templates.items():
        rendered[key] = render_complex(value, rendered, hub, limited=limited)
    return rendered
