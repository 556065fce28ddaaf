"""Benchmarks of the core: ``python -m linli.bench [NAME ...] [--repeat N] [--quick]``.

The rate figures carry the names and workloads of Home Assistant's ``hass --script
benchmark``, plus ``states_set``. Unlike that script, each figure times the whole work: firing
*and* draining until every listener has run. Each run uses a fresh hub and checks that its
listeners ran exactly as often as expected; a wrong count fails the figure.

``automation_latency_p50_ms`` and ``automation_latency_p99_ms`` come from one run of a real
hub under a steady load of state writes (see :func:`measure_automation_latency`).

One line is printed per figure; a figure outside its budget says ``MISSED`` and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import math
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linli import state as state_module
from linli.bus import Event
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED
from linli.helpers.entityfilter import convert_include_exclude_filter
from linli.helpers.event import async_track_state_change, async_track_state_change_event
from linli.hub import Hub
from linli.services import ServiceCall
from linli.state import State
from linli.util.json import json_bytes

__all__ = [
    "BENCHMARKS",
    "COMPONENT_FIGURES",
    "LATENCY_FIGURES",
    "Benchmark",
    "BenchmarkError",
    "Budget",
    "Latencies",
    "LatencyFigure",
    "LatencyWorkload",
    "format_latency",
    "format_result",
    "main",
    "measure_automation_latency",
    "run_benchmark",
    "run_latency",
]

BenchFunc = Callable[[Hub], Awaitable[float]]
"""A benchmark: given a fresh hub, set up, time the work, check it, return seconds."""


class BenchmarkError(AssertionError):
    """A benchmark's listeners (or actions) did not run as often as they should have."""


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


# ---------------------------------------------------------------- trigger → action latency


@dataclass(frozen=True, slots=True)
class LatencyFigure:
    """A percentile of the trigger → action latency, in milliseconds, with its budget."""

    name: str
    percentile: int
    budget_ms: float | None = None


LATENCY_FIGURES: dict[str, LatencyFigure] = {
    figure.name: figure
    for figure in (
        LatencyFigure("automation_latency_p50_ms", 50),
        LatencyFigure("automation_latency_p99_ms", 99, budget_ms=20.0),
    )
}
"""The latency figures by name, in the order they are printed; one run gives them all."""


@dataclass(frozen=True, slots=True)
class LatencyWorkload:
    """How many automations, and how many state writes per second for how long."""

    automations: int
    seconds: float
    writes_per_second: int = 1_000
    batch: int = 10
    """Writes per batch: one batch every ``batch / writes_per_second`` seconds."""
    seed: int = 20_240_301


FULL_LATENCY = LatencyWorkload(automations=1_000, seconds=20.0)
"""Long enough to take in the collector's rarer, longer pauses: the first seconds after
start-up are calmer than the rest, and a 5 s run would report those only."""
QUICK_LATENCY = LatencyWorkload(automations=100, seconds=0.5)
"""A short run for checking the output (``--quick``), not a figure to compare."""


@dataclass(frozen=True, slots=True)
class Latencies:
    """The latency of every action of a run, in milliseconds, sorted."""

    samples_ms: list[float]
    automations: int
    seconds: float

    def percentile(self, percent: float) -> float:
        """Return the nearest-rank percentile (``percent`` in 0–100)."""
        if not self.samples_ms:
            return math.nan
        rank = max(1, math.ceil(percent / 100 * len(self.samples_ms)))
        return self.samples_ms[rank - 1]


