"""A client that stops reading is disconnected; the hub and the other clients carry on."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from linli.components.websocket_api import active_connections
from linli.testing.community import SAMPLE_AREAS
from linli.testing.http import async_hub_client, async_start_served_hub

from .conftest import AUTOMATION, Community, connect

BLOB = "x" * 50_000
"""Big states fill the stuck client's socket buffers after a few dozen events."""


@pytest.fixture
def hub_config() -> str:
    """A small send queue, so a stuck client is found quickly."""
    return (
        SAMPLE_AREAS
        + AUTOMATION
        + "websocket_api:\n  max_pending_messages: 40\n  pending_peak_messages: 40\n"
    )


async def _until_closed(socket: aiohttp.ClientWebSocketResponse) -> None:
    while True:
        msg = await socket.receive(timeout=10)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return


async def test_a_stuck_subscriber_is_dropped_while_others_are_served(
    community: Community, caplog: pytest.LogCaptureFixture
) -> None:
    hub = community.admin.hub
    caplog.set_level(logging.WARNING, "linli.components.websocket_api")
    async with (
        connect(community.admin) as fast,
        connect(community.staff) as stuck,
        connect(community.resident) as other,
    ):
        fast_sub = await fast.subscribe("subscribe_events", event_type="state_changed")
        await stuck.subscribe("subscribe_events", event_type="state_changed")
        other_sub = await other.subscribe("subscribe_entities")
        await other.event(other_sub)
        assert active_connections(hub) == 3
        # From here on the stuck client never reads. Change a state in rounds of ten; the
        # fast client takes every event of a round before the next one starts.
        count = 0
        while active_connections(hub) == 3:
            assert count < 2000, "the stuck client was never disconnected"
            for _ in range(10):
                count += 1
                hub.states.async_set("light.room_1201", str(count), {"blob": BLOB})
            for expected in range(count - 9, count + 1):
                event = await fast.event(fast_sub)
                assert event["data"]["new_state"]["state"] == str(expected)
            # The resident's compressed diffs keep coming too (the blob does not change).
            for expected in range(count - 9, count + 1):
                diff = (await other.event(other_sub))["c"]["light.room_1201"]["+"]
                assert diff["s"] == str(expected)
        dropped = [r for r in caplog.records if "Disconnecting WebSocket client" in r.getMessage()]
        assert len(dropped) == 1
        assert community.staff.user.id in dropped[0].getMessage()
        assert "more than 40 messages waiting" in dropped[0].getMessage()
        # The stuck client's socket ends (after what was already in its buffers).
        await _until_closed(stuck.socket)
        # The hub and the others are not affected.
        hub.states.async_set("light.room_1201", "final")
        assert (await fast.event(fast_sub))["data"]["new_state"]["state"] == "final"
        assert (await other.event(other_sub))["c"]["light.room_1201"]["+"]["s"] == "final"
        assert {s["entity_id"] for s in await other.result("get_states")} == {"light.room_1201"}
        assert active_connections(hub) == 2


async def test_a_client_behind_for_too_long_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Above ``pending_peak_messages`` for ``pending_peak_seconds``: disconnected."""
    caplog.set_level(logging.WARNING, "linli.components.websocket_api")
    hub = await async_start_served_hub(
        tmp_path / "hub",
        extra_config=(
            "websocket_api:\n  max_pending_messages: 100000\n"
            "  pending_peak_messages: 20\n  pending_peak_seconds: 0.3\n"
        ),
    )
    try:
        async with async_hub_client(hub) as admin, connect(admin) as stuck:
            await stuck.subscribe("subscribe_events", event_type="test_big")
            count = 0
            while active_connections(hub) == 1:
                assert count < 5000, "the client was never disconnected"
                count += 1
                hub.bus.async_fire("test_big", {"blob": BLOB, "n": count})
                await asyncio.sleep(0.005)  # the loop runs: writer, timers; nobody reads
            dropped = [r.getMessage() for r in caplog.records]
            assert any("more than 20 messages waiting to be sent for 0.3 s" in m for m in dropped)
            await _until_closed(stuck.socket)
    finally:
        await hub.async_stop()
