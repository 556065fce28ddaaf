"""The actions of a script, compiled once from validated configs into small step objects.

A step knows its trace path (``action/2/then/0``) and runs against a run (see ``runner``):
the run holds the variables, the context, the trace and the waiting machinery. Steps that
hold other steps (``if``, ``choose``, ``sequence``, ``repeat``, ``parallel``) list them in
:meth:`Step.sequences`, which is how a delay is found again after a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED
from linli.exceptions import LinliError
from linli.helpers.condition import (
    ConditionChecker,
    conditions_from_config,
    contains_template,
    from_config,
    is_template,
    render_bool,
    render_time_period,
)
from linli.helpers.event import async_track_state_change_event
from linli.helpers.script import schema as s
from linli.template import render_complex

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.context import Context
    from linli.helpers.script.runner import _Run
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)


class Renderable:
    """A config value that may hold templates; rendered only when it does."""

    __slots__ = ("templated", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.templated = contains_template(value)

    def render(self, hub: Hub, variables: Mapping[str, Any]) -> Any:
        """Return the value with its templates rendered against ``variables``."""
        if not self.templated:
            return self.value
        if is_template(self.value):
            return self.value.async_render(variables)
        return render_complex(self.value, variables, hub)


# ---------------------------------------------------------------------------- control flow


class StopRun(Exception):
    """``stop`` ended the run (an error when ``error: true``)."""

    def __init__(self, reason: str, error: bool, response: dict[str, Any] | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.response = response


class AbortRun(Exception):
    """A ``condition`` action was false, or a wait timed out without continuing."""


class StepError(Exception):
    """A step failed; its error is already in the trace at ``path``."""

    def __init__(self, path: str, label: str, error: BaseException) -> None:
        super().__init__(f"{path}: {error}")
        self.path = path
        self.label = label
        self.error = error


def describe_error(err: BaseException) -> str:
    """Return a one-line description of ``err`` for traces and logs."""
    if isinstance(err, vol.Invalid):
        return f"invalid data: {err}"
    text = str(err)
    if isinstance(err, LinliError):  # TemplateError included
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def expected_error(err: BaseException) -> bool:
    """Whether ``err`` is a failure a script may meet (not a bug): continue_on_error skips it."""
    return isinstance(err, LinliError | vol.Invalid)


# ---------------------------------------------------------------------------- steps


class Step:
    """One compiled action."""

    __slots__ = ("alias", "continue_on_error", "enabled", "path")
    kind: ClassVar[str] = ""
    records_itself: ClassVar[bool] = False
    """True when the step writes its own trace record (a condition's checker does)."""
    resumable_inside: ClassVar[bool] = True
    """False when a delay inside cannot be resumed after a restart (repeat, parallel)."""

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        self.path = path
        self.alias: str | None = config.get(s.CONF_ALIAS)
        self.enabled: bool = config.get(s.CONF_ENABLED, True)
        self.continue_on_error: bool = config.get(s.CONF_CONTINUE_ON_ERROR, False)

    @property
    def label(self) -> str:
        """The step's alias, or its kind."""
        return self.alias or self.kind

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        """Do what the action says; ``record`` is its trace step (for ``result``)."""
        raise NotImplementedError

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        """The nested steps, as (path segment, steps) pairs."""
        return ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


def compile_sequence(hub: Hub, configs: Sequence[Mapping[str, Any]], prefix: str) -> list[Step]:
    """Compile validated action configs; step ``i`` gets the path ``<prefix>/<i>``."""
    return [compile_step(hub, config, f"{prefix}/{index}") for index, config in enumerate(configs)]


def compile_step(hub: Hub, config: Mapping[str, Any], path: str) -> Step:
    """Compile one validated action config."""
    return _STEPS[s.determine_action(config)](hub, config, path)


class CallService(Step):
    """Call a service with rendered data and target, blocking, under a child context."""

    __slots__ = ("action", "data", "response_variable", "target")
    kind = "call_service"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.action: Any = config[s.CONF_ACTION]
        self.data = Renderable(
            {**config.get(s.CONF_DATA, {}), **config.get(s.CONF_DATA_TEMPLATE, {})}
        )
        target = config.get(s.CONF_TARGET)
        self.target = Renderable(target) if target else None
        self.response_variable: str | None = config.get(s.CONF_RESPONSE_VARIABLE)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        hub = run.hub
        name = self.action
        if not isinstance(name, str):
            name = str(name.async_render(run.variables)).strip().lower()
        domain, _, service = name.partition(".")
        if not service:
            raise LinliError(f"invalid action {name!r}: expected 'domain.service'")
        data = dict(self.data.render(hub, run.variables))
        if self.target is not None:
            data[s.CONF_ENTITY_ID] = resolve_target(
                hub, self.target.render(hub, run.variables), data.get(s.CONF_ENTITY_ID)
            )
        result: dict[str, Any] = {
            "params": {"domain": domain, "service": service, "service_data": data}
        }
        record["result"] = result
        response = await hub.services.async_call(
            domain,
            service,
            data,
            blocking=True,
            context=run.child_context(),
            return_response=self.response_variable is not None,
        )
        if self.response_variable is not None:
            result["response"] = response
            run.set_variables(record, {self.response_variable: response})


def _id_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(item) for item in cv.ensure_list(value) if item]


