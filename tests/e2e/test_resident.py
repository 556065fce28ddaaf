"""The resident pages in the browser, on a hub with door access (face_access, on the shared
Mosquitto) and a car park gate (plate_gate, its camera played by the simulator's ANPR gate).

The resident is Wang Fang of household 1-1-1201; Li Lei of 1-1-1202 lives next door, and
nothing of his household may show on her pages. The hub's clock stands at 2026-03-01 16:00
in Shanghai, the browser's time zone.
"""

from __future__ import annotations

import asyncio
import json
import random
import struct
import uuid
from base64 import b64encode
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect

import linli_face_access
import linli_frontend
import linli_mqtt
import linli_plate_gate
from linli.clock import FakeClock
from linli.testing.community import SAMPLE_AREAS, Community
from linli_demo.gate import AnprGate, Outcome
from linli_mqtt.testing import MqttPeer, async_clear_retained, mqtt_broker, mqtt_peer, mqtt_section

from .conftest import UI, async_set_password

__all__ = ["mqtt_broker", "mqtt_peer"]

GATE_HOOK = "e2e-north-in-4b7d0c2e9a15f368"
CARD_1201 = "A1B2C3D4"
CARD_1202 = "F9E8D7C6"
VISITOR = "粤BD12345"
NEIGHBOUR_CAR = "川A8N8N8"
NEIGHBOUR_VISITOR = "沪A99999"


@pytest.fixture
def base_topic() -> str:
    """This test's own MQTT topic tree."""
    return f"linli_test/{uuid.uuid4().hex}"


@pytest.fixture
def hub_config(mqtt_broker: tuple[str, int], base_topic: str) -> str:
    """The sample community with the web UI, a door with an MQTT terminal and a car park."""
    return (
        SAMPLE_AREAS
        + "\nfrontend:\n"
        + mqtt_section(mqtt_broker, base_topic)
        + f"""face_access:
  doors:
    - id: b1_main
      name: Building 1 main door
      area_id: b1
      methods: [face, card, qr, pin]
      terminals:
        - {{id: t-b1-01, kind: mqtt}}
plate_gate:
  car_parks:
    - {{id: p1, name: North car park, area_id: b1, capacity: 50}}
  gates:
    - {{id: north-in, name: North entrance, car_park: p1, direction: in, kind: http,
        webhook_id: {GATE_HOOK}}}
"""
    )


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The web UI, mqtt, door access and the plate gate."""
    return [
        ("frontend", linli_frontend),
        ("mqtt", linli_mqtt),
        ("face_access", linli_face_access),
        ("plate_gate", linli_plate_gate),
    ]


@pytest_asyncio.fixture
async def neighbours(
    community: Community, mqtt_broker: tuple[str, int], base_topic: str
) -> AsyncIterator[Community]:
    """The community, with the MQTT topics of this test cleared afterwards."""
    yield community
    await async_clear_retained(*mqtt_broker, f"{base_topic}/#")


def _gate(ui: UI, clock: FakeClock) -> AnprGate:
    return AnprGate(
        gate_id="north-in",
        area_id="b1",
        name="North entrance",
        ip="192.0.2.21",
        serialno="e2e-north-in",
        url=f"{ui.base_url}/api/webhook/{GATE_HOOK}",
        clock=clock.utcnow,
    )


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def _card(community: Community, person_id: str, card_no: str) -> None:
    await _ok(
        await community.admin.post(
            "/api/linli/credentials",
            json={"type": "card", "person_id": person_id, "card_no": card_no},
        ),
        201,
    )


async def _swipe(community: Community, peer: MqttPeer, base_topic: str, card_no: str) -> None:
    """A card held to the door's terminal, which asks the hub."""
    message = {
        "v": 1,
        "id": f"m-{uuid.uuid4().hex[:12]}",
        "type": "access",
        "method": "card",
        "result": "request",
        "card_no": card_no,
    }
    await peer.async_publish(f"{base_topic}/linli/face_terminal/t-b1-01/event", json.dumps(message))


async def _resident_page(ui: UI, community: Community, fragment: str, title: str) -> None:
    name = await async_set_password(community.resident)
    await ui.open()
    await ui.login(name)
    await ui.page.locator(f"#nav a[href='#{fragment}']").click()
    await expect(ui.page.locator("h1")).to_have_text(title)


