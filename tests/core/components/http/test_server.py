"""The HTTP server over real sockets: binding, auth, CORS, size limits, proxies, access log."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import aiohttp
import pytest

from linli.clock import FakeClock
from linli.components.http import CONFIG_SCHEMA, get_http
from linli.components.http.middleware import real_ip
from linli.hub import Hub
from linli.plugins.loader import Status
from linli.testing.http import HubClient, async_hub_client, async_start_served_hub


@pytest.fixture
async def served(tmp_path: Path, clock: FakeClock):  # type: ignore[no-untyped-def]
    """``await served(extra_config)``: a served hub, stopped after the test."""
    hubs: list[Hub] = []

    async def start(extra: str) -> Hub:
        hub = await async_start_served_hub(
            tmp_path / f"c{len(hubs)}", clock=clock, extra_config=extra
        )
        hubs.append(hub)
        return hub

    yield start
    for hub in hubs:
        await hub.async_stop()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINLI_HTTP_SERVER_HOST", raising=False)
    monkeypatch.delenv("LINLI_HTTP_SERVER_PORT", raising=False)
    config = CONFIG_SCHEMA({})
    assert config["server_host"] == ["0.0.0.0", "::"]
    assert config["server_port"] == 8123
    assert config["max_request_size"] == 16 * 1024 * 1024
    monkeypatch.setenv("LINLI_HTTP_SERVER_PORT", "0")
    monkeypatch.setenv("LINLI_HTTP_SERVER_HOST", "127.0.0.1")
    assert CONFIG_SCHEMA({})["server_port"] == 0
    assert CONFIG_SCHEMA({})["server_host"] == ["127.0.0.1"]
    assert CONFIG_SCHEMA({"server_port": 9000})["server_port"] == 9000


def test_tests_never_default_to_8123() -> None:
    assert CONFIG_SCHEMA({})["server_port"] == 0


async def test_binds_a_free_port_and_stops(hub_client: HubClient) -> None:
    server = get_http(hub_client.hub)
    assert server.port not in (0, 8123)
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert (await hub_client.get("/api/")).status == 200
    assert (await hub_client.get("/api/nothing")).status == 404
    await hub_client.hub.async_stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await hub_client.get("/api/")


async def test_port_in_use_fails_only_http(served) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        hub = await served(f"http:\n  server_host: 127.0.0.1\n  server_port: {port}\n")
    records = hub.loader.records
    assert records["http"].status is Status.failed
    assert records["http"].reason == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use "
        "(is another server using that port?)"
    )
    assert records["api"].status is Status.skipped
    assert records["webhook"].status is Status.skipped
    assert records["alert"].status is Status.loaded


async def test_base_url_from_config(served) -> None:  # type: ignore[no-untyped-def]
    hub = await served("http:\n  server_port: 0\n  base_url: https://hub.example.org/\n")
    assert get_http(hub).base_url == "https://hub.example.org"


async def test_cors(served) -> None:  # type: ignore[no-untyped-def]
    hub = await served(
        "http:\n  server_port: 0\n  cors_allowed_origins: [https://app.example.org]\n"
    )
    async with async_hub_client(hub) as client:
        preflight = {
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        }
        response = await client._send("OPTIONS", "/api/states", auth=False, headers=preflight)
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]

        response = await client.get("/api/", headers={"Origin": "https://app.example.org"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
        response = await client.get(
            "/api/", auth=False, headers={"Origin": "https://app.example.org"}
        )
        assert response.status == 401
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"

        evil = {**preflight, "Origin": "https://evil.example.org"}
        response = await client._send("OPTIONS", "/api/states", auth=False, headers=evil)
        assert "Access-Control-Allow-Origin" not in response.headers
        response = await client.get("/api/", headers={"Origin": "https://evil.example.org"})
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_request_size_limit(served) -> None:  # type: ignore[no-untyped-def]
    hub = await served("http:\n  server_port: 0\n  max_request_size: 2048\n")
    async with async_hub_client(hub) as client:
        body = b'{"state": "' + b"x" * 4000 + b'"}'
        response = await client.post("/api/states/sensor.big", data=body)
        assert response.status == 413
        assert await response.json() == {
            "message": "Request body too large: the limit is 2048 bytes."
        }

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(4):
                yield b"x" * 1000

        response = await client.post("/api/states/sensor.big", data=chunks())
        assert response.status == 413
        assert (await client.post("/api/states/sensor.ok", json={"state": "1"})).status == 201
        assert (await client.post("/api/states/sensor.ok", data=io.BytesIO(body))).status == 413


def test_real_ip_honours_only_trusted_proxies() -> None:
    from ipaddress import ip_network

    trusted = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")]
    assert real_ip("127.0.0.1", ["203.0.113.9"], trusted) == "203.0.113.9"
    assert real_ip("192.0.2.1", ["203.0.113.9"], trusted) == "192.0.2.1"  # untrusted peer
    assert real_ip("127.0.0.1", ["1.1.1.1, 203.0.113.9, 10.0.0.2"], trusted) == "203.0.113.9"
    assert real_ip("127.0.0.1", ["garbage"], trusted) == "127.0.0.1"
    assert real_ip("127.0.0.1", ["203.0.113.9"], []) == "127.0.0.1"
    assert real_ip("::ffff:127.0.0.1", ["203.0.113.9"], trusted) == "203.0.113.9"


async def test_trusted_proxy_and_access_log(
    served,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    hub = await served("http:\n  server_port: 0\n  trusted_proxies: [127.0.0.1]\n")
    async with async_hub_client(hub) as client:
        with caplog.at_level("INFO", logger="linli.http.access"):
            await client.get(
                "/api/states?access_token=abc&x=1", headers={"X-Forwarded-For": "203.0.113.9"}
            )
            await client.get("/api/", auth=False)
    lines = [r for r in caplog.records if r.name == "linli.http.access"]
    first, second = (r.getMessage() for r in lines)
    assert first.startswith("GET /api/states?access_token=***&x=1 200 ")
    assert first.endswith(f"user={client.user.id} remote=203.0.113.9")
    assert second.startswith("GET /api/ 401 ")
    assert second.endswith("user=- remote=127.0.0.1")
    assert "abc" not in caplog.text
    assert lines[0].http_status == 200  # type: ignore[attr-defined]
    assert lines[0].http_remote == "203.0.113.9"  # type: ignore[attr-defined]


async def test_untrusted_forwarded_for_is_ignored(
    hub_client: HubClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="linli.http.access"):
        await hub_client.get("/api/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert "remote=127.0.0.1" in caplog.text
    assert "203.0.113.9" not in caplog.text


async def test_auth_token_route_is_served(hub_client: HubClient) -> None:
    response = await hub_client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "nobody", "password": "x"},
        auth=False,
    )
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_grant"


async def test_ws_helper_completes_the_auth_phase(hub_client: HubClient) -> None:
    loader = hub_client.hub.loader
    assert loader is not None
    record = loader.records.get("websocket_api")
    if record is None or record.status is not Status.loaded:
        pytest.skip("the websocket_api integration is not bundled in this tree yet")
    async with hub_client.ws() as socket:
        await socket.send_json({"id": 1, "type": "ping"})
        assert (await socket.receive_json(timeout=5))["type"] == "pong"
