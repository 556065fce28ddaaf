"""Triggers: validate trigger configs and attach them, built-in or integration-provided.

A trigger config is Home Assistant's: ``platform:`` (or the newer ``trigger:``) names the
platform, and every trigger may carry ``id``, ``alias``, ``enabled`` and ``variables``.
Built-in platforms: ``state``, ``numeric_state``, ``event``, ``time``, ``time_pattern``,
``template``, ``linli_start`` and Home Assistant's ``homeassistant`` (``event: start`` or
``shutdown``). Integrations add platforms through the ``linli_trigger_platforms`` hook.

Validation happens in two steps, because a schema has no hub to ask for integration
platforms: :data:`TRIGGER_SCHEMA` checks the common keys and the built-in platforms fully and
lets other platform names through; :func:`async_validate_trigger_config` (and
:func:`async_initialize_triggers`, which calls it) checks those against the hub's integrations.

When a trigger fires, the action gets the run variables ``{"trigger": {...}}`` — Home
Assistant's trigger variables: ``platform``, ``id``, ``idx``, ``alias``, ``description`` and
what the platform adds (``entity_id``, ``from_state``, ``to_state``, ``for``, ``event``,
``now`` …) — plus the trigger's own rendered ``variables``, and the context that caused it.

``for:`` (state, numeric_state and template) is persisted through
:mod:`linli.helpers.deadlines` when the caller gives a ``deadline_prefix``: a deadline
running when the hub stops is taken over at the next start, fires at its time, or at once with
``trigger.late`` true when it fell due while the hub was down. A persisted ``for:`` is only
taken over by the same trigger (same position, same config); otherwise it is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict, cast

import orjson
import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.exceptions import LinliError
from linli.template import (
    TemplateError,
    is_template_string,
    render_complex,
    template,
    template_complex,
)

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.context import Context
    from linli.hub import Hub

__all__ = [
    "TRIGGER_BASE_SCHEMA",
    "TRIGGER_SCHEMA",
    "TriggerAction",
    "TriggerActionType",
    "TriggerData",
    "TriggerInfo",
    "TriggerPlatform",
    "async_initialize_triggers",
    "async_validate_trigger_config",
    "valid_triggers",
]

_LOGGER = logging.getLogger(__name__)

CONF_PLATFORM: Final = "platform"
CONF_TRIGGER: Final = "trigger"
CONF_ID: Final = "id"
CONF_ALIAS: Final = "alias"
CONF_ENABLED: Final = "enabled"
CONF_VARIABLES: Final = "variables"
CONF_FOR: Final = "for"

BUILTIN_PLATFORMS: Final = {
    "state": "linli.helpers.triggers.state",
    "numeric_state": "linli.helpers.triggers.numeric_state",
    "event": "linli.helpers.triggers.event",
    "time": "linli.helpers.triggers.time",
    "time_pattern": "linli.helpers.triggers.time_pattern",
    "template": "linli.helpers.triggers.template",
    "linli_start": "linli.helpers.triggers.linli_start",
    "homeassistant": "linli.helpers.triggers.homeassistant",
}
"""Built-in platform name → module implementing :class:`TriggerPlatform`."""

TriggerAction = Callable[[dict[str, Any], "Context | None"], Coroutine[Any, Any, Any] | Any]
"""What :func:`async_initialize_triggers` calls: ``action(run_variables, context)``."""

TriggerActionType = Callable[[dict[str, Any], "Context | None"], None]
"""What a platform calls when its trigger fires: ``action(payload, context)``.

