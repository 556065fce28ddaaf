"""The protocol itself: auth phase, message rules, errors, coalescing, ping."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson

from linli.components.websocket_api import HA_VERSION, active_connections
from linli.testing.http import HubClient

from .conftest import Community, WSClient, connect


async def _open(client: HubClient) -> aiohttp.ClientWebSocketResponse:
    return await client.session.ws_connect(client.url("/api/websocket"))


async def test_auth_phase_names_the_ha_level(hub_client: HubClient) -> None:
    socket = await _open(hub_client)
    async with socket:
        hello = await socket.receive_json(timeout=5)
        assert hello == {"type": "auth_required", "ha_version": HA_VERSION}
        assert HA_VERSION == "2024.3.0"
        await socket.send_json({"type": "auth", "access_token": hub_client.token})
        assert await socket.receive_json(timeout=5) == {"type": "auth_ok", "ha_version": HA_VERSION}
        await socket.send_json({"id": 1, "type": "ping"})
        assert await socket.receive_json(timeout=5) == {"id": 1, "type": "pong"}


async def test_invalid_token_is_refused_and_closed(hub_client: HubClient) -> None:
    socket = await _open(hub_client)
    async with socket:
        await socket.receive_json(timeout=5)
        await socket.send_json({"type": "auth", "access_token": "not-a-token"})
        answer = await socket.receive_json(timeout=5)
        assert answer == {"type": "auth_invalid", "message": "Invalid access token or password"}
        closing = await socket.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_malformed_auth_messages_are_refused(hub_client: HubClient) -> None:
    for message in (b"not json", b'{"type": "hello"}', b'{"type": "auth", "access_token": 5}'):
        socket = await _open(hub_client)
        async with socket:
            await socket.receive_json(timeout=5)
            await socket.send_str(message.decode())
            answer = await socket.receive_json(timeout=5)
            assert answer["type"] == "auth_invalid", message
            assert answer["message"].startswith("Auth message incorrectly formatted"), answer
    # No token at all (api_password is not supported): invalid credentials.
    socket = await _open(hub_client)
    async with socket:
        await socket.receive_json(timeout=5)
        await socket.send_json({"type": "auth", "api_password": "secret"})
        assert (await socket.receive_json(timeout=5))["type"] == "auth_invalid"


async def test_a_deactivated_user_cannot_connect(community: Community) -> None:
    from linli.auth import get_auth

    await get_auth(community.admin.hub).async_update_user(community.staff.user.id, is_active=False)
    socket = await _open(community.staff)
    async with socket:
        await socket.receive_json(timeout=5)
        await socket.send_json({"type": "auth", "access_token": community.staff.token})
        assert (await socket.receive_json(timeout=5))["type"] == "auth_invalid"


async def test_message_rules(hub_client: HubClient) -> None:
    async with connect(hub_client) as ws:
        socket = ws.socket
        # Not a command: no id, a string id, no type.
        for bad in ({"type": "ping"}, {"id": "1", "type": "ping"}, {"id": 5}):
            await socket.send_json(bad)
            answer = await socket.receive_json(timeout=5)
            assert answer["success"] is False
            assert answer["error"] == {
                "code": "invalid_format",
                "message": "Message incorrectly formatted.",
            }
        await socket.send_json({"id": 10, "type": "ping"})
        assert await socket.receive_json(timeout=5) == {"id": 10, "type": "pong"}
        # Ids must increase.
        for reused in (10, 3):
            await socket.send_json({"id": reused, "type": "ping"})
            answer = await socket.receive_json(timeout=5)
            assert answer["id"] == reused
            assert answer["error"]["code"] == "id_reuse"
        await socket.send_json({"id": 11, "type": "no_such/command"})
        answer = await socket.receive_json(timeout=5)
        assert answer == {
            "id": 11,
            "type": "result",
            "success": False,
            "error": {"code": "unknown_command", "message": "Unknown command."},
        }
        # A schema failure names the problem.
        await socket.send_json({"id": 12, "type": "unsubscribe_events"})
        answer = await socket.receive_json(timeout=5)
        assert answer["error"]["code"] == "invalid_format"
        assert "subscription" in answer["error"]["message"]
        # Clients may send several commands in one frame, as an array.
        await socket.send_str(
            orjson.dumps([{"id": 13, "type": "ping"}, {"id": 14, "type": "ping"}]).decode()
        )
        assert await socket.receive_json(timeout=5) == {"id": 13, "type": "pong"}
        assert await socket.receive_json(timeout=5) == {"id": 14, "type": "pong"}


async def test_invalid_json_disconnects(hub_client: HubClient) -> None:
    async with connect(hub_client) as ws:
        await ws.socket.send_str("{nope")
        closing = await ws.socket.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_coalesced_messages_arrive_as_arrays(hub_client: HubClient) -> None:
    hub = hub_client.hub
    async with connect(hub_client) as ws:
        assert await ws.result("supported_features", features={"coalesce_messages": 1}) is None
        sub = await ws.subscribe("subscribe_events", event_type="test_burst")
        for number in range(50):  # in one go, so they queue up before the writer runs
            hub.bus.async_fire("test_burst", {"n": number})
        frames: list[object] = []
        received: list[int] = []
        while len(received) < 50:
            frame = await ws.socket.receive_json(timeout=5)
            frames.append(frame)
            for msg in frame if isinstance(frame, list) else [frame]:
                assert msg["id"] == sub
                assert msg["type"] == "event"
                received.append(msg["event"]["data"]["n"])
        assert received == list(range(50))
        assert any(isinstance(frame, list) and len(frame) > 1 for frame in frames)
        assert len(frames) < 50


async def test_without_coalescing_every_message_is_its_own_frame(hub_client: HubClient) -> None:
    hub = hub_client.hub
    async with connect(hub_client) as ws:
        sub = await ws.subscribe("subscribe_events", event_type="test_burst")
        for number in range(20):
            hub.bus.async_fire("test_burst", {"n": number})
        for number in range(20):
            frame = await ws.socket.receive_json(timeout=5)
            assert isinstance(frame, dict)
            assert frame["id"] == sub
            assert frame["event"]["data"]["n"] == number


async def test_closing_ends_subscriptions(hub_client: HubClient) -> None:
    hub = hub_client.hub
    before = hub.bus.async_listeners().get("test_gone", 0)
    async with connect(hub_client) as ws:
        await ws.subscribe("subscribe_events", event_type="test_gone")
        await ws.subscribe("subscribe_entities")
        assert hub.bus.async_listeners().get("test_gone", 0) == before + 1
        assert active_connections(hub) == 1
    for _ in range(100):
        if active_connections(hub) == 0:
            break
        await asyncio.sleep(0.01)
    assert active_connections(hub) == 0
    assert hub.bus.async_listeners().get("test_gone", 0) == before


async def test_stopping_the_hub_closes_the_sockets(hub_client: HubClient) -> None:
    hub = hub_client.hub
    async with connect(hub_client) as ws:
        await ws.subscribe("subscribe_events")
        stopping = asyncio.ensure_future(hub.async_stop())
        closing = None
        while closing is None:
            msg = await ws.socket.receive(timeout=5)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                closing = msg
        await asyncio.wait_for(stopping, 5)
    assert active_connections(hub) == 0


async def test_auth_timeout(hub_config: str, tmp_path: object) -> None:
    """A client that never authenticates is dropped after ``auth_timeout``."""
    from pathlib import Path

    from linli.testing.http import async_hub_client, async_start_served_hub

    assert isinstance(tmp_path, Path)
    hub = await async_start_served_hub(
        tmp_path / "hub", extra_config="websocket_api:\n  auth_timeout: 0.2\n"
    )
    try:
        async with async_hub_client(hub) as client:
            socket = await _open(client)
            async with socket:
                assert (await socket.receive_json(timeout=5))["type"] == "auth_required"
                closing = await socket.receive(timeout=5)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        await hub.async_stop()


async def test_ws_client_helper_sees_every_message(hub_client: HubClient) -> None:
    async with connect(hub_client) as ws:
        assert isinstance(ws, WSClient)
        await ws.result_of_ping()
