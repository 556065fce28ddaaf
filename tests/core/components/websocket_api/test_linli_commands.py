"""Linli's own commands: alerts, households (audited), consents."""

from __future__ import annotations

from linli.audit import async_query
from linli.components.alert import get_manager

from .conftest import Community, connect


async def test_alerts_list_by_scope(community: Community) -> None:
    async with connect(community.admin) as ws:
        alerts = await ws.result("linli/alerts/list")
        assert [a["id"] for a in alerts] == [community.alert_b1, community.alert_b2]
        assert alerts[0]["kind"] == "smoke"
        assert alerts[0]["state"] == "new"
        assert [a["id"] for a in await ws.result("linli/alerts/list", kind="intrusion")] == [
            community.alert_b2
        ]
        assert [a["id"] for a in await ws.result("linli/alerts/list", area_id="b1")] == [
            community.alert_b1
        ]
        assert await ws.result("linli/alerts/list", state="resolved") == []
        assert await ws.error("linli/alerts/list", state="bogus") == "invalid_format"
        assert await ws.error("linli/alerts/list", since="yesterday") == "invalid_format"
        assert (await ws.result("linli/alerts/list", since="2030-01-01T00:00:00+00:00")) == []
    expected = {
        "staff": [community.alert_b1],
        "police": [community.alert_b1],
        "grid_worker": [community.alert_b2],
        "resident": [community.alert_b1],
        "other_resident": [],
    }
    for role, ids in expected.items():
        async with connect(community.role(role)) as ws:
            assert [a["id"] for a in await ws.result("linli/alerts/list")] == ids, role


async def test_alerts_subscribe_sends_only_alerts_in_scope(community: Community) -> None:
    hub = community.admin.hub
    manager = get_manager(hub)
    async with connect(community.staff) as staff, connect(community.grid_worker) as grid:
        staff_sub = await staff.subscribe("linli/alerts/subscribe")
        grid_sub = await grid.subscribe("linli/alerts/subscribe")
        snapshot = await staff.event(staff_sub)
        assert snapshot["action"] == "snapshot"
        assert [a["id"] for a in snapshot["alerts"]] == [community.alert_b1]
        assert [a["id"] for a in (await grid.event(grid_sub))["alerts"]] == [community.alert_b2]

        raised, _ = await manager.async_raise("fall", "Fall in 1202", area_id="b1-u1-1202")
        event = await staff.event(staff_sub)
        assert event["action"] == "raised"
        assert event["alert"]["id"] == raised.id
        await manager.async_acknowledge(community.alert_b2)
        updated = await grid.event(grid_sub)
        assert updated["action"] == "acknowledged"
        assert updated["alert"]["state"] == "acknowledged"
        # Neither saw the other's.
        await staff.nothing_for(staff_sub)
        await grid.nothing_for(grid_sub)
        assert await staff.result("unsubscribe_events", subscription=staff_sub) is None


async def test_alerts_acknowledge_assign_resolve(community: Community) -> None:
    async with connect(community.staff) as ws:
        acked = await ws.result(
            "linli/alerts/acknowledge", alert_id=community.alert_b1, note="on my way"
        )
        assert acked["state"] == "acknowledged"
        entry = acked["history"][-1]
        assert entry["action"] == "acknowledged"
        assert entry["actor"] == community.staff.user.id
        assert entry["note"] == "on my way"
        assigned = await ws.result(
            "linli/alerts/assign", alert_id=community.alert_b1, assignee="role:grid_worker"
        )
        assert assigned["assignee"] == "role:grid_worker"
        assert (
            await ws.error("linli/alerts/assign", alert_id=community.alert_b1, assignee="Bad Name!")
            == "invalid_format"
        )
        resolved = await ws.result(
            "linli/alerts/resolve", alert_id=community.alert_b1, note="false alarm: cooking"
        )
        assert resolved["state"] == "resolved"
        assert resolved["history"][-1]["note"] == "false alarm: cooking"
        assert await ws.error("linli/alerts/resolve", alert_id=community.alert_b1) == "not_allowed"
        # A missing alert and one outside the scope answer alike: ids cannot be probed.
        assert await ws.error("linli/alerts/acknowledge", alert_id="nope") == "unauthorized"
        # Out of scope.
        assert (
            await ws.error("linli/alerts/acknowledge", alert_id=community.alert_b2)
            == "unauthorized"
        )
    async with connect(community.police) as ws:
        assert (
            await ws.error(
                "linli/alerts/assign", alert_id=community.alert_b1, assignee="role:staff"
            )
            == "unauthorized"
        )
    async with connect(community.resident) as ws:
        assert (
            await ws.error("linli/alerts/acknowledge", alert_id=community.alert_b1)
            == "unauthorized"
        )


