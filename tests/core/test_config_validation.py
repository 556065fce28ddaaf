"""The shared configuration validators."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import voluptuous as vol

import linli.helpers.config_validation as cv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00:05", timedelta(minutes=5)),
        ("01:30:15", timedelta(hours=1, minutes=30, seconds=15)),
        (90, timedelta(seconds=90)),
        ("90", timedelta(seconds=90)),
        ({"hours": 24}, timedelta(hours=24)),
        ({"minutes": 1, "seconds": 30}, timedelta(seconds=90)),
    ],
)
def test_time_period_accepts_the_usual_forms(value, expected):
    assert cv.time_period(value) == expected


@pytest.mark.parametrize("value", ["soon", {"weeks_x": 1}, [1], None, True, "1:2:3:4"])
def test_time_period_refuses_nonsense(value):
    with pytest.raises(vol.Invalid):
        cv.time_period(value)


def test_negative_periods_are_refused_where_positive_is_required():
    assert cv.time_period("-00:05") == timedelta(minutes=-5)
    with pytest.raises(vol.Invalid, match="must not be negative"):
        cv.positive_time_period("-00:05")


def test_entity_ids_from_string_or_list():
    assert cv.entity_ids("Sensor.A, light.b") == ["sensor.a", "light.b"]
    assert cv.entity_ids(["sensor.a"]) == ["sensor.a"]
    assert cv.entity_ids_or_match_all("all") == "*"
    with pytest.raises(vol.Invalid, match=r"invalid entity ID 'sensor\.a b'"):
        cv.entity_ids("sensor.a b")
    with pytest.raises(vol.Invalid, match="not in domain lock"):
        cv.entity_domain("lock")("light.kitchen")


def test_time_and_weekdays():
    assert cv.time("07:30") == time(7, 30)
    assert cv.time("23:59:59") == time(23, 59, 59)
    with pytest.raises(vol.Invalid, match="in quotes"):
        cv.time(450)  # what YAML 1.1 makes of an unquoted 07:30
    with pytest.raises(vol.Invalid):
        cv.time("24:00")
    assert cv.weekdays("mon") == ["mon"]
    with pytest.raises(vol.Invalid, match="invalid weekday 'monday'"):
        cv.weekdays(["monday"])


@pytest.mark.parametrize(
    ("value", "expected"), [("on", True), ("No", False), (1, True), (0, False), (True, True)]
)
def test_boolean(value, expected):
    assert cv.boolean(value) is expected


def test_boolean_refuses_other_words():
    with pytest.raises(vol.Invalid):
        cv.boolean("maybe")
