"""Tests for the configuration YAML loader and the humanized validation issues."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import orjson
import pytest
import voluptuous as vol
import yaml

from linli.config import (
    ConfigError,
    ConfigIssue,
    Input,
    NodeDict,
    NodeList,
    NodeStr,
    issues_from_invalid,
    load_config_file,
    load_yaml,
    located,
    yaml_loader,
)
from linli.exceptions import LinliError


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> content) under ``root`` and return ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def load(root: Path) -> tuple[Any, list[ConfigIssue]]:
    return load_config_file(root)


def validate(schema: vol.Schema, config: Any) -> vol.Invalid:
    with pytest.raises(vol.Invalid) as info:
        schema(config)
    return info.value


# --- issues -----------------------------------------------------------------------------


def test_issue_str_and_config_error() -> None:
    first = ConfigIssue("configuration.yaml", 12, "mqtt.port", "expected int")
    second = ConfigIssue("configuration.yaml", None, None, "file not found")
    assert str(first) == "configuration.yaml:12: mqtt.port: expected int"
    assert str(second) == "configuration.yaml: file not found"
    assert str(ConfigIssue(None, None, "mqtt", "bad")) == "mqtt: bad"

    err = ConfigError([first, second])
    assert isinstance(err, LinliError)
    assert err.issues == [first, second]
    assert str(err) == f"{first}\n{second}"
    assert pickle.loads(pickle.dumps(err)).issues == [first, second]


# --- nodes and locations ----------------------------------------------------------------


def test_uses_the_c_loader_when_available() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    assert issubclass(yaml_loader._Loader, yaml.CSafeLoader)


def test_values_remember_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "linli:\n  name: Courtyard\n  floors: 12\nzones:\n  - north\n  - 7\n"
            )
        },
    )
    config, issues = load(tmp_path)
    assert issues == []
    assert isinstance(config, NodeDict)
    assert located(config) == ("configuration.yaml", 1)
    assert config.key_lines == {"linli": 1, "zones": 4}

    linli = config["linli"]
    assert isinstance(linli, NodeDict)
    assert located(linli) == ("configuration.yaml", 2)
    # An int cannot carry a location: its key's line is in the parent's table.
    assert linli["floors"] == 12
    assert linli.location_of("floors") == ("configuration.yaml", 3)
    assert isinstance(linli["name"], NodeStr)
    assert located(linli["name"]) == ("configuration.yaml", 2)

    zones = config["zones"]
    assert isinstance(zones, NodeList)
    assert zones == ["north", 7]
    assert zones.location_of(1) == ("configuration.yaml", 6)


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "# nothing yet\n"})
    config, issues = load(tmp_path)
    assert config == {}
    assert isinstance(config, NodeDict)
    assert issues == []


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "- a\n- b\n"})
    config, issues = load(tmp_path)
    assert config is None
    assert len(issues) == 1
    assert issues[0].file == "configuration.yaml"
    assert issues[0].line == 1
    assert "must be a mapping" in issues[0].message
    assert "a list" in issues[0].message


def test_missing_configuration_file(tmp_path: Path) -> None:
    config, issues = load(tmp_path)
    assert config is None
    assert issues == [ConfigIssue("configuration.yaml", None, None, "file not found")]


def test_non_utf8_file_is_a_clear_issue(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": b"linli:\n  name: caf\xe9\n"})
    config, issues = load(tmp_path)
    assert config is None
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == ("configuration.yaml", 2)
    assert "UTF-8" in issues[0].message
    assert "0xe9" in issues[0].message


def test_syntax_error_in_top_file_gives_one_issue_and_none(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "linli:\n  name: x\n bad: [\n"})
    config, issues = load(tmp_path)
    assert config is None
    assert len(issues) == 1
    assert issues[0].file == "configuration.yaml"
    assert issues[0].line == 3
    assert issues[0].message.startswith("invalid YAML: ")


def test_duplicate_key_is_reported_and_last_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "mqtt:\n"
                "  port: 1883\n"
                "  broker: a\n"
                "  port: 8883\n"
                # Keys merged in with << may be overridden without complaint.
                "base: &base {qos: 0, retain: false}\n"
                "topic:\n"
                "  <<: *base\n"
                "  qos: 1\n"
            )
        },
    )
    config, issues = load(tmp_path)
    assert config["mqtt"]["port"] == 8883
    assert config["mqtt"].location_of("port") == ("configuration.yaml", 4)
    assert config["topic"] == {"qos": 1, "retain": False}
    assert issues == [
        ConfigIssue(
            "configuration.yaml",
            4,
            None,
            "duplicate key 'port' (first on line 2); the last one wins",
        )
    ]


def test_unknown_tag_is_an_issue_not_a_failure(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "a: !incude other.yaml\nb: 2\n"})
    config, issues = load(tmp_path)
    assert config == {"a": None, "b": 2}
    assert issues == [
        ConfigIssue(
            "configuration.yaml", 1, None, "unknown tag '!incude' (did you mean '!include'?)"
        )
    ]


def test_first_issue_raises_without_an_issue_list(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "a: !secret nope\nb: !secret nope_either\n"})
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path / "configuration.yaml")
    assert len(info.value.issues) == 1
    assert info.value.issues[0].line == 1


# --- !include ---------------------------------------------------------------------------


def test_nested_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "mqtt: !include packages/mqtt.yaml\n",
            "packages/mqtt.yaml": "broker: localhost\ntls: !include tls/settings.yaml\n",
            "packages/tls/settings.yaml": "\nverify: true\nca: ca.pem\n",
        },
    )
    config, issues = load(tmp_path)
    assert issues == []
    assert config == {"mqtt": {"broker": "localhost", "tls": {"verify": True, "ca": "ca.pem"}}}
    tls = config["mqtt"]["tls"]
    assert located(tls) == ("packages/tls/settings.yaml", 2)
    assert located(tls["ca"]) == ("packages/tls/settings.yaml", 3)
    assert located(config["mqtt"]) == ("packages/mqtt.yaml", 1)


def test_missing_include_is_reported_at_the_tag(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "linli: {}\nmqtt: !include mqtt.yaml\nhttp: {}\n"})
    config, issues = load(tmp_path)
    assert config == {"linli": {}, "mqtt": None, "http": {}}
    assert issues == [
        ConfigIssue("configuration.yaml", 2, None, "cannot include 'mqtt.yaml': file not found")
    ]


def test_include_cycle_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "a: !include a.yaml\n",
            "a.yaml": "b: !include b.yaml\n",
            "b.yaml": "back: !include configuration.yaml\n",
        },
    )
    config, issues = load(tmp_path)
    assert config == {"a": {"b": {"back": None}}}
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == ("b.yaml", 1)
    chain = ["configuration.yaml", "a.yaml", "b.yaml", "configuration.yaml"]
    assert issues[0].message == "include cycle: " + " → ".join(chain)


def test_syntax_error_in_include_and_missing_secret_are_both_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "linli:\n"
                "  name: Courtyard\n"
                "automation: !include automations.yaml\n"
                "mqtt:\n"
                "  broker: localhost\n"
                "  password: !secret mqtt_password\n"
            ),
            "automations.yaml": "- alias: gate\n  trigger: [\n",
            "secrets.yaml": "other: x\n",
        },
    )
    config, issues = load(tmp_path)
    assert config["automation"] is None
    assert config["mqtt"] == {"broker": "localhost", "password": None}
    assert [(issue.file, issue.line) for issue in issues] == [
        ("automations.yaml", 3),
        ("configuration.yaml", 6),
    ]
    assert issues[0].message.startswith("invalid YAML: ")
    assert "mqtt_password" in issues[1].message


# --- !secret ----------------------------------------------------------------------------


def test_secret_is_looked_up_beside_the_file_then_up_the_tree(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "mqtt: !include packages/mqtt.yaml\nhttp:\n  token: !secret api_token\n"
            ),
            "secrets.yaml": "api_token: root-token\nmqtt_password: root-password\nport: 1884\n",
            "packages/secrets.yaml": "mqtt_password: package-password\n",
            "packages/mqtt.yaml": (
                "password: !secret mqtt_password\n"
                "token: !secret api_token\n"
                "port: !secret port\n"
                "deep: !include deeper/more.yaml\n"
            ),
            "packages/deeper/more.yaml": "password: !secret mqtt_password\n",
        },
    )
    config, issues = load(tmp_path)
    assert issues == []
    mqtt = config["mqtt"]
    assert mqtt["password"] == "package-password"  # nearest secrets.yaml wins
    assert mqtt["token"] == "root-token"  # found further up
    assert mqtt["port"] == 1884  # not only strings
    assert mqtt["deep"]["password"] == "package-password"
    assert config["http"]["token"] == "root-token"
    # A secret string is located where it is used, not in secrets.yaml.
    assert located(mqtt["token"]) == ("packages/mqtt.yaml", 2)


def test_missing_secret_is_reported_at_the_tag(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "mqtt: !include packages/mqtt.yaml\n",
            "secrets.yaml": "something_else: x\n",
            "packages/mqtt.yaml": "broker: localhost\nport: 1883\npassword: !secret mqtt_pw\n",
        },
    )
    config, issues = load(tmp_path)
    assert config == {"mqtt": {"broker": "localhost", "port": 1883, "password": None}}
    assert issues == [
        ConfigIssue(
            "packages/mqtt.yaml",
            3,
            None,
            "secret 'mqtt_pw' is not defined (looked in packages/secrets.yaml, secrets.yaml)",
        )
    ]
    assert str(issues[0]).startswith("packages/mqtt.yaml:3: secret 'mqtt_pw' is not defined")


def test_secrets_above_the_config_dir_are_not_used(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "secrets.yaml": "outside: found\n",
            "config/configuration.yaml": "a: !secret outside\n",
        },
    )
    config, issues = load(tmp_path / "config")
    assert config == {"a": None}
    assert len(issues) == 1
    assert issues[0].message == "secret 'outside' is not defined (looked in secrets.yaml)"


def test_secret_inside_secrets_file_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "a: !secret loop\nb: !secret fine\n",
            "secrets.yaml": "loop: !secret fine\nfine: yes-fine\n",
        },
    )
    config, issues = load(tmp_path)
    assert config == {"a": None, "b": "yes-fine"}
    assert issues == [
        ConfigIssue("secrets.yaml", 1, None, "!secret cannot be used inside secrets.yaml")
    ]


def test_secret_values_never_appear_in_loader_messages(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "a: !secret pw\nb: !secret pw\n",
            "secrets.yaml": "pw: hunter2-zebra\npw: hunter2-zebra\nbad: [hunter2-zebra\n",
        },
    )
    _, issues = load(tmp_path)
    assert issues, "the broken secrets.yaml must be reported"
    assert issues[0].file == "secrets.yaml"
    assert all("hunter2" not in str(issue) for issue in issues)


# --- !env_var and !input ----------------------------------------------------------------


def test_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_TEST_BROKER", "mqtt.local")
    monkeypatch.delenv("LINLI_TEST_UNSET", raising=False)
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "set: !env_var LINLI_TEST_BROKER fallback\n"
                "default: !env_var LINLI_TEST_UNSET two words\n"
                "missing: !env_var LINLI_TEST_UNSET\n"
            )
        },
    )
    config, issues = load(tmp_path)
    assert config == {"set": "mqtt.local", "default": "two words", "missing": None}
    assert located(config["set"]) == ("configuration.yaml", 1)
    assert issues == [
        ConfigIssue(
            "configuration.yaml",
            3,
            None,
            "environment variable 'LINLI_TEST_UNSET' is not set "
            "(give a default with: !env_var LINLI_TEST_UNSET default)",
        )
    ]


def test_input_marker(tmp_path: Path) -> None:
    write(tmp_path, {"blueprint.yaml": "trigger:\n  entity_id: !input gate\n"})
    data = load_yaml(tmp_path / "blueprint.yaml", issues=[])
    marker = data["trigger"]["entity_id"]
    assert isinstance(marker, Input)
    assert marker == Input("gate")
    assert marker != Input("door")
    assert marker.name == "gate"
    assert located(marker) == ("blueprint.yaml", 2)


# --- !include_dir_* ---------------------------------------------------------------------

DIR_FILES: dict[str, str | bytes] = {
    "parts/b.yaml": "- b1\n- b2\n",
    "parts/a.yaml": "- a1\n",
    "parts/sub/c.yaml": "- c1\n",
    "parts/empty.yaml": "",
    "parts/.hidden.yaml": "- hidden\n",
    "parts/.git/x.yaml": "- git\n",
    "parts/secrets.yaml": "- secret\n",
    "parts/notes.txt": "- text\n",
}


def test_include_dir_list(tmp_path: Path) -> None:
    write(tmp_path, {**DIR_FILES, "configuration.yaml": "x: 1\nitems: !include_dir_list parts\n"})
    config, issues = load(tmp_path)
    assert issues == []
    # One entry per file, files sorted, subdirectories after; empty/hidden/secrets skipped.
    assert config["items"] == [["a1"], ["b1", "b2"], ["c1"]]
    items = config["items"]
    assert located(items) == ("configuration.yaml", 2)
    assert items.location_of(2) == ("parts/sub/c.yaml", 1)


def test_include_dir_merge_list(tmp_path: Path) -> None:
    write(tmp_path, {**DIR_FILES, "configuration.yaml": "items: !include_dir_merge_list parts\n"})
    config, issues = load(tmp_path)
    assert issues == []
    assert config["items"] == ["a1", "b1", "b2", "c1"]
    assert config["items"].location_of(2) == ("parts/b.yaml", 2)


def test_include_dir_merge_list_reports_a_file_that_is_not_a_list(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "items: !include_dir_merge_list parts\n",
            "parts/a.yaml": "- a1\n",
            "parts/b.yaml": "not: a list\n",
        },
    )
    config, issues = load(tmp_path)
    assert config["items"] == ["a1"]
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == ("parts/b.yaml", 1)


def test_include_dir_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "scripts: !include_dir_named scripts\n",
            "scripts/open_gate.yaml": "alias: Open gate\n",
            "scripts/lights/night.yaml": "alias: Night lights\n",
            "scripts/blank.yaml": "",
        },
    )
    config, issues = load(tmp_path)
    assert issues == []
    assert config["scripts"] == {
        "blank": {},
        "open_gate": {"alias": "Open gate"},
        "night": {"alias": "Night lights"},
    }
    assert list(config["scripts"]) == ["blank", "open_gate", "night"]
    assert config["scripts"].location_of("night") == ("scripts/lights/night.yaml", 1)


def test_include_dir_merge_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "packages: !include_dir_merge_named packages\n",
            "packages/a.yaml": "gate:\n  alias: Gate\nlift:\n  alias: Lift\n",
            "packages/b.yaml": "\npool:\n  alias: Pool\nlift:\n  alias: Lift 2\n",
        },
    )
    config, issues = load(tmp_path)
    assert config["packages"] == {
        "gate": {"alias": "Gate"},
        "lift": {"alias": "Lift 2"},
        "pool": {"alias": "Pool"},
    }
    assert config["packages"].location_of("pool") == ("packages/b.yaml", 2)
    assert issues == [
        ConfigIssue(
            "packages/b.yaml",
            4,
            None,
            "duplicate key 'lift' (also in packages/a.yaml:3); the last one wins",
        )
    ]


def test_include_dir_missing_directory(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "a: 1\nitems: !include_dir_list nowhere\n"})
    config, issues = load(tmp_path)
    assert config == {"a": 1, "items": None}
    assert issues == [
        ConfigIssue("configuration.yaml", 2, None, "cannot include 'nowhere': directory not found")
    ]


# --- humanized voluptuous errors ----------------------------------------------------------

MQTT_SCHEMA = vol.Schema(
    {
        vol.Required("broker"): str,
        vol.Optional("port", default=1883): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("password"): str,
        vol.Optional("options"): {
            vol.Optional("qos", default=0): vol.In([0, 1, 2]),
            vol.Optional("retain", default=False): bool,
        },
    }
)
CONFIG_SCHEMA = vol.Schema({vol.Optional("mqtt"): MQTT_SCHEMA}, extra=vol.ALLOW_EXTRA)


def test_unknown_key_at_depth_two_in_an_included_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "linli:\n  name: x\nmqtt: !include mqtt.yaml\n",
            "mqtt.yaml": "broker: localhost\noptions:\n  qos: 1\n  retian: true\n",
        },
    )
    config, _ = load(tmp_path)
    err = validate(CONFIG_SCHEMA, config)
    issues = issues_from_invalid(err, config, schema=CONFIG_SCHEMA)
    assert issues == [
        ConfigIssue(
            "mqtt.yaml", 4, "mqtt.options.retian", "unknown key 'retian' (did you mean 'retain'?)"
        )
    ]
    assert str(issues[0]) == (
        "mqtt.yaml:4: mqtt.options.retian: unknown key 'retian' (did you mean 'retain'?)"
    )


def test_wrong_type_on_an_int_value(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "mqtt:\n  broker: localhost\n  port: abc\n"})
    config, _ = load(tmp_path)
    section = config["mqtt"]
    issues = issues_from_invalid(validate(MQTT_SCHEMA, section), section, domain="mqtt")
    assert issues == [ConfigIssue("configuration.yaml", 3, "mqtt.port", "expected int, got 'abc'")]


def test_out_of_range_int_is_located_through_its_key(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "mqtt:\n\n  broker: localhost\n  port: 70000\n"})
    config, _ = load(tmp_path)
    issues = issues_from_invalid(validate(CONFIG_SCHEMA, config), config)
    assert issues == [
        ConfigIssue("configuration.yaml", 4, "mqtt.port", "value must be at most 65535, got 70000")
    ]


def test_missing_required_key(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "linli: {}\nmqtt:\n  port: 1883\n"})
    config, _ = load(tmp_path)
    issues = issues_from_invalid(validate(CONFIG_SCHEMA, config), config)
    assert issues == [ConfigIssue("configuration.yaml", 2, "mqtt", "missing required key 'broker'")]


def test_did_you_mean_and_list_paths(tmp_path: Path) -> None:
    automation = vol.Schema(
        [
            vol.All(
                vol.Schema(
                    {
                        vol.Required("trigger"): list,
                        vol.Optional("condition"): list,
                        vol.Required("action"): list,
                    }
                )
            )
        ]
    )
    write(
        tmp_path,
        {
            "configuration.yaml": "automation: !include automations.yaml\n",
            "automations.yaml": (
                "- trigger: []\n"
                "  action: []\n"
                "- trigger: []\n"
                "  condtion: []\n"
                "  action: []\n"
                "- trigger: []\n"
                "  action: 5\n"
            ),
        },
    )
    config, _ = load(tmp_path)
    section = config["automation"]
    issues = issues_from_invalid(
        validate(automation, section), section, domain="automation", schema=automation
    )
    assert issues == [
        ConfigIssue(
            "automations.yaml",
            4,
            "automation[1].condtion",
            "unknown key 'condtion' (did you mean 'condition'?)",
        )
    ]
    # voluptuous stops a list at its first bad item: fix it to see the next one.
    del section[1]["condtion"]
    issues = issues_from_invalid(validate(automation, section), section, domain="automation")
    assert issues == [
        ConfigIssue("automations.yaml", 7, "automation[2].action", "expected list, got 5")
    ]


def test_no_suggestion_without_a_close_known_key(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "broker: x\nzzzzzz: 1\n"})
    config, _ = load(tmp_path)
    issues = issues_from_invalid(validate(MQTT_SCHEMA, config), config, schema=MQTT_SCHEMA)
    assert issues == [ConfigIssue("configuration.yaml", 2, "zzzzzz", "unknown key 'zzzzzz'")]


def test_no_suggestion_of_a_key_that_is_already_there(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "broker: x\nport: 1\nprot: 2\n"})
    config, _ = load(tmp_path)
    issues = issues_from_invalid(validate(MQTT_SCHEMA, config), config, schema=MQTT_SCHEMA)
    assert issues == [ConfigIssue("configuration.yaml", 3, "prot", "unknown key 'prot'")]


def test_unlocated_config_uses_the_defaults() -> None:
    err = validate(MQTT_SCHEMA, 5)
    issues = issues_from_invalid(
        err, 5, domain="mqtt", default_file="configuration.yaml", default_line=9
    )
    assert issues == [ConfigIssue("configuration.yaml", 9, "mqtt", "expected a dictionary, got 5")]


def test_secret_values_never_appear_in_validation_messages(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": (
                "mqtt:\n"
                "  broker: !secret broker\n"
                "  port: !secret port\n"
                "  password: 12345678\n"
                "  options:\n"
                "    qos: !env_var LINLI_TEST_QOS zebra-qos-value\n"
            ),
            "secrets.yaml": "broker: [zebra-broker-value]\nport: zebra-port-value\n",
        },
    )
    config, load_issues = load(tmp_path)
    assert load_issues == []

    def leaky(value: Any) -> Any:
        raise vol.Invalid(f"cannot use {value}")

    schema = vol.Schema(
        {
            "mqtt": {
                "broker": str,
                "port": leaky,
                "password": str,
                "options": {"qos": vol.In([0, 1, 2])},
            }
        }
    )
    issues = issues_from_invalid(validate(schema, config), config)
    by_key = {issue.key: issue for issue in issues}
    assert set(by_key) == {"mqtt.broker", "mqtt.port", "mqtt.password", "mqtt.options.qos"}
    assert by_key["mqtt.port"].line == 3
    assert by_key["mqtt.password"].message == "expected str"
    for issue in issues:
        assert "zebra" not in str(issue)
        assert "12345678" not in str(issue)


def test_non_sensitive_values_are_shown_truncated(tmp_path: Path) -> None:
    long_name = "x" * 200
    write(tmp_path, {"configuration.yaml": f"broker: localhost\noptions:\n  qos: {long_name}\n"})
    config, _ = load(tmp_path)
    (issue,) = issues_from_invalid(validate(MQTT_SCHEMA, config), config)
    assert issue.key == "options.qos"
    assert issue.line == 3
    assert issue.message.startswith("value must be one of [0, 1, 2], got 'xxxx")
    assert issue.message.endswith("...")
    assert len(issue.message) < 120


def test_missing_required_key_in_an_included_file_blames_that_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "linli: {}\nmqtt: !include mqtt.yaml\n",
            "mqtt.yaml": "# MQTT\nport: 1883\n",
        },
    )
    config, _ = load(tmp_path)
    issues = issues_from_invalid(validate(CONFIG_SCHEMA, config), config)
    assert issues == [ConfigIssue("mqtt.yaml", 2, "mqtt", "missing required key 'broker'")]


def test_control_character_is_located(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "a: 1\nb: x\x01y\n"})
    config, issues = load(tmp_path)
    assert config is None
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == ("configuration.yaml", 2)
    assert "#x0001" in issues[0].message


def test_secret_reached_from_an_include_of_secrets_yaml_does_not_recurse(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "a: !secret first\n",
            "secrets.yaml": "first: !include more.yaml\n",
            "more.yaml": "value: !secret first\n",
        },
    )
    config, issues = load(tmp_path)
    assert config == {"a": {"value": None}}
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == ("more.yaml", 1)
    assert "secret 'first' is not defined" in issues[0].message


def test_secrets_file_must_be_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, {"configuration.yaml": "a: !secret x\n", "secrets.yaml": "- x\n"})
    config, issues = load(tmp_path)
    assert config == {"a": None}
    assert [(issue.file, issue.line) for issue in issues] == [
        ("secrets.yaml", 1),
        ("configuration.yaml", 1),
    ]
    assert "must be a mapping of secret names" in issues[0].message


def test_loaded_config_serializes_with_orjson(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "configuration.yaml": "linli:\n  name: Courtyard\nscripts: !include_dir_named s\n",
            "s/gate.yaml": "alias: Gate\n",
        },
    )
    config, _ = load(tmp_path)
    # Keys are plain str (orjson refuses str subclasses as keys); values may be NodeStr.
    assert all(type(key) is str for key in [*config, *config["linli"], *config["scripts"]])
    assert orjson.loads(orjson.dumps(config)) == {
        "linli": {"name": "Courtyard"},
        "scripts": {"gate": {"alias": "Gate"}},
    }
