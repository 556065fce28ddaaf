"""Load generator: many simulated devices publishing at a steady rate (``script/simulate``).

A separate process, so the hub under load keeps its own CPU. It connects to a broker with one
or more paho-mqtt clients (no threads: each publish is written at once) and publishes Linli
device messages (convention v1) for ``--devices`` devices round-robin, on schedule for a
target ``--rate``, for ``--seconds``; then it reports what it sent. Each message carries a
value no other message of its device had (the message's sequence number), so a receiver can
count every message and match it to its send time.

``--kind meter`` (default): ``power_w`` is the sequence number; ``--kind sensor``: ``value`` is.
With ``--wait-go``, it first publishes one message per device (so the hub can create them),
prints ``WARM <n>`` and waits for a line ``GO`` on stdin before the timed run. With
``--times FILE`` it writes every message's send time (``time.monotonic()``, doubles, in
sequence order) for latency figures. ``--json`` prints the report as one JSON line.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

TICK = 0.002
"""Seconds between bursts: messages due in a tick are published together."""


@dataclass(slots=True)
class Report:
    """What the generator sent."""

    sent: int
    seconds: float
    first: float
    last: float

    @property
    def rate(self) -> float:
        """Messages per second actually published."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def device_id(index: int) -> str:
    """The id of simulated device ``index``."""
    return f"sim-{index:05d}"


def payload(kind: str, seq: int, device: int, *, first: bool = False) -> bytes:
    """Message ``seq`` of a device (``v``: 1, the value is the sequence number)."""
    body: dict[str, object]
    if kind == "meter":
        body = {"v": 1, "power_w": seq, "energy_kwh": round(seq / 1000, 3)}
    else:
        body = {"v": 1, "value": seq, "unit": "count"}
    if first:
        body["device"] = {"name": f"Simulated {kind} {device}", "manufacturer": "Linli simulate"}
    return orjson.dumps(body)


def connect(host: str, port: int, count: int) -> list[mqtt.Client]:
    """Connect ``count`` clients and wait for their CONNACKs."""
    clients = []
    for number in range(count):
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"linli-simulate-{uuid.uuid4().hex[:8]}-{number}"
        )
        client.connect(host, port, keepalive=60)
        clients.append(client)
    deadline = time.monotonic() + 10
    while not all(c.is_connected() for c in clients):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no CONNACK from {host}:{port}")
        for client in clients:
            client.loop(timeout=0.01)
    return clients


def _flush(clients: Sequence[mqtt.Client]) -> None:
    for client in clients:
        while client.want_write():
            client.loop_write()
        client.loop(timeout=0)


def run(
    clients: Sequence[mqtt.Client],
    *,
    prefix: str,
    kind: str,
    devices: int,
    rate: float,
    seconds: float,
    times: array[float] | None = None,
    start_seq: int = 0,
) -> Report:
    """Publish ``rate × seconds`` messages on schedule; return what was sent."""
    topics = [f"{prefix}/{kind}/{device_id(i)}/state" for i in range(devices)]
    total = round(rate * seconds)
    count = len(clients)
    monotonic = time.monotonic
    sent = 0
    started = monotonic()
    first = last = started
    while sent < total:
        due = min(total, int((monotonic() - started) * rate) + 1)
        while sent < due:
            seq = start_seq + sent
            device = sent % devices
            clients[sent % count].publish(topics[device], payload(kind, seq + devices, device))
            last = monotonic()
            if times is not None:
                times.append(last)
            if sent == 0:
                first = last
            sent += 1
        for client in clients:
            client.loop(timeout=0)
        pause = started + sent / rate - monotonic()
        if pause > 0:
            time.sleep(min(pause, TICK))
    _flush(clients)
    return Report(sent, last - first, first, last)


def warm_up(clients: Sequence[mqtt.Client], *, prefix: str, kind: str, devices: int) -> None:
    """One message per device (value 0..devices-1), so the hub knows every device first."""
    for index in range(devices):
        topic = f"{prefix}/{kind}/{device_id(index)}/state"
        clients[index % len(clients)].publish(topic, payload(kind, index, index, first=True))
    _flush(clients)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="script/simulate",
        description="Publish Linli device messages at a steady rate, as many devices would.",
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long")
    parser.add_argument("--broker", default="127.0.0.1:1883", help="host:port")
    parser.add_argument("--prefix", default="linli", help="device topic prefix")
    parser.add_argument("--kind", choices=("meter", "sensor"), default="meter")
    parser.add_argument("--devices", type=int, default=1000, help="simulated devices")
    parser.add_argument("--clients", type=int, default=1, help="MQTT connections")
    parser.add_argument("--wait-go", action="store_true", help="warm up, print WARM, wait for GO")
    parser.add_argument("--times", help="write each message's send time (doubles) here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.devices < 1 or args.clients < 1:
        parser.error("--rate, --seconds, --devices and --clients must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; print the report."""
    args = _parse(argv)
    host, _, port = args.broker.rpartition(":")
    clients = connect(host or "127.0.0.1", int(port), args.clients)
    if args.wait_go:
        warm_up(clients, prefix=args.prefix, kind=args.kind, devices=args.devices)
        print(f"WARM {args.devices}", flush=True)
        if sys.stdin.readline().strip() != "GO":
            return 1
    times: array[float] | None = array("d") if args.times else None
    report = run(
        clients,
        prefix=args.prefix,
        kind=args.kind,
        devices=args.devices,
        rate=args.rate,
        seconds=args.seconds,
        times=times,
    )
    if times is not None:
        with open(args.times, "wb") as file:
            times.tofile(file)
    for client in clients:
        client.disconnect()
        client.loop(timeout=0.1)
    if args.json:
        print(
            orjson.dumps(
                {
                    "sent": report.sent,
                    "seconds": report.seconds,
                    "first": report.first,
                    "last": report.last,
                    "rate": report.rate,
                    "devices": args.devices,
                }
            ).decode(),
            flush=True,
        )
    else:
        print(
            f"sent {report.sent:,} messages for {args.devices:,} {args.kind} devices in "
            f"{report.seconds:.2f} s: {report.rate:,.0f} msg/s (target {args.rate:,.0f})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
