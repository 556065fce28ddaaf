"""The simulated devices' messages follow Linli's device convention v1, checked against the
``mqtt`` integration's own JSON schemas; the cameras' pushes parse back."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from linli_demo.devices import (
    Kind,
    Place,
    SimDevice,
    camera_push,
    main_meter_total,
    parse_camera_push,
    plan_devices,
    topic,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "integrations/mqtt/linli_mqtt/schemas"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def validator(kind: str, channel: str) -> Any:
    """Envelope and kind schema of one channel, as the hub checks them."""
    envelope = fastjsonschema.compile(json.loads((SCHEMAS / "envelope.json").read_text()))
    own = fastjsonschema.compile(json.loads((SCHEMAS / f"{kind}.{channel}.json").read_text()))

    def check(payload: dict[str, Any]) -> None:
        envelope(payload)
        own(payload)

    return check


def community() -> list[SimDevice]:
    rooms = [Place(f"b1-u1-{n}", "room", f"1号楼 / 1单元 / {n}") for n in (101, 102, 201)]
    units = [Place("b1-u1", "unit", "1号楼 / 1单元", (1, 2, 3))]
    zones = [Place("north-gate", "zone", "北门")]
    return plan_devices(
        Place("community", "community", "幸福里"),
        rooms,
        units,
        zones,
        language="zh-CN",
        rng=random.Random(1),
    )


def test_a_community_has_meters_lifts_load_cells_and_counters() -> None:
    devices = community()
    keys = [f"{d.kind}/{d.device_id}" for d in devices]
    assert keys == [
        "meter/b1-u1-101",
        "meter/b1-u1-102",
        "meter/b1-u1-201",
        "meter/community",
        "lift/b1-u1",
        "sensor/b1-u1-load",
        "people_counter/north-gate",
    ]
    assert devices[0].name == "1号楼 / 1单元 / 101 电表"
    assert all(d.device_id and len(d.device_id) <= 64 for d in devices)


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="the mqtt integration's schemas are missing")
def test_every_message_passes_the_hubs_schemas() -> None:
    rng = random.Random(2)
    for device in community():
        check = validator(device.kind, "state")
        for step in range(30):
            device.advance(hour=step % 24, seconds=5, rng=rng)
            payload = device.state_payload(NOW, first=step == 0)
            check(payload)
            assert payload["v"] == 1
        if device.kind is Kind.LIFT:
            check_event = validator("lift", "event")
            check_event(device.event_payload("ebike_entered", NOW, floor=3, confidence=0.9))
            check_event(device.event_payload("ebike_left", NOW))


def test_first_message_says_where_and_what_the_device_is() -> None:
    meter = community()[0]
    first = meter.state_payload(NOW, first=True)
    later = meter.state_payload(NOW)
    assert first["area_id"] == "b1-u1-101"
    assert first["device"] == {
        "name": "1号楼 / 1单元 / 101 电表",
        "manufacturer": "Linli demo",
        "model": "Simulated electricity meter",
    }
    assert "area_id" not in later
    assert "device" not in later
    assert first["id"] != later["id"]  # the hub drops a repeated message id
    assert topic("linli", meter.kind, meter.device_id, "state") == "linli/meter/b1-u1-101/state"


def test_energy_only_grows_and_the_main_meter_sums_the_flats() -> None:
    devices = community()
    rng = random.Random(3)
    meters = [d for d in devices if d.kind is Kind.METER and d.device_id != "community"]
    before = [m.energy_kwh for m in meters]
    for _ in range(10):
        for device in devices:
            device.advance(20.0, 3600, rng)
    assert all(m.energy_kwh > b for m, b in zip(meters, before, strict=True))
    assert main_meter_total(devices, "community") == sum(round(m.power_w) for m in meters)
    meters[0].online = False
    assert main_meter_total(devices, "community") == sum(round(m.power_w) for m in meters[1:])


def test_camera_push_round_trip_and_bad_pushes() -> None:
    lift = next(d for d in community() if d.kind is Kind.LIFT)
    lift.ebike = True
    assert parse_camera_push(camera_push(lift, NOW, 0.931)) == ("b1-u1", True, 0.93)
    lift.ebike = False
    assert parse_camera_push(camera_push(lift, NOW, 0.5))[1] is False
    for bad, problem in (
        ({}, "lift"),
        ({"lift": "b1-u1", "detected": "cat"}, "detected"),
        ({"lift": "", "detected": "ebike"}, "lift"),
        ({"lift": "b1-u1", "detected": "ebike", "confidence": "high"}, "confidence"),
        ({"lift": "b1-u1", "detected": "ebike", "confidence": True}, "confidence"),
    ):
        with pytest.raises(ValueError, match=problem):
            parse_camera_push(bad)
