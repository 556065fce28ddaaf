"""A simulated device's own MQTT connection, against the real Mosquitto."""

from __future__ import annotations

import asyncio
import uuid

from linli_demo.wire import DeviceLink

from .conftest import Watcher


def link(broker: tuple[str, int], will_topic: str) -> DeviceLink:
    return DeviceLink(f"test-device-{uuid.uuid4().hex[:8]}", *broker, will_topic=will_topic)


async def test_device_says_online_publishes_and_goes_cleanly(
    broker: tuple[str, int], watcher: Watcher
) -> None:
    availability = f"{watcher.prefix}/meter/m1/availability"
    device = link(broker, availability)
    await device.async_connect()
    for n in range(500):
        assert device.publish(f"{watcher.prefix}/meter/m1/state", b'{"v":1,"power_w":%d}' % n)
    await asyncio.sleep(0.3)
    device.disconnect()
    await asyncio.to_thread(watcher.wait_for, 501)
    await asyncio.sleep(0.2)
    states = watcher.payloads(f"{watcher.prefix}/meter/m1/state")
    assert states == [b'{"v":1,"power_w":%d}' % n for n in range(500)]  # all, in order
    assert watcher.payloads(availability) == [b"online"]  # a clean goodbye sends no will
    assert not device.publish(f"{watcher.prefix}/meter/m1/state", b"{}")


async def test_a_dead_device_gets_its_last_will(broker: tuple[str, int], watcher: Watcher) -> None:
    availability = f"{watcher.prefix}/lift/l1/availability"
    device = link(broker, availability)
    await device.async_connect()
    await asyncio.to_thread(watcher.wait_for, 1)
    device.kill()
    await asyncio.to_thread(watcher.wait_for, 2)
    assert watcher.payloads(availability) == [b"online", b"offline"]
    # It can come back.
    await device.async_connect()
    await asyncio.to_thread(watcher.wait_for, 3)
    assert watcher.payloads(availability)[-1] == b"online"
    device.disconnect()


async def test_connecting_to_nothing_fails_quickly() -> None:
    device = DeviceLink("nobody", "127.0.0.1", 1, will_topic="linli_test/none")
    try:
        await device.async_connect(wait=2)
    except OSError:
        pass
    else:
        raise AssertionError("connected to a closed port")
    finally:
        device.kill()
