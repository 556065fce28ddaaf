"""The blueprint document, in Home Assistant's schema, checked into file:line issues.

A blueprint file is the configuration it makes (for an automation: triggers, conditions,
actions…) with ``!input <name>`` where a user's choice goes, plus a ``blueprint:`` section::

    blueprint:
      name: Motion-activated Light
      domain: automation
      description: …            # optional, like source_url, author
      homeassistant: {min_version: 2024.6.0}   # accepted (Home Assistant's), not checked
      linli: {min_version: 0.2.0}              # checked against this core
      input:
        motion_entity:
          name: Motion Sensor
          selector: {entity: {filter: {domain: binary_sensor, device_class: motion}}}
        timing:                 # a section (Home Assistant 2024.6+): inputs grouped for the UI
          name: Timing
          collapsed: true
          input:
            no_motion_wait: {default: 120, selector: {number: {min: 0, max: 3600}}}

Input names are one namespace across sections: ``!input no_motion_wait`` works wherever it sits.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.blueprint.selectors import SELECTORS, UnknownSelectorError, validate_selector
from linli.config import ConfigIssue, Input, NodeDict, NodeList, issues_from_invalid, located
from linli.const import __version__

__all__ = [
    "BLUEPRINT_METADATA_SCHEMA",
    "NO_DEFAULT",
    "USE_BLUEPRINT_SCHEMA",
    "BlueprintInput",
    "InputSection",
    "ParsedBlueprint",
    "is_blueprint_config",
    "is_blueprint_instance_config",
    "parse_blueprint",
]


class _NoDefault:
    """The default of an input that has none (None is a default like any other)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault()


def version(value: Any) -> str:
    """A ``major.minor.patch`` version string, as Home Assistant writes min_version."""
    if not isinstance(value, str):
        raise vol.Invalid(f"write the version in quotes, e.g. '2024.6.0', not {value!r}")
    parts = value.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise vol.Invalid(f"expected a version major.minor.patch, e.g. '2024.6.0', got {value!r}")
    return value


def url(value: Any) -> str:
    """An http(s) URL."""
    text = cv.string(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise vol.Invalid(f"expected an http(s) URL, got {text!r}")
    return text


BLUEPRINT_METADATA_SCHEMA: Final = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("domain"): cv.slug,
        vol.Optional("description"): str,
        vol.Optional("source_url"): url,
        vol.Optional("author"): str,
        vol.Optional("homeassistant"): vol.Any(None, {vol.Optional("min_version"): version}),
        vol.Optional("linli"): vol.Any(None, {vol.Optional("min_version"): version}),
        # Checked input by input below, so each problem is located on its own line.
        vol.Optional("input"): vol.Any(None, dict),
        # Home Assistant's old discovery hints; nothing uses them.
        vol.Optional("discovery"): list,
    }
)
"""The ``blueprint:`` section (its inputs are checked separately)."""

INPUT_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("description"): str,
        vol.Optional("default"): object,
        vol.Optional("selector"): object,
    }
)
SECTION_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("icon"): str,
        vol.Optional("description"): str,
        vol.Optional("collapsed"): bool,
        vol.Required("input"): vol.Any(None, dict),
    }
)


def blueprint_path(value: Any) -> str:
    """A blueprint's path relative to its domain folder: ``<folder>/<name>.yaml``, normalised.

    Absolute paths and ``..`` are refused: a configuration must not reach files outside the
    blueprint folders.
    """
    text = cv.string(value).strip().replace("\\", "/")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if text.startswith("/") or ".." in parts or not parts:
        raise vol.Invalid(
            f"expected a path inside the blueprint folder, like 'homeassistant/motion_light.yaml'"
            f", got {text!r}"
        )
    if not parts[-1].endswith(".yaml"):
        raise vol.Invalid(f"a blueprint path ends in .yaml, got {text!r}")
    return "/".join(parts)


USE_BLUEPRINT_SCHEMA: Final = vol.Schema(
    {vol.Required("path"): blueprint_path, vol.Optional("input"): vol.Any(None, dict)}
)
"""The ``use_blueprint:`` mapping of a configuration made from a blueprint."""


