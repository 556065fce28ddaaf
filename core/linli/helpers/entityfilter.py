"""Include/exclude entity filters, compatible with Home Assistant's ``include``/``exclude``.

Configuration (as in ``recorder:``, ``logbook:``, ``history:``)::

    include: {domains: [...], entity_globs: [...], entities: [...]}
    exclude: {domains: [...], entity_globs: [...], entities: [...]}

Rules, applied in this order (Home Assistant's documented behaviour):

1. No filter: every entity is included.
2. Only includes: an entity listed, of an included domain or matching an include glob is
   included; any other is excluded.
3. Only excludes: an entity listed, of an excluded domain or matching an exclude glob is
   excluded; any other is included.
4. Domain and/or glob includes (excludes optional): an entity listed in include entities is
   included; else one listed in exclude entities is excluded; else one matching an include
   glob is included; else one matching an exclude glob is excluded; else one of an included
   domain is included; any other is excluded (exclude domains play no part).
5. Domain and/or glob excludes, includes only list entities: an entity listed in include
   entities is included; else one listed in exclude entities, matching an exclude glob or of
   an excluded domain is excluded; any other is included.
6. Entities only, on both sides: only the entities listed in include are included (exclude
   entities play no part).

Globs use ``fnmatch`` syntax: ``*`` matches any run of characters, ``?`` exactly one.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import voluptuous as vol

from linli.state import valid_entity_id

__all__ = [
    "CONF_DOMAINS",
    "CONF_ENTITIES",
    "CONF_ENTITY_GLOBS",
    "CONF_EXCLUDE",
    "CONF_INCLUDE",
    "INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA",
    "INCLUDE_EXCLUDE_FILTER_SCHEMA",
    "EntityFilter",
    "convert_include_exclude_filter",
]

CONF_INCLUDE: Final = "include"
CONF_EXCLUDE: Final = "exclude"
CONF_DOMAINS: Final = "domains"
CONF_ENTITY_GLOBS: Final = "entity_globs"
CONF_ENTITIES: Final = "entities"

FilterConfig = Mapping[str, Mapping[str, Iterable[str]]]


def _string_list(value: Any) -> list[str]:
    """Accept one string or a list of them; return a list of non-empty strings."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise vol.Invalid("expected a string or a list of strings")
    result = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise vol.Invalid(f"expected a non-empty string, got {item!r}")
        result.append(item.strip())
    return result


def _entity_id_list(value: Any) -> list[str]:
    """Accept one entity id, a comma-separated string or a list; return valid entity ids."""
    if isinstance(value, str):
        value = value.split(",")
    result = []
    for item in _string_list(value):
        entity_id = item.lower()
        if not valid_entity_id(entity_id):
            raise vol.Invalid(f"invalid entity id {item!r}")
        result.append(entity_id)
    return result


_SIDE_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_DOMAINS, default=list): _string_list,
        vol.Optional(CONF_ENTITY_GLOBS, default=list): _string_list,
        vol.Optional(CONF_ENTITIES, default=list): _entity_id_list,
    }
)

INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_INCLUDE, default=dict): vol.All(vol.Any(None, dict), _SIDE_SCHEMA),
        vol.Optional(CONF_EXCLUDE, default=dict): vol.All(vol.Any(None, dict), _SIDE_SCHEMA),
    }
)
"""Validates and normalises ``{include: {...}, exclude: {...}}`` (missing lists become [])."""


