"""The simulated face terminals and plate gates on the real wire: Mosquitto and real HTTP.

The hub's side is played by a plain MQTT client and a small aiohttp server, so what is checked
is the devices' behaviour and the formats of the contract, not a particular parser.
"""

from __future__ import annotations

import asyncio
import base64
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
import paho.mqtt.client as mqtt
import pytest
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion

from linli_demo.gate import AnprGate, Outcome, camera_serial
from linli_demo.identity import (
    PlateColor,
    capture,
    encode_template,
    face_vector,
    stranger,
)
from linli_demo.terminal import Answer, FaceTerminal, IsapiTerminal, SubEvent

from .conftest import Watcher
from .contract import (
    ALARM_INFO_PLATE,
    ANPR_GATE_EVENT,
    ANPR_GATE_STATE,
    FACE_TERMINAL_EVENT,
    ISAPI_EVENT,
    checker,
    template_dims,
)

NOW = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
check_event = checker(FACE_TERMINAL_EVENT, envelope=True)


# ---------------------------------------------------------------------- the hub's side
@dataclass
class FakeHub:
    """A plain MQTT client playing the hub's side: it sends commands."""

    client: mqtt.Client

    def send(self, topic: str, payload: dict[str, Any]) -> None:
        self.client.publish(topic, orjson.dumps(payload), qos=1)


@pytest.fixture
def fake_hub(broker: tuple[str, int]) -> Iterator[FakeHub]:
    """A client of its own that sends the hub's commands (the watcher sees the devices)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hub-{uuid.uuid4().hex[:8]}")
    client.connect(*broker)
    client.loop_start()
    hub = FakeHub(client)
    yield hub
    client.disconnect()
    client.loop_stop()


def seen(watcher: Watcher, suffix: str) -> list[dict[str, Any]]:
    """JSON payloads the watcher saw on topics ending with ``suffix``."""
    return [
        orjson.loads(payload)
        for topic in dict.fromkeys(watcher.topics())
        if topic.endswith(suffix)
        for payload in watcher.payloads(topic)
        if payload.startswith(b"{")
    ]


async def until(check: Callable[[], object], within: float = 5.0) -> None:
    """Wait until ``check()`` is true."""
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


@pytest.fixture
async def terminal(broker: tuple[str, int], watcher: Watcher) -> AsyncIterator[FaceTerminal]:
    """A face terminal connected to Mosquitto under the watcher's prefix."""
    device = FaceTerminal(
        f"t-{uuid.uuid4().hex[:6]}", "b1-u1", "1号楼1单元 人脸门禁", prefix=watcher.prefix
    )
    await device.make_link(*broker).async_connect()
    yield device
    assert device.link is not None
    device.link.disconnect()


# ---------------------------------------------------------------------- face terminals
def test_face_terminal_messages_follow_the_contract() -> None:
    device = FaceTerminal("t1", "b1-u1", "Door", run_id="r")
    face = face_vector("p1")
    first = device.face_event(capture(face, random.Random(1)), NOW, b"\xff\xd8jpeg")
    check_event(first)
    assert first["type"] == "access"
    assert (first["method"], first["result"]) == ("face", "request")
    assert template_dims(first["template"]) == 128
    assert base64.b64decode(first["snapshot"]) == b"\xff\xd8jpeg"
    assert first["area_id"] == "b1-u1"  # the first message says where it is
    assert first["device"]["manufacturer"] == "Linli demo"
    card = device.card_event("0123456789", NOW)
    check_event(card)
    assert (card["method"], card["result"], card["card_no"]) == ("card", "request", "0123456789")
    assert "area_id" not in card
    assert card["id"] != first["id"]
    assert "template" not in card
    seen = device.card_event("0123456789", NOW, capture=capture(face, random.Random(4)))
    check_event(seen)
    assert template_dims(seen["template"]) == 128  # the face at the swipe, for the hub
    device.templates["p1"] = face
    device.on_device = True
    granted = device.face_event(capture(face, random.Random(2)), NOW)
    check_event(granted)
    assert (granted["result"], granted["person_ref"]) == ("granted", "p1")
    assert 0.9 < granted["score"] <= 1
    unknown = device.face_event(stranger(random.Random(3)), NOW)
    assert unknown["result"] == "request"  # the hub may know the face