@dataclass(frozen=True, slots=True)
class BlueprintInput:
    """One input a blueprint declares (sections flattened away)."""

    key: str
    """What ``!input`` and ``use_blueprint.input`` call it."""
    name: str | None = None
    description: str | None = None
    default: Any = NO_DEFAULT
    selector: dict[str, Any] | None = None
    """Validated ``{type: options}``, or None when the blueprint gives no selector."""
    section: str | None = None
    """The key of the section it sits in, if any."""
    file: str | None = None
    line: int | None = None

    @property
    def has_default(self) -> bool:
        """Whether the input may be left out."""
        return self.default is not NO_DEFAULT

    @property
    def selector_type(self) -> str | None:
        """The selector's type (``entity``, ``number``…), or None."""
        return next(iter(self.selector)) if self.selector else None


@dataclass(frozen=True, slots=True)
class InputSection:
    """A group of inputs shown together (Home Assistant 2024.6+); only the UI cares."""

    key: str
    name: str | None = None
    icon: str | None = None
    description: str | None = None
    collapsed: bool = False
    inputs: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedBlueprint:
    """What :func:`parse_blueprint` found in a valid blueprint document."""

    metadata: dict[str, Any]
    inputs: dict[str, BlueprintInput] = field(default_factory=dict)
    sections: dict[str, InputSection] = field(default_factory=dict)
    placeholders: list[Input] = field(default_factory=list)
    """Every ``!input`` in the body, in document order."""


def is_blueprint_config(config: Any) -> bool:
    """Whether ``config`` is a blueprint document."""
    return isinstance(config, Mapping) and "blueprint" in config


def is_blueprint_instance_config(config: Any) -> bool:
    """Whether ``config`` uses a blueprint (has ``use_blueprint:``)."""
    return isinstance(config, Mapping) and "use_blueprint" in config


def where(container: Any, key: Any) -> tuple[str | None, int | None]:
    """Return the file and line of ``container[key]`` as written, else of the container."""
    if isinstance(container, NodeDict | NodeList):
        file, line = container.location_of(key)
        if line is not None:
            return file, line
    return located(container)


def parse_blueprint(
    data: Any, *, file: str | None = None, expected_domain: str | None = None
) -> tuple[ParsedBlueprint | None, list[ConfigIssue]]:
    """Check a loaded blueprint document; return what it declares and every issue found.

    ``file`` locates issues when ``data`` carries no location (it was not loaded from YAML).
    The result is None when there are issues.
    """
    checker = _Checker(file)
    parsed = checker.check(data, expected_domain)
    if checker.issues:
        return None, checker.issues
    return parsed, []


