"""The community's settings in Home Assistant's ``/api/config`` / ``get_config`` shape.

One function for the REST and the WebSocket API, so both report the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from linli.components.http.const import HA_API_VERSION
from linli.const import __version__
from linli.exceptions import LinliError

if TYPE_CHECKING:
    from linli.hub import Hub

UNIT_SYSTEM_METRIC: Final = {
    "length": "km",
    "accumulated_precipitation": "mm",
    "area": "m²",
    "mass": "g",
    "pressure": "Pa",
    "temperature": "°C",
    "volume": "L",
    "wind_speed": "m/s",
}


def config_as_dict(hub: Hub, *, is_admin: bool) -> dict[str, Any]:
    """Return the hub's settings; ``config_dir`` only for admins."""
    core = hub.config
    loader = hub.loader
    components = (
        sorted(d for d, r in loader.records.items() if str(r.status) == "loaded")
        if loader is not None
        else []
    )
    data: dict[str, Any] = {
        "components": components,
        "config_source": "yaml",
        "country": None,
        "currency": "CNY",
        "elevation": core.elevation,
        "external_url": None,
        "internal_url": _base_url(hub),
        "language": core.language,
        "latitude": core.latitude,
        "location_name": core.name,
        "longitude": core.longitude,
        "radius": 100,
        "recovery_mode": False,
        "safe_mode": False,
        "state": hub.state.value,
        "time_zone": core.time_zone,
        "unit_system": UNIT_SYSTEM_METRIC,
        "version": HA_API_VERSION,
        "linli_version": __version__,
        "allowlist_external_dirs": [],
        "allowlist_external_urls": [],
        "whitelist_external_dirs": [],
    }
    if is_admin:
        data["config_dir"] = str(hub.config_dir)
    return data


def _base_url(hub: Hub) -> str | None:
    from linli.components.http import get_http

    try:
        return get_http(hub).base_url
    except LinliError:
        return None
