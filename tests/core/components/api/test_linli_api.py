"""Linli's own endpoints: alerts, households, consents, users; scope, 404s and the audit log."""

from __future__ import annotations

from linli.audit import async_query
from linli.components.alert import get_manager
from tests.core.components.api.conftest import Community


async def raise_alert(community: Community, area_id: str, title: str = "Smoke") -> str:
    alert, _ = await get_manager(community.admin.hub).async_raise("smoke", title, area_id=area_id)
    return alert.id


async def test_alerts_in_scope_and_actions(community: Community) -> None:
    in_1201 = await raise_alert(community, "b1-u1-1201")
    in_b2 = await raise_alert(community, "b2-lobby")
    listed = {
        role: {a["id"] for a in await (await community.role(role).get("/api/linli/alerts")).json()}
        for role in ("admin", "staff", "grid_worker", "police", "resident", "other_resident")
    }
    assert listed == {
        "admin": {in_1201, in_b2},
        "staff": {in_1201},
        "grid_worker": {in_b2},
        "police": {in_1201},
        "resident": {in_1201},
        "other_resident": set(),
    }
    alert = await (await community.staff.get(f"/api/linli/alerts/{in_1201}")).json()
    assert alert["title"] == "Smoke"
    assert alert["state"] == "new"
    assert (await community.staff.get(f"/api/linli/alerts/{in_b2}")).status == 404
    assert (await community.staff.get("/api/linli/alerts/nope")).status == 404

    # Out of scope: 404 as if missing; in scope but not a manager (resident): 403.
    response = await community.grid_worker.post(f"/api/linli/alerts/{in_1201}/acknowledge")
    assert response.status == 404
    response = await community.resident.post(f"/api/linli/alerts/{in_1201}/acknowledge")
    assert response.status == 403

    response = await community.police.post(
        f"/api/linli/alerts/{in_1201}/acknowledge", json={"note": "On my way"}
    )
    assert response.status == 200
    acknowledged = await response.json()
    assert acknowledged["state"] == "acknowledged"
    assert acknowledged["history"][-1]["actor"] == community.police.user.id

    response = await community.staff.post(
        f"/api/linli/alerts/{in_1201}/assign", json={"assignee": "role:staff"}
    )
    assert response.status == 200
    assert (await response.json())["assignee"] == "role:staff"
    response = await community.staff.post(
        f"/api/linli/alerts/{in_1201}/resolve", json={"note": "Fixed"}
    )
    assert (await response.json())["state"] == "resolved"
    response = await community.staff.post(f"/api/linli/alerts/{in_1201}/resolve")
    assert response.status == 409

    filtered = await (await community.admin.get("/api/linli/alerts?state=new")).json()
    assert [a["id"] for a in filtered] == [in_b2]
    for path, body in (
        ("/api/linli/alerts?state=burning", None),
        (f"/api/linli/alerts/{in_b2}/assign", {}),
        (f"/api/linli/alerts/{in_b2}/acknowledge", {"note": 5}),
        (f"/api/linli/alerts/{in_b2}/acknowledge", {"colour": "red"}),
        (f"/api/linli/alerts/{in_b2}/acknowledge", [1]),
    ):
        method = community.admin.get if body is None else community.admin.post
        response = await method(path, json=body) if body is not None else await method(path)
        assert response.status == 400, (path, body)


async def test_households_are_scoped_and_audited(community: Community) -> None:
    hub = community.admin.hub
    names = {
        role: {
            h["name"]
            for h in await (await community.role(role).get("/api/linli/households")).json()
        }
        for role in ("admin", "staff", "grid_worker", "police", "resident")
    }
    assert names == {
        "admin": {"1-1-1201", "1-1-1202"},
        "staff": {"1-1-1201", "1-1-1202"},
        "grid_worker": set(),
        "police": set(),
        "resident": {"1-1-1201"},
    }
    path = f"/api/linli/households/{community.household_1201}"
    household = await (await community.staff.get(path)).json()
    assert household["name"] == "1-1-1201"
    assert [m["name"] for m in household["members"]] == ["Wang Fang"]
    assert (await community.resident.get(path)).status == 200
    other = f"/api/linli/households/{community.household_1202}"
    assert (await community.resident.get(other)).status == 404
    assert (await community.police.get(path)).status == 404
    assert (await community.grid_worker.get(path)).status == 404

    staff_rows = await async_query(hub, user_id=community.staff.user.id)
    assert {(row["action"], row["subject"]) for row in staff_rows} == {
        ("read_personal_data", "households"),
        ("read_personal_data", f"household:{community.household_1201}"),
    }
    assert await async_query(hub, user_id=community.resident.user.id) == []


async def test_consents_grant_list_withdraw(community: Community) -> None:
    body = {
        "person_id": community.person_1201,
        "data_kind": "face",
        "scope": "b1 gates",
        "method": "paper form",
        "notice_version": "2026-01",
    }
    response = await community.staff.post("/api/linli/consents", json=body)
    assert response.status == 201
    consent = await response.json()
    assert response.headers["Location"] == f"/api/linli/consents/{consent['id']}"
    assert consent["active"] is True
    assert consent["operator_user_id"] == community.staff.user.id
    assert consent["household_id"] == community.household_1201

    mine = await community.resident.get(f"/api/linli/consents?person_id={community.person_1201}")
    assert [c["id"] for c in await mine.json()] == [consent["id"]]
    theirs = await community.other_resident.get(
        f"/api/linli/consents?household_id={community.household_1201}"
    )
    assert theirs.status == 404
    assert (
        await community.other_resident.get(f"/api/linli/consents/{consent['id']}")
    ).status == 404
    assert (await community.resident.get("/api/linli/consents")).status == 400
    assert len(await (await community.admin.get("/api/linli/consents")).json()) == 1

    other_body = {**body, "person_id": community.person_1202}
    assert (await community.resident.post("/api/linli/consents", json=other_body)).status == 404
    # The grid worker records consents too, but only of persons in their areas (not 1201).
    assert (await community.grid_worker.post("/api/linli/consents", json=body)).status == 404
    assert (await community.police.post("/api/linli/consents", json=body)).status == 403
    assert (await community.police.post("/api/linli/consents", json=body)).status == 403
    for bad in ({**body, "scope": ""}, {**body, "extra": 1}, {"person_id": "x"}):
        assert (await community.admin.post("/api/linli/consents", json=bad)).status in (400, 404)

    path = f"/api/linli/consents/{consent['id']}/withdraw"
    response = await community.resident.post(path)
    assert response.status == 200
    withdrawn = await response.json()
    assert withdrawn["active"] is False
    assert withdrawn["withdrawn_by"] == community.resident.user.id
    assert (await community.resident.post(path)).status == 409
    assert (await community.admin.post("/api/linli/consents/nope/withdraw")).status == 404

    rows = await async_query(community.admin.hub, user_id=community.staff.user.id)
    assert rows == []  # granting is not a read; the staff member read nothing here


async def test_users_for_admins(community: Community) -> None:
    users = await (await community.admin.get("/api/linli/users")).json()
    assert {u["role"] for u in users} == {"admin", "staff", "grid_worker", "police", "resident"}
    assert all("password" not in str(u) for u in users)
    me = await (await community.resident.get("/api/linli/me")).json()
    assert me["id"] == community.resident.user.id
    assert me["role"] == "resident"
