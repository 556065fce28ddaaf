"""Who may use which REST endpoint: every role × endpoint, as the table in linli.components.api."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.components.api.conftest import Community

ROLES = ("admin", "staff", "grid_worker", "police", "resident", "anonymous")

# (method, path, body) → expected status per role, in ROLES order.
MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/api/", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/config", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/states", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/states/light.room_1201", None, (200, 200, 404, 404, 200, 401)),
    ("GET", "/api/states/light.room_1202", None, (200, 200, 404, 404, 404, 401)),
    ("GET", "/api/states/sensor.lobby_b2", None, (200, 404, 200, 404, 404, 401)),
    ("GET", "/api/states/sensor.community", None, (200, 404, 404, 404, 404, 401)),
    ("POST", "/api/states/sensor.new", {"state": "1"}, (201, 403, 403, 403, 403, 401)),
    ("DELETE", "/api/states/sensor.community", None, (200, 403, 403, 403, 403, 401)),
    ("GET", "/api/services", None, (200, 200, 200, 200, 200, 401)),
    (
        "POST",
        "/api/services/test/switch",
        {"entity_id": ["light.room_1201"]},
        (200, 200, 403, 403, 200, 401),
    ),
    (
        "POST",
        "/api/services/test/switch",
        {"entity_id": ["light.room_1202"]},
        (200, 200, 403, 403, 403, 401),
    ),
    ("GET", "/api/events", None, (200, 403, 403, 403, 403, 401)),
    ("POST", "/api/events/doorbell", {}, (200, 403, 403, 403, 403, 401)),
    ("GET", "/api/history/period", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/logbook", None, (200, 200, 200, 200, 200, 401)),
    ("POST", "/api/template", {"template": "1"}, (200, 403, 403, 403, 403, 401)),
    ("POST", "/api/config/core/check_config", None, (200, 403, 403, 403, 403, 401)),
    ("GET", "/api/error_log", None, (200, 403, 403, 403, 403, 401)),
    ("GET", "/api/linli/me", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/linli/alerts", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/linli/households", None, (200, 200, 200, 200, 200, 401)),
    ("GET", "/api/linli/users", None, (200, 403, 403, 403, 403, 401)),
    ("GET", "/api/linli/openapi.json", None, (200, 200, 200, 200, 200, 200)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX)
async def test_role_matrix(
    community: Community, method: str, path: str, body: Any, expected: tuple[int, ...]
) -> None:
    got = {}
    for role in ROLES:
        client = community.admin if role == "anonymous" else community.role(role)
        response = await client._send(method, path, auth=role != "anonymous", json=body)
        got[role] = response.status
        if role == "admin" and method != "GET":
            community.admin.hub.states.async_set("sensor.community", "off")  # put it back
    assert got == dict(zip(ROLES, expected, strict=True))


async def test_each_role_reads_only_its_states(community: Community) -> None:
    seen = {}
    for role in ("admin", "staff", "grid_worker", "police", "resident", "other_resident"):
        states = await (await community.role(role).get("/api/states")).json()
        seen[role] = {s["entity_id"] for s in states} & {
            "light.room_1201",
            "light.room_1202",
            "sensor.lobby_b2",
            "sensor.community",
        }
    assert seen == {
        "admin": {"light.room_1201", "light.room_1202", "sensor.lobby_b2", "sensor.community"},
        "staff": {"light.room_1201", "light.room_1202"},
        "grid_worker": {"sensor.lobby_b2"},
        "police": set(),
        "resident": {"light.room_1201"},
        "other_resident": {"light.room_1202"},
    }


async def test_resident_never_reads_another_households_states(
    community: Community, clock: Any
) -> None:
    resident = community.resident
    hub = resident.hub
    hub.states.async_set("light.room_1202", "on")
    clock.advance(60)
    await hub.async_block_till_done()
    for path, params in (
        ("/api/states/light.room_1202", {}),
        ("/api/history/period", {"filter_entity_id": "light.room_1202"}),
        ("/api/logbook", {"entity": "light.room_1202"}),
    ):
        response = await resident.get(path, params=params)
        assert response.status in (200, 404)
        assert "light.room_1202" not in await response.text(), path
    history = await (await resident.get("/api/history/period")).json()
    assert {rows[0]["entity_id"] for rows in history} <= {"light.room_1201"}
    logbook = await (await resident.get("/api/logbook")).json()
    assert {entry["entity_id"] for entry in logbook} <= {"light.room_1201"}
    # A service the resident may call reports only the states the resident may read.
    response = await resident.post(
        "/api/services/test/switch", json={"entity_id": ["light.room_1201"]}
    )
    assert [s["entity_id"] for s in await response.json()] == ["light.room_1201"]


async def test_forbidden_body(community: Community) -> None:
    response = await community.resident.get("/api/error_log")
    assert response.status == 403
    assert await response.json() == {"message": "Forbidden."}
