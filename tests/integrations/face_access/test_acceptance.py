"""End to end over the real broker and HTTP: in by face with consent; withdrawal erases the
face data (the API shows none, the terminal is told to delete) and the card still works."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from linli.bus import Event
from linli.components.recorder import get_recorder
from linli.db import get_database
from linli.db.models import EventData
from linli.testing.community import Community
from linli_face_access import get_face_access
from linli_mqtt.testing import async_wait_until

from .conftest import (
    CARD,
    FaceTerminal,
    b64,
    grant_face_consent,
    near,
    template,
    tiny_jpeg,
)


async def test_face_with_consent_then_withdrawal_then_card(
    community: Community, terminal: FaceTerminal
) -> None:
    hub = community.admin.hub
    person = community.person_1201
    passages: list[Event[Any]] = []
    hub.bus.async_listen("face_access_passage", passages.append)

    # The property office gives Wang Fang a card; she agrees to face recognition in the app.
    response = await community.admin.post(
        "/api/linli/credentials", json={"type": "card", "person_id": person, "card_no": CARD}
    )
    assert response.status == 201, await response.text()
    consent_id = await grant_face_consent(community.resident, person)
    face = template(1)
    async with community.resident.ws_client() as ws:
        enrolled = await ws.result("face_access/enroll_face", person_id=person, template=b64(face))
    assert enrolled["person_id"] == person
    assert enrolled["issued"] is None  # she has a card already
    await async_wait_until(lambda: bool(terminal.commands("enroll_face")), 5, "the template push")
    pushed = terminal.commands("enroll_face")
    assert pushed[0]["person_ref"] == person

    # At the door, the terminal asks; the hub recognises her and opens.
    snapshot = tiny_jpeg(7)
    answer = await terminal.request(
        "face", template=b64(near(face, 2)), snapshot=base64.b64encode(snapshot).decode()
    )
    assert answer["command"] == "open"
    assert answer["person_ref"] == person
    await hub.async_block_till_done()
    await async_wait_until(lambda: len(passages) == 1, 5, "the passage event")
    passage = passages[0].data
    assert passage["granted"] is True
    assert passage["method"] == "face"
    assert passage["person_id"] == person
    assert passage["household_id"] == community.household_1201
    assert passage["decided_by"] == "hub"
    lock = passage["door_entity_id"]
    assert hub.states.get(lock).state == "unlocked"

    # The snapshot is kept (this community set store_snapshots) and served with auth only.
    listed = await (
        await community.resident.get(f"/api/linli/credentials?person_id={person}")
    ).json()
    assert listed[0]["face"]["enrolled"] == 1
    assert listed[0]["snapshots"] == 1
    log = await (await community.resident.get("/api/linli/access_log")).json()
    snapshot_id = log[0]["snapshot_id"]
    assert snapshot_id
    url = f"/api/linli/face_access/snapshots/{snapshot_id}"
    async with community.resident.request("GET", url) as image:
        assert image.status == 200
        assert image.content_type == "image/jpeg"
        assert await image.read() == snapshot
    assert (await community.admin.get(url, auth=False)).status == 401
    assert (await community.other_resident.get(url)).status == 404

    # Neither her template nor the picture went anywhere else: not into the recorded events.
    await get_recorder(hub).async_flush()

    def recorded_payloads(session: Any) -> list[str]:
        return list(session.scalars(select(EventData.shared_data)))

    payloads = await get_database(hub).async_run(recorded_payloads)
    assert any("face_terminal" in text for text in payloads)  # the device event is recorded
    assert not any(b64(near(face, 2))[:40] in text for text in payloads)
    assert not any('"snapshot"' in text or '"template"' in text for text in payloads)

    # She withdraws the consent (the existing consent endpoint).
    response = await community.resident.post(f"/api/linli/consents/{consent_id}/withdraw")
    assert response.status == 200, await response.text()
    await async_wait_until(
        lambda: bool(terminal.commands("delete_person")), 5, "the delete command"
    )
    assert terminal.commands("delete_person") == [
        {"v": 1, "command": "delete_person", "person_ref": person}
    ]
    await hub.async_block_till_done()
    listed = await (
        await community.resident.get(f"/api/linli/credentials?person_id={person}")
    ).json()
    assert listed[0]["face"] == {"enrolled": 0, "templates": []}
    assert listed[0]["snapshots"] == 0
    deletions = listed[0]["terminal_deletions"]
    assert [(d["terminal_id"], d["verified"]) for d in deletions] == [
        ("t-b1-01", None),
        ("t-b2-01", None),
    ]
    assert (await community.admin.get(url)).status == 404
    assert not list(get_face_access(hub).store.snapshot_dir.glob("*.jpg"))

    # The terminal confirms: the deletion is verified.
    await terminal.send({"type": "person_deleted", "person_ref": person})

    async def verified() -> bool:
        rows = await get_face_access(hub).store.async_deletions(person)
        return any(r["terminal_id"] == "t-b1-01" and r["verified"] for r in rows)

    for _ in range(100):
        if await verified():
            break
        await hub.async_block_till_done()
    assert await verified()

    # Her face opens nothing any more; her card still does.
    answer = await terminal.request("face", template=b64(near(face, 3)))
    assert answer == {
        "v": 1,
        "command": "deny",
        "request_id": answer["request_id"],
        "reason": "unknown_face",
    }
    answer = await terminal.request("card", card_no=CARD)
    assert answer["command"] == "open"
    assert answer["person_ref"] == person