async def test_household_and_history_are_the_residents_own(
    ui: UI,
    neighbours: Community,
    clock: FakeClock,
    mqtt_peer: Any,
    base_topic: str,
    hub_client: Any,
) -> None:
    """Her household, her door passages and her cars at the gate; none of her neighbour's."""
    community = neighbours
    await _card(community, community.person_1201, CARD_1201)
    await _card(community, community.person_1202, CARD_1202)
    peer = await mqtt_peer()
    await _swipe(community, peer, base_topic, CARD_1201)
    await _swipe(community, peer, base_topic, CARD_1202)
    rows: list[Any] = []
    for _ in range(100):  # the terminal's requests travel through the broker
        rows = await _ok(await community.admin.get("/api/linli/access_log"))
        if len(rows) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 2, rows

    await _ok(
        await community.admin.post(
            "/api/linli/plates",
            json={"household_id": community.household_1202, "plate": NEIGHBOUR_CAR},
        ),
        201,
    )
    await _ok(
        await community.resident.post(
            "/api/linli/visitor_passes",
            json={
                "plate": VISITOR,
                "color": "green",
                "start": "2026-03-01T15:00",
                "end": "2026-03-01T20:00",
            },
        ),
        201,
    )
    gate = _gate(ui, clock)
    assert await gate.async_push(hub_client.session, VISITOR, 5) is Outcome.OPEN
    assert await gate.async_push(hub_client.session, NEIGHBOUR_CAR, 1) is Outcome.OPEN

    await _resident_page(ui, community, "/household", "我的家庭")
    members = ui.page.locator("#household-members li")
    await expect(members).to_have_count(1)
    await expect(members).to_contain_text("Wang Fang")
    await expect(members).to_contain_text("家庭成员")
    await expect(ui.page.locator("#household-rooms li")).to_have_text(["1201"])
    await expect(ui.page.locator("main")).not_to_contain_text("Li Lei")
    await expect(ui.page.locator("main")).not_to_contain_text("1202")
    await ui.screenshot("resident-household")

    await ui.page.locator("#nav a[href='#/access']").click()
    await expect(ui.page.locator("h1")).to_have_text("出入记录")
    doors = ui.page.locator("#access-log li")
    await expect(doors).to_have_count(1)
    await expect(doors).to_contain_text("已放行")
    await expect(doors).to_contain_text("门禁 b1_main")
    await expect(doors).to_contain_text("门卡")
    await expect(doors).to_contain_text("Wang Fang")
    gates = ui.page.locator("#gate-log li")
    await expect(gates).to_have_count(1)
    await expect(gates).to_have_attribute("data-plate", VISITOR)
    await expect(gates).to_contain_text("已抬杆")
    await expect(gates).to_contain_text("访客")
    main = ui.page.locator("main")
    for foreign in ("Li Lei", NEIGHBOUR_CAR, CARD_1201, CARD_1202):
        await expect(main).not_to_contain_text(foreign)
    await ui.screenshot("resident-access")

    # What the page shows is what the hub gives her: the hub refuses the neighbour's data.
    other = community.household_1202
    assert (
        await community.resident.get(f"/api/linli/access_log?household_id={other}")
    ).status == 404
    assert (await community.resident.get(f"/api/linli/gate_log?household_id={other}")).status == 404


async def test_visitor_plate_opens_the_gate(
    ui: UI, neighbours: Community, clock: FakeClock, hub_client: Any
) -> None:
    """She registers her visitor's plate (after a plate the hub refuses); the gate opens for
    it inside the window, the page shows the pass used, and she deletes it."""
    community = neighbours
    ui.expect_console_error(r"status of 400")
    await _ok(
        await community.other_resident.post(
            "/api/linli/visitor_passes",
            json={
                "plate": NEIGHBOUR_VISITOR,
                "start": "2026-03-01T15:00",
                "end": "2026-03-01T20:00",
            },
        ),
        201,
    )
    await _resident_page(ui, community, "/visitors", "访客车辆")
    await expect(ui.page.locator("#passes .empty")).to_have_text("暂无登记的访客车辆。")

    page = ui.page
    await page.get_by_label("车牌号").fill("粤BIO123")
    await page.get_by_label("开始时间").fill("2026-03-01T15:00")
    await page.get_by_label("结束时间").fill("2026-03-01T20:00")
    await page.get_by_role("button", name="登记").click()
    error = page.locator("#visitor-error")
    await expect(error).to_have_text("车牌号无效。请检查字符（序号中不含 I 和 O）和位数。")
    await expect(page.get_by_label("车牌号")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("车牌号")).to_be_focused()
    await ui.screenshot("resident-visitors-error")

    await page.get_by_label("结束时间").fill("2026-03-01T14:00")
    await page.get_by_label("车牌号").fill(VISITOR)
    await page.get_by_role("button", name="登记").click()
    await expect(error).to_have_text("结束时间必须晚于开始时间。")

    await page.get_by_label("结束时间").fill("2026-03-01T20:00")
    await page.get_by_label("车牌颜色").select_option("green")
    await page.get_by_label("备注（可选）").fill("Aunt Li")
    await page.get_by_role("button", name="登记").click()
    passes = page.locator("#visitor-passes li")
    await expect(passes).to_have_count(1)
    await expect(passes).to_have_attribute("data-plate", VISITOR)
    await expect(passes).to_contain_text("尚未使用")
    await expect(passes).to_contain_text("Aunt Li")
    await expect(error).to_be_empty()
    await expect(page.locator("main")).not_to_contain_text(NEIGHBOUR_VISITOR)

    gate = _gate(ui, clock)
    assert await gate.async_push(hub_client.session, VISITOR, 5) is Outcome.OPEN
    assert gate.barrier == "open"
    await page.get_by_role("button", name="刷新").click()
    await expect(passes.locator(".resident-used")).to_contain_text("已入场 1 次，首次")
    await ui.screenshot("resident-visitors")

    clock.advance(5 * 3600)  # 21:00 in Shanghai: the window is over
    # Hours passed on the hub's clock: the page's access token expired; it is renewed once.
    ui.expect_console_error(r"status of 401")
    assert await gate.async_push(hub_client.session, VISITOR, 5) is Outcome.DENY

    await page.get_by_role("button", name=f"删除 {VISITOR} 的访客通行证").click()
    await expect(page.locator("#passes .empty")).to_have_text("暂无登记的访客车辆。")
    passes_left = await _ok(await community.resident.get("/api/linli/visitor_passes"))
    assert passes_left == []
    others = await _ok(await community.other_resident.get("/api/linli/visitor_passes"))
    assert [entry["plate"] for entry in others] == [NEIGHBOUR_VISITOR]


