"""WebSocket figure: ``ws_fanout_delivered_per_s`` — 100 state changes a second to 500 subscribers.

A hub with the bundled integrations (the recorder records every change) serves on 127.0.0.1.
A child process opens 500 WebSocket connections as Home Assistant's frontend does (auth,
``supported_features`` with ``coalesce_messages``, ``subscribe_events`` for
``state_changed``), so the clients have their own CPU and the hub's loop only serves. The hub
changes a state 100 times a second for a few seconds; every client parses every frame and
counts every event message in it. The figure is the messages delivered across all clients,
divided by the time from the first change to the last message received (one monotonic clock
for both processes). It meets its budget when every message arrived and the rate is within
5 % of what was offered (100 × 500 = 50,000 a second): the hub keeps up.

Run alone: ``python -m linli.bench_ws [--quick]``. The child is ``python -m linli.bench_ws
--clients N --events E URL TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import aiohttp
import orjson

from linli.bench import Figure

NAME: Final = "ws_fanout_delivered_per_s"
SUBSCRIBERS: Final = 500
EVENTS_PER_SECOND: Final = 100
OFFERED: Final = SUBSCRIBERS * EVENTS_PER_SECOND
BUDGET: Final = 0.95 * OFFERED
CONNECT_CONCURRENCY: Final = 50
READY_TIMEOUT: Final = 60.0
DRAIN_TIMEOUT: Final = 30.0


# ---------------------------------------------------------------------- the hub side
async def measure(seconds: float, subscribers: int = SUBSCRIBERS) -> tuple[float, int, int]:
    """Serve ``subscribers`` clients of a child process; return (rate, delivered, expected)."""
    from linli.auth import get_auth
    from linli.components.http import get_http
    from linli.testing.http import async_start_served_hub

    events = round(seconds * EVENTS_PER_SECOND)
    with tempfile.TemporaryDirectory() as folder:
        hub = await async_start_served_hub(
            Path(folder),
            extra_config="http:\n  server_host: 127.0.0.1\n  server_port: 0\n",
        )
        child: asyncio.subprocess.Process | None = None
        try:
            auth = get_auth(hub)
            user = await auth.async_create_user("bench", "admin")
            token = await auth.async_create_long_lived_token(user.id, "bench")
            url = f"ws://127.0.0.1:{get_http(hub).port}/api/websocket"
            hub.states.async_set("sensor.bench", "0", {"unit_of_measurement": "°C"})
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "linli.bench_ws",
                "--clients",
                str(subscribers),
                "--events",
                str(events),
                url,
                token,
                stdout=asyncio.subprocess.PIPE,
            )
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), READY_TIMEOUT)
            if line.strip() != b"READY":
                raise RuntimeError(f"the WebSocket clients did not start: {line!r}")
            interval = 1 / EVENTS_PER_SECOND
            started = time.monotonic()
            for index in range(events):
                # On schedule, not after a fixed sleep: the rate stays 100/s under load.
                delay = started + index * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                hub.states.async_set(
                    "sensor.bench", str(index + 1), {"unit_of_measurement": "°C", "n": index}
                )
            report = await asyncio.wait_for(child.stdout.readline(), DRAIN_TIMEOUT + 10)
            await child.wait()
            result = orjson.loads(report)
        finally:
            if child is not None and child.returncode is None:
                child.kill()
                await child.wait()
            await hub.async_stop()
    delivered = int(result["delivered"])
    elapsed = float(result["last"]) - started
    return delivered / elapsed, delivered, events * subscribers


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure the figures of this module that ``names`` asks for (all when None)."""
    if names is not None and NAME not in names:
        return []
    logging.getLogger("linli.http.access").setLevel(logging.WARNING)
    rate, delivered, expected = await measure(2.0 if quick else 5.0)
    ok = delivered == expected and rate >= BUDGET
    lost = "" if delivered == expected else f"; {expected - delivered:,} of {expected:,} lost"
    budget = (
        f"{EVENTS_PER_SECOND} events/s to {SUBSCRIBERS} subscribers{lost}; "
        f"budget ≥ {BUDGET:,.0f}/s, none lost"
    )
    return [(NAME, rate, "messages/s", budget, ok)]


# ---------------------------------------------------------------------- the clients (child)
async def _client(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    events: int,
    ready: asyncio.Semaphore,
    subscribed: asyncio.Event,
    counts: list[int],
    index: int,
) -> float:
    """One subscriber: connect, subscribe, count events; return when its last one arrived."""
    async with ready:
        socket = await session.ws_connect(url, max_msg_size=0)
        await socket.receive_json()
        await socket.send_json({"type": "auth", "access_token": token})
        answer = await socket.receive_json()
        if answer.get("type") != "auth_ok":
            raise RuntimeError(f"auth failed: {answer}")
        await socket.send_json(
            {"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}}
        )
        await socket.send_json({"id": 2, "type": "subscribe_events", "event_type": "state_changed"})
        results = 0
        while results < 2:  # coalesced: they may come as one array
            data = await socket.receive_json()
            for answer in data if isinstance(data, list) else (data,):
                if not answer.get("success"):
                    raise RuntimeError(f"subscription failed: {answer}")
                results += 1
    counts[index] = -1  # connected
    await subscribed.wait()
    received = 0
    last = time.monotonic()
    async with socket:
        while received < events:
            msg = await socket.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = orjson.loads(msg.data)
            for item in data if isinstance(data, list) else (data,):
                if item.get("type") == "event":
                    received += 1
            last = time.monotonic()
            counts[index] = received
    return last


async def _clients(url: str, token: str, clients: int, events: int) -> None:
    counts = [0] * clients
    ready = asyncio.Semaphore(CONNECT_CONCURRENCY)
    subscribed = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [
            asyncio.ensure_future(
                _client(session, url, token, events, ready, subscribed, counts, index)
            )
            for index in range(clients)
        ]
        try:
            while not all(count == -1 for count in counts):
                failed = [task for task in tasks if task.done()]
                if failed:
                    failed[0].result()
                await asyncio.sleep(0.01)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        counts[:] = [0] * clients
        subscribed.set()
        print("READY", flush=True)
        done, _pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT + events / 100)
        lasts = [task.result() for task in done if task.exception() is None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(
        orjson.dumps(
            {"delivered": sum(counts), "last": max(lasts, default=time.monotonic())}
        ).decode(),
        flush=True,
    )


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m linli.bench_ws", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="measure for 2 s instead of 5 s")
    parser.add_argument("--clients", type=int, help="(child) open this many subscribers")
    parser.add_argument("--events", type=int, default=0, help="(child) events each expects")
    parser.add_argument("url", nargs="?")
    parser.add_argument("token", nargs="?")
    args = parser.parse_args(argv)
    if args.clients:
        asyncio.run(_clients(args.url, args.token, args.clients, args.events))
        return
    for name, value, unit, budget, ok in asyncio.run(run(None, quick=args.quick)):
        print(f"{name}: {value:,.0f} {unit} ({budget}: {'ok' if ok else 'MISSED'})")


if __name__ == "__main__":
    _main()
