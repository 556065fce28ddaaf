"""The personal-data model: retention with floor and ceiling, purge, erasure on withdrawal,
export, the guardian rule, and who may export whom over REST and WebSocket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import linli.components.privacy as privacy_component
import linli.components.recorder as recorder_component
from linli import Event, Hub, callback
from linli.audit import async_query
from linli.clock import FakeClock
from linli.consent import ConsentError, get_consents
from linli.db.testing import db_url
from linli.plugins.loader import IntegrationLoader, Status
from linli.privacy import (
    EVENT_PERSONAL_DATA_ERASED,
    DataKind,
    PrivacyError,
    get_privacy,
)
from linli.testing.community import SAMPLE_AREAS
from linli.testing.http import HubClient

from . import sample_holder
from .sample_holder import async_add, async_rows

__all__ = ["db_url"]

DAY = 86_400.0
HubFactory = Callable[..., Awaitable[Hub]]
StartHub = Callable[..., Awaitable[Hub]]


@pytest.fixture
def start_hub(hub_factory: HubFactory, db_url: str, tmp_path: Path) -> StartHub:
    """A hub with the recorder on the test's database, privacy and the sample holder."""

    async def start(privacy: dict[str, Any] | None = None) -> Hub:
        hub = await hub_factory(tmp_path / "config", start=False)
        loader = IntegrationLoader(hub)
        loader.register(recorder_component, name="recorder")
        loader.register(privacy_component, name="privacy")
        loader.register(sample_holder, name="sample_holder")
        await loader.async_setup_all(
            {"recorder": {"db_url": db_url}, "privacy": privacy or {}, "sample_holder": {}}
        )
        for name in ("recorder", "privacy", "sample_holder"):
            record = loader.records[name]
            assert record.status is Status.loaded, (name, record.reason)
        await hub.async_start()
        return hub

    return start


def _people(hub: Hub) -> tuple[str, str, str]:
    people = hub.registries.people
    household = people.async_create_household("1201", room_ids=())
    mother = people.async_create_person("王芳", household_id=household.id, birth_year=1980)
    son = people.async_create_person("王小明", household_id=household.id, birth_year=2018)
    neighbour = people.async_create_person("李雷", birth_year=1975)
    return mother.id, son.id, neighbour.id


async def _grant(hub: Hub, person_id: str, kind: str = "face", **extra: Any) -> str:
    consent = await get_consents(hub).async_grant(
        person_id,
        kind,
        "access_control",
        method="app",
        notice_version="2026-01",
        operator_user_id=None,
        **extra,
    )
    return consent.id


async def test_withdrawal_erases_consent_bound_data_before_it_returns(
    start_hub: StartHub, clock: FakeClock
) -> None:
    hub = await start_hub()
    mother, _son, neighbour = _people(hub)
    now = clock.time()
    for person in (mother, neighbour):
        await async_add(hub, "sample_face", person, now)
        await async_add(hub, "sample_log", person, now)
    erased: list[Event[Any]] = []

    @callback
    def listen(event: Event[Any]) -> None:
        erased.append(event)

    hub.bus.async_listen(EVENT_PERSONAL_DATA_ERASED, listen)
    consent_id = await _grant(hub, mother)
    await _grant(hub, mother, "location")

    await get_consents(hub).async_withdraw(consent_id, operator_user_id="u-resident")

    # Only the face kind, only her records; the security log is not consent-bound.
    assert await async_rows(hub, "sample_face") == [(neighbour, now)]
    assert len(await async_rows(hub, "sample_log")) == 2
    assert [e.data for e in erased] == [
        {
            "person_id": mother,
            "data_kind": "face",
            "reason": "consent_withdrawn",
            "counts": {"sample_face": 1},
        }
    ]
    [row] = await async_query(hub, action="erase_personal_data")
    assert row["subject"] == f"person:{mother}"
    assert row["user_id"] == "u-resident"
    assert row["details"] == {
        "reason": "consent_withdrawn",
        "consent_kind": "face",
        "counts": {"sample_face": 1},
    }


