"""Finding blueprints (config dir and integrations' folders), resolving and counting their uses."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from linli import Hub, hookimpl
from linli.blueprint import (
    BlueprintFolder,
    SubstitutedConfig,
    async_resolve_blueprint_automations,
    blueprint_folders,
    blueprint_usage,
    iter_blueprints,
    read_automation_configs,
    resolve,
)
from linli.config import load_yaml
from linli.plugins.loader import IntegrationLoader, make_plugin_manager

FIXTURES = Path(__file__).parent / "fixtures"
Write = Callable[[str, str], Path]

AUTOMATIONS = """\
- id: hall_light
  alias: Hall light
  use_blueprint:
    path: homeassistant/motion_light.yaml
    input:
      motion_entity: binary_sensor.hall_motion
      light_target:
        entity_id: light.hall
- id: plain
  triggers: []
  actions: []
- alias: Stairs light
  use_blueprint:
    path: homeassistant/motion_light.yaml
    input:
      light_target: {entity_id: light.stairs}
- id: gate_light
  use_blueprint:
    path: ./homeassistant//motion_light.yaml
    input:
      motion_entity: binary_sensor.gate_motion
      light_target: {entity_id: light.gate}
      no_motion_wait: 30
"""


def automations(config_dir: Path) -> list[Any]:
    loaded = load_yaml(config_dir / "automations.yaml", config_dir=config_dir)
    assert isinstance(loaded, list)
    return loaded


class ShipsBlueprints:
    """An integration plugin that ships a blueprint folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def linli_blueprint_folders(self) -> list[Path]:
        return [self.folder]


def shipped(tmp_path: Path, name: str = "elder_no_activity.yaml") -> Path:
    """An integration's blueprint folder holding one fixture under automation/."""
    folder = tmp_path / "integration" / "blueprints"
    (folder / "automation").mkdir(parents=True)
    shutil.copy(FIXTURES / name, folder / "automation" / name)
    return folder


def test_resolve_substitutes_and_reports_each_broken_automation(
    config_dir: Path, write: Write
) -> None:
    write("automations.yaml", AUTOMATIONS)
    configs = automations(config_dir)
    resolved, issues = resolve(config_dir, configs)
    assert [str(issue) for issue in issues] == [
        "automations.yaml:13: automation[2].use_blueprint: missing input 'motion_entity' "
        "(Motion Sensor): blueprint 'Motion-activated Light' "
        "(automation/homeassistant/motion_light.yaml) needs it and it has no default"
    ]
    # The broken one is left out; the others come back in order, plain ones untouched.
    assert [config.get("id") for config in resolved] == ["hall_light", "plain", "gate_light"]
    assert resolved[1] is configs[1]
    hall, gate = resolved[0], resolved[2]
    assert isinstance(hall, SubstitutedConfig)
    assert hall["triggers"]["entity_id"] == "binary_sensor.hall_motion"
    assert hall["actions"][2] == {
        "alias": "Wait the number of seconds that has been set",
        "delay": 120,
    }
    assert gate["actions"][2]["delay"] == 30
    assert hall.location_of("triggers") == (
        "blueprints/automation/homeassistant/motion_light.yaml",
        37,
    )

    # With keep_positions, the one that cannot be made stands as None in its place.
    kept, again = resolve(config_dir, configs, keep_positions=True)
    assert again == issues
    assert [config and config.get("id") for config in kept] == [
        "hall_light",
        "plain",
        None,
        "gate_light",
    ]