def _for_ms(index: int) -> int | None:
    """The ``for:`` of automation ``index`` in milliseconds, or None: every 10th, 100–300 ms."""
    return 100 * (1 + index // 10 % 3) if index % 10 == 0 else None


def _has_condition(index: int) -> bool:
    """Whether automation ``index`` has a condition: two in every 10."""
    return index % 10 in (1, 2)


def _automation_yaml(index: int) -> str:
    lines = [
        f"- id: bench_{index}",
        "  triggers:",
        "    - trigger: state",
        f"      entity_id: sensor.bench_{index}",
        '      to: "on"',
    ]
    period = _for_ms(index)
    if period is not None:
        lines.append(f"      for: {{milliseconds: {period}}}")
    if _has_condition(index):
        lines += [
            "  conditions:",
            "    - condition: numeric_state",
            f"      entity_id: sensor.bench_{index}",
            "      attribute: level",
            "      above: 50",
        ]
    lines += ["  actions:", "    - action: bench.record", f"      data: {{automation: {index}}}"]
    return "\n".join(lines) + "\n"


def _write_latency_config(config_dir: Path, automations: int) -> None:
    (config_dir / "configuration.yaml").write_text(
        "linli:\n  name: Latency bench\n  time_zone: UTC\n\n"
        "automation: !include automations.yaml\n"
        # The recorder records every write, as in production; the server takes any free port.
        "http:\n  server_port: 0\n"
        "zeroconf:\n  advertise: false\n",
        encoding="utf-8",
    )
    (config_dir / "automations.yaml").write_text(
        "".join(_automation_yaml(index) for index in range(automations)), encoding="utf-8"
    )


_WAKE_EARLY = 0.002
"""How early the driver asks to wake for a batch: the loop's timers wake up to 2 ms late
(milliseconds rounded up, twice), which would count against the hub otherwise."""


class _LatencyProbe:
    """What the driver expects, and the ``bench.record`` handler that checks it off."""

    __slots__ = ("drained", "due", "expected", "latencies", "unexpected", "writing")

    def __init__(self) -> None:
        self.due: dict[int, float] = {}
        """Automation index → ``perf_counter()`` time its action is due (write + ``for:``)."""
        self.expected = 0
        self.unexpected = 0
        self.latencies: list[float] = []
        self.writing = True
        self.drained = asyncio.Event()
        """Set once the driver has finished and no action is due any more."""

    @callback
    def record(self, call: ServiceCall) -> None:
        """``bench.record``: note how long after it was due this action runs."""
        now = time.perf_counter()
        due = self.due.pop(call.data["automation"], None)
        if due is None:
            self.unexpected += 1
        else:
            self.latencies.append(now - due)
        if not self.due and not self.writing:
            self.drained.set()

    async def async_drain(self, give_up_after: float) -> None:
        """The driver has finished: wait for the actions still due (``give_up_after`` s at most)."""
        self.writing = False
        if not self.due:
            return
        try:
            async with asyncio.timeout(give_up_after):
                await self.drained.wait()
        except TimeoutError:
            pass  # the count check says what is missing


async def measure_automation_latency(config_dir: Path, workload: LatencyWorkload) -> Latencies:
    """Measure how long after a state write the automation it triggers runs its action.

    A hub is set up from ``config_dir`` (through :func:`~linli.bootstrap.async_setup_hub`,
    on the system clock) with ``workload.automations`` automations, each with a state trigger
    ``to: "on"`` on its own ``sensor.bench_<i>`` and the action ``bench.record``: 7 in 10 plain,
    2 in 10 with a ``numeric_state`` condition on the new state's ``level`` attribute (above
    50), 1 in 10 with a ``for:`` of 100, 200 or 300 ms (their ``for:`` timers are persisted
    deadlines, as every automation's are). The long-lived objects of the started hub are
    frozen out of the garbage collector, as ``linli run`` does.

    A driver then toggles random entities between ``off`` and ``on`` with a random ``level``
    (0–100): ``workload.batch`` writes at a time on a fixed schedule, never faster than
    ``workload.writes_per_second`` (a batch may be up to 2 ms early). A latency runs
    from the write (plus its ``for:``) to the call of the ``bench.record`` handler. When the
    loop was late for a batch, its writes count from when the schedule wanted them: a device's
    message would have waited just as long for a loop held up (by the garbage collector, say),
    and leaving that wait out would hide the very pauses this figure is about. The driver
    knows which writes must run an action and leaves an entity alone until its action has
    run; every expected action must run, and no other.
    """
    from linli.bootstrap import async_setup_hub

    _write_latency_config(config_dir, workload.automations)
    hub = await async_setup_hub(config_dir)
    # As ``linli run`` does once the hub has started.
    gc.collect()
    gc.freeze()
    try:
        probe = _LatencyProbe()
        hub.services.async_register("bench", "record", probe.record)
        entity_ids = [f"sensor.bench_{index}" for index in range(workload.automations)]
        periods = [(_for_ms(index) or 0) / 1000 for index in range(workload.automations)]
        conditional = [_has_condition(index) for index in range(workload.automations)]
        is_on = [False] * workload.automations
        async_set = hub.states.async_set
        for entity_id in entity_ids:
            async_set(entity_id, "off", {"level": 0})
        await hub.async_block_till_done()

        rng = random.Random(workload.seed)
        due = probe.due
        interval = workload.batch / workload.writes_per_second
        start = time.perf_counter()
        for batch in range(round(workload.seconds / interval)):
            scheduled = start + batch * interval
            wait = scheduled - _WAKE_EARLY - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            for _ in range(workload.batch):
                index = rng.randrange(workload.automations)
                while index in due:
                    index = rng.randrange(workload.automations)
                on = is_on[index] = not is_on[index]
                level = rng.randrange(101)
                if on and (level > 50 or not conditional[index]):
                    due[index] = min(time.perf_counter(), scheduled) + periods[index]
                    probe.expected += 1
                async_set(entity_ids[index], "on" if on else "off", {"level": level})
        await probe.async_drain(max(periods) + 5.0)
        await hub.async_block_till_done()
        _expect("actions run", len(probe.latencies), probe.expected)
        _expect("actions nobody expected", probe.unexpected, 0)
        samples = sorted(latency * 1000 for latency in probe.latencies)
        return Latencies(samples, workload.automations, workload.seconds)
    finally:
        gc.unfreeze()
        await hub.async_stop()


def run_latency(workload: LatencyWorkload = FULL_LATENCY, repeat: int = 1) -> list[Latencies]:
    """Run the latency benchmark ``repeat`` times, each on a fresh hub, loop and config dir."""
    results = []
    for _ in range(repeat):
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="linli-bench-") as config_dir:
            results.append(asyncio.run(measure_automation_latency(Path(config_dir), workload)))
    return results


