"""Start-up figures: ``cold_start_s`` and ``idle_rss_mib``, on the demo community's config.

``cold_start_s``: a copy of ``config_example`` (every bundled integration, MQTT with its
embedded broker, the demo's simulated devices, and whatever capabilities are installed and
configured there) is started with ``linli run`` in a fresh process; the figure is the time
from spawning it to ``GET /api/`` answering, the median of a few runs (the first run, which
creates the database and the registries, is not counted).

``idle_rss_mib``: the resident memory of that process once 10,000 more entities hold a state
(set over the REST API, as an admin whose token the CLI made) and the hub has idled a
moment.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import aiohttp

from linli.bench import Figure

CONFIG_EXAMPLE: Final = Path(__file__).resolve().parents[2] / "config_example"
START_BUDGET_S: Final = 1.0
RSS_BUDGET_MIB: Final = 120.0
ENTITIES: Final = 10_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LINLI_HTTP_SERVER_HOST="127.0.0.1",
        LINLI_HTTP_SERVER_PORT=str(port),
        LINLI_ZEROCONF_INTERFACES="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _spawn(config: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "linli", "-c", str(config), "run"],
        env=_environment(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_for_api(
    session: aiohttp.ClientSession, port: int, process: subprocess.Popen[bytes], limit: float
) -> None:
    deadline = time.monotonic() + limit
    url = f"http://127.0.0.1:{port}/api/"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"linli run exited with {process.returncode} before serving")
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
                if response.status in (200, 401):
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.005)
    raise RuntimeError(f"the API did not answer within {limit:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc (not Linux?)")


def _admin_token(config: Path) -> str:
    linli = [sys.executable, "-m", "linli", "-c", str(config)]
    subprocess.run([*linli, "user", "create", "bench", "--role", "admin"], check=True,
                   capture_output=True)  # fmt: skip
    made = subprocess.run([*linli, "token", "create", "bench"], check=True, capture_output=True,
                          text=True)  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


async def _start_once(session: aiohttp.ClientSession, config: Path) -> float:
    port = _free_port()
    started = time.perf_counter()
    process = _spawn(config, port)
    try:
        await _wait_for_api(session, port, process, 60)
        return time.perf_counter() - started
    finally:
        await asyncio.get_running_loop().run_in_executor(None, _stop, process)


async def _idle_rss(session: aiohttp.ClientSession, config: Path, entities: int) -> float:
    token = _admin_token(config)
    port = _free_port()
    process = _spawn(config, port)
    try:
        await _wait_for_api(session, port, process, 60)
        headers = {"Authorization": f"Bearer {token}"}
        url = f"http://127.0.0.1:{port}/api/states/sensor.bench_"
        semaphore = asyncio.Semaphore(8)

        async def put(index: int) -> None:
            async with (
                semaphore,
                session.post(
                    f"{url}{index}", json={"state": str(index)}, headers=headers
                ) as response,
            ):
                if response.status not in (200, 201):
                    raise RuntimeError(f"setting a state answered {response.status}")

        await asyncio.gather(*(put(index) for index in range(entities)))
        await asyncio.sleep(3)  # a commit interval or two, then idle
        return _rss_mib(process.pid)
    finally:
        await asyncio.get_running_loop().run_in_executor(None, _stop, process)


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure the start-up figures that ``names`` asks for (all when None)."""
    wanted = {"cold_start_s", "idle_rss_mib"} if names is None else names
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config"
        shutil.copytree(CONFIG_EXAMPLE, config)
        async with aiohttp.ClientSession() as session:
            await _start_once(session, config)  # creates the database and registries
            if "cold_start_s" in wanted:
                runs = [await _start_once(session, config) for _ in range(2 if quick else 5)]
                median = statistics.median(runs)
                figures.append(
                    (
                        "cold_start_s",
                        median,
                        "s",
                        f"process start → /api/ answering, config_example, median of {len(runs)} "
                        f"(min {min(runs):.2f} s); budget ≤ {START_BUDGET_S:g} s",
                        median <= START_BUDGET_S,
                    )
                )
            if "idle_rss_mib" in wanted:
                entities = 1_000 if quick else ENTITIES
                rss = await _idle_rss(session, config, entities)
                figures.append(
                    (
                        "idle_rss_mib",
                        rss,
                        "MiB",
                        f"config_example with {entities:,} more entities, idle; "
                        f"budget ≤ {RSS_BUDGET_MIB:g} MiB",
                        rss <= RSS_BUDGET_MIB,
                    )
                )
    return figures
