"""``POST /auth/token`` over a real server: password and refresh grants, revoke, lock-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.auth import get_auth
from linli.clock import FakeClock
from linli.components.http import get_http
from linli.hub import Hub

from .conftest import Community

PASSWORD = "correct horse battery"


@async_fixture
async def client(served: tuple[Hub, Community]) -> AsyncIterator[tuple[Hub, aiohttp.ClientSession]]:
    """The served hub with a user ``root`` (admin, password set) and a client session."""
    hub, _ = served
    await get_auth(hub).async_create_user("root", "admin", password=PASSWORD)
    base = f"http://127.0.0.1:{get_http(hub).port}"
    async with aiohttp.ClientSession(base_url=base) as session:
        yield hub, session


async def token(session: aiohttp.ClientSession, **fields: str) -> tuple[int, Any, Any]:
    async with session.post("/auth/token", data=fields) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body, response.headers


async def test_password_grant_gives_tokens_that_open_the_api(
    client: tuple[Hub, aiohttp.ClientSession],
) -> None:
    _hub, session = client
    status, body, headers = await token(
        session, grant_type="password", username="root", password=PASSWORD
    )
    assert status == 200
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    async with session.get("/api/", headers=bearer) as response:
        assert response.status == 200
    async with session.get("/api/", headers={"Authorization": "Bearer nonsense"}) as response:
        assert response.status == 401


async def test_json_bodies_work_too(client: tuple[Hub, aiohttp.ClientSession]) -> None:
    _, session = client
    payload = {"grant_type": "password", "username": "root", "password": PASSWORD}
    async with session.post("/auth/token", json=payload) as response:
        assert response.status == 200
        assert "access_token" in await response.json()


async def test_bad_credentials_get_oauth_errors(client: tuple[Hub, aiohttp.ClientSession]) -> None:
    _, session = client
    status, body, _ = await token(
        session, grant_type="password", username="root", password="wrong password"
    )
    assert status == 400
    assert body == {"error": "invalid_grant", "error_description": "invalid username or password"}
    status, body, _ = await token(session, grant_type="password", username="root")
    assert (status, body["error"]) == (400, "invalid_request")
    status, body, _ = await token(session, grant_type="authorization_code", code="x")
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body, _ = await token(session, grant_type="refresh_token", refresh_token="lnr_bad")
    assert (status, body["error"]) == (400, "invalid_grant")
    async with session.post(
        "/auth/token", data=b"[1, 2]", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400


async def test_refresh_and_revoke(
    client: tuple[Hub, aiohttp.ClientSession], clock: FakeClock
) -> None:
    _, session = client
    _, body, _ = await token(session, grant_type="password", username="root", password=PASSWORD)
    refresh = body["refresh_token"]
    clock.advance(1801)
    old = {"Authorization": f"Bearer {body['access_token']}"}
    async with session.get("/api/", headers=old) as response:
        assert response.status == 401  # expired on the hub's clock
    status, renewed, _ = await token(session, grant_type="refresh_token", refresh_token=refresh)
    assert status == 200
    assert set(renewed) == {"access_token", "expires_in", "token_type"}
    bearer = {"Authorization": f"Bearer {renewed['access_token']}"}
    async with session.get("/api/", headers=bearer) as response:
        assert response.status == 200
    async with session.post("/auth/token", data={"action": "revoke", "token": refresh}) as response:
        assert response.status == 200
    async with session.get("/api/", headers=bearer) as response:
        assert response.status == 401
    status, body, _ = await token(session, grant_type="refresh_token", refresh_token=refresh)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_lock_out_answers_429_with_retry_after(
    client: tuple[Hub, aiohttp.ClientSession], clock: FakeClock
) -> None:
    _, session = client
    for _ in range(5):
        status, _, _ = await token(
            session, grant_type="password", username="root", password="wrong password"
        )
        assert status == 400
    status, body, headers = await token(
        session, grant_type="password", username="root", password=PASSWORD
    )
    assert status == 429
    assert headers["Retry-After"] == "900"
    assert body["error"] == "too_many_requests"
    clock.advance(900)
    status, _, _ = await token(session, grant_type="password", username="root", password=PASSWORD)
    assert status == 200


async def test_a_long_lived_token_is_a_bearer_token(
    client: tuple[Hub, aiohttp.ClientSession],
) -> None:
    hub, session = client
    auth = get_auth(hub)
    root = await auth.async_get_user_by_name("root")
    assert root is not None
    long_lived = await auth.async_create_long_lived_token(root.id, "test")
    async with session.get("/api/", headers={"Authorization": f"Bearer {long_lived}"}) as response:
        assert response.status == 200