``payload`` holds the platform's trigger variables (``description`` and the platform's own
keys); the common ones (``platform``, ``id``, ``idx``, ``alias``) are added for it. Call it
on the event loop; it returns at once (a run starts as a task).
"""


class TriggerData(TypedDict):
    """The common trigger variables: which trigger of the list fired."""

    id: str
    idx: str
    alias: str | None


class TriggerInfo(TypedDict):
    """What a platform is told about the trigger it attaches.

    ``name`` names the owner in logs (an automation's alias). ``variables`` are the owner's
    trigger variables, for rendering limited templates. ``deadline_key`` is where a ``for:``
    should persist its deadlines (``<deadline_key>.<entity_id>``), or None for plain timers.
    ``hub_start`` is False when the trigger is attached by a reload rather than a start, so
    start triggers stay quiet.
    """

    name: str
    variables: Mapping[str, Any]
    trigger_data: TriggerData
    deadline_key: str | None
    hub_start: bool


class TriggerPlatform(Protocol):
    """A trigger platform: a module (or object) with a schema and an attach function.

    .. versionadded:: 0.2
    """

    TRIGGER_SCHEMA: Callable[[Any], dict[str, Any]]
    """Validates one trigger config of this platform (with ``platform`` and common keys)."""

    async def async_attach_trigger(
        self,
        hub: Hub,
        config: dict[str, Any],
        action: TriggerActionType,
        trigger_info: TriggerInfo,
    ) -> CancelCallback:
        """Start watching for ``config``; call ``action`` when it fires; return a detacher."""


# ---------------------------------------------------------------------------- templates


def _is_template_string(value: Any) -> bool:
    return isinstance(value, str) and is_template_string(value)


def positive_time_period_template(value: Any) -> Any:
    """A ``for:`` value: a duration, a template, or a mapping of templates and numbers."""
    if _is_template_string(value):
        return template(value)
    if isinstance(value, dict) and any(_is_template_string(item) for item in value.values()):
        return {
            key: template(item) if _is_template_string(item) else item
            for key, item in value.items()
        }
    return cv.positive_time_period(value)


def render_period(hub: Hub, value: Any, variables: Mapping[str, Any]) -> timedelta:
    """Return the ``for:`` duration, rendering its templates first; raise on a bad value."""
    if isinstance(value, timedelta):
        return value
    try:
        period: timedelta = cv.positive_time_period(render_complex(value, variables, hub))
    except vol.Invalid as err:
        raise LinliError(f"invalid 'for' duration: {err.msg}") from err
    return period


# ---------------------------------------------------------------------------- schemas


def _enabled(value: Any) -> Any:
    """``enabled``: a boolean, or a template rendered once when the trigger is attached."""
    if _is_template_string(value):
        return template(value)
    return cv.boolean(value)


TRIGGER_BASE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_PLATFORM): cv.string,
        vol.Optional(CONF_ID): cv.string,
        vol.Optional(CONF_ALIAS): cv.string,
        vol.Optional(CONF_ENABLED): _enabled,
        vol.Optional(CONF_VARIABLES): vol.All(dict, template_complex),
    }
)
"""The keys every trigger accepts; platforms ``.extend`` it."""

_platform_modules: dict[str, ModuleType] = {}


def _builtin(name: str) -> ModuleType | None:
    module = _platform_modules.get(name)
    if module is None and name in BUILTIN_PLATFORMS:
        module = _platform_modules[name] = importlib.import_module(BUILTIN_PLATFORMS[name])
    return module


def _normalize(value: Any) -> dict[str, Any]:
    """Accept ``trigger: state`` (Home Assistant 2024.10+) as ``platform: state``."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a trigger (a mapping with 'platform')")
    config: dict[str, Any] = value
    if CONF_PLATFORM not in config and isinstance(config.get(CONF_TRIGGER), str):
        config = {CONF_PLATFORM: config[CONF_TRIGGER], **config}
        del config[CONF_TRIGGER]
    elif CONF_PLATFORM not in config:
        raise vol.Invalid("required key not provided", path=[CONF_PLATFORM])
    return config


def TRIGGER_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - a schema, named like the others
    """Validate one trigger config; built-in platforms fully, others' common keys only."""
    config = _normalize(value)
    platform = cv.string(config[CONF_PLATFORM])
    module = _builtin(platform)
    if module is not None:
        return module.TRIGGER_SCHEMA(config)  # type: ignore[no-any-return]
    # An integration's platform: its own schema runs in async_validate_trigger_config.
    validated: dict[str, Any] = TRIGGER_BASE_SCHEMA.extend({}, extra=vol.ALLOW_EXTRA)(config)
    return validated


