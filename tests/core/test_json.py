"""JSON helpers: orjson with Linli's objects, sets, datetimes and enums."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

import pytest

from linli.bus import Event
from linli.const import EVENT_STATE_CHANGED
from linli.context import Context
from linli.state import State
from linli.util.json import JSONDecodeError, json_bytes, json_dumps, json_loads


class Colour(Enum):
    RED = 1


class Mode(StrEnum):
    AWAY = "away"


def test_state_uses_as_dict() -> None:
    state = State("light.kitchen", "on", {"friendly_name": "Kitchen"}, 1.5, 2.5)
    assert json_loads(json_bytes(state)) == state.as_dict()
    assert json_loads(json_dumps([state, state])) == [state.as_dict(), state.as_dict()]


def test_event_with_states_inside() -> None:
    old = State("light.kitchen", "off")
    new = State("light.kitchen", "on")
    context = Context(user_id="u1")
    event: Event[Any] = Event(
        EVENT_STATE_CHANGED,
        {"entity_id": "light.kitchen", "old_state": old, "new_state": new},
        time_fired_timestamp=1_700_000_000.0,
        context=context,
    )
    decoded = json_loads(json_bytes(event))
    assert decoded["event_type"] == EVENT_STATE_CHANGED
    assert decoded["data"]["old_state"] == old.as_dict()
    assert decoded["data"]["new_state"] == new.as_dict()
    assert decoded["context"] == {"id": context.id, "parent_id": None, "user_id": "u1"}
    assert decoded["time_fired"] == "2023-11-14T22:13:20+00:00"


def test_context() -> None:
    context = Context(user_id="u", parent_id="p", id="c")
    assert json_loads(json_dumps(context)) == {"id": "c", "parent_id": "p", "user_id": "u"}


def test_sets_datetimes_enums_and_more() -> None:
    when = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
    value = {
        "set": {3},
        "frozenset": frozenset({"a"}),
        "when": when,
        "day": date(2026, 3, 1),
        "colour": Colour.RED,
        "mode": Mode.AWAY,
        "proxy": MappingProxyType({"x": 1}),
        "path": PurePosixPath("/config/www"),
        "delay": timedelta(minutes=1, seconds=30),
        "tuple": (1, 2),
        1: "int key",
    }
    assert json_loads(json_dumps(value)) == {
        "set": [3],
        "frozenset": ["a"],
        "when": when.isoformat(),
        "day": "2026-03-01",
        "colour": 1,
        "mode": "away",
        "proxy": {"x": 1},
        "path": "/config/www",
        "delay": 90.0,
        "tuple": [1, 2],
        "1": "int key",
    }


def test_dumps_is_str_bytes_is_bytes_and_compact() -> None:
    assert json_dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert json_bytes({"a": 1}) == b'{"a":1}'


def test_unknown_type_raises_type_error() -> None:
    with pytest.raises(TypeError):
        json_dumps(object())


def test_loads_accepts_str_and_bytes_and_reports_errors() -> None:
    assert json_loads('{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert json_loads(b"[true]") == [True]
    with pytest.raises(JSONDecodeError):
        json_loads("{nope")
    with pytest.raises(ValueError, match=r".+"):
        json_loads(b"")
