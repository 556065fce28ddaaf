"""History pictures: a line chart of a numeric sensor and a timeline of states, as inline SVG."""

from __future__ import annotations

from playwright.async_api import expect

from linli.clock import FakeClock
from linli.testing.community import async_build_community
from linli.testing.http import HubClient

from .conftest import UI, async_set_password
from .test_staff import add_entity


async def test_history_line_chart_and_timeline(
    ui: UI, hub_client: HubClient, clock: FakeClock
) -> None:
    """From device health to a temperature's line chart (a gap where it was unavailable) and a
    door's timeline; both drawn by the page itself, the numbers also readable as a table."""
    community = await async_build_community(hub_client)
    hub = hub_client.hub
    device = hub.registries.devices.async_get_or_create(
        integration="e2e", identifiers={("e2e", "th-1")}, name="Thermometer", area_id="b1-u1"
    ).id
    add_entity(hub, "sensor.stair_temp", "20.5", device_id=device, unit_of_measurement="°C")
    add_entity(hub, "sensor.stair_door", "closed", device_id=device)
    for temperature, door in (("21", "open"), ("unavailable", "closed"), ("22.5", "open")):
        clock.advance(6 * 3600)
        for entity_id, state in (("sensor.stair_temp", temperature), ("sensor.stair_door", door)):
            old = hub.states.get(entity_id)
            assert old is not None
            hub.states.async_set(entity_id, state, old.attributes)
    clock.advance(3600)
    hub.states.async_set(
        "sensor.stair_temp", "19", {"friendly_name": "stair_temp", "unit_of_measurement": "°C"}
    )
    clock.advance(60)  # the period ends now, exclusive: let the last change lie before it
    name = await async_set_password(community.staff)
    await ui.open()
    await ui.login(name)

    await ui.open("#/devices")
    await ui.page.get_by_role("link", name="stair_temp").click()
    await expect(ui.page.locator("h1")).to_have_text("历史")
    output = ui.page.locator("#history-output")
    await expect(output).to_have_attribute("data-kind", "line")
    chart = output.get_by_role("img")
    await expect(chart).to_have_attribute(
        "aria-label", "stair_temp：在 19 到 22.5 °C 之间，当前 19 °C。"
    )
    assert await chart.locator("circle").evaluate_all(
        "dots => dots.map(d => Number(d.dataset.value))"
    ) == [20.5, 21, 22.5, 19]
    await expect(chart.locator("polyline")).to_have_count(2)  # the unavailable gap splits it
    await expect(ui.page.get_by_label("实体")).to_have_value("sensor.stair_temp")
    await output.get_by_text("以表格查看全部 5 次变化").click()
    await expect(ui.page.locator("#history-table tbody tr")).to_have_count(5)
    await expect(ui.page.locator("#history-table tbody tr").nth(2)).to_contain_text("不可用")
    await ui.screenshot("history-line")

    await ui.page.get_by_label("实体").select_option("sensor.stair_door")
    await ui.page.get_by_role("button", name="显示").click()
    await expect(output).to_have_attribute("data-kind", "timeline")
    bars = output.locator("svg rect")
    assert await bars.evaluate_all("bars => bars.map(b => b.dataset.state)") == [
        "closed",
        "open",
        "closed",
        "open",
    ]
    widths = await bars.evaluate_all("bars => bars.map(b => Number(b.getAttribute('width')))")
    assert widths[0] == widths[1] == widths[2] > 0  # six hours each
    await expect(output.locator(".chart-legend li")).to_have_text(["closed", "open"])
    await ui.screenshot("history-timeline")

    await ui.page.locator("#language-switch").click()
    await expect(output.get_by_role("img")).to_have_attribute(
        "aria-label", "stair_door: 4 state(s) in the last day."
    )
