"""Track state changes of chosen entities or domains without a bus listener per tracker.

Every tracker of a kind shares one ``state_changed`` listener kept in ``hub.data``. Its
event filter drops events for keys nobody tracks before any dispatch; a tracked event goes
to the actions registered for its key only. Actions are ``@callback`` functions (run inline)
or coroutine functions (run as tasks the hub tracks). An action that raises is logged with
the integration that registered it and never stops the others.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from linli.bus import Event, RemoveListener, current_owner
from linli.callback import callback, is_callback
from linli.const import EVENT_STATE_CHANGED, MATCH_ALL
from linli.hub import HubKey

if TYPE_CHECKING:
    from linli.hub import Hub
    from linli.state import State

__all__ = [
    "EventStateChangedData",
    "async_track_state_added_domain",
    "async_track_state_change",
    "async_track_state_change_event",
]

_LOGGER = logging.getLogger(__name__)


class EventStateChangedData(TypedDict):
    """The data of a ``state_changed`` event."""

    entity_id: str
    old_state: State | None
    new_state: State | None


StateChangedEvent = Event[EventStateChangedData]
StateEventAction = Callable[[StateChangedEvent], Coroutine[Any, Any, None] | None]
StateChangeAction = Callable[
    [str, "State | None", "State | None"], Coroutine[Any, Any, None] | None
]

# A registered action: (what to call inline, owner, label); owner and label name it in logs.
_Job = tuple[Callable[[StateChangedEvent], object], str, str]
_Jobs = dict[str, tuple[_Job, ...]]
_Dispatcher = tuple[Callable[[StateChangedEvent], bool], Callable[[StateChangedEvent], None]]


def _describe(action: Callable[..., Any]) -> tuple[str, str]:
    """Return (owner, label) of ``action`` for error logs."""
    owner = current_owner.get() or getattr(action, "__module__", None) or "unknown"
    return owner, getattr(action, "__qualname__", None) or repr(action)


async def _await_logged(coro: Coroutine[Any, Any, None], owner: str, label: str, key: str) -> None:
    try:
        await coro
    except Exception:
        _LOGGER.exception("Error in %s state tracker %s for %s", owner, label, key)


def _run_jobs(jobs: tuple[_Job, ...], event: StateChangedEvent, key: str) -> None:
    for func, owner, label in jobs:
        try:
            func(event)
        except Exception:
            _LOGGER.exception("Error in %s state tracker %s for %s", owner, label, key)


def _entity_dispatcher(jobs: _Jobs) -> _Dispatcher:
    """Dispatch ``state_changed`` by entity id (the hot path: keep it lean)."""

    @callback
    def event_filter(event: StateChangedEvent) -> bool:
        return event.data["entity_id"] in jobs

    @callback
    def dispatch(event: StateChangedEvent) -> None:
        entity_id = event.data["entity_id"]
        for func, owner, label in jobs.get(entity_id, ()):
            try:
                func(event)
            except Exception:
                _LOGGER.exception("Error in %s state tracker %s for %s", owner, label, entity_id)

    return event_filter, dispatch


def _domain_added_dispatcher(jobs: _Jobs) -> _Dispatcher:
    """Dispatch ``state_changed`` of entities that just appeared, by their domain."""

    @callback
    def event_filter(event: StateChangedEvent) -> bool:
        data = event.data
        new_state = data["new_state"]
        return data["old_state"] is None and new_state is not None and new_state.domain in jobs

    @callback
    def dispatch(event: StateChangedEvent) -> None:
        new_state = event.data["new_state"]
        if new_state is not None:
            _run_jobs(jobs.get(new_state.domain, ()), event, new_state.entity_id)

    return event_filter, dispatch


class _KeyedTracker:
    """The shared ``state_changed`` listener of one kind of tracker, and its actions by key."""

    __slots__ = ("_dispatch", "_filter", "_hub", "_unsubscribe", "jobs")

    def __init__(self, hub: Hub, make_dispatcher: Callable[[_Jobs], _Dispatcher]) -> None:
        self._hub = hub
        self.jobs: _Jobs = {}
        self._filter, self._dispatch = make_dispatcher(self.jobs)
        self._unsubscribe: RemoveListener | None = None

    @callback
    def add(self, keys: list[str], job: _Job) -> RemoveListener:
        """Register ``job`` for each of ``keys``; return a function that removes it."""
        jobs = self.jobs
        for key in keys:
            jobs[key] = (*jobs.get(key, ()), job)
        if self._unsubscribe is None:
            self._unsubscribe = self._hub.bus.async_listen(
                EVENT_STATE_CHANGED, self._dispatch, self._filter, owner=__name__
            )
        removed = False

        @callback
        def remove() -> None:
            nonlocal removed
            if removed:
                return
            removed = True
            for key in keys:
                remaining = tuple(item for item in jobs.get(key, ()) if item is not job)
                if remaining:
                    jobs[key] = remaining
                else:
                    jobs.pop(key, None)
            if not jobs and self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

        return remove


_ENTITY_TRACKER: HubKey[_KeyedTracker] = HubKey("linli.helpers.event.entity")
_DOMAIN_ADDED_TRACKER: HubKey[_KeyedTracker] = HubKey("linli.helpers.event.domain_added")


def _tracker(
    hub: Hub, key: HubKey[_KeyedTracker], make_dispatcher: Callable[[_Jobs], _Dispatcher]
) -> _KeyedTracker:
    tracker = hub.data.get(key)
    if tracker is None:
        tracker = hub.data[key] = _KeyedTracker(hub, make_dispatcher)
    return tracker


def _keys(values: str | Iterable[str]) -> list[str]:
    """Return the lower-cased keys, without duplicates, in order."""
    if isinstance(values, str):
        values = (values,)
    return list(dict.fromkeys(value.lower() for value in values))


def _event_job(hub: Hub, action: StateEventAction) -> _Job:
    """Wrap an event action as an inline job (a coroutine action becomes a tracked task)."""
    owner, label = _describe(action)
    if is_callback(action):
        return action, owner, label
    if inspect.iscoroutinefunction(action):
        name = f"{owner} state tracker {label}"

        @callback
        def run_task(event: StateChangedEvent) -> None:
            coro = action(event)
            if coro is not None:
                hub.async_create_task(
                    _await_logged(coro, owner, label, event.data["entity_id"]), name
                )

        return run_task, owner, label
    raise TypeError(
        f"State tracker action {label} must be a @callback function or a coroutine function"
    )


@callback
def async_track_state_change_event(
    hub: Hub, entity_ids: str | Iterable[str], action: StateEventAction
) -> RemoveListener:
    """Call ``action(event)`` for each ``state_changed`` event of one of ``entity_ids``.

    ``action`` is a ``@callback`` (run inline while the event is fired) or a coroutine
    function (run as a task the hub tracks). Returns a function that stops the tracking.
    """
    keys = _keys(entity_ids)
    if not keys:
        return _noop
    tracker = _tracker(hub, _ENTITY_TRACKER, _entity_dispatcher)
    return tracker.add(keys, _event_job(hub, action))


def _match_set(value: str | Iterable[str] | None) -> frozenset[str | None] | None:
    """Return the state values to match, or None to match any."""
    if value is None or value == MATCH_ALL:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


@callback
def async_track_state_change(
    hub: Hub,
    entity_ids: str | Iterable[str],
    action: StateChangeAction,
    from_state: str | Iterable[str] | None = None,
    to_state: str | Iterable[str] | None = None,
) -> RemoveListener:
    """Call ``action(entity_id, old_state, new_state)`` when a tracked entity changes.

    ``from_state`` / ``to_state`` restrict the old and new state values (a value, several,
    or None / ``MATCH_ALL`` for any); an entity that did not exist before, or was removed,
    has the value None. ``entity_ids`` may be ``MATCH_ALL`` to track every entity. Returns a
    function that stops the tracking.
    """
    match_from = _match_set(from_state)
    match_to = _match_set(to_state)
    owner, label = _describe(action)
    is_coro = not is_callback(action)
    if is_coro and not inspect.iscoroutinefunction(action):
        raise TypeError(
            f"State tracker action {label} must be a @callback function or a coroutine function"
        )
    name = f"{owner} state tracker {label}"

    @callback
    def on_change(event: StateChangedEvent) -> None:
        data = event.data
        old_state = data["old_state"]
        new_state = data["new_state"]
        if match_from is not None and (
            (None if old_state is None else old_state.state) not in match_from
        ):
            return
        if match_to is not None and (
            (None if new_state is None else new_state.state) not in match_to
        ):
            return
        result = action(data["entity_id"], old_state, new_state)
        if is_coro and result is not None:
            hub.async_create_task(_await_logged(result, owner, label, data["entity_id"]), name)

    if entity_ids == MATCH_ALL:
        return hub.bus.async_listen(EVENT_STATE_CHANGED, on_change, owner=owner)
    keys = _keys(entity_ids)
    if not keys:
        return _noop
    tracker = _tracker(hub, _ENTITY_TRACKER, _entity_dispatcher)
    return tracker.add(keys, (on_change, owner, label))


@callback
def async_track_state_added_domain(
    hub: Hub, domains: str | Iterable[str], action: StateEventAction
) -> RemoveListener:
    """Call ``action(event)`` when an entity of one of ``domains`` appears (no old state).

    ``action`` is a ``@callback`` or a coroutine function. Returns a function that stops
    the tracking.
    """
    keys = _keys(domains)
    if not keys:
        return _noop
    tracker = _tracker(hub, _DOMAIN_ADDED_TRACKER, _domain_added_dispatcher)
    return tracker.add(keys, _event_job(hub, action))


@callback
def _noop() -> None:
    """Remove nothing: the tracker tracked nothing."""