def resolve_target(hub: Hub, target: Mapping[str, Any], extra_entities: Any = None) -> list[str]:
    """Return the entity ids a ``target`` stands for.

    ``area_id`` stands for the enabled entities whose area (their own, else their device's)
    is that area or one below it (a building's target reaches every room); ``device_id`` for
    the device's enabled entities. An unknown area or device is an error.
    """
    found = dict.fromkeys(_id_list(extra_entities))
    try:
        found.update(dict.fromkeys(cv.entity_ids(target.get(s.CONF_ENTITY_ID) or [])))
    except vol.Invalid as err:
        raise LinliError(f"invalid target entity_id: {err.msg}") from err
    area_ids = _id_list(target.get(s.CONF_AREA_ID))
    device_ids = _id_list(target.get(s.CONF_DEVICE_ID))
    if area_ids or device_ids:
        registries = hub.registries
        entities = registries.entities
        for area_id in area_ids:
            if area_id not in registries.areas:
                raise LinliError(f"unknown area {area_id!r} in target")
            for entry in entities.entities_in_area(area_id, include_descendants=True):
                if not entry.disabled:
                    found[entry.entity_id] = None
        for device_id in device_ids:
            if registries.devices.async_get(device_id) is None:
                raise LinliError(f"unknown device {device_id!r} in target")
            for entry in entities.entities_for_device(device_id):
                if not entry.disabled:
                    found[entry.entity_id] = None
    return list(found)


class Alert(Step):
    """Raise an alert: a blocking ``alert.raise`` call with the rendered fields."""

    __slots__ = ("data", "response_variable")
    kind = "alert"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.data = Renderable(config[s.CONF_ALERT])
        self.response_variable: str | None = config.get(s.CONF_RESPONSE_VARIABLE)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        data = dict(run.render(self.data))
        result: dict[str, Any] = {"params": {"domain": "alert", "service": "raise", "data": data}}
        record["result"] = result
        response = await run.hub.services.async_call(
            "alert",
            "raise",
            data,
            blocking=True,
            context=run.child_context(),
            return_response=self.response_variable is not None,
        )
        if self.response_variable is not None:
            result["response"] = response
            run.set_variables(record, {self.response_variable: response})


class FireEvent(Step):
    """Fire an event with rendered data, under a child context."""

    __slots__ = ("data", "event_type")
    kind = "event"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.event_type: str = config[s.CONF_EVENT]
        self.data = Renderable(
            {**config.get(s.CONF_EVENT_DATA, {}), **config.get(s.CONF_EVENT_DATA_TEMPLATE, {})}
        )

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        data = dict(run.render(self.data))
        record["result"] = {"event": self.event_type, "event_data": data}
        run.hub.bus.async_fire(self.event_type, data, context=run.child_context())


class Variables(Step):
    """Set variables, in order (a later one may use an earlier one)."""

    __slots__ = ("values",)
    kind = "variables"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.values = [
            (name, Renderable(value)) for name, value in config[s.CONF_VARIABLES].items()
        ]

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        changed: dict[str, Any] = {}
        for name, value in self.values:
            changed[name] = run.variables[name] = run.render(value)
        record["changed_variables"] = changed


class Stop(Step):
    """End the run, with a response or as an error."""

    __slots__ = ("error", "reason", "response_variable")
    kind = "stop"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.reason: str = config[s.CONF_STOP]
        self.error: bool = config.get(s.CONF_ERROR, False)
        self.response_variable: str | None = config.get(s.CONF_RESPONSE_VARIABLE)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        response = None
        if self.response_variable is not None:
            value = run.variables.get(self.response_variable)
            if not isinstance(value, Mapping):
                raise LinliError(
                    f"response_variable {self.response_variable!r} is not a mapping: {value!r}"
                )
            response = dict(value)
        record["result"] = {"stop": self.reason, "error": self.error}
        raise StopRun(self.reason, self.error, response)


