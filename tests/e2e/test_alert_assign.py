"""Assigning alerts on the board: to a role, or (for admins) to a person by name; shown live
on the card and kept by the hub. Police see who has an alert but cannot assign it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from linli.components.alert import get_manager
from linli.testing.community import Community

from .conftest import UI, async_set_password


async def _raise(community: Community, **data: Any) -> str:
    answer: Any = await community.admin.hub.services.async_call(
        "alert", "raise", data, blocking=True, return_response=True
    )
    return str(answer["alert_id"])


async def _board(ui: UI, name: str) -> None:
    await ui.open()
    await ui.login(name)
    await ui.page.locator("#nav a[href='#/alerts']").click()
    await expect(ui.page.locator("#live-state")).to_have_text("实时")


async def test_staff_assign_to_a_role(ui: UI, community: Community) -> None:
    """Staff give an alert to the grid workers with a message; the card and the hub agree."""
    alert_id = await _raise(
        community, kind="water_leak", title="Leak in 1201", area_id="b1-u1-1201"
    )
    await _board(ui, await async_set_password(community.staff))
    card = ui.page.locator(f"#alert-list [data-alert-id='{alert_id}']")
    await expect(card.locator(".assignee")).to_have_count(0)

    target = card.get_by_label("指派给")
    await expect(target).to_be_hidden()
    await card.get_by_role("button", name="指派…").click()
    await expect(target).to_be_focused()
    # Only admins may read the user list: staff choose among roles.
    options = await target.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["role:staff", "role:grid_worker", "role:police", "role:admin"]
    await expect(card).to_contain_text("只有管理员可以指定具体人员")
    await target.select_option("role:grid_worker")
    await card.get_by_label("指派说明（可选）").fill("Plumber needed in unit 1")
    await ui.screenshot("board-assign")
    await card.get_by_role("button", name="指派", exact=True).click()

    await expect(card.locator(".assignee")).to_have_text("指派给：网格员")
    await expect(ui.page.locator("#announcer")).to_contain_text("已指派：Leak in 1201 → 网格员")
    alert = get_manager(community.admin.hub).get(alert_id)
    assert alert is not None
    assert alert.assignee == "role:grid_worker"
    assert alert.history[-1].note == "Plumber needed in unit 1"
    assert alert.history[-1].actor == community.staff.user.id

    # A change made elsewhere shows up without reloading.
    await community.admin.hub.services.async_call(
        "alert", "assign", {"alert_id": alert_id, "assignee": "role:police"}, blocking=True
    )
    await expect(card.locator(".assignee")).to_have_text("指派给：民警")
    await expect(card.get_by_role("button", name="指派…")).to_be_visible()


async def test_admin_assign_to_a_person(ui: UI, community: Community) -> None:
    """Admins can choose a person by name; the card names them."""
    alert_id = await _raise(community, kind="smoke", title="Smoke in 1201", area_id="b1-u1-1201")
    await _board(ui, await async_set_password(community.admin))
    card = ui.page.locator(f"#alert-list [data-alert-id='{alert_id}']")
    await card.get_by_role("button", name="指派…").click()
    staff = community.staff.user
    await card.get_by_label("指派给").select_option(label=f"{staff.name} (物业人员)")
    await card.get_by_role("button", name="指派", exact=True).click()

    await expect(card.locator(".assignee")).to_have_text(f"指派给：{staff.name}")
    alert = get_manager(community.admin.hub).get(alert_id)
    assert alert is not None
    assert alert.assignee == staff.id


async def test_police_cannot_assign(ui: UI, community: Community) -> None:
    """Police see the assignee on their read-only list; the hub refuses them assigning."""
    alert_id = await _raise(
        community,
        kind="intrusion",
        title="Door forced",
        area_id="b1-u1-1201",
        assignee="role:staff",
    )
    await ui.open()
    await ui.login(await async_set_password(community.police))
    assert "告警看板" not in await ui.nav_labels()
    await ui.page.locator("#nav a[href='#/police']").click()
    card = ui.page.locator(f"#police-list [data-alert-id='{alert_id}']")
    await expect(card.locator(".assignee")).to_have_text("指派给：物业人员")
    await expect(ui.page.locator("#police-list button")).to_have_count(0)

    async with community.police.ws_client() as ws:
        answer = await ws.call("linli/alerts/assign", alert_id=alert_id, assignee="role:police")
    assert answer["success"] is False
    assert answer["error"]["code"] == "unauthorized"
    alert = get_manager(community.admin.hub).get(alert_id)
    assert alert is not None
    assert alert.assignee == "role:staff"