def format_latency(figure: LatencyFigure, results: Sequence[Latencies]) -> tuple[str, bool]:
    """Return the line for ``figure`` (the best of ``results``), and whether it met its budget."""
    best = min(results, key=lambda result: result.percentile(figure.percentile))
    value = best.percentile(figure.percentile)
    worst = best.samples_ms[-1] if best.samples_ms else math.nan
    text = (
        f"{figure.name}: {_format_value(value)} ms ({len(best.samples_ms):,} actions of "
        f"{best.automations:,} automations in {best.seconds:g} s, worst {worst:.1f} ms"
    )
    if figure.budget_ms is None:
        return text + ")", True
    ok = value <= figure.budget_ms
    return f"{text}; budget ≤ {figure.budget_ms:g} ms: {'ok' if ok else 'MISSED'})", ok


# ------------------------------------------------------------------ figures of the components

Figure = tuple[str, float, str, str, bool]
"""A figure measured by a component's benchmark module: name, value, unit, budget text, ok."""

COMPONENT_FIGURES: dict[str, str] = {
    "history_query_ms": "linli.bench_recorder",
    "rest_get_states_rps": "linli.bench_http",
    "ws_fanout_delivered_per_s": "linli.bench_ws",
    # A real `linli run` process on config_example (the demo and MQTT must be installed).
    "cold_start_s": "linli.bench_start",
    "idle_rss_mib": "linli.bench_start",
    # Measured with the mqtt integration and the demo's load generator (both must be installed).
    "mqtt_ingest_msg_per_s": "linli_mqtt.bench",
    "mqtt_ingest_lost": "linli_mqtt.bench",
    "mqtt_ingest_p99_ms": "linli_mqtt.bench",
    # The capabilities' own figures (their distributions must be installed).
    "plate_decision_p99_ms": "linli_plate_gate.bench",
    "face_match_10k_ms": "linli_face_access.bench",
}
"""Figures measured on a whole hub (server, database), by the module that measures them.

Each module has ``async def run(names: set[str] | None, quick: bool) -> list[Figure]``."""


def run_component_figures(module_name: str, names: set[str], quick: bool) -> list[Figure]:
    """Run the figures ``names`` of one component benchmark module on a fresh loop."""
    module = importlib.import_module(module_name)
    figures: list[Figure] = asyncio.run(module.run(names, quick))
    return figures


