"""The common LPR HTTP push end to end: a fake camera, real HTTP, the hub's database.

The answer to the push is what opens the barrier (``info: ok``); these tests read it as the
camera would, and look at the gate log, the events and the entities.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from linli.testing.http import HubClient
from linli_plate_gate import get_manager
from linli_plate_gate.anpr import PushError, parse_push

PLATE_1201 = "湘A12345"
VISITOR = "粤B D12345"


async def _log(client: HubClient, **query: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/linli/gate_log", params={k: str(v) for k, v in query.items()})
    assert response.status == 200, await response.text()
    rows: list[dict[str, Any]] = await response.json()
    return rows


def _reads(hub_client: HubClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    hub_client.hub.bus.async_listen("plate_gate_read", lambda event: events.append(event.data))
    return events


async def _resident_plate(client: HubClient, household_id: str, plate: str) -> None:
    response = await client.post(
        "/api/linli/plates", json={"household_id": household_id, "plate": plate, "color": "blue"}
    )
    assert response.status == 201, await response.text()


# ---------------------------------------------------------------------------- acceptance


async def test_visitor_plate_opens_only_in_its_window(
    hub_client: HubClient, community: Any, north_in: Any, local: Any
) -> None:
    response = await community.resident.post(
        "/api/linli/visitor_passes",
        json={
            "plate": VISITOR,
            "start": "2026-03-01T18:00",
            "end": "2026-03-01T22:00",
            "note": "姐姐来吃饭",
        },
    )
    assert response.status == 201, await response.text()
    visitor_pass = await response.json()
    assert visitor_pass["household_id"] == community.household_1201
    assert visitor_pass["plate"] == "粤BD12345"

    local("2026-03-01 17:59")
    assert await north_in.read("粤BD12345", color=5) == "no"
    local("2026-03-01 19:00")
    assert await north_in.read("粤BD12345", color=5) == "ok"
    local("2026-03-01 23:00")
    assert await north_in.read("粤BD12345", color=5) == "no"

    rows = await _log(hub_client, gate_id="north-in")
    assert [(r["category"], r["decision"]) for r in rows] == [
        ("unknown", "ask"),
        ("visitor", "open"),
        ("unknown", "ask"),
    ]
    opened = rows[1]
    assert opened["household_id"] == community.household_1201
    assert opened["visitor_pass_id"] == visitor_pass["id"]
    assert opened["opened_by"] == "hub"
    passes = await (await community.resident.get("/api/linli/visitor_passes")).json()
    assert passes[0]["uses"] == 1
    assert passes[0]["last_read_id"] == opened["read_id"]


async def test_a_re_pushed_offline_record_is_logged_once_and_opens_once(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    reads = _reads(hub_client)
    # The camera buffered this read 20 s ago while the hub was away, and re-pushes it until
    # it gets an answer: the hub may see it several times.
    record = north_in.record(PLATE_1201, offline=True, age=20)
    first = await north_in.push(record)
    again = await north_in.push(record)
    assert first["info"] == "ok"
    assert again == first
    await hub_client.hub.async_block_till_done()
    assert len(await _log(hub_client)) == 1
    assert len(reads) == 1
    assert reads[0]["offline"] is True
    occupancy = hub_client.hub.states.get("sensor.p1_occupancy")
    assert occupancy is not None
    assert occupancy.state == "1"


async def test_an_offline_record_older_than_the_window_never_opens(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    record = north_in.record(PLATE_1201, offline=True, age=61)
    assert (await north_in.push(record))["info"] == "no"
    assert (await north_in.push(record))["info"] == "no"
    (row,) = await _log(hub_client)
    assert (row["category"], row["decision"], row["offline"]) == ("resident", "deny", True)
    assert row["opened_by"] is None
    assert hub_client.hub.states.get("sensor.p1_occupancy").state == "0"  # type: ignore[union-attr]


async def test_concurrent_re_pushes_are_one_read(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    import asyncio

    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    record = north_in.record(PLATE_1201)
    answers = await asyncio.gather(*(north_in.push(record) for _ in range(5)))
    assert {answer["info"] for answer in answers} == {"ok"}
    assert len(await _log(hub_client)) == 1


# ---------------------------------------------------------------------------- decisions


async def test_resident_opens_blacklist_denies_unknown_asks(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    response = await hub_client.post(
        "/api/linli/plates/blacklist", json={"plate": "京N·88888", "reason": "逃费"}
    )
    assert response.status == 201, await response.text()
    reads = _reads(hub_client)

    assert await north_in.read("湘Ａ１２３４５") == "ok"  # full-width, as some cameras send
    assert await north_in.read("京N88888") == "no"
    assert await north_in.read("沪C55555") == "no"
    await hub_client.hub.async_block_till_done()

    assert [(r["plate"], r["category"], r["decision"]) for r in reads] == [
        ("湘A12345", "resident", "open"),
        ("京N88888", "blacklist", "deny"),
        ("沪C55555", "unknown", "ask"),
    ]
    first = reads[0]
    assert first["household_id"] == community.household_1201
    assert first["gate_entity_id"] == "cover.north_in_barrier"
    assert first["color"] == "blue"
    assert first["plate_valid"] is True
    assert first["direction"] == "in"
    camera = hub_client.hub.states.get("event.north_in_camera")
    assert camera is not None
    assert camera.attributes["event_type"] == "ask"
    assert camera.attributes["read_id"] == reads[2]["read_id"]
    assert "湘A12345" not in json.dumps(dict(camera.attributes), ensure_ascii=False)


async def test_blue_and_yellow_plates_with_the_same_number_are_different(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)  # blue
    assert await north_in.read(PLATE_1201, color=2) == "no"  # a yellow plate: someone else
    assert await north_in.read(PLATE_1201, color=0) == "ok"  # colour unknown: matches


async def test_a_guard_opens_an_asked_gate_on_the_next_heartbeat(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    reads = _reads(hub_client)
    assert await north_in.read("沪C55555") == "no"
    assert await north_in.heartbeat() == "no"
    await hub_client.hub.async_block_till_done()
    read_id = reads[0]["read_id"]

    staff = community.staff  # staff of building b1, where the north gate is
    response = await staff.post(
        "/api/services/plate_gate/open",
        json={"entity_id": "cover.north_in_barrier", "read_id": read_id},
    )
    assert response.status == 200, await response.text()
    assert await north_in.heartbeat() == "ok"
    assert await north_in.heartbeat() == "no"  # delivered once

    (row,) = await _log(hub_client)
    assert row["opened_by"] == staff.user.id
    barrier = hub_client.hub.states.get("cover.north_in_barrier")
    assert barrier is not None
    assert barrier.state == "open"
    assert hub_client.hub.states.get("sensor.p1_occupancy").state == "1"  # type: ignore[union-attr]


async def test_a_guard_open_is_delivered_on_the_next_push_and_answered_once(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    reads = _reads(hub_client)
    assert await north_in.read("沪C55555") == "no"
    await hub_client.hub.async_block_till_done()
    await hub_client.hub.services.async_call(
        "plate_gate", "open", {"gate_id": "north-in", "read_id": reads[0]["read_id"]}, blocking=True
    )
    # The camera reads the waiting car again before its next heartbeat.
    assert await north_in.read("沪C55555") == "ok"
    assert await north_in.heartbeat() == "no"
    # Opening the same read twice opens nothing more.
    result = await hub_client.hub.services.async_call(
        "plate_gate",
        "open",
        {"gate_id": "north-in", "read_id": reads[0]["read_id"]},
        blocking=True,
        return_response=True,
    )
    assert result == {
        "gate_id": "north-in",
        "read_id": reads[0]["read_id"],
        "opened": False,
        "reason": "already answered",
    }


async def test_a_guard_may_deny_and_other_staff_cannot_open_gates_outside_their_areas(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    reads = _reads(hub_client)
    assert await north_in.read("沪C55555") == "no"
    await hub_client.hub.async_block_till_done()
    read_id = reads[0]["read_id"]
    grid_worker = community.grid_worker  # building b2: not the north gate
    response = await grid_worker.post(
        "/api/services/plate_gate/open",
        json={"entity_id": "cover.north_in_barrier", "read_id": read_id},
    )
    assert response.status == 403
    response = await grid_worker.post(
        "/api/services/plate_gate/open", json={"gate_id": "north-in", "read_id": read_id}
    )
    assert response.status == 403
    response = await community.staff.post(
        "/api/services/plate_gate/deny",
        json={"entity_id": "cover.north_in_barrier", "read_id": read_id},
    )
    assert response.status == 200, await response.text()
    (row,) = await _log(hub_client)
    assert row["denied_by"] == community.staff.user.id
    assert row["opened_by"] is None
    assert await north_in.heartbeat() == "no"


async def test_occupancy_counts_a_car_once_and_the_exit_lets_anyone_out(
    hub_client: HubClient, community: Any, north_in: Any, north_out: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    assert await north_in.read(PLATE_1201) == "ok"
    assert await north_in.read(PLATE_1201) == "ok"  # read twice at the barrier: one car
    sensor = hub_client.hub.states.get("sensor.p1_occupancy")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["capacity"], sensor.attributes["free"]) == ("1", 3, 2)
    assert await north_out.read("沪C55555") == "ok"  # unknown, but leaving
    assert await north_out.read(PLATE_1201) == "ok"
    assert hub_client.hub.states.get("sensor.p1_occupancy").state == "0"  # type: ignore[union-attr]


async def test_the_barrier_closes_again_after_a_while(
    hub_client: HubClient, community: Any, north_in: Any, clock: Any
) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    assert await north_in.read(PLATE_1201) == "ok"
    assert hub_client.hub.states.get("cover.north_in_barrier").state == "open"  # type: ignore[union-attr]
    clock.advance(10)
    await hub_client.hub.async_block_till_done()
    assert hub_client.hub.states.get("cover.north_in_barrier").state == "closed"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- the wire


async def test_gbk_bodies_are_read(hub_client: HubClient, community: Any, north_in: Any) -> None:
    await _resident_plate(hub_client, community.household_1201, PLATE_1201)
    assert (await north_in.push(north_in.record(PLATE_1201), encoding="gbk"))["info"] == "ok"
    assert (await north_in.push(north_in.record("粤Z1234港"), encoding="gb18030"))["info"] == "no"
    rows = await _log(hub_client)
    assert [(r["plate"], r["plate_class"]) for r in rows] == [
        ("粤Z1234港", "hong_kong"),
        ("湘A12345", "ordinary"),
    ]


async def test_the_answer_has_the_vendor_shape(hub_client: HubClient, north_in: Any) -> None:
    response = await north_in.post(north_in.record("沪C55555"))
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {
        "Response_AlarmInfoPlate": {
            "info": "no",
            "channelNum": 0,
            "content": "ask: please wait for the guard",
            "is_pay": "false",
            "serialData": [],
        }
    }


async def test_malformed_pushes_get_a_clear_400_and_the_hub_goes_on(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    bad: list[tuple[bytes | dict[str, Any], str]] = [
        (b"", "the body is empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "should be a JSON object"),
        (b"\xff\xfe\xfa\x00\x81", "neither UTF-8 nor GB18030"),
        ({"Alarm": {}}, "expected an AlarmInfoPlate or heartbeat object"),
        ({"AlarmInfoPlate": {"result": {}}}, "PlateResult should be a JSON object"),
        ({"AlarmInfoPlate": {"result": {"PlateResult": {"license": 12345}}}}, "license"),
        (
            {
                "AlarmInfoPlate": {
                    "result": {"PlateResult": {"license": "京A12345", "colorType": 9}}
                }
            },
            "colorType",
        ),
        (
            {
                "AlarmInfoPlate": {
                    "result": {"PlateResult": {"license": "京A12345", "isoffline": 7}}
                }
            },
            "isoffline",
        ),
        (
            {
                "AlarmInfoPlate": {
                    "result": {
                        "PlateResult": {
                            "license": "京A12345",
                            "timeStamp": {"Timeval": {"sec": "x"}},
                        }
                    }
                }
            },
            "Timeval.sec",
        ),
    ]
    for body, message in bad:
        response = await north_in.post(body)
        assert response.status == 400, body
        assert message in (await response.json())["message"], body
    assert await north_in.read("沪C55555") == "no"  # still deciding
    assert len(await _log(hub_client)) == 1


async def test_an_unreadable_plate_is_logged_and_asks(hub_client: HubClient, north_in: Any) -> None:
    assert await north_in.read("_无_") == "no"
    (row,) = await _log(hub_client)
    assert (row["plate_valid"], row["category"], row["decision"]) == (False, "unknown", "ask")


def test_parse_push_reads_the_vendor_fields() -> None:
    body = json.dumps(
        {
            "AlarmInfoPlate": {
                "channel": 1,
                "serialno": "e1f2",
                "result": {
                    "PlateResult": {
                        "license": "京A·12345",
                        "colorType": 2,
                        "confidence": 91,
                        "plateid": "77",
                        "isoffline": 1,
                        "timeStamp": {"Timeval": {"sec": 1772323200, "usec": 5}},
                        "imageFile": "aGVsbG8=",
                    }
                },
            }
        },
        ensure_ascii=False,
    ).encode("gb18030")
    parsed = parse_push(body)
    assert not isinstance(parsed, type(None))
    assert parsed.dedup_key("g1") == "http:g1:e1f2:77:1772323200:5"  # type: ignore[union-attr]
    assert parsed.record_ts == 1772323200.000005  # type: ignore[union-attr]
    assert parsed.offline is True  # type: ignore[union-attr]
    assert parsed.license == "京A·12345"  # type: ignore[union-attr]


def test_parse_push_refuses_a_list() -> None:
    with pytest.raises(PushError, match="JSON object"):
        parse_push(b"[]")


async def test_the_manager_is_reachable_for_diagnostics(hub_client: HubClient) -> None:
    manager = get_manager(hub_client.hub)
    assert sorted(manager.gates) == ["east", "north-in", "north-out"]


async def test_trusted_code_registers_a_household_car_once(
    hub_client: HubClient, community: Any, north_in: Any
) -> None:
    import linli_plate_gate

    hub = hub_client.hub
    household = community.household_1201
    assert await linli_plate_gate.async_add_resident_plate(hub, household, "湘A·D12345", "green")
    assert not await linli_plate_gate.async_add_resident_plate(hub, household, "湘AD12345")
    with pytest.raises(ValueError, match="not a licence plate"):
        await linli_plate_gate.async_add_resident_plate(hub, household, "hello")
    with pytest.raises(ValueError, match="unknown household"):
        await linli_plate_gate.async_add_resident_plate(hub, "nope", "湘A12345")
    assert await north_in.read("湘AD12345", color=5) == "ok"
    plates = await (await hub_client.get("/api/linli/plates")).json()
    assert [(p["plate"], p["household_id"]) for p in plates] == [("湘AD12345", household)]