def valid_triggers(value: Any) -> list[dict[str, Any]]:
    """Validate a trigger or a list of triggers (a voluptuous validator)."""
    return vol.Schema([TRIGGER_SCHEMA])(cv.ensure_list(value))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- platforms


def _integration_platforms(hub: Hub) -> dict[str, TriggerPlatform]:
    """Return the trigger platforms the hub's integrations offer, by name."""
    loader = hub.loader
    if loader is None:
        return {}
    found: dict[str, TriggerPlatform] = {}
    try:
        results = loader.plugin_manager.hook.linli_trigger_platforms()
    except Exception:
        _LOGGER.exception("An integration's linli_trigger_platforms hook raised")
        return {}
    for result in results:
        for name, platform in (result or {}).items():
            if name in BUILTIN_PLATFORMS:
                _LOGGER.warning(
                    "An integration offers trigger platform %r, which is built in", name
                )
                continue
            found[name] = platform
    return found


def _get_platform(name: str, extra: dict[str, TriggerPlatform] | None) -> TriggerPlatform:
    module = _builtin(name)
    if module is not None:
        return cast("TriggerPlatform", module)
    if extra is not None and name in extra:
        return extra[name]
    known = sorted([*BUILTIN_PLATFORMS, *(extra or {})])
    raise vol.Invalid(
        f"unknown trigger platform {name!r} (known: {', '.join(known)})", path=[CONF_PLATFORM]
    )


