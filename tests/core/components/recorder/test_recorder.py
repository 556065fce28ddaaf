"""The recorder on a running hub, on SQLite and PostgreSQL: what it records, how it
deduplicates, filters, batches, flushes, answers history and logbook queries, and purges."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import linli.components.recorder as recorder_component
from linli import Context, Hub
from linli.clock import FakeClock
from linli.components.recorder import Recorder, get_recorder
from linli.db import Database, get_database
from linli.db.models import (
    EventData,
    Events,
    EventTypes,
    StateAttributes,
    States,
    StatesMeta,
)
from linli.plugins.loader import IntegrationLoader

StartRecorder = Callable[..., Awaitable[tuple[Hub, Recorder]]]


async def count(hub: Hub, model: Any) -> int:
    """Rows of ``model``'s table that are committed."""

    def read(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return await get_database(hub).async_run(read)


async def recorded_entities(hub: Hub) -> list[str]:
    def read(session: Session) -> list[str]:
        return sorted(session.scalars(select(StatesMeta.entity_id)))

    return await get_database(hub).async_run(read)


async def event_types(hub: Hub) -> list[str]:
    def read(session: Session) -> list[str]:
        return sorted(session.scalars(select(EventTypes.event_type)))

    return await get_database(hub).async_run(read)


# ---------------------------------------------------------------------- recording
async def test_states_and_events_are_recorded_with_shared_rows_deduplicated(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder()
    attributes = {"unit_of_measurement": "°C", "device_class": "temperature"}
    for step in range(50):
        for room in range(10):
            hub.states.async_set(f"sensor.room_{room}_temperature", str(20 + step), attributes)
        hub.bus.async_fire("door_opened", {"door": "east"})
        clock.advance(1)
    hub.states.async_set("sensor.room_0_temperature", "99", {"unit_of_measurement": "°F"})
    await recorder.async_flush()

    assert await count(hub, States) == 501
    assert await count(hub, StatesMeta) == 10
    assert await count(hub, StateAttributes) == 2  # one set shared by 500 rows, plus °F
    assert await count(hub, Events) >= 50
    assert await count(hub, EventData) >= 1
    assert "door_opened" in await event_types(hub)
    assert "state_changed" not in await event_types(hub)  # those are the states table

    def data_of_door_events(session: Session) -> list[int | None]:
        query = (
            select(Events.data_id)
            .join(EventTypes, Events.event_type_id == EventTypes.event_type_id)
            .where(EventTypes.event_type == "door_opened")
        )
        return list(session.scalars(query))

    assert len(set(await get_database(hub).async_run(data_of_door_events))) == 1


async def test_rows_keep_the_context_and_times(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder()
    context = Context(user_id="u-guard", parent_id="p-1")
    hub.states.async_set("lock.east_gate", "locked", context=context)
    await recorder.async_flush()

    def read(session: Session) -> tuple[Any, ...]:
        row = session.execute(
            select(
                States.state,
                States.last_changed_ts,
                States.last_updated_ts,
                States.context_id,
                States.context_user_id,
                States.context_parent_id,
            )
        ).one()
        return tuple(row)

    assert await get_database(hub).async_run(read) == (
        "locked",
        clock.time(),
        clock.time(),
        context.id,
        "u-guard",
        "p-1",
    )


async def test_include_and_exclude_decide_what_is_recorded(
    start_recorder: StartRecorder,
) -> None:
    hub, recorder = await start_recorder(
        {
            "include": {"domains": ["sensor", "lock"], "entities": ["switch.pump"]},
            "exclude": {
                "entity_globs": ["sensor.*_rssi"],
                "entities": ["sensor.noise"],
                "event_types": ["noisy_event"],
            },
        }
    )
    for entity_id in (
        "sensor.gate_count",
        "sensor.gate_rssi",
        "sensor.noise",
        "lock.east_gate",
        "switch.pump",
        "switch.fountain",
        "light.hall",
    ):
        hub.states.async_set(entity_id, "1")
    hub.bus.async_fire("noisy_event", {"n": 1})
    hub.bus.async_fire("useful_event", {"n": 1})
    await recorder.async_flush()

    assert await recorded_entities(hub) == ["lock.east_gate", "sensor.gate_count", "switch.pump"]
    recorded = await event_types(hub)
    assert "useful_event" in recorded
    assert "noisy_event" not in recorded


@pytest.mark.parametrize(
    "config",
    [
        {"commit_interval": -1},
        {"purge_keep_days": 0},
        {"exclude": {"event_types": [3]}},
        {"include": {"entities": ["Not An Entity"]}},
        {"max_backlog": 5},
    ],
)
def test_invalid_configuration_is_refused(config: dict[str, Any]) -> None:
    import voluptuous as vol

    from linli.components.recorder import CONFIG_SCHEMA

    with pytest.raises(vol.Invalid):
        CONFIG_SCHEMA(config)


# ---------------------------------------------------------------------- batching
async def test_writes_are_batched_by_the_commit_interval(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder({"commit_interval": 5})
    database = get_database(hub)
    hub.states.async_set("sensor.a", "1")
    hub.states.async_set("sensor.a", "2")
    await database.async_submit(lambda: None)  # the worker is idle: nothing was handed over
    assert await count(hub, States) == 0

    clock.advance(4.9)
    await database.async_submit(lambda: None)
    assert await count(hub, States) == 0

    clock.advance(0.1)  # one commit for both
    await database.async_submit(lambda: None)
    assert await count(hub, States) == 2
    assert recorder.writer.states_written == 2


async def test_a_full_backlog_drops_new_events_with_a_warning(
    start_recorder: StartRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    hub, recorder = await start_recorder({"commit_interval": 3600, "max_backlog": 100})
    room = 100 - recorder.backlog  # the start's own events wait too
    with caplog.at_level(logging.WARNING):
        for value in range(150):
            hub.states.async_set("sensor.flood", str(value))
    assert recorder.backlog == 100
    assert recorder.dropped == 150 - room
    warnings = [r for r in caplog.records if "not keeping up" in r.getMessage()]
    assert len(warnings) == 1  # once per episode, not once per event
    await recorder.async_flush()
    assert await count(hub, States) == room
    assert any("caught up" in r.getMessage() for r in caplog.records)


async def test_a_clean_stop_flushes_everything(
    start_recorder: StartRecorder, db_url: str, tmp_path: Path
) -> None:
    hub, _ = await start_recorder({"commit_interval": 3600})
    for value in range(20):
        hub.states.async_set("sensor.counter", str(value))
    await hub.async_stop()

    database = Database(db_url)
    await database.async_start()

    def read(session: Session) -> list[str]:
        return list(session.scalars(select(States.state).order_by(States.state_id)))

    assert await database.async_run(read) == [str(value) for value in range(20)]
    await database.async_stop()


async def test_states_set_before_the_recorder_started_are_recorded(
    hub_factory: Any, db_url: str, clock: FakeClock
) -> None:
    # An integration set up before the recorder (nothing orders them) sets its first states.
    hub = await hub_factory(start=False)
    hub.states.async_set("sensor.meter_101", "360", {"unit_of_measurement": "W"})
    first = hub.states.get("sensor.meter_101")
    loader = IntegrationLoader(hub)
    loader.register(recorder_component, name="recorder")
    await loader.async_setup_all({"recorder": {"db_url": db_url}})
    await hub.async_start()
    clock.advance(5)
    hub.states.async_set("sensor.meter_101", "388", {"unit_of_measurement": "W"})
    recorder = get_recorder(hub)
    history = await recorder.async_state_changes_during_period(
        clock.utcnow() - timedelta(minutes=1), None, ["sensor.meter_101"]
    )
    rows = history["sensor.meter_101"]
    assert [row["state"] for row in rows] == ["360", "388"]
    assert rows[0]["last_updated"] == first.last_updated.isoformat()
    await hub.async_stop()


# ---------------------------------------------------------------------- history
async def test_history_in_home_assistant_shape(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder()
    before = clock.utcnow()
    hub.states.async_set("light.hall", "off", {"friendly_name": "Hall"})
    clock.advance(60)
    start = clock.utcnow()
    clock.advance(60)
    hub.states.async_set("light.hall", "on", {"friendly_name": "Hall"})
    clock.advance(60)
    hub.states.async_set("light.hall", "on", {"friendly_name": "Hall", "brightness": 200})
    clock.advance(60)
    hub.states.async_set("light.hall", "off", {"friendly_name": "Hall"})
    clock.advance(60)
    end = clock.utcnow()
    clock.advance(60)
    hub.states.async_set("light.hall", "on", {"friendly_name": "Hall"})  # after the end

    def iso(minutes: int) -> str:
        return (before + timedelta(minutes=minutes)).isoformat()

    history = await recorder.async_state_changes_during_period(start, end, ["light.hall"])
    assert history == {
        "light.hall": [
            {  # the state at the start, timed at the start
                "entity_id": "light.hall",
                "state": "off",
                "attributes": {"friendly_name": "Hall"},
                "last_changed": iso(1),
                "last_updated": iso(1),
            },
            {
                "entity_id": "light.hall",
                "state": "on",
                "attributes": {"friendly_name": "Hall"},
                "last_changed": iso(2),
                "last_updated": iso(2),
            },
            # the brightness-only change is not significant for a light
            {
                "entity_id": "light.hall",
                "state": "off",
                "attributes": {"friendly_name": "Hall"},
                "last_changed": iso(4),
                "last_updated": iso(4),
            },
        ]
    }

    everything = await recorder.async_state_changes_during_period(
        start, end, ["light.hall"], significant_changes_only=False
    )
    assert [row["state"] for row in everything["light.hall"]] == ["off", "on", "on", "off"]
    assert everything["light.hall"][2]["attributes"] == {"friendly_name": "Hall", "brightness": 200}
    assert everything["light.hall"][2]["last_changed"] == iso(2)
    assert everything["light.hall"][2]["last_updated"] == iso(3)

    minimal = await recorder.async_state_changes_during_period(
        start, end, ["light.hall"], minimal_response=True
    )
    assert minimal["light.hall"][0]["attributes"] == {"friendly_name": "Hall"}
    assert minimal["light.hall"][1:] == [
        {"state": "on", "last_changed": iso(2)},
        {"state": "off", "last_changed": iso(4)},
    ]

    bare = await recorder.async_state_changes_during_period(
        start, end, ["light.hall"], no_attributes=True, include_start_time_state=False
    )
    assert [row["state"] for row in bare["light.hall"]] == ["on", "off"]
    assert all(row["attributes"] == {} for row in bare["light.hall"])

    open_ended = await recorder.async_state_changes_during_period(start, None, ["light.hall"])
    assert [row["state"] for row in open_ended["light.hall"]] == ["off", "on", "off", "on"]


async def test_history_of_several_entities_and_significant_domains(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder()
    start = clock.utcnow()
    hub.states.async_set("climate.lobby", "heat", {"temperature": 20})
    hub.states.async_set("sensor.b", "1")
    clock.advance(10)
    hub.states.async_set("climate.lobby", "heat", {"temperature": 22})  # significant
    hub.states.async_set("sensor.b", "1", {"x": 1})  # not significant
    clock.advance(10)

    history = await recorder.async_state_changes_during_period(
        start, None, ["sensor.b", "climate.lobby", "sensor.never_seen"], minimal_response=True
    )
    assert list(history) == ["sensor.b", "climate.lobby"]  # in the order asked
    assert len(history["sensor.b"]) == 1
    # Climate rows stay full even with minimal_response (their attributes are the point).
    assert [row["attributes"]["temperature"] for row in history["climate.lobby"]] == [20, 22]

    everyone = await recorder.async_state_changes_during_period(start)
    assert set(everyone) == {"climate.lobby", "sensor.b"}


# ---------------------------------------------------------------------- logbook
async def test_logbook_in_home_assistant_shape(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder()
    start = clock.utcnow()
    clock.advance(1)
    staff = Context(user_id="u-staff")
    hub.states.async_set("lock.east_gate", "unlocked", {"friendly_name": "东门"}, context=staff)
    hub.states.async_set("sensor.temperature", "21", {"unit_of_measurement": "°C"})
    clock.advance(1)
    hub.states.async_set("lock.east_gate", "unlocked", {"friendly_name": "东门", "battery": 90})
    hub.bus.async_fire(
        "logbook_entry",
        {"name": "巡逻", "message": "checked the east gate", "entity_id": "lock.east_gate"},
    )
    clock.advance(1)
    hub.states.async_set("lock.east_gate", "locked", {"friendly_name": "东门"})
    clock.advance(1)

    entries = await recorder.async_logbook(start)
    assert [(e["name"], e.get("state"), e.get("message")) for e in entries] == [
        ("Linli", None, "started"),
        ("东门", "unlocked", None),
        ("巡逻", None, "checked the east gate"),
        ("东门", "locked", None),
    ]
    first = entries[1]
    assert first == {
        "when": (start + timedelta(seconds=1)).isoformat(),
        "name": "东门",
        "state": "unlocked",
        "entity_id": "lock.east_gate",
        "context_id": first["context_id"],
        "context_user_id": "u-staff",
    }
    assert "context_user_id" not in entries[3]
    assert await recorder.async_logbook(start, entity_ids=["sensor.temperature"]) == []
    gate = await recorder.async_logbook(start, start + timedelta(seconds=2.5), ["lock.east_gate"])
    assert [e.get("state", e.get("message")) for e in gate] == [
        "unlocked",
        "checked the east gate",
    ]

    await hub.async_stop()  # the stop is in the logbook, after a restart too


# ---------------------------------------------------------------------- purge
async def test_purge_keeps_recent_rows_and_runs_daily(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, recorder = await start_recorder({"purge_keep_days": 2})
    hub.states.async_set("sensor.old", "1", {"a": 1})
    hub.bus.async_fire("old_event", {"n": 1})
    clock.advance(timedelta(days=1, hours=12))
    hub.states.async_set("sensor.new", "1", {"b": 1})
    hub.bus.async_fire("new_event", {"n": 2})
    await recorder.async_flush()
    assert await count(hub, StateAttributes) == 2

    clock.advance(timedelta(hours=12))  # the first daily purge: nothing is two days old
    await hub.async_block_till_done()
    assert await count(hub, States) == 2

    clock.advance(timedelta(days=1))  # the second: sensor.old is past two days
    await hub.async_block_till_done()
    history = await recorder.async_state_changes_during_period(clock.utcnow() - timedelta(days=30))
    assert list(history) == ["sensor.new"]
    assert await count(hub, StateAttributes) == 1  # the orphaned set went too
    remaining = await event_types(hub)
    assert "new_event" in remaining

    # The service purges now, with its own keep_days; rows written later still dedupe.
    response = await hub.services.async_call(
        "recorder", "purge", {"keep_days": 0}, return_response=True
    )
    assert response is not None
    assert response["states"] == 1
    hub.states.async_set("sensor.new", "2", {"b": 1})
    await recorder.async_flush()
    assert await count(hub, States) == 1
    assert await count(hub, StateAttributes) == 1
