"""Benchmarks of the core: ``python -m linli.bench [NAME ...] [--repeat N]``.

The figures carry the names and workloads of Home Assistant's ``hass --script benchmark``,
plus ``states_set``. Unlike that script, each figure times the whole work: firing *and*
draining until every listener has run. Each run uses a fresh hub and checks that its
listeners ran exactly as often as expected; a wrong count fails the figure. One line is
printed per figure; a figure below its budget says ``MISSED`` and the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from linli import state as state_module
from linli.bus import Event
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED
from linli.helpers.entityfilter import convert_include_exclude_filter
from linli.helpers.event import async_track_state_change, async_track_state_change_event
from linli.hub import Hub
from linli.state import State
from linli.util.json import json_bytes

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkError",
    "Budget",
    "format_result",
    "main",
    "run_benchmark",
]

BenchFunc = Callable[[Hub], Awaitable[float]]
"""A benchmark: given a fresh hub, set up, time the work, check it, return seconds."""


class BenchmarkError(AssertionError):
    """A benchmark's listeners did not run as often as they should have."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A minimum rate: ``factor`` × Home Assistant's measured rate on the same machine."""

    factor: int
    ha_rate: int
    ha_version: str = "2024.3"

    @property
    def rate(self) -> int:
        """The minimum rate per second."""
        return self.factor * self.ha_rate

    def describe(self, rate: float) -> str:
        """Return the comparison text for a measured ``rate``."""
        verdict = "ok" if rate >= self.rate else "MISSED"
        return (
            f"budget ≥ {self.rate:,}/s = {self.factor} × HA {self.ha_version}'s "
            f"{self.ha_rate:,}/s: {verdict}"
        )


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A named figure: the work, how many units it does, and its budget if it has one."""

    name: str
    func: BenchFunc
    count: int
    unit: str
    budget: Budget | None = None


BENCHMARKS: dict[str, Benchmark] = {}
"""Every benchmark by name, in the order they run."""

EVENTS_BUDGET = Budget(3, 82_000)
STATE_WRITES_BUDGET = Budget(2, 42_000)


def _benchmark(
    count: int, unit: str, budget: Budget | None = None
) -> Callable[[BenchFunc], BenchFunc]:
    def register(func: BenchFunc) -> BenchFunc:
        BENCHMARKS[func.__name__] = Benchmark(func.__name__, func, count, unit, budget)
        return func

    return register


def _expect(what: str, actual: int, expected: int) -> None:
    if actual != expected:
        raise BenchmarkError(f"{what}: {actual:,}, expected {expected:,}")


EVENTS = 10**6


@_benchmark(EVENTS, "events", EVENTS_BUDGET)
async def fire_events(hub: Hub) -> float:
    """Fire a million events to one ``@callback`` listener."""
    count = 0
    event_name = "benchmark_event"

    @callback
    def listener(event: Event[Any]) -> None:
        nonlocal count
        count += 1

    hub.bus.async_listen(event_name, listener)
    fire = hub.bus.async_fire
    start = time.perf_counter()
    for _ in range(EVENTS):
        fire(event_name)
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("listener calls", count, EVENTS)
    return elapsed


@_benchmark(EVENTS, "events")
async def fire_events_with_filter(hub: Hub) -> float:
    """Fire a million events to a listener whose filter rejects them all."""
    count = 0
    filtered = 0
    event_name = "benchmark_event"

    @callback
    def event_filter(event: Event[Any]) -> bool:
        nonlocal filtered
        filtered += 1
        return False

    @callback
    def listener(event: Event[Any]) -> None:
        nonlocal count
        count += 1

    hub.bus.async_listen(event_name, listener, event_filter=event_filter)
    fire = hub.bus.async_fire
    start = time.perf_counter()
    for _ in range(EVENTS):
        fire(event_name)
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("filter calls", filtered, EVENTS)
    _expect("listener calls", count, 0)
    return elapsed


def _kitchen_event_data(entity_id: str) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "old_state": State("light.kitchen", "off"),
        "new_state": State("light.kitchen", "on"),
    }


