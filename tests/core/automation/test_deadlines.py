"""Persisted deadlines: firing, cancelling, and taking over after a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from linli.callback import callback
from linli.clock import FakeClock
from linli.helpers.deadlines import DeadlineFired, get_deadlines
from linli.hub import Hub

HubFactory = Any


class Calls(list[DeadlineFired]):
    """A deadline action recording each firing."""

    def __call__(self, fired: DeadlineFired) -> None:
        self.append(fired)


def stored(hub: Hub) -> dict[str, Any]:
    """The persisted deadlines, by key, as written to disk."""
    path = hub.storage_dir / "linli.deadlines"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return {record["key"]: record for record in data["deadlines"]}


async def test_a_deadline_fires_at_its_time_and_is_forgotten(hub: Hub, clock: FakeClock) -> None:
    deadlines = get_deadlines(hub)
    await deadlines.async_load()
    calls = Calls()
    deadlines.async_schedule("test.a", clock.time() + 60, calls, data={"entity_id": "light.a"})
    clock.advance(1)
    await hub.async_block_till_done()
    assert set(stored(hub)) == {"test.a"}
    assert stored(hub)["test.a"]["data"] == {"entity_id": "light.a"}

    clock.advance(58)
    assert calls == []
    clock.advance(1)
    assert len(calls) == 1
    assert calls[0].late is False
    assert calls[0].deadline.data == {"entity_id": "light.a"}
    clock.advance(1)
    await hub.async_block_till_done()
    assert stored(hub) == {}


async def test_cancelling_and_rescheduling(hub: Hub, clock: FakeClock) -> None:
    deadlines = get_deadlines(hub)
    await deadlines.async_load()
    first, second = Calls(), Calls()
    cancel_first = deadlines.async_schedule("test.a", clock.time() + 10, first)
    deadlines.async_schedule("test.a", clock.time() + 20, second)  # replaces it
    cancel_first()  # an old canceller does not cancel the replacement
    clock.advance(30)
    assert (len(first), len(second)) == (0, 1)

    cancelled = Calls()
    deadlines.async_schedule("test.b", clock.time() + 10, cancelled)
    deadlines.async_cancel("test.b")
    clock.advance(30)
    await hub.async_block_till_done()
    assert cancelled == []
    assert stored(hub) == {}


async def test_a_coroutine_action_is_awaited(hub: Hub, clock: FakeClock) -> None:
    deadlines = get_deadlines(hub)
    done: list[bool] = []

    async def action(fired: DeadlineFired) -> None:
        done.append(fired.late)

    deadlines.async_schedule("test.a", clock.time() + 5, action)
    clock.advance(5)
    await hub.async_block_till_done()
    assert done == [False]


async def test_data_must_be_json(hub: Hub) -> None:
    deadlines = get_deadlines(hub)
    with pytest.raises(TypeError):
        deadlines.async_schedule("test.a", 0, Calls(), data={"bad": object()})


async def test_deadlines_survive_a_restart(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "c"
    first = await hub_factory(config_dir)
    deadlines = get_deadlines(first)
    await deadlines.async_load()
    start = clock.time()
    cancels = [
        deadlines.async_schedule("automation.a.trigger.0.light.a", start + 3600, Calls()),
        deadlines.async_schedule("automation.a.run.1", start + 600, Calls(), data={"step": 2}),
        deadlines.async_schedule("automation.b.trigger.0.light.b", start + 60, Calls()),
    ]

    @callback
    def unload(_event: Any) -> None:
        # Owners cancel their timers as they unload at stop: that only lets go of them.
        for cancel in cancels:
            cancel()

    first.bus.async_listen_once("linli_stop", unload)
    await first.async_stop()
    clock.advance(1800)

    second = await hub_factory(config_dir)
    deadlines = get_deadlines(second)
    await deadlines.async_load()
    assert [d.key for d in deadlines.pending("automation.a.")] == [
        "automation.a.run.1",
        "automation.a.trigger.0.light.a",
    ]
    run = deadlines.pending("automation.a.run.")[0]
    assert run.data == {"step": 2}
    assert run.when == start + 600
    assert run.created_at == start

    on_time, late = Calls(), Calls()
    deadlines.async_reattach("automation.a.trigger.0.light.a", on_time)
    deadlines.async_reattach("automation.a.run.1", late)
    assert deadlines.async_reattach("automation.a.run.1", late) is None  # taken already
    deadlines.async_drop("automation.b.trigger.0.light.b")
    assert deadlines.pending() == []
    await second.async_block_till_done()
    assert [fired.late for fired in late] == [True]

    clock.advance(1799)
    assert on_time == []
    clock.advance(1)
    assert [fired.late for fired in on_time] == [False]
    await second.async_stop()
    assert stored(second) == {}


async def test_scheduling_before_loading_keeps_the_previous_run(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "c"
    first = await hub_factory(config_dir)
    get_deadlines(first).async_schedule("old", clock.time() + 100, Calls())
    await first.async_stop()

    second = await hub_factory(config_dir)
    deadlines = get_deadlines(second)
    deadlines.async_schedule("new", clock.time() + 100, Calls())  # not loaded yet
    clock.advance(2)
    await second.async_block_till_done()
    await second.async_stop()
    assert set(stored(second)) == {"old", "new"}


async def test_an_unreadable_store_is_left_alone(
    hub_factory: HubFactory, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_dir = tmp_path / "c"
    (config_dir / ".linli").mkdir(parents=True)
    (config_dir / ".linli" / "linli.deadlines").write_text("{not json", encoding="utf-8")
    hub = await hub_factory(config_dir)
    deadlines = get_deadlines(hub)
    await deadlines.async_load()
    calls = Calls()
    deadlines.async_schedule("a", clock.time() + 10, calls)
    clock.advance(10)
    await hub.async_stop()
    assert len(calls) == 1  # still works in memory
    assert (config_dir / ".linli" / "linli.deadlines").read_text() == "{not json"
    assert "cannot be read" in caplog.text


async def test_many_deadlines_share_one_clock_timer_and_fire_in_order(
    hub: Hub, clock: FakeClock
) -> None:
    deadlines = get_deadlines(hub)
    await deadlines.async_load()
    order: list[str] = []
    start = clock.time()
    baseline = hub.pending_timers
    cancels = {}
    for index in range(500):
        key = f"k{index}"
        cancels[key] = deadlines.async_schedule(
            key, start + 1 + (index * 7919) % 500, callback(lambda f: order.append(f.deadline.key))
        )
    assert hub.pending_timers == baseline + 2  # one for all deadlines, one for the save
    for index in range(0, 500, 2):  # cancel every other one: the heap is compacted
        cancels[f"k{index}"]()
    deadlines.async_schedule("first", start + 0.5, callback(lambda f: order.append("first")))
    clock.advance(1000)
    expected = sorted(
        (f"k{index}" for index in range(1, 500, 2)), key=lambda key: (int(key[1:]) * 7919) % 500
    )
    assert order == ["first", *expected]
    await hub.async_block_till_done()
    assert hub.pending_timers == baseline
