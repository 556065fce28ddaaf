"""Withdrawing face consent reaches a Hikvision terminal over ISAPI: a fake terminal on
127.0.0.1 that demands HTTP Digest authentication (MD5, qop=auth) and answers the user delete
as the device does; then the same withdrawal against wrong credentials, a closed port and a
terminal that never answers."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

import linli_face_access.access
from linli.testing.community import Community
from linli_mqtt.testing import async_wait_until

from .conftest import WEBHOOK_ID, FaceTerminal, b64, grant_face_consent, template

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover
    async_fixture = pytest.fixture  # type: ignore[assignment]

DELETE_PATH = "/ISAPI/AccessControl/UserInfo/Delete"
USERNAME = "admin"
PASSWORD = "Hik12345!"
REALM = "DS-K1T671M"
HIK_ID = "hik-b1-02"
OK = {"statusCode": 1, "statusString": "OK", "subStatusCode": "ok"}
DIGEST_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def md5(text: str) -> str:
    """Hex MD5 of UTF-8 text."""
    return hashlib.md5(text.encode()).hexdigest()


def digest_params(header: str) -> dict[str, str] | None:
    """The parameters of a ``Digest`` Authorization header (None for another scheme)."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m[1].lower(): m[2] or m[3] for m in DIGEST_PARAM.finditer(rest)}


@dataclass
class Received:
    """One request as the fake terminal saw it."""

    method: str
    path_qs: str
    authenticated: bool
    username: str | None
    body: Any


@dataclass
class HikvisionTerminal:
    """A fake Hikvision access terminal: digest auth and the ISAPI user delete.

    ``password`` is what it accepts, ``silent`` never answers, ``answer`` replaces its OK.
    """

    password: str = PASSWORD
    silent: bool = False
    answer: web.Response | None = None
    received: list[Received] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)

    def challenge(self) -> web.Response:
        """401 with a fresh Digest challenge, as the device answers unauthenticated requests."""
        nonce = secrets.token_hex(16)
        self.nonces.add(nonce)
        header = f'Digest qop="auth", realm="{REALM}", nonce="{nonce}", stale="FALSE"'
        return web.Response(
            status=401,
            headers={"WWW-Authenticate": header},
            content_type="application/xml",
            text='<?xml version="1.0" encoding="UTF-8"?>\n<userCheck><statusValue>401'
            "</statusValue><statusString>Unauthorized</statusString></userCheck>",
        )

    def authenticated(self, request: web.Request) -> str | None:
        """The user a valid Digest response authenticates (RFC 2617, MD5, qop=auth), or None."""
        params = digest_params(request.headers.get("Authorization", ""))
        if params is None or params.get("username") != USERNAME:
            return None
        if params.get("realm") != REALM or params.get("nonce") not in self.nonces:
            return None
        if params.get("qop") != "auth" or params.get("uri") != request.path_qs:
            return None
        if not params.get("nc") or not params.get("cnonce"):
            return None
        if params.get("algorithm", "MD5").upper() != "MD5":
            return None
        ha1 = md5(f"{USERNAME}:{REALM}:{self.password}")
        ha2 = md5(f"{request.method}:{params['uri']}")
        expected = md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        return USERNAME if secrets.compare_digest(expected, params.get("response", "")) else None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``PUT /ISAPI/AccessControl/UserInfo/Delete?format=json``."""
        if self.silent:
            await asyncio.Event().wait()
        user = self.authenticated(request)
        body = await request.json() if request.can_read_body else None
        self.received.append(
            Received(request.method, request.path_qs, user is not None, user, body)
        )
        if user is None:
            return self.challenge()
        return self.answer or web.json_response(OK)

    def deletes(self) -> list[Received]:
        """The authenticated deletes received."""
        return [r for r in self.received if r.authenticated]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_terminal() -> HikvisionTerminal:
    """The fake terminal's behaviour (override in a test through its fields)."""
    return HikvisionTerminal()


@pytest.fixture
def closed_port(request: pytest.FixtureRequest) -> int | None:
    """With the indirect parameter True, a port nothing listens on to point the hub at
    instead of serving the fake terminal; None otherwise."""
    return free_port() if getattr(request, "param", False) else None


