"""The audit log and the consent ledger: committed at once, queried, purged by retention."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from linli import Context, Event, Hub, LinliError, callback
from linli.audit import async_audit, async_query
from linli.clock import FakeClock
from linli.components.recorder import Recorder
from linli.consent import EVENT_CONSENT_CHANGED, ConsentError, get_consents
from linli.db import get_database

StartRecorder = Callable[..., Awaitable[tuple[Hub, Recorder]]]


async def test_audit_rows_are_committed_and_queried(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, _ = await start_recorder()
    t0 = clock.utcnow()
    await async_audit(
        hub,
        user_id="u-staff",
        action="read_personal_data",
        subject="household:h1",
        area_id="b3",
        details={"fields": ["members"]},
        context=Context(user_id="u-staff", id="ctx-1"),
    )
    clock.advance(60)
    await async_audit(hub, user_id=None, action="login_failed", subject="user:alice")
    clock.advance(60)
    await async_audit(hub, user_id="u-staff", action="read_personal_data", subject="household:h2")

    rows = await async_query(hub)
    assert [row["subject"] for row in rows] == ["household:h2", "user:alice", "household:h1"]
    first = rows[-1]
    assert first == {
        "id": first["id"],
        "time": t0.isoformat(),
        "user_id": "u-staff",
        "action": "read_personal_data",
        "subject": "household:h1",
        "area_id": "b3",
        "details": {"fields": ["members"]},
        "context_id": "ctx-1",
    }
    assert [r["subject"] for r in await async_query(hub, user_id="u-staff")] == [
        "household:h2",
        "household:h1",
    ]
    assert len(await async_query(hub, subject="user:alice")) == 1
    assert len(await async_query(hub, since=t0 + timedelta(seconds=30))) == 2
    assert len(await async_query(hub, limit=1)) == 1


async def test_audit_without_the_recorder_raises(hub: Hub) -> None:
    with pytest.raises(LinliError, match="recorder is not set up"):
        await async_audit(hub, user_id=None, action="x", subject="y")


async def test_consent_grant_withdraw_and_list(
    start_recorder: StartRecorder, clock: FakeClock
) -> None:
    hub, _ = await start_recorder()
    people = hub.registries.people
    household = people.async_create_household("1201")
    mother = people.async_create_person("王芳", household_id=household.id).id
    son = people.async_create_person("王小明", household_id=household.id).id
    changes: list[Event[Any]] = []

    @callback
    def listen(event: Event[Any]) -> None:
        changes.append(event)

    hub.bus.async_listen(EVENT_CONSENT_CHANGED, listen)
    ledger = get_consents(hub)
    face = await ledger.async_grant(
        mother,
        "face",
        "access_control",
        method="paper",
        notice_version="2026-01",
        operator_user_id="u-staff",
    )
    clock.advance(10)
    child = await ledger.async_grant(
        son,
        "face",
        "access_control",
        method="app",
        notice_version="2026-01",
        operator_user_id="u-staff",
        guardian_person_id=mother,
    )
    assert face.active
    assert face.granted_at == clock.utcnow() - timedelta(seconds=10)
    assert child.guardian_person_id == mother
    assert face.household_id == child.household_id == household.id

    clock.advance(10)
    withdrawn = await ledger.async_withdraw(face.id, operator_user_id="u-admin")
    assert not withdrawn.active
    assert withdrawn.withdrawn_at == clock.utcnow()
    assert withdrawn.withdrawn_by == "u-admin"
    with pytest.raises(ConsentError, match="already withdrawn"):
        await ledger.async_withdraw(face.id, operator_user_id="u-admin")
    with pytest.raises(ConsentError, match="unknown consent"):
        await ledger.async_withdraw("nope", operator_user_id="u-admin")
    with pytest.raises(ConsentError, match="data_kind"):
        await ledger.async_grant(
            mother, " ", "s", method="paper", notice_version="1", operator_user_id=None
        )

    assert [c.id for c in await ledger.async_list()] == [face.id, child.id]
    assert [c.id for c in await ledger.async_list(include_withdrawn=False)] == [child.id]
    assert [c.id for c in await ledger.async_list(person_id=mother)] == [face.id]
    assert len(await ledger.async_list(household_id=household.id)) == 2
    assert await ledger.async_list(household_id="elsewhere") == []
    assert await ledger.async_get(face.id) == withdrawn
    assert withdrawn.as_dict()["active"] is False
    assert withdrawn.as_dict()["withdrawn_at"] == clock.utcnow().isoformat()
    assert [(e.data["consent_id"], e.data["active"]) for e in changes] == [
        (face.id, True),
        (child.id, True),
        (face.id, False),
    ]
    assert changes[0].data == {
        "consent_id": face.id,
        "person_id": mother,
        "data_kind": "face",
        "active": True,
    }


async def test_ledgers_survive_a_restart_and_keep_their_retention(
    start_recorder: StartRecorder, clock: FakeClock, tmp_path: Any
) -> None:
    config_dir = tmp_path / "community"
    hub, _ = await start_recorder(
        {"audit_keep_days": 30, "consent_keep_days": 60}, config_dir=config_dir
    )
    ledger = get_consents(hub)
    active = await ledger.async_grant(
        "p-1", "face", "gate", method="paper", notice_version="1", operator_user_id="u"
    )
    clock.advance(1)
    gone = await ledger.async_grant(
        "p-2", "face", "gate", method="paper", notice_version="1", operator_user_id="u"
    )
    await ledger.async_withdraw(gone.id, operator_user_id="u")
    await async_audit(hub, user_id="u", action="user_created", subject="user:a")
    await hub.async_stop()

    clock.advance(timedelta(days=45))
    hub2, recorder2 = await start_recorder(
        {"audit_keep_days": 30, "consent_keep_days": 60}, config_dir=config_dir
    )
    await async_audit(hub2, user_id="u", action="user_created", subject="user:b")
    assert [c.id for c in await get_consents(hub2).async_list()] == [active.id, gone.id]
    deleted = await recorder2.async_purge()
    assert deleted["audit"] == 1
    assert deleted["consents"] == 0
    assert [r["subject"] for r in await async_query(hub2)] == ["user:b"]

    clock.advance(timedelta(days=20))
    deleted = await recorder2.async_purge()
    assert deleted["consents"] == 1
    assert [c.id for c in await get_consents(hub2).async_list()] == [active.id]  # active: kept
    assert get_database(hub2).running
