"""Read-only views of the state machine for templates, and the state helpers.

``states`` is both callable (``states('sensor.x')`` → the state string, ``"unknown"`` when
missing) and browsable (``states.sensor.x`` → a :class:`TemplateState`; iterating ``states`` or
``states.sensor`` yields every state, sorted by entity id). Every read is recorded in the
render's :class:`~linli.template.scope.RenderInfo` so template triggers know what to watch.
The wrappers hold their hub privately: the sandbox refuses names starting with ``_``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import jinja2

from linli.state import ReadOnlyDict, State, valid_entity_id
from linli.template.scope import (
    TemplateError,
    current,
    require_full,
    track_all_states,
    track_domain,
    track_entity,
)

if TYPE_CHECKING:
    from linli.hub import Hub

STATE_UNKNOWN: Final = "unknown"
STATE_UNAVAILABLE: Final = "unavailable"

# Names Jinja and the sandbox probe on any object; a domain must not answer to them.
_RESERVED: Final = frozenset({"jinja_pass_arg", "unsafe_callable", "alters_data"})


def require_hub(hub: Hub | None, name: str) -> Hub:
    """Return ``hub`` for helper ``name``; refuse without a hub and in limited renders."""
    if hub is None:
        raise TemplateError(f"'{name}' needs a hub; this template is not attached to one")
    require_full(name)
    return hub


def _missing(entity_id: str) -> jinja2.Undefined:
    # Chainable, so ``states.sensor.missing.state`` renders empty like in Home Assistant
    # instead of failing, while ``is defined`` still says false.
    return jinja2.ChainableUndefined(hint=f"{entity_id!r} has no state", name=entity_id)


class TemplateState:
    """A state as templates see it: read-only, without its context."""

    __slots__ = ("_attributes", "_state")

    PUBLIC: Final = frozenset(
        {
            "state",
            "attributes",
            "entity_id",
            "domain",
            "object_id",
            "name",
            "last_changed",
            "last_updated",
            "state_with_unit",
        }
    )

    def __init__(self, state: State) -> None:
        self._state = state
        self._attributes: ReadOnlyDict | None = None

    @property
    def state(self) -> str:
        """The state string."""
        return self._state.state

    @property
    def attributes(self) -> ReadOnlyDict:
        """The attributes (a read-only dict)."""
        if self._attributes is None:
            self._attributes = ReadOnlyDict(self._state.attributes)
        return self._attributes

    @property
    def entity_id(self) -> str:
        """The entity id."""
        return self._state.entity_id

    @property
    def domain(self) -> str:
        """The entity id's domain."""
        return self._state.domain

    @property
    def object_id(self) -> str:
        """The entity id's object id."""
        return self._state.object_id

    @property
    def name(self) -> str:
        """The friendly name, or the object id with spaces."""
        return self._state.name

    @property
    def last_changed(self) -> datetime:
        """When the state string last changed (aware UTC)."""
        return self._state.last_changed

    @property
    def last_updated(self) -> datetime:
        """When the state or an attribute last changed (aware UTC)."""
        return self._state.last_updated

    @property
    def state_with_unit(self) -> str:
        """The state followed by its unit of measurement, if it has one."""
        unit = self._state.attributes.get("unit_of_measurement")
        return f"{self._state.state} {unit}" if unit else self._state.state

    def __getitem__(self, key: str) -> Any:
        if key in self.PUBLIC:
            return getattr(self, key)
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """Return the state as plain data (used by ``to_json``)."""
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": dict(self._state.attributes),
            "last_changed": self.last_changed.isoformat(),
            "last_updated": self.last_updated.isoformat(),
        }

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TemplateState):
            return self._state == other._state
        return isinstance(other, State) and self._state == other

    def __hash__(self) -> int:
        return hash(self._state)

    def __repr__(self) -> str:
        return f"<template state {self._state.entity_id}={self._state.state}>"


class DomainStates:
    """``states.<domain>``: its entities as attributes, iterable in entity id order."""

    __slots__ = ("_domain", "_hub")

    def __init__(self, hub: Hub, domain: str) -> None:
        self._hub = hub
        self._domain = domain

    def __getattr__(self, name: str) -> TemplateState | jinja2.Undefined:
        if name.startswith("_") or name in _RESERVED:
            raise AttributeError(name)
        entity_id = f"{self._domain}.{name}"
        if not valid_entity_id(entity_id):
            return _missing(entity_id)
        track_entity(entity_id)
        state = self._hub.states.get(entity_id)
        return _missing(entity_id) if state is None else TemplateState(state)

    def __iter__(self) -> Iterator[TemplateState]:
        track_domain(self._domain)
        found = self._hub.states.async_all(self._domain)
        found.sort(key=lambda s: s.entity_id)
        return (TemplateState(state) for state in found)

    def __len__(self) -> int:
        track_domain(self._domain)
        return len(self._hub.states.async_entity_ids(self._domain))

    def __repr__(self) -> str:
        return f"<template states.{self._domain}>"


