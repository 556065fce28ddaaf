"""States: the current value of every entity, and the machine that keeps them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED, MAX_STATE_LENGTH
from linli.context import Context
from linli.exceptions import InvalidEntityIdError, InvalidStateError
from linli.util.dt import utc_from_timestamp

if TYPE_CHECKING:
    from linli.hub import Hub

# ASCII digits only (``\d`` would accept full-width "３") and matched in full (``$`` would
# accept a trailing newline).
_ENTITY_ID = re.compile(r"(?!.+__)(?!_)[0-9a-z_]+(?<!_)\.(?!_)[0-9a-z_]+(?<!_)")


@lru_cache(maxsize=16384)
def valid_entity_id(entity_id: str) -> bool:
    """Return whether ``entity_id`` is ``domain.object_id`` (lower case, digits, ``_``)."""
    return _ENTITY_ID.fullmatch(entity_id) is not None


def split_entity_id(entity_id: str) -> tuple[str, str]:
    """Split ``domain.object_id`` into its two parts."""
    domain, _, object_id = entity_id.partition(".")
    if not object_id:
        raise InvalidEntityIdError(entity_id)
    return domain, object_id


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes: shared, cached wire forms must stay as they were built.

    A dict subclass rather than a mapping proxy so orjson serialises it natively.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this dict is read-only; copy it with dict(...) to change it")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]


class State:
    """An entity's state at a moment: immutable; a change makes a new State.

    ``last_changed`` moves when ``state`` changes, ``last_updated`` when the state or its
    attributes change. Timestamps are POSIX floats, with datetime properties for convenience.
    """

    __slots__ = (
        "_as_dict",
        "attributes",
        "context",
        "domain",
        "entity_id",
        "last_changed_timestamp",
        "last_updated_timestamp",
        "object_id",
        "state",
    )

    def __init__(
        self,
        entity_id: str,
        state: str,
        attributes: Mapping[str, Any] | None = None,
        last_changed: float | None = None,
        last_updated: float | None = None,
        context: Context | None = None,
        validate: bool = True,
    ) -> None:
        if validate:
            if not valid_entity_id(entity_id):
                raise InvalidEntityIdError(entity_id)
            if len(state) > MAX_STATE_LENGTH:
                raise InvalidStateError(
                    f"State of {entity_id} is {len(state)} characters; at most "
                    f"{MAX_STATE_LENGTH} are allowed (put long values in attributes)"
                )
        self.entity_id = entity_id
        self.state = state
        self.attributes: Mapping[str, Any] = (
            MappingProxyType(dict(attributes)) if attributes else _EMPTY
        )
        if last_updated is None:
            last_updated = 0.0
        self.last_updated_timestamp = last_updated
        self.last_changed_timestamp = last_updated if last_changed is None else last_changed
        self.context = context or Context()
        self.domain, _, self.object_id = entity_id.partition(".")
        self._as_dict: ReadOnlyDict | None = None

    @property
    def last_changed(self) -> datetime:
        """When ``state`` last changed (aware UTC)."""
        return utc_from_timestamp(self.last_changed_timestamp)

    @property
    def last_updated(self) -> datetime:
        """When the state or an attribute last changed (aware UTC)."""
        return utc_from_timestamp(self.last_updated_timestamp)

    @property
    def name(self) -> str:
        """The friendly name, or the object id with spaces."""
        name = self.attributes.get("friendly_name")
        return str(name) if name else self.object_id.replace("_", " ")

    def as_dict(self) -> ReadOnlyDict:
        """Return the wire form (Home Assistant's shape); built once, cached, read-only."""
        if self._as_dict is None:
            last_changed = self.last_changed.isoformat()
            self._as_dict = ReadOnlyDict(
                {
                    "entity_id": self.entity_id,
                    "state": self.state,
                    "attributes": dict(self.attributes),
                    "last_changed": last_changed,
                    "last_updated": (
                        last_changed
                        if self.last_updated_timestamp == self.last_changed_timestamp
                        else self.last_updated.isoformat()
                    ),
                    "context": self.context.as_dict(),
                }
            )
        return self._as_dict

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
        )

    def __hash__(self) -> int:
        return hash((self.entity_id, self.state))

    def __repr__(self) -> str:
        attrs = f"; {dict(self.attributes)}" if self.attributes else ""
        return f"<state {self.entity_id}={self.state}{attrs}>"


class StateMachine:
    """Holds the current State of every entity and fires ``state_changed`` on each change."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._states: dict[str, State] = {}
        self._time = hub.clock.time
        self._fire = hub.bus.async_fire

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[State]:
        return iter(list(self._states.values()))

    @callback
    def get(self, entity_id: str) -> State | None:
        """Return the state of ``entity_id``, or None."""
        return self._states.get(entity_id)

    @callback
    def is_state(self, entity_id: str, state: str) -> bool:
        """Return whether ``entity_id`` exists and has the value ``state``."""
        current = self._states.get(entity_id)
        return current is not None and current.state == state

    @callback
    def async_all(self, domain: str | tuple[str, ...] | None = None) -> list[State]:
        """Return every state, or those of one or more domains."""
        if domain is None:
            return list(self._states.values())
        domains = (domain,) if isinstance(domain, str) else domain
        return [s for s in self._states.values() if s.domain in domains]

    @callback
    def async_entity_ids(self, domain: str | None = None) -> list[str]:
        """Return the entity ids, optionally of one domain."""
        if domain is None:
            return list(self._states)
        return [eid for eid, s in self._states.items() if s.domain == domain]

    @callback
    def async_set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        force_update: bool = False,
        context: Context | None = None,
    ) -> State | None:
        """Set an entity's state and fire ``state_changed`` if anything changed.

        Setting the same state with the same attributes fires nothing (unless
        ``force_update``) and returns None; otherwise the new State is returned.
        """
        old = self._states.get(entity_id)
        if old is not None:
            same_state = old.state == new_state
            if same_state and not force_update and (attributes or _EMPTY) == old.attributes:
                return None
            now = self._time()
            state = State(
                entity_id,
                new_state,
                attributes,
                old.last_changed_timestamp if same_state else now,
                now,
                context,
                validate=not same_state,
            )
        else:
            now = self._time()
            state = State(entity_id, new_state, attributes, now, now, context)
        self._states[entity_id] = state
        self._fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": state},
            context=state.context,
            time_fired=now,
        )
        return state

    @callback
    def async_remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Remove an entity's state; fires ``state_changed`` with ``new_state`` None."""
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": None},
            context=context,
        )
        return True