class Condition(Step):
    """A condition as an action: the run ends quietly where it is false."""

    __slots__ = ("checker",)
    kind = "condition"
    records_itself = True

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        # The checker records its own result at this action's path.
        self.checker = from_config(hub, config, path)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        if not self.checker(run.variables, run.trace):
            raise AbortRun(f"condition at {self.path} is false")


class Delay(Step):
    """Wait a while; persisted (so it survives a restart) when the script has a prefix."""

    __slots__ = ("delay",)
    kind = "delay"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.delay: Any = config[s.CONF_DELAY]

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        seconds = render_time_period(self.delay, run.variables).total_seconds()
        result: dict[str, Any] = {"delay": seconds, "done": False}
        record["result"] = result
        if seconds > 0:
            late = await run.async_delay(self, seconds)
            if late:
                result["late"] = True
        result["done"] = True


def _timeout(config: Mapping[str, Any]) -> Any:
    return config.get(s.CONF_TIMEOUT)


class WaitTemplate(Step):
    """Wait until a template is true (re-rendered when the states it reads change)."""

    __slots__ = ("continue_on_timeout", "template", "timeout")
    kind = "wait_template"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.template: Any = config[s.CONF_WAIT_TEMPLATE]
        self.timeout: Any = _timeout(config)
        self.continue_on_timeout: bool = config.get(s.CONF_CONTINUE_ON_TIMEOUT, True)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        timeout = (
            None
            if self.timeout is None
            else render_time_period(self.timeout, run.variables).total_seconds()
        )
        wait: dict[str, Any] = {"remaining": timeout, "completed": False}
        if render_bool(self.template, run.variables):
            wait["completed"] = True
        else:
            variables = run.variables

            def start(done: Callable[[Any], None]) -> Callable[[], None]:
                return _track_template(run.hub, self.template, variables, done)

            value, remaining = await run.async_wait(start, timeout)
            wait.update(completed=value is not None, remaining=remaining)
        record["result"] = {"wait": wait}
        run.set_variables(record, {"wait": wait})
        if not wait["completed"] and not self.continue_on_timeout:
            raise AbortRun(f"wait_template at {self.path} timed out")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _track_template(
    hub: Hub, tpl: Any, variables: Mapping[str, Any], done: Callable[[Any], None]
) -> Callable[[], None]:
    """Call ``done(True)`` once ``tpl`` renders true; re-render when what it reads changes.

    A template reading the clock (``now()``) is also re-rendered every minute, as in Home
    Assistant.
    """
    remove: list[Callable[[], None]] = []
    watched: list[Any] = [None]
    clock: list[Callable[[], None]] = []

    def unsubscribe() -> None:
        for item in (*remove, *clock):
            item()
        remove.clear()
        clock.clear()

    @callback
    def refresh(_event: Any = None) -> None:
        for cancel in clock:
            cancel()
        clock.clear()
        info = tpl.async_render_to_info(variables)
        if info.exception is None and _truthy(info.result):
            unsubscribe()
            done(True)
            return
        if info.exception is not None:
            _LOGGER.debug("Wait template cannot be rendered yet: %s", info.exception)
        if info.has_time:
            clock.append(hub.async_call_later(60, refresh))
        key = (info.all_states, frozenset(info.domains), frozenset(info.entities))
        if key == watched[0]:
            return
        watched[0] = key
        for item in remove:
            item()
        remove.clear()
        all_states, domains, entities = key
        if all_states or domains:

            @callback
            def wanted(event: Event[Any]) -> bool:
                entity_id: str = event.data["entity_id"]
                return all_states or entity_id in entities or entity_id.partition(".")[0] in domains

            remove.append(
                hub.bus.async_listen(EVENT_STATE_CHANGED, refresh, wanted, owner=__name__)
            )
        elif entities:
            remove.append(async_track_state_change_event(hub, entities, refresh))

    refresh()
    return unsubscribe


