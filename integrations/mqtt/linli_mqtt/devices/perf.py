"""Time the device topics' per-message path: ``python -m linli_mqtt.devices.perf``.

Prints microseconds per message for the checks alone (topic, JSON, schema) and for the whole
dispatch into states (checks, entities, state machine, a ``state_changed`` listener) on a
real hub without a broker, so the broker and client can be measured apart (the ingest bench,
``mqtt_ingest_msg_per_s``, measures everything together).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from linli import EVENT_STATE_CHANGED, Event, Hub, callback
from linli_mqtt.devices.builtin_schemas import BUILTIN_SCHEMAS
from linli_mqtt.devices.model import DeviceKind, DeviceMessage
from linli_mqtt.devices.parser import DeviceTopicParser
from linli_mqtt.devices.runtime import DeviceTopics
from linli_mqtt.devices.validation import compile_kind


@dataclass(slots=True)
class _Message:
    """What the transport hands over (the fields the device topics read)."""

    topic: str
    payload: bytes
    timestamp: float


def _messages(count: int, devices: int) -> list[_Message]:
    return [
        _Message(
            f"linli/meter/m-{i % devices:04d}/state",
            b'{"v":1,"ts":%d,"power_w":%d.5,"energy_kwh":%d.25}' % (i, i % 5000, i),
            0.0,
        )
        for i in range(count)
    ]


def time_parse(count: int = 200_000) -> float:
    """Microseconds per message to check a meter state message."""
    validators = {"meter": compile_kind(DeviceKind("meter", schemas=BUILTIN_SCHEMAS["meter"]))}
    parser = DeviceTopicParser("linli", 65536, validators)
    messages = _messages(count, 500)
    start = time.perf_counter()
    for msg in messages:
        result = parser.parse(msg.topic, msg.payload, msg.timestamp)
    elapsed = time.perf_counter() - start
    assert isinstance(result, DeviceMessage)
    return elapsed / count * 1e6


async def time_dispatch(count: int = 100_000) -> float:
    """Microseconds per meter message from the callback into two states, with a listener."""
    from linli_mqtt.devices.builtin import BUILTIN_KINDS

    with tempfile.TemporaryDirectory() as config_dir:
        hub = Hub(config_dir)
        await hub.async_load()
        await hub.async_start()
        changes = 0

        @callback
        def count_change(event: Event[Any]) -> None:
            nonlocal changes
            changes += 1

        hub.bus.async_listen(EVENT_STATE_CHANGED, count_change)
        topics = DeviceTopics(hub)
        for kind in BUILTIN_KINDS:
            topics.register_kind(kind)
        messages = _messages(count, 500)
        for msg in messages[:500]:  # make the devices and entities first
            topics.async_handle(msg)  # type: ignore[arg-type]
        await hub.async_block_till_done()
        start = time.perf_counter()
        for msg in messages:
            topics.async_handle(msg)  # type: ignore[arg-type]
        await hub.async_block_till_done()
        elapsed = time.perf_counter() - start
        topics.stop()
        await hub.async_stop()
        assert topics.counters.rejected_total == 0, topics.counters.as_dict()
        assert changes >= count, changes
        return elapsed / count * 1e6


def main() -> None:
    """Print both figures."""
    print(f"device_message_check_us: {time_parse():.2f} µs/msg")
    print(f"device_message_to_states_us: {asyncio.run(time_dispatch()):.2f} µs/msg")


if __name__ == "__main__":
    main()
