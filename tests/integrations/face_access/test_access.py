"""Decisions, credentials, permissions, bad input, Hikvision pushes and privacy, over the real
broker and HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linli.audit import async_query
from linli.bus import Event
from linli.privacy import get_privacy
from linli.testing.community import Community
from linli_face_access import get_face_access
from linli_mqtt.devices import devices_diagnostics
from linli_mqtt.testing import async_wait_until

from .conftest import (
    CARD,
    WEBHOOK_ID,
    FaceTerminal,
    b64,
    grant_face_consent,
    near,
    template,
    tiny_jpeg,
)


def _listen(community: Community, event_type: str) -> list[Event[Any]]:
    events: list[Event[Any]] = []
    community.admin.hub.bus.async_listen(event_type, events.append)
    return events


async def test_enrolment_needs_consent_and_always_leaves_a_non_biometric_way_in(
    community: Community, terminal: FaceTerminal
) -> None:
    person = community.person_1201
    async with community.resident.ws_client() as ws:
        message = await ws.call(
            "face_access/enroll_face", person_id=person, template=b64(template(1))
        )
        assert message["success"] is False
        assert "no active consent to face recognition" in message["error"]["message"]
        listed = await ws.result("face_access/credentials/list", person_id=person)
        assert listed[0]["face"]["enrolled"] == 0

        await grant_face_consent(community.resident, person)
        enrolled = await ws.result(
            "face_access/enroll_face", person_id=person, template=b64(template(1))
        )
    # She had no card, QR code or PIN: a personal QR code was issued with the enrolment.
    issued = enrolled["issued"]
    assert issued["credential"]["type"] == "qr"
    assert issued["credential"]["active"] is True
    answer = await terminal.request("qr", qr=issued["qr"])
    assert answer["command"] == "open"
    assert answer["person_ref"] == person
    # Neither templates nor the token are ever listed again.
    listed_text = await (
        await community.admin.get(f"/api/linli/credentials?person_id={person}")
    ).text()
    assert issued["qr"] not in listed_text
    assert b64(template(1))[:40] not in listed_text


async def test_a_resident_reads_only_their_household_log(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    face = get_face_access(hub)
    await face.async_issue("card", person_id=community.person_1201, card_no=CARD)
    await face.async_issue("card", person_id=community.person_1202, card_no="B2B2B2B2")
    assert (await terminal.request("card", card_no=CARD))["command"] == "open"
    assert (await terminal.request("card", card_no="B2B2B2B2"))["command"] == "open"
    await hub.async_block_till_done()

    own = await (await community.resident.get("/api/linli/access_log")).json()
    assert [row["household_id"] for row in own] == [community.household_1201]
    assert own[0]["method"] == "card"
    other = await community.resident.get(
        f"/api/linli/access_log?household_id={community.household_1202}"
    )
    assert other.status == 404
    async with community.resident.ws_client() as ws:
        rows = await ws.result("face_access/log")
        assert [row["household_id"] for row in rows] == [community.household_1201]
        assert await ws.error("face_access/log", household_id=community.household_1202) == (
            "unauthorized"
        )
        assert (
            await ws.error("face_access/credentials/list", household_id=community.household_1202)
            == "not_found"
        )

    # Staff of building 1 and police of building 1 read the door's log, audited.
    for client in (community.staff, community.police):
        rows = await (await client.get("/api/linli/access_log")).json()
        assert len(rows) == 2
        audit = await async_query(hub, user_id=client.user.id, action="read_personal_data")
        assert audit[0]["subject"] == "access_log:scope"
    # The grid worker of building 2 sees nothing of building 1's door.
    assert await (await community.grid_worker.get("/api/linli/access_log")).json() == []
    # Police never read credentials.
    police = await community.police.get(f"/api/linli/credentials?person_id={community.person_1201}")
    assert police.status == 404


async def test_residents_issue_visitor_codes_for_their_own_household_only(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    async with community.resident.ws_client() as ws:
        issued = await ws.result("face_access/visitor_qr", valid_hours=2, label="Aunt")
        assert issued["credential"]["household_id"] == community.household_1201
        assert (
            await ws.error("face_access/visitor_qr", household_id=community.household_1202)
            == "not_found"
        )
        assert (
            await ws.error(
                "face_access/credentials/issue",
                credential_type="card",
                person_id=community.person_1201,
                card_no="C1C1C1C1",
            )
            == "unauthorized"
        )
    used = _listen(community, "face_access_passage")
    assert (await terminal.request("qr", qr=issued["qr"]))["command"] == "open"
    answer = await terminal.request("qr", qr=issued["qr"])  # one time only
    assert (answer["command"], answer["reason"]) == ("deny", "used")
    await hub.async_block_till_done()
    assert used[0].data["household_id"] == community.household_1201

    async with community.resident.ws_client() as ws:
        late = await ws.result("face_access/visitor_qr", valid_hours=1)
    community_clock = hub.clock
    community_clock.advance(3601)  # type: ignore[attr-defined]
    answer = await terminal.request("qr", qr=late["qr"])
    assert (answer["command"], answer["reason"]) == ("deny", "expired")


async def test_pins_are_verified_and_never_shown(
    community: Community, terminal: FaceTerminal
) -> None:
    person = community.person_1201
    async with community.resident.ws_client() as ws:
        issued = await ws.result(
            "face_access/credentials/issue", credential_type="pin", person_id=person, pin="4826"
        )
        assert "qr" not in issued
        assert "4826" not in json.dumps(
            await ws.result("face_access/credentials/list", person_id=person)
        )
        revoked_other = await ws.call(
            "face_access/credentials/issue",
            credential_type="pin",
            person_id=community.person_1202,
            pin="1111",
        )
        assert revoked_other["success"] is False
    assert (await terminal.request("pin", pin="4826", person_ref=person))["command"] == "open"
    assert (await terminal.request("pin", pin="4826"))["command"] == "open"
    assert (await terminal.request("pin", pin="0000"))["reason"] == "wrong_pin"
    response = await community.resident.post(
        f"/api/linli/credentials/{issued['credential']['id']}/revoke"
    )
    assert response.status == 200
    assert (await terminal.request("pin", pin="4826"))["reason"] == "wrong_pin"


async def test_bad_messages_are_rejected_and_counted_and_the_hub_goes_on(
    community: Community, terminal: FaceTerminal, mqtt_peer: Any, mqtt_base_topic: str
) -> None:
    hub = community.admin.hub
    face = get_face_access(hub)
    await face.async_issue("card", person_id=community.person_1201, card_no=CARD)
    stranger = FaceTerminal(await mqtt_peer(), f"{mqtt_base_topic}/linli", "t-unknown")
    await terminal.send(b"{not json")
    await terminal.send({"type": "access", "method": "iris", "result": "request"})
    await terminal.send(
        {"type": "access", "method": "face", "result": "request", "template": "%%%"}
    )
    await terminal.send(
        {"type": "access", "method": "face", "result": "granted", "snapshot": "bm90IGEganBlZw=="}
    )
    await terminal.peer.async_publish(
        terminal.event_topic,
        json.dumps(
            {"v": 1, "type": "access", "method": "card", "result": "request", "card_no": CARD}
        ),
    )
    await stranger.send({"type": "access", "method": "card", "result": "granted", "card_no": CARD})
    bad_template = await terminal.send(
        {"type": "access", "method": "face", "result": "request", "template": b64(template(1, 64))}
    )
    # The hub goes on: a good request after all that is answered.
    assert (await terminal.request("card", card_no=CARD))["command"] == "open"
    assert (await terminal.answer_to(bad_template))["reason"] == "bad_template"

    def counted() -> bool:
        rejected = devices_diagnostics(hub)["rejected"]
        return rejected["invalid_json"] == 1 and rejected["invalid_payload"] == 1

    await async_wait_until(counted, 5, "the broker-level rejections")
    rejected = face.diagnostics()["rejected"]
    assert rejected["bad_template"] == 2
    assert rejected["bad_snapshot"] == 1
    assert rejected["request_without_id"] == 1
    assert rejected["unknown_terminal"] == 1
    await hub.async_block_till_done()
    rows = await face.store.async_query_log()
    assert [(row["method"], row["granted"]) for row in rows] == [("card", True)]
    async with community.admin.ws_client() as ws:
        diagnostics = await ws.result("face_access/diagnostics")
    assert diagnostics["rejected"] == rejected


async def _push(community: Community, body: bytes, content_type: str) -> Any:
    return await community.admin.post(
        f"/api/webhook/{WEBHOOK_ID}", data=body, headers={"Content-Type": content_type}, auth=False
    )


def _hik(minor: int, serial: int, **fields: Any) -> dict[str, Any]:
    return {
        "ipAddress": "192.0.2.10",
        "dateTime": "2026-03-01T16:00:00+08:00",
        "eventType": "AccessControllerEvent",
        "AccessControllerEvent": {
            "majorEventType": 5,
            "subEventType": minor,
            "serialNo": serial,
            "currentVerifyMode": "cardOrFace",
            **fields,
        },
    }


async def test_hikvision_pushes_are_logged_once_with_their_picture(community: Community) -> None:
    hub = community.admin.hub
    passages = _listen(community, "face_access_passage")
    anomalies = _listen(community, "face_access_anomaly")
    picture = tiny_jpeg(5)
    event = json.dumps(_hik(75, 1001, employeeNoString=community.person_1201)).encode()
    body = (
        b'--MIME_boundary\r\nContent-Disposition: form-data; name="AccessControllerEvent"\r\n'
        b"Content-Type: application/json\r\n\r\n" + event + b"\r\n"
        b'--MIME_boundary\r\nContent-Disposition: form-data; name="Picture"; '
        b'filename="Picture.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' + picture + b"\r\n"
        b"--MIME_boundary--\r\n"
    )
    content_type = "multipart/form-data; boundary=MIME_boundary"
    for _ in range(2):
        assert (await _push(community, body, content_type)).status == 200
    tail = json.dumps(_hik(0x85, 1002)).encode()
    assert (await _push(community, tail, "application/json")).status == 200
    bad = await _push(community, b"{broken", "application/json")
    assert bad.status == 400
    assert "Not an access-control event" in (await bad.json())["message"]
    await hub.async_block_till_done()

    (passage,) = passages
    assert passage.data["person_id"] == community.person_1201
    assert passage.data["decided_by"] == "terminal"
    assert passage.data["terminal_id"] == "hik-b1-02"
    (anomaly,) = anomalies
    assert anomaly.data["kind"] == "tailgating"
    rows = await get_face_access(hub).store.async_query_log()
    assert len(rows) == 2
    snapshot = next(row["snapshot_id"] for row in rows if row["method"] == "face")
    assert (get_face_access(hub).store.snapshot_path(snapshot)).read_bytes() == picture
    assert get_face_access(hub).diagnostics()["rejected"]["bad_push"] == 1
    events = get_face_access(hub).events["b1_main"].entity_id
    assert events is not None
    assert hub.states.get(events).attributes["event_type"] == "tailgating"


async def test_privacy_export_and_purge(community: Community, terminal: FaceTerminal) -> None:
    hub = community.admin.hub
    person = community.person_1201
    await grant_face_consent(community.resident, person)
    face = get_face_access(hub)
    await face.async_enroll_face(person, b64(template(1)), None)
    answer = await terminal.request("face", template=b64(near(template(1), 9)))
    assert answer["command"] == "open"
    await hub.async_block_till_done()

    exported = await get_privacy(hub).async_export(person)
    data = exported["data"]
    assert data["face_template"]["count"] == 1
    assert "vector" not in json.dumps(data)
    assert len(data["access_log"]) == 1
    kinds = {kind["name"]: kind for kind in exported["data_kinds"]}
    assert kinds["access_log"]["consent_kind"] is None
    assert kinds["face_template"]["consent_kind"] == "face"
    assert kinds["face_snapshot"]["consent_kind"] == "face"

    hub.clock.advance(181 * 86_400)  # type: ignore[attr-defined]
    purged = await get_privacy(hub).async_purge()
    assert purged["access_log"] == 1
    assert await face.store.async_query_log() == []


@pytest.mark.parametrize("store_snapshots", [False])
async def test_snapshots_are_not_kept_by_default(
    community: Community, terminal: FaceTerminal, store_snapshots: bool
) -> None:
    import base64

    hub = community.admin.hub
    await grant_face_consent(community.resident, community.person_1201)
    await get_face_access(hub).async_enroll_face(community.person_1201, b64(template(1)), None)
    answer = await terminal.request(
        "face",
        template=b64(near(template(1), 4)),
        snapshot=base64.b64encode(tiny_jpeg()).decode(),
    )
    assert answer["command"] == "open"
    await hub.async_block_till_done()
    (row,) = await get_face_access(hub).store.async_query_log()
    assert row["snapshot_id"] is None
    assert not get_face_access(hub).store.snapshot_dir.exists()


async def test_door_entities_and_lint(community: Community) -> None:
    hub = community.admin.hub
    face = get_face_access(hub)
    lock = face.door_entity_id("b1_main")
    assert lock is not None
    assert hub.states.get(lock).state == "locked"
    assert hub.registries.entities.effective_area_id(lock) == "b1"
    assert "lint" not in hub.states.get(lock).attributes
    # Building 2's side door lets people in by face only: a warning, everywhere it shows.
    async with community.admin.ws_client() as ws:
        (issue,) = await ws.result("face_access/lint")
    assert issue["door_id"] == "b2_side"
    assert issue["code"] == "no_non_biometric_method"
    side = face.door_entity_id("b2_side")
    assert side is not None
    assert hub.states.get(side).attributes["lint"] == [issue["message"]]


async def test_routes_of_a_face_access_that_is_gone_answer_503(community: Community) -> None:
    from linli_face_access import DATA

    hub = community.admin.hub
    data = hub.data.pop(DATA)  # as after a failed setup: the routes stay, the state is gone
    try:
        for path in ("/api/linli/access_log", "/api/linli/credentials",
                     "/api/linli/face_access/snapshots/x"):  # fmt: skip
            response = await community.admin.get(path)
            assert response.status == 503, path
            assert (await response.json()) == {"message": "Face access is not set up."}
    finally:
        hub.data[DATA] = data
