"""Automation configs: validate each on its own, report problems at file:line, give ids.

The ``automation:`` section is a list (usually ``!include automations.yaml``) in Home
Assistant's format, old keys (``trigger``/``condition``/``action``, ``platform:``) and new
(``triggers``/``conditions``/``actions``, ``trigger:``) alike. Each automation is validated
alone: a broken one is reported with its file and line and left out; the others run.

An automation without ``id`` gets one, stable across restarts for as long as what it is made
from stays the same: its alias (``Gate open at night`` → ``gate_open_at_night``; an alias
with no Latin letters → ``alias_<first 8 hex digits of its SHA-1>``), or without an alias its
position in the list (``automation_3`` for the fourth). Persisted ``for:`` timers and delays,
the on/off state and the traces follow the id, so an automation whose alias or position may
change should have an ``id`` of its own. Two automations with the same explicit id are an
error; generated ids that collide get ``_2``, ``_3`` ….
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.config import ConfigIssue, issues_from_invalid, located
from linli.helpers.condition import valid_conditions
from linli.helpers.script import SCRIPT_MODE_SCHEMA, valid_actions
from linli.helpers.trace import DEFAULT_STORED_TRACES
from linli.helpers.trigger import async_validate_trigger_config, valid_triggers
from linli.registry.entities import slugify_object_id
from linli.template import template_complex

if TYPE_CHECKING:
    from linli.hub import Hub

DOMAIN: Final = "automation"

CONF_ID: Final = "id"
CONF_ALIAS: Final = "alias"
CONF_DESCRIPTION: Final = "description"
CONF_INITIAL_STATE: Final = "initial_state"
CONF_MODE: Final = "mode"
CONF_MAX: Final = "max"
CONF_MAX_EXCEEDED: Final = "max_exceeded"
CONF_TRACE: Final = "trace"
CONF_STORED_TRACES: Final = "stored_traces"
CONF_VARIABLES: Final = "variables"
CONF_TRIGGER_VARIABLES: Final = "trigger_variables"
CONF_TRIGGERS: Final = "triggers"
CONF_CONDITIONS: Final = "conditions"
CONF_ACTIONS: Final = "actions"

_LOG_LEVELS: Final = ("silent", "critical", "error", "warning", "info", "debug", "notset")

# (canonical key, the older singular Home Assistant still accepts, validator, required)
_SECTIONS: Final[tuple[tuple[str, str, Callable[[Any], Any], bool], ...]] = (
    (CONF_TRIGGERS, "trigger", valid_triggers, True),
    (CONF_CONDITIONS, "condition", valid_conditions, False),
    (CONF_ACTIONS, "action", valid_actions, True),
)

_OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_ID): cv.string,
        vol.Optional(CONF_ALIAS): cv.string,
        vol.Optional(CONF_DESCRIPTION): cv.string,
        vol.Optional(CONF_INITIAL_STATE): cv.boolean,
        **SCRIPT_MODE_SCHEMA,
        vol.Optional(CONF_MAX_EXCEEDED): vol.All(vol.Lower, vol.In(_LOG_LEVELS)),
        vol.Optional(CONF_TRACE, default=dict): {
            vol.Optional(CONF_STORED_TRACES, default=DEFAULT_STORED_TRACES): vol.All(
                vol.Coerce(int), vol.Range(min=0)
            )
        },
        vol.Optional(CONF_VARIABLES): vol.All(dict, template_complex),
        vol.Optional(CONF_TRIGGER_VARIABLES): vol.All(dict, template_complex),
    }
)
"""Every key of an automation but its triggers, conditions and actions."""


def section_schema(value: Any) -> list[Any]:
    """The ``automation:`` section as the loader validates it: a list, checked item by item later.

    The items come back as loaded (with their file and line) so problems in one automation
    can be reported where they are and leave the others running.
    """
    if value is None or value == {}:
        return []
    if isinstance(value, dict):
        return [value]  # a single automation written as a mapping
    if isinstance(value, list):
        return value
    raise vol.Invalid("expected a list of automations (usually !include automations.yaml)")


def validate_automation(config: Any) -> dict[str, Any]:
    """Validate one automation; every problem is raised at once, with its path."""
    if not isinstance(config, dict):
        raise vol.Invalid("expected an automation (a mapping with triggers and actions)")
    errors: list[vol.Invalid] = []
    rest = dict(config)
    sections: dict[str, Any] = {}
    for key, old_key, validator, required in _SECTIONS:
        present = [name for name in (key, old_key) if name in rest]
        if len(present) == 2:
            errors.append(vol.Invalid(f"use '{key}' or '{old_key}', not both", path=[old_key]))
        if not present:
            if required:
                errors.append(vol.Invalid("required key not provided", path=[key]))
            else:
                sections[key] = []
            continue
        name = present[0]
        value = rest.pop(name)
        rest.pop(old_key, None)
        try:
            sections[key] = validator(value)
        except vol.Invalid as err:
            errors.extend(_prefixed(err, name))
    try:
        options: dict[str, Any] = _OPTIONS_SCHEMA(rest)
    except vol.Invalid as err:
        errors.extend(_prefixed(err, None))
        options = {}
    if errors:
        raise vol.MultipleInvalid(errors)
    return {**options, **sections}


def _prefixed(err: vol.Invalid, key: str | None) -> list[vol.Invalid]:
    items = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    prefix = [] if key is None else [key]
    return [
        type(item)(item.msg, path=[*prefix, *item.path], error_message=item.error_message)
        for item in items
    ]


@dataclass(frozen=True)
class ValidAutomation:
    """An automation that passed validation."""

    index: int
    """Its position in the section."""
    automation_id: str
    config: dict[str, Any]
    """The validated config."""
    source: Any
    """What was validated, as loaded (with file and line): what the user wrote, or what
    their blueprint made of it. A reload compares it to spot changes."""


@dataclass
class LoadedAutomations:
    """The automations of a section: the valid ones with their ids, and the problems."""

    valid: list[ValidAutomation] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    """The ids of every automation configured, valid or not (to keep their persisted state)."""
    issues: list[ConfigIssue] = field(default_factory=list)


def load_automations(
    configs: Sequence[Any | None],
    made_from: Sequence[Any] | None = None,
) -> LoadedAutomations:
    """Validate each automation and give it its id (see the module docstring).

    ``made_from[i]`` is what the user wrote for ``configs[i]`` when that differs (a
    blueprint's ``use_blueprint``), or None; it is what the id is made from. A config of
    None could not be made (its problem is reported elsewhere): it only keeps its id.
    """
    loaded = LoadedAutomations()
    explicit: dict[str, int] = {}
    for index, config in enumerate(configs):
        written = made_from[index] if made_from and made_from[index] is not None else config
        if isinstance(written, dict) and written.get(CONF_ID) is not None:
            explicit.setdefault(str(written[CONF_ID]), index)
    taken = set(explicit)
    for index, config in enumerate(configs):
        written = made_from[index] if made_from and made_from[index] is not None else config
        key = f"{DOMAIN}[{index}]"
        validated = None
        try:
            if config is not None:
                validated = validate_automation(config)
        except vol.Invalid as err:
            file, line = located(written)
            loaded.issues.extend(
                issues_from_invalid(err, config, domain=key, default_file=file, default_line=line)
            )
        automation_id = _automation_id(written, index, explicit, taken)
        if automation_id is None:
            file, line = located(written)
            loaded.issues.append(
                ConfigIssue(file, line, f"{key}.{CONF_ID}", "this id is used by another automation")
            )
            continue
        loaded.ids.add(automation_id)
        if validated is not None:
            loaded.valid.append(ValidAutomation(index, automation_id, validated, config))
    return loaded


async def async_check_triggers(hub: Hub, loaded: LoadedAutomations) -> None:
    """Check triggers of integration platforms (a schema alone cannot); drop failures."""
    kept: list[ValidAutomation] = []
    for entry in loaded.valid:
        try:
            await async_validate_trigger_config(hub, entry.config[CONF_TRIGGERS])
        except vol.Invalid as err:
            source = entry.source
            key = CONF_TRIGGERS if CONF_TRIGGERS in source else "trigger"
            file, line = located(source)
            loaded.issues.extend(
                issues_from_invalid(
                    vol.Invalid(err.msg, path=[key, *err.path]),
                    source,
                    domain=f"{DOMAIN}[{entry.index}]",
                    default_file=file,
                    default_line=line,
                )
            )
            continue
        kept.append(entry)
    loaded.valid = kept


def _automation_id(
    written: Any, index: int, explicit: dict[str, int], taken: set[str]
) -> str | None:
    """Return the automation's id (None for a duplicate explicit id)."""
    if isinstance(written, dict) and written.get(CONF_ID) is not None:
        automation_id = str(written[CONF_ID])
        return automation_id if explicit.get(automation_id) == index else None
    alias = written.get(CONF_ALIAS) if isinstance(written, dict) else None
    if isinstance(alias, str) and alias.strip():
        base = slugify_object_id(alias) or (
            "alias_" + hashlib.sha1(alias.encode(), usedforsecurity=False).hexdigest()[:8]
        )
    else:
        base = f"{DOMAIN}_{index}"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    taken.add(candidate)
    return candidate