def _template(seed: int) -> str:
    """A synthetic face template (nobody's face): a seeded unit vector, base64 float32 LE."""
    rng = random.Random(seed)
    vector = [rng.gauss(0, 1) for _ in range(128)]
    norm = sum(value * value for value in vector) ** 0.5
    return b64encode(struct.pack("<128f", *(value / norm for value in vector))).decode()


async def test_face_consent_withdrawal_erases_face_data(ui: UI, neighbours: Community) -> None:
    """She agrees to face recognition, her face is enrolled, she withdraws in the page: the
    API then has no face template of hers. Her card (last four only) and a one-time visitor
    QR code are on the same page."""
    community = neighbours
    person = community.person_1201
    await _card(community, person, CARD_1201)
    await _resident_page(ui, community, "/consent", "人脸识别与通行方式")
    page = ui.page
    state = page.locator("#consent-state")
    await expect(state).to_have_text("您尚未同意人脸识别。")
    await expect(page.locator("#face-notice")).to_contain_text("撤回后，系统立即删除")
    ways = page.locator("#ways-in li")
    await expect(ways).to_have_text(["门卡（尾号 C3D4）有效"])
    await expect(page.locator("main")).not_to_contain_text(CARD_1201)

    await page.get_by_role("button", name="我同意人脸识别").click()
    await expect(state).to_contain_text("您已同意人脸识别")
    consents = await _ok(await community.resident.get(f"/api/linli/consents?person_id={person}"))
    assert [(c["data_kind"], c["method"], c["active"]) for c in consents] == [("face", "app", True)]

    async with community.resident.ws_client() as ws:
        enrolled = await ws.result(
            "face_access/enroll_face", person_id=person, template=_template(1)
        )
    assert enrolled["person_id"] == person
    await page.reload()
    await expect(page.locator("#face-data")).to_have_text("系统中的人脸数据：1 条特征值。")

    await page.get_by_label("给谁（可选）").fill("Cousin")
    await page.get_by_role("button", name="生成通行码").click()
    code = await page.locator("#qr-code").inner_text()
    assert len(code) >= 24
    picture = page.locator("#qr-picture")
    await expect(picture).to_have_attribute("aria-label", "访客在门口出示的二维码")
    await expect(picture.locator("svg path")).to_be_visible()
    listed = await _ok(
        await community.resident.get(
            f"/api/linli/credentials?household_id={community.household_1201}"
        )
    )
    (visitor_code,) = listed[-1]["visitor_codes"]
    assert visitor_code["label"] == "Cousin"
    assert visitor_code["active"] is True
    assert code not in json.dumps(listed)  # the token is shown once, never listed
    await ui.screenshot("resident-consent")

    await page.get_by_role("button", name="撤回同意…").click()
    await page.get_by_role("button", name="撤回并删除我的人脸数据").click()
    await expect(state).to_have_text("您尚未同意人脸识别。")
    await expect(page.locator("#face-data")).to_have_text("系统中没有您的人脸数据。")
    await expect(page.locator("#face-deletions")).to_have_text(
        "已向 1 台门禁终端发送删除指令，已确认 0 台。"
    )
    await expect(page.locator("#consent-status")).to_have_text(
        "已撤回同意，您的人脸数据已从系统中删除。"
    )
    await ui.screenshot("resident-consent-withdrawn")

    (mine,) = await _ok(await community.resident.get(f"/api/linli/credentials?person_id={person}"))
    assert mine["face"] == {"enrolled": 0, "templates": []}
    assert mine["snapshots"] == 0
    consents = await _ok(await community.resident.get(f"/api/linli/consents?person_id={person}"))
    assert [c["active"] for c in consents] == [False]
    # The neighbour's credentials stay out of her reach.
    other = community.person_1202
    assert (await community.resident.get(f"/api/linli/credentials?person_id={other}")).status == 404
