"""Logging in and out in the browser, and what each role sees once in."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from linli.clock import FakeClock
from linli.testing.community import Community

from .conftest import PASSWORD, UI, async_set_password

NAV = {
    "admin": ["首页", "告警看板", "区域", "设备状态", "系统", "辖区告警", "社区通知"],
    "staff": ["首页", "告警看板", "区域", "设备状态", "社区通知"],
    "grid_worker": ["首页", "告警看板", "区域", "设备状态", "社区通知"],
    "police": ["首页", "辖区告警", "社区通知"],
    "resident": ["首页", "我的家庭", "出入记录", "访客车辆", "人脸与通行", "社区通知"],
}
ROLE_NAMES = {
    "admin": "管理员",
    "staff": "物业人员",
    "grid_worker": "网格员",
    "police": "民警",
    "resident": "居民",
}
FORBIDDEN = {
    "admin": [],
    "staff": ["#/police"],
    "grid_worker": ["#/police"],
    "police": ["#/alerts"],
    "resident": ["#/alerts", "#/police"],
}


@pytest.mark.parametrize("role", list(NAV))
async def test_each_role_sees_only_what_it_may(ui: UI, community: Community, role: str) -> None:
    """Every role logs in and finds its own home and menu; other pages say no."""
    name = await async_set_password(community.role(role))
    await ui.open()
    await expect(ui.page.locator("h1")).to_have_text("登录")
    await ui.screenshot("login")
    await ui.login(name)

    main = ui.page.locator("main")
    await expect(ui.page.locator("h1")).to_have_text(f"您好，{name}")
    assert await ui.nav_labels() == NAV[role]
    await expect(ui.page.locator(".who-role")).to_have_text(ROLE_NAMES[role])
    if role == "resident":
        await expect(main).to_contain_text("我的家庭")
        await expect(main).to_contain_text("1-1-1201")
        await expect(main).not_to_contain_text("1-1-1202")
        await expect(main).not_to_contain_text("未处理告警")
    else:
        await expect(main).not_to_contain_text("我的家庭")
    if role in ("staff", "grid_worker", "admin"):
        await expect(ui.page.locator("#open-count")).to_have_text("0 条未处理，其中 0 条新告警")
    if role == "staff":
        await expect(main).to_contain_text("Building 1")
        await expect(main).not_to_contain_text("Building 2")
    await ui.screenshot(f"home-{role}")

    for fragment in FORBIDDEN[role]:
        await ui.open(fragment)
        await expect(ui.page.locator("h1")).to_have_text("无权访问")
        await expect(main).not_to_contain_text("告警看板")
    if role == "resident":
        await ui.screenshot("forbidden-resident")


async def test_wrong_password_then_lock_out(ui: UI, community: Community) -> None:
    """A wrong password says so; after too many, the page says logging in is locked."""
    ui.expect_console_error(r"status of 400")
    ui.expect_console_error(r"status of 429")
    name = await async_set_password(community.staff)
    await ui.open()
    await ui.page.locator("#username").fill(name)
    await ui.page.locator("#password").fill("not the password")
    await ui.page.locator("form button[type=submit]").click()
    error = ui.page.locator("#login-error")
    await expect(error).to_have_text("用户名或密码错误。")
    await expect(ui.page.locator("#password")).to_be_focused()
    await expect(ui.page.locator("#password")).to_have_value("")
    assert ui.page.url.endswith("#/login")
    await ui.screenshot("login-wrong-password")

    for _ in range(4):  # the default limit is 5 failed logins per user name
        answer = await community.admin.post(
            "/auth/token",
            auth=False,
            data={"grant_type": "password", "username": name, "password": "still wrong"},
        )
        assert answer.status == 400
    await ui.page.locator("#password").fill(PASSWORD)
    await ui.page.locator("form button[type=submit]").click()
    await expect(error).to_have_text("失败次数过多，登录已锁定约 15 分钟；请稍后再试或联系物业。")
    await ui.screenshot("login-locked")


async def test_logout_forgets_and_revokes_the_session(ui: UI, community: Community) -> None:
    """Logging out returns to the login page; the refresh token no longer works."""
    name = await async_set_password(community.resident)
    await ui.open()
    await ui.login(name)
    refresh_token = await ui.page.evaluate("localStorage.getItem('linli.refresh_token')")
    assert refresh_token

    await ui.page.locator("#logout").click()
    await expect(ui.page.locator("h1")).to_have_text("登录")
    await expect(ui.page.locator(".notice")).to_have_text("您已退出登录。")
    assert await ui.page.evaluate("localStorage.getItem('linli.refresh_token')") is None
    answer = await community.admin.post(
        "/auth/token",
        auth=False,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    assert answer.status == 400

    await ui.page.reload()
    await expect(ui.page.locator("h1")).to_have_text("登录")
    assert await ui.nav_labels() == []


async def test_expired_access_token_is_renewed(
    ui: UI, community: Community, clock: FakeClock
) -> None:
    """After the 30-minute access token ran out, a reload keeps the user in (refresh token)."""
    name = await async_set_password(community.police)
    await ui.open()
    await ui.login(name)
    clock.advance(31 * 60)
    await ui.page.reload()
    await expect(ui.page.locator("h1")).to_have_text(f"您好，{name}")
    assert await ui.nav_labels() == NAV["police"]
