"""``script/simulate``: a separate process publishing at a steady rate, every message counted."""

from __future__ import annotations

import asyncio
import json
import sys

import orjson

from .conftest import Watcher


async def simulate(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "linli_demo.simulate",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, (out + err).decode()


async def test_publishes_at_the_rate_and_reports_it(
    broker: tuple[str, int], watcher: Watcher
) -> None:
    code, output = await simulate(
        "--rate", "2000", "--seconds", "1", "--devices", "20", "--json",
        "--broker", f"{broker[0]}:{broker[1]}", "--prefix", watcher.prefix,
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output)
    assert report["sent"] == 2000
    assert 0.9 < report["seconds"] < 1.5  # paced, not as fast as it can
    await asyncio.to_thread(watcher.wait_for, 2000)
    topics = watcher.topics()
    assert len(set(topics)) == 20
    assert topics[0] == f"{watcher.prefix}/meter/sim-00000/state"
    # Every message of a device has a new value: a receiver can count each one.
    values = [orjson.loads(p)["power_w"] for p in watcher.payloads(topics[0])]
    assert values == sorted(set(values))
    assert all(orjson.loads(p)["v"] == 1 for p in watcher.payloads(topics[1]))


async def test_human_report_and_bad_arguments(broker: tuple[str, int], watcher: Watcher) -> None:
    code, output = await simulate(
        "--rate", "100", "--seconds", "0.5", "--devices", "5", "--kind", "sensor",
        "--broker", f"{broker[0]}:{broker[1]}", "--prefix", watcher.prefix,
    )  # fmt: skip
    assert code == 0, output
    assert "sent 50 messages for 5 sensor devices" in output
    code, output = await simulate("--rate", "0")
    assert code == 2
    assert "must be positive" in output
