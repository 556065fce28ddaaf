"""face_access in the hub's OpenAPI document: every route described, and schemathesis finds
no server error and no undocumented status, content type or body."""

from __future__ import annotations

import asyncio
import base64

import pytest

from linli.db.testing import db_url
from linli.testing.community import Community
from linli.testing.openapi import (
    ExplicitCases,
    assert_routes_documented,
    fuzz_operations,
    served_linli_routes,
)
from linli_face_access import get_face_access
from linli_face_access.openapi import OPENAPI_PATHS

from .conftest import FaceTerminal, b64, grant_face_consent, near, template, tiny_jpeg

__all__ = ["db_url"]


@pytest.fixture
def hub_config(hub_config: str, db_url: str) -> str:
    """The face_access hub on each database (SQLite, PostgreSQL)."""
    return hub_config + f"recorder:\n  db_url: {db_url}\n"


async def test_document_describes_every_face_access_route(community: Community) -> None:
    response = await community.admin.get("/api/linli/openapi.json", auth=False)
    assert response.status == 200
    document = await response.json()
    assert_routes_documented(document, served_linli_routes(community.admin.hub), OPENAPI_PATHS)


async def test_schemathesis_finds_no_server_error(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    person, household = community.person_1201, community.household_1201
    await grant_face_consent(community.resident, person)
    face = get_face_access(hub)
    await face.async_enroll_face(person, b64(template(1)), None)
    answer = await terminal.request(
        "face",
        template=b64(near(template(1), 4)),
        snapshot=base64.b64encode(tiny_jpeg()).decode(),
    )
    assert answer["command"] == "open"
    await hub.async_block_till_done()
    (row,) = await face.store.async_query_log()
    assert row["snapshot_id"] is not None
    issued = await community.admin.post(
        "/api/linli/credentials", json={"type": "pin", "person_id": person, "pin": "4821"}
    )
    assert issued.status == 201, await issued.text()
    credential_id = (await issued.json())["credential"]["id"]

    examples: ExplicitCases = {
        ("GET", "/api/linli/access_log"): [
            {"query": {}},
            {"query": {"household_id": household, "since": "2020-01-01T00:00:00+08:00"}},
            {"query": {"since": "0001-01-01T00:00:00+01:00", "door_id": "b1\x00"}},
        ],
        ("GET", "/api/linli/credentials"): [
            {"query": {"person_id": person}},
            {"query": {"household_id": household}},
        ],
        ("POST", "/api/linli/credentials"): [
            {"body": {"type": "card", "person_id": person, "card_no": "C0FFEE01"}},
            {"body": {"type": "visitor_qr", "household_id": household, "valid_hours": 2}},
        ],
        ("POST", "/api/linli/credentials/{credential_id}/revoke"): [
            {"path_parameters": {"credential_id": credential_id}},
        ],
        ("GET", "/api/linli/face_access/snapshots/{snapshot_id}"): [
            {"path_parameters": {"snapshot_id": row["snapshot_id"]}},
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
    assert sum(sum(seen.values()) for seen in statuses.values()) >= 100


async def test_bad_text_is_refused_not_a_server_error(community: Community) -> None:
    """Times out of range and NUL characters (PostgreSQL refuses them) answer 400."""
    admin, person = community.admin, community.person_1201
    cases = [
        ("/api/linli/access_log", {"since": "0001-01-01T00:00:00+01:00"}, "invalid date"),
        ("/api/linli/access_log", {"door_id": "b1\x00"}, "'door_id' should not contain NUL"),
        ("/api/linli/credentials", {"household_id": "\x00"}, "'household_id' should not"),
    ]
    for path, params, message in cases:
        response = await admin.get(path, params=params)
        assert response.status == 400, (params, await response.text())
        assert message in (await response.json())["message"]
    response = await admin.post(
        "/api/linli/credentials", json={"type": "qr", "person_id": person, "label": "a\x00b"}
    )
    assert response.status == 400
    assert "should not contain NUL" in (await response.json())["message"]
    response = await admin.post("/api/linli/credentials/a%00b/revoke")
    assert response.status == 400