def format_figure(figure: Figure) -> tuple[str, bool]:
    """Return the line for a component's figure, and whether it met its budget."""
    name, value, unit, budget_text, ok = figure
    number = _format_rate(value) if value >= 1_000 else _format_value(value)
    text = f"{name}: {number} {unit}"
    if not budget_text:
        return text, ok
    return f"{text} ({budget_text}: {'ok' if ok else 'MISSED'})", ok


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


def _format_value(value: float) -> str:
    """Two significant digits at least, two decimals at least: 0.52, 0.052, 12.30."""
    if value <= 0:
        return "0.00"
    decimals = max(2, 1 - math.floor(math.log10(value)))
    return f"{value:.{decimals}f}"


def _format_rate(rate: float) -> str:
    return f"{round(rate, -3) if rate >= 10_000 else round(rate):,.0f}"


def format_result(bench: Benchmark, seconds: float) -> tuple[str, bool]:
    """Return the line for ``bench`` taking ``seconds``, and whether it met its budget."""
    rate = bench.count / seconds if seconds > 0 else math.inf
    text = f"{bench.name}: {_format_value(seconds)} s ({_format_rate(rate)} {bench.unit}/s"
    if bench.budget is None:
        return text + ")", True
    return f"{text}; {bench.budget.describe(rate)})", rate >= bench.budget.rate


def _figure_names() -> list[str]:
    return [*BENCHMARKS, *LATENCY_FIGURES, *COMPONENT_FIGURES]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = _figure_names()
    parser = argparse.ArgumentParser(
        prog="python -m linli.bench",
        description="Run the core benchmarks (all, or the named ones) and compare to budgets.",
        epilog="Benchmarks: " + ", ".join(names),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each N times, report the best"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short latency run ({QUICK_LATENCY.automations} automations for "
        f"{QUICK_LATENCY.seconds:g} s) and small component workloads, to check the output; "
        "not figures to compare",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in names]
    if unknown:
        parser.error(
            f"unknown benchmark{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; "
            f"valid names: {', '.join(names)}"
        )
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print one line each; return 1 if any missed its budget or failed."""
    args = _parse_args(argv)
    # One line per figure: the hubs' notices (no user yet, …) are not figures; errors still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    status = 0
    latencies: list[Latencies] | Exception | None = None  # one run gives every latency figure
    selected = args.names or _figure_names()
    for name in selected:
        try:
            if name in COMPONENT_FIGURES:
                if _first_of_module(name, selected):
                    module_name = COMPONENT_FIGURES[name]
                    wanted = {n for n in selected if COMPONENT_FIGURES.get(n) == module_name}
                    for figure in run_component_figures(module_name, wanted, args.quick):
                        line, ok = format_figure(figure)
                        print(line, flush=True)
                        if not ok:
                            status = 1
                continue
            if name in LATENCY_FIGURES:
                if latencies is None:
                    try:
                        workload = QUICK_LATENCY if args.quick else FULL_LATENCY
                        latencies = run_latency(workload, args.repeat)
                    except Exception as err:
                        traceback.print_exc()
                        latencies = err
                if isinstance(latencies, Exception):
                    failure = latencies
                    print(f"{name}: FAILED ({type(failure).__name__}: {failure})", flush=True)
                    status = 1
                    continue
                line, ok = format_latency(LATENCY_FIGURES[name], latencies)
            else:
                bench = BENCHMARKS[name]
                line, ok = format_result(bench, run_benchmark(bench, args.repeat))
        except Exception as err:
            traceback.print_exc()
            print(f"{name}: FAILED ({type(err).__name__}: {err})", flush=True)
            status = 1
            continue
        print(line, flush=True)
        if not ok:
            status = 1
    return status


def _first_of_module(name: str, selected: Sequence[str]) -> bool:
    """Whether ``name`` is the first selected figure of its module (which runs them all)."""
    module_name = COMPONENT_FIGURES[name]
    return next(n for n in selected if COMPONENT_FIGURES.get(n) == module_name) == name


if __name__ == "__main__":
    sys.exit(main())
