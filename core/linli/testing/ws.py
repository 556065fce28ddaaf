"""A WebSocket client for tests: numbered commands, results and events matched by id.

``async with hub_client.ws_client() as ws`` (see :class:`~linli.testing.http.HubClient`)::

    states = await ws.result("get_states")
    sub = await ws.subscribe("subscribe_events", event_type="state_changed")
    event = await ws.event(sub)
    assert await ws.error("fire_event", event_type="x") == "unauthorized"
"""

from __future__ import annotations

from collections import deque
from typing import Any

import aiohttp


class WSClient:
    """One authenticated connection: numbered commands, results and events by id."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.last_id = 0
        self.backlog: deque[dict[str, Any]] = deque()
        self.frames = 0
        """How many frames were received (coalesced messages arrive several per frame)."""

    async def send(self, type_: str, **data: Any) -> int:
        """Send a command; return its id."""
        self.last_id += 1
        await self.socket.send_json({"id": self.last_id, "type": type_, **data})
        return self.last_id

    async def receive(self, seconds: float = 5) -> dict[str, Any]:
        """Return the next message (splitting coalesced arrays)."""
        if self.backlog:
            return self.backlog.popleft()
        data = await self.socket.receive_json(timeout=seconds)
        self.frames += 1
        if isinstance(data, list):
            self.backlog.extend(data[1:])
            return dict(data[0])
        return dict(data)

    async def wait_for(
        self, msg_id: int, type_: str = "result", seconds: float = 5
    ) -> dict[str, Any]:
        """Return the next message of ``msg_id`` and ``type_``, keeping the others for later."""
        for index, msg in enumerate(self.backlog):
            if msg.get("id") == msg_id and msg.get("type") == type_:
                del self.backlog[index]
                return msg
        kept: list[dict[str, Any]] = []
        try:
            while True:
                data = await self.socket.receive_json(timeout=seconds)
                self.frames += 1
                for msg in data if isinstance(data, list) else [data]:
                    if msg.get("id") == msg_id and msg.get("type") == type_:
                        return dict(msg)
                    kept.append(msg)
        finally:
            self.backlog.extend(kept)

    async def call(self, type_: str, **data: Any) -> dict[str, Any]:
        """Send a command and return its result message."""
        return await self.wait_for(await self.send(type_, **data))

    async def result(self, type_: str, **data: Any) -> Any:
        """Send a command that must succeed; return its result."""
        msg = await self.call(type_, **data)
        assert msg["success"] is True, msg
        return msg["result"]

    async def error(self, type_: str, **data: Any) -> str:
        """Send a command that must fail; return its error code."""
        msg = await self.call(type_, **data)
        assert msg["success"] is False, msg
        assert set(msg["error"]) >= {"code", "message"}
        return str(msg["error"]["code"])

    async def event(self, msg_id: int, seconds: float = 5) -> Any:
        """Return the next event of subscription ``msg_id``."""
        return (await self.wait_for(msg_id, "event", seconds))["event"]

    async def subscribe(self, type_: str, **data: Any) -> int:
        """Start a subscription; return its id."""
        msg_id = await self.send(type_, **data)
        msg = await self.wait_for(msg_id)
        assert msg["success"] is True, msg
        return msg_id

    async def nothing_for(self, msg_id: int, seconds: float = 0.2) -> None:
        """Check that no event of ``msg_id`` arrives within ``seconds`` (after a ping round)."""
        await self.result_of_ping()
        assert not any(m.get("id") == msg_id for m in self.backlog), list(self.backlog)
        try:
            msg = await self.wait_for(msg_id, "event", seconds=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event: {msg}")

    async def result_of_ping(self) -> None:
        """Round-trip a ping: everything sent before it has been delivered."""
        msg = await self.wait_for(await self.send("ping"), "pong")
        assert msg["type"] == "pong"
