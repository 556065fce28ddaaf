"""The ``linli:`` section of configuration.yaml: the community's name, place, language, areas."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from linli.hub import CoreConfig

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def time_zone(value: Any) -> str:
    """Validate an IANA time zone name such as ``Asia/Shanghai``."""
    text = str(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise vol.Invalid(
            f"unknown time zone {text!r} (use an IANA name like Asia/Shanghai)"
        ) from err
    return text


def language(value: Any) -> str:
    """Validate a BCP 47 language tag such as ``zh-CN`` or ``en``."""
    text = str(value)
    if not _LANGUAGE.match(text):
        raise vol.Invalid(f"invalid language tag {text!r} (use e.g. zh-CN or en)")
    return text


def _name(value: Any) -> str | dict[str, str]:
    if isinstance(value, dict):
        return {language(k): str(v) for k, v in value.items()}
    return str(value)


def _areas(value: Any) -> Any:
    # Imported here: the registry module pulls in the storage layer, which the CLI's
    # quick paths do not need.
    from linli.registry.areas import AREA_TREE_SCHEMA

    return AREA_TREE_SCHEMA(value)


CORE_CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("name", default="Linli"): _name,
        vol.Optional("time_zone", default="Asia/Shanghai"): time_zone,
        vol.Optional("latitude", default=0.0): vol.All(vol.Coerce(float), vol.Range(-90, 90)),
        vol.Optional("longitude", default=0.0): vol.All(vol.Coerce(float), vol.Range(-180, 180)),
        vol.Optional("elevation", default=0): vol.Coerce(int),
        vol.Optional("language", default="zh-CN"): language,
        vol.Optional("units", default="metric"): vol.In(["metric"]),
        vol.Optional("areas", default=list): vol.Any(None, _areas),
    }
)
"""Schema of the ``linli:`` section; every key is optional."""


def core_config_from(section: dict[str, Any]) -> CoreConfig:
    """Build the hub's :class:`CoreConfig` from a validated ``linli:`` section."""
    name = section["name"]
    display = name if isinstance(name, str) else next(iter(name.values()), "Linli")
    if isinstance(name, dict):
        display = name.get(section["language"], display)
    return CoreConfig(
        name=display,
        time_zone=section["time_zone"],
        latitude=section["latitude"],
        longitude=section["longitude"],
        elevation=section["elevation"],
        language=section["language"],
        units=section["units"],
        extra={"names": name if isinstance(name, dict) else {section["language"]: name}},
    )