class WaitForTrigger(Step):
    """Wait until one of some triggers fires; ``wait.trigger`` tells which."""

    __slots__ = ("continue_on_timeout", "timeout", "triggers")
    kind = "wait_for_trigger"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.triggers: list[dict[str, Any]] = config[s.CONF_WAIT_FOR_TRIGGER]
        self.timeout: Any = _timeout(config)
        self.continue_on_timeout: bool = config.get(s.CONF_CONTINUE_ON_TIMEOUT, True)

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        # Imported here: the trigger helper loads platforms (and integrations' ones) lazily.
        from linli.helpers.trigger import async_initialize_triggers

        timeout = (
            None
            if self.timeout is None
            else render_time_period(self.timeout, run.variables).total_seconds()
        )
        fired: list[Callable[[Any], None]] = []

        def on_trigger(variables: dict[str, Any], context: Context | None) -> None:
            if fired:
                fired[0](variables.get("trigger"))

        remove = await async_initialize_triggers(
            run.hub,
            self.triggers,
            on_trigger,
            name=f"{run.script.name} wait_for_trigger",
            variables=run.variables,
        )
        try:

            def start(done: Callable[[Any], None]) -> Callable[[], None]:
                fired.append(done)
                return fired.clear

            trigger, remaining = await run.async_wait(start, timeout)
        finally:
            remove()
        wait = {"remaining": remaining, "trigger": trigger}
        record["result"] = {"wait": {"remaining": remaining, "trigger": trigger is not None}}
        run.set_variables(record, {"wait": wait})
        if trigger is None and not self.continue_on_timeout:
            raise AbortRun(f"wait_for_trigger at {self.path} timed out")


class Choose(Step):
    """Run the sequence of the first option whose conditions hold, else the default."""

    __slots__ = ("default", "options")
    kind = "choose"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.options: list[tuple[ConditionChecker, list[Step]]] = [
            (
                conditions_from_config(
                    hub, option[s.CONF_CONDITIONS], f"{path}/choose/{index}/conditions"
                ),
                compile_sequence(hub, option[s.CONF_SEQUENCE], f"{path}/choose/{index}/sequence"),
            )
            for index, option in enumerate(config[s.CONF_CHOOSE])
        ]
        self.default = compile_sequence(hub, config.get(s.CONF_DEFAULT, []), f"{path}/default")

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        for index, (check, steps) in enumerate(self.options):
            if check(run.variables, run.trace):
                record["result"] = {"choice": index}
                await run.async_run_sequence(steps)
                return
        record["result"] = {"choice": "default" if self.default else None}
        await run.async_run_sequence(self.default)

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        found: list[tuple[str, Sequence[Step]]] = [
            (f"choose/{index}/sequence", steps) for index, (_, steps) in enumerate(self.options)
        ]
        found.append(("default", self.default))
        return found


class If(Step):
    """Run ``then`` when the conditions hold, else ``else``."""

    __slots__ = ("check", "else_", "then")
    kind = "if"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.check = conditions_from_config(hub, config[s.CONF_IF], f"{path}/if/condition")
        self.then = compile_sequence(hub, config[s.CONF_THEN], f"{path}/then")
        self.else_ = compile_sequence(hub, config.get(s.CONF_ELSE, []), f"{path}/else")

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        if self.check(run.variables, run.trace):
            record["result"] = {"choice": "then"}
            await run.async_run_sequence(self.then)
        else:
            record["result"] = {"choice": "else" if self.else_ else None}
            await run.async_run_sequence(self.else_)

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        return (("then", self.then), ("else", self.else_))


class SequenceStep(Step):
    """Run a group of actions (also how a ``parallel`` branch holds several)."""

    __slots__ = ("steps",)
    kind = "sequence"

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.steps = compile_sequence(hub, config[s.CONF_SEQUENCE], f"{path}/sequence")

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        await run.async_run_sequence(self.steps)

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        return (("sequence", self.steps),)


