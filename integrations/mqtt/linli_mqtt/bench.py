"""MQTT ingest figures: device messages over a broker into states and the recorder.

* ``mqtt_ingest_msg_per_s``: messages turned into ``state_changed`` events per second,
  sustained for 60 s (``quick``: 5 s), from the first publish to the last state change with
  the recorder's backlog written;
* ``mqtt_ingest_lost``: messages published but never seen as a state change, plus events the
  recorder dropped (must be 0);
* ``mqtt_ingest_p99_ms``: publish → ``state_changed``, 99th percentile.

A hub with the bundled integrations (the recorder records every change, SQLite) and the
``mqtt`` integration connects to the broker (``LINLI_BENCH_MQTT_BROKER=host:port``, default
the Mosquitto at 127.0.0.1:1883). The publisher is a child process, the load generator
``python -m linli_demo.simulate`` (``script/simulate``): 1,000 devices
(``LINLI_BENCH_MQTT_KIND``: ``sensor``, one entity per message, by default; ``meter`` has two)
publish round-robin at ``LINLI_BENCH_MQTT_RATE`` messages a second (default 12,000) under a
unique topic prefix. Every message carries a value its device never sent before, so each is
counted by its ``state_changed`` event and matched to its send time (``time.monotonic()``, one
clock for both processes). Devices are created during a warm-up (one message each) that is
not timed. ``LINLI_BENCH_PROFILE=<file>`` writes a pyinstrument profile of the hub during the
timed run.

Run alone: ``python -m linli_mqtt.bench [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import socket
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson

from linli import EVENT_STATE_CHANGED, Event, Hub, callback
from linli.bench import Figure

NAMES: Final = ("mqtt_ingest_msg_per_s", "mqtt_ingest_lost", "mqtt_ingest_p99_ms")
BUDGET_RATE: Final = 10_000.0
DEVICES: Final = 1000
READY_TIMEOUT: Final = 60.0
DRAIN_TIMEOUT: Final = 30.0
_LOGGER = logging.getLogger(__name__)


def _broker() -> tuple[str, int]:
    host, _, port = os.environ.get("LINLI_BENCH_MQTT_BROKER", "127.0.0.1:1883").rpartition(":")
    return host or "127.0.0.1", int(port)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


class Ingest:
    """Counts the bench devices' state changes and when each arrived."""

    def __init__(self, entity_index: dict[str, int], capacity: int) -> None:
        """Watch the entities in ``entity_index`` (entity_id → device number)."""
        self.entity_index = entity_index
        self.received = array("d", bytes(8 * capacity))
        self.count = 0
        self.duplicates = 0
        self.unexpected = 0
        self.last = 0.0
        self.offset = DEVICES

    @callback
    def listener(self, event: Event[dict[str, Any]]) -> None:
        """Record one state change of a bench entity: its sequence number's arrival time."""
        if event.data["entity_id"] not in self.entity_index:
            return
        new_state = event.data["new_state"]
        now = time.monotonic()
        try:
            seq = int(float(new_state.state)) - self.offset
        except (AttributeError, ValueError):
            self.unexpected += 1
            return
        if not 0 <= seq < len(self.received):
            self.unexpected += 1
            return
        if self.received[seq]:
            self.duplicates += 1
            return
        self.received[seq] = now
        self.count += 1
        self.last = now


def _bench_entities(hub: Hub, kind: str) -> dict[str, int]:
    """entity_id → device number, for the bench devices' value entities."""
    key = "power_w" if kind == "meter" else "value"
    found = {}
    for entry in hub.registries.entities:
        unique_id = entry.unique_id or ""
        parts = unique_id.split("/")
        if len(parts) == 3 and parts[0] == kind and parts[1].startswith("sim-") and parts[2] == key:
            found[entry.entity_id] = int(parts[1].removeprefix("sim-"))
    return found