async def test_terminal_asks_the_hub_and_obeys_its_answer(
    terminal: FaceTerminal, watcher: Watcher, fake_hub: FakeHub
) -> None:
    command = terminal.topic("command")
    face = face_vector("p1")

    async def answer(command_name: str) -> None:
        await until(lambda: len(seen(watcher, "/event")) > answered)
        request = seen(watcher, "/event")[-1]
        check_event(request)
        fake_hub.send(command, {"command": command_name, "request_id": request["id"]})

    answered = 0
    asking = asyncio.ensure_future(terminal.async_access(terminal.face_event(face, NOW)))
    await answer("open")
    assert await asking is Answer.OPEN
    assert terminal.door == "open"
    terminal.relock()

    answered = 1
    asking = asyncio.ensure_future(terminal.async_access(terminal.card_event("42", NOW)))
    await answer("deny")
    assert await asking is Answer.DENY
    assert terminal.door == "closed"
    assert [c["command"] for c in terminal.commands] == ["open", "deny"]

    # An answer to another request does not open this one; no answer at all times out.
    fake_hub.send(command, {"command": "open", "request_id": "someone-else"})
    await until(lambda: len(terminal.commands) == 3)
    terminal.relock()
    payload = terminal.face_event(face, NOW)
    assert await terminal.async_access(payload, wait=0.3) is Answer.TIMEOUT
    assert terminal.door == "closed"


async def test_terminal_enrols_matches_on_the_device_and_deletes_on_command(
    terminal: FaceTerminal, watcher: Watcher, fake_hub: FakeHub
) -> None:
    command = terminal.topic("command")
    face = face_vector("p7")
    fake_hub.send(
        command, {"command": "enroll_face", "person_ref": "p7", "template": encode_template(face)}
    )
    await until(lambda: "p7" in terminal.templates)
    assert terminal.templates["p7"] == pytest.approx(face, abs=1e-6)

    terminal.on_device = True
    rng = random.Random(4)
    assert await terminal.async_access(terminal.face_event(capture(face, rng), NOW)) is Answer.OPEN
    await until(lambda: seen(watcher, "/event"))
    granted = seen(watcher, "/event")[-1]
    assert (granted["result"], granted["person_ref"]) == ("granted", "p7")

    fake_hub.send(command, {"command": "delete_person", "person_ref": "p7"})
    await until(lambda: any(e["type"] == "person_deleted" for e in seen(watcher, "/event")))
    assert "p7" not in terminal.templates
    confirmation = next(e for e in seen(watcher, "/event") if e["type"] == "person_deleted")
    check_event(confirmation)
    assert confirmation["person_ref"] == "p7"

    # Without the template, the same face goes to the hub again.
    payload = terminal.face_event(capture(face, rng), NOW)
    assert payload["result"] == "request"

    # Garbage on the command topic is ignored, the terminal goes on.
    terminal.link.publish(command, b"not json")  # type: ignore[union-attr]
    fake_hub.send(command, {"command": "self_destruct"})
    fake_hub.send(command, {"command": "enroll_face", "person_ref": "p8", "template": "AAAA"})
    await asyncio.sleep(0.3)
    assert "p8" not in terminal.templates


async def test_terminal_says_online_and_gets_its_last_will(
    broker: tuple[str, int], watcher: Watcher
) -> None:
    device = FaceTerminal("t-will", "b1-u1", "Door", prefix=watcher.prefix)
    await device.make_link(*broker).async_connect()
    availability = device.topic("availability")
    await until(lambda: watcher.payloads(availability))
    assert device.link is not None
    device.link.kill()
    await until(lambda: watcher.payloads(availability)[-1:] == [b"offline"])
    assert watcher.payloads(availability) == [b"online", b"offline"]
    assert device.report("tailgating", NOW) is False  # nothing goes out while it is down


async def test_tailgating_and_reverse_passing_reports(
    terminal: FaceTerminal, watcher: Watcher
) -> None:
    assert terminal.report("tailgating", NOW, snapshot=b"\xff\xd8x\xff\xd9")
    assert terminal.report("reverse_passing", NOW)
    await until(lambda: len(seen(watcher, "/event")) == 2)
    first, second = seen(watcher, "/event")
    for event in (first, second):
        check_event(event)
    assert first["type"] == "tailgating"
    assert "snapshot" in first
    assert second["type"] == "reverse_passing"


