"""The time and time_pattern triggers, in the hub's time zone (Asia/Shanghai), on the fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from linli.clock import FakeClock
from linli.helpers.trigger import TRIGGER_SCHEMA
from linli.hub import Hub

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A wall time in Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def fired_at(fired: Any) -> list[str]:
    """The local times (ISO, Shanghai) the trigger fired at."""
    return [t["now"].astimezone(SHANGHAI).isoformat(timespec="seconds") for t in fired.triggers]


async def test_time_of_day_across_midnight(hub: Hub, clock: FakeClock, attach: Attach) -> None:
    assert hub.config.time_zone == "Asia/Shanghai"
    clock.set(local("2026-03-01T23:59:00"))
    fired, _ = await attach(hub, {"platform": "time", "at": ["00:00:30", "23:59:30"]})

    clock.set(local("2026-03-02T00:01:00"))
    assert fired_at(fired) == ["2026-03-01T23:59:30+08:00", "2026-03-02T00:00:30+08:00"]
    assert fired.triggers[0]["description"] == "time"
    assert fired.triggers[0]["entity_id"] is None
    assert fired.triggers[0]["now"].utcoffset().total_seconds() == 8 * 3600

    clock.set(local("2026-03-03T00:01:00"))
    assert fired_at(fired)[2:] == ["2026-03-02T23:59:30+08:00", "2026-03-03T00:00:30+08:00"]


async def test_time_from_an_input_datetime_follows_its_changes(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    clock.set(local("2026-03-02T06:00:00"))
    hub.states.async_set("input_datetime.wake", "06:30:00", {"has_date": False, "has_time": True})
    fired, _ = await attach(hub, {"platform": "time", "at": "input_datetime.wake"})
    hub.states.async_set("input_datetime.wake", "06:45:00", {"has_date": False, "has_time": True})

    clock.set(local("2026-03-03T07:00:00"))
    assert fired_at(fired) == ["2026-03-02T06:45:00+08:00", "2026-03-03T06:45:00+08:00"]
    assert fired.triggers[0]["entity_id"] == "input_datetime.wake"
    assert fired.triggers[0]["description"] == "time set in input_datetime.wake"


async def test_time_with_a_date_fires_once(hub: Hub, clock: FakeClock, attach: Attach) -> None:
    clock.set(local("2026-03-02T12:00:00"))
    hub.states.async_set(
        "input_datetime.inspection", "2026-03-03 09:00:00", {"has_date": True, "has_time": True}
    )
    hub.states.async_set("sensor.next_delivery", "2026-03-02T06:00:00+00:00")  # 14:00 local
    fired, _ = await attach(
        hub,
        {
            "platform": "time",
            "at": [
                "input_datetime.inspection",
                {"entity_id": "sensor.next_delivery", "offset": "-00:10:00"},
            ],
        },
    )
    clock.set(local("2026-03-05T00:00:00"))
    assert fired_at(fired) == ["2026-03-02T13:50:00+08:00", "2026-03-03T09:00:00+08:00"]


async def test_time_entity_in_the_past_or_unknown_never_fires(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    hub.states.async_set("sensor.last_delivery", "2020-01-01T00:00:00+00:00")
    fired, _ = await attach(
        hub, {"platform": "time", "at": ["sensor.last_delivery", "sensor.nothing"]}
    )
    clock.advance(86400 * 2)
    assert len(fired) == 0
    assert hub.pending_timers == 0


async def test_time_pattern_every_fifteen_minutes_across_midnight(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    clock.set(local("2026-03-01T23:40:10"))
    fired, _ = await attach(hub, {"platform": "time_pattern", "minutes": "/15"})
    clock.set(local("2026-03-02T00:31:00"))
    assert fired_at(fired) == [
        "2026-03-01T23:45:00+08:00",
        "2026-03-02T00:00:00+08:00",
        "2026-03-02T00:15:00+08:00",
        "2026-03-02T00:30:00+08:00",
    ]
    assert fired.triggers[0]["description"] == "time pattern"


async def test_time_pattern_hours_default_smaller_units_to_zero(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    clock.set(local("2026-03-01T22:00:01"))
    midnight, _ = await attach(hub, {"platform": "time_pattern", "hours": 0})
    seconds, detach = await attach(hub, {"platform": "time_pattern", "seconds": "/20"})
    clock.set(local("2026-03-01T22:01:00"))
    detach()
    clock.set(local("2026-03-03T12:00:00"))
    assert fired_at(midnight) == ["2026-03-02T00:00:00+08:00", "2026-03-03T00:00:00+08:00"]
    assert fired_at(seconds) == [
        "2026-03-01T22:00:20+08:00",
        "2026-03-01T22:00:40+08:00",
        "2026-03-01T22:01:00+08:00",
    ]


def test_time_schemas() -> None:
    with pytest.raises(vol.Invalid, match="quotes"):
        TRIGGER_SCHEMA({"platform": "time", "at": 750})  # YAML 1.1 reads 12:30 as 750
    with pytest.raises(vol.Invalid):
        TRIGGER_SCHEMA({"platform": "time", "at": "light.kitchen"})
    with pytest.raises(vol.Invalid, match="at least one"):
        TRIGGER_SCHEMA({"platform": "time_pattern"})
    with pytest.raises(vol.Invalid, match="between 0 and 59"):
        TRIGGER_SCHEMA({"platform": "time_pattern", "minutes": 60})
    assert TRIGGER_SCHEMA({"platform": "time_pattern", "hours": "/3"})["hours"] == "/3"
