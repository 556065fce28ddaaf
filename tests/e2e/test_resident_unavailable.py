"""The resident pages on a hub without door access or plate gates: each says what is not
available, calmly, and asks nothing of the missing integrations."""

from __future__ import annotations

from playwright.async_api import expect

from linli.testing.community import Community

from .conftest import UI, async_set_password

DOORS = "本小区未开通门禁。"
GATES = "本小区未开通车辆道闸。"


async def test_pages_say_what_is_not_available(ui: UI, community: Community) -> None:
    """Household works (core); history, visitor cars and ways in say "not available"."""
    requests: list[str] = []
    ui.page.on("request", lambda request: requests.append(request.url))
    name = await async_set_password(community.resident)
    await ui.open()
    await ui.login(name)

    await ui.page.locator("#nav a[href='#/household']").click()
    await expect(ui.page.locator("h1")).to_have_text("我的家庭")
    await expect(ui.page.locator("#household-members li")).to_contain_text("Wang Fang")

    await ui.page.locator("#nav a[href='#/access']").click()
    await expect(ui.page.locator("h1")).to_have_text("出入记录")
    await expect(ui.page.locator("#doors-body")).to_have_text(DOORS)
    await expect(ui.page.locator("#gates-body")).to_have_text(GATES)
    await ui.screenshot("resident-access-unavailable")

    await ui.page.locator("#nav a[href='#/visitors']").click()
    await expect(ui.page.locator("h1")).to_have_text("访客车辆")
    await expect(ui.page.locator("main .resident-unavailable")).to_have_text(GATES)
    await expect(ui.page.locator("#visitor-form")).to_have_count(0)

    await ui.page.locator("#nav a[href='#/consent']").click()
    await expect(ui.page.locator("h1")).to_have_text("人脸识别与通行方式")
    await expect(ui.page.locator("#consent-state")).to_have_text("您尚未同意人脸识别。")
    await expect(ui.page.locator("#ways-body")).to_have_text(DOORS)
    await expect(ui.page.locator("#visitor-qr-body")).to_have_text(DOORS)
    await expect(ui.page.get_by_role("button", name="我同意人脸识别")).to_have_count(0)

    asked = [url for url in requests if "access_log" in url or "gate_log" in url]
    asked += [url for url in requests if "visitor_passes" in url or "credentials" in url]
    assert asked == []