# ---------------------------------------------------------------------- a small HTTP "hub"
@dataclass
class Server:
    """An aiohttp server recording what the devices post and answering as told."""

    url: str
    runner: web.AppRunner | None = None
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    answer: str = "ok"
    status: int = 200

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies posted (UTF-8, else GB18030, as a hub reads them)."""
        return [orjson.loads(_text(body)) for _, body in self.requests]


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_server(server: Server, port: int) -> web.AppRunner:
    async def handle(request: web.Request) -> web.Response:
        server.requests.append((request.headers.get("Content-Type", ""), await request.read()))
        if server.status != 200:
            return web.json_response({"message": "busy"}, status=server.status)
        return web.json_response(
            {
                "Response_AlarmInfoPlate": {
                    "info": server.answer,
                    "channelNum": 0,
                    "content": "retransfer_stop",
                    "is_pay": "false",
                    "serialData": [],
                }
            }
        )

    app = web.Application()
    app.router.add_post("/api/webhook/{webhook_id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def http_hub() -> AsyncIterator[tuple[Server, int]]:
    """A running server and its port."""
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}/api/webhook/gate-hook-0123456789")
    server.runner = await start_server(server, port)
    yield server, port
    await server.runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as client:
        yield client


# ---------------------------------------------------------------------- the Hikvision terminal
async def test_isapi_terminal_posts_multipart_with_a_picture(
    http_hub: tuple[Server, int], session: aiohttp.ClientSession
) -> None:
    server, _ = http_hub
    hik = IsapiTerminal("hik-1", "north-gate", "192.168.10.64", url=server.url, serial=1000)
    hik.enrolled.add("p1")
    assert await hik.async_push(session, hik.face("p1", NOW)) == 200
    assert await hik.async_push(session, hik.face("p2", NOW)) == 200
    assert await hik.async_push(session, hik.card("p2", "0042", NOW), picture=False) == 200
    assert await hik.async_push(session, hik.event(SubEvent.TAILGATING, NOW)) == 200
    check = checker(ISAPI_EVENT)
    events = []
    for content_type, body in server.requests:
        assert content_type.startswith("multipart/form-data; boundary=")
        parts = _parts(content_type, body)
        event = orjson.loads(parts["AccessControllerEvent"][1])
        assert parts["AccessControllerEvent"][0] == "application/json"
        check(event)
        events.append((event["AccessControllerEvent"], "Picture" in parts))
        if "Picture" in parts:
            assert parts["Picture"][0] == "image/jpeg"
            assert parts["Picture"][1].startswith(b"\xff\xd8")
    assert [(e["subEventType"], e.get("employeeNoString"), pic) for e, pic in events] == [
        (75, "p1", True),  # a face the terminal knows: passed
        (76, None, True),  # a face it does not: failed
        (1, "p2", False),  # a valid card
        (0x85, None, True),  # tailgating
    ]
    assert [e["serialNo"] for e, _ in events] == [1001, 1002, 1003, 1004]
    assert events[2][0]["cardNo"] == "0042"
    assert hik.opened == 2


def _parts(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """Split a multipart/form-data body: name → (content type, bytes)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"')
    parts = {}
    for chunk in body.split(b"--" + boundary.encode())[1:-1]:
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        name = headers["Content-Disposition"].split('name="', 1)[1].split('"', 1)[0]
        parts[name] = (headers["Content-Type"], content)
    return parts


# ---------------------------------------------------------------------- ANPR gates
def gate(url: str | None, **kwargs: Any) -> AnprGate:
    return AnprGate(
        "north-in",
        "car-park",
        "北门入口",
        "192.168.20.11",
        camera_serial("north-in"),
        url=url,
        **kwargs,
    )


async def test_gate_pushes_the_lpr_format_and_obeys_the_answer(
    http_hub: tuple[Server, int], session: aiohttp.ClientSession
) -> None:
    server, _ = http_hub
    lane = gate(server.url)
    assert await lane.async_push(session, "湘AD12345", PlateColor.GREEN, NOW) is Outcome.OPEN
    assert lane.barrier == "open"
    lane.lower_barrier()
    server.answer = "no"
    assert await lane.async_push(session, "湘A12345", PlateColor.BLUE, NOW) is Outcome.DENY
    assert lane.barrier == "closed"
    assert lane.answers == ["ok", "no"]
    check = checker(ALARM_INFO_PLATE)
    first, second = server.bodies()
    for body in (first, second):
        check(body)
    result = first["AlarmInfoPlate"]["result"]["PlateResult"]
    assert result["license"] == "湘AD12345"
    assert result["colorType"] == 5
    assert result["isoffline"] == 0
    assert result["timeStamp"]["Timeval"] == {"sec": int(NOW.timestamp()), "usec": 0}
    assert first["AlarmInfoPlate"]["serialno"] == camera_serial("north-in")
    plateids = [b["AlarmInfoPlate"]["result"]["PlateResult"]["plateid"] for b in (first, second)]
    assert plateids[1] == plateids[0] + 1
    assert server.requests[0][0] == "application/json"


async def test_gate_writes_gb18030_when_its_vendor_does(
    http_hub: tuple[Server, int], session: aiohttp.ClientSession
) -> None:
    server, _ = http_hub
    lane = gate(server.url, encoding="gb18030")
    assert await lane.async_push(session, "湘AD12345", PlateColor.GREEN, NOW) is Outcome.OPEN
    raw = server.requests[0][1]
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "湘AD12345" in raw.decode("gb18030")