@_benchmark(EVENTS, "events")
async def state_changed_helper(hub: Hub) -> float:
    """A million ``state_changed`` events through async_track_state_change, 1000 entities."""
    count = 0

    @callback
    def listener(*args: Any) -> None:
        nonlocal count
        count += 1

    for idx in range(1000):
        async_track_state_change(hub, f"light.kitchen{idx}", listener, "off", "on")
    event_data = _kitchen_event_data("light.kitchen0")
    fire = hub.bus.async_fire
    start = time.perf_counter()
    for _ in range(EVENTS):
        fire(EVENT_STATE_CHANGED, event_data)
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("listener calls", count, EVENTS)
    return elapsed


@_benchmark(EVENTS, "events")
async def state_changed_event_helper(hub: Hub) -> float:
    """A million ``state_changed`` events through async_track_state_change_event."""
    count = 0

    @callback
    def listener(*args: Any) -> None:
        nonlocal count
        count += 1

    async_track_state_change_event(hub, [f"light.kitchen{idx}" for idx in range(1000)], listener)
    event_data = _kitchen_event_data("light.kitchen0")
    fire = hub.bus.async_fire
    start = time.perf_counter()
    for _ in range(EVENTS):
        fire(EVENT_STATE_CHANGED, event_data)
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("listener calls", count, EVENTS)
    return elapsed


@_benchmark(EVENTS, "events")
async def state_changed_event_filter_helper(hub: Hub) -> float:
    """A million ``state_changed`` events for an untracked entity: all filtered out."""
    count = 0

    @callback
    def listener(*args: Any) -> None:
        nonlocal count
        count += 1

    async_track_state_change_event(hub, [f"light.kitchen{idx}" for idx in range(1000)], listener)
    event_data = _kitchen_event_data("switch.no_listeners")
    fire = hub.bus.async_fire
    start = time.perf_counter()
    for _ in range(EVENTS):
        fire(EVENT_STATE_CHANGED, event_data)
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("listener calls", count, 0)
    return elapsed


FILTER_CALLS = 10**5

_FILTER_CONFIG = {
    "include": {
        "domains": ["automation", "script", "group", "media_player", "custom_component"],
        "entity_globs": [
            "binary_sensor.*_contact",
            "binary_sensor.*_occupancy",
            "binary_sensor.*_detected",
            "binary_sensor.*_active",
            "input_*",
            "device_tracker.*_phone",
            "switch.*_light",
            "binary_sensor.*_charging",
            "binary_sensor.*_lock",
            "binary_sensor.*_connected",
        ],
        "entities": [
            "test.entity_1",
            "test.entity_2",
            "binary_sensor.garage_door_open",
            "test.entity_3",
            "test.entity_4",
        ],
    },
    "exclude": {
        "domains": ["input_number"],
        "entity_globs": ["media_player.google_*", "group.all_*"],
        "entities": [],
    },
}

# The entity ids of Home Assistant's benchmark, with whether its filter lets each pass.
_FILTER_ENTITY_IDS = {
    "automation.home_arrival": True,
    "script.shut_off_house": True,
    "binary_sensor.garage_door_open": True,
    "binary_sensor.front_door_lock": True,
    "binary_sensor.kitchen_motion_sensor_occupancy": True,
    "switch.desk_lamp": False,
    "light.dining_room": False,
    "input_boolean.guest_staying_over": True,
    "person.eleanor_fant": False,
    "alert.issue_at_home": False,
    "calendar.eleanor_fant_s_calendar": False,
    "sun.sun": False,
}


@_benchmark(FILTER_CALLS, "calls")
async def filtering_entity_id(hub: Hub) -> float:
    """Run 100,000 entity ids through an include/exclude entity filter."""
    entity_filter = convert_include_exclude_filter(_FILTER_CONFIG)
    entity_ids = list(_FILTER_ENTITY_IDS)
    size = len(entity_ids)
    passed = 0
    start = time.perf_counter()
    for i in range(FILTER_CALLS):
        if entity_filter(entity_ids[i % size]):
            passed += 1
    elapsed = time.perf_counter() - start
    verdicts = list(_FILTER_ENTITY_IDS.values())
    expected = sum(verdicts[i % size] for i in range(FILTER_CALLS))
    _expect("entity ids passed", passed, expected)
    return elapsed


VALID_CALLS = 10**6


@_benchmark(VALID_CALLS, "calls")
async def valid_entity_id(hub: Hub) -> float:
    """Check a million times that ``light.kitchen`` is a valid entity id."""
    valid = 0
    check = state_module.valid_entity_id
    start = time.perf_counter()
    for _ in range(VALID_CALLS):
        if check("light.kitchen"):
            valid += 1
    elapsed = time.perf_counter() - start
    _expect("valid results", valid, VALID_CALLS)
    return elapsed


