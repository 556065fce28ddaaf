"""The simulated community's rules: pure functions and tables, no I/O and no hub.

Who lives where (:func:`plan_households`), what the devices measure (:data:`READINGS`) and how
their readings move (:func:`next_power` and friends). The names are made up from common
syllables; they belong to nobody.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from linli.registry.areas import lookup_name

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平红"

FALLBACK_LANGUAGE: Final = "en"


# ---------------------------------------------------------------------- households
@dataclass(frozen=True, slots=True)
class ResidentPlan:
    """A simulated resident."""

    name: str
    birth_year: int
    relation: str
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class HouseholdPlan:
    """A simulated household living in one room (flat)."""

    name: str
    room_id: str
    residents: tuple[ResidentPlan, ...]


def _name(rng: random.Random, surname: str | None = None) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return (surname or rng.choice(SURNAMES)) + given


def plan_households(
    rooms: Sequence[tuple[str, str]], *, seed: int, occupancy: float, year: int
) -> list[HouseholdPlan]:
    """Decide which rooms are lived in and by whom; the same arguments give the same plan.

    :param rooms: ``(room_id, household_name)`` pairs, e.g. ``("b1-u1-301", "1-1-301")``.
    :param seed: The same seed gives the same community.
    :param occupancy: Share of rooms lived in (0..1).
    :param year: The current year, to turn ages into birth years.
    """
    rng = random.Random(seed)
    plans = []
    for room_id, household_name in rooms:
        if rng.random() >= occupancy:
            continue
        kind = rng.random()
        surname = rng.choice(SURNAMES)
        residents: list[ResidentPlan] = []
        if kind < 0.15:
            # An elder living alone: the case the wristband and "no activity" alerts serve.
            residents.append(
                ResidentPlan(
                    _name(rng, surname),
                    year - rng.randint(70, 92),
                    "owner",
                    frozenset({"lives_alone"}),
                )
            )
        elif kind < 0.35:
            # A young couple renting.
            residents.append(ResidentPlan(_name(rng), year - rng.randint(24, 35), "tenant"))
            residents.append(ResidentPlan(_name(rng), year - rng.randint(24, 35), "tenant"))
        else:
            # A family: parents, children, sometimes a grandparent.
            parent_age = rng.randint(32, 50)
            residents.append(ResidentPlan(_name(rng, surname), year - parent_age, "owner"))
            residents.append(
                ResidentPlan(_name(rng), year - parent_age - rng.randint(-3, 3), "member")
            )
            for _ in range(rng.randint(0, 2)):
                residents.append(
                    ResidentPlan(
                        _name(rng, surname), year - rng.randint(1, parent_age - 22), "member"
                    )
                )
            if rng.random() < 0.3:
                grandparent_age = rng.randint(max(65, parent_age + 20), 92)
                residents.append(
                    ResidentPlan(_name(rng, surname), year - grandparent_age, "member")
                )
        plans.append(HouseholdPlan(household_name, room_id, tuple(residents)))
    return plans


_NUMBER_WORDS = re.compile(
    r"^(?:building|bldg\.?|block|tower|unit|entrance)\s*|(?:号楼|号|栋|幢|座|单元|楼)$",
    re.IGNORECASE,
)


def short_number(name: str) -> str:
    """Return a building's or unit's name as used in addresses: "3号楼" → "3", "Unit 2" → "2"."""
    return _NUMBER_WORDS.sub("", name.strip()).strip() or name.strip()


def household_name(building: str | None, unit: str | None, room: str) -> str:
    """Return how a community refers to a flat: building-unit-room, e.g. "1-2-301"."""
    parts = [short_number(part) for part in (building, unit) if part]
    return "-".join([*parts, room])


# ---------------------------------------------------------------------- names
PLACE_SEPARATOR: Final = " / "


def place_name(chain: Sequence[tuple[str, str]]) -> str:
    """Return a short name for a place from its ``(kind, name)`` chain, the community first.

    The community is left out (every entity is in it) unless it is the place itself, and so
    is a floor above a room (room 1201 says its floor): "1号楼 / 2单元 / 1201".
    """
    kept = []
    for index, (kind, name) in enumerate(chain):
        last = index == len(chain) - 1
        if kind == "community" and not last:
            continue
        if kind == "floor" and not last and chain[index + 1][0] == "room":
            continue
        kept.append(name)
    return PLACE_SEPARATOR.join(kept)


def localized(names: Mapping[str, str], language: str | None) -> str:
    """Return the text for ``language`` from ``{language: text}``, else the English one."""
    return lookup_name(names, language) or names[FALLBACK_LANGUAGE]


def _names(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({"zh": zh, "en": en})


# ---------------------------------------------------------------------- devices and readings
@dataclass(frozen=True, slots=True)
class DeviceKind:
    """A kind of simulated device: its identifier prefix, model and name."""

    key: str
    model: str
    names: Mapping[str, str]


METER = DeviceKind("meter", "Simulated electricity meter", _names("电表", "Electricity meter"))
COMMUNITY_METER = DeviceKind(
    "community-meter", "Simulated community meter", _names("总电表", "Main meter")
)
ELEVATOR = DeviceKind("elevator", "Simulated elevator monitor", _names("电梯", "Elevator"))
COUNTER = DeviceKind("counter", "Simulated people counter", _names("人流计数", "People counter"))
FACE_TERMINAL_NAMES: Final = _names("人脸门禁", "Face terminal")


class ReadingKind(StrEnum):
    """What a simulated entity measures."""

    POWER = "power"
    TOTAL_POWER = "total_power"
    ELEVATOR_LOAD = "elevator_load"
    ELEVATOR_EBIKE = "elevator_ebike"
    FOOT_TRAFFIC = "foot_traffic"


@dataclass(frozen=True, slots=True)
class Reading:
    """How one kind of simulated entity is registered and shown."""

    kind: ReadingKind
    suffix: str
    """Ends its unique_id (``<area id>-<suffix>``) and its suggested object_id."""
    domain: str
    device: DeviceKind
    names: Mapping[str, str]
    units: Mapping[str, str] | None = None
    device_class: str | None = None


READINGS: Final[Mapping[ReadingKind, Reading]] = MappingProxyType(
    {
        reading.kind: reading
        for reading in (
            Reading(
                ReadingKind.POWER,
                "power",
                "sensor",
                METER,
                _names("用电功率", "Power"),
                _names("W", "W"),
                "power",
            ),
            Reading(
                ReadingKind.TOTAL_POWER,
                "power",
                "sensor",
                COMMUNITY_METER,
                _names("总用电功率", "Total power"),
                _names("W", "W"),
                "power",
            ),
            Reading(
                ReadingKind.ELEVATOR_LOAD,
                "elevator_load",
                "sensor",
                ELEVATOR,
                _names("电梯载重", "Elevator load"),
                _names("kg", "kg"),
                "weight",
            ),
            Reading(
                ReadingKind.ELEVATOR_EBIKE,
                "elevator_ebike",
                "binary_sensor",
                ELEVATOR,
                _names("电梯内有电动车", "E-bike in elevator"),
                None,
                "occupancy",
            ),
            Reading(
                ReadingKind.FOOT_TRAFFIC,
                "people",
                "sensor",
                COUNTER,
                _names("人流量", "Foot traffic"),
                _names("人/分钟", "people/min"),
            ),
        )
    }
)
"""Every kind of simulated entity, by kind."""


# ---------------------------------------------------------------------- how readings move
def daily_power_factor(hour: float) -> float:
    """How much of a flat's peak power is typically drawn at a local hour (0..24)."""
    if hour < 6:
        return 0.15
    if hour < 9:
        return 0.6
    if hour < 17:
        return 0.3
    if hour < 22:
        return 1.0
    return 0.4