async def test_gate_keeps_records_while_the_hub_is_down_and_repushes_them(
    http_hub: tuple[Server, int], session: aiohttp.ClientSession
) -> None:
    server, port = http_hub
    lane = gate(server.url)

    def pushed(bodies: list[dict[str, Any]], key: str) -> list[Any]:
        return [b["AlarmInfoPlate"]["result"]["PlateResult"][key] for b in bodies]

    # The hub is busy (5xx): the record is kept, the barrier stays down.
    server.status = 503
    assert await lane.async_push(session, "湘A11111", PlateColor.BLUE, NOW) is Outcome.BUFFERED
    server.status = 200
    # The hub is gone altogether: nothing listens on its port.
    assert server.runner is not None
    await server.runner.cleanup()
    for plate in ("湘A22222", "湘A33333"):
        assert await lane.async_push(session, plate, PlateColor.BLUE, NOW) is Outcome.BUFFERED
    assert await lane.async_flush(session) == 0  # still down: kept, in order
    assert pushed(list(lane.buffer), "license") == ["湘A11111", "湘A22222", "湘A33333"]
    assert lane.barrier == "closed"
    assert lane.opened == 0

    # The hub is back: the next car is answered, then the kept records go, oldest first.
    server.runner = await start_server(server, port)
    before = len(server.requests)
    assert await lane.async_push(session, "湘A44444", PlateColor.BLUE, NOW) is Outcome.OPEN
    assert not lane.buffer
    bodies = server.bodies()[before:]
    assert pushed(bodies, "license") == ["湘A44444", "湘A11111", "湘A22222", "湘A33333"]
    assert pushed(bodies, "isoffline") == [0, 1, 1, 1]
    check = checker(ALARM_INFO_PLATE)
    for body in bodies:
        check(body)
    # Only the live car opened the barrier; a re-push never does.
    assert lane.opened == 1
    # A re-push keeps the record's identity (serialno, plateid, time), so the hub can tell
    # it from a new car: the first, unanswered try of 湘A11111 and its re-push share it.
    first_try, repush = server.bodies()[0], bodies[1]

    def key(body: dict[str, Any]) -> tuple[Any, ...]:
        result = body["AlarmInfoPlate"]["result"]["PlateResult"]
        time = result["timeStamp"]["Timeval"]
        return (body["AlarmInfoPlate"]["serialno"], result["plateid"], time["sec"], time["usec"])

    assert key(first_try) == key(repush)
    assert len({key(b) for b in bodies}) == 4


async def test_gate_repushes_on_its_own_until_acknowledged(
    http_hub: tuple[Server, int], session: aiohttp.ClientSession
) -> None:
    server, _ = http_hub
    lane = gate(server.url)
    server.status = 500
    for plate in ("湘A55555", "湘A66666"):
        assert await lane.async_push(session, plate, PlateColor.BLUE, NOW) is Outcome.BUFFERED
    assert await lane.async_flush(session) == 0
    assert len(lane.buffer) == 2
    server.status = 200
    assert await lane.async_flush(session) == 2
    assert not lane.buffer
    assert await lane.async_flush(session) == 0


async def test_mqtt_gate_sends_plates_and_obeys_commands(
    broker: tuple[str, int], watcher: Watcher, fake_hub: FakeHub
) -> None:
    lane = AnprGate(
        "south-out",
        "car-park",
        "南门出口",
        "192.168.20.12",
        camera_serial("south-out"),
        protocol="mqtt",
        direction="out",
        prefix=watcher.prefix,
    )
    await lane.make_link(*broker).async_connect()
    try:
        assert lane.send_plate("湘AF12345", PlateColor.GREEN, NOW) is Outcome.SENT
        await until(lambda: seen(watcher, "/event"))
        (event,) = seen(watcher, "/event")
        checker(ANPR_GATE_EVENT, envelope=True)(event)
        assert (event["plate"], event["color"], event["direction"]) == ("湘AF12345", "green", "out")
        fake_hub.send(lane.topic("command"), {"command": "open", "read_id": "r1"})
        await until(lambda: lane.barrier == "open")
        fake_hub.send(lane.topic("command"), {"command": "close"})
        await until(lambda: lane.barrier == "closed")
        await until(lambda: len(seen(watcher, "/state")) >= 3)
        states = seen(watcher, "/state")
        check_state = checker(ANPR_GATE_STATE, envelope=True)
        for state in states:
            check_state(state)
        assert [s["barrier"] for s in states] == ["closed", "open", "closed"]
        assert states[0]["area_id"] == "car-park"  # the hello says where it is
    finally:
        assert lane.link is not None
        lane.link.disconnect()
