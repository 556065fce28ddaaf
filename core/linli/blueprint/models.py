"""A blueprint, and a configuration that uses it with its inputs filled in."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from linli.blueprint.schema import (
    BlueprintInput,
    InputSection,
    is_blueprint_instance_config,
    parse_blueprint,
    where,
)
from linli.blueprint.selectors import check_value
from linli.config import ConfigError, ConfigIssue, Input, NodeDict, NodeList, located

__all__ = ["Blueprint", "BlueprintError", "BlueprintInputs", "SubstitutedConfig", "substitute"]


class BlueprintError(ConfigError):
    """A blueprint, or a configuration using one, is invalid; ``issues`` says where and why."""


class Blueprint:
    """A valid blueprint document: its metadata, its inputs and the body they go into."""

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        path: str | None = None,
        expected_domain: str | None = None,
    ) -> None:
        """Check ``data`` (as loaded); raise :class:`BlueprintError` with every issue found.

        ``path`` names the blueprint in messages (``automation/motion_light.yaml``) and
        locates issues when ``data`` was not loaded from a file.
        """
        parsed, issues = parse_blueprint(data, file=path, expected_domain=expected_domain)
        if parsed is None:
            raise BlueprintError(issues)
        self.data = data
        self.path = path
        self.metadata: dict[str, Any] = parsed.metadata
        self.inputs: dict[str, BlueprintInput] = parsed.inputs
        """Every input by key, sections flattened away, in document order."""
        self.sections: dict[str, InputSection] = parsed.sections
        self.placeholders: set[str] = {marker.name for marker in parsed.placeholders}
        """The inputs the body uses through ``!input``."""

    @property
    def name(self) -> str:
        """The blueprint's name."""
        name: str = self.metadata["name"]
        return name

    @property
    def domain(self) -> str:
        """What it makes: ``automation``, ``script``…"""
        domain: str = self.metadata["domain"]
        return domain

    @property
    def description(self) -> str | None:
        """Its description, if any."""
        return self.metadata.get("description")

    @property
    def source_url(self) -> str | None:
        """Where it was published, if known."""
        return self.metadata.get("source_url")

    @property
    def author(self) -> str | None:
        """Its author, if given."""
        return self.metadata.get("author")

    @property
    def body(self) -> dict[str, Any]:
        """The configuration it makes, ``!input`` markers still in place."""
        return {key: value for key, value in self.data.items() if key != "blueprint"}

    def __repr__(self) -> str:
        """Return ``<Blueprint automation 'Name'>``."""
        return f"<Blueprint {self.domain} {self.name!r}>"


class SubstitutedConfig(NodeDict):
    """A configuration made from a blueprint; ``blueprint_inputs`` says which, with what."""

    blueprint_inputs: BlueprintInputs