class AllStates:
    """The ``states`` global: ``states('sensor.x')``, ``states.sensor.x``, ``for s in states``."""

    __slots__ = ("_hub",)

    def __init__(self, hub: Hub | None) -> None:
        self._hub = hub

    def __getattr__(self, name: str) -> DomainStates | TemplateState | jinja2.Undefined:
        if name.startswith("_") or name in _RESERVED:
            raise AttributeError(name)
        hub = require_hub(self._hub, "states")
        if not valid_entity_id(f"{name}.x"):
            return jinja2.Undefined(hint=f"{name!r} is not a valid domain", name=name)
        return DomainStates(hub, name)

    def __call__(self, entity_id: Any, rounded: bool = False, with_unit: bool = False) -> str:
        """Return the state string of ``entity_id``, or ``"unknown"``."""
        state = get_state(require_hub(self._hub, "states"), entity_id)
        if state is None:
            return STATE_UNKNOWN
        return _format_state(state, rounded=rounded, with_unit=with_unit)

    def __iter__(self) -> Iterator[TemplateState]:
        hub = require_hub(self._hub, "states")
        track_all_states()
        found = hub.states.async_all()
        found.sort(key=lambda s: s.entity_id)
        return (TemplateState(state) for state in found)

    def __len__(self) -> int:
        hub = require_hub(self._hub, "states")
        track_all_states()
        return len(hub.states)

    def __repr__(self) -> str:
        return "<template states>"


def _format_state(state: State, *, rounded: bool, with_unit: bool) -> str:
    value = state.state
    precision = state.attributes.get("display_precision")
    if rounded and isinstance(precision, int) and not isinstance(precision, bool):
        with contextlib.suppress(ValueError):
            value = f"{float(value):.{max(0, min(precision, 15))}f}"
    unit = state.attributes.get("unit_of_measurement")
    if with_unit and unit:
        value = f"{value} {unit}"
    return value


def get_state(hub: Hub, entity_id: Any) -> State | None:
    """Return the state of ``entity_id`` (recording the read), or None."""
    if isinstance(entity_id, TemplateState):
        entity_id = entity_id.entity_id
    if not isinstance(entity_id, str):
        return None
    entity_id = entity_id.strip().lower()
    if not valid_entity_id(entity_id):
        return None
    track_entity(entity_id)
    return hub.states.get(entity_id)


# ---------------------------------------------------------------------- helpers (hub first)
def is_state(hub: Hub, entity_id: Any, state: Any) -> bool:
    """Return whether ``entity_id`` has ``state`` (or one of a list of states)."""
    found = get_state(hub, entity_id)
    if found is None:
        return False
    if isinstance(state, list | tuple):
        return bool(found.state in state)
    return bool(found.state == state)


def state_attr(hub: Hub, entity_id: Any, name: Any) -> Any:
    """Return attribute ``name`` of ``entity_id``, or None."""
    found = get_state(hub, entity_id)
    return None if found is None else found.attributes.get(name)


def is_state_attr(hub: Hub, entity_id: Any, name: Any, value: Any) -> bool:
    """Return whether attribute ``name`` of ``entity_id`` exists and equals ``value``."""
    found = get_state(hub, entity_id)
    if found is None or name not in found.attributes:
        return False
    return bool(found.attributes[name] == value)


def has_value(hub: Hub, entity_id: Any) -> bool:
    """Return whether ``entity_id`` has a state that is not unknown or unavailable."""
    found = get_state(hub, entity_id)
    return found is not None and found.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)


def expand(hub: Hub, *args: Any) -> list[TemplateState]:
    """Return the states of the given entity ids / states / lists, groups expanded.

    A state whose ``entity_id`` attribute lists other entities (a group) is replaced by
    those entities' states. The result is sorted by entity id, each entity once.
    """
    budget = current().budget
    search: list[Any] = list(args)
    seen: set[str] = set()
    found: dict[str, TemplateState] = {}
    while search:
        budget.step()
        item = search.pop()
        if isinstance(item, str):
            state = get_state(hub, item)
            if state is None:
                continue
        elif isinstance(item, TemplateState):
            state = item._state
            track_entity(state.entity_id)
        elif isinstance(item, State):
            state = item
            track_entity(state.entity_id)
        elif isinstance(item, Iterable):
            search.extend(item)
            continue
        else:
            continue
        if state.entity_id in seen:
            continue
        seen.add(state.entity_id)
        members = state.attributes.get("entity_id")
        if isinstance(members, list | tuple) and all(isinstance(m, str) for m in members):
            search.extend(members)
        else:
            found[state.entity_id] = TemplateState(state)
    return [found[entity_id] for entity_id in sorted(found)]
