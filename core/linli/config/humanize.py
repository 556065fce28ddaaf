"""Turn voluptuous errors into readable, located :class:`ConfigIssue` objects.

Each error's path is walked through the loaded :class:`NodeDict`/:class:`NodeList` structure to
find the file and line to blame. A value is never shown when its key looks like a credential
(password, token, secret, key) or when it came from ``!secret`` or ``!env_var``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from linli.config.issues import ConfigIssue
from linli.config.yaml_loader import NodeDict, NodeList, located

__all__ = ["issues_from_invalid", "located"]

_SENSITIVE_WORDS: Final = ("password", "token", "secret", "key")
_MAX_VALUE_LENGTH: Final = 60
_EXTRA_KEYS: Final = "extra keys not allowed"
_REQUIRED: Final = "required key not provided"
# voluptuous appends these to some messages; the key path already says where.
_SUFFIXES: Final = (" for dictionary value", " for mapping value")


def issues_from_invalid(
    err: vol.Invalid,
    config: Any,
    *,
    domain: str | None = None,
    default_file: str | None = None,
    default_line: int | None = None,
    schema: Any = None,
) -> list[ConfigIssue]:
    """Return one located issue per error in ``err`` (an Invalid or MultipleInvalid).

    ``config`` is the data that was validated, as loaded (so it carries locations). Give
    ``domain`` when ``config`` is that domain's section: key paths are then prefixed with it.
    ``default_file``/``default_line`` locate errors when ``config`` itself has no location
    (e.g. a section that is a bare number). Give ``schema`` (what validated ``config``) to get
    "did you mean" suggestions for unknown keys.
    """
    issues = [
        _issue(
            error,
            config,
            domain=domain,
            default_file=default_file,
            default_line=default_line,
            schema=schema,
        )
        for error in _flatten(err)
    ]
    return list(dict.fromkeys(issues))


def _flatten(err: vol.Invalid) -> Iterator[vol.Invalid]:
    if isinstance(err, vol.MultipleInvalid) and err.errors:
        for error in err.errors:
            yield from _flatten(error)
    else:
        yield err


@dataclass
class _Spot:
    """How far a path could be followed into the config, and where that is."""

    depth: int
    value: Any
    file: str | None
    line: int | None
    sensitive: bool


def _walk(config: Any, path: Sequence[Any], file: str | None, line: int | None) -> _Spot:
    own_file, own_line = located(config)
    if own_file is not None or own_line is not None:
        file, line = own_file, own_line
    current, sensitive = config, False
    for depth, element in enumerate(path):
        key_file: str | None = None
        key_line: int | None = None
        if isinstance(current, dict) and _contains(current, element):
            child = current[element]
            if isinstance(current, NodeDict):
                key_file, key_line = current.location_of(element)
                sensitive = sensitive or element in current.sensitive_keys
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            child = current[element]
            if isinstance(current, NodeList):
                key_file, key_line = current.location_of(element)
                sensitive = sensitive or element in current.sensitive_items
        else:
            return _Spot(depth, current, file, line, sensitive)
        child_file, child_line = located(child)
        # A value brought in from another file (!include) is reported where it lives;
        # otherwise at its key, which is where the user wrote it.
        if child_line is not None and child_file != key_file:
            file, line = child_file, child_line
        elif key_line is not None:
            file, line = key_file, key_line
        elif child_line is not None:
            file, line = child_file, child_line
        current = child
    return _Spot(len(path), current, file, line, sensitive)


def _contains(mapping: dict[Any, Any], key: Any) -> bool:
    try:
        return key in mapping
    except TypeError:  # an unhashable path element cannot be a key
        return False


def _key_path(domain: str | None, path: Iterable[Any]) -> str | None:
    text = domain or ""
    for element in path:
        if isinstance(element, int) and not isinstance(element, bool):
            text += f"[{element}]"
        else:
            text += f".{element}" if text else str(element)
    return text or None


def _is_sensitive_name(element: Any) -> bool:
    return isinstance(element, str) and any(word in element.lower() for word in _SENSITIVE_WORDS)


def _describe(value: Any) -> str:
    if value is None:
        return "got an empty value"
    if isinstance(value, dict):
        return "got a mapping"
    if isinstance(value, list):
        return "got a list"
    text = repr(value)
    if len(text) > _MAX_VALUE_LENGTH:
        text = text[: _MAX_VALUE_LENGTH - 3] + "..."
    return f"got {text}"


def _issue(
    error: vol.Invalid,
    config: Any,
    *,
    domain: str | None,
    default_file: str | None,
    default_line: int | None,
    schema: Any,
) -> ConfigIssue:
    path = list(error.path)
    message = error.msg

    if path and (isinstance(error, vol.RequiredFieldInvalid) or message == _REQUIRED):
        # The key is absent: blame the mapping that should hold it.
        parent = _walk(config, path[:-1], default_file, default_line)
        return ConfigIssue(
            parent.file,
            parent.line,
            _key_path(domain, path[:-1]),
            f"missing required key {_quote(path[-1])}",
        )

    spot = _walk(config, path, default_file, default_line)
    if path and message == _EXTRA_KEYS:
        text = f"unknown key {_quote(path[-1])}"
        parent = _walk(config, path[:-1], None, None).value
        suggestion = _suggest(path[-1], schema, path[:-1], parent)
        if suggestion is not None:
            text += f" (did you mean {_quote(suggestion)}?)"
        return ConfigIssue(spot.file, spot.line, _key_path(domain, path), text)

    for suffix in _SUFFIXES:
        message = message.removesuffix(suffix)
    redact = spot.sensitive or any(_is_sensitive_name(element) for element in path)
    if redact and isinstance(spot.value, str) and len(spot.value) >= 4:
        # A custom validator may have quoted the value in its message.
        message = message.replace(spot.value, "***")
    if spot.depth == len(path) and not redact and repr(spot.value) not in message:
        message += f", {_describe(spot.value)}"
    return ConfigIssue(spot.file, spot.line, _key_path(domain, path), message)


def _quote(key: Any) -> str:
    return f"'{key}'" if isinstance(key, str) else repr(key)


def _suggest(key: Any, schema: Any, path: Sequence[Any], present: Any) -> str | None:
    if schema is None or not isinstance(key, str):
        return None
    # Keys already in the mapping are not what the user meant to type.
    known = [
        k for k in _known_keys(schema, path) if not (isinstance(present, dict) and k in present)
    ]
    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _raw_key(key: Any) -> Any:
    return key.schema if isinstance(key, vol.Marker) else key


def _expand(schemas: Iterable[Any]) -> list[Any]:
    """Unwrap Schema objects and All/Any-style combinators down to plain dicts and lists."""
    out: list[Any] = []
    seen: set[int] = set()
    pending = list(schemas)
    while pending:
        schema = pending.pop(0)
        if id(schema) in seen:
            continue
        seen.add(id(schema))
        if isinstance(schema, vol.Schema):
            pending.append(schema.schema)
        elif isinstance(schema, dict | list):
            out.append(schema)
        elif isinstance(validators := getattr(schema, "validators", None), list | tuple):
            pending.extend(validators)
    return out


def _known_keys(schema: Any, path: Sequence[Any]) -> list[str]:
    """Return the literal keys the schema accepts at ``path`` (best effort)."""
    candidates = [schema]
    for element in path:
        following: list[Any] = []
        for sub in _expand(candidates):
            if isinstance(sub, dict):
                for key, value in sub.items():
                    raw = _raw_key(key)
                    if raw == element or (isinstance(raw, type) and isinstance(element, raw)):
                        following.append(value)
            elif isinstance(element, int):
                following.extend(sub)
        candidates = following
    keys = {
        raw
        for sub in _expand(candidates)
        if isinstance(sub, dict)
        for raw in map(_raw_key, sub)
        if isinstance(raw, str)
    }
    return sorted(keys)
