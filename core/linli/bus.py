"""The event bus: fire events, listen to them, with filters and owners.

Listeners come in three kinds, chosen when they are registered:

* a function marked ``@callback`` runs inline while the event is fired: no task, no copy;
* a coroutine function runs as a task the hub tracks (``await hub.async_block_till_done()``);
* any other function may block, so it runs in the hub's executor.

An exception in one listener is logged with the listener's owner (the integration that
registered it) and never stops delivery to the others.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine, Mapping
from contextvars import ContextVar
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from linli.callback import callback, is_callback
from linli.const import MATCH_ALL
from linli.context import Context
from linli.util.dt import utc_from_timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

_DataT = TypeVar("_DataT", bound=Mapping[str, Any])

current_owner: ContextVar[str | None] = ContextVar("linli_current_owner", default=None)
"""The integration whose code is running; listeners registered meanwhile are owned by it."""

EventListener = Callable[["Event[Any]"], Coroutine[Any, Any, None] | None]
EventFilter = Callable[["Event[Any]"], bool]
RemoveListener = Callable[[], None]

_INLINE, _CORO, _EXECUTOR = 0, 1, 2


class EventOrigin(StrEnum):
    """Where an event came from."""

    local = "LOCAL"
    remote = "REMOTE"


class Event(Generic[_DataT]):
    """Something that happened: a type, its data, when, where from and why (its context)."""

    __slots__ = ("_context", "data", "event_type", "origin", "time_fired_timestamp")

    def __init__(
        self,
        event_type: str,
        data: _DataT | None = None,
        origin: EventOrigin = EventOrigin.local,
        time_fired_timestamp: float = 0.0,
        context: Context | None = None,
    ) -> None:
        self.event_type = event_type
        self.data: _DataT = data if data is not None else {}  # type: ignore[assignment]
        self.origin = origin
        self.time_fired_timestamp = time_fired_timestamp
        self._context = context

    @property
    def context(self) -> Context:
        """The event's context (made on first use when the firer gave none)."""
        if self._context is None:
            self._context = Context()
        return self._context

    @property
    def time_fired(self) -> datetime:
        """When the event was fired, as an aware UTC datetime."""
        return utc_from_timestamp(self.time_fired_timestamp)

    def as_dict(self) -> dict[str, Any]:
        """Return the wire form used by the WebSocket and REST APIs."""
        return {
            "event_type": self.event_type,
            "data": dict(self.data),
            "origin": str(self.origin),
            "time_fired": self.time_fired.isoformat(),
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type}[{self.origin.value[0]}]: {dict(self.data)}>"


class _Listener:
    """A registered listener: what to call, how, whether to filter, and whose it is."""

    __slots__ = ("event_filter", "func", "kind", "owner")

    def __init__(
        self, func: EventListener, event_filter: EventFilter | None, kind: int, owner: str
    ) -> None:
        self.func = func
        self.event_filter = event_filter
        self.kind = kind
        self.owner = owner


def _kind_of(func: Callable[..., Any]) -> int:
    target = func
    while isinstance(target, _Once):
        target = target.func
    # A coroutine function is awaited even when marked @callback (calling it inline would
    # only make a coroutine nobody awaits), as services treat their handlers.
    if inspect.iscoroutinefunction(target):
        return _CORO
    if is_callback(target):
        return _INLINE
    return _EXECUTOR


def _owner_of(func: Callable[..., Any]) -> str:
    owner = current_owner.get()
    if owner is not None:
        return owner
    return getattr(func, "__module__", None) or "unknown"


class _Once:
    """Wraps a listener so it runs for the first matching event only."""

    __slots__ = ("done", "func", "remove")

    def __init__(self, func: EventListener) -> None:
        self.func = func
        self.done = False
        self.remove: RemoveListener | None = None

    def claim(self) -> bool:
        """Mark the listener used and unregister it; False if it already ran."""
        if self.done:
            return False
        self.done = True
        if self.remove is not None:
            self.remove()
        return True

    def __call__(self, event: Event[Any]) -> Coroutine[Any, Any, None] | None:
        if not self.claim():
            return None
        return self.func(event)


