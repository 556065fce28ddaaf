"""Persisted deadlines: timers that survive a restart (``for:`` of a trigger, a script's ``delay``).

A deadline is a key, a POSIX time and a little JSON data, written to the store
``linli.deadlines``. While the hub runs, :meth:`Deadlines.async_schedule` runs an action at that
time. After a restart the deadlines of the previous run are *pending* until their owner takes
them over with :meth:`Deadlines.async_reattach` — which runs the action at its time, or at
once with ``late=True`` when it fell due while the hub was down — or forgets them with
:meth:`Deadlines.async_drop`.

Cancelling a deadline removes it from the store, except while the hub is stopping: owners
cancel their timers as they unload, and that must not erase what the next start needs. Such a
deadline is only let go of; it stays persisted for the next run. Changes are written within
a second (:data:`SAVE_DELAY`) and at once when the hub stops; a power cut can lose the last
second of them.

Keys are dotted paths chosen by the owner, e.g. ``automation.<id>.trigger.<idx>.<entity_id>``,
so an owner finds its own with :meth:`Deadlines.pending` and a prefix.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.const import EVENT_LINLI_FINAL_WRITE
from linli.exceptions import StorageError
from linli.hub import HubKey, HubState
from linli.storage import Store
from linli.util.json import json_bytes, json_loads

if TYPE_CHECKING:
    from datetime import datetime

    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.hub import Hub

__all__ = ["Deadline", "DeadlineAction", "DeadlineFired", "Deadlines", "get_deadlines"]

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "linli.deadlines"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
"""Seconds a change may wait before it is written; a clean stop writes at once."""

_DEADLINES: HubKey[Deadlines] = HubKey("linli.helpers.deadlines")
_STOPPING: Final = (HubState.stopping, HubState.stopped)


@dataclass(frozen=True)
class Deadline:
    """A persisted point in time at which its owner wants something to happen."""

    key: str
    when: float
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the stored form."""
        return {
            "key": self.key,
            "when": self.when,
            "data": self.data,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class DeadlineFired:
    """A deadline falling due; ``late`` when it fell due while the hub was down."""

    deadline: Deadline
    late: bool


DeadlineAction = Callable[[DeadlineFired], Any]
"""Run when a deadline falls due: a ``@callback``-style function or a coroutine function."""


class _Entry:
    """A deadline attached in this run, and what to run when it falls due."""

    __slots__ = ("action", "deadline", "queued")

    def __init__(self, deadline: Deadline, action: DeadlineAction) -> None:
        self.deadline = deadline
        self.action = action
        self.queued = False
        """Whether it is in the heap (not when it was due at once and runs from a task)."""


@callback
def get_deadlines(hub: Hub) -> Deadlines:
    """Return the hub's deadlines (one per hub); await ``async_load`` before restoring."""
    deadlines = hub.data.get(_DEADLINES)
    if deadlines is None:
        deadlines = hub.data[_DEADLINES] = Deadlines(hub)
    return deadlines


class Deadlines:
    """The hub's persisted deadlines: scheduling, cancelling, and taking over after a restart."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._active: dict[str, _Entry] = {}
        self._pending: dict[str, Deadline] = {}
        # One hub timer for the earliest deadline, over a heap of all of them: scheduling
        # and cancelling thousands of `for:` timers costs no clock timer each. Cancelled
        # entries stay in the heap until they surface or the heap is compacted.
        self._heap: list[tuple[float, int, _Entry]] = []
        self._sequence = itertools.count()
        self._stale = 0
        self._timer: CancelCallback | None = None
        self._timer_when = 0.0
        self._loaded = False
        self._load_task: asyncio.Task[None] | None = None
        self._dirty = False
        # A store that cannot be read is left alone (it may hold real data); nothing is written.
        self._read_only = False
        # Owned by this module, not by the integration that happened to ask first, so the
        # loader's clean-up of an unloaded integration does not remove the final write.
        hub.bus.async_listen(EVENT_LINLI_FINAL_WRITE, self._async_final_write, owner=__name__)

    # ------------------------------------------------------------------ loading and saving
    async def async_load(self) -> None:
        """Read the deadlines of the previous run (once; later calls return at once)."""
        if self._loaded:
            return
        if self._load_task is None:
            self._load_task = asyncio.get_running_loop().create_task(self._async_read())
        await asyncio.shield(self._load_task)

    async def _async_read(self) -> None:
        try:
            stored = await self._store.async_load()
        except StorageError as err:
            _LOGGER.error("Persisted deadlines cannot be read, none restored: %s", err)
            self._read_only = True
            stored = None
        for record in (stored or {}).get("deadlines", []):
            try:
                deadline = Deadline(
                    str(record["key"]),
                    float(record["when"]),
                    dict(record.get("data") or {}),
                    float(record.get("created_at", 0.0)),
                )
            except (KeyError, TypeError, ValueError):
                _LOGGER.warning("Skipping a malformed persisted deadline: %r", record)
                continue
            # A deadline scheduled before the load finished is newer than its stored copy.
            if deadline.key not in self._active:
                self._pending[deadline.key] = deadline
        self._loaded = True
        if self._dirty:
            self._save()

    def _data_to_save(self) -> dict[str, Any]:
        records = [entry.deadline.as_dict() for entry in self._active.values()]
        records.extend(deadline.as_dict() for deadline in self._pending.values())
        return {"deadlines": records}

    @callback
    def _save(self) -> None:
        if self._read_only:
            return
        if not self._loaded:
            # Writing now would erase the previous run's deadlines nobody has read yet.
            self._dirty = True
            if self._load_task is None:
                self._hub.async_create_task(self.async_load(), "load persisted deadlines")
            return
        self._dirty = False
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    async def _async_final_write(self, _event: Event[Any]) -> None:
        if self._load_task is not None and not self._load_task.done():
            await asyncio.shield(self._load_task)
        if self._store.pending:
            await self._store.async_flush()

    # ------------------------------------------------------------------ scheduling
    @callback
    def async_schedule(
        self,
        key: str,
        when: float,
        action: DeadlineAction,
        *,
        data: dict[str, Any] | None = None,
    ) -> CancelCallback:
        """Persist ``key`` due at ``when`` and run ``action`` then; return a cancel function.

        Scheduling a key that exists (attached or pending) replaces it. ``data`` must be
        JSON-serialisable (it is normalised through JSON here, so a bad value fails now rather
        than at the next write).
        """
        self._release(key)
        self._pending.pop(key, None)
        stored = json_loads(json_bytes(data)) if data else {}
        entry = _Entry(Deadline(key, float(when), stored, self._hub.clock.time()), action)
        self._active[key] = entry
        self._arm(entry, late=False)
        self._save()
        return self._canceller(entry)

    @callback
    def async_cancel(self, key: str) -> None:
        """Cancel ``key`` and forget it (a pending one too); unknown keys are ignored."""
        entry = self._active.get(key)
        if entry is not None:
            self._cancel_entry(entry)
        elif key not in self._pending:
            return
        elif self._hub.state not in _STOPPING:
            del self._pending[key]
            self._save()

    @callback
    def pending(self, prefix: str = "") -> list[Deadline]:
        """Return the persisted deadlines under ``prefix`` that nobody has taken over, by time."""
        found = [d for key, d in self._pending.items() if key.startswith(prefix)]
        return sorted(found, key=lambda deadline: deadline.when)

    @callback
    def async_reattach(self, key: str, action: DeadlineAction) -> CancelCallback | None:
        """Take over a pending deadline: run ``action`` at its time, or now if it has passed.

        An action that runs because the deadline fell due while the hub was down gets
        ``late=True``. Returns a cancel function, or None when ``key`` is not pending.
        """
        deadline = self._pending.pop(key, None)
        if deadline is None:
            return None
        entry = _Entry(deadline, action)
        self._active[key] = entry
        self._arm(entry, late=deadline.when <= self._hub.clock.time())
        return self._canceller(entry)

    @callback
    def async_drop(self, key: str) -> None:
        """Forget a pending deadline that nobody will take over."""
        if self._pending.pop(key, None) is not None:
            self._save()

    @callback
    def get(self, key: str) -> Deadline | None:
        """Return the deadline attached or pending under ``key``, if any."""
        entry = self._active.get(key)
        return entry.deadline if entry is not None else self._pending.get(key)

    # ------------------------------------------------------------------ internals
    def _arm(self, entry: _Entry, *, late: bool) -> None:
        when = entry.deadline.when
        if when <= self._hub.clock.time():
            # Due already: a clock timer in the past would wait for the clock to move (a fake
            # clock stands still), so run it from a task the hub tracks instead.
            self._hub.async_create_task(
                self._async_fire_now(entry, late), f"deadline {entry.deadline.key}"
            )
            return
        heapq.heappush(self._heap, (when, next(self._sequence), entry))
        entry.queued = True
        if self._timer is None or when < self._timer_when:
            self._set_timer(when)

    def _set_timer(self, when: float) -> None:
        if self._timer is not None:
            self._timer()
        self._timer = self._hub.async_call_at(when, self._on_timer)
        self._timer_when = when

    def _on_timer(self, _now: datetime) -> Any:
        self._timer = None
        heap, now = self._heap, self._hub.clock.time()
        waiting: list[Any] = []
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)[2]
            entry.queued = False
            if self._active.get(entry.deadline.key) is not entry:
                self._stale -= 1
                continue
            result = self._fire(entry, late=False)
            if result is not None:
                waiting.append(result)
        self._rearm()
        if waiting:
            return _await_all(waiting)
        return None

    def _rearm(self) -> None:
        """Point the timer at the earliest live deadline (dropping cancelled ones on top)."""
        heap = self._heap
        while heap and self._active.get(heap[0][2].deadline.key) is not heap[0][2]:
            heapq.heappop(heap)[2].queued = False
            self._stale -= 1
        if not heap:
            if self._timer is not None:
                self._timer()
                self._timer = None
            return
        if self._timer is None or heap[0][0] < self._timer_when:
            self._set_timer(heap[0][0])

    def _forget(self, entry: _Entry) -> None:
        """Count a cancelled entry left in the heap; compact it when most entries are stale."""
        if not entry.queued:
            return
        self._stale += 1
        if self._stale > 64 and self._stale * 2 > len(self._heap):
            live = []
            for item in self._heap:
                if self._active.get(item[2].deadline.key) is item[2]:
                    live.append(item)
                else:
                    item[2].queued = False
            heapq.heapify(live)
            self._heap = live
            self._stale = 0

    async def _async_fire_now(self, entry: _Entry, late: bool) -> None:
        result = self._fire(entry, late=late)
        if asyncio.iscoroutine(result):
            await result

    def _fire(self, entry: _Entry, *, late: bool) -> Any:
        key = entry.deadline.key
        if self._active.get(key) is not entry:
            return None  # cancelled or replaced meanwhile
        del self._active[key]
        self._save()
        try:
            result = entry.action(DeadlineFired(entry.deadline, late))
        except Exception:
            _LOGGER.exception("Error running the action of deadline %s", key)
            return None
        if asyncio.iscoroutine(result):
            return self._await_logged(result, key)
        return None

    @staticmethod
    async def _await_logged(coro: Any, key: str) -> None:
        try:
            await coro
        except Exception:
            _LOGGER.exception("Error running the action of deadline %s", key)

    def _canceller(self, entry: _Entry) -> CancelCallback:
        @callback
        def cancel() -> None:
            self._cancel_entry(entry)

        return cancel

    def _cancel_entry(self, entry: _Entry) -> None:
        key = entry.deadline.key
        if self._active.get(key) is not entry:
            return  # fired, cancelled or replaced already: an old canceller does nothing
        self._release(key)
        if self._hub.state in _STOPPING:
            self._pending[key] = entry.deadline
        else:
            self._save()

    def _release(self, key: str) -> None:
        entry = self._active.pop(key, None)
        if entry is not None:
            self._forget(entry)


async def _await_all(waiting: list[Any]) -> None:
    for coro in waiting:
        await coro
