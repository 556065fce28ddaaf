"""The plate ledgers on both databases: SQLite and PostgreSQL (skipped when it is down)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.db.testing import db_url
from linli.testing.http import HubClient

__all__ = ["db_url"]


@pytest.fixture
def hub_config(hub_config: str, db_url: str) -> str:
    """The plate-gate hub on the database under test."""
    return hub_config + f"recorder:\n  db_url: {db_url}\n"


async def test_decisions_are_logged_once_on_each_database(
    hub_client: HubClient, community: Any, north_in: Any, local: Any
) -> None:
    response = await community.resident.post(
        "/api/linli/visitor_passes",
        json={"plate": "粤BD12345", "start": "2026-03-01T18:00", "end": "2026-03-01T22:00"},
    )
    assert response.status == 201, await response.text()
    local("2026-03-01 19:00")
    record = north_in.record("粤BD12345", color=5, offline=True, age=5)
    assert (await north_in.push(record))["info"] == "ok"
    assert (await north_in.push(record))["info"] == "ok"
    local("2026-03-01 23:00")
    assert await north_in.read("粤BD12345", color=5) == "no"
    rows = await (await hub_client.get("/api/linli/gate_log")).json()
    assert [(r["category"], r["decision"], r["offline"]) for r in rows] == [
        ("unknown", "ask", False),
        ("visitor", "open", True),
    ]
    passes = await (await community.resident.get("/api/linli/visitor_passes")).json()
    assert passes[0]["uses"] == 1
