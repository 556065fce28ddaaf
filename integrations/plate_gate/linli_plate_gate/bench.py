"""Plate figure: ``plate_decision_p99_ms`` — an ``AlarmInfoPlate`` push to its answer, p99.

A hub with the bundled integrations (SQLite) and ``plate_gate`` serves on 127.0.0.1 (any free
port) with 20 HTTP gates, 200 resident plates and 200 visitor passes. 20 fake cameras, one per
gate, push reads back to back over real HTTP (a mix of residents, visitors and unknown plates,
each a new record, so each is decided *and* logged in its own transaction) and time each
request from send to the body read. The cameras share the hub's loop and CPU, so the figure
is a ceiling of what a camera sees on a real deployment. The ``mqtt`` integration is needed
by plate_gate: it connects to ``LINLI_BENCH_MQTT_BROKER`` (default 127.0.0.1:1883) when that
answers, else runs its embedded broker on a free port.

Run alone: ``python -m linli_plate_gate.bench [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import aiohttp

if TYPE_CHECKING:
    from linli import Hub

NAME: Final = "plate_decision_p99_ms"
GATES: Final = 20
BUDGET_MS: Final = 200.0
PLATES: Final = 200
PROVINCES: Final = "京沪粤川湘苏浙鲁"


def _broker() -> tuple[str, int] | None:
    host, _, port = os.environ.get("LINLI_BENCH_MQTT_BROKER", "127.0.0.1:1883").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return host or "127.0.0.1", int(port)
    except OSError:
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _plate(index: int) -> str:
    return f"{PROVINCES[index % len(PROVINCES)]}A{index:05d}"


def _config(prefix: str) -> str:
    broker = _broker()
    mqtt = (
        f"mqtt:\n  broker: {broker[0]}\n  port: {broker[1]}\n  discovery: false\n"
        f"  devices: {{topic_prefix: {prefix}}}\n"
        if broker is not None
        else f"mqtt:\n  embedded_port: {_free_port()}\n  discovery: false\n"
    )
    gates = "\n".join(
        f"    - {{id: g{i}, name: Gate {i}, car_park: p1, direction: in, kind: http, "
        f"webhook_id: bench-gate-{i:02d}-0123456789abcdef}}"
        for i in range(GATES)
    )
    return (
        "http:\n  server_host: 127.0.0.1\n  server_port: 0\n"
        + mqtt
        + "plate_gate:\n  car_parks:\n    - {id: p1, name: Bench, capacity: 100000}\n"
        + f"  gates:\n{gates}\n"
    )


async def _fill(hub: Hub) -> None:
    from linli import Context
    from linli.auth import get_auth
    from linli.auth.testing import async_user_with_token
    from linli_plate_gate import get_manager
    from linli_plate_gate.api import Caller, PlateApi

    user, _token = await async_user_with_token(hub, "admin", name="bench")
    permissions = get_auth(hub).permissions(user)
    caller = Caller(permissions, Context(user_id=user.id), "bench")
    api = PlateApi(hub, get_manager(hub))
    people = hub.registries.people
    household = people.async_create_household("bench")
    now = hub.clock.time()
    for index in range(PLATES):
        await api.async_add_plate(caller, {"household_id": household.id, "plate": _plate(index)})
        await api.async_add_pass(
            caller,
            {
                "household_id": household.id,
                "plate": _plate(PLATES + index),
                "start": now - 3600,
                "end": now + 86_400,
            },
        )


def _body(gate: int, number: int) -> bytes:
    # Residents, visitors and unknown plates in turn; every record is new.
    plate = _plate((number * 7 + gate) % (3 * PLATES))
    return json.dumps(
        {
            "AlarmInfoPlate": {
                "serialno": f"bench-{gate}",
                "result": {
                    "PlateResult": {
                        "license": plate,
                        "colorType": 1,
                        "plateid": number,
                        "isoffline": 0,
                        "timeStamp": {"Timeval": {"sec": int(time.time()), "usec": number}},
                    }
                },
            }
        },
        ensure_ascii=False,
    ).encode()


async def measure(pushes_per_gate: int) -> tuple[float, float, int]:
    """Run the cameras; return (p99 ms, median ms, pushes)."""
    import uuid

    import linli_mqtt
    import linli_plate_gate
    from linli.components.http import get_http
    from linli.testing.http import async_start_served_hub

    with tempfile.TemporaryDirectory() as folder:
        hub = await async_start_served_hub(
            Path(folder),
            extra_config=_config(f"linli_bench/{uuid.uuid4().hex}/linli"),
            plugins=[("mqtt", linli_mqtt), ("plate_gate", linli_plate_gate)],
        )
        try:
            await _fill(hub)
            base = f"http://127.0.0.1:{get_http(hub).port}/api/webhook/"
            timings: list[float] = []
            async with aiohttp.ClientSession() as session:

                async def camera(gate: int) -> None:
                    url = f"{base}bench-gate-{gate:02d}-0123456789abcdef"
                    for number in range(pushes_per_gate):
                        body = _body(gate, number)
                        started = time.perf_counter()
                        async with session.post(url, data=body) as response:
                            answer: Any = await response.json()
                        timings.append(time.perf_counter() - started)
                        if "Response_AlarmInfoPlate" not in answer:
                            raise AssertionError(f"unexpected answer {answer}")

                await asyncio.gather(*(camera(gate) for gate in range(GATES)))
        finally:
            await hub.async_stop()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000
    median = timings[len(timings) // 2] * 1000
    return p99, median, len(timings)


async def run(names: set[str] | None, quick: bool) -> list[tuple[str, float, str, str, bool]]:
    """Measure ``plate_decision_p99_ms`` when ``names`` asks for it (or is None)."""
    if names is not None and NAME not in names:
        return []
    logging.getLogger("linli.http.access").setLevel(logging.WARNING)
    p99, median, pushes = await measure(5 if quick else 50)
    note = f"{pushes} pushes from {GATES} gates, median {median:.1f} ms; budget ≤ {BUDGET_MS:g} ms"
    return [(NAME, p99, "ms", note, p99 <= BUDGET_MS)]


def main() -> None:
    """Print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value, unit, note, ok in asyncio.run(run(None, args.quick)):
        print(f"{name}: {value:.1f} {unit} ({note}){'' if ok else ' OVER BUDGET'}")


if __name__ == "__main__":
    main()
