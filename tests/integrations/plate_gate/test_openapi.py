"""plate_gate in the hub's OpenAPI document: every route described, and schemathesis finds
no server error and no undocumented status, content type or body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from linli.db.testing import db_url
from linli.testing.community import Community
from linli.testing.openapi import (
    ExplicitCases,
    assert_routes_documented,
    fuzz_operations,
    served_linli_routes,
)
from linli_plate_gate.openapi import OPENAPI_PATHS

from .conftest import FakeCamera

__all__ = ["db_url"]


@pytest.fixture
def hub_config(hub_config: str, db_url: str) -> str:
    """The plate-gate hub on each database (SQLite, PostgreSQL)."""
    return hub_config + f"recorder:\n  db_url: {db_url}\n"


async def test_document_describes_every_plate_gate_route(community: Community) -> None:
    response = await community.admin.get("/api/linli/openapi.json", auth=False)
    assert response.status == 200
    document = await response.json()
    assert_routes_documented(document, served_linli_routes(community.admin.hub), OPENAPI_PATHS)


async def _created(community: Community, path: str, body: dict[str, Any]) -> str:
    response = await community.admin.post(path, json=body)
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def test_schemathesis_finds_no_server_error(
    community: Community, north_in: FakeCamera
) -> None:
    household = community.household_1201
    now = community.admin.hub.clock.time()
    assert await north_in.read("粤BD12345", color=5) == "no"
    plate_id = await _created(
        community, "/api/linli/plates", {"household_id": household, "plate": "湘A12345"}
    )
    entry_id = await _created(community, "/api/linli/plates/blacklist", {"plate": "京A88888"})
    window = {"start": now, "end": now + 7200}
    pass_id = await _created(
        community,
        "/api/linli/visitor_passes",
        {"household_id": household, "plate": "粤BD12345", **window},
    )
    new_plate = {"household_id": household, "plate": "湘A54321", "color": "yellow", "note": "n"}
    examples: ExplicitCases = {
        ("GET", "/api/linli/plates"): [{"query": {}}, {"query": {"household_id": household}}],
        ("POST", "/api/linli/plates"): [{"body": new_plate}, {"body": new_plate}],
        ("DELETE", "/api/linli/plates/{plate_id}"): [{"path_parameters": {"plate_id": plate_id}}],
        ("GET", "/api/linli/plates/blacklist"): [{}],
        ("POST", "/api/linli/plates/blacklist"): [
            {"body": {"plate": "沪C12345", "color": 1, "reason": "r"}}
        ],
        ("DELETE", "/api/linli/plates/blacklist/{entry_id}"): [
            {"path_parameters": {"entry_id": entry_id}}
        ],
        ("GET", "/api/linli/visitor_passes"): [{"query": {"household_id": household}}],
        ("POST", "/api/linli/visitor_passes"): [
            {"body": {"household_id": household, "plate": "苏E12345", **window}},
            {"body": {"household_id": household, "plate": "苏E12345", "start": "x", "end": 1}},
        ],
        ("DELETE", "/api/linli/visitor_passes/{pass_id}"): [
            {"path_parameters": {"pass_id": pass_id}}
        ],
        ("GET", "/api/linli/gate_log"): [
            {"query": {}},
            {"query": {"gate_id": "north-in", "since": "2020-01-01T00:00", "limit": 5}},
            {"query": {"household_id": "a\x00b", "plate": "粤BD12345"}},
        ],
    }
    failures, statuses = await asyncio.get_running_loop().run_in_executor(
        None,
        fuzz_operations,
        community.admin.base_url,
        community.admin.token,
        lambda method, path: path in OPENAPI_PATHS,
        examples,
    )
    assert failures == []
    assert set(statuses) == {
        f"{method.upper()} {path}" for path, item in OPENAPI_PATHS.items() for method in item
    }
    for operation, seen in statuses.items():
        assert any(200 <= status < 300 for status in seen), (operation, seen)
    assert 409 in statuses["POST /api/linli/plates"]
    assert sum(sum(seen.values()) for seen in statuses.values()) >= 100


async def test_nul_characters_are_refused_not_a_server_error(community: Community) -> None:
    """PostgreSQL refuses NUL characters: they answer 400, never reach the database."""
    admin = community.admin
    response = await admin.get("/api/linli/gate_log", params={"plate": "粤B\x0012345"})
    assert response.status == 400
    assert "'plate' should not contain NUL" in (await response.json())["message"]
    body = {"household_id": community.household_1201, "plate": "湘A12345", "note": "a\x00"}
    response = await admin.post("/api/linli/plates", json=body)
    assert response.status == 400
    assert "'note' should not contain NUL" in (await response.json())["message"]
    assert (await admin.get("/api/linli/plates")).status == 200
