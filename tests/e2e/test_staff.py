"""Staff and grid workers: the area tree (what is wrong where) and device health, in scope."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from linli.hub import Hub
from linli.testing.community import Community, async_build_community
from linli.testing.http import HubClient

from .conftest import UI, async_set_password


async def _raise(community: Community, **data: Any) -> str:
    answer: Any = await community.admin.hub.services.async_call(
        "alert", "raise", data, blocking=True, return_response=True
    )
    return str(answer["alert_id"])


def add_entity(
    hub: Hub,
    entity_id: str,
    state: str,
    *,
    area_id: str | None = None,
    device_id: str | None = None,
    **attributes: Any,
) -> None:
    """Register ``entity_id`` (in an area or on a device) and set its state."""
    domain, object_id = entity_id.split(".")
    entry = hub.registries.entities.async_get_or_create(
        domain,
        "e2e",
        object_id,
        suggested_object_id=object_id,
        area_id=area_id,
        device_id=device_id,
    )
    assert entry.entity_id == entity_id
    hub.states.async_set(entity_id, state, {"friendly_name": object_id, **attributes})


async def _troubled_community(hub_client: HubClient) -> tuple[Community, str, str]:
    """The sample community with a smoke detector offline in 1201, an open alert there, and
    trouble in building 2 that staff of building 1 must not see."""
    community = await async_build_community(hub_client, device=True)
    hub = hub_client.hub
    smoke = hub.registries.devices.async_get_or_create(
        integration="e2e",
        identifiers={("e2e", "smoke-1201")},
        name="Smoke detector 1201",
        manufacturer="Acme",
        model="SD-2",
        area_id="b1-u1-1201",
    ).id
    add_entity(hub, "binary_sensor.smoke_1201", "unavailable", device_id=smoke)
    add_entity(hub, "sensor.b1_temperature", "21.5", area_id="b1-u1", unit_of_measurement="°C")
    hub.states.async_set("sensor.lobby_b2", "unavailable", {"friendly_name": "lobby_b2"})
    alert = await _raise(community, kind="smoke", title="Smoke in 1201", area_id="b1-u1-1201")
    await _raise(community, kind="fight", title="Lobby fight", area_id="b2-lobby")
    return community, alert, smoke


async def test_staff_area_tree_and_device_health(ui: UI, hub_client: HubClient) -> None:
    """Staff of building 1 see its areas with the open alert and the offline detector counted
    up the tree, device health with the offline device first, and no admin pages."""
    community, _alert, smoke = await _troubled_community(hub_client)
    name = await async_set_password(community.staff)
    await ui.open()
    await ui.login(name)
    assert await ui.nav_labels() == ["首页", "告警看板", "区域", "设备状态", "社区通知"]

    await ui.page.locator("#nav a[href='#/areas']").click()
    await expect(ui.page.locator("h1")).to_have_text("区域")
    status = ui.page.locator("#areas-status")
    await expect(status).to_have_text("您负责的区域内有 1 条未处理告警，1 个不可用实体。")
    tree = ui.page.locator("#area-tree")
    assert await tree.locator("[data-area-id]").evaluate_all(
        "items => items.map(i => i.dataset.areaId)"
    ) == ["b1", "b1-u1", "b1-u1-f12", "b1-u1-1201", "b1-u1-1202"]
    building = tree.locator("[data-area-id='b1'] > .area-row")
    await expect(building.locator("[data-count='alerts']")).to_have_text("1 条未处理告警")
    await expect(building.locator("[data-count='down']")).to_have_text("1 个不可用")
    room = tree.locator("[data-area-id='b1-u1-1201']")
    await expect(room.locator("> .area-row [data-count='down']")).to_have_text("1 个不可用")
    await expect(room.locator("> .entity-list .entity-down")).to_contain_text("smoke_1201")
    quiet = tree.locator("[data-area-id='b1-u1-1202'] > .area-row")
    await expect(quiet.locator("[data-count='alerts']")).to_have_text("0 条未处理告警")
    await expect(ui.page.locator("[data-area-id='b2'], [data-area-id='b2-lobby']")).to_have_count(0)
    await expect(ui.page.locator("[data-entity-id='sensor.lobby_b2']")).to_have_count(0)
    await ui.screenshot("staff-areas")

    await ui.page.locator("#nav a[href='#/devices']").click()
    await expect(ui.page.locator("h1")).to_have_text("设备状态")
    await expect(ui.page.locator("#devices-status")).to_have_text("共 2 台设备，1 台有问题。")
    devices = ui.page.locator("#device-list [data-device-id]")
    assert await devices.evaluate_all("items => items.map(i => i.dataset.deviceId)") == [
        smoke,
        community.device_id,
    ]
    offline = devices.nth(0)
    await expect(offline.locator("[data-health-badge]")).to_have_text("离线：1 个不可用")
    await expect(offline).to_contain_text("1201")
    await expect(offline).to_contain_text("Acme SD-2")
    await expect(offline).to_contain_text("最后在线 2026年3月1日 16:00")
    await expect(devices.nth(1).locator("[data-health-badge]")).to_have_text("在线")
    await ui.screenshot("staff-devices")
    await ui.page.get_by_label("只看有问题的设备").check()
    await expect(devices.nth(1)).to_be_hidden()
    await expect(offline).to_be_visible()

    await ui.open("#/system")
    await expect(ui.page.locator("h1")).to_have_text("无权访问")


async def test_grid_worker_sees_own_grid_only(ui: UI, hub_client: HubClient) -> None:
    """A grid worker of building 2 sees the lobby's trouble, nothing of building 1."""
    community, _alert, _smoke = await _troubled_community(hub_client)
    name = await async_set_password(community.grid_worker)
    await ui.open()
    await ui.login(name)
    assert "系统" not in await ui.nav_labels()
    await ui.open("#/areas")
    await expect(ui.page.locator("#areas-status")).to_have_text(
        "您负责的区域内有 1 条未处理告警，1 个不可用实体。"
    )
    ids = await ui.page.locator("#area-tree [data-area-id]").evaluate_all(
        "items => items.map(i => i.dataset.areaId)"
    )
    assert ids == ["b2", "b2-lobby"]
    lobby = ui.page.locator("[data-area-id='b2-lobby']")
    await expect(lobby.locator("[data-entity-id='sensor.lobby_b2']")).to_be_visible()
    await expect(ui.page.locator("[data-entity-id='binary_sensor.smoke_1201']")).to_have_count(0)
    await ui.screenshot("staff-areas-grid_worker")
    await ui.open("#/devices")
    await expect(ui.page.locator("#devices-status")).to_have_text("共 0 台设备，0 台有问题。")
    await expect(ui.page.locator("#device-list")).to_contain_text("您负责的区域内没有设备。")
