"""The shipped ``linli/tailgating_alert.yaml`` and ``linli/group_rental_review.yaml`` end to end,
with the simulator's face terminals.

The terminals are ``linli_demo.terminal``'s: an ``IsapiTerminal`` pushing Hikvision ISAPI
events over real HTTP to the hub's webhook, and a ``FaceTerminal`` on its own MQTT connection
to the shared broker, asking the hub about each card swiped with the face its camera saw. The
faces and the card are ``linli_demo.identity``'s synthetic ones; the hub runs mqtt and
face_access.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import linli_face_access
import linli_mqtt
from linli.components.http import get_http
from linli_demo.identity import capture, card_number, face_vector
from linli_demo.terminal import Answer, FaceTerminal, IsapiTerminal, SubEvent
from linli_mqtt.testing import async_clear_retained, async_wait_until, mqtt_broker

__all__ = ["mqtt_broker"]

WEBHOOK_ID = "scenario-hik-4d1e8f0a7b2c"

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


@pytest.fixture
async def face_community(community: Any, mqtt_broker: tuple[str, int]) -> AsyncIterator[Any]:
    """The scenario community with face_access (and mqtt on the shared broker) running."""
    prefix = f"linli_test/{uuid.uuid4().hex}"
    config = community.config_dir / "configuration.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + _face_access(mqtt_broker, prefix), encoding="utf-8"
    )
    community.plugins += [("mqtt", linli_mqtt), ("face_access", linli_face_access)]
    community.prefix = prefix
    community.write_automations(AUTOMATIONS)
    await community.start()
    yield community
    await async_clear_retained(*mqtt_broker, f"{prefix}/#")


def _hikvision(community: Any) -> IsapiTerminal:
    """The door's Hikvision terminal, pushing to its webhook on the hub."""
    port = get_http(community.hub).port
    return IsapiTerminal(
        "hik-b1-02", "b1", "192.0.2.10", url=f"http://127.0.0.1:{port}/api/webhook/{WEBHOOK_ID}"
    )


@pytest.fixture
async def terminal(
    face_community: Any, mqtt_broker: tuple[str, int]
) -> AsyncIterator[FaceTerminal]:
    """The door's MQTT face terminal, connected to the broker as itself."""
    device = FaceTerminal(
        "t-b1-01",
        "b1",
        "1号楼大门",
        prefix=f"{face_community.prefix}/linli",
        clock=face_community.clock.utcnow,
    )
    link = device.make_link(*mqtt_broker)
    await link.async_connect()
    yield device
    link.disconnect()


async def test_tailgating_raises_an_alert_with_the_snapshot(face_community: Any) -> None:
    hub = face_community.hub
    hik = _hikvision(face_community)
    event = hik.event(SubEvent.TAILGATING, face_community.now())
    async with aiohttp.ClientSession() as session:
        for _ in range(2):  # the terminal re-sends the same record: one alert, one occurrence
            assert await hik.async_push(session, event) == 200
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
    hik = _hikvision(face_community)
    event = hik.event(SubEvent.REVERSE_PASSING, face_community.now())
    async with aiohttp.ClientSession() as session:
        assert await hik.async_push(session, event, picture=False) == 200
    await face_community.hub.async_block_till_done()
    (alert,) = face_community.alerts()
    assert alert.kind == "reverse_passing"
    assert [e.kind for e in alert.evidence] == ["state"]


async def test_a_card_used_by_many_faces_is_flagged_for_review_once_a_day(
    face_community: Any, terminal: FaceTerminal
) -> None:
    from linli_face_access import get_face_access

    hub = face_community.hub
    people = hub.registries.people
    household = people.async_create_household("1-1-1201", ["b1-u1-1201"])
    owner = people.async_create_person("Zhang Wei", household_id=household.id)
    people.async_create_person("Zhang Min", household_id=household.id)
    card = card_number(owner.id)
    await get_face_access(hub).async_issue("card", person_id=owner.id, card_no=card)
    used: list[Any] = []
    hub.bus.async_listen("face_access_credential_used", used.append)
    rng = random.Random(7)

    async def swipe(tenant: int) -> None:
        """The card at the door, held by a face nobody enrolled; the hub opens for the card."""
        seen = capture(face_vector(f"tenant-{tenant}"), rng)
        payload = terminal.card_event(card, face_community.clock.utcnow(), capture=seen)
        assert await terminal.async_access(payload) is Answer.OPEN
        terminal.relock()
        await async_wait_until(lambda: len(used) == tenant, 5, f"use {tenant}")
        await hub.async_block_till_done()

    for tenant in (1, 2, 3):  # three different faces: not more than the limit
        await swipe(tenant)
    assert face_community.alerts() == []
    assert used[-1].data["distinct_people_today"] == 3
    assert used[-1].data["household_members"] == 2

    await swipe(4)  # a fourth different face the same day
    await swipe(5)
    (alert,) = face_community.alerts()
    assert alert.kind == "group_rental_review"
    assert alert.severity.value == "info"
    assert alert.assignee == "role:grid_worker"
    assert alert.dedup_key == f"group_rental:{used[0].data['credential_id']}:2026-03-01"
    assert alert.occurrences == 2
    assert "nothing has been blocked" in (alert.message or "")
    # A flag, never a sanction: the card is not revoked and still opens the door.
    stored = await get_face_access(hub).store.async_find_card(card)
    assert stored is not None
    assert stored.revoked_ts is None
    await swipe(6)
    assert [a.id for a in face_community.alerts()] == [alert.id]
    assert terminal.opened == 6
