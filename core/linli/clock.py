"""Clocks: the hub asks its clock for the time and for timers, so tests can move time.

:class:`SystemClock` is the real one. :class:`FakeClock` stands still until a test moves it with
:meth:`FakeClock.advance` or :meth:`FakeClock.set`, which run every timer that fell due, in order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from linli.util.dt import UTC, as_utc, utc_from_timestamp

CancelCallback = Callable[[], None]


class Clock(Protocol):
    """What the hub needs from a clock."""

    def time(self) -> float:
        """Return the current POSIX timestamp (seconds, UTC)."""

    def utcnow(self) -> datetime:
        """Return the current time as an aware UTC datetime."""

    def call_at(self, timestamp: float, func: Callable[[], None]) -> CancelCallback:
        """Run ``func`` on the loop at ``timestamp``; return a function that cancels it."""


class SystemClock:
    """The wall clock, with timers on the running event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    time = staticmethod(time.time)

    def utcnow(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)

    def call_at(self, timestamp: float, func: Callable[[], None]) -> CancelCallback:
        """Run ``func`` on the loop at ``timestamp``; return a function that cancels it."""
        loop = self._loop or asyncio.get_running_loop()
        handle = loop.call_later(max(0.0, timestamp - time.time()), func)
        return handle.cancel


class FakeClock:
    """A clock that moves only when a test says so; timers fire as it passes their time."""

    def __init__(self, start: datetime | str = "2026-01-01T08:00:00+00:00") -> None:
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        self._now = as_utc(start).timestamp()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._seq = itertools.count()

    def time(self) -> float:
        """Return the fake POSIX timestamp."""
        return self._now

    def utcnow(self) -> datetime:
        """Return the fake time as an aware UTC datetime."""
        return utc_from_timestamp(self._now)

    def call_at(self, timestamp: float, func: Callable[[], None]) -> CancelCallback:
        """Queue ``func`` for ``timestamp``; it runs when the clock is moved past it."""
        seq = next(self._seq)
        heapq.heappush(self._timers, (timestamp, seq, func))

        def cancel() -> None:
            self._cancelled.add(seq)

        return cancel

    @property
    def pending_timers(self) -> int:
        """How many timers are queued and not cancelled."""
        return sum(1 for _, seq, _ in self._timers if seq not in self._cancelled)

    def advance(self, delta: float | timedelta) -> None:
        """Move the clock forward by ``delta`` seconds, running timers that fall due."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("A clock only moves forward")
        self._move_to(self._now + seconds)

    def set(self, when: datetime | str) -> None:
        """Move the clock forward to ``when`` (an aware datetime or ISO string)."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        target = as_utc(when).timestamp()
        if target < self._now:
            raise ValueError("A clock only moves forward")
        self._move_to(target)

    def _move_to(self, target: float) -> None:
        while self._timers and self._timers[0][0] <= target:
            when, seq, func = heapq.heappop(self._timers)
            if seq in self._cancelled:
                self._cancelled.discard(seq)
                continue
            self._now = max(self._now, when)
            func()
        # A timer may itself have moved the clock further; never step back from there.
        self._now = max(self._now, target)
