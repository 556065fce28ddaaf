"""The blueprint commands of the WebSocket API: list and import (YAML text; nothing fetched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linli.testing.http import HubClient

DOOR = """\
# Kept as written.
blueprint:
  name: Door left open
  description: Alert when a door stays open.
  domain: automation
  input:
    door:
      name: Door
      selector: {entity: {filter: {domain: binary_sensor}}}
    minutes:
      name: Minutes
      default: 10
      selector: {number: {min: 1, max: 60}}
triggers:
  - trigger: state
    entity_id: !input door
    to: "on"
    for: {minutes: !input minutes}
actions: []
"""

USES_DOOR = """\
automation:
  - alias: Lobby door
    use_blueprint:
      path: local/door.yaml
      input: {door: binary_sensor.lobby}
"""


@pytest.fixture
def hub_config() -> str:
    """An automation using a blueprint that is imported during the test."""
    return USES_DOOR


def _config_dir(client: HubClient) -> Path:
    return Path(client.hub.config_dir)


async def test_import_yaml_then_list(hub_client: HubClient) -> None:
    async with hub_client.ws_client() as ws:
        imported = await ws.result("linli/blueprints/import", yaml=DOOR, path="local/door.yaml")
        assert imported == {
            "path": "local/door.yaml",
            "domain": "automation",
            "name": "Door left open",
            "file": "blueprints/automation/local/door.yaml",
            "source_url_added": False,
        }
        stored = _config_dir(hub_client) / "blueprints/automation/local/door.yaml"
        assert stored.read_text(encoding="utf-8") == DOOR

        rows = await ws.result("linli/blueprints/list")
    mine = next(row for row in rows if row["path"] == "local/door.yaml")
    assert mine["owner"] == "config"
    assert mine["valid"] is True
    assert mine["description"] == "Alert when a door stays open."
    assert mine["used_by"] == ["Lobby door"]
    assert [item["key"] for item in mine["inputs"]] == ["door", "minutes"]
    door, minutes = mine["inputs"]
    assert door["required"] is True
    # The selector as validated (normalised).
    assert door["selector"]["entity"]["filter"] == [{"domain": ["binary_sensor"]}]
    assert "default" not in door
    assert minutes["required"] is False
    assert minutes["default"] == 10
    # The blueprints Linli ships are listed too, unused here.
    shipped = [row for row in rows if row["path"] == "linli/no_activity_alert.yaml"]
    assert shipped
    assert shipped[0]["owner"] != "config"
    assert shipped[0]["used_by"] == []


async def test_import_names_the_file_after_the_blueprint(hub_client: HubClient) -> None:
    async with hub_client.ws_client() as ws:
        imported = await ws.result("linli/blueprints/import", yaml=DOOR)
        assert imported["path"] == "local/door_left_open.yaml"
        # A second import of the same path is refused unless forced.
        again = await ws.call("linli/blueprints/import", yaml=DOOR)
        assert again["success"] is False
        assert again["error"]["code"] == "invalid_format"
        assert "already exists" in again["error"]["message"]
        assert "force" in again["error"]["message"]
        forced = await ws.result("linli/blueprints/import", yaml=DOOR, force=True)
        assert forced["path"] == "local/door_left_open.yaml"


async def test_invalid_blueprint_is_refused_with_its_problems(hub_client: HubClient) -> None:
    broken = DOOR.replace("  domain: automation\n", "")
    async with hub_client.ws_client() as ws:
        answer = await ws.call("linli/blueprints/import", yaml=broken)
        not_yaml = await ws.call("linli/blueprints/import", yaml="blueprint: [unclosed")
        outside = await ws.call("linli/blueprints/import", yaml=DOOR, path="../escape.yaml")
        neither = await ws.call("linli/blueprints/import")
        local_file = await ws.call("linli/blueprints/import", url="/etc/hostname")
    assert answer["success"] is False
    assert answer["error"]["code"] == "invalid_format"
    assert answer["error"]["message"].startswith("Not a valid blueprint: ")
    assert "domain" in answer["error"]["message"]
    assert not_yaml["error"]["code"] == "invalid_format"
    assert not_yaml["error"]["message"].startswith("Not a valid blueprint: ")
    assert "inside the blueprint folder" in outside["error"]["message"]
    assert neither["error"]["message"] == "Give the blueprint as url or as yaml."
    # Only URLs: the hub's own files are never read through this command.
    assert "not an http(s) URL" in local_file["error"]["message"]
    assert not (_config_dir(hub_client) / "blueprints").exists()


async def test_only_admins(hub_client: HubClient) -> None:
    staff = await hub_client.as_user("staff", name="staff")
    async with staff.ws_client() as ws:
        assert await ws.error("linli/blueprints/list") == "unauthorized"
        assert await ws.error("linli/blueprints/import", yaml=DOOR) == "unauthorized"
    assert not (_config_dir(hub_client) / "blueprints").exists()
