"""Switching the UI between Chinese and English, and keeping the choice."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from linli.testing.community import Community

from .conftest import UI, async_set_password


async def test_switch_language_and_keep_it(ui: UI, community: Community) -> None:
    """A Chinese browser gets Chinese; English is one click away and stays after a reload."""
    name = await async_set_password(community.staff)
    await ui.open()
    page = ui.page
    await expect(page.locator("h1")).to_have_text("登录")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"

    await page.get_by_role("button", name="English").click()
    await expect(page.locator("h1")).to_have_text("Log in")
    assert await page.locator("html").get_attribute("lang") == "en"
    await expect(page.get_by_label("User name")).to_be_visible()
    await expect(page.locator("#language-switch")).to_be_focused()
    await ui.screenshot("login-en")

    await page.reload()
    await expect(page.locator("h1")).to_have_text("Log in")
    assert await page.locator("html").get_attribute("lang") == "en"
    await ui.login(name)
    await expect(page.locator("h1")).to_have_text(f"Hello, {name}")
    assert await ui.nav_labels() == ["Home", "Alert board", "Areas", "Device health", "Notices"]
    await page.locator("#nav a[href='#/alerts']").click()
    await expect(page.locator("h1")).to_have_text("Alert board")
    await expect(page.locator("#live-state")).to_have_text("Live")
    await ui.screenshot("board-en")

    await page.get_by_role("button", name="中文").click()
    await expect(page.locator("h1")).to_have_text("告警看板")
    await expect(page.locator("#live-state")).to_have_text("实时")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await page.reload()
    await expect(page.locator("h1")).to_have_text("告警看板")


async def test_english_browser_gets_english(browser: Browser, ui: UI) -> None:
    """Without a saved choice, the browser's language decides."""
    context = await browser.new_context(locale="en-GB")
    try:
        page = await context.new_page()
        await page.goto(ui.base_url + "/")
        await expect(page.locator("h1")).to_have_text("Log in")
        assert await page.locator("html").get_attribute("lang") == "en"
    finally:
        await context.close()
