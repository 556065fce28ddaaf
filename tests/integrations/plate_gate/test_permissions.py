"""Who may register plates and passes and read the gate log, over REST and WebSocket.

The sample community: residents of 1201 and 1202, staff of building b1 (where the north
gates are), a grid worker of b2 (the east gate), police of b1.
"""

from __future__ import annotations

from typing import Any

import pytest

from linli.audit import async_query

PASS = {"plate": "粤BD12345", "start": "2026-03-01T18:00", "end": "2026-03-01T22:00"}


async def test_a_resident_registers_passes_for_their_own_household_only(community: Any) -> None:
    resident = community.resident
    other = community.household_1202
    response = await resident.post(
        "/api/linli/visitor_passes", json={**PASS, "household_id": other}
    )
    assert response.status == 404
    response = await resident.post(
        "/api/linli/visitor_passes", json={**PASS, "household_id": community.household_1201}
    )
    assert response.status == 201
    async with resident.ws_client() as ws:
        assert await ws.error("plate_gate/visitor_passes/add", **PASS, household_id=other) == (
            "unauthorized"
        )
        added = await ws.result("plate_gate/visitor_passes/add", **PASS)
        assert added["household_id"] == community.household_1201
        assert len(await ws.result("plate_gate/visitor_passes/list")) == 2
        assert await ws.error("plate_gate/visitor_passes/list", household_id=other) == (
            "unauthorized"
        )
    # The other household sees none of them, and cannot cancel them.
    assert await (await community.other_resident.get("/api/linli/visitor_passes")).json() == []
    response = await community.other_resident.delete(f"/api/linli/visitor_passes/{added['id']}")
    assert response.status == 404


async def test_a_resident_cannot_register_a_plate_for_any_household(community: Any) -> None:
    for household_id, status in (
        (community.household_1202, 404),  # not theirs: as if it did not exist
        (community.household_1201, 403),  # theirs, but plates are registered by the staff
    ):
        body = {"household_id": household_id, "plate": "湘A12345"}
        response = await community.resident.post("/api/linli/plates", json=body)
        assert response.status == status
        async with community.resident.ws_client() as ws:
            assert await ws.error("plate_gate/plates/add", **body) == "unauthorized"


async def test_staff_register_plates_in_their_buildings_and_residents_list_their_own(
    community: Any,
) -> None:
    body = {"household_id": community.household_1201, "plate": "湘A12345", "color": "yellow"}
    response = await community.staff.post("/api/linli/plates", json=body)
    assert response.status == 201, await response.text()
    plate = await response.json()
    assert (plate["plate"], plate["color"], plate["class"]) == ("湘A12345", "yellow", "ordinary")
    assert (await community.staff.post("/api/linli/plates", json=body)).status == 409
    grid_worker = community.grid_worker  # building b2: not 1201's
    assert (await grid_worker.post("/api/linli/plates", json=body)).status == 404
    response = await community.staff.post("/api/linli/plates", json={**body, "plate": "京A1234O"})
    assert response.status == 400
    assert "is not a licence plate" in (await response.json())["message"]

    mine = await (await community.resident.get("/api/linli/plates")).json()
    assert [p["id"] for p in mine] == [plate["id"]]
    assert await (await community.other_resident.get("/api/linli/plates")).json() == []
    response = await community.other_resident.get(
        "/api/linli/plates", params={"household_id": community.household_1201}
    )
    assert response.status == 404
    async with community.other_resident.ws_client() as ws:
        assert (
            await ws.error("plate_gate/plates/list", household_id=community.household_1201)
            == "unauthorized"
        )
        assert await ws.error("plate_gate/plates/remove", plate_id=plate["id"]) == "unauthorized"
    assert (await community.police.get("/api/linli/plates")).status == 403


async def _a_read_of_1201(hub_client: Any, community: Any, north_in: Any) -> None:
    await hub_client.post(
        "/api/linli/plates", json={"household_id": community.household_1201, "plate": "湘A12345"}
    )
    assert await north_in.read("湘A12345") == "ok"
    assert await north_in.read("沪C55555") == "no"