class Repeat(Step):
    """Repeat a sequence: ``count`` times, ``while``/``until`` conditions, ``for_each`` item."""

    __slots__ = ("count", "for_each", "steps", "until", "while_")
    kind = "repeat"
    resumable_inside = False

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        options = config[s.CONF_REPEAT]
        self.steps = compile_sequence(hub, options[s.CONF_SEQUENCE], f"{path}/repeat/sequence")
        count = options.get(s.CONF_COUNT)
        self.count = None if count is None else Renderable(count)
        for_each = options.get(s.CONF_FOR_EACH)
        self.for_each = None if for_each is None else Renderable(for_each)
        self.while_ = (
            conditions_from_config(hub, options[s.CONF_WHILE], f"{path}/repeat/while")
            if s.CONF_WHILE in options
            else None
        )
        self.until = (
            conditions_from_config(hub, options[s.CONF_UNTIL], f"{path}/repeat/until")
            if s.CONF_UNTIL in options
            else None
        )

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        variables = run.variables
        saved = variables.get("repeat")
        try:
            iterations = await self._loop(run)
        finally:
            if saved is None:
                variables.pop("repeat", None)
            else:
                variables["repeat"] = saved
        record["result"] = {"iterations": iterations}

    async def _loop(self, run: _Run) -> int:
        variables = run.variables
        if self.count is not None or self.for_each is not None:
            items = self._items(run)
            total = len(items)
            for index, item in enumerate(items, start=1):
                repeat = {"first": index == 1, "index": index, "last": index == total}
                if self.for_each is not None:
                    repeat["item"] = item
                variables["repeat"] = repeat
                await run.async_run_sequence(self.steps)
                await asyncio.sleep(0)  # a long loop of instant steps must not hog the loop
            return total
        index = 0
        while True:
            index += 1
            variables["repeat"] = {"first": index == 1, "index": index}
            if self.while_ is not None and not self.while_(variables, run.trace):
                return index - 1
            await run.async_run_sequence(self.steps)
            if self.until is not None and self.until(variables, run.trace):
                return index
            await asyncio.sleep(0)

    def _items(self, run: _Run) -> list[Any]:
        if self.count is not None:
            raw = run.render(self.count)
            try:
                return [None] * int(cv.positive_int(raw))
            except vol.Invalid as err:
                raise LinliError(f"repeat count is not a whole number: {raw!r}") from err
        assert self.for_each is not None
        items = run.render(self.for_each)
        if isinstance(items, str | bytes) or not isinstance(items, list | tuple):
            raise LinliError(f"repeat for_each is not a list: {items!r}")
        return list(items)

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        return (("repeat/sequence", self.steps),)


class Parallel(Step):
    """Run branches at the same time (each with its own copy of the variables)."""

    __slots__ = ("branches",)
    kind = "parallel"
    resumable_inside = False

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.branches = compile_sequence(hub, config[s.CONF_PARALLEL], f"{path}/parallel")

    async def run(self, run: _Run, record: dict[str, Any]) -> None:
        await run.async_run_parallel(self.branches)

    def sequences(self) -> Sequence[tuple[str, Sequence[Step]]]:
        return (("parallel", self.branches),)


_STEPS: Final[dict[str, type[Step]]] = {
    "call_service": CallService,
    "alert": Alert,
    "event": FireEvent,
    "variables": Variables,
    "stop": Stop,
    "condition": Condition,
    "delay": Delay,
    "wait_template": WaitTemplate,
    "wait_for_trigger": WaitForTrigger,
    "choose": Choose,
    "if": If,
    "sequence": SequenceStep,
    "repeat": Repeat,
    "parallel": Parallel,
}


# ---------------------------------------------------------------------------- delays by path


class DelayPlace:
    """Where a delay sits: the sequences around it, outermost first, and the index in each."""

    __slots__ = ("chain", "resumable", "step")

    def __init__(
        self, step: Delay, chain: list[tuple[Sequence[Step], int]], resumable: bool
    ) -> None:
        self.step = step
        self.chain = chain
        self.resumable = resumable


def index_delays(steps: Sequence[Step]) -> dict[str, DelayPlace]:
    """Map the path of every delay to its place, for resuming after a restart."""
    found: dict[str, DelayPlace] = {}

    def walk(
        steps: Sequence[Step], chain: list[tuple[Sequence[Step], int]], resumable: bool
    ) -> None:
        for index, step in enumerate(steps):
            here = [*chain, (steps, index)]
            if isinstance(step, Delay):
                found[step.path] = DelayPlace(step, here, resumable)
            for _segment, nested in step.sequences():
                walk(nested, here, resumable and step.resumable_inside)

    walk(steps, [], True)
    return found


def fingerprint(steps: Sequence[Step]) -> str:
    """Return a short digest of the script's shape (each step's path and kind).

    A persisted delay resumes only into a script of the same shape: an edit that moved its
    steps around while the hub was down must not continue somewhere else.
    """
    parts: list[str] = []

    def walk(steps: Sequence[Step]) -> None:
        for step in steps:
            parts.append(f"{step.path}:{step.kind}")
            for _segment, nested in step.sequences():
                walk(nested)

    walk(steps)
    return hashlib.sha1("|".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]
