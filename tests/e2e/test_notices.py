"""Community notices in the browser: staff of building 1 publish a notice for it; a resident
of building 1 sees it arrive without reloading, a resident of building 2 does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from playwright.async_api import expect

from .conftest import PHONE, UI, async_set_password

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from linli.testing.http import HubClient

AREAS = """
linli:
  areas:
    - id: b1
      kind: building
      name: {zh-CN: 1号楼, en: Building 1}
      children:
        - id: b1-f12
          kind: floor
          name: {zh-CN: 12层, en: Floor 12}
          children:
            - {id: b1-1201, kind: room, name: "1201"}
    - id: b2
      kind: building
      name: {zh-CN: 2号楼, en: Building 2}
      children:
        - id: b2-f3
          kind: floor
          name: {zh-CN: 3层, en: Floor 3}
          children:
            - {id: b2-301, kind: room, name: "301"}
frontend:
"""


@pytest.fixture
def hub_config() -> str:
    """Two buildings with one flat each, and the web UI."""
    return AREAS


@pytest_asyncio.fixture
async def second_ui(browser: Browser, hub_client: HubClient) -> AsyncIterator[UI]:
    """Another phone-sized page (another person's phone), checked like ``ui``."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(5000)
    watched = UI(await context.new_page(), context, hub_client.base_url, "second")
    watched.watch()
    try:
        yield watched
        watched.check()
    finally:
        await context.close()


@pytest_asyncio.fixture
async def third_ui(browser: Browser, hub_client: HubClient) -> AsyncIterator[UI]:
    """A third page: the property office's."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(5000)
    watched = UI(await context.new_page(), context, hub_client.base_url, "third")
    watched.watch()
    try:
        yield watched
        watched.check()
    finally:
        await context.close()


async def test_notice_for_a_building_reaches_its_residents_live(
    ui: UI, second_ui: UI, third_ui: UI, hub_client: HubClient
) -> None:
    """Residents of both buildings watch their notices page; staff of building 1 publish a
    notice for it; it appears for the resident of building 1 only, without reloading."""
    people = hub_client.hub.registries.people
    home_1 = people.async_create_household("1-1201", ["b1-1201"])
    home_2 = people.async_create_household("2-301", ["b2-301"])
    wang = people.async_create_person("Wang Fang", household_id=home_1.id)
    zhao = people.async_create_person("Zhao Lei", household_id=home_2.id)
    resident = await hub_client.as_user("resident", name="wang", person_id=wang.id)
    elsewhere = await hub_client.as_user("resident", name="zhao", person_id=zhao.id)
    staff = await hub_client.as_user("staff", name="staff-b1", area_ids=["b1"])

    watchers = ((ui, resident), (second_ui, elsewhere))
    for page_ui, client in watchers:
        await page_ui.open()
        await page_ui.login(await async_set_password(client))
        await expect(page_ui.page.locator("#home-notices")).to_contain_text("暂无通知。")
        await page_ui.page.locator("#nav a[href='#/notices']").click()
        await expect(page_ui.page.locator("h1")).to_have_text("社区通知")
        await expect(page_ui.page.locator("#notices-empty")).to_have_text("暂无通知。")
        await expect(page_ui.page.locator("#notice-form")).to_have_count(0)

    office = third_ui
    await office.open()
    await office.login(await async_set_password(staff))
    await office.page.locator("#nav a[href='#/notices']").click()
    form = office.page.locator("#notice-form")
    # Only the staff member's own building is offered.
    await expect(form.locator("input[name=area]")).to_have_count(2)
    assert await form.locator("input[name=area]").evaluate_all(
        "boxes => boxes.map(b => b.value)"
    ) == ["b1", "b1-f12"]
    await form.locator("button[type=submit]").click()
    await expect(office.page.locator("#notice-error")).to_have_text("请填写标题。")
    await form.get_by_label("标题").fill("停水通知")
    await form.get_by_label("内容").fill("3月2日 9:00–12:00 1号楼检修水管，届时停水。")
    await form.get_by_label("1号楼").check()
    await form.locator("button[type=submit]").click()
    await expect(office.page.locator("#announcer")).to_have_text("通知已发布。")
    await expect(office.page.locator("#notices-body .notice-item h3")).to_have_text(["停水通知"])
    await office.screenshot("notices-staff")

    # The resident of building 1 sees it arrive, announced; nobody reloaded.
    item = ui.page.locator("#notices-body .notice-item")
    await expect(item.locator("h3")).to_have_text(["停水通知"])
    await expect(item.locator(".notice-meta")).to_contain_text("1号楼")
    await expect(item.locator(".notice-body")).to_contain_text("届时停水")
    await expect(ui.page.locator("#announcer")).to_have_text("新通知：停水通知")
    await expect(item.locator(".notice-withdraw")).to_have_count(0)
    await ui.screenshot("notices-resident")

    # The resident of building 2 still has none.
    await expect(second_ui.page.locator("#notices-empty")).to_have_text("暂无通知。")
    await expect(second_ui.page.locator(".notice-item")).to_have_count(0)

    # The home page shows it too.
    await ui.page.locator("#nav a[href='#/home']").click()
    await expect(ui.page.locator("#home-notices li")).to_contain_text(["停水通知"])

    # Staff withdraw it; it leaves the staff member's list.
    await office.page.locator(".notice-withdraw").click()
    await expect(office.page.locator("#notices-empty")).to_have_text("暂无通知。")
