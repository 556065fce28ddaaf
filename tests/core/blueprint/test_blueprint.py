"""A blueprint document: its schema, its inputs, and substituting them into the body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linli.blueprint import (
    NO_DEFAULT,
    SELECTORS,
    Blueprint,
    BlueprintError,
    BlueprintInputs,
    SubstitutedConfig,
    load_blueprint,
    substitute,
)
from linli.config import Input, NodeDict, load_yaml
from linli.const import __version__

FIXTURES = Path(__file__).parent / "fixtures"


def load(path: Path) -> Blueprint:
    blueprint, issues = load_blueprint(path)
    assert issues == []
    assert blueprint is not None
    return blueprint


def problems(tmp_path: Path, text: str) -> list[str]:
    """Return the issues of a blueprint written as ``text``, as ``file:line: …`` strings."""
    file = tmp_path / "bp.yaml"
    file.write_text(text, encoding="utf-8")
    blueprint, issues = load_blueprint(file)
    assert blueprint is None
    return [str(issue) for issue in issues]


def use(path: str = "homeassistant/motion_light.yaml", **inputs: Any) -> dict[str, Any]:
    return {"alias": "Hall light", "use_blueprint": {"path": path, "input": inputs}}


MOTION_INPUTS = {
    "motion_entity": "binary_sensor.hall_motion",
    "light_target": {"entity_id": "light.hall"},
}


# --- the Home Assistant motion light blueprint --------------------------------------------


def test_home_assistant_blueprint_validates() -> None:
    blueprint = load(FIXTURES / "motion_light.yaml")
    assert blueprint.name == "Motion-activated Light"
    assert blueprint.domain == "automation"
    assert blueprint.author == "Home Assistant"
    assert blueprint.description == "Turn on a light when motion is detected."
    assert blueprint.source_url is None
    assert blueprint.metadata["homeassistant"] == {"min_version": "2024.10.0"}
    assert list(blueprint.inputs) == ["motion_entity", "light_target", "no_motion_wait"]
    assert blueprint.placeholders == {"motion_entity", "light_target", "no_motion_wait"}
    motion = blueprint.inputs["motion_entity"]
    assert (motion.name, motion.selector_type, motion.default) == (
        "Motion Sensor",
        "entity",
        NO_DEFAULT,
    )
    assert motion.selector == {
        "entity": {
            "filter": [{"device_class": ["motion"], "domain": ["binary_sensor"]}],
            "multiple": False,
            "reorder": False,
        }
    }
    assert (motion.file, motion.line) == ("motion_light.yaml", 9)
    wait = blueprint.inputs["no_motion_wait"]
    assert (wait.default, wait.has_default, wait.selector_type) == (120, True, "number")
    assert blueprint.inputs["light_target"].selector_type == "target"


def test_home_assistant_blueprint_substitutes_into_the_automation() -> None:
    blueprint = load(FIXTURES / "motion_light.yaml")
    config = BlueprintInputs(blueprint, {"id": "hall", **use(**MOTION_INPUTS)}).substitute()
    assert config == {
        "mode": "restart",
        "max_exceeded": "silent",
        "triggers": {
            "trigger": "state",
            "entity_id": "binary_sensor.hall_motion",
            "from": "off",
            "to": "on",
        },
        "actions": [
            {
                "alias": "Turn on the light",
                "action": "light.turn_on",
                "target": {"entity_id": "light.hall"},
            },
            {
                "alias": "Wait until there is no motion from device",
                "wait_for_trigger": {
                    "trigger": "state",
                    "entity_id": "binary_sensor.hall_motion",
                    "from": "on",
                    "to": "off",
                },
            },
            {"alias": "Wait the number of seconds that has been set", "delay": 120},
            {
                "alias": "Turn off the light",
                "action": "light.turn_off",
                "target": {"entity_id": "light.hall"},
            },
        ],
        "id": "hall",
        "alias": "Hall light",
    }
    assert isinstance(config, SubstitutedConfig)
    assert config.blueprint_inputs.blueprint is blueprint


def test_given_value_replaces_the_default_and_config_keys_win() -> None:
    blueprint = load(FIXTURES / "motion_light.yaml")
    config = BlueprintInputs(
        blueprint, {"mode": "single", **use(**MOTION_INPUTS, no_motion_wait=30)}
    ).substitute()
    assert config["actions"][2]["delay"] == 30
    # As in Home Assistant, the configuration's own keys win over the blueprint body's.
    assert config["mode"] == "single"


def test_substituted_config_keeps_where_each_part_was_written(tmp_path: Path) -> None:
    blueprint = load(FIXTURES / "motion_light.yaml")
    (tmp_path / "automations.yaml").write_text(
        "- id: hall\n"
        "  use_blueprint:\n"
        "    path: homeassistant/motion_light.yaml\n"
        "    input:\n"
        "      motion_entity: binary_sensor.hall_motion\n"
        "      light_target:\n"
        "        entity_id: light.hall\n",
        encoding="utf-8",
    )
    [raw] = load_yaml(tmp_path / "automations.yaml")
    config = BlueprintInputs(blueprint, raw).substitute()
    # The blueprint's structure is located in the blueprint file ...
    assert config.location_of("actions") == ("motion_light.yaml", 43)
    assert config["actions"][2].location_of("delay") == ("motion_light.yaml", 54)
    # ... the user's values where the user wrote them, and the config's own keys too.
    target = config["actions"][0]["target"]
    assert (target.__config_file__, target.__line__) == ("automations.yaml", 7)
    entity = config["triggers"]["entity_id"]
    assert (entity.__config_file__, entity.__line__) == ("automations.yaml", 5)
    assert config.location_of("id") == ("automations.yaml", 1)
    # Each use of an input gets its own copy.
    assert config["actions"][0]["target"] is not config["actions"][3]["target"]


def test_substitute_replaces_markers_anywhere() -> None:
    body = {"a": [Input("x"), {"b": Input("y")}], "c": "plain"}
    assert substitute(body, {"x": 1, "y": [2]}) == {"a": [1, {"b": [2]}], "c": "plain"}
    with pytest.raises(KeyError):
        substitute(body, {"x": 1})


# --- input problems -----------------------------------------------------------------------


def test_missing_input_names_it_at_the_use_blueprint(tmp_path: Path) -> None:
    blueprint, _ = load_blueprint(
        FIXTURES / "motion_light.yaml", name="automation/homeassistant/motion_light.yaml"
    )
    assert blueprint is not None
    (tmp_path / "automations.yaml").write_text(
        "- alias: Hall light\n"
        "  use_blueprint:\n"
        "    path: homeassistant/motion_light.yaml\n"
        "    input:\n"
        "      light_target: {entity_id: light.hall}\n",
        encoding="utf-8",
    )
    [raw] = load_yaml(tmp_path / "automations.yaml")
    inputs = BlueprintInputs(blueprint, raw)
    assert [str(issue) for issue in inputs.validate()] == [
        "automations.yaml:2: use_blueprint: missing input 'motion_entity' (Motion Sensor): "
        "blueprint 'Motion-activated Light' (automation/homeassistant/motion_light.yaml) "
        "needs it and it has no default"
    ]
    with pytest.raises(BlueprintError) as caught:
        inputs.substitute()
    assert caught.value.issues == inputs.validate()


def test_undeclared_and_unsuitable_inputs_are_named(tmp_path: Path) -> None:
    blueprint = load(FIXTURES / "motion_light.yaml")
    (tmp_path / "automations.yaml").write_text(
        "- use_blueprint:\n"
        "    path: homeassistant/motion_light.yaml\n"
        "    input:\n"
        "      motion_entity: light.hall\n"
        "      light_target:\n"
        "        entity_id: switch.hall\n"
        "      no_motion_wait: 5000\n"
        "      motion_sensor: binary_sensor.x\n"
        "      colour: red\n",
        encoding="utf-8",
    )
    [raw] = load_yaml(tmp_path / "automations.yaml")
    assert [str(issue) for issue in BlueprintInputs(blueprint, raw).validate()] == [
        "automations.yaml:4: use_blueprint.input.motion_entity: invalid value for input "
        "'motion_entity' (entity selector): light.hall is not in domain binary_sensor",
        "automations.yaml:5: use_blueprint.input.light_target: invalid value for input "
        "'light_target' (target selector): switch.hall is not in domain light",
        "automations.yaml:7: use_blueprint.input.no_motion_wait: invalid value for input "
        "'no_motion_wait' (number selector): 5000 is above the maximum 3600",
        "automations.yaml:8: use_blueprint.input.motion_sensor: blueprint "
        "'Motion-activated Light' (motion_light.yaml) has no input 'motion_sensor' "
        "(did you mean 'motion_entity'?)",
        "automations.yaml:9: use_blueprint.input.colour: blueprint 'Motion-activated Light' "
        "(motion_light.yaml) has no input 'colour'; its inputs are: motion_entity, "
        "light_target, no_motion_wait",
    ]


def test_the_blueprints_own_default_is_accepted_even_if_no_selector_would(
    tmp_path: Path,
) -> None:
    file = tmp_path / "bp.yaml"
    file.write_text(
        "blueprint:\n"
        "  name: Optional light\n"
        "  domain: automation\n"
        "  input:\n"
        "    extra_light:\n"
        "      default: ''\n"
        "      selector: {entity: {filter: {domain: light}}}\n"
        "variables:\n"
        "  extra: !input extra_light\n",
        encoding="utf-8",
    )
    blueprint = load(file)
    given = {"use_blueprint": {"path": "bp.yaml", "input": {"extra_light": ""}}}
    assert BlueprintInputs(blueprint, given).substitute() == {"variables": {"extra": ""}}
    left_out = {"use_blueprint": {"path": "bp.yaml"}}
    assert BlueprintInputs(blueprint, left_out).substitute() == {"variables": {"extra": ""}}


# --- input sections and multiple entities -------------------------------------------------


def test_input_sections_are_flattened_for_substitution() -> None:
    blueprint = load(FIXTURES / "elder_no_activity.yaml")
    assert list(blueprint.inputs) == [
        "activity_sensors",
        "quiet_for",
        "check_from",
        "message",
        "extra_actions",
    ]
    assert [(i.key, i.section) for i in blueprint.inputs.values()] == [
        ("activity_sensors", "sensors"),
        ("quiet_for", "timing"),
        ("check_from", "timing"),
        ("message", None),
        ("extra_actions", None),
    ]
    timing = blueprint.sections["timing"]
    assert (timing.name, timing.collapsed, timing.inputs) == (
        "Timing",
        True,
        ("quiet_for", "check_from"),
    )
    assert blueprint.sections["sensors"].icon == "mdi:motion-sensor"
    config = BlueprintInputs(
        blueprint,
        use(
            "elder_no_activity.yaml",
            activity_sensors=["binary_sensor.door_1201", "sensor.water_1201"],
            quiet_for={"hours": 24},
        ),
    ).substitute()
    assert config["triggers"] == [
        {
            "trigger": "state",
            "entity_id": ["binary_sensor.door_1201", "sensor.water_1201"],
            "for": {"hours": 24},
        }
    ]
    assert config["conditions"] == [{"condition": "time", "after": "07:00:00"}]
    assert config["actions"][0]["data"]["severity"] == "warning"
    assert config["actions"][1] == {"sequence": []}


@pytest.mark.parametrize(
    ("sensors", "message"),
    [
        (
            "binary_sensor.door_1201",
            "expected a list (the selector has multiple: true), got 'binary_sensor.door_1201'",
        ),
        (
            ["binary_sensor.door_1201", "light.hall"],
            "item 2: light.hall is not in domain binary_sensor or sensor",
        ),
    ],
)
def test_multiple_entity_selector_checks_each_entity(sensors: Any, message: str) -> None:
    blueprint = load(FIXTURES / "elder_no_activity.yaml")
    [issue] = BlueprintInputs(
        blueprint, use("elder_no_activity.yaml", activity_sensors=sensors)
    ).validate()
    assert issue.key == "use_blueprint.input.activity_sensors"
    assert issue.message == (
        f"invalid value for input 'activity_sensors' (entity selector): {message}"
    )


def test_select_checks_the_option_value() -> None:
    blueprint = load(FIXTURES / "elder_no_activity.yaml")
    [issue] = BlueprintInputs(
        blueprint,
        use("elder_no_activity.yaml", activity_sensors=[], message="Urgent"),
    ).validate()
    assert issue.message == (
        "invalid value for input 'message' (select selector): "
        "'Urgent' is not one of 'info', 'warning', 'urgent'"
    )


# --- blueprint schema problems ------------------------------------------------------------


def test_unknown_selector_is_located_and_lists_the_known_types(tmp_path: Path) -> None:
    [message] = problems(
        tmp_path,
        "blueprint:\n"
        "  name: Gate\n"
        "  domain: automation\n"
        "  input:\n"
        "    plate:\n"
        "      selector:\n"
        "        licence_plate: {}\n",
    )
    assert message.startswith(
        "bp.yaml:7: blueprint.input.plate.selector: unknown selector type 'licence_plate'; "
        "known types: action, area, attribute, boolean,"
    )
    assert message.endswith("target, template, text, time, trigger")


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "blueprint:\n"  # 1
        "  name: Everything wrong\n"
        "  domain: automation\n"
        "  homeassistant:\n"
        "    min_version: 2024.6\n"  # 5
        "  sorce_url: https://example.org/x.yaml\n"
        "  input:\n"
        "    a:\n"
        "      selector: {entitiy: {}}\n"
        "    b:\n"  # 10
        "      selector:\n"
        "        number: {mode: slider}\n"
        "    c: 5\n"
        "    group:\n"
        "      name: Group\n"  # 15
        "      input:\n"
        "        a: {name: again}\n"
        "        d:\n"
        "          selector: {text: {multiline: yes please}}\n"
        "triggers:\n"  # 20
        "  - trigger: state\n"
        "    entity_id: !input motion_entity\n",
    ) == [
        "bp.yaml:5: blueprint.homeassistant.min_version: write the version in quotes, "
        "e.g. '2024.6.0', not 2024.6",
        "bp.yaml:6: blueprint.sorce_url: unknown key 'sorce_url' (did you mean 'source_url'?)",
        "bp.yaml:9: blueprint.input.a.selector: unknown selector type 'entitiy' "
        "(did you mean 'entity'?); known types: " + ", ".join(SELECTORS),
        "bp.yaml:12: blueprint.input.b.selector.number.mode: min and max are required in "
        "slider mode, got 'slider'",
        "bp.yaml:13: blueprint.input.c: an input is a mapping of name, description, default "
        "and selector (or empty), not int",
        "bp.yaml:17: blueprint.input.group.input.a: input 'a' is declared twice "
        "(first at bp.yaml:8)",
        "bp.yaml:19: blueprint.input.group.input.d.selector.text.multiline: expected bool, "
        "got 'yes please'",
        "bp.yaml:22: '!input motion_entity' is not declared under blueprint.input; "
        "its inputs are: a, b, c, d",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("automation:\n  - alias: x\n", "bp.yaml:1: not a blueprint: a blueprint file starts"),
        ("blueprint:\n  name: X\n", "bp.yaml:2: blueprint: missing required key 'domain'"),
        (
            "blueprint:\n  name: X\n  domain: automation\n  source_url: ftp://x/y.yaml\n",
            "bp.yaml:4: blueprint.source_url: expected an http(s) URL, got 'ftp://x/y.yaml'",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\n  linli: {min_version: 99.0.0}\n",
            f"bp.yaml:4: blueprint.linli.min_version: needs Linli 99.0.0 or newer; "
            f"this is Linli {__version__}",
        ),
        (
            "blueprint:\n  name: X\n  domain: automation\nactions:\n  - delay: !input wait_time\n",
            "bp.yaml:5: '!input wait_time' is not declared under blueprint.input",
        ),
    ],
)
def test_blueprint_problems(tmp_path: Path, text: str, expected: str) -> None:
    [message] = problems(tmp_path, text)
    assert message.startswith(expected)


def test_home_assistant_min_version_is_accepted_and_not_checked(tmp_path: Path) -> None:
    file = tmp_path / "bp.yaml"
    file.write_text(
        "blueprint:\n  name: X\n  domain: automation\n"
        "  homeassistant: {min_version: 2099.1.0}\n  linli: {min_version: 0.1.0}\n",
        encoding="utf-8",
    )
    assert load(file).metadata["linli"] == {"min_version": "0.1.0"}


def test_a_blueprint_of_another_domain_is_refused_where_one_is_expected() -> None:
    blueprint, issues = load_blueprint(FIXTURES / "motion_light.yaml", expected_domain="script")
    assert blueprint is None
    assert [str(issue) for issue in issues] == [
        "motion_light.yaml:4: blueprint.domain: this is a 'automation' blueprint, where an "
        "'script' blueprint is needed"
    ]


def test_blueprint_from_plain_data_is_named_by_its_path() -> None:
    data = NodeDict({"blueprint": {"name": "X", "domain": "automation", "input": {"a": None}}})
    blueprint = Blueprint({**data, "actions": [{"delay": Input("a")}]}, path="auto/x.yaml")
    assert blueprint.body == {"actions": [{"delay": Input("a")}]}
    assert repr(blueprint) == "<Blueprint automation 'X'>"
    with pytest.raises(BlueprintError) as caught:
        Blueprint({"blueprint": {"domain": "automation"}}, path="auto/y.yaml")
    assert str(caught.value) == "auto/y.yaml: blueprint: missing required key 'name'"