def foot_traffic_factor(hour: float) -> float:
    """How busy a gate or car park is at a local hour (0..24), as a share of its peak."""
    if hour < 6:
        return 0.05
    if hour < 7:
        return 0.3
    if hour < 9:
        return 1.0  # going to work and school
    if hour < 17:
        return 0.4
    if hour < 19:
        return 0.9  # coming home
    if hour < 22:
        return 0.5
    return 0.1


def next_power(current: float, peak: float, hour: float, rng: random.Random) -> float:
    """Return a flat's next power draw (W): drifts toward the hour's typical load, with noise."""
    target = peak * daily_power_factor(hour)
    return max(5.0, current + (target - current) * 0.3 + rng.gauss(0, 40))


def elevator_load(rng: random.Random) -> int:
    """Return an elevator's load (kg): empty most of the time, else one to four people."""
    load = rng.choice((0, 0, 0, 65, 130, 190, 260)) + rng.uniform(0, 20)
    return round(load) if load > 20 else 0


def ebike_in_elevator(rng: random.Random) -> bool:
    """Return whether an e-bike is in the elevator (rare, which is why it raises alerts)."""
    return rng.random() < 0.03


def foot_traffic(peak: float, hour: float, rng: random.Random) -> int:
    """Return how many people pass a counter per minute at a local hour."""
    return max(0, round(peak * foot_traffic_factor(hour) + rng.gauss(0, 3)))