async def test_households_are_audited_for_staff(community: Community) -> None:
    hub = community.admin.hub
    async with connect(community.staff) as ws:
        households = await ws.result("linli/households/list")
        assert sorted(h["id"] for h in households) == sorted(
            [community.household_1201, community.household_1202]
        )
        assert {h["member_count"] for h in households} == {1}
        one = await ws.result("linli/households/get", household_id=community.household_1201)
        assert one["name"] == "1-1-1201"
        assert [m["name"] for m in one["members"]] == ["Wang Fang"]
    rows = await async_query(hub, user_id=community.staff.user.id)
    subjects = {row["subject"] for row in rows}
    assert f"household:{community.household_1201}" in subjects
    assert "households" in subjects
    assert {row["action"] for row in rows} == {"read_personal_data"}

    # Admins and residents are not audited; residents see their own household only.
    async with connect(community.resident) as ws:
        households = await ws.result("linli/households/list")
        assert [h["id"] for h in households] == [community.household_1201]
        assert (
            await ws.error("linli/households/get", household_id=community.household_1202)
            == "unauthorized"
        )
        assert await ws.error("linli/households/get", household_id="nope") == "unauthorized"
    async with connect(community.admin) as ws:
        assert len(await ws.result("linli/households/list", area_id="b1-u1-1202")) == 1
        assert await ws.error("linli/households/get", household_id="nope") == "not_found"
    assert await async_query(hub, user_id=community.resident.user.id) == []
    assert await async_query(hub, user_id=community.admin.user.id) == []
    # Police see no households.
    async with connect(community.police) as ws:
        assert await ws.result("linli/households/list") == []
        assert (
            await ws.error("linli/households/get", household_id=community.household_1201)
            == "unauthorized"
        )


async def test_consents(community: Community) -> None:
    hub = community.admin.hub
    events: list[dict[str, object]] = []
    hub.bus.async_listen("consent_changed", _collector(events))
    async with connect(community.staff) as ws:
        granted = await ws.result(
            "linli/consents/grant",
            person_id=community.person_1201,
            data_kind="face",
            scope="gate:b1",
            method="paper",
            notice_version="2026-01",
        )
        assert granted["active"] is True
        assert granted["operator_user_id"] == community.staff.user.id
        assert granted["household_id"] == community.household_1201
        listed = await ws.result("linli/consents/list", person_id=community.person_1201)
        assert [c["id"] for c in listed] == [granted["id"]]
        assert [c["id"] for c in await ws.result("linli/consents/list")] == [granted["id"]]
        assert (
            await ws.error(
                "linli/consents/grant",
                person_id=community.person_1201,
                data_kind="",
                scope="x",
                method="app",
                notice_version="1",
            )
            == "invalid_format"
        )
    async with connect(community.resident) as ws:
        # Residents see and withdraw their own.
        assert [c["id"] for c in await ws.result("linli/consents/list")] == [granted["id"]]
        withdrawn = await ws.result("linli/consents/withdraw", consent_id=granted["id"])
        assert withdrawn["active"] is False
        assert withdrawn["withdrawn_by"] == community.resident.user.id
        assert await ws.error("linli/consents/withdraw", consent_id=granted["id"]) == "not_allowed"
        assert (
            await ws.error("linli/consents/list", person_id=community.person_1202) == "unauthorized"
        )
        assert (
            await ws.result(
                "linli/consents/list", person_id=community.person_1201, include_withdrawn=False
            )
            == []
        )
    async with connect(community.other_resident) as ws:
        assert await ws.result("linli/consents/list") == []
        assert await ws.error("linli/consents/withdraw", consent_id=granted["id"]) == "unauthorized"
    async with connect(community.police) as ws:
        assert (
            await ws.error(
                "linli/consents/grant",
                person_id=community.person_1201,
                data_kind="face",
                scope="x",
                method="app",
                notice_version="1",
            )
            == "unauthorized"
        )
        assert (
            await ws.error("linli/consents/list", household_id=community.household_1201)
            == "unauthorized"
        )
    async with connect(community.admin) as ws:
        assert await ws.error("linli/consents/withdraw", consent_id="nope") == "not_found"
        assert len(await ws.result("linli/consents/list")) == 1
    await hub.async_block_till_done()
    assert [event["active"] for event in events] == [True, False]
    staff_reads = await async_query(hub, user_id=community.staff.user.id)
    assert f"consents:person:{community.person_1201}" in {row["subject"] for row in staff_reads}


def _collector(events: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    from linli.callback import callback

    @callback
    def collect(event):  # type: ignore[no-untyped-def]
        events.append(dict(event.data))

    return collect


async def test_integrations_list_gives_admins_each_status_and_reason(
    community: Community,
) -> None:
    async with connect(community.admin) as ws:
        listing = await ws.result("linli/integrations/list")
    by_domain = {entry["domain"]: entry for entry in listing}
    assert by_domain["websocket_api"]["status"] == "loaded"
    assert by_domain["recorder"]["name"] == "Recorder"
    assert set(by_domain["alert"]) >= {"status", "reason", "source", "version", "configured"}
    assert [entry["domain"] for entry in listing] == sorted(by_domain)
    async with connect(community.staff) as ws:
        assert await ws.error("linli/integrations/list") == "unauthorized"
