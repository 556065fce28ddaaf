"""Chinese licence plates (GA 36-2018): normalisation, validation and colours. Pure functions.

A plate is read as ``normalise`` → ``classify``: full-width letters, digits and spaces become
half-width, the separators ``·`` ``•`` ``・`` and spaces go, letters are upper-cased. The
result keeps the raw text, says which class the plate is (ordinary, new energy, learner,
police…) and whether it is valid. A plate that fits no rule but looks like a plate (a
temporary 临 plate, 应急, armed police WJ, military, an unknown province-like prefix) is
valid *and flagged*: it is accepted, never rejected, so a guard can still let it in.

The colour is kept beside the number: a blue and a yellow plate with the same characters are
different plates. :class:`PlateKey` is what registered plates are matched on; an unknown
colour on either side matches any colour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PROV: Final = f"[{PROVINCES}]"
_AUTH: Final = "[A-HJ-Z]"
_SER: Final = "[A-HJ-NP-Z0-9]"
_SEPARATORS: Final = frozenset("·•・‧∙-")
MAX_RAW_LENGTH: Final = 32


class PlateClass(StrEnum):
    """What kind of plate a number is."""

    ORDINARY = "ordinary"
    NEW_ENERGY = "new_energy"
    NEW_ENERGY_LARGE = "new_energy_large"
    LEARNER = "learner"  # 学
    TRAILER = "trailer"  # 挂
    TEST = "test"  # 试
    OVERSIZE = "oversize"  # 超
    POLICE = "police"  # 警
    HONG_KONG = "hong_kong"  # 粤Z…港
    MACAU = "macau"  # 粤Z…澳
    CONSULATE = "consulate"  # 领
    EMBASSY = "embassy"  # 使
    OTHER = "other"
    """Plausible but not one of the rules above: see the plate's ``flag``."""
    INVALID = "invalid"


class PlateFlag(StrEnum):
    """Why a plausible plate fits no GA 36-2018 rule (accepted, flagged for a person)."""

    TEMPORARY = "temporary"  # 临
    EMERGENCY = "emergency"  # 应急
    ARMED_POLICE = "armed_police"  # WJ
    MILITARY = "military"
    UNRECOGNISED = "unrecognised"


class PlateColor(StrEnum):
    """Plate colours (the ANPR ``colorType`` codes 1–6)."""

    BLUE = "blue"
    YELLOW = "yellow"
    WHITE = "white"
    BLACK = "black"
    GREEN = "green"
    YELLOW_GREEN = "yellow_green"


COLOR_CODES: Final[dict[int, PlateColor | None]] = {
    0: None,
    1: PlateColor.BLUE,
    2: PlateColor.YELLOW,
    3: PlateColor.WHITE,
    4: PlateColor.BLACK,
    5: PlateColor.GREEN,
    6: PlateColor.YELLOW_GREEN,
}
"""The common LPR push's ``colorType``: 0 unknown, 1 blue … 5 green (new energy), 6 yellow-green."""

_COLOR_NAMES: Final[dict[str, PlateColor | None]] = {
    **{color.value: color for color in PlateColor},
    "unknown": None,
    "": None,
    "蓝": PlateColor.BLUE,
    "黄": PlateColor.YELLOW,
    "白": PlateColor.WHITE,
    "黑": PlateColor.BLACK,
    "绿": PlateColor.GREEN,
    "黄绿": PlateColor.YELLOW_GREEN,
}

_RULES: Final[tuple[tuple[PlateClass, re.Pattern[str]], ...]] = tuple(
    (plate_class, re.compile(pattern))
    for plate_class, pattern in (
        (PlateClass.ORDINARY, f"{_PROV}{_AUTH}{_SER}{{5}}"),
        (PlateClass.NEW_ENERGY, f"{_PROV}{_AUTH}[DF]{_SER}[0-9]{{4}}"),
        (PlateClass.NEW_ENERGY_LARGE, f"{_PROV}{_AUTH}[0-9]{{5}}[DF]"),
        (PlateClass.LEARNER, f"{_PROV}{_AUTH}{_SER}{{4}}学"),
        (PlateClass.TRAILER, f"{_PROV}{_AUTH}{_SER}{{4}}挂"),
        (PlateClass.TEST, f"{_PROV}{_AUTH}{_SER}{{4}}试"),
        (PlateClass.OVERSIZE, f"{_PROV}{_AUTH}{_SER}{{4}}超"),
        (PlateClass.POLICE, f"{_PROV}{_AUTH}[A-D0-9][0-9]{{3}}警"),
        (PlateClass.HONG_KONG, f"粤Z{_SER}{{4}}港"),
        (PlateClass.MACAU, f"粤Z{_SER}{{4}}澳"),
        (PlateClass.CONSULATE, f"{_PROV}A[0-9]{{4}}领"),
        (PlateClass.EMBASSY, "使[0-9]{6}|[0-9]{6}使"),
    )
)

