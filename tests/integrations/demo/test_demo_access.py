"""The demo with ``face_access`` and ``plate_gate``: simulated residents walk in by face and drive
in by plate, over the real broker and real HTTP, against the real integrations.

Skipped when either integration is not installed. Without them the demo simulates no doors or
gates and skips those scenario steps (tested at the end, with the plain demo).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import linli_demo
from linli import Event, Hub, callback
from linli.bootstrap import async_setup_hub
from linli.clock import FakeClock
from linli_demo.access import agrees_to_face

from .test_demo_hub import CONFIG_EXAMPLE, PLUGINS, until, use_broker

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("linli_face_access") is None
    or importlib.util.find_spec("linli_plate_gate") is None,
    reason="linli-face-access and linli-plate-gate are not installed (script/setup installs them)",
)

HIK_WEBHOOK = "demo-north-gate-hik-7f3a9c2e51d0"
GATE_WEBHOOK = "demo-car-park-in-4b8e1d6a93f2"

ACCESS_CONFIG = f"""
face_access:
  match_threshold: 0.8
  doors:
    - id: b1_u1_door
      name: 1号楼1单元门
      area_id: b1-u1
      terminals:
        - {{id: b1-u1-door, kind: mqtt}}
    - id: b1_u2_door
      name: 1号楼2单元门
      area_id: b1-u2
      terminals:
        - {{id: b1-u2-door, kind: mqtt}}
    - id: b2_u1_door
      name: 2号楼1单元门
      area_id: b2-u1
      terminals:
        - {{id: b2-u1-door, kind: mqtt}}
    - id: north_gate_door
      name: 北门人行通道
      area_id: north-gate
      terminals:
        - {{id: north-gate-hik, kind: hikvision, webhook_id: {HIK_WEBHOOK}}}

plate_gate:
  car_parks:
    - {{id: underground, name: 地下车库, area_id: car-park, capacity: 120}}
  gates:
    - {{id: car-park-in, name: 车库入口, car_park: underground, direction: in, kind: http,
       webhook_id: {GATE_WEBHOOK}}}
    - {{id: car-park-out, name: 车库出口, car_park: underground, direction: out, kind: mqtt}}
"""


def _plugins() -> list[tuple[str, object]]:
    import linli_face_access
    import linli_plate_gate

    return [*PLUGINS, ("face_access", linli_face_access), ("plate_gate", linli_plate_gate)]


@pytest.fixture
def access_config_dir(tmp_path: Path, broker: tuple[str, int]) -> Path:
    """config_example with the doors and gates (unless it has them already)."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    use_broker(target, broker, f"linli_test/{uuid.uuid4().hex}")
    path = target / "configuration.yaml"
    text = path.read_text(encoding="utf-8")
    if "\nface_access:" not in text:
        text += ACCESS_CONFIG
    # Fewer faces to enrol at start: each is pushed to every terminal.
    text = text.replace("demo:\n", "demo:\n  face_consent_share: 0.2\n", 1)
    path.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
async def hub(access_config_dir: Path, clock: FakeClock) -> AsyncIterator[Hub]:
    """The demo community with its doors and gates, started."""
    hub = await async_setup_hub(access_config_dir, clock=clock, plugins=_plugins(), discover=False)
    try:
        for domain in ("demo", "face_access", "plate_gate"):
            record = hub.loader.records[domain]
            assert str(record.status) == "loaded", (domain, record.reason)
        await sim(hub).async_wait_connected()  # the devices come online once the hub runs
        assert sim(hub).enrolment is not None
        await sim(hub).enrolment
        yield hub
    finally:
        await hub.async_stop()


