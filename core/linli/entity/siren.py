"""Sirens: alarms and sounders (Home Assistant's ``SirenEntity``).

``siren.turn_on`` takes ``tone``, ``volume_level`` (0–1) and ``duration`` (seconds), each
only for a siren whose ``supported_features`` include it; a ``tone`` must be one of
``available_tones`` (a list, or a dict whose keys or values name tones).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntFlag
from typing import Any, ClassVar

from linli.entity.entity import ToggleEntity
from linli.exceptions import ServiceValidationError


class SirenEntityFeature(IntFlag):
    """What a siren supports."""

    TURN_ON = 1
    TURN_OFF = 2
    TONES = 4
    VOLUME_SET = 8
    DURATION = 16


class SirenEntity(ToggleEntity):
    """A siren: ``is_on``; implement ``async_turn_on(**kwargs)`` and ``async_turn_off``."""

    domain: ClassVar[str] = "siren"
    available_tones: list[int | str] | dict[int | str, str] | None = None

    @property
    def capability_attributes(self) -> Mapping[str, Any] | None:
        """``available_tones`` when the siren has tones."""
        features = self.supported_features or 0
        if features & SirenEntityFeature.TONES and self.available_tones is not None:
            return {"available_tones": self.available_tones}
        return None


def process_turn_on_params(siren: SirenEntity, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``siren.turn_on``'s fields against the siren; return them (tone resolved)."""
    features = siren.supported_features or 0
    result = dict(params)
    for key, feature in (
        ("tone", SirenEntityFeature.TONES),
        ("volume_level", SirenEntityFeature.VOLUME_SET),
        ("duration", SirenEntityFeature.DURATION),
    ):
        if key in result and not features & feature:
            raise ServiceValidationError(f"{siren.entity_id} does not support setting {key}")
    if "tone" in result:
        tone = result["tone"]
        tones = siren.available_tones or []
        if isinstance(tones, dict):
            keys = {str(key): key for key in tones}
            names = {value: key for key, value in tones.items()}
            if str(tone) in keys:
                result["tone"] = keys[str(tone)]
            elif tone in names:
                result["tone"] = names[tone]
            else:
                raise ServiceValidationError(f"Invalid tone {tone!r} for {siren.entity_id}")
        else:
            by_text = {str(item): item for item in tones}
            if str(tone) not in by_text:
                raise ServiceValidationError(f"Invalid tone {tone!r} for {siren.entity_id}")
            result["tone"] = by_text[str(tone)]
    return result
