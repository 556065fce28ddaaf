"""Plan a simulated community's households and residents: pure functions, no I/O.

The names are made up from common syllables; they belong to nobody.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平红"


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
    rooms: list[tuple[str, str]], *, seed: int, occupancy: float, year: int
) -> list[HouseholdPlan]:
    """Decide which rooms are lived in and by whom.

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
                residents.append(
                    ResidentPlan(_name(rng, surname), year - rng.randint(65, 88), "member")
                )
        plans.append(HouseholdPlan(household_name, room_id, tuple(residents)))
    return plans


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