STATES = 10**6


@_benchmark(STATES, "states")
async def json_serialize_states(hub: Hub) -> float:
    """Serialise a list of a million States with the WebSocket encoder."""
    states = [
        State("light.kitchen", "on", {"friendly_name": "Kitchen Lights"}) for _ in range(STATES)
    ]
    start = time.perf_counter()
    data = json_bytes(states)
    elapsed = time.perf_counter() - start
    _expect("states serialised", data.count(b'"entity_id":"light.kitchen"'), STATES)
    return elapsed


STATE_WRITES = 100_000
STATE_ENTITIES = 1_000


@_benchmark(STATE_WRITES, "writes", STATE_WRITES_BUDGET)
async def states_set(hub: Hub) -> float:
    """Write 100,000 states over 1,000 entities, with one ``state_changed`` listener."""
    count = 0

    @callback
    def listener(event: Event[Any]) -> None:
        nonlocal count
        count += 1

    hub.bus.async_listen(EVENT_STATE_CHANGED, listener)
    entity_ids = [f"light.kitchen{idx}" for idx in range(STATE_ENTITIES)]
    attributes = [{"friendly_name": f"Kitchen {idx}"} for idx in range(STATE_ENTITIES)]
    rounds = STATE_WRITES // STATE_ENTITIES
    async_set = hub.states.async_set
    start = time.perf_counter()
    for round_ in range(rounds):
        value = "on" if round_ % 2 else "off"
        for idx in range(STATE_ENTITIES):
            async_set(entity_ids[idx], value, attributes[idx])
    await hub.async_block_till_done()
    elapsed = time.perf_counter() - start
    _expect("state_changed events", count, STATE_WRITES)
    return elapsed


# ---------------------------------------------------------------------------------- running


async def _run_once(bench: Benchmark, config_dir: str) -> float:
    hub = Hub(config_dir)
    try:
        return await bench.func(hub)
    finally:
        await hub.async_stop()


def run_benchmark(bench: Benchmark, repeat: int = 1) -> float:
    """Run ``bench`` ``repeat`` times, each on a fresh hub and loop; return the best seconds."""
    best = math.inf
    for _ in range(repeat):
        gc.collect()  # start from a clean heap: the previous run's garbage is not this one's
        with tempfile.TemporaryDirectory(prefix="linli-bench-") as config_dir:
            best = min(best, asyncio.run(_run_once(bench, config_dir)))
    return best


def _format_seconds(seconds: float) -> str:
    """Two significant digits at least, two decimals at least: 0.52, 0.052, 12.30."""
    if seconds <= 0:
        return "0.00"
    decimals = max(2, 1 - math.floor(math.log10(seconds)))
    return f"{seconds:.{decimals}f}"


def _format_rate(rate: float) -> str:
    return f"{round(rate, -3) if rate >= 10_000 else round(rate):,.0f}"


def format_result(bench: Benchmark, seconds: float) -> tuple[str, bool]:
    """Return the line for ``bench`` taking ``seconds``, and whether it met its budget."""
    rate = bench.count / seconds if seconds > 0 else math.inf
    text = f"{bench.name}: {_format_seconds(seconds)} s ({_format_rate(rate)} {bench.unit}/s"
    if bench.budget is None:
        return text + ")", True
    return f"{text}; {bench.budget.describe(rate)})", rate >= bench.budget.rate


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m linli.bench",
        description="Run the core benchmarks (all, or the named ones) and compare to budgets.",
        epilog="Benchmarks: " + ", ".join(BENCHMARKS),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each N times, report the best"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; "
            f"valid names: {', '.join(BENCHMARKS)}"
        )
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print one line each; return 1 if any missed its budget or failed."""
    args = _parse_args(argv)
    status = 0
    for name in args.names or BENCHMARKS:
        bench = BENCHMARKS[name]
        try:
            seconds = run_benchmark(bench, args.repeat)
        except Exception as err:
            traceback.print_exc()
            print(f"{name}: FAILED ({type(err).__name__}: {err})", flush=True)
            status = 1
            continue
        line, ok = format_result(bench, seconds)
        print(line, flush=True)
        if not ok:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