class EventBus:
    """Deliver events to listeners by type, plus the listeners of every type (``MATCH_ALL``)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._time = hub.clock.time
        # Tuples, replaced on change: firing iterates a snapshot without copying it.
        self._listeners: dict[str, tuple[_Listener, ...]] = {}
        self._match_all: tuple[_Listener, ...] = ()

    @callback
    def async_listeners(self) -> dict[str, int]:
        """Return how many listeners each event type has."""
        counts = {etype: len(items) for etype, items in self._listeners.items()}
        if self._match_all:
            counts[MATCH_ALL] = len(self._match_all)
        return counts

    @callback
    def async_fire(
        self,
        event_type: str,
        event_data: Mapping[str, Any] | None = None,
        origin: EventOrigin = EventOrigin.local,
        context: Context | None = None,
        time_fired: float | None = None,
    ) -> None:
        """Fire an event; ``@callback`` listeners have run when this returns."""
        listeners = self._listeners.get(event_type)
        match_all = self._match_all
        if listeners is None:
            if not match_all:
                return
            listeners = match_all
        elif match_all:
            listeners = listeners + match_all
        event: Event[Any] = Event(
            event_type,
            event_data,
            origin,
            self._time() if time_fired is None else time_fired,
            context,
        )
        for listener in listeners:
            if listener.event_filter is not None:
                try:
                    if not listener.event_filter(event):
                        continue
                except Exception:
                    _LOGGER.exception(
                        "Event filter of %s for %s raised; event skipped for it",
                        listener.owner,
                        event_type,
                    )
                    continue
            if listener.kind == _INLINE:
                try:
                    listener.func(event)
                except Exception:
                    _LOGGER.exception(
                        "Error in %s listener %s for event %s",
                        listener.owner,
                        getattr(listener.func, "__qualname__", listener.func),
                        event_type,
                    )
            else:
                self._dispatch_slow(listener, event)

    def _dispatch_slow(self, listener: _Listener, event: Event[Any]) -> None:
        if listener.kind == _CORO:
            coro = listener.func(event)
            if coro is None:  # a _Once wrapper that already ran
                return
            self._hub.async_create_task(
                self._await_listener(listener, coro, event.event_type),
                f"{listener.owner} listener for {event.event_type}",
            )
        else:
            func = listener.func
            if isinstance(func, _Once):
                # Claim it here on the loop: the worker thread must neither race another
                # worker for it nor change the listener table.
                if not func.claim():
                    return
                func = func.func
            self._hub.async_create_task(
                self._run_in_executor(listener.owner, func, event),
                f"{listener.owner} listener for {event.event_type}",
            )

    @staticmethod
    async def _await_listener(
        listener: _Listener, coro: Coroutine[Any, Any, None], event_type: str
    ) -> None:
        try:
            await coro
        except Exception:
            _LOGGER.exception("Error in %s listener for event %s", listener.owner, event_type)

    async def _run_in_executor(self, owner: str, func: EventListener, event: Event[Any]) -> None:
        try:
            await self._hub.async_add_executor_job(func, event)
        except Exception:
            _LOGGER.exception("Error in %s listener for event %s", owner, event.event_type)

    @callback
    def async_listen(
        self,
        event_type: str,
        listener: EventListener,
        event_filter: EventFilter | None = None,
        owner: str | None = None,
    ) -> RemoveListener:
        """Call ``listener`` for every event of ``event_type`` (``MATCH_ALL`` for all).

        ``event_filter`` (a ``@callback``) runs first and skips the listener when it returns
        False. ``owner`` names who is listening in error logs; by default the integration
        being set up. Returns a function that removes the listener.
        """
        if event_filter is not None and not is_callback(event_filter):
            raise TypeError("event_filter must be a function marked @callback")
        record = _Listener(listener, event_filter, _kind_of(listener), owner or _owner_of(listener))
        if event_type == MATCH_ALL:
            self._match_all = (*self._match_all, record)
        else:
            self._listeners[event_type] = (*self._listeners.get(event_type, ()), record)

        @callback
        def remove() -> None:
            self._remove(event_type, record)

        return remove

    @callback
    def async_listen_once(
        self, event_type: str, listener: EventListener, owner: str | None = None
    ) -> RemoveListener:
        """Call ``listener`` for the next event of ``event_type`` only."""
        once = _Once(listener)
        remove = self.async_listen(event_type, once, owner=owner or _owner_of(listener))
        once.remove = remove
        return remove

    @callback
    def async_remove_listeners_of(self, owner: str) -> int:
        """Remove every listener ``owner`` registered (an integration that failed or unloaded)."""
        removed = 0
        for event_type, items in list(self._listeners.items()):
            keep = tuple(item for item in items if item.owner != owner)
            removed += len(items) - len(keep)
            if keep:
                self._listeners[event_type] = keep
            else:
                del self._listeners[event_type]
        keep_all = tuple(item for item in self._match_all if item.owner != owner)
        removed += len(self._match_all) - len(keep_all)
        self._match_all = keep_all
        return removed

    def _remove(self, event_type: str, record: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = tuple(item for item in self._match_all if item is not record)
            return
        current = self._listeners.get(event_type, ())
        remaining = tuple(item for item in current if item is not record)
        if len(remaining) == len(current):
            return  # already removed; removing twice is harmless
        if remaining:
            self._listeners[event_type] = remaining
        else:
            del self._listeners[event_type]