async def _wait_until(check: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def measure(
    seconds: float, rate: float, kind: str = "sensor", profile: str | None = None
) -> dict[str, Any]:
    """Run the ingest under load; return the counts, rate and latencies."""
    import linli_mqtt
    from linli.components.recorder import get_recorder
    from linli.testing.http import async_start_served_hub

    host, port = _broker()
    if not _answers(host, port):
        raise RuntimeError(
            f"no MQTT broker at {host}:{port}: start Mosquitto (see ARCHITECTURE.md) or set "
            "LINLI_BENCH_MQTT_BROKER=host:port"
        )
    prefix = f"linli_bench/{uuid.uuid4().hex[:12]}"
    config = (
        f"mqtt:\n  broker: {host}\n  port: {port}\n  discovery: false\n"
        f"  devices:\n    topic_prefix: {prefix}\n"
        "recorder:\n  max_backlog: 1000000\n"
    )
    with tempfile.TemporaryDirectory(prefix="linli-bench-mqtt-") as folder:
        hub = await async_start_served_hub(
            Path(folder) / "config", extra_config=config, plugins=[("mqtt", linli_mqtt)]
        )
        child: asyncio.subprocess.Process | None = None
        try:
            if not await linli_mqtt.async_wait_for_connection(hub, 10):
                raise RuntimeError(f"the hub did not connect to {host}:{port}")
            recorder = get_recorder(hub)
            times_file = Path(folder) / "times.bin"
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "linli_demo.simulate",
                "--wait-go",
                "--json",
                "--broker",
                f"{host}:{port}",
                "--prefix",
                prefix,
                "--kind",
                kind,
                "--devices",
                str(DEVICES),
                "--rate",
                str(rate),
                "--seconds",
                str(seconds),
                "--times",
                str(times_file),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert child.stdout is not None
            assert child.stdin is not None
            line = await asyncio.wait_for(child.stdout.readline(), READY_TIMEOUT)
            if not line.startswith(b"WARM"):
                raise RuntimeError(f"the load generator did not start: {line!r}")
            entities: dict[str, int] = {}

            def all_there() -> bool:
                nonlocal entities
                entities = _bench_entities(hub, kind)
                return len(entities) == DEVICES and all(
                    hub.states.get(entity_id) is not None for entity_id in entities
                )

            await _wait_until(all_there, READY_TIMEOUT, f"{DEVICES} bench devices in the hub")
            await recorder.async_flush()
            dropped_before = recorder.dropped
            expected = round(rate * seconds)
            ingest = Ingest(entities, expected)
            unlisten = hub.bus.async_listen(EVENT_STATE_CHANGED, ingest.listener)
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="disabled")
                profiler.start()
            try:
                child.stdin.write(b"GO\n")
                await child.stdin.drain()
                report_line = await asyncio.wait_for(
                    child.stdout.readline(), seconds * 3 + READY_TIMEOUT
                )
                report = orjson.loads(report_line)
                sent = int(report["sent"])
                progress = (-1, time.monotonic())

                def drained() -> bool:
                    nonlocal progress
                    if ingest.count >= sent:
                        return True
                    if ingest.count != progress[0]:
                        progress = (ingest.count, time.monotonic())
                    return time.monotonic() - progress[1] > 5.0  # nothing more is coming

                await _wait_until(drained, DRAIN_TIMEOUT + seconds, "the last messages")
                await recorder.async_flush()
                flushed = time.monotonic()
            finally:
                if profiler is not None:
                    profiler.stop()
                    text = profiler.output_text(unicode=True, color=False)
                    await asyncio.to_thread(Path(str(profile)).write_text, text)
                unlisten()
            await child.wait()
            sent_times = array("d")
            with times_file.open("rb") as file:
                sent_times.fromfile(file, sent)
        finally:
            if child is not None and child.returncode is None:
                child.kill()
                await child.wait()
            await hub.async_stop()
    latencies = sorted(
        (ingest.received[i] - sent_times[i]) * 1000 for i in range(sent) if ingest.received[i]
    )
    p99 = (
        latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]
        if latencies
        else math.inf
    )
    p50 = latencies[len(latencies) // 2] if latencies else math.inf
    end = max(ingest.last, flushed if ingest.count else ingest.last)
    elapsed = end - float(report["first"])
    return {
        "sent": sent,
        "received": ingest.count,
        "recorder_dropped": recorder.dropped - dropped_before,
        "duplicates": ingest.duplicates,
        "unexpected": ingest.unexpected,
        "publish_rate": float(report["rate"]),
        "rate": ingest.count / elapsed if elapsed > 0 else 0.0,
        "p50_ms": p50,
        "p99_ms": p99,
        "seconds": elapsed,
    }


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure the figures of this module that ``names`` asks for (all when None)."""
    wanted = [name for name in NAMES if names is None or name in names]
    if not wanted:
        return []
    seconds = 5.0 if quick else 60.0
    rate = float(os.environ.get("LINLI_BENCH_MQTT_RATE", "12000"))
    kind = os.environ.get("LINLI_BENCH_MQTT_KIND", "sensor")
    result = await measure(seconds, rate, kind, os.environ.get("LINLI_BENCH_PROFILE"))
    lost = result["sent"] - result["received"] + result["recorder_dropped"]
    load = (
        f"{result['sent']:,} {kind} messages from {DEVICES:,} devices offered at "
        f"{result['publish_rate']:,.0f}/s for {seconds:g} s, recorder on"
    )
    figures: dict[str, Figure] = {
        "mqtt_ingest_msg_per_s": (
            "mqtt_ingest_msg_per_s",
            result["rate"],
            "msg/s",
            f"{load}; budget ≥ {BUDGET_RATE:,.0f}/s, none lost",
            result["rate"] >= BUDGET_RATE and lost == 0,
        ),
        "mqtt_ingest_lost": (
            "mqtt_ingest_lost",
            float(lost),
            "messages",
            f"of {result['sent']:,}; {result['recorder_dropped']} dropped by the recorder; "
            "budget 0",
            lost == 0,
        ),
        "mqtt_ingest_p99_ms": (
            "mqtt_ingest_p99_ms",
            result["p99_ms"],
            "ms",
            f"publish → state_changed, p50 {result['p50_ms']:.1f} ms",
            True,
        ),
    }
    return [figures[name] for name in wanted]


def main(argv: list[str] | None = None) -> int:
    """Print the figures (``--quick`` for 5 s)."""
    parser = argparse.ArgumentParser(prog="python -m linli_mqtt.bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    from linli.bench import format_figure

    status = 0
    for figure in asyncio.run(run(None, args.quick)):
        line, ok = format_figure(figure)
        print(line, flush=True)
        status |= not ok
    return status


if __name__ == "__main__":
    sys.exit(main())