def events(hub: Hub, event_type: str) -> list[dict[str, Any]]:
    """Collect the data of ``event_type`` events fired from now on."""
    seen: list[dict[str, Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(dict(event.data))

    hub.bus.async_listen(event_type, listener)
    return seen


def sim(hub: Hub) -> Any:
    return hub.data[linli_demo.SIMULATOR]


async def scenario(hub: Hub, name: str, **variables: str) -> dict[str, Any]:
    response = await hub.services.async_call(
        "demo", "scenario", {"name": name, "variables": variables}, return_response=True
    )
    assert response is not None
    return dict(response)


def residents(hub: Hub, enrolled: bool) -> list[tuple[str, str]]:
    """``(person_id, room_id)`` of the adults whose face is (or is not) enrolled."""
    people = hub.registries.people
    year = hub.clock.utcnow().year
    found = []
    for person in sorted(people.persons.values(), key=lambda p: p.id):
        age = person.age_in(year)
        household = people.async_get_household(person.household_id or "")
        if age is None or age < 18 or household is None or not household.room_ids:
            continue
        if agrees_to_face(person.id, 42, 0.2) is enrolled:
            found.append((person.id, household.room_ids[0]))
    return found


# ---------------------------------------------------------------------- doors
async def test_the_demo_simulates_the_configured_doors_and_gates(hub: Hub) -> None:
    simulator = sim(hub)
    assert sorted(simulator.terminals) == ["b1-u1-door", "b1-u2-door", "b2-u1-door"]
    assert sorted(simulator.isapi_terminals) == ["north-gate-hik"]
    assert sorted(simulator.gates) == ["car-park-in", "car-park-out"]
    assert simulator.gates["car-park-in"].protocol == "http"
    assert simulator.gates["car-park-out"].protocol == "mqtt"
    # Every resident has a card; the adults who agreed have a face enrolled, pushed to the
    # MQTT terminals for on-device matching.
    import linli_face_access

    face = linli_face_access.get_face_access(hub)
    enrolled = residents(hub, enrolled=True)
    assert enrolled
    person_id, _ = enrolled[0]
    held = await face.async_credentials_of(person_id)
    assert held["face"]["enrolled"] == 1
    assert [c["type"] for c in held["credentials"]] == ["card"]
    terminal = simulator.terminals["b1-u1-door"]
    await until(lambda: person_id in terminal.templates)
    assert len(terminal.templates) == len(enrolled)
    assert simulator.isapi_terminals["north-gate-hik"].enrolled == {p for p, _ in enrolled}


async def test_a_resident_comes_home_by_face_and_a_stranger_does_not(hub: Hub) -> None:
    passages = events(hub, "face_access_passage")
    person_id, room = residents(hub, enrolled=True)[0]
    response = await scenario(hub, "resident_comes_home_by_face", room=room, person=person_id)
    terminal = sim(hub).terminal_for(room)
    assert response["outcomes"] == [{"device": terminal, "outcome": "open"}]
    await until(lambda: passages)
    (passage,) = passages
    assert passage["granted"] is True
    assert passage["method"] == "face"
    assert passage["person_id"] == person_id
    assert passage["terminal_id"] == terminal
    assert passage["decided_by"] == "hub"

    response = await scenario(hub, "stranger_at_the_door", room=room)
    assert response["outcomes"] == [{"device": terminal, "outcome": "deny"}]
    await until(lambda: len(passages) == 2)
    assert passages[1]["granted"] is False
    assert passages[1]["person_id"] is None


async def test_a_resident_without_a_face_swipes_the_card(hub: Hub) -> None:
    passages = events(hub, "face_access_passage")
    person_id, room = residents(hub, enrolled=False)[0]
    response = await scenario(hub, "resident_swipes_card", room=room, person=person_id)
    assert response["outcomes"][0]["outcome"] == "open"
    await until(lambda: passages)
    assert (passages[0]["method"], passages[0]["person_id"]) == ("card", person_id)
    assert passages[0]["granted"] is True
    # The same person's face opens nothing: it was never enrolled.
    response = await scenario(hub, "resident_comes_home_by_face", room=room, person=person_id)
    assert response["outcomes"][0]["outcome"] == "deny"


async def test_tailgating_at_the_door_is_reported(hub: Hub) -> None:
    anomalies = events(hub, "face_access_anomaly")
    person_id, room = residents(hub, enrolled=True)[0]
    response = await scenario(hub, "tailgating_at_the_door", room=room, person=person_id)
    terminal = sim(hub).terminal_for(room)
    assert [o["outcome"] for o in response["outcomes"]] == ["open", "tailgating"]
    await until(lambda: anomalies)
    assert anomalies[0]["kind"] == "tailgating"
    assert anomalies[0]["terminal_id"] == terminal


async def test_the_hikvision_terminal_recognises_and_pushes(hub: Hub) -> None:
    passages = events(hub, "face_access_passage")
    person_id, _ = residents(hub, enrolled=True)[0]
    response = await scenario(
        hub, "resident_comes_home_by_face", terminal="north-gate-hik", person=person_id
    )
    assert response["outcomes"] == [{"device": "north-gate-hik", "outcome": "open"}]
    await until(lambda: passages)
    assert passages[0]["decided_by"] == "terminal"
    assert passages[0]["granted"] is True
    assert passages[0]["person_id"] == person_id
    assert passages[0]["terminal_id"] == "north-gate-hik"
    assert sim(hub).isapi_terminals["north-gate-hik"].pushes == [200]


async def test_withdrawing_consent_deletes_the_face_on_the_terminals(hub: Hub) -> None:
    from linli.consent import get_consents

    person_id, room = residents(hub, enrolled=True)[0]
    terminal = sim(hub).terminals[sim(hub).terminal_for(room)]
    await until(lambda: person_id in terminal.templates)
    (consent,) = [
        c
        for c in await get_consents(hub).async_list(person_id=person_id, include_withdrawn=False)
        if c.data_kind == "face"
    ]
    await get_consents(hub).async_withdraw(consent.id, operator_user_id=None)
    await until(lambda: person_id not in terminal.templates)
    assert {"command": "delete_person", "person_ref": person_id} in [
        {k: c[k] for k in ("command", "person_ref") if k in c} for c in terminal.commands
    ]
    # Face no longer opens; the card still does.
    response = await scenario(hub, "resident_comes_home_by_face", room=room, person=person_id)
    assert response["outcomes"][0]["outcome"] == "deny"
    response = await scenario(hub, "resident_swipes_card", room=room, person=person_id)
    assert response["outcomes"][0]["outcome"] == "open"


# ---------------------------------------------------------------------- gates
async def register_plate(hub: Hub, household_id: str, plate: str, color: int) -> None:
    """Register a household's car as staff do, through the REST API."""
    from linli.testing.http import async_hub_client

    names = {1: "blue", 5: "green"}
    async with async_hub_client(hub) as client:
        response = await client.post(
            "/api/linli/plates",
            json={"household_id": household_id, "plate": plate, "color": names[color]},
        )
        assert response.status in (200, 201, 409), await response.text()


async def test_a_registered_car_drives_in_and_an_unknown_one_waits(
    hub: Hub, clock: FakeClock
) -> None:
    reads = events(hub, "plate_gate_read")
    simulator = sim(hub)
    household = next(
        h
        for h in sorted(hub.registries.people.households.values(), key=lambda h: h.id)
        if simulator.plates_of(h.id)
    )
    plate, color = simulator.plates_of(household.id)[0]
    await register_plate(hub, household.id, plate, color)
    response = await scenario(hub, "resident_drives_home", room=household.room_ids[0])
    assert response["outcomes"] == [{"device": "car-park-in", "outcome": "open"}]
    assert simulator.gates["car-park-in"].barrier == "open"
    await until(lambda: reads)
    assert reads[0]["plate"] == plate
    assert reads[0]["category"] == "resident"
    assert reads[0]["decision"] == "open"
    assert reads[0]["household_id"] == household.id

    response = await scenario(hub, "unknown_car_at_the_gate")
    assert response["outcomes"] == [{"device": "car-park-in", "outcome": "deny"}]
    await until(lambda: len(reads) == 2)
    assert reads[1]["decision"] == "ask"
    # The guard opens it; the camera's next poll raises the barrier.
    await hub.services.async_call(
        "plate_gate", "open", {"read_id": reads[1]["read_id"]}, blocking=True
    )
    clock.advance(simulator.update_interval)
    await hub.async_block_till_done()
    await until(lambda: simulator.gates["car-park-in"].barrier == "open")


async def test_the_mqtt_exit_gate_opens_on_the_hubs_command(hub: Hub) -> None:
    reads = events(hub, "plate_gate_read")
    simulator = sim(hub)
    gate = simulator.gates["car-park-out"]
    response = await scenario(hub, "unknown_car_at_the_gate", gate="car-park-out")
    assert response["outcomes"] == [{"device": "car-park-out", "outcome": "sent"}]
    await until(lambda: reads)
    assert reads[0]["direction"] == "out"
    assert reads[0]["decision"] == "open"  # a car inside may always leave
    await until(lambda: gate.barrier == "open")


async def test_a_gate_keeps_its_records_while_the_hub_is_away(hub: Hub) -> None:
    reads = events(hub, "plate_gate_read")
    gate = sim(hub).gates["car-park-in"]
    url = gate.url
    gate.url = "http://127.0.0.1:9/api/webhook/unreachable-0123456789"
    response = await scenario(hub, "unknown_car_at_the_gate")
    assert response["outcomes"][0]["outcome"] == "buffered"
    assert len(gate.buffer) == 1
    await asyncio.sleep(0.1)
    assert not reads
    gate.url = url
    response = await scenario(hub, "unknown_car_at_the_gate")
    assert response["outcomes"][0]["outcome"] == "deny"
    assert not gate.buffer
    await until(lambda: len(reads) == 2)
    # The live car first, then the kept one, marked offline (and too old to open anything).
    assert [r["offline"] for r in reads] == [False, True]


async def test_everyday_traffic_moves_the_doors_and_the_gate(hub: Hub) -> None:
    """With ``traffic`` on, each step sends residents through doors and cars to the gate."""
    sim(hub).traffic = 1.0  # every door and entrance gate, every step
    passages = events(hub, "face_access_passage")
    reads = events(hub, "plate_gate_read")
    await hub.services.async_call("demo", "step", {"count": 2}, blocking=True)
    for _ in range(300):
        if len(passages) >= 2 and reads:
            break
        await asyncio.sleep(0.01)
    assert len(passages) >= 2
    assert {p["method"] for p in passages} <= {"face", "card"}
    assert reads
    assert {r["direction"] for r in reads} == {"in"}