async def test_purge_follows_ceiling_and_settings(start_hub: StartHub, clock: FakeClock) -> None:
    hub = await start_hub({"retention": {"sample_log": {"keep_days": 60, "floor_days": 45}}})
    mother, _son, _ = _people(hub)
    now = clock.time()
    for age_days in (10, 50, 70, 200):
        await async_add(hub, "sample_log", mother, now - age_days * DAY)
        await async_add(hub, "sample_face", mother, now - age_days * DAY)
    privacy = get_privacy(hub)
    assert privacy.policy("sample_log").as_dict() == {"keep_days": 60.0, "floor_days": 45.0}
    assert privacy.policy("sample_face").as_dict() == {"keep_days": 180.0, "floor_days": 0.0}

    assert await privacy.async_purge() == {"sample_log": 2, "sample_face": 1}
    assert [round((now - t) / DAY) for _, t in await async_rows(hub, "sample_log")] == [50, 10]
    assert len(await async_rows(hub, "sample_face")) == 3

    # The daily purge runs by itself.
    await async_add(hub, "sample_log", mother, now - 61 * DAY)
    clock.advance(DAY + 1)
    await hub.async_block_till_done()
    for _ in range(50):
        if len(await async_rows(hub, "sample_log")) == 2:
            break
        await hub.async_block_till_done()
    assert [round((now - t) / DAY) for _, t in await async_rows(hub, "sample_log")] == [50, 10]


async def test_erase_person_keeps_records_within_the_floor(
    start_hub: StartHub, clock: FakeClock
) -> None:
    hub = await start_hub()
    mother, _son, _ = _people(hub)
    now = clock.time()
    for age_days in (5, 40):
        await async_add(hub, "sample_log", mother, now - age_days * DAY)
        await async_add(hub, "sample_face", mother, now - age_days * DAY)

    response = await hub.services.async_call(
        "privacy", "erase_person", {"person_id": mother}, blocking=True, return_response=True
    )

    assert response == {"person_id": mother, "counts": {"sample_face": 2, "sample_log": 1}}
    assert [round((now - t) / DAY) for _, t in await async_rows(hub, "sample_log")] == [5]
    assert await async_rows(hub, "sample_face") == []


async def test_export_holds_everything_about_the_person(
    start_hub: StartHub, clock: FakeClock
) -> None:
    hub = await start_hub()
    mother, _son, neighbour = _people(hub)
    await async_add(hub, "sample_face", mother, clock.time())
    await async_add(hub, "sample_log", mother, clock.time())
    await async_add(hub, "sample_log", neighbour, clock.time())
    consent_id = await _grant(hub, mother)

    document = await get_privacy(hub).async_export(mother)

    assert document["person"]["id"] == mother
    assert document["household"]["name"] == "1201"
    assert [c["id"] for c in document["consents"]] == [consent_id]
    assert document["data"] == {"sample_face": {"records": 1}, "sample_log": {"records": 1}}
    assert {k["name"]: k["floor_days"] for k in document["data_kinds"]} == {
        "sample_face": 0.0,
        "sample_log": 30.0,
    }
    with pytest.raises(PrivacyError, match="unknown person"):
        await get_privacy(hub).async_export("nobody")


async def test_a_child_consents_through_a_guardian(start_hub: StartHub) -> None:
    hub = await start_hub()
    mother, son, _ = _people(hub)
    with pytest.raises(ConsentError, match="guardian"):
        await _grant(hub, son)
    with pytest.raises(ConsentError, match="own guardian"):
        await _grant(hub, son, guardian_person_id=son)
    with pytest.raises(ConsentError, match="unknown guardian"):
        await _grant(hub, son, guardian_person_id="nobody")
    consent_id = await _grant(hub, son, guardian_person_id=mother)
    assert (await get_consents(hub).async_get(consent_id)) is not None
    assert await get_privacy(hub).async_has_consent(son, "face")
    assert not await get_privacy(hub).async_has_consent(son, "location")


