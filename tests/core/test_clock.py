"""Behaviour of the clocks: the fake one tests move, and the real one."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linli.clock import FakeClock, SystemClock
from linli.hub import Hub

START = "2026-03-01T08:00:00+00:00"


# --------------------------------------------------------------------------- FakeClock


def test_fake_clock_stands_still() -> None:
    clock = FakeClock(START)

    assert clock.utcnow() == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert clock.time() == datetime(2026, 3, 1, 8, tzinfo=UTC).timestamp()
    time.sleep(0.001)
    assert clock.utcnow() == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_fake_clock_start_accepts_datetimes_and_offsets() -> None:
    assert FakeClock(datetime(2026, 3, 1, 8)).utcnow() == datetime(2026, 3, 1, 8, tzinfo=UTC)
    # 16:00 in Beijing is 08:00 UTC.
    assert FakeClock("2026-03-01T16:00:00+08:00").utcnow() == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_timers_run_in_time_order_then_in_scheduling_order() -> None:
    clock = FakeClock(START)
    now = clock.time()
    order: list[str] = []
    clock.call_at(now + 20, lambda: order.append("t20"))
    clock.call_at(now + 10, lambda: order.append("t10-a"))
    clock.call_at(now + 10, lambda: order.append("t10-b"))
    clock.call_at(now + 5, lambda: order.append("t5"))
    clock.call_at(now + 10, lambda: order.append("t10-c"))

    clock.advance(30)

    assert order == ["t5", "t10-a", "t10-b", "t10-c", "t20"]


def test_each_timer_sees_its_own_time() -> None:
    clock = FakeClock(START)
    start = clock.time()
    seen: list[float] = []
    for offset in (3, 1, 2):
        clock.call_at(start + offset, lambda: seen.append(clock.time() - start))

    clock.advance(10)

    assert seen == [1, 2, 3]
    assert clock.time() == start + 10


def test_timer_fires_exactly_at_its_time_not_before() -> None:
    clock = FakeClock(START)
    fired: list[float] = []
    clock.call_at(clock.time() + 1, lambda: fired.append(clock.time()))

    clock.advance(0.999)
    assert fired == []
    clock.advance(0.001)
    assert len(fired) == 1


def test_timer_scheduled_by_a_timer_runs_in_the_same_move() -> None:
    clock = FakeClock(START)
    start = clock.time()
    seen: list[float] = []

    def first() -> None:
        seen.append(clock.time() - start)
        clock.call_at(clock.time() + 5, lambda: seen.append(clock.time() - start))

    clock.call_at(start + 5, first)
    clock.advance(12)

    assert seen == [5, 10]
    assert clock.pending_timers == 0


def test_timer_due_in_the_past_runs_on_next_move_without_going_back() -> None:
    clock = FakeClock(START)
    start = clock.time()
    seen: list[float] = []

    clock.call_at(start - 60, lambda: seen.append(clock.time()))
    assert seen == []  # stands still until moved
    clock.advance(0)

    assert seen == [start]


def test_clock_moved_from_inside_a_timer_does_not_go_back() -> None:
    clock = FakeClock(START)
    start = clock.time()
    seen: list[float] = []
    clock.call_at(start + 5, lambda: clock.advance(100))
    clock.call_at(start + 50, lambda: seen.append(clock.time() - start))

    clock.advance(10)

    assert seen == [50]
    assert clock.time() == start + 105


def test_clock_cannot_go_backwards() -> None:
    clock = FakeClock(START)
    clock.advance(60)
    before = clock.time()

    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-0.5))
    with pytest.raises(ValueError, match="forward"):
        clock.set(START)

    assert clock.time() == before


def test_set_moves_to_a_moment_and_runs_due_timers() -> None:
    clock = FakeClock(START)
    fired: list[datetime] = []
    clock.call_at(clock.time() + 3600, lambda: fired.append(clock.utcnow()))
    clock.call_at(clock.time() + 7200, lambda: fired.append(clock.utcnow()))

    clock.set("2026-03-01T09:30:00+00:00")

    assert fired == [datetime(2026, 3, 1, 9, tzinfo=UTC)]
    assert clock.utcnow() == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    clock.set(datetime(2026, 3, 1, 18, tzinfo=UTC))
    assert len(fired) == 2
    clock.set(clock.utcnow())  # standing still is allowed
    # A naive datetime is taken as UTC.
    clock.set(datetime(2026, 3, 2, 0, 0))
    assert clock.utcnow() == datetime(2026, 3, 2, tzinfo=UTC)


def test_pending_timers_and_cancel() -> None:
    clock = FakeClock(START)
    fired: list[str] = []
    cancel_a = clock.call_at(clock.time() + 10, lambda: fired.append("a"))
    clock.call_at(clock.time() + 10, lambda: fired.append("b"))
    cancel_c = clock.call_at(clock.time() + 20, lambda: fired.append("c"))
    assert clock.pending_timers == 3

    cancel_a()
    cancel_a()
    assert clock.pending_timers == 2
    clock.advance(10)
    assert fired == ["b"]
    assert clock.pending_timers == 1

    cancel_c()
    assert clock.pending_timers == 0
    clock.advance(100)
    assert fired == ["b"]


def test_advance_accepts_timedelta() -> None:
    clock = FakeClock(START)
    clock.advance(timedelta(days=1, minutes=1))
    assert clock.utcnow() == datetime(2026, 3, 2, 8, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- SystemClock


async def test_system_clock_time_is_wall_time() -> None:
    clock = SystemClock()
    before = time.time()
    now = clock.time()
    utc = clock.utcnow()

    assert before <= now <= time.time()
    assert utc.tzinfo is not None
    assert utc.utcoffset() == timedelta(0)
    assert abs(utc.timestamp() - now) < 1


async def test_system_clock_call_at_runs_on_the_loop() -> None:
    clock = SystemClock()
    loop = asyncio.get_running_loop()
    fired = asyncio.Event()
    ran_on: list[int] = []
    due = time.time() + 0.02

    def action() -> None:
        ran_on.append(threading.get_ident())
        fired.set()

    start = time.monotonic()
    clock.call_at(due, action)
    await asyncio.wait_for(fired.wait(), 2)
    elapsed = time.monotonic() - start

    assert ran_on == [threading.get_ident()]
    assert elapsed >= 0.015
    assert loop.is_running()


async def test_system_clock_cancel_and_past_due() -> None:
    clock = SystemClock()
    fired: list[str] = []
    past = asyncio.Event()
    cancel = clock.call_at(time.time() + 0.02, lambda: fired.append("cancelled"))
    clock.call_at(time.time() - 10, past.set)  # overdue: runs at once

    cancel()
    await asyncio.wait_for(past.wait(), 1)
    await asyncio.sleep(0.04)

    assert fired == []


async def test_hub_timers_on_the_system_clock(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    await hub.async_start()
    fired = asyncio.Event()
    at: list[datetime] = []

    def action(now: datetime) -> None:
        at.append(now)
        fired.set()

    before = datetime.now(UTC)
    hub.async_call_later(0.02, action)
    try:
        await asyncio.wait_for(fired.wait(), 2)
    finally:
        await hub.async_stop()

    assert at[0] - before >= timedelta(seconds=0.015)
    assert hub.pending_timers == 0
