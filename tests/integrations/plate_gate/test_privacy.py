"""The gate log as personal data: retention, export and erasure through linli.privacy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linli.privacy import get_privacy
from linli.testing.http import HubClient


async def _log(client: HubClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await (await client.get("/api/linli/gate_log")).json()
    return rows


async def _a_read(hub_client: HubClient, community: Any, north_in: Any) -> None:
    response = await hub_client.post(
        "/api/linli/plates", json={"household_id": community.household_1201, "plate": "湘A12345"}
    )
    assert response.status == 201
    assert await north_in.read("湘A12345") == "ok"


async def test_plate_log_is_a_registered_kind_with_a_floor(hub_client: HubClient) -> None:
    privacy = get_privacy(hub_client.hub)
    kind = privacy.kinds["plate_log"]
    assert (kind.sensitive, kind.consent_kind) == (True, None)
    policy = privacy.policy("plate_log")
    assert (policy.keep_days, policy.floor_days) == (180, 30)


async def test_reads_are_purged_after_keep_days(
    hub_client: HubClient, community: Any, north_in: Any, clock: Any
) -> None:
    await _a_read(hub_client, community, north_in)
    privacy = get_privacy(hub_client.hub)
    assert (await privacy.async_purge())["plate_log"] == 0
    clock.advance(timedelta(days=181))
    await hub_client.hub.async_block_till_done()
    await privacy.async_purge()
    assert await _log(hub_client) == []


async def test_export_and_erase_reach_the_household_reads_but_keep_the_floor(
    hub_client: HubClient, community: Any, north_in: Any, clock: Any
) -> None:
    await _a_read(hub_client, community, north_in)
    privacy = get_privacy(hub_client.hub)
    exported = (await privacy.async_export(community.person_1201))["data"]["plate_log"]
    assert exported["household_id"] == community.household_1201
    assert [p["plate"] for p in exported["plates"]] == ["湘A12345"]
    assert [r["plate"] for r in exported["reads"]] == ["湘A12345"]
    other = (await privacy.async_export(community.person_1202))["data"]["plate_log"]
    assert other["reads"] == []

    counts = await privacy.async_erase(community.person_1201, reason="request")
    assert counts["plate_log"] == 0  # younger than the 30-day floor
    clock.advance(timedelta(days=31))
    await hub_client.hub.async_block_till_done()
    assert await north_in.read("湘A12345") == "ok"  # a new read, inside the floor
    counts = await privacy.async_erase(community.person_1201, reason="request")
    assert counts["plate_log"] == 1
    assert len(await _log(hub_client)) == 1
