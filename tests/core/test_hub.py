"""Behaviour of the hub: lifecycle, tasks, executor, timers on the clock, typed data."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import linli.hub as hub_module
from linli.bus import Event
from linli.callback import callback
from linli.clock import FakeClock
from linli.const import (
    EVENT_LINLI_FINAL_WRITE,
    EVENT_LINLI_START,
    EVENT_LINLI_STARTED,
    EVENT_LINLI_STOP,
    MATCH_ALL,
)
from linli.hub import Hub, HubData, HubKey, HubState
from linli.services import ServiceCall

HubFactory = Callable[..., Awaitable[Hub]]

LIFECYCLE = {EVENT_LINLI_START, EVENT_LINLI_STARTED, EVENT_LINLI_STOP, EVENT_LINLI_FINAL_WRITE}


def _record_lifecycle(hub: Hub) -> list[tuple[str, HubState]]:
    """Record each lifecycle event with the hub's state when it was fired."""
    seen: list[tuple[str, HubState]] = []

    @callback
    def record(event: Event[Any]) -> None:
        if event.event_type in LIFECYCLE:
            seen.append((event.event_type, hub.state))

    hub.bus.async_listen(MATCH_ALL, record)
    return seen


# --------------------------------------------------------------------------- lifecycle


async def test_lifecycle_states_and_event_order(hub_factory: HubFactory) -> None:
    hub = await hub_factory(start=False)
    seen = _record_lifecycle(hub)
    assert hub.state is HubState.not_running

    await hub.async_start()
    assert hub.state is HubState.running
    assert seen == [
        (EVENT_LINLI_START, HubState.starting),
        (EVENT_LINLI_STARTED, HubState.running),
    ]

    await hub.async_stop()
    assert hub.state is HubState.stopped
    assert seen[2:] == [
        (EVENT_LINLI_STOP, HubState.stopping),
        (EVENT_LINLI_FINAL_WRITE, HubState.stopping),
    ]


async def test_start_waits_for_start_listeners_before_started(hub_factory: HubFactory) -> None:
    hub = await hub_factory(start=False)
    order: list[str] = []

    async def slow_start(event: Event[Any]) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        order.append("start listener done")

    hub.bus.async_listen(EVENT_LINLI_START, slow_start)
    hub.bus.async_listen(EVENT_LINLI_STARTED, callback(lambda e: order.append("started")))

    await hub.async_start()

    assert order == ["start listener done", "started"]


async def test_stop_waits_for_stop_listeners_before_final_write(hub: Hub) -> None:
    order: list[str] = []

    async def flush(event: Event[Any]) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        order.append("stop listener done")

    async def final(event: Event[Any]) -> None:
        await asyncio.sleep(0)
        order.append("final write done")

    hub.bus.async_listen(EVENT_LINLI_STOP, flush)
    hub.bus.async_listen(EVENT_LINLI_FINAL_WRITE, final)
    hub.bus.async_listen(
        EVENT_LINLI_FINAL_WRITE, callback(lambda e: order.append("final write fired"))
    )

    await hub.async_stop()

    assert order == ["stop listener done", "final write fired", "final write done"]


async def test_start_twice_is_refused(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="start"):
        await hub.async_start()
    assert hub.state is HubState.running


async def test_stop_is_idempotent(hub: Hub) -> None:
    seen = _record_lifecycle(hub)

    await hub.async_stop(exit_code=3)
    await hub.async_stop(exit_code=5)

    assert hub.state is HubState.stopped
    assert [name for name, _ in seen] == [EVENT_LINLI_STOP, EVENT_LINLI_FINAL_WRITE]
    assert hub.exit_code == 3
    assert await hub.async_wait_stopped() == 3


async def test_concurrent_stops_both_return_after_stopped(hub: Hub) -> None:
    seen = _record_lifecycle(hub)
    finished: list[HubState] = []

    async def stop() -> None:
        await hub.async_stop()
        finished.append(hub.state)

    await asyncio.wait_for(asyncio.gather(stop(), stop(), hub.async_wait_stopped()), 5)

    assert finished == [HubState.stopped, HubState.stopped]
    assert [name for name, _ in seen] == [EVENT_LINLI_STOP, EVENT_LINLI_FINAL_WRITE]


