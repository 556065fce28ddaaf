"""Webhooks over a real server: secrets, HMAC signatures, size limits, unknown ids."""

from __future__ import annotations

import hashlib
import hmac
import io
from typing import Any

import pytest
from aiohttp import web

from linli.components.webhook import WebhookError, async_register, async_unregister
from linli.hub import Hub
from linli.testing.http import HubClient

received: list[tuple[str, bytes]] = []


async def handler(hub: Hub, webhook_id: str, request: web.Request) -> web.StreamResponse | None:
    body = await request.read()
    if body == b"bad":
        raise WebhookError("Expected a plate number.", 422)
    if body == b"boom":
        raise RuntimeError("vendor parser broke")
    received.append((webhook_id, body))
    if body == b"json":
        return web.json_response({"ok": True})
    return None


@pytest.fixture(autouse=True)
def clear() -> None:
    received.clear()


async def post(client: HubClient, webhook_id: str, body: bytes, **headers: str) -> Any:
    return await client.post(f"/api/webhook/{webhook_id}", data=body, headers=headers, auth=False)


async def test_webhook_without_secret(hub_client: HubClient) -> None:
    async_register(hub_client.hub, "gate", "Gate", "a" * 32, handler)
    response = await post(hub_client, "a" * 32, b"plate=A1")
    assert response.status == 200
    assert received == [("a" * 32, b"plate=A1")]
    response = await post(hub_client, "a" * 32, b"json")
    assert await response.json() == {"ok": True}
    response = await post(hub_client, "a" * 32, b"bad")
    assert response.status == 422
    assert await response.json() == {"message": "Expected a plate number."}
    response = await post(hub_client, "a" * 32, b"boom")
    assert response.status == 500
    assert await response.json() == {"message": "Webhook handler failed."}
    async_unregister(hub_client.hub, "a" * 32)
    assert (await post(hub_client, "a" * 32, b"x")).status == 404


async def test_shared_secret_and_unknown_ids_look_the_same(hub_client: HubClient) -> None:
    async_register(hub_client.hub, "gate", "Gate", "gate-1", handler, secret="s3cret")
    ok = await post(hub_client, "gate-1", b"1", **{"X-Webhook-Secret": "s3cret"})
    assert ok.status == 200
    wrong = await post(hub_client, "gate-1", b"1", **{"X-Webhook-Secret": "guess"})
    missing = await post(hub_client, "gate-1", b"1")
    unknown = await post(hub_client, "gate-2", b"1", **{"X-Webhook-Secret": "s3cret"})
    answers = {(r.status, await r.text()) for r in (wrong, missing, unknown)}
    assert answers == {(404, '{"message":"Webhook not found."}')}
    assert received == [("gate-1", b"1")]


async def test_hmac_signature(hub_client: HubClient) -> None:
    async_register(
        hub_client.hub, "bins", "Smart bins", "bins", handler, secret="k", hmac_header="X-Sig"
    )
    body = b'{"bin": 7, "full": true}'
    signature = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert (await post(hub_client, "bins", body, **{"X-Sig": signature})).status == 200
    prefixed = f"sha256={signature.upper()}"
    assert (await post(hub_client, "bins", body, **{"X-Sig": prefixed})).status == 200
    assert (await post(hub_client, "bins", body + b" ", **{"X-Sig": signature})).status == 404
    assert (await post(hub_client, "bins", body)).status == 404
    assert len(received) == 2


async def test_size_limit_only_after_authentication(hub_client: HubClient) -> None:
    async_register(
        hub_client.hub,
        "cam",
        "Camera",
        "cam",
        handler,
        secret="k",
        hmac_header="X-Sig",
        max_size=100,
    )
    big = b"x" * 200
    signature = hmac.new(b"k", big, hashlib.sha256).hexdigest()
    response = await post(hub_client, "cam", big, **{"X-Sig": signature})
    assert response.status == 413
    assert "100 bytes" in (await response.json())["message"]
    # Unauthenticated, the webhook's own limit is not revealed.
    assert (await post(hub_client, "cam", big)).status == 404
    # The server's limit applies to every id, known or not.
    huge = b"x" * (17 * 1024 * 1024)
    for webhook_id in ("cam", "nope"):
        response = await hub_client.post(
            f"/api/webhook/{webhook_id}", data=io.BytesIO(huge), auth=False
        )
        assert response.status == 413


async def test_registration_errors(hub_client: HubClient) -> None:
    hub = hub_client.hub
    async_register(hub, "gate", "Gate", "dup", handler)
    with pytest.raises(ValueError, match="already registered"):
        async_register(hub, "gate", "Gate", "dup", handler)
    with pytest.raises(ValueError, match="needs its secret"):
        async_register(hub, "gate", "Gate", "x1", handler, hmac_header="X-Sig")
    with pytest.raises(ValueError, match="without '/'"):
        async_register(hub, "gate", "Gate", "a/b", handler)


async def test_webhook_ids_stay_out_of_the_access_log(
    hub_client: HubClient, caplog: pytest.LogCaptureFixture
) -> None:
    async_register(hub_client.hub, "gate", "Gate", "very-secret-id", handler)
    with caplog.at_level("INFO", logger="linli.http.access"):
        await post(hub_client, "very-secret-id", b"1")
    lines = [r.getMessage() for r in caplog.records if r.name == "linli.http.access"]
    assert lines == [lines[0]]
    assert lines[0].startswith("POST /api/webhook/*** 200 ")
    assert "very-secret-id" not in caplog.text