# Plausible families outside the rules above (accepted and flagged).
_BODY: Final = f"[{PROVINCES}A-Z0-9]"
_TEMPORARY: Final = re.compile(f"(?:{_BODY}{{0,3}}临{_BODY}{{4,8}}|{_BODY}{{5,8}}临)")
_EMERGENCY: Final = re.compile(f"{_BODY}{{4,8}}应急|应急{_BODY}{{4,8}}")
_ARMED_POLICE: Final = re.compile(f"WJ(?:[0-9]{{2}}|{_PROV})[0-9A-Z警]{{4,6}}")
_MILITARY: Final = re.compile("[A-Z]{2}[0-9]{5}")
_PROVINCE_LIKE: Final = re.compile(r"[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fff]?")
"""A CJK prefix outside the provinces, an authority letter and 4–6 characters: the shape of
a plate we do not know (a new special plate, a misread province)."""
_NEW_SERIES: Final = re.compile(f"{_PROV}{_AUTH}[A-HJ-NP-Z0-9]{{5,6}}")
"""A province and authority with a serial no rule names (e.g. 8 digits-and-letters without
D/F): plausible. Letters I and O never are: ``京A1234O`` is invalid."""


@dataclass(frozen=True, slots=True)
class Plate:
    """A plate as read: raw text, the normalised number, its class, validity, flag, colour."""

    raw: str
    number: str
    plate_class: PlateClass
    valid: bool
    flag: PlateFlag | None = None
    color: PlateColor | None = None

    @property
    def key(self) -> PlateKey:
        """The number and colour this plate is matched on."""
        return PlateKey(self.number, self.color)

    def as_dict(self) -> dict[str, str | bool | None]:
        """JSON-ready data."""
        return {
            "raw": self.raw,
            "plate": self.number,
            "class": self.plate_class.value,
            "valid": self.valid,
            "flag": None if self.flag is None else self.flag.value,
            "color": None if self.color is None else self.color.value,
        }


@dataclass(frozen=True, slots=True)
class PlateKey:
    """A plate's identity: number and colour (None: unknown, matching any colour)."""

    number: str
    color: PlateColor | None = None

    def matches(self, other: PlateKey) -> bool:
        """Same number, and the same colour unless either colour is unknown."""
        return self.number == other.number and (
            self.color is None or other.color is None or self.color == other.color
        )


def normalise(raw: str) -> str:
    """Full-width → half-width, strip separators and whitespace, upper-case."""
    out: list[str] = []
    for original in raw:
        code = ord(original)
        if code == 0x3000:  # ideographic space
            continue
        # The full-width ASCII block (Ａ, １, －…) maps onto ASCII by a fixed offset.
        char = chr(code - 0xFEE0) if 0xFF01 <= code <= 0xFF5E else original
        if char.isspace() or char in _SEPARATORS:
            continue
        out.append(char.upper() if char.isascii() else char)
    return "".join(out)


def parse_color(value: object) -> PlateColor | None:
    """A colour from a ``colorType`` code or a name (``blue``, ``蓝``…); None when unknown.

    Raises ValueError for a value that is neither.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a plate colour: {value!r}")
    if value is None:
        return None
    if isinstance(value, int):
        if value in COLOR_CODES:
            return COLOR_CODES[value]
        raise ValueError(f"unknown colorType {value}: expected 0–6")
    if isinstance(value, str):
        name = value.strip().lower().removesuffix("色").removesuffix("牌")
        if name in _COLOR_NAMES:
            return _COLOR_NAMES[name]
        raise ValueError(f"unknown plate colour {value!r}")
    raise ValueError(f"not a plate colour: {value!r}")


def _plausible(number: str) -> PlateFlag | None:
    if _EMERGENCY.fullmatch(number):
        return PlateFlag.EMERGENCY
    if _TEMPORARY.fullmatch(number):
        return PlateFlag.TEMPORARY
    if _ARMED_POLICE.fullmatch(number):
        return PlateFlag.ARMED_POLICE
    if _MILITARY.fullmatch(number):
        return PlateFlag.MILITARY
    if number[:1] not in PROVINCES and _PROVINCE_LIKE.fullmatch(number):
        return PlateFlag.UNRECOGNISED
    if _NEW_SERIES.fullmatch(number):
        return PlateFlag.UNRECOGNISED
    return None


def classify(raw: str, color: PlateColor | None = None) -> Plate:
    """Normalise and validate ``raw``; never raises (an unusable text is ``INVALID``)."""
    text = raw[:MAX_RAW_LENGTH] if isinstance(raw, str) else ""
    number = normalise(text)
    for plate_class, pattern in _RULES:
        if pattern.fullmatch(number):
            return Plate(raw, number, plate_class, True, None, color)
    flag = _plausible(number)
    if flag is not None:
        return Plate(raw, number, PlateClass.OTHER, True, flag, color)
    return Plate(raw, number, PlateClass.INVALID, False, None, color)