class BlueprintInputs:
    """A configuration that uses a blueprint (``use_blueprint: {path, input}``).

    Home Assistant's rules: an input the user leaves out takes its default; the configuration's
    own keys (``id``, ``alias``, ``description``…) win over the blueprint body's.
    """

    def __init__(self, blueprint: Blueprint, config_with_inputs: Mapping[str, Any]) -> None:
        """Pair ``blueprint`` with the configuration that uses it."""
        if not is_blueprint_instance_config(config_with_inputs):
            raise ValueError("the configuration has no use_blueprint")
        self.blueprint = blueprint
        self.config_with_inputs = config_with_inputs

    @property
    def use_blueprint(self) -> Mapping[str, Any]:
        """The ``use_blueprint:`` mapping."""
        use: Mapping[str, Any] = self.config_with_inputs["use_blueprint"]
        return use

    @property
    def inputs(self) -> Mapping[str, Any]:
        """The inputs the user gave."""
        given = self.use_blueprint.get("input")
        return given if isinstance(given, Mapping) else {}

    @property
    def inputs_with_default(self) -> dict[str, Any]:
        """The inputs the user gave, plus the default of each one left out that has one."""
        values = dict(self.inputs)
        for key, declared in self.blueprint.inputs.items():
            if key not in values and declared.has_default:
                values[key] = declared.default
        return values

    def validate(self) -> list[ConfigIssue]:
        """Return every problem with the inputs, located in the configuration.

        A missing input is reported at ``use_blueprint``; an unknown one, or a value that does
        not suit the input's selector, at its key.
        """
        blueprint = self.blueprint
        issues: list[ConfigIssue] = []
        title = f"blueprint {blueprint.name!r}" + (f" ({blueprint.path})" if blueprint.path else "")
        use_spot = where(self.config_with_inputs, "use_blueprint")
        given = self.inputs
        for key, declared in blueprint.inputs.items():
            if key not in given and not declared.has_default:
                label = f" ({declared.name})" if declared.name and declared.name != key else ""
                issues.append(
                    ConfigIssue(
                        *use_spot,
                        "use_blueprint",
                        f"missing input {key!r}{label}: {title} needs it and it has no default",
                    )
                )
        container = self.use_blueprint.get("input")
        for key, value in given.items():
            spot = where(container, key)
            declared_input = blueprint.inputs.get(key)
            if declared_input is None:
                issues.append(
                    ConfigIssue(*spot, f"use_blueprint.input.{key}", self._unknown(key, title))
                )
                continue
            problem = _value_problem(declared_input, value)
            if problem is not None:
                # Blamed at its key, as config issues are, unless it came from another file.
                own = located(value)
                at = own if own[1] is not None and own[0] != spot[0] else spot
                issues.append(ConfigIssue(*at, f"use_blueprint.input.{key}", problem))
        return issues

    def _unknown(self, key: Any, title: str) -> str:
        declared = list(self.blueprint.inputs)
        message = f"{title} has no input {key!r}"
        close = difflib.get_close_matches(str(key), declared, n=1)
        if close:
            return f"{message} (did you mean {close[0]!r}?)"
        return f"{message}; its inputs are: {', '.join(declared) or 'none'}"

    def substitute(self) -> SubstitutedConfig:
        """Return the plain configuration: the body with every ``!input`` replaced.

        Raises :class:`BlueprintError` when :meth:`validate` finds problems. Values keep the
        locations they were written at (the blueprint file for its structure and defaults, the
        configuration for the user's inputs), so later validation points at the right line.
        """
        issues = self.validate()
        if issues:
            raise BlueprintError(issues)
        body = substitute(self.blueprint.body, self.inputs_with_default)
        source = self.blueprint.data
        file, line = located(self.config_with_inputs)
        result = SubstitutedConfig()
        result.__config_file__, result.__line__ = file, line
        for key, value in body.items():
            result[key] = value
            if isinstance(source, NodeDict):
                result.key_files[key], found = source.location_of(key)
                if found is not None:
                    result.key_lines[key] = found
        for key, value in self.config_with_inputs.items():
            if key == "use_blueprint":
                continue
            result[key] = value
            result.key_files.pop(key, None)
            result.key_lines.pop(key, None)
            if isinstance(self.config_with_inputs, NodeDict):
                key_file, key_line = self.config_with_inputs.location_of(key)
                if key_file != file:
                    result.key_files[key] = key_file
                if key_line is not None:
                    result.key_lines[key] = key_line
        result.blueprint_inputs = self
        return result


def _value_problem(declared: BlueprintInput, value: Any) -> str | None:
    """Say why ``value`` does not suit the input, or None if it does."""
    if declared.selector is None:
        return None
    # The blueprint's own default is taken as valid: Home Assistant blueprints often use "" or
    # [] as "nothing chosen", which no selector would accept.
    if declared.has_default and value == declared.default:
        return None
    try:
        check_value(declared.selector, value)
    except vol.Invalid as err:
        kind = declared.selector_type
        return f"invalid value for input {declared.key!r} ({kind} selector): {err.msg}"
    return None


def substitute(value: Any, inputs: Mapping[str, Any]) -> Any:
    """Return a copy of ``value`` with each ``!input`` replaced by its value in ``inputs``.

    Containers are copied with their locations; a name missing from ``inputs`` raises KeyError
    (check with :meth:`BlueprintInputs.validate` first).
    """
    return _rebuild(value, inputs)


def _rebuild(value: Any, inputs: Mapping[str, Any] | None) -> Any:
    """Copy ``value``; replace ``!input`` markers from ``inputs``, or keep them when None."""
    if isinstance(value, Input):
        if inputs is None:
            return value
        # The same input may be used in several places: each gets its own copy, so nothing
        # later edits one place through another. The value's own markers are left alone.
        return _rebuild(inputs[value.name], None)
    if isinstance(value, NodeDict):
        copied = NodeDict({key: _rebuild(item, inputs) for key, item in value.items()})
        _keep_location(value, copied)
        copied.key_lines.update(value.key_lines)
        copied.key_files.update(value.key_files)
        copied.sensitive_keys.update(value.sensitive_keys)
        return copied
    if isinstance(value, NodeList):
        copied_list = NodeList([_rebuild(item, inputs) for item in value])
        _keep_location(value, copied_list)
        copied_list.item_lines.update(value.item_lines)
        copied_list.item_files.update(value.item_files)
        copied_list.sensitive_items.update(value.sensitive_items)
        return copied_list
    if isinstance(value, Mapping):
        return {key: _rebuild(item, inputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebuild(item, inputs) for item in value]
    return value


def _keep_location(source: NodeDict | NodeList, copy: NodeDict | NodeList) -> None:
    copy.__config_file__, copy.__line__ = located(source)
