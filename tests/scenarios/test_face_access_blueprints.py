"""The shipped ``linli/tailgating_alert.yaml`` and ``linli/group_rental_review.yaml``, driven
through the face_access integration: a Hikvision terminal pushing over HTTP and an MQTT face
terminal on the shared broker (synthetic templates, generated JPEG-shaped bytes)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import numpy as np
import pytest

import linli_face_access
import linli_mqtt
from linli.components.http import get_http
from linli_mqtt.testing import async_wait_until, mqtt_broker, mqtt_peer

__all__ = ["mqtt_broker", "mqtt_peer"]

WEBHOOK_ID = "scenario-hik-4d1e8f0a7b2c"
CARD = "C0FFEE42"

AUTOMATIONS = """\
- id: tailgating
  alias: 尾随告警
  use_blueprint:
    path: linli/tailgating_alert.yaml
    input: {}
- id: group_rental
  alias: 群租核查
  use_blueprint:
    path: linli/group_rental_review.yaml
    input:
      max_distinct_people: 3
      max_uses_per_member: 4
"""


def _face_access(broker: tuple[str, int], prefix: str) -> str:
    return f"""
mqtt:
  broker: {broker[0]}
  port: {broker[1]}
  discovery_prefix: {prefix}/homeassistant
  devices: {{topic_prefix: {prefix}/linli}}
face_access:
  store_snapshots: true
  doors:
    - id: b1_main
      name: 1号楼大门
      area_id: b1
      terminals:
        - {{id: t-b1-01, kind: mqtt}}
        - {{id: hik-b1-02, kind: hikvision, webhook_id: {WEBHOOK_ID}}}
"""


def _jpeg(seed: int) -> bytes:
    filler = np.random.default_rng(seed).integers(1, 254, 200, dtype=np.uint8).tobytes()
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + filler
        + b"\xff\xd9"
    )


def _face(seed: int) -> str:
    import base64

    vector = np.random.default_rng(seed).standard_normal(128).astype("<f4")
    return base64.b64encode(vector.tobytes()).decode()


def _multipart(event: dict[str, Any], picture: bytes | None) -> tuple[bytes, str]:
    boundary = "MIME_boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="AccessControllerEvent"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + json.dumps(event).encode()
        + b"\r\n"
    )
    if picture is not None:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="Picture"; '
                'filename="Picture.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + picture
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
async def face_community(community: Any, mqtt_broker: tuple[str, int]) -> Any:
    """The scenario community with face_access (and mqtt on the shared broker) configured."""
    prefix = f"linli_test/{uuid.uuid4().hex}"
    config = community.config_dir / "configuration.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + _face_access(mqtt_broker, prefix), encoding="utf-8"
    )
    community.plugins += [("mqtt", linli_mqtt), ("face_access", linli_face_access)]
    community.prefix = prefix
    community.write_automations(AUTOMATIONS)
    await community.start()
    return community


async def test_tailgating_raises_an_alert_with_the_snapshot(face_community: Any) -> None:
    hub = face_community.hub
    event = {
        "ipAddress": "192.0.2.10",
        "dateTime": "2026-03-01T16:00:00+08:00",
        "eventType": "AccessControllerEvent",
        "AccessControllerEvent": {
            "majorEventType": 5,
            "subEventType": 0x85,
            "serialNo": 901,
            "currentVerifyMode": "cardOrFace",
        },
    }
    body, content_type = _multipart(event, _jpeg(1))
    url = f"http://127.0.0.1:{get_http(hub).port}/api/webhook/{WEBHOOK_ID}"
    async with aiohttp.ClientSession() as session:
        for _ in range(2):  # the terminal re-sends the same record: one alert, one occurrence
            async with session.post(url, data=body, headers={"Content-Type": content_type}) as r:
                assert r.status == 200, await r.text()
    await hub.async_block_till_done()
    (alert,) = face_community.alerts()
    assert alert.kind == "tailgating"
    assert alert.area_id == "b1"
    assert alert.assignee == "role:staff"
    assert alert.occurrences == 1
    (evidence,) = alert.evidence
    assert evidence.kind == "snapshot"
    assert evidence.ref.startswith("/api/linli/face_access/snapshots/")
    assert alert.source_entity_id == alert.data["door_entity_id"]
    assert hub.states.get(alert.source_entity_id) is not None


async def test_reverse_passing_without_snapshot_points_at_the_door(face_community: Any) -> None:
    hub = face_community.hub
    event = {
        "eventType": "AccessControllerEvent",
        "dateTime": "2026-03-01T16:00:00+08:00",
        "AccessControllerEvent": {"majorEventType": 5, "subEventType": 0x86, "serialNo": 7},
    }
    url = f"http://127.0.0.1:{get_http(hub).port}/api/webhook/{WEBHOOK_ID}"
    async with aiohttp.ClientSession() as session, session.post(url, json=event) as response:
        assert response.status == 200
    await hub.async_block_till_done()
    (alert,) = face_community.alerts()
    assert alert.kind == "reverse_passing"
    assert [e.kind for e in alert.evidence] == ["state"]


async def test_a_card_used_by_many_faces_is_flagged_for_review_once_a_day(
    face_community: Any, mqtt_peer: Any
) -> None:
    from linli_face_access import get_face_access

    hub = face_community.hub
    people = hub.registries.people
    household = people.async_create_household("1-1-1201", ["b1-u1-1201"])
    owner = people.async_create_person("Zhang Wei", household_id=household.id)
    people.async_create_person("Zhang Min", household_id=household.id)
    await get_face_access(hub).async_issue("card", person_id=owner.id, card_no=CARD)
    peer = await mqtt_peer()
    topic = f"{face_community.prefix}/linli/face_terminal/t-b1-01/event"
    used: list[Any] = []
    hub.bus.async_listen("face_access_credential_used", used.append)

    async def swipe(face_seed: int) -> None:
        message = {
            "v": 1,
            "id": uuid.uuid4().hex,
            "type": "access",
            "method": "card",
            "result": "granted",
            "card_no": CARD,
            "template": _face(face_seed),
        }
        await peer.async_publish(topic, json.dumps(message))

    for seed in (1, 2, 3):  # three different faces: not more than the limit
        await swipe(seed)
    await async_wait_until(lambda: len(used) == 3, 5, "three uses")
    await hub.async_block_till_done()
    assert face_community.alerts() == []
    assert used[-1].data["distinct_people_today"] == 3
    assert used[-1].data["household_members"] == 2

    await swipe(4)  # a fourth different face the same day
    await swipe(5)
    await async_wait_until(lambda: len(used) == 5, 5, "five uses")
    await hub.async_block_till_done()
    (alert,) = face_community.alerts()
    assert alert.kind == "group_rental_review"
    assert alert.severity.value == "info"
    assert alert.assignee == "role:grid_worker"
    assert alert.dedup_key == f"group_rental:{used[0].data['credential_id']}:2026-03-01"
    assert alert.occurrences == 2
    assert "nothing has been blocked" in (alert.message or "")
    # A flag, never a sanction: the card still opens the door.
    card = await get_face_access(hub).store.async_find_card(CARD)
    assert card is not None
    assert card.revoked_ts is None