@pytest.mark.parametrize(
    ("use_blueprint", "expected"),
    [
        (
            "{path: homeassistant/nothing.yaml}",
            "automations.yaml:3: automation[0].use_blueprint.path: no blueprint "
            "automation/homeassistant/nothing.yaml (looked for "
            "blueprints/automation/homeassistant/nothing.yaml)",
        ),
        (
            "{path: ../../secrets.yaml}",
            "automations.yaml:3: automation[0].use_blueprint.path: expected a path inside the "
            "blueprint folder, like 'homeassistant/motion_light.yaml', got '../../secrets.yaml'",
        ),
        (
            "{path: homeassistant/motion_light}",
            "automations.yaml:3: automation[0].use_blueprint.path: a blueprint path ends in "
            ".yaml, got 'homeassistant/motion_light'",
        ),
        (
            "{input: {}}",
            "automations.yaml:3: automation[0].use_blueprint: missing required key 'path'",
        ),
    ],
)
def test_bad_use_blueprint_is_located(
    config_dir: Path, write: Write, use_blueprint: str, expected: str
) -> None:
    write("automations.yaml", f"- alias: Broken\n  use_blueprint:\n    {use_blueprint}\n")
    resolved, issues = resolve(config_dir, automations(config_dir))
    assert resolved == []
    assert [str(issue) for issue in issues] == [expected]


def test_an_invalid_blueprint_is_reported_once_and_each_use_points_to_it(
    config_dir: Path, write: Write
) -> None:
    write(
        "blueprints/automation/broken.yaml",
        "blueprint:\n  name: Broken\n  domain: automation\nactions:\n  - delay: !input wait\n",
    )
    write(
        "automations.yaml",
        "- use_blueprint: {path: broken.yaml}\n- use_blueprint: {path: broken.yaml}\n",
    )
    _, issues = resolve(config_dir, automations(config_dir), key_prefix="")
    assert [str(issue) for issue in issues] == [
        "blueprints/automation/broken.yaml:5: '!input wait' is not declared under blueprint.input",
        "automations.yaml:1: use_blueprint.path: blueprint automation/broken.yaml is invalid; "
        "see the problems reported in blueprints/automation/broken.yaml",
        "automations.yaml:2: use_blueprint.path: blueprint automation/broken.yaml is invalid; "
        "see the problems reported in blueprints/automation/broken.yaml",
    ]


def test_a_blueprint_of_another_domain_cannot_make_an_automation(
    config_dir: Path, write: Write
) -> None:
    write(
        "blueprints/automation/script.yaml",
        "blueprint:\n  name: A script\n  domain: script\nsequence: []\n",
    )
    write("automations.yaml", "- use_blueprint: {path: script.yaml}\n")
    _, issues = resolve(config_dir, automations(config_dir))
    assert str(issues[0]) == (
        "blueprints/automation/script.yaml:3: blueprint.domain: this is a 'script' blueprint, "
        "where an 'automation' blueprint is needed"
    )


def test_integration_folders_are_searched_after_the_config_dir(
    config_dir: Path, write: Write, tmp_path: Path
) -> None:
    folder = shipped(tmp_path)
    write(
        "automations.yaml",
        "- use_blueprint:\n"
        "    path: elder_no_activity.yaml\n"
        "    input: {activity_sensors: [binary_sensor.door_1201]}\n",
    )
    [config], issues = resolve(config_dir, automations(config_dir), [folder])
    assert issues == []
    assert config["triggers"][0]["entity_id"] == ["binary_sensor.door_1201"]
    shown = str(folder / "automation" / "elder_no_activity.yaml")
    assert config.location_of("triggers") == (shown, 60)

    # A copy in the config dir wins, so a community can adapt a shipped blueprint.
    text = (FIXTURES / "elder_no_activity.yaml").read_text(encoding="utf-8")
    write("blueprints/automation/elder_no_activity.yaml", text.replace("12}", "6}"))
    [config], _ = resolve(config_dir, automations(config_dir), [folder])
    assert config["triggers"][0]["for"] == {"hours": 6}


def test_blueprint_folders_come_from_the_hook(tmp_path: Path) -> None:
    manager = make_plugin_manager()
    manager.register(ShipsBlueprints(tmp_path / "a"), name="alpha")

    class Broken:
        @hookimpl
        def linli_blueprint_folders(self) -> list[Path]:
            raise RuntimeError("no folder today")

    class Nothing:
        @hookimpl
        def linli_blueprint_folders(self) -> None:
            return None

    manager.register(Broken(), name="broken")
    manager.register(Nothing(), name="nothing")
    folders, problems = blueprint_folders(manager)
    assert folders == [BlueprintFolder(tmp_path / "a", "alpha")]
    assert problems == ["broken: linli_blueprint_folders raised RuntimeError: no folder today"]


