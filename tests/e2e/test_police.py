"""Police: the alerts in their scope, read-only, searched by time and area."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from linli.clock import FakeClock
from linli.testing.community import Community

from .conftest import UI, async_set_password


async def _raise(community: Community, **data: Any) -> str:
    answer: Any = await community.admin.hub.services.async_call(
        "alert", "raise", data, blocking=True, return_response=True
    )
    return str(answer["alert_id"])


async def test_police_search_alerts_in_scope(
    ui: UI, community: Community, clock: FakeClock
) -> None:
    """Police of building 1 see its alerts only, without actions, filtered by time and area."""
    morning = await _raise(community, kind="intrusion", title="Door forced", area_id="b1-u1-1201")
    clock.advance(2 * 3600)  # 10:00 UTC, 18:00 in Shanghai
    later = await _raise(community, kind="fight", title="Shouting in unit 1", area_id="b1-u1")
    outside = await _raise(community, kind="fight", title="Lobby fight", area_id="b2-lobby")
    name = await async_set_password(community.police)
    await ui.open()
    await ui.login(name)
    await ui.page.locator("#nav a[href='#/police']").click()
    await expect(ui.page.locator("h1")).to_have_text("辖区告警")

    result = ui.page.locator("#police-result")
    cards = ui.page.locator("#police-list [data-alert-id]")
    await expect(result).to_have_text("找到 2 条告警。")
    assert await cards.evaluate_all("cards => cards.map(c => c.dataset.alertId)") == [
        later,
        morning,
    ]
    await expect(ui.page.locator(f"[data-alert-id='{outside}']")).to_have_count(0)
    await expect(ui.page.locator("#police-list button")).to_have_count(0)
    await ui.screenshot("police")

    await ui.page.get_by_label("区域").select_option("b1-u1-1201")
    await ui.page.get_by_role("button", name="查询").click()
    await expect(result).to_have_text("找到 1 条告警。")
    await expect(cards).to_have_attribute("data-alert-id", morning)

    await ui.page.get_by_label("区域").select_option("")
    await ui.page.get_by_label("开始时间").fill("2026-03-01T17:00")
    await ui.page.get_by_role("button", name="查询").click()
    await expect(result).to_have_text("找到 1 条告警。")
    await expect(cards).to_have_attribute("data-alert-id", later)

    await ui.page.get_by_label("开始时间").fill("")
    await ui.page.get_by_label("结束时间").fill("2026-03-01T17:00")
    await ui.page.get_by_role("button", name="查询").click()
    await expect(result).to_have_text("找到 1 条告警。")
    await expect(cards).to_have_attribute("data-alert-id", morning)
