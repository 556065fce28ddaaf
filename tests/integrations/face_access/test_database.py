"""The face ledgers on both databases: SQLite and PostgreSQL (skipped when it is down).

Credentials, templates, the access log, snapshots and terminal deletions go through one
flow: enrol with consent, in by face, withdrawal erases, in by card.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from linli.db.testing import db_url
from linli.testing.community import Community
from linli.testing.http import HubClient
from linli_face_access import get_face_access

from .conftest import CARD, FaceTerminal, b64, grant_face_consent, near, template, tiny_jpeg

__all__ = ["db_url"]


@pytest.fixture
def hub_config(hub_config: str, db_url: str) -> str:
    """The face-access hub on the database under test."""
    return hub_config + f"recorder:\n  db_url: {db_url}\n"


async def test_enrol_pass_withdraw_and_card_on_each_database(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    person = community.person_1201
    response = await community.admin.post(
        "/api/linli/credentials", json={"type": "card", "person_id": person, "card_no": CARD}
    )
    assert response.status == 201, await response.text()
    consent_id = await grant_face_consent(community.resident, person)
    face = template(3)
    async with community.resident.ws_client() as ws:
        await ws.result("face_access/enroll_face", person_id=person, template=b64(face))

    answer = await terminal.request(
        "face", template=b64(near(face, 1)), snapshot=base64.b64encode(tiny_jpeg(2)).decode()
    )
    assert answer["command"] == "open"
    log = await _log(community.resident, 1)  # the row is written just after the door is answered
    assert [(row["method"], row["granted"]) for row in log] == [("face", True)]

    response = await community.resident.post(f"/api/linli/consents/{consent_id}/withdraw")
    assert response.status == 200, await response.text()
    assert await get_face_access(hub).store.async_templates_of(person) == []
    assert await get_face_access(hub).store.async_snapshots_of(person) == []
    deletions = await get_face_access(hub).store.async_deletions(person)
    assert deletions
    assert all(row["verified"] is None for row in deletions)

    answer = await terminal.request("face", template=b64(near(face, 4)))
    assert answer["command"] == "deny"
    answer = await terminal.request("card", card_no=CARD)
    assert answer["command"] == "open"
    # The access log is a security record: kept (within its retention), unlike the face data.
    # The refused face matched nobody: the office sees it, her household's log does not.
    log = await _log(community.admin, 3)
    assert sorted((row["method"], row["granted"]) for row in log) == [
        ("card", True),
        ("face", False),
        ("face", True),
    ]
    mine = await _log(community.resident, 2)
    assert sorted((row["method"], row["person_id"]) for row in mine) == [
        ("card", person),
        ("face", person),
    ]


async def _log(client: HubClient, count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _ in range(200):
        rows = await (await client.get("/api/linli/access_log")).json()
        if len(rows) >= count:
            break
        await asyncio.sleep(0.01)
    return rows