def test_iter_blueprints_finds_every_blueprint_and_marks_shadowed_ones(
    config_dir: Path, write: Write, tmp_path: Path
) -> None:
    folder = shipped(tmp_path)
    write("blueprints/automation/elder_no_activity.yaml", "blueprint: {name: Mine}\n")
    write("blueprints/automation/.hidden/ignored.yaml", "nothing: here\n")
    found = iter_blueprints(config_dir, [BlueprintFolder(folder, "linli_elder")])
    assert [(f.domain, f.path, f.owner, f.shadowed_by) for f in found] == [
        ("automation", "elder_no_activity.yaml", "config", None),
        ("automation", "homeassistant/motion_light.yaml", "config", None),
        ("automation", "elder_no_activity.yaml", "linli_elder", "config"),
    ]
    assert found[0].blueprint is None
    assert [str(issue) for issue in found[0].issues] == [
        "blueprints/automation/elder_no_activity.yaml:1: blueprint: missing required key 'domain'"
    ]
    assert found[1].blueprint is not None
    assert found[1].blueprint.name == "Motion-activated Light"


def test_blueprint_usage_maps_paths_to_automations(config_dir: Path, write: Write) -> None:
    write("automations.yaml", AUTOMATIONS)
    expected = {"homeassistant/motion_light.yaml": ["Hall light", "Stairs light", "gate_light"]}
    assert blueprint_usage(config_dir, automations(config_dir)) == expected
    # Without configs, the config dir's configuration.yaml is read.
    assert blueprint_usage(config_dir) == expected
    assert blueprint_usage(config_dir, [{"use_blueprint": {"path": "x.yaml"}}]) == {
        "x.yaml": ["automation[0]"]
    }


def test_read_automation_configs_reads_every_automation_section(
    config_dir: Path, write: Write
) -> None:
    write(
        "configuration.yaml",
        "linli: {name: Test}\n"
        "automation: !include automations.yaml\n"
        "automation extra:\n  - id: extra\n"
        "automation single: {id: single}\n"
        "automationless: {id: nope}\n",
    )
    write("automations.yaml", "- id: main\n")
    ids = [config["id"] for config in read_automation_configs(config_dir)]
    assert ids == ["main", "extra", "single"]


async def test_resolve_on_a_hub_uses_its_integrations_folders(hub: Hub, tmp_path: Path) -> None:
    own = hub.config_dir / "blueprints" / "automation"
    own.mkdir(parents=True)
    shutil.copy(FIXTURES / "motion_light.yaml", own)
    loader = IntegrationLoader(hub)
    loader.register(ShipsBlueprints(shipped(tmp_path)), name="linli_elder")
    configs = [
        {
            "id": "hall",
            "use_blueprint": {
                "path": "motion_light.yaml",
                "input": {
                    "motion_entity": "binary_sensor.hall_motion",
                    "light_target": {"entity_id": "light.hall"},
                },
            },
        },
        {
            "id": "elder",
            "use_blueprint": {
                "path": "elder_no_activity.yaml",
                "input": {"activity_sensors": ["sensor.water_1201"]},
            },
        },
    ]
    resolved, issues = await async_resolve_blueprint_automations(hub, configs)
    assert issues == []
    assert [config["id"] for config in resolved] == ["hall", "elder"]
    assert resolved[0]["triggers"]["entity_id"] == "binary_sensor.hall_motion"
    assert resolved[1]["triggers"][0]["entity_id"] == ["sensor.water_1201"]
    # Running these automations against demo entities is tested end to end
    # (tests/scenarios/) once the automation integration is in place.