async def test_a_resident_reads_only_their_household_gate_log(
    hub_client: Any, community: Any, north_in: Any
) -> None:
    await _a_read_of_1201(hub_client, community, north_in)
    rows = await (await community.resident.get("/api/linli/gate_log")).json()
    assert [r["plate"] for r in rows] == ["湘A12345"]
    assert await (await community.other_resident.get("/api/linli/gate_log")).json() == []
    response = await community.other_resident.get(
        "/api/linli/gate_log", params={"household_id": community.household_1201}
    )
    assert response.status == 404
    async with community.other_resident.ws_client() as ws:
        assert await ws.result("plate_gate/gate_log/list") == []
        assert (
            await ws.error("plate_gate/gate_log/list", household_id=community.household_1201)
            == "unauthorized"
        )
    async with community.resident.ws_client() as ws:
        assert len(await ws.result("plate_gate/gate_log/list")) == 1


@pytest.mark.parametrize(("role", "count"), [("staff", 2), ("police", 2), ("grid_worker", 0)])
async def test_staff_and_police_read_the_log_of_gates_in_scope_audited(
    hub_client: Any, community: Any, north_in: Any, role: str, count: int
) -> None:
    await _a_read_of_1201(hub_client, community, north_in)
    client = community.role(role)
    response = await client.get("/api/linli/gate_log")
    assert response.status == 200
    assert len(await response.json()) == count
    async with client.ws_client() as ws:
        assert len(await ws.result("plate_gate/gate_log/list")) == count
    audit = await async_query(hub_client.hub, user_id=client.user.id, action="read_personal_data")
    assert [row["details"]["via"] for row in audit] == ["websocket", "GET /api/linli/gate_log"]
    assert {row["subject"] for row in audit} == {"plate_log"}


async def test_reads_of_plates_by_staff_are_audited_and_residents_are_not(
    hub_client: Any, community: Any
) -> None:
    await (await community.staff.get("/api/linli/plates")).json()
    await (await community.resident.get("/api/linli/plates")).json()
    rows = await async_query(hub_client.hub, action="read_personal_data")
    assert [(row["user_id"], row["subject"]) for row in rows] == [
        (community.staff.user.id, "plates")
    ]


async def test_the_blacklist_is_for_staff(community: Any) -> None:
    body = {"plate": "京N88888", "reason": "逃费"}
    assert (await community.resident.post("/api/linli/plates/blacklist", json=body)).status == 403
    assert (await community.grid_worker.get("/api/linli/plates/blacklist")).status == 403
    response = await community.staff.post("/api/linli/plates/blacklist", json=body)
    assert response.status == 201
    entry = await response.json()
    listed = await (await community.staff.get("/api/linli/plates/blacklist")).json()
    assert [e["plate"] for e in listed] == ["京N88888"]
    response = await community.staff.delete(f"/api/linli/plates/blacklist/{entry['id']}")
    assert response.status == 200
    async with community.staff.ws_client() as ws:
        assert await ws.result("plate_gate/blacklist/list") == []


async def test_bad_input_is_answered_clearly(community: Any) -> None:
    resident = community.resident
    cases = [
        ({**PASS, "end": "2026-03-01T17:00"}, "'end' should be after 'start'"),
        ({**PASS, "start": "tomorrow"}, "is not an ISO 8601 time"),
        ({**PASS, "color": "purple"}, "unknown plate colour"),
        ({**PASS, "end": "2026-05-01T00:00"}, "at most 31 days"),
        ({**PASS, "end": "2026-03-01T10:00", "start": "2026-03-01T09:00"}, "in the past"),
        ({**PASS, "colour": "blue"}, "Unknown key(s): colour"),
    ]
    for body, message in cases:
        response = await resident.post("/api/linli/visitor_passes", json=body)
        assert response.status == 400, body
        assert message in (await response.json())["message"], body
    async with resident.ws_client() as ws:
        assert await ws.error("plate_gate/visitor_passes/add", plate="x") == "invalid_format"
