"""The device topics' message checks as plain functions: every reason, schemas, counters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli_mqtt.devices.builtin_schemas import BUILTIN_SCHEMAS
from linli_mqtt.devices.model import (
    DeviceCounters,
    DeviceKind,
    DeviceMessage,
    LogLimiter,
    Rejected,
    parse_ts,
)
from linli_mqtt.devices.parser import IGNORED, DeviceTopicParser
from linli_mqtt.devices.validation import SCHEMA_DIR, compile_kind, load_schema

PREFIX = "linli"


@pytest.fixture(scope="module")
def parser() -> DeviceTopicParser:
    validators = {
        name: compile_kind(DeviceKind(name, schemas=schemas))
        for name, schemas in BUILTIN_SCHEMAS.items()
    }
    return DeviceTopicParser(PREFIX, 1024, validators)


def _json(**fields: Any) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


def _reason(result: object) -> str:
    assert isinstance(result, Rejected), result
    return result.reason


def test_valid_state_is_accepted(parser: DeviceTopicParser) -> None:
    result = parser.parse("linli/meter/m-01/state", _json(power_w=12.5, energy_kwh=3), 7.0)
    assert result == DeviceMessage(
        "meter",
        "m-01",
        "state",
        {"v": 1, "power_w": 12.5, "energy_kwh": 3},
        7.0,
        "linli/meter/m-01/state",
    )


def test_str_payloads_work_like_bytes(parser: DeviceTopicParser) -> None:
    result = parser.parse("linli/people_counter/gate_1/state", '{"v":1,"count":4}', 0.0)
    assert isinstance(result, DeviceMessage)
    assert result.payload["count"] == 4


def test_envelope_fields(parser: DeviceTopicParser) -> None:
    payload = _json(
        count=1,
        ts="2026-03-01T08:00:00+08:00",
        id="abc",
        area_id="building_1",
        device={"name": "North gate", "model": "PC-2"},
        firmware_extra="ignored",
    )
    result = parser.parse("linli/people_counter/g/state", payload, 0.0)
    assert isinstance(result, DeviceMessage)
    assert result.message_id == "abc"
    assert result.device_time is not None
    assert result.device_time.isoformat() == "2026-03-01T00:00:00+00:00"
    assert parse_ts(1_772_352_000_000) is not None
    assert parse_ts(True) is None


def test_lift_event_and_availability(parser: DeviceTopicParser) -> None:
    event = parser.parse("linli/lift/L1/event", _json(event="ebike_entered", floor=3), 0.0)
    assert isinstance(event, DeviceMessage)
    assert event.channel == "event"
    online = parser.parse("linli/lift/L1/availability", b"online", 0.0)
    offline = parser.parse("linli/lift/L1/availability", "offline", 0.0)
    assert isinstance(online, DeviceMessage)
    assert isinstance(offline, DeviceMessage)
    assert online.payload == {"available": True}
    assert offline.payload == {"available": False}


def test_own_commands_are_ignored(parser: DeviceTopicParser) -> None:
    assert parser.parse("linli/lift/L1/command", _json(x=1), 0.0) is IGNORED


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("other/meter/m/state", _json(power_w=1), "bad_topic"),
        ("linli/meter/m/state/extra", _json(power_w=1), "bad_topic"),
        ("linli/meter/state", _json(power_w=1), "bad_topic"),
        ("linli/toaster/t1/state", _json(power_w=1), "unknown_kind"),
        ("linli/meter/bad.id/state", _json(power_w=1), "bad_device_id"),
        ("linli/meter/ünï/state", _json(power_w=1), "bad_device_id"),
        ("linli/meter//state", _json(power_w=1), "bad_device_id"),
        ("linli/meter/" + "x" * 65 + "/state", _json(power_w=1), "bad_device_id"),
        ("linli/meter/m/telemetry", _json(power_w=1), "unknown_channel"),
        ("linli/meter/m/event", _json(event="x"), "unexpected_channel"),
        ("linli/meter/m/state", b"x" * 1025, "too_large"),
        ("linli/meter/m/state", "é" * 600, "too_large"),
        ("linli/meter/m/state", b"\xff\xfe{}", "not_utf8"),
        ("linli/meter/m/state", b"{not json", "invalid_json"),
        ("linli/meter/m/state", b"", "invalid_json"),
        ("linli/meter/m/state", b"NaN", "invalid_json"),
        ("linli/meter/m/state", b"[1, 2]", "not_object"),
        ("linli/meter/m/state", b"42", "not_object"),
        ("linli/meter/m/state", b'"online"', "not_object"),
        ("linli/meter/m/state", b'{"power_w": 1}', "unsupported_version"),
        ("linli/meter/m/state", b'{"v": 2, "power_w": 1}', "unsupported_version"),
        ("linli/meter/m/state", b'{"v": true, "power_w": 1}', "unsupported_version"),
        ("linli/meter/m/state", b'{"v": "1", "power_w": 1}', "unsupported_version"),
        ("linli/meter/m/state", _json(power_w="12"), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=True), "invalid_payload"),
        ("linli/meter/m/state", _json(energy_kwh=-1), "invalid_payload"),
        ("linli/meter/m/state", _json(), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=1, ts=[1]), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=1, ts="yesterday"), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=1, id=""), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=1, device={"name": 3}), "invalid_payload"),
        ("linli/meter/m/state", _json(power_w=1, device={"owner": "x"}), "invalid_payload"),
        ("linli/lift/L1/state", _json(door="ajar"), "invalid_payload"),
        ("linli/lift/L1/state", _json(floor=2.5), "invalid_payload"),
        ("linli/lift/L1/event", _json(event="fire"), "invalid_payload"),
        ("linli/people_counter/p/state", _json(count=-1), "invalid_payload"),
        ("linli/sensor/s/state", _json(value={"a": 1}), "invalid_payload"),
        ("linli/sensor/s/state", _json(value=1, device_class="Bad Class"), "invalid_payload"),
        ("linli/lift/L1/availability", b"ONLINE", "bad_availability"),
        ("linli/lift/L1/availability", b"", "bad_availability"),
        ("linli/lift/L1/availability", b"online please", "bad_availability"),
    ],
)
def test_rejections(parser: DeviceTopicParser, topic: str, payload: bytes, reason: str) -> None:
    result = parser.parse(topic, payload, 0.0)
    assert _reason(result) == reason
    assert isinstance(result, Rejected)
    assert result.detail
    assert len(result.device) <= 121


def test_rejection_names_the_device_once_the_topic_does(parser: DeviceTopicParser) -> None:
    result = parser.parse("linli/meter/m-9/state", b"[]", 0.0)
    assert isinstance(result, Rejected)
    assert result.device == "meter/m-9"


def test_routes_follow_kind_changes() -> None:
    validators = {"meter": compile_kind(DeviceKind("meter", schemas=BUILTIN_SCHEMAS["meter"]))}
    parser = DeviceTopicParser("a/b", 100, validators)
    assert isinstance(parser.parse("a/b/meter/m/state", _json(power_w=1), 0.0), DeviceMessage)
    del validators["meter"]
    parser.forget_routes()
    assert _reason(parser.parse("a/b/meter/m/state", _json(power_w=1), 0.0)) == "unknown_kind"


@settings(max_examples=200, deadline=None)
@given(topic=st.text(max_size=80), payload=st.binary(max_size=300))
def test_fuzzed_messages_never_raise(parser: DeviceTopicParser, topic: str, payload: bytes) -> None:
    result = parser.parse(topic, payload, 0.0)
    assert isinstance(result, DeviceMessage | Rejected) or result is IGNORED


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["meter", "lift", "people_counter", "sensor"]),
    fields=st.dictionaries(
        st.sampled_from(
            ["v", "ts", "id", "power_w", "energy_kwh", "floor", "door", "count", "value", "unit"]
        ),
        _json_values,
    ),
)
def test_wrong_json_types_are_rejected_or_valid(
    parser: DeviceTopicParser, kind: str, fields: dict[str, Any]
) -> None:
    payload = json.dumps(fields).encode()
    result = parser.parse(f"linli/{kind}/d1/state", payload, 0.0)
    if isinstance(result, DeviceMessage):
        assert result.payload["v"] == 1
    else:
        assert _reason(result) in {"invalid_payload", "unsupported_version", "too_large"}


def test_bundled_schemas_are_draft7_and_documented() -> None:
    names = sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))
    assert "envelope" in names
    for name in names:
        schema = load_schema(name)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["title"]
        assert schema["description"]
    for kind, schemas in BUILTIN_SCHEMAS.items():
        for channel in schemas:
            assert f"{kind}.{channel}" in names


def test_kind_names_and_channels_are_checked() -> None:
    with pytest.raises(ValueError, match="must match"):
        DeviceKind("Bad/Kind")
    with pytest.raises(ValueError, match="no schema channel"):
        DeviceKind("gate", schemas={"telemetry": {}})
    with pytest.raises(ValueError, match="invalid JSON schema"):
        compile_kind(DeviceKind("gate", schemas={"state": {"type": "no-such-type"}}))


def test_a_registered_kind_compiles_each_channel_on_first_use() -> None:
    from fastjsonschema import JsonSchemaValueException

    from linli_mqtt.devices.validation import LazyValidators

    gate = DeviceKind(
        "gate",
        schemas={
            "event": {"type": "object", "required": ["plate"]},
            "state": {"type": "no-such-type"},
        },
    )
    validators = LazyValidators(gate)
    assert sorted(validators) == ["event", "state"]
    assert len(validators) == 2
    event = validators["event"]
    assert event is validators["event"]  # compiled once
    assert event({"v": 1, "plate": "湘A12345"})["plate"] == "湘A12345"
    with pytest.raises(JsonSchemaValueException):
        event({"v": 1})
    with pytest.raises(ValueError, match="invalid JSON schema"):
        validators["state"]
    assert validators.get("command") is None


def test_counters_and_log_limiter() -> None:
    counters = DeviceCounters()
    counters.reject("invalid_json")
    counters.reject("invalid_json")
    counters.reject("something_new")
    assert counters.rejected_total == 3
    assert counters.as_dict()["rejected"]["invalid_json"] == 2

    limiter = LogLimiter(interval=60, max_keys=2)
    assert limiter.should_log("meter/m", "invalid_json", 0)
    assert not limiter.should_log("meter/m", "invalid_json", 30)
    assert limiter.should_log("meter/m", "not_object", 30)
    assert limiter.should_log("meter/m", "invalid_json", 61)
    # Full of recent keys: a new pair is not logged rather than growing without bound.
    assert not limiter.should_log("meter/other", "invalid_json", 62)
    assert limiter.should_log("meter/other", "invalid_json", 200)