async def test_retention_settings_are_checked(start_hub: StartHub, hub: Hub) -> None:
    with pytest.raises(PrivacyError, match="cannot have a floor"):
        DataKind(
            "x",
            "X",
            sensitive=True,
            consent_kind="face",
            default_keep_days=10,
            default_floor_days=1,
        )
    with pytest.raises(PrivacyError, match="between 0 and default_keep_days"):
        DataKind(
            "x",
            "X",
            sensitive=False,
            consent_kind=None,
            default_keep_days=10,
            default_floor_days=11,
        )
    started = await start_hub()
    privacy = get_privacy(started)
    with pytest.raises(PrivacyError, match="cannot have floor_days"):
        privacy.configure({"sample_face": {"floor_days": 3}})
    with pytest.raises(PrivacyError, match="above keep_days"):
        privacy.configure({"sample_log": {"keep_days": 3, "floor_days": 7}})
    with pytest.raises(PrivacyError, match="already registered"):
        privacy.async_register_data_kind(
            DataKind("sample_log", "again", sensitive=False, consent_kind=None, default_keep_days=1)
        )


def test_config_schema_names_the_bad_key() -> None:
    import voluptuous as vol

    with pytest.raises(vol.Invalid) as info:
        privacy_component.CONFIG_SCHEMA(
            {"retention": {"access_log": {"keep_days": 10, "floor_days": 30}}}
        )
    assert info.value.path == ["retention", "access_log", "floor_days"]
    assert privacy_component.CONFIG_SCHEMA(None) == {"retention": {}, "auto_purge": True}


# ---------------------------------------------------------------------------- over the API


@pytest.fixture
def hub_config() -> str:
    return SAMPLE_AREAS


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    return [("sample_holder", sample_holder)]


async def test_export_over_rest_and_websocket_by_role(hub_client: HubClient) -> None:
    hub = hub_client.hub
    people = hub.registries.people
    home = people.async_create_household("1201", room_ids=["b1-u1-1201"])
    other = people.async_create_household("1202", room_ids=["b1-u1-1202"])
    me = people.async_create_person("王芳", household_id=home.id, birth_year=1980)
    them = people.async_create_person("李雷", household_id=other.id, birth_year=1975)
    await async_add(hub, "sample_log", me.id, hub.clock.time())
    resident = await hub_client.as_user("resident", person_id=me.id)
    staff = await hub_client.as_user("staff", area_ids=["b1"])
    far_staff = await hub_client.as_user("staff", area_ids=["b2"])
    police = await hub_client.as_user("police", area_ids=[hub.registries.areas.root_id])

    own = await resident.get(f"/api/linli/persons/{me.id}/export")
    assert own.status == 200
    assert (await own.json())["data"]["sample_log"] == {"records": 1}
    for client, person_id in (
        (resident, them.id),
        (far_staff, me.id),
        (police, me.id),
        (resident, "nobody"),
    ):
        answer = await client.get(f"/api/linli/persons/{person_id}/export")
        assert answer.status == 404, (client.user.role, person_id)
    assert (await staff.get(f"/api/linli/persons/{them.id}/export")).status == 200

    async with resident.ws() as socket:
        await socket.send_json({"id": 1, "type": "linli/persons/export", "person_id": them.id})
        refused = await socket.receive_json(timeout=5)
        await socket.send_json({"id": 2, "type": "linli/persons/export", "person_id": me.id})
        allowed = await socket.receive_json(timeout=5)
        await socket.send_json({"id": 3, "type": "linli/privacy/data_kinds"})
        kinds = await socket.receive_json(timeout=5)
    assert refused["success"] is False
    assert refused["error"]["code"] == "unauthorized"
    assert allowed["success"] is True
    assert allowed["result"]["person"]["id"] == me.id
    assert [k["name"] for k in kinds["result"]] == ["sample_face", "sample_log"]

    audit = await async_query(hub, action="export_personal_data")
    assert {(row["user_id"], row["subject"]) for row in audit} == {
        (resident.user.id, f"person:{me.id}"),
        (staff.user.id, f"person:{them.id}"),
    }
    listing = await (await resident.get("/api/linli/privacy/data_kinds")).json()
    assert {k["name"]: k["consent_kind"] for k in listing} == {
        "sample_face": "face",
        "sample_log": None,
    }
