"""The staff alert board: new alerts appear live, staff acknowledge and resolve them."""

from __future__ import annotations

import time
from typing import Any

from playwright.async_api import expect

from linli.components.alert import AlertState, get_manager
from linli.testing.community import Community

from .conftest import EVIDENCE_PATH, UI, async_set_password


async def _raise(community: Community, **data: Any) -> str:
    answer: Any = await community.admin.hub.services.async_call(
        "alert", "raise", data, blocking=True, return_response=True
    )
    return str(answer["alert_id"])


async def test_staff_board_live_acknowledge_resolve(ui: UI, community: Community) -> None:
    """An alert raised on the hub shows up within a second; staff acknowledge and resolve it."""
    name = await async_set_password(community.staff)
    await ui.open()
    await ui.login(name)
    await ui.page.locator("#nav a[href='#/alerts']").click()
    await expect(ui.page.locator("h1")).to_have_text("告警看板")
    await expect(ui.page.locator("#live-state")).to_have_text("实时")
    await expect(ui.page.locator("#alert-empty")).to_be_visible()
    sound = ui.page.get_by_label("新告警提示音")
    await expect(sound).not_to_be_checked()
    await ui.screenshot("board-empty")

    elsewhere = await _raise(
        community, kind="ebike_in_elevator", title="Lobby e-bike", area_id="b2-lobby"
    )
    started = time.perf_counter()
    alert_id = await _raise(
        community,
        kind="smoke",
        title="Smoke in 1201",
        message="Detector in the kitchen",
        severity="critical",
        area_id="b1-u1-1201",
        evidence=[{"kind": "snapshot", "ref": EVIDENCE_PATH}],
    )
    card = ui.page.locator(f"#alert-list [data-alert-id='{alert_id}']")
    await card.wait_for(timeout=1000)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"the alert took {elapsed:.2f} s to appear"
    await expect(card.get_by_role("heading")).to_have_text("Smoke in 1201")
    await expect(card).to_contain_text("严重")
    await expect(card).to_contain_text("1201")
    await expect(card).to_contain_text("Detector in the kitchen")
    await expect(card.locator("[data-state]")).to_have_text("新告警")
    await expect(ui.page.locator("#announcer")).to_contain_text("Smoke in 1201")
    picture = card.get_by_role("img", name="证据图片：Smoke in 1201")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(ui.page.locator(f"[data-alert-id='{elsewhere}']")).to_have_count(0)
    await ui.screenshot("board-new-alert")

    await card.get_by_role("button", name="确认").click()
    await expect(card.locator("[data-state]")).to_have_text("已确认")
    await expect(card.get_by_role("button", name="确认")).to_have_count(0)
    acknowledged = get_manager(community.admin.hub).get(alert_id)
    assert acknowledged is not None
    assert acknowledged.state is AlertState.ACKNOWLEDGED

    note = card.get_by_label("备注")
    await expect(note).to_be_hidden()
    await card.get_by_role("button", name="处理完成…").click()
    await expect(note).to_be_focused()
    await expect(card.get_by_role("button", name="处理完成…")).to_be_hidden()
    await note.fill("False alarm: someone was cooking")
    await ui.screenshot("board-resolve")
    await card.get_by_role("button", name="标记为已处理").click()

    closed = ui.page.locator(f"#recent-list [data-alert-id='{alert_id}']")
    await expect(closed.locator("[data-state]")).to_have_text("已处理")
    await expect(closed).to_contain_text("False alarm: someone was cooking")
    await expect(ui.page.locator(f"#alert-list [data-alert-id='{alert_id}']")).to_have_count(0)
    await expect(ui.page.locator("#alert-empty")).to_be_visible()
    alert = get_manager(community.admin.hub).get(alert_id)
    assert alert is not None
    assert alert.state is AlertState.RESOLVED
    assert alert.history[-1].note == "False alarm: someone was cooking"
    assert alert.history[-1].actor == community.staff.user.id
    await ui.screenshot("board-resolved")

    await sound.check()
    await ui.page.reload()
    await expect(ui.page.get_by_label("新告警提示音")).to_be_checked()
