"""Measure the client's raw receive rate: messages per second into a subscriber callback.

``python -m linli_mqtt.throughput [--count 100000] [--broker 127.0.0.1:1883]``

A separate process publishes ``count`` QoS 0 messages (small JSON payloads, one topic per
simulated device) as fast as it can; a hub with the mqtt integration subscribes with a
``+`` wildcard and a plain ``@callback`` that only counts. Printed: messages received,
lost, the rate from the first to the last message, and the publisher's own rate (the rate
can never exceed it). Not a test: a measurement for the ingest budget (≥ 10,000 msg/s end
to end), of which this client's share must be a small part.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from linli_mqtt.client import ReceiveMessage

DEVICES = 500


def _publish(host: str, port: int, prefix: str, count: int, pipe: Connection) -> None:
    """The publisher process: connect, wait for "go", publish ``count`` messages."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"tp-pub-{uuid.uuid4().hex[:8]}")
    client.max_queued_messages_set(0)
    client.connect(host, port, 60)
    client.loop_start()
    pipe.send("ready")
    pipe.recv()
    payloads = [f'{{"v":1,"power_w":{i % 997},"seq":{i}}}'.encode() for i in range(1000)]
    topics = [f"{prefix}/meter/m{d}/state" for d in range(DEVICES)]
    started = time.perf_counter()
    info = None
    for i in range(count):
        info = client.publish(topics[i % DEVICES], payloads[i % 1000], 0, False)
    if info is not None:
        info.wait_for_publish(60)
    elapsed = time.perf_counter() - started
    pipe.send(elapsed)
    client.disconnect()
    client.loop_stop()


async def _measure(host: str, port: int, count: int) -> dict[str, float]:
    from linli.hub import Hub
    from linli_mqtt import async_subscribe
    from linli_mqtt.testing import async_setup_mqtt_hub

    prefix = f"linli_throughput/{uuid.uuid4().hex}"
    hub = Hub(tempfile.mkdtemp(prefix="linli-throughput-"))
    await hub.async_load()
    await async_setup_mqtt_hub(
        hub,
        {
            "broker": host,
            "port": port,
            "discovery": False,
            "birth_message": {},
            "will_message": {},
            "devices": {"topic_prefix": f"{prefix}/unused"},
        },
    )
    received = 0
    first = last = 0.0
    done = asyncio.Event()

    def on_message(msg: ReceiveMessage) -> None:
        nonlocal received, first, last
        received += 1
        last = time.perf_counter()
        if received == 1:
            first = last
        if received == count:
            done.set()

    on_message._linli_callback = True  # type: ignore[attr-defined]  # a @callback
    await async_subscribe(hub, f"{prefix}/meter/+/state", on_message, encoding=None)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_publish, args=(host, port, prefix, count, child))
    process.start()
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, parent.recv) == "ready"
    parent.send("go")
    publisher_seconds: float = await loop.run_in_executor(None, parent.recv)
    try:
        await asyncio.wait_for(done.wait(), 30)
    except TimeoutError:
        await asyncio.sleep(1)  # let the last in-flight messages land
    process.join(10)
    await hub.async_stop()
    seconds = last - first
    return {
        "received": received,
        "lost": count - received,
        "receive_msg_per_s": (received - 1) / seconds if seconds > 0 else 0.0,
        "publisher_msg_per_s": count / publisher_seconds,
    }


def main() -> None:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--broker", default="127.0.0.1:1883")
    args = parser.parse_args()
    host, _, port = args.broker.partition(":")
    figures = asyncio.run(_measure(host, int(port or 1883), args.count))
    for name, value in figures.items():
        print(f"{name}: {value:,.0f}")


if __name__ == "__main__":
    main()
