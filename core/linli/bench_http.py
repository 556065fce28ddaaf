"""HTTP figure: ``rest_get_states_rps`` — ``GET /api/states`` with 10,000 entities, as an admin.

A hub with the bundled integrations serves on 127.0.0.1 (any free port); two clients in the
same process fetch the whole state list back to back for a few seconds, reading every body.
The clients share the hub's loop and CPU, so the figure is a floor for a real deployment.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Final

import aiohttp

from linli.bench import Figure

NAME: Final = "rest_get_states_rps"
ENTITIES: Final = 10_000
CLIENTS: Final = 2
BUDGET_RPS: Final = 50.0
"""A full 10,000-state list (≈ 3 MB) at least 50 times a second on the bench machine."""


async def measure(duration: float, entities: int = ENTITIES) -> tuple[float, int]:
    """Serve ``entities`` states and fetch them for ``duration`` seconds; return (rps, bytes)."""
    from linli.auth.testing import async_user_with_token
    from linli.components.http import get_http
    from linli.components.recorder import get_recorder
    from linli.testing.http import async_start_served_hub

    with tempfile.TemporaryDirectory() as folder:
        hub = await async_start_served_hub(
            Path(folder), extra_config="http:\n  server_host: 127.0.0.1\n  server_port: 0\n"
        )
        try:
            for index in range(entities):
                hub.states.async_set(
                    f"sensor.bench_{index}",
                    str(index),
                    {"unit_of_measurement": "°C", "friendly_name": f"Bench {index}"},
                )
            await hub.async_block_till_done()
            await get_recorder(hub).async_flush()  # the recorder's writes are not the subject
            _user, token = await async_user_with_token(hub, "admin", name="bench")
            url = f"http://127.0.0.1:{get_http(hub).port}/api/states"
            headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
            async with aiohttp.ClientSession(headers=headers) as session:
                async with session.get(url) as response:
                    states = await response.json()
                if len(states) < entities:
                    raise AssertionError(f"got {len(states)} states, expected {entities}+")
                size = len(await (await session.get(url)).read())
                done = 0
                deadline = time.perf_counter() + duration

                async def client() -> None:
                    nonlocal done
                    while time.perf_counter() < deadline:
                        async with session.get(url) as response:
                            await response.read()
                            if response.status != 200:
                                raise AssertionError(f"status {response.status}")
                        done += 1

                started = time.perf_counter()
                await asyncio.gather(*(client() for _ in range(CLIENTS)))
                elapsed = time.perf_counter() - started
        finally:
            await hub.async_stop()
    return done / elapsed, size


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure the figures of this module that ``names`` asks for (all when None)."""
    if names is not None and NAME not in names:
        return []
    logging.getLogger("linli.http.access").setLevel(logging.WARNING)
    rps, size = await measure(1.0 if quick else 4.0)
    ok = rps >= BUDGET_RPS
    budget = f"{size / 1e6:.1f} MB each; budget ≥ {BUDGET_RPS:g}/s"
    return [(NAME, rps, "requests/s", budget, ok)]


if __name__ == "__main__":
    for figure in asyncio.run(run(None, quick=False)):
        print(f"{figure[0]}: {figure[1]:,.0f} {figure[2]} ({figure[3]})")
