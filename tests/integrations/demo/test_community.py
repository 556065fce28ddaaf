"""The demo's pure planning and simulation rules, tested as plain functions."""

from __future__ import annotations

import random

import pytest

from linli import valid_entity_id
from linli_demo.community import (
    READINGS,
    ReadingKind,
    daily_power_factor,
    ebike_in_elevator,
    elevator_load,
    foot_traffic,
    foot_traffic_factor,
    household_name,
    localized,
    next_power,
    place_name,
    plan_households,
    short_number,
)

YEAR = 2026
ROOMS = [(f"b1-u1-{floor}0{n}", f"1-1-{floor}0{n}") for floor in range(1, 19) for n in (1, 2)]


def _summary(plans: list) -> list[tuple[str, tuple[tuple[str, int, str], ...]]]:
    return [
        (plan.room_id, tuple((r.name, r.birth_year, r.relation) for r in plan.residents))
        for plan in plans
    ]


def test_same_seed_same_community_other_seed_another() -> None:
    first = plan_households(ROOMS, seed=7, occupancy=0.8, year=YEAR)
    again = plan_households(ROOMS, seed=7, occupancy=0.8, year=YEAR)
    other = plan_households(ROOMS, seed=8, occupancy=0.8, year=YEAR)
    assert _summary(first) == _summary(again)
    assert _summary(first) != _summary(other)


@pytest.mark.parametrize(("occupancy", "expected"), [(0.0, 0), (1.0, len(ROOMS))])
def test_occupancy_bounds(occupancy: float, expected: int) -> None:
    assert len(plan_households(ROOMS, seed=1, occupancy=occupancy, year=YEAR)) == expected


def test_occupancy_is_a_share_of_rooms() -> None:
    rooms = [(f"r{i}", f"{i}") for i in range(2000)]
    lived_in = len(plan_households(rooms, seed=3, occupancy=0.25, year=YEAR))
    assert 400 < lived_in < 600


def test_households_are_plausible() -> None:
    plans = plan_households(ROOMS * 20, seed=11, occupancy=1.0, year=YEAR)
    assert {plan.room_id for plan in plans} == {room for room, _ in ROOMS}
    assert all(plan.name == dict(ROOMS)[plan.room_id] for plan in plans)
    alone = [plan for plan in plans if len(plan.residents) == 1]
    assert alone, "some elders live alone"
    for plan in plans:
        assert plan.residents
        ages = [YEAR - r.birth_year for r in plan.residents]
        assert all(0 < age <= 92 for age in ages)
        assert all(r.name[0] in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高" for r in plan.residents)
        if len(plan.residents) == 1:
            (elder,) = plan.residents
            assert elder.tags == {"lives_alone"}
            assert YEAR - elder.birth_year >= 70
            assert elder.relation == "owner"
        owners = [r for r in plan.residents if r.relation == "owner"]
        if owners:
            (owner,) = owners
            owner_age = YEAR - owner.birth_year
            # Anyone far older than the owner in a family is a grandparent, a generation up.
            for resident in plan.residents[2:]:
                age = YEAR - resident.birth_year
                assert age < owner_age - 20 or age >= owner_age + 20
        else:
            assert {r.relation for r in plan.residents} == {"tenant"}


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("1号楼", "1"),
        ("12栋", "12"),
        ("A座", "A"),
        ("2单元", "2"),
        ("东区3号楼", "东区3"),
        ("Building 2", "2"),
        ("unit 3", "3"),
        ("Block C", "C"),
        ("单元", "单元"),
    ],
)
def test_short_number(name: str, short: str) -> None:
    assert short_number(name) == short


def test_household_name() -> None:
    assert household_name("1号楼", "2单元", "301") == "1-2-301"
    assert household_name("Building 1", "Unit 2", "301") == "1-2-301"
    assert household_name("3号楼", None, "101") == "3-101"
    assert household_name(None, None, "101") == "101"


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (
            [
                ("community", "幸福里"),
                ("building", "1号楼"),
                ("unit", "2单元"),
                ("floor", "12层"),
                ("room", "1201"),
            ],
            "1号楼 / 2单元 / 1201",
        ),
        ([("community", "幸福里"), ("building", "1号楼"), ("floor", "3层")], "1号楼 / 3层"),
        ([("community", "幸福里"), ("zone", "北门")], "北门"),
        ([("community", "幸福里")], "幸福里"),
    ],
)
def test_place_name(chain: list[tuple[str, str]], expected: str) -> None:
    assert place_name(chain) == expected


def test_localized_falls_back_to_english() -> None:
    names = {"zh": "电梯载重", "en": "Elevator load"}
    assert localized(names, "zh-CN") == "电梯载重"
    assert localized(names, "en-GB") == "Elevator load"
    assert localized(names, "fr") == "Elevator load"
    assert localized(names, None) == "Elevator load"


def test_readings_table() -> None:
    assert set(READINGS) == set(ReadingKind)
    for kind, reading in READINGS.items():
        assert reading.kind is kind
        assert valid_entity_id(f"{reading.domain}.x_{reading.suffix}")
        assert localized(reading.names, "zh-CN") != localized(reading.names, "en")
        assert localized(reading.device.names, "en")
    # Two readings on one device need different suffixes, or their unique_ids would clash.
    by_device: dict[str, set[str]] = {}
    for reading in READINGS.values():
        suffixes = by_device.setdefault(reading.device.key, set())
        assert reading.suffix not in suffixes
        suffixes.add(reading.suffix)


@pytest.mark.parametrize("factor", [daily_power_factor, foot_traffic_factor])
def test_daily_factors(factor) -> None:
    values = [factor(hour / 4) for hour in range(96)]
    assert all(0 < value <= 1 for value in values)
    assert max(values) == 1.0
    assert factor(3) < factor(20) or factor(3) < factor(8)


def test_foot_traffic_peaks_at_rush_hours() -> None:
    assert foot_traffic_factor(8) > foot_traffic_factor(12) > foot_traffic_factor(3)
    assert foot_traffic_factor(18) > foot_traffic_factor(12)


def test_power_drifts_to_the_hours_load() -> None:
    rng = random.Random(0)
    evening = night = 0.0
    for _ in range(40):
        evening = next_power(evening, 3000, 20.5, rng)
        night = next_power(night, 3000, 3.0, rng)
    assert 2600 < evening < 3400  # peak × 1.0, give or take the noise
    assert 250 < night < 650  # peak × 0.15
    assert min(next_power(0, 0, 3, random.Random(s)) for s in range(200)) == 5.0


def test_elevator_and_counter_readings() -> None:
    rng = random.Random(1)
    loads = [elevator_load(rng) for _ in range(500)]
    assert 0 in loads
    assert all(load == 0 or 65 <= load <= 280 for load in loads)
    assert len({load for load in loads if load}) > 10
    ebikes = sum(ebike_in_elevator(rng) for _ in range(5000))
    assert 50 < ebikes < 250
    counts = [foot_traffic(40, 8, rng) for _ in range(200)]
    assert all(count >= 0 for count in counts)
    assert 35 < sum(counts) / len(counts) < 45
    assert max(foot_traffic(40, 3, rng) for _ in range(200)) < 15
