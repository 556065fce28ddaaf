"""Discovery topics, abbreviations, ``~``, device payloads, schemas and availability (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.template import Template
from linli_mqtt.discovery.abbreviations import (
    ABBREVIATIONS,
    DEVICE_ABBREVIATIONS,
    ORIGIN_ABBREVIATIONS,
)
from linli_mqtt.discovery.availability import Availability, AvailabilityTopic
from linli_mqtt.discovery.payload import (
    DiscoveryError,
    DiscoveryTopic,
    decode,
    expand_abbreviations,
    parse_topic,
    prepare,
    split_device_config,
)
from linli_mqtt.discovery.schemas import SCHEMAS, SUPPORTED_COMPONENTS, validate


# ---------------------------------------------------------------------- topics
@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("homeassistant/sensor/kitchen/config", DiscoveryTopic("sensor", None, "kitchen")),
        ("homeassistant/sensor/node-1/temp_2/config", DiscoveryTopic("sensor", "node-1", "temp_2")),
        ("homeassistant/binary_sensor/a/b/config", DiscoveryTopic("binary_sensor", "a", "b")),
        ("homeassistant/sensor/a/b/c/config", None),  # too deep
        ("homeassistant/sensor/kitchen/state", None),
        ("homeassistant/sensor/kit chen/config", None),  # not allowed in an id
        ("homeassistant/sensor/kitchen.1/config", None),
        ("other/sensor/kitchen/config", None),
        ("homeassistant2/sensor/kitchen/config", None),
    ],
)
def test_parse_topic(topic: str, expected: DiscoveryTopic | None) -> None:
    assert parse_topic("homeassistant", topic) == expected


def test_discovery_id_includes_the_node_id() -> None:
    assert DiscoveryTopic("sensor", "node", "obj").discovery_id == "node obj"
    assert DiscoveryTopic("sensor", None, "obj").discovery_id == "obj"


def test_a_prefix_with_levels() -> None:
    topic = parse_topic("linli_test/abc/ha", "linli_test/abc/ha/switch/plug/config")
    assert topic == DiscoveryTopic("switch", None, "plug")


# ---------------------------------------------------------------------- payloads
def test_decode_empty_is_a_removal() -> None:
    assert decode("") is None
    assert decode(b"") is None


@pytest.mark.parametrize("payload", ["{", "[1, 2]", '"text"', "12", b"\xff\xfe{}", "null"])
def test_decode_refuses_anything_but_a_json_object(payload: str | bytes) -> None:
    with pytest.raises(DiscoveryError) as err:
        decode(payload)
    assert err.value.reason == "invalid_json"


def test_decode_bytes_and_text() -> None:
    assert decode(b'{"name": "\xe6\xb8\xa9\xe5\xba\xa6"}') == {"name": "温度"}
    assert decode('{"a": 1}') == {"a": 1}


def test_the_tables_are_home_assistants() -> None:
    assert ABBREVIATIONS["stat_t"] == "state_topic"
    assert ABBREVIATIONS["cmd_t"] == "command_topic"
    assert ABBREVIATIONS["avty_t"] == "availability_topic"
    assert ABBREVIATIONS["evt_typ"] == "event_types"
    assert ABBREVIATIONS["img_e"] == "image_encoding"
    assert ABBREVIATIONS["av_tones"] == "available_tones"
    assert ABBREVIATIONS["stat_jam"] == "state_jammed"
    assert len(ABBREVIATIONS) > 250
    assert DEVICE_ABBREVIATIONS == {
        "cns": "connections",
        "cu": "configuration_url",
        "ids": "identifiers",
        "name": "name",
        "mf": "manufacturer",
        "mdl": "model",
        "mdl_id": "model_id",
        "hw": "hw_version",
        "sw": "sw_version",
        "sa": "suggested_area",
        "sn": "serial_number",
    }
    assert ORIGIN_ABBREVIATIONS == {"name": "name", "sw": "sw_version", "url": "support_url"}
    # No abbreviation expands to another abbreviation.
    assert not set(ABBREVIATIONS.values()) & (set(ABBREVIATIONS) - set(ABBREVIATIONS.values()))


def test_expand_abbreviations_everywhere() -> None:
    expanded = expand_abbreviations(
        {
            "stat_t": "s",
            "uniq_id": "u",
            "dev": {"ids": ["x"], "mf": "Acme", "sa": "Lobby", "via_device": "gw"},
            "o": {"name": "bridge", "sw": "1.0", "url": "https://example.org"},
            "avty": [{"t": "a", "pl_avail": "up", "val_tpl": "{{ value }}"}],
            "unknown_key": 1,
        }
    )
    assert expanded == {
        "state_topic": "s",
        "unique_id": "u",
        "device": {
            "identifiers": ["x"],
            "manufacturer": "Acme",
            "suggested_area": "Lobby",
            "via_device": "gw",
        },
        "origin": {"name": "bridge", "sw_version": "1.0", "support_url": "https://example.org"},
        "availability": [
            {"topic": "a", "payload_available": "up", "value_template": "{{ value }}"}
        ],
        "unknown_key": 1,
    }


def test_the_full_key_wins_over_its_abbreviation() -> None:
    assert expand_abbreviations({"stat_t": "short", "state_topic": "long"}) == {
        "state_topic": "long"
    }


def test_topic_base_at_start_and_end() -> None:
    config = prepare(
        {
            "~": "home/kitchen",
            "stat_t": "~/state",
            "cmd_t": "set/~",
            "json_attr_t": "~",
            "name": "~ stays in a name",
            "avty": [{"t": "~/online"}, {"t": "other/~"}],
        }
    )
    assert config == {
        "state_topic": "home/kitchen/state",
        "command_topic": "set/home/kitchen",
        "json_attributes_topic": "home/kitchen",
        "name": "~ stays in a name",
        "availability": [{"topic": "home/kitchen/online"}, {"topic": "other/home/kitchen"}],
    }


# ---------------------------------------------------------------------- device discovery
def test_split_device_config_shares_options_and_removes_platform_only_components() -> None:
    config = expand_abbreviations(
        {
            "~": "plug1",
            "dev": {"ids": "plug1", "name": "Plug"},
            "o": {"name": "tool"},
            "stat_t": "~/state",
            "qos": 1,
            "cmps": {
                "power": {"p": "sensor", "val_tpl": "{{ value_json.power }}", "uniq_id": "p1"},
                "relay": {"p": "switch", "cmd_t": "~/set", "stat_t": "~/relay"},
                "old": {"p": "binary_sensor"},
            },
        }
    )
    parts = split_device_config(config)
    assert parts["old"] is None
    power = parts["power"]
    assert power is not None
    assert power["platform"] == "sensor"
    assert power["state_topic"] == "plug1/state"
    assert power["device"] == {"identifiers": "plug1", "name": "Plug"}
    assert power["qos"] == 1
    assert power["origin"] == {"name": "tool"}
    relay = parts["relay"]
    assert relay is not None
    assert relay["state_topic"] == "plug1/relay"
    assert relay["command_topic"] == "plug1/set"


@pytest.mark.parametrize(
    "config",
    [
        {"dev": {"ids": "x"}},
        {"cmps": {"a": {"p": "sensor"}}},
        {"dev": {"ids": "x"}, "cmps": {"a": {"stat_t": "x"}}},
        {"dev": {"ids": "x"}, "cmps": {"a": "sensor"}},
    ],
)
def test_split_device_config_refuses_incomplete_payloads(config: dict[str, Any]) -> None:
    with pytest.raises(DiscoveryError):
        split_device_config(expand_abbreviations(config))


# ---------------------------------------------------------------------- schemas
def test_every_component_has_a_schema() -> None:
    assert set(SCHEMAS) == set(SUPPORTED_COMPONENTS)


def test_sensor_defaults_and_device() -> None:
    config = validate(
        "sensor",
        prepare(
            {
                "stat_t": "t",
                "val_tpl": "{{ value_json.t }}",
                "dev": {"ids": "abc", "cns": [["mac", "AA:BB:CC:DD:EE:FF"]], "sw": 2},
                "platform": "mqtt",
            }
        ),
    )
    assert config["name"] == "MQTT Sensor"
    assert config["qos"] == 0
    assert config["encoding"] == "utf-8"
    assert config["availability"] == []
    assert config["availability_mode"] == "latest"
    assert config["enabled_by_default"] is True
    assert isinstance(config["value_template"], Template)
    assert config["device"]["identifiers"] == ["abc"]
    assert config["device"]["connections"] == [("mac", "AA:BB:CC:DD:EE:FF")]
    assert config["device"]["sw_version"] == "2"
    assert "platform" not in config


def test_a_null_name_means_the_device_name() -> None:
    assert validate("sensor", {"state_topic": "t", "name": None})["name"] is None


def test_availability_topic_is_folded_into_the_list() -> None:
    config = validate(
        "switch",
        prepare({"cmd_t": "c", "avty_t": "a", "pl_avail": 1, "pl_not_avail": 0, "avty_tpl": "x"}),
    )
    assert len(config["availability"]) == 1
    entry = config["availability"][0]
    assert (entry["topic"], entry["payload_available"], entry["payload_not_available"]) == (
        "a",
        "1",
        "0",
    )
    assert isinstance(entry["value_template"], Template)


def test_availability_list_defaults() -> None:
    config = validate(
        "sensor", prepare({"stat_t": "s", "avty": [{"t": "a"}, {"t": "b", "pl_avail": "up"}]})
    )
    assert [(e["topic"], e["payload_available"]) for e in config["availability"]] == [
        ("a", "online"),
        ("b", "up"),
    ]


@pytest.mark.parametrize(
    ("component", "config", "message"),
    [
        ("sensor", {}, "required key not provided at 'state_topic'"),
        ("switch", {"command_topic": "a/+"}, "wildcards are not allowed"),
        ("switch", {"command_topic": "a", "state_topic": "a/#/b"}, "'#' must be the whole last"),
        ("sensor", {"state_topic": "a+"}, "'+' must fill a whole topic level"),
        ("sensor", {"state_topic": ""}, "must not be empty"),
        ("sensor", {"state_topic": "s", "value_template": "{{ value"}, "invalid template"),
        ("sensor", {"state_topic": "s", "qos": 3}, "qos"),
        ("sensor", {"state_topic": "s", "availability_mode": "some"}, "availability_mode"),
        ("sensor", {"state_topic": "s", "device": {"name": "x"}}, "identifiers"),
        (
            "sensor",
            {"state_topic": "s", "availability_topic": "a", "availability": [{"topic": "b"}]},
            "exclusion",
        ),
        ("event", {"state_topic": "s", "event_types": []}, "at least one event type"),
        ("camera", {"topic": "t", "image_encoding": "hex"}, "image_encoding"),
        ("cover", {"set_position_template": "{{ position }}"}, "needs 'set_position_topic'"),
        ("lock", {"state_topic": "s"}, "command_topic"),
        ("siren", {"command_topic": "c", "origin": {"sw": "1"}}, "origin"),
    ],
)
def test_invalid_configs_say_why(component: str, config: dict[str, Any], message: str) -> None:
    with pytest.raises(DiscoveryError) as err:
        validate(component, config)
    assert err.value.reason == "invalid_config"
    assert message in str(err.value)


def test_unsupported_component() -> None:
    with pytest.raises(DiscoveryError) as err:
        validate("vacuum", {})
    assert err.value.reason == "unsupported_component"


def test_component_defaults_follow_home_assistant() -> None:
    lock = validate("lock", {"command_topic": "c"})
    assert (lock["payload_lock"], lock["payload_unlock"], lock["state_jammed"]) == (
        "LOCK",
        "UNLOCK",
        "JAMMED",
    )
    assert "payload_open" not in lock
    cover = validate("cover", {"command_topic": "c"})
    assert (cover["payload_open"], cover["state_closed"], cover["position_open"]) == (
        "OPEN",
        "closed",
        100,
    )
    assert validate("button", {"command_topic": "c"})["payload_press"] == "PRESS"
    tracker = validate("device_tracker", {"state_topic": "s"})
    assert (tracker["payload_home"], tracker["payload_not_home"]) == ("home", "not_home")
    siren = validate("siren", {"command_topic": "c"})
    assert siren["support_duration"] is True
    binary = validate("binary_sensor", {"state_topic": "s"})
    assert (binary["payload_on"], binary["payload_off"]) == ("ON", "OFF")


# ---------------------------------------------------------------------- availability
def test_no_topics_means_available() -> None:
    assert Availability(()).available
    assert not Availability(()).configured


def follow(availability: Availability, *messages: tuple[str, str]) -> list[bool]:
    """Feed ``messages`` one by one; return the availability after each."""
    result = []
    for topic, value in messages:
        availability.update(topic, value)
        result.append(availability.available)
    return result


def test_latest_mode_follows_the_last_message() -> None:
    availability = Availability([AvailabilityTopic("a"), AvailabilityTopic("b", "up", "down")])
    assert not availability.available
    assert availability.update("a", "online")  # changed
    assert not availability.update("b", "garbage")  # neither payload: ignored
    assert not availability.update("c", "online")  # not ours
    assert follow(availability, ("b", "down"), ("b", "garbage"), ("a", "online")) == [
        False,
        False,
        True,
    ]


def test_all_mode_needs_every_topic() -> None:
    availability = Availability([AvailabilityTopic("a"), AvailabilityTopic("b")], "all")
    assert follow(availability, ("a", "online"), ("b", "online"), ("a", "offline")) == [
        False,
        True,
        False,
    ]


def test_any_mode_needs_one_topic() -> None:
    availability = Availability([AvailabilityTopic("a"), AvailabilityTopic("b")], "any")
    assert not availability.available
    assert follow(
        availability, ("b", "online"), ("a", "offline"), ("b", "offline"), ("a", "online")
    ) == [True, True, False, True]