async def async_validate_trigger_config(
    hub: Hub, trigger_configs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Validate triggers of integration platforms too; raise ``vol.Invalid`` with a path.

    The error's path starts with the trigger's index, so it can be located in the loaded
    config. Configs already validated by :data:`TRIGGER_SCHEMA` pass through unchanged.
    """
    extra: dict[str, TriggerPlatform] | None = None
    validated: list[dict[str, Any]] = []
    for idx, config in enumerate(trigger_configs):
        name = config.get(CONF_PLATFORM)
        try:
            if not isinstance(name, str):
                raise vol.Invalid("required key not provided", path=[CONF_PLATFORM])
            if name in BUILTIN_PLATFORMS:
                validated.append(config)
                continue
            if extra is None:
                extra = _integration_platforms(hub)
            platform = _get_platform(name, extra)
            validated.append(platform.TRIGGER_SCHEMA(config))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[idx, *err.path]) from err
    return validated


# ---------------------------------------------------------------------------- attaching


async def async_initialize_triggers(
    hub: Hub,
    trigger_configs: list[dict[str, Any]],
    action: TriggerAction,
    *,
    name: str,
    variables: Mapping[str, Any] | None = None,
    deadline_prefix: str | None = None,
    hub_start: bool = True,
) -> CancelCallback:
    """Attach every enabled trigger; return a function that detaches them all.

    ``action(run_variables, context)`` is called when one fires (a coroutine function runs
    as a task the hub tracks). ``variables`` are the owner's trigger variables (templates in
    ``for:``, ``enabled`` and the trigger's ``variables`` see them). With ``deadline_prefix``
    ``for:`` deadlines persist under ``<prefix>.<idx>.<entity_id>`` and persisted ones are
    taken over. ``hub_start=False`` (a reload) keeps start triggers from firing at once.

    Raises ``vol.Invalid`` for an unknown platform or an invalid integration trigger; a
    platform that fails to attach is logged with ``name`` and the others still attach.
    """
    configs = await async_validate_trigger_config(hub, trigger_configs)
    owner_variables: Mapping[str, Any] = variables or {}
    extra: dict[str, TriggerPlatform] | None = None
    removers: list[CancelCallback] = []
    for idx, config in enumerate(configs):
        if not _is_enabled(hub, config, owner_variables, name, idx):
            continue
        platform_name = config[CONF_PLATFORM]
        if platform_name not in BUILTIN_PLATFORMS and extra is None:
            extra = _integration_platforms(hub)
        platform = _get_platform(platform_name, extra)
        trigger_data = TriggerData(
            id=str(config.get(CONF_ID, idx)), idx=str(idx), alias=config.get(CONF_ALIAS)
        )
        info = TriggerInfo(
            name=name,
            variables=owner_variables,
            trigger_data=trigger_data,
            deadline_key=f"{deadline_prefix}.{idx}" if deadline_prefix else None,
            hub_start=hub_start,
        )
        wrapped = _wrap_action(hub, action, config, trigger_data, owner_variables, name)
        try:
            removers.append(await platform.async_attach_trigger(hub, config, wrapped, info))
        except Exception:
            _LOGGER.exception("Cannot attach trigger %s (%s) of %s", idx, platform_name, name)
    if deadline_prefix:
        _drop_unclaimed(hub, deadline_prefix)

    @callback
    def remove_all() -> None:
        for remove in removers:
            remove()
        removers.clear()

    return remove_all


def _drop_unclaimed(hub: Hub, prefix: str) -> None:
    """Forget persisted ``for:`` deadlines of these triggers that no trigger took over."""
    from linli.helpers.deadlines import get_deadlines

    deadlines = get_deadlines(hub)
    for deadline in deadlines.pending(prefix + "."):
        _LOGGER.info("Dropping persisted deadline %s: its trigger has changed", deadline.key)
        deadlines.async_drop(deadline.key)


def _is_enabled(
    hub: Hub, config: dict[str, Any], variables: Mapping[str, Any], name: str, idx: int
) -> bool:
    enabled = config.get(CONF_ENABLED, True)
    if isinstance(enabled, bool):
        return enabled
    try:
        return cv.boolean(render_complex(enabled, variables, hub, limited=True))
    except (TemplateError, vol.Invalid) as err:
        _LOGGER.error("Trigger %s of %s not attached: cannot render 'enabled': %s", idx, name, err)
        return False


def _wrap_action(
    hub: Hub,
    action: TriggerAction,
    config: dict[str, Any],
    trigger_data: TriggerData,
    owner_variables: Mapping[str, Any],
    name: str,
) -> TriggerActionType:
    """Return the platform-facing action: adds the common variables, runs ``action``."""
    platform = config[CONF_PLATFORM]
    trigger_variables = config.get(CONF_VARIABLES)
    label = f"trigger of {name}"

    @callback
    def fire(payload: dict[str, Any], context: Context | None) -> None:
        run_variables: dict[str, Any] = {
            "trigger": {"platform": platform, **trigger_data, **payload}
        }
        if trigger_variables:
            try:
                rendered = render_complex(
                    trigger_variables, {**owner_variables, **run_variables}, hub
                )
            except TemplateError as err:
                _LOGGER.error("Error rendering the variables of %s: %s", label, err)
                return
            run_variables.update(rendered)
        try:
            result = action(run_variables, context)
        except Exception:
            _LOGGER.exception("Error in the action of %s", label)
            return
        if asyncio.iscoroutine(result):
            hub.async_create_task(_await_logged(result, label), label)

    return fire


async def _await_logged(coro: Coroutine[Any, Any, Any], label: str) -> None:
    try:
        await coro
    except Exception:
        _LOGGER.exception("Error in the action of %s", label)


# ---------------------------------------------------------------------------- shared by platforms


def fingerprint(config: Mapping[str, Any]) -> str:
    """Return a short, stable digest of a trigger config (to recognise it after a restart)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, timedelta):
            return obj.total_seconds()
        for attr in ("template", "source"):
            text = getattr(obj, attr, None)
            if isinstance(text, str):
                return text
        return type(obj).__name__

    raw = orjson.dumps(
        {k: v for k, v in config.items() if k not in (CONF_ALIAS, CONF_ENABLED)},
        default=default,
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:12]
