"""The schemas of the built-in kinds, read from the bundled ``schemas/<kind>.<channel>.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from linli_mqtt.devices.validation import load_schema

BUILTIN_CHANNELS: Final = {
    "meter": ("state",),
    "lift": ("state", "event"),
    "people_counter": ("state",),
    "sensor": ("state",),
}
"""The built-in kinds and the channels they accept (besides ``availability``)."""

BUILTIN_SCHEMAS: Final[Mapping[str, Mapping[str, Mapping[str, Any]]]] = {
    kind: {channel: load_schema(f"{kind}.{channel}") for channel in channels}
    for kind, channels in BUILTIN_CHANNELS.items()
}
