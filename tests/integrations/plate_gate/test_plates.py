"""Plate normalisation and validation (GA 36-2018) on a table of plates, and colours."""

from __future__ import annotations

import pytest

from linli_plate_gate.plates import (
    PlateClass,
    PlateColor,
    PlateFlag,
    PlateKey,
    classify,
    normalise,
    parse_color,
)

VALID = [
    ("京A12345", "京A12345", PlateClass.ORDINARY),
    ("京a·12345", "京A12345", PlateClass.ORDINARY),
    ("京Ａ１２３４５", "京A12345", PlateClass.ORDINARY),  # full-width letters and digits
    ("京　A • 1 2 3 4 5", "京A12345", PlateClass.ORDINARY),  # ideographic space, bullet
    ("湘AB8C9D", "湘AB8C9D", PlateClass.ORDINARY),
    ("粤B·D12345", "粤BD12345", PlateClass.NEW_ENERGY),
    ("粤BFA1234", "粤BFA1234", PlateClass.NEW_ENERGY),
    ("沪A12345D", "沪A12345D", PlateClass.NEW_ENERGY_LARGE),
    ("苏E12345F", "苏E12345F", PlateClass.NEW_ENERGY_LARGE),
    ("京A1234学", "京A1234学", PlateClass.LEARNER),
    ("鲁B1234挂", "鲁B1234挂", PlateClass.TRAILER),
    ("浙A1234试", "浙A1234试", PlateClass.TEST),
    ("冀A1234超", "冀A1234超", PlateClass.OVERSIZE),
    ("京A0123警", "京A0123警", PlateClass.POLICE),
    ("川AB123警", "川AB123警", PlateClass.POLICE),
    ("粤Z1234港", "粤Z1234港", PlateClass.HONG_KONG),
    ("粤ZA123澳", "粤ZA123澳", PlateClass.MACAU),
    ("沪A1234领", "沪A1234领", PlateClass.CONSULATE),
    ("使123456", "使123456", PlateClass.EMBASSY),
    ("123456使", "123456使", PlateClass.EMBASSY),
]

PLAUSIBLE = [
    ("临京A12345", PlateFlag.TEMPORARY),
    ("京A1234临", PlateFlag.TEMPORARY),
    ("京A12345应急", PlateFlag.EMERGENCY),
    ("WJ01警12345", PlateFlag.ARMED_POLICE),
    ("WJ京12345", PlateFlag.ARMED_POLICE),
    ("VA12345", PlateFlag.MILITARY),
    ("KB12345", PlateFlag.MILITARY),
    ("港A12345", PlateFlag.UNRECOGNISED),  # a province-like prefix we do not know
    ("京A123456", PlateFlag.UNRECOGNISED),  # 8 characters without D/F: a series to come
]

INVALID = [
    "",
    "   ",
    "_无_",
    "ABC",
    "京A1234",  # too short
    "京A1234O",  # O never in a serial
    "京AI2345",  # nor I
    "京I12345",  # nor as the authority letter
    "京12345A",  # no authority letter
    "京A1234567",  # too long
    "粤Z12345港",
    "x" * 40,
]


@pytest.mark.parametrize(("raw", "number", "plate_class"), VALID)
def test_valid_plates(raw: str, number: str, plate_class: PlateClass) -> None:
    plate = classify(raw)
    assert (plate.number, plate.plate_class, plate.valid, plate.flag) == (
        number,
        plate_class,
        True,
        None,
    )
    assert plate.raw == raw


@pytest.mark.parametrize(("raw", "flag"), PLAUSIBLE)
def test_plausible_unknown_plates_are_accepted_and_flagged(raw: str, flag: PlateFlag) -> None:
    plate = classify(raw)
    assert (plate.valid, plate.plate_class, plate.flag) == (True, PlateClass.OTHER, flag)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_plates(raw: str) -> None:
    plate = classify(raw)
    assert (plate.valid, plate.plate_class, plate.flag) == (False, PlateClass.INVALID, None)


def test_normalise() -> None:
    assert normalise("ｊｉｎｇ　ａ－１") == "JINGA1"
    assert normalise("京A·12345") == normalise("京A 12345") == normalise("京a12345")


def test_colours_are_kept_and_unknown_matches_any() -> None:
    blue = classify("京A12345", PlateColor.BLUE).key
    yellow = classify("京A12345", PlateColor.YELLOW).key
    unknown = classify("京A12345").key
    assert blue != yellow
    assert not blue.matches(yellow)
    assert blue.matches(unknown)
    assert unknown.matches(yellow)
    assert not blue.matches(PlateKey("京A12346", PlateColor.BLUE))
    assert classify("京A12345", PlateColor.GREEN).as_dict()["color"] == "green"


@pytest.mark.parametrize(
    ("value", "color"),
    [
        (0, None),
        (1, PlateColor.BLUE),
        (2, PlateColor.YELLOW),
        (5, PlateColor.GREEN),
        (6, PlateColor.YELLOW_GREEN),
        ("blue", PlateColor.BLUE),
        ("蓝", PlateColor.BLUE),
        ("黄牌", PlateColor.YELLOW),
        ("绿色", PlateColor.GREEN),
        (None, None),
        ("unknown", None),
    ],
)
def test_parse_color(value: object, color: PlateColor | None) -> None:
    assert parse_color(value) == color


@pytest.mark.parametrize("value", [7, -1, "purple", True, 1.5])
def test_parse_color_refuses_what_is_no_colour(value: object) -> None:
    with pytest.raises(ValueError, match="colo"):
        parse_color(value)