class _Checker:
    """Collects the issues of one blueprint document."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []
        self.inputs: dict[str, BlueprintInput] = {}
        self.sections: dict[str, InputSection] = {}
        # Every input name met, valid or not: where it was first declared.
        self.seen: dict[str, tuple[str | None, int | None]] = {}

    def report(self, spot: tuple[str | None, int | None], key: str | None, message: str) -> None:
        file, line = spot
        self.issues.append(ConfigIssue(file or self.file, line, key, message))

    def invalid(self, err: vol.Invalid, config: Any, key: str, spot: Any, schema: Any) -> None:
        file, line = spot
        self.issues.extend(
            issues_from_invalid(
                err,
                config,
                domain=key,
                default_file=file or self.file,
                default_line=line,
                schema=schema,
            )
        )

    def check(self, data: Any, expected_domain: str | None) -> ParsedBlueprint | None:
        if not is_blueprint_config(data) or not isinstance(data["blueprint"], Mapping):
            self.report(
                located(data),
                None,
                "not a blueprint: a blueprint file starts with a 'blueprint:' section "
                "(name, domain, input) above the configuration it makes",
            )
            return None
        section = data["blueprint"]
        spot = where(data, "blueprint")
        try:
            metadata = BLUEPRINT_METADATA_SCHEMA(section)
        except vol.Invalid as err:
            self.invalid(err, section, "blueprint", spot, BLUEPRINT_METADATA_SCHEMA)
            metadata = None
        if metadata is not None:
            if expected_domain is not None and metadata["domain"] != expected_domain:
                self.report(
                    where(section, "domain"),
                    "blueprint.domain",
                    f"this is a {metadata['domain']!r} blueprint, where an {expected_domain!r} "
                    "blueprint is needed",
                )
            self.check_min_version(metadata, section)
        # The inputs are checked even when other metadata is wrong, so one run reports all.
        declared = section.get("input")
        if isinstance(declared, Mapping):
            for key, value in declared.items():
                self.check_entry(key, value, declared)
        placeholders = list(_find_inputs(data))
        for marker in placeholders:
            if marker.name not in self.seen:
                self.report(located(marker), None, self.undeclared(marker.name))
        if metadata is None:
            return None
        return ParsedBlueprint(metadata, self.inputs, self.sections, placeholders)

    def check_min_version(self, metadata: dict[str, Any], section: Any) -> None:
        wanted = (metadata.get("linli") or {}).get("min_version")
        if wanted is None:
            return
        if _version_tuple(wanted) > _version_tuple(__version__):
            self.report(
                where(section.get("linli"), "min_version"),
                "blueprint.linli.min_version",
                f"needs Linli {wanted} or newer; this is Linli {__version__}",
            )

    def undeclared(self, name: str) -> str:
        message = f"'!input {name}' is not declared under blueprint.input"
        close = difflib.get_close_matches(name, self.seen, n=1)
        if close:
            return f"{message} (did you mean {close[0]!r}?)"
        if self.seen:
            return f"{message}; its inputs are: {', '.join(self.seen)}"
        return message

    def check_entry(self, key: Any, value: Any, container: Any) -> None:
        path = f"blueprint.input.{key}"
        if not isinstance(key, str):
            self.report(where(container, key), path, "an input's name must be text")
            return
        if not (isinstance(value, Mapping) and "input" in value):
            self.check_input(key, value, container, path, None)
            return
        spot = where(container, key)
        try:
            SECTION_SCHEMA(value)
        except vol.Invalid as err:
            self.invalid(err, value, path, spot, SECTION_SCHEMA)
            return
        inner = value["input"] or {}
        for inner_key, inner_value in inner.items():
            if isinstance(inner_key, str):
                self.check_input(
                    inner_key, inner_value, inner, f"{path}.input.{inner_key}", section=key
                )
            else:
                self.report(where(inner, inner_key), path, "an input's name must be text")
        self.sections[key] = InputSection(
            key,
            name=value.get("name"),
            icon=value.get("icon"),
            description=value.get("description"),
            collapsed=bool(value.get("collapsed", False)),
            inputs=tuple(k for k in inner if isinstance(k, str)),
        )

    def check_input(
        self, key: str, value: Any, container: Any, path: str, section: str | None
    ) -> None:
        spot = where(container, key)
        if key in self.seen:
            file, line = self.seen[key]
            self.report(spot, path, f"input {key!r} is declared twice (first at {file}:{line})")
            return
        self.seen[key] = (spot[0] or self.file, spot[1])
        if value is None:
            value = {}
        elif not isinstance(value, Mapping):
            self.report(
                spot,
                path,
                "an input is a mapping of name, description, default and selector "
                f"(or empty), not {type(value).__name__}",
            )
            return
        try:
            INPUT_SCHEMA(value)
        except vol.Invalid as err:
            self.invalid(err, value, path, spot, INPUT_SCHEMA)
            return
        selector = None
        if value.get("selector") is not None:
            selector = self.check_selector(value["selector"], where(value, "selector"), path)
            if selector is None:
                return
        self.inputs[key] = BlueprintInput(
            key,
            name=value.get("name"),
            description=value.get("description"),
            default=value.get("default", NO_DEFAULT),
            selector=selector,
            section=section,
            file=spot[0] or self.file,
            line=spot[1],
        )

    def check_selector(
        self, raw: Any, spot: tuple[str | None, int | None], path: str
    ) -> dict[str, Any] | None:
        key = f"{path}.selector"
        try:
            return validate_selector(raw)
        except UnknownSelectorError as err:
            at = where(raw, err.path[0]) if err.path else spot
            self.report(at if at[1] is not None else spot, key, err.msg)
        except vol.Invalid as err:
            kind = err.path[0] if err.path else None
            schema = {kind: SELECTORS[kind].options} if kind in SELECTORS else None
            self.invalid(err, raw, key, spot, schema)
        return None


def _find_inputs(data: Mapping[str, Any]) -> Iterator[Input]:
    """Yield every ``!input`` marker in the body (everything but the ``blueprint:`` section)."""
    stack: list[Any] = [value for key, value in data.items() if key != "blueprint"][::-1]
    while stack:
        value = stack.pop()
        if isinstance(value, Input):
            yield value
        elif isinstance(value, Mapping):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())