class EntityFilter:
    """A compiled include/exclude filter: call it with an entity id; True means it passes.

    ``config`` is the normalised configuration; ``empty_filter`` is True when nothing is
    configured (every entity passes).
    """

    __slots__ = ("_filter", "config", "empty_filter")

    def __init__(self, config: FilterConfig) -> None:
        include = config.get(CONF_INCLUDE) or {}
        exclude = config.get(CONF_EXCLUDE) or {}
        self.config: dict[str, dict[str, list[str]]] = {
            side: {
                CONF_DOMAINS: list(values.get(CONF_DOMAINS) or ()),
                CONF_ENTITY_GLOBS: list(values.get(CONF_ENTITY_GLOBS) or ()),
                CONF_ENTITIES: list(values.get(CONF_ENTITIES) or ()),
            }
            for side, values in ((CONF_INCLUDE, include), (CONF_EXCLUDE, exclude))
        }
        inc, exc = self.config[CONF_INCLUDE], self.config[CONF_EXCLUDE]
        self.empty_filter = not any(any(side.values()) for side in (inc, exc))
        self._filter = _generate_filter(
            include_d=frozenset(inc[CONF_DOMAINS]),
            include_e=frozenset(inc[CONF_ENTITIES]),
            include_g=_compile_globs(inc[CONF_ENTITY_GLOBS]),
            exclude_d=frozenset(exc[CONF_DOMAINS]),
            exclude_e=frozenset(exc[CONF_ENTITIES]),
            exclude_g=_compile_globs(exc[CONF_ENTITY_GLOBS]),
        )

    def __call__(self, entity_id: str) -> bool:
        """Return whether ``entity_id`` passes the filter."""
        return self._filter(entity_id)

    def explicitly_included(self, entity_id: str) -> bool:
        """Return whether ``entity_id`` is listed in the include entities."""
        return entity_id in self.config[CONF_INCLUDE][CONF_ENTITIES]

    def explicitly_excluded(self, entity_id: str) -> bool:
        """Return whether ``entity_id`` is listed in the exclude entities."""
        return entity_id in self.config[CONF_EXCLUDE][CONF_ENTITIES]

    def __repr__(self) -> str:
        return f"<EntityFilter {self.config}>"


def convert_include_exclude_filter(config: FilterConfig) -> EntityFilter:
    """Build an :class:`EntityFilter` from an ``{include: ..., exclude: ...}`` mapping."""
    return EntityFilter(config)


INCLUDE_EXCLUDE_FILTER_SCHEMA: Final = vol.All(
    INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA, convert_include_exclude_filter
)
"""Validates an ``{include, exclude}`` section and returns its :class:`EntityFilter`."""


def _compile_globs(globs: Iterable[str]) -> re.Pattern[str] | None:
    """Compile all ``globs`` into one regular expression (None when there are none)."""
    unique = sorted(set(globs))
    if not unique:
        return None
    return re.compile("|".join(fnmatch.translate(glob) for glob in unique))


def _generate_filter(
    *,
    include_d: frozenset[str],
    include_e: frozenset[str],
    include_g: re.Pattern[str] | None,
    exclude_d: frozenset[str],
    exclude_e: frozenset[str],
    exclude_g: re.Pattern[str] | None,
) -> Callable[[str], bool]:
    """Return the fastest function implementing the rules for this configuration."""
    have_include = bool(include_d or include_e or include_g)
    have_exclude = bool(exclude_d or exclude_e or exclude_g)
    include_match = include_g.match if include_g is not None else _never
    exclude_match = exclude_g.match if exclude_g is not None else _never

    # 1. No filter.
    if not have_include and not have_exclude:
        return _always

    # 2. Only includes.
    if not have_exclude:

        def only_includes(entity_id: str) -> bool:
            return (
                entity_id in include_e
                or entity_id.partition(".")[0] in include_d
                or include_match(entity_id) is not None
            )

        return only_includes

    # 3. Only excludes.
    if not have_include:

        def only_excludes(entity_id: str) -> bool:
            return not (
                entity_id in exclude_e
                or entity_id.partition(".")[0] in exclude_d
                or exclude_match(entity_id) is not None
            )

        return only_excludes

    # 4. Domain and/or glob includes (may also have excludes).
    if include_d or include_g:

        def domain_or_glob_includes(entity_id: str) -> bool:
            if entity_id in include_e:
                return True
            if entity_id in exclude_e:
                return False
            if include_match(entity_id) is not None:
                return True
            if exclude_match(entity_id) is not None:
                return False
            return entity_id.partition(".")[0] in include_d

        return domain_or_glob_includes

    # 5. Domain and/or glob excludes; includes only list entities.
    if exclude_d or exclude_g:

        def domain_or_glob_excludes(entity_id: str) -> bool:
            if entity_id in include_e:
                return True
            return not (
                entity_id in exclude_e
                or exclude_match(entity_id) is not None
                or entity_id.partition(".")[0] in exclude_d
            )

        return domain_or_glob_excludes

    # 6. Entities only, on both sides: the include list decides.
    return include_e.__contains__


def _always(entity_id: str) -> bool:
    return True


def _never(entity_id: str) -> None:
    return None