@async_fixture
async def hik_address(
    fake_terminal: HikvisionTerminal, closed_port: int | None
) -> AsyncIterator[int]:
    """The port of the fake terminal on 127.0.0.1, served for the test."""
    if closed_port is not None:
        yield closed_port
        return
    app = web.Application()
    app.router.add_put(DELETE_PATH, fake_terminal.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield int(port)
    finally:
        await runner.cleanup()


@pytest.fixture
def hub_config(hub_config: str, hik_address: int) -> str:
    """The shared doors, with the Hikvision terminal reachable for commands."""
    webhook_only = f"{{id: {HIK_ID}, kind: hikvision, webhook_id: {WEBHOOK_ID}}}"
    assert webhook_only in hub_config
    with_host = (
        f"{{id: {HIK_ID}, kind: hikvision, webhook_id: {WEBHOOK_ID}, host: 127.0.0.1, "
        f"port: {hik_address}, username: {USERNAME}, password: '{PASSWORD}'}}"
    )
    return hub_config.replace(webhook_only, with_host)


async def enrol_and_withdraw(community: Community) -> tuple[str, float]:
    """Enrol 1201's face under consent, withdraw it; return the person and how long it took."""
    person = community.person_1201
    consent_id = await grant_face_consent(community.resident, person)
    async with community.resident.ws_client() as ws:
        await ws.result("face_access/enroll_face", person_id=person, template=b64(template(1)))
    started = time.monotonic()
    response = await community.resident.post(f"/api/linli/consents/{consent_id}/withdraw")
    assert response.status == 200, await response.text()
    return person, time.monotonic() - started


async def credentials_of(community: Community, person: str) -> dict[str, Any]:
    """The person's credentials as the API lists them."""
    response = await community.resident.get(f"/api/linli/credentials?person_id={person}")
    assert response.status == 200, await response.text()
    listed: list[dict[str, Any]] = await response.json()
    return listed[0]


def hik_deletion(listed: dict[str, Any]) -> dict[str, Any]:
    """The Hikvision terminal's row of ``terminal_deletions``."""
    (row,) = [d for d in listed["terminal_deletions"] if d["terminal_id"] == HIK_ID]
    return row


async def assert_erased_but_unverified(
    community: Community, terminal: FaceTerminal, caplog: pytest.LogCaptureFixture, person: str
) -> dict[str, Any]:
    """The rest of the erasure happened; the terminal's deletion is pending, logged, with why."""
    listed = await credentials_of(community, person)
    assert listed["face"] == {"enrolled": 0, "templates": []}
    assert listed["snapshots"] == 0
    row = hik_deletion(listed)
    assert row["verified"] is None
    assert row["error"]
    await async_wait_until(lambda: bool(terminal.commands("delete_person")), 5, "the MQTT delete")
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and HIK_ID in r.getMessage()
    ]
    assert warnings, "the failed terminal deletion is not logged"
    assert row["error"] in warnings[0]
    # The hub goes on: the API still answers and the person's card can still be issued.
    response = await community.admin.post(
        "/api/linli/credentials", json={"type": "card", "person_id": person, "card_no": "C0FFEE01"}
    )
    assert response.status == 201, await response.text()
    return row


async def test_withdrawal_deletes_the_person_on_the_terminal(
    community: Community, terminal: FaceTerminal, fake_terminal: HikvisionTerminal
) -> None:
    person, _ = await enrol_and_withdraw(community)

    assert len(fake_terminal.deletes()) == 1
    delete = fake_terminal.deletes()[0]
    assert delete.method == "PUT"
    assert delete.path_qs == f"{DELETE_PATH}?format=json"
    assert delete.username == USERNAME
    assert delete.body == {"UserInfoDelCond": {"EmployeeNoList": [{"employeeNo": person}]}}
    # Everything else it saw was the unauthenticated first try that fetched the challenge.
    assert all(r.body == delete.body for r in fake_terminal.received if not r.authenticated)

    listed = await credentials_of(community, person)
    row = hik_deletion(listed)
    assert row["verified"] is not None
    assert row["error"] is None
    assert listed["face"] == {"enrolled": 0, "templates": []}


async def test_wrong_password_leaves_the_deletion_pending(
    community: Community,
    terminal: FaceTerminal,
    fake_terminal: HikvisionTerminal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_terminal.password = "someone-changed-it"
    person, _ = await enrol_and_withdraw(community)

    assert fake_terminal.received, "the terminal was never asked"
    assert not fake_terminal.deletes()
    row = await assert_erased_but_unverified(community, terminal, caplog, person)
    assert "401" in row["error"]


@pytest.mark.parametrize("closed_port", [True], indirect=True)
async def test_unreachable_terminal_leaves_the_deletion_pending(
    community: Community,
    terminal: FaceTerminal,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person, took = await enrol_and_withdraw(community)

    assert took < 5
    row = await assert_erased_but_unverified(community, terminal, caplog, person)
    assert str(closed_port) in row["error"]


async def test_silent_terminal_times_out(
    community: Community,
    terminal: FaceTerminal,
    fake_terminal: HikvisionTerminal,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(linli_face_access.access, "ISAPI_TIMEOUT", 0.5)
    fake_terminal.silent = True
    person, took = await enrol_and_withdraw(community)

    assert took < 5
    row = await assert_erased_but_unverified(community, terminal, caplog, person)
    assert "0.5" in row["error"]


@pytest.mark.parametrize(
    ("answer", "reported"),
    [
        (
            web.json_response(
                {
                    "requestURL": f"{DELETE_PATH}?format=json",
                    "statusCode": 6,
                    "statusString": "Invalid Content",
                    "subStatusCode": "badJsonContent",
                },
                status=400,
            ),
            "HTTP 400: Invalid Content (badJsonContent)",
        ),
        (
            web.Response(text="<html><body>Welcome</body></html>", content_type="text/html"),
            "HTTP 200: not an ISAPI status",
        ),
    ],
    ids=["isapi_error", "not_isapi"],
)
async def test_only_an_isapi_ok_verifies_the_deletion(
    community: Community,
    terminal: FaceTerminal,
    fake_terminal: HikvisionTerminal,
    caplog: pytest.LogCaptureFixture,
    answer: web.Response,
    reported: str,
) -> None:
    fake_terminal.answer = answer
    person, _ = await enrol_and_withdraw(community)

    assert len(fake_terminal.deletes()) == 1
    row = await assert_erased_but_unverified(community, terminal, caplog, person)
    assert reported in row["error"]