async def test_concurrent_stops_of_never_started_hub(hub_factory: HubFactory) -> None:
    hub = await hub_factory(start=False)
    finished: list[HubState] = []

    async def stop() -> None:
        await hub.async_stop()
        finished.append(hub.state)

    await asyncio.wait_for(asyncio.gather(stop(), stop()), 5)

    assert finished == [HubState.stopped, HubState.stopped]


async def test_stop_requested_during_start_wins(
    hub_factory: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "STOP_STAGE_TIMEOUT", 0.2)
    hub = await hub_factory(start=False)
    seen = _record_lifecycle(hub)

    async def give_up(event: Event[Any]) -> None:
        await hub.async_stop(exit_code=1)

    hub.bus.async_listen(EVENT_LINLI_START, give_up)
    await hub.async_start()

    assert hub.state is HubState.stopped
    assert EVENT_LINLI_STARTED not in [name for name, _ in seen]


async def test_stop_from_a_service_handler(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop service (called without blocking, as an automation would) stops the hub."""
    monkeypatch.setattr(hub_module, "STOP_STAGE_TIMEOUT", 0.2)
    # Not from hub_factory: a hub wedged in 'stopping' would hang its teardown.
    hub = Hub(tmp_path, clock=clock)
    await hub.async_start()

    async def stop(call: ServiceCall) -> None:
        await hub.async_stop(exit_code=2)

    hub.services.async_register("linli", "stop", stop)
    await hub.services.async_call("linli", "stop", blocking=False)

    assert await asyncio.wait_for(hub.async_wait_stopped(), 0.5) == 2
    assert hub.state is HubState.stopped


async def test_stop_waits_for_tracked_tasks(hub: Hub) -> None:
    done: list[str] = []

    async def work() -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        done.append("work")

    hub.async_create_task(work(), "work")
    await hub.async_stop()

    assert done == ["work"]


async def test_stop_cancels_background_tasks(hub: Hub) -> None:
    events: list[str] = []
    started = asyncio.Event()

    async def poller() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            events.append("cleaned up")

    task = hub.async_create_background_task(poller(), "gate poller")
    await started.wait()
    await hub.async_block_till_done()  # does not wait for background tasks
    assert not task.done()

    await hub.async_stop()

    assert task.cancelled()
    assert events == ["cleaned up"]


async def test_stuck_task_is_named_and_cancelled_after_stage_timeout(
    hub: Hub, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "STOP_STAGE_TIMEOUT", 0.05)
    task = hub.async_create_task(asyncio.Event().wait(), "stuck gate reader")

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(hub.async_stop(), 5)

    assert hub.state is HubState.stopped
    assert task.cancelled()
    assert "stuck gate reader" in caplog.text


async def test_stop_cancels_pending_timers(hub: Hub, clock: FakeClock) -> None:
    fired: list[datetime] = []
    hub.async_call_later(10, fired.append)
    hub.async_track_time_interval(fired.append, 5)
    assert hub.pending_timers == 2

    await hub.async_stop()
    clock.advance(3600)
    await asyncio.sleep(0)

    assert fired == []
    assert hub.pending_timers == 0
    assert clock.pending_timers == 0


# --------------------------------------------------------------------------- tasks and executor


async def test_block_till_done_waits_for_tasks_started_by_tasks(hub: Hub) -> None:
    done: list[int] = []

    async def work(depth: int) -> None:
        await asyncio.sleep(0)
        if depth < 3:
            hub.async_create_task(work(depth + 1))
        await asyncio.sleep(0)
        done.append(depth)

    hub.async_create_task(work(0))
    await hub.async_block_till_done()

    assert sorted(done) == [0, 1, 2, 3]


async def test_block_till_done_waits_for_executor_jobs_started_by_tasks(hub: Hub) -> None:
    done = threading.Event()

    def blocking_io() -> None:
        threading.Event().wait(0.03)
        done.set()

    async def starter() -> None:
        await asyncio.sleep(0)
        hub.async_add_executor_job(blocking_io)

    hub.async_create_task(starter())
    await hub.async_block_till_done()

    assert done.is_set()


async def test_executor_job_runs_in_worker_thread_and_returns(hub: Hub) -> None:
    def work(a: int, b: int) -> tuple[int, str]:
        return a + b, threading.current_thread().name

    result, thread_name = await hub.async_add_executor_job(work, 2, 3)

    assert result == 5
    assert thread_name != threading.current_thread().name


async def test_executor_job_error_reaches_awaiting_caller(hub: Hub) -> None:
    def broken() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await hub.async_add_executor_job(broken)


async def test_block_till_done_from_a_tracked_task_does_not_wait_for_itself(hub: Hub) -> None:
    done: list[str] = []

    async def inner() -> None:
        await asyncio.sleep(0)
        done.append("inner")

    async def outer() -> None:
        hub.async_create_task(inner())
        await hub.async_block_till_done()
        done.append("outer")

    hub.async_create_task(outer())
    await asyncio.wait_for(hub.async_block_till_done(), 5)

    assert done == ["inner", "outer"]


# --------------------------------------------------------------------------- timers


async def test_call_later_fires_exactly_when_time_passes(hub: Hub, clock: FakeClock) -> None:
    start = clock.utcnow()
    fired: list[datetime] = []
    hub.async_call_later(10, fired.append)

    clock.advance(9.999)
    assert fired == []
    assert hub.pending_timers == 1

    clock.advance(0.001)
    assert fired == [start + timedelta(seconds=10)]
    assert hub.pending_timers == 0

    clock.advance(100)
    assert len(fired) == 1


async def test_call_later_accepts_timedelta(hub: Hub, clock: FakeClock) -> None:
    fired: list[datetime] = []
    hub.async_call_later(timedelta(minutes=2), fired.append)

    clock.advance(119)
    assert fired == []
    clock.advance(1)
    assert len(fired) == 1


async def test_call_at_with_datetime_and_timestamp(hub: Hub, clock: FakeClock) -> None:
    fired: list[tuple[str, datetime]] = []
    at = clock.utcnow() + timedelta(hours=1)
    hub.async_call_at(at, lambda now: fired.append(("datetime", now)))
    hub.async_call_at(clock.time() + 30, lambda now: fired.append(("timestamp", now)))

    clock.advance(timedelta(hours=2))

    assert fired == [
        ("timestamp", at - timedelta(minutes=59, seconds=30)),
        ("datetime", at),
    ]


async def test_cancelled_timer_never_fires(hub: Hub, clock: FakeClock) -> None:
    fired: list[datetime] = []
    cancel = hub.async_call_later(10, fired.append)
    keep = hub.async_call_later(10, fired.append)

    cancel()
    cancel()
    assert hub.pending_timers == 1
    clock.advance(10)

    assert len(fired) == 1
    keep()  # cancelling after it ran is harmless
    assert hub.pending_timers == 0


async def test_interval_keeps_firing_at_the_right_times(hub: Hub, clock: FakeClock) -> None:
    start = clock.utcnow()
    fired: list[datetime] = []
    cancel = hub.async_track_time_interval(fired.append, timedelta(seconds=60))

    clock.advance(59)
    assert fired == []
    clock.advance(1)
    assert fired == [start + timedelta(seconds=60)]

    clock.advance(185)  # one jump over three more ticks
    assert fired == [start + timedelta(seconds=60 * n) for n in (1, 2, 3, 4)]

    cancel()
    clock.advance(600)
    assert len(fired) == 4
    assert hub.pending_timers == 0


async def test_interval_cancelled_from_its_own_action(hub: Hub, clock: FakeClock) -> None:
    fired: list[datetime] = []
    cancel_ref: list[Callable[[], None]] = []

    def action(now: datetime) -> None:
        fired.append(now)
        if len(fired) == 2:
            cancel_ref[0]()

    cancel_ref.append(hub.async_track_time_interval(action, 1))
    clock.advance(10)

    assert len(fired) == 2
    assert hub.pending_timers == 0


async def test_interval_must_be_positive(hub: Hub) -> None:
    with pytest.raises(ValueError, match="positive"):
        hub.async_track_time_interval(lambda now: None, 0)
    with pytest.raises(ValueError, match="positive"):
        hub.async_track_time_interval(lambda now: None, timedelta(seconds=-1))
    assert hub.pending_timers == 0


async def test_coroutine_timer_actions_run(hub: Hub, clock: FakeClock) -> None:
    start = clock.utcnow()
    fired: list[datetime] = []

    async def action(now: datetime) -> None:
        await asyncio.sleep(0)
        fired.append(now)

    hub.async_call_later(5, action)
    cancel = hub.async_track_time_interval(action, 10)
    clock.advance(20)
    await hub.async_block_till_done()
    cancel()

    assert sorted(fired) == [start + timedelta(seconds=s) for s in (5, 10, 20)]


async def test_raising_timer_action_is_logged_and_others_still_run(
    hub: Hub, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fired: list[str] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("timer exploded")

    async def broken_async(now: datetime) -> None:
        raise RuntimeError("async timer exploded")

    hub.async_call_later(5, broken)
    hub.async_call_later(5, broken_async)
    hub.async_call_later(5, lambda now: fired.append("same time"))
    hub.async_call_later(6, lambda now: fired.append("later"))

    with caplog.at_level(logging.ERROR):
        clock.advance(10)
        await hub.async_block_till_done()

    assert fired == ["same time", "later"]
    assert "timer exploded" in caplog.text
    assert "async timer exploded" in caplog.text
    assert hub.pending_timers == 0


async def test_raising_interval_action_keeps_its_schedule(
    hub: Hub, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[datetime] = []

    def flaky(now: datetime) -> None:
        calls.append(now)
        raise RuntimeError("flaky tick")

    cancel = hub.async_track_time_interval(flaky, 1)
    with caplog.at_level(logging.ERROR):
        clock.advance(3)
    cancel()

    assert len(calls) == 3
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3
    assert all(r.exc_info and "flaky tick" in str(r.exc_info[1]) for r in errors)


@contextmanager
def _no_cyclic_garbage() -> Iterator[None]:
    """Fail if the block leaves garbage only the cycle collector could free."""
    gc.collect()
    gc.disable()
    try:
        yield
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_timers_leave_no_reference_cycles(hub: Hub, clock: FakeClock) -> None:
    fired: list[datetime] = []
    with _no_cyclic_garbage():
        for _ in range(3):
            hub.async_call_later(1, fired.append)  # fires
            hub.async_call_later(5, fired.append)()  # cancelled before it fires
            cancel = hub.async_call_later(1, fired.append)
            clock.advance(1)
            cancel()  # cancelled after it fired
        cancel_interval = hub.async_track_time_interval(fired.append, 1)
        clock.advance(3)
        cancel_interval()
        clock.advance(10)
        assert len(fired) == 9
        assert hub.pending_timers == 0


async def test_timers_on_the_system_clock_leave_no_reference_cycles(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    done = asyncio.Event()
    ticks: list[datetime] = []

    def tick(now: datetime) -> None:
        ticks.append(now)
        if len(ticks) == 2:
            done.set()

    with _no_cyclic_garbage():
        hub.async_call_later(60, ticks.append)()
        hub.async_call_later(0.001, ticks.append)
        cancel_interval = hub.async_track_time_interval(tick, 0.002)
        await asyncio.wait_for(done.wait(), 2)
        cancel_interval()
        assert hub.pending_timers == 0
    await hub.async_stop()


# --------------------------------------------------------------------------- typed data


def test_hub_data_typed_keys() -> None:
    data = HubData()
    gates: HubKey[list[str]] = HubKey("gates")
    count: HubKey[int] = HubKey("count")

    assert gates not in data
    assert data.get(gates) is None
    assert data.get(count, 7) == 7
    with pytest.raises(KeyError):
        data[gates]

    data[gates] = ["north"]
    assert gates in data
    assert data[gates] == ["north"]
    assert data.setdefault(gates, ["other"]) == ["north"]
    assert data.setdefault(count, 1) == 1
    assert data[count] == 1

    assert data.pop(gates) == ["north"]
    assert gates not in data
    assert data.pop(gates, ["gone"]) == ["gone"]
    assert repr(count) == "HubKey('count')"


def test_hub_data_keys_are_objects_not_names() -> None:
    """Two keys with one name stay apart: a key is shared by importing it."""
    data = HubData()
    mine: HubKey[str] = HubKey("mqtt")
    theirs: HubKey[str] = HubKey("mqtt")

    data[mine] = "client"

    assert theirs not in data
    assert "mqtt" not in data


async def test_hub_has_own_data(hub_factory: HubFactory) -> None:
    key: HubKey[str] = HubKey("name")
    first = await hub_factory()
    second = await hub_factory()

    first.data[key] = "first"

    assert key not in second.data
