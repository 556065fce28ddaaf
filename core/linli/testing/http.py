"""Test helpers for the HTTP, REST and WebSocket APIs: a hub served on a free port and clients.

``hub_client`` (a pytest fixture in :mod:`linli.testing.plugin`) starts a hub from a small
configuration with every bundled integration, its HTTP server on 127.0.0.1 and a free port,
and gives a :class:`HubClient` authenticated as an admin. Override the ``hub_config`` fixture
(extra YAML) and ``hub_plugins`` (extra integration plugins) to shape that hub.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from linli.bootstrap import async_setup_hub

if TYPE_CHECKING:
    from linli.auth import Role, User
    from linli.clock import Clock
    from linli.hub import Hub
    from linli.testing.ws import WSClient

HTTP_CONFIG = """\
http:
  server_host: 127.0.0.1
  server_port: 0
"""
"""Added unless the extra configuration has its own ``http:`` section."""


class HubClient:
    """REST (and WebSocket) access to a served hub as one user."""

    def __init__(self, hub: Hub, session: aiohttp.ClientSession, user: User, token: str) -> None:
        """Talk to ``hub`` through ``session`` with ``token``."""
        from linli.components.http import get_http

        self.hub = hub
        self.session = session
        self.user = user
        self.token = token
        self.base_url = f"http://127.0.0.1:{get_http(hub).port}"

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of this client."""
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.base_url + path

    def request(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> aiohttp.client._RequestContextManager:
        """Send a request (``async with client.request(...) as resp``, or await it)."""
        headers = {**(self.headers if auth else {}), **kwargs.pop("headers", {})}
        return self.session.request(method, self.url(path), headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """GET ``path``; the body is read, so ``await resp.json()`` works after."""
        return await self._send("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """POST ``path`` (``json=`` for a JSON body)."""
        return await self._send("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """DELETE ``path``."""
        return await self._send("DELETE", path, **kwargs)

    async def _send(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        async with self.request(method, path, **kwargs) as response:
            await response.read()
            return response

    async def as_user(
        self,
        role: Role | str,
        *,
        name: str | None = None,
        area_ids: Iterable[str] = (),
        person_id: str | None = None,
    ) -> HubClient:
        """Return a client for a new user of ``role`` on the same hub and session."""
        from linli.auth.testing import async_user_with_token

        user, token = await async_user_with_token(
            self.hub, role, name=name, area_ids=tuple(area_ids), person_id=person_id
        )
        return HubClient(self.hub, self.session, user, token)

    @asynccontextmanager
    async def ws(self) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """Connect to ``/api/websocket`` and complete the auth phase; yield the socket."""
        async with self.session.ws_connect(self.url("/api/websocket")) as socket:
            hello = await socket.receive_json(timeout=5)
            assert hello["type"] == "auth_required", hello
            await socket.send_json({"type": "auth", "access_token": self.token})
            answer = await socket.receive_json(timeout=5)
            assert answer["type"] == "auth_ok", answer
            yield socket

    @asynccontextmanager
    async def ws_client(self) -> AsyncIterator[WSClient]:
        """Connect as :meth:`ws` does; yield a :class:`~linli.testing.ws.WSClient` on it."""
        from linli.testing.ws import WSClient

        async with self.ws() as socket:
            yield WSClient(socket)


async def async_start_served_hub(
    config_dir: Path,
    *,
    clock: Clock | None = None,
    extra_config: str = "",
    plugins: Iterable[tuple[str, object]] = (),
    files: Mapping[str, str] | None = None,
) -> Hub:
    """Write ``extra_config`` (plus, without its own ``http:``, 127.0.0.1 on any free port)
    as configuration.yaml, and ``files`` beside it; start a hub from it."""
    extra = textwrap.dedent(extra_config).strip("\n") + "\n"
    has_http = any(line.startswith("http:") for line in extra.splitlines())
    text = extra if has_http else extra + HTTP_CONFIG
    written = {"configuration.yaml": text, **(files or {})}

    def write() -> None:
        config_dir.mkdir(parents=True, exist_ok=True)
        for name, content in written.items():
            (config_dir / name).write_text(textwrap.dedent(content), encoding="utf-8")

    await asyncio.get_running_loop().run_in_executor(None, write)
    return await async_setup_hub(config_dir, clock=clock, plugins=plugins, discover=False)


@asynccontextmanager
async def async_hub_client(hub: Hub) -> AsyncIterator[HubClient]:
    """Yield an admin client of a served ``hub`` (its session closed after)."""
    from linli.auth.testing import async_user_with_token

    user, token = await async_user_with_token(hub, "admin", name="test-admin")
    async with aiohttp.ClientSession() as session:
        yield HubClient(hub, session, user, token)
