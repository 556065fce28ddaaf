"""The administrators' system page: failed integrations with the reason, automations with
their last runs, blueprints, users and roles; closed to everyone else."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

import linli_frontend
from linli import ConfigType, Hub, Integration, Manifest, hookimpl
from linli.exceptions import SetupFailed
from linli.testing.community import SAMPLE_AREAS, async_build_community
from linli.testing.http import HubClient

from .conftest import UI, EvidencePlugin, async_set_password

REASON = "the gate controller at 10.0.0.9 did not answer"


async def _setup_broken(hub: Hub, config: ConfigType) -> bool:
    raise SetupFailed(REASON)


class BrokenPlugin:
    """An integration whose setup fails, as one whose device is gone would."""

    @hookimpl
    def linli_integration(self) -> Integration:
        """Describe it."""
        manifest = Manifest(
            domain="e2e_gate", name="Gate", dependencies=("api",), load_by_default=True
        )
        return Integration(manifest, _setup_broken)


@pytest.fixture
def hub_config() -> str:
    """The sample community, the web UI and one automation."""
    return (
        SAMPLE_AREAS
        + """
frontend:
automation:
  - id: night_round
    alias: Night round
    triggers:
      - trigger: event
        event_type: e2e_round
    actions:
      - event: e2e_round_done
"""
    )


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The web UI, the evidence view and an integration that fails to set up."""
    return [
        ("frontend", linli_frontend),
        ("e2e_evidence", EvidencePlugin()),
        ("e2e_gate", BrokenPlugin()),
    ]


async def test_admin_system_page(ui: UI, hub_client: HubClient) -> None:
    """The admin sees the failed integration and why, the automation's runs, the users."""
    community = await async_build_community(hub_client)
    hub_client.hub.bus.async_fire("e2e_round", {})
    await hub_client.hub.async_block_till_done()
    name = await async_set_password(community.admin)
    await ui.open()
    await ui.login(name)
    assert await ui.nav_labels() == [
        "首页",
        "告警看板",
        "区域",
        "设备状态",
        "系统",
        "辖区告警",
        "社区通知",
    ]
    await ui.page.locator("#nav a[href='#/system']").click()
    await expect(ui.page.locator("h1")).to_have_text("系统")

    failed = ui.page.locator("#integrations-failed [data-domain='e2e_gate']")
    await expect(failed).to_contain_text("失败")
    await expect(failed.locator(".reason")).to_have_text(REASON)
    await expect(ui.page.locator("#integrations-summary")).to_contain_text("失败 1 个")
    await expect(ui.page.locator("#integrations-loaded [data-domain='frontend']")).to_be_attached()

    automation = ui.page.locator("#automation-list [data-entity-id='automation.night_round']")
    await expect(automation.get_by_role("heading")).to_have_text("Night round")
    await expect(automation).to_contain_text("已启用")
    await automation.get_by_text("最近运行（1）").click()
    await expect(automation.locator(".trace")).to_contain_text("已完成")

    shipped = ui.page.locator(
        "#blueprint-list [data-path='automation/linli/no_activity_alert.yaml']"
    )
    await expect(shipped.locator(".used-by")).to_have_text("没有自动化使用它。")
    rows = ui.page.locator("#user-table tbody tr")
    roles = await rows.evaluate_all("rows => rows.map(r => r.dataset.role)")
    assert sorted(roles) == sorted(
        ["admin", "staff", "grid_worker", "police", "resident", "resident"]
    )
    staff = ui.page.locator(f"#user-table [data-user-id='{community.staff.user.id}']")
    await expect(staff).to_contain_text("物业人员")
    await expect(staff).to_contain_text("b1")
    await ui.screenshot("staff-system")


VALID_BLUEPRINT = """\
blueprint:
  name: Gate left open
  description: Alert when a gate stays open.
  domain: automation
  input:
    gate: {name: Gate, selector: {entity: {}}}
triggers:
  - trigger: state
    entity_id: !input gate
    to: "on"
actions: []
"""


async def test_admin_imports_a_blueprint(ui: UI, hub_client: HubClient) -> None:
    """Pasted YAML is checked by the hub: a valid blueprint is listed, an invalid one refused."""
    community = await async_build_community(hub_client)
    await ui.open()
    await ui.login(await async_set_password(community.admin))
    await ui.page.locator("#nav a[href='#/system']").click()
    section = ui.page.locator("#admin-blueprints")
    await expect(section.locator("#blueprint-list .blueprint").first).to_be_visible()
    listed = section.locator("#blueprint-list [data-path='automation/local/gate_left_open.yaml']")
    await expect(listed).to_have_count(0)

    await section.get_by_label("蓝图 YAML").fill(VALID_BLUEPRINT)
    await section.get_by_role("button", name="导入").click()
    await expect(section.locator("#blueprint-import-status")).to_have_text(
        "已导入“Gate left open”，位置：automation/local/gate_left_open.yaml。"
    )
    await expect(listed.get_by_role("heading")).to_have_text("Gate left open")
    await expect(listed).to_contain_text("Alert when a gate stays open.")
    await expect(listed).to_contain_text("来源：配置目录")
    await listed.get_by_text("输入项（1）").click()
    await expect(listed.locator("[data-input='gate']")).to_have_text("gate — Gate (必填)")
    await expect(section.get_by_label("蓝图 YAML")).to_have_value("")
    stored = hub_client.hub.config_dir / "blueprints/automation/local/gate_left_open.yaml"
    assert stored.read_text(encoding="utf-8") == VALID_BLUEPRINT
    await ui.screenshot("staff-blueprint-imported")

    await section.get_by_label("蓝图 YAML").fill(
        VALID_BLUEPRINT.replace("  domain: automation\n", "")
    )
    await section.get_by_label("蓝图文件夹中的路径（可选）").fill("local/broken.yaml")
    await section.get_by_role("button", name="导入").click()
    error = section.locator("#blueprint-import-error")
    await expect(error).to_contain_text("集线器拒绝了该蓝图：Not a valid blueprint: ")
    await expect(error).to_contain_text("domain")
    await expect(section.locator("#blueprint-import-status")).to_have_text("")
    await expect(section.locator("[data-path='automation/local/broken.yaml']")).to_have_count(0)
    assert not stored.with_name("broken.yaml").exists()
