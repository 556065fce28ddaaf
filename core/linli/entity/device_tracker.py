"""Device trackers: where a tracked thing is (Home Assistant's ``TrackerEntity``).

The state is ``location_name`` when set; else, with coordinates, the name of the zone they
fall in (``home`` for the home zone) or ``not_home``. Zones are ``zone.*`` states with
``latitude``, ``longitude`` and ``radius`` attributes (Home Assistant's zone model); without
a ``zone.home`` state the hub's own location is home, within ``HOME_RADIUS`` metres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from linli.entity.entity import Entity

if TYPE_CHECKING:
    from linli.hub import Hub

STATE_HOME: Final = "home"
STATE_NOT_HOME: Final = "not_home"
HOME_RADIUS: Final = 100.0
"""Metres around the hub's latitude/longitude that count as home when there is no zone.home."""
SOURCE_GPS: Final = "gps"
_EARTH_RADIUS: Final = 6_371_000.0


def distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS * math.asin(math.sqrt(a))


def active_zone(hub: Hub, latitude: float, longitude: float, accuracy: float = 0) -> str | None:
    """Return the name of the closest zone the point is in (``home`` for home), or None."""
    best: tuple[float, str] | None = None
    has_home = False
    for zone in hub.states.async_all("zone"):
        attrs = zone.attributes
        if attrs.get("passive"):
            continue
        try:
            zlat, zlon = float(attrs["latitude"]), float(attrs["longitude"])
            radius = float(attrs.get("radius", HOME_RADIUS))
        except (KeyError, TypeError, ValueError):
            continue
        is_home = zone.entity_id == "zone.home"
        has_home = has_home or is_home
        dist = distance(latitude, longitude, zlat, zlon)
        if dist - radius < accuracy and (best is None or dist < best[0]):
            best = (dist, STATE_HOME if is_home else zone.name)
    if not has_home and (hub.config.latitude or hub.config.longitude):
        dist = distance(latitude, longitude, hub.config.latitude, hub.config.longitude)
        if dist - HOME_RADIUS < accuracy and (best is None or dist < best[0]):
            best = (dist, STATE_HOME)
    return None if best is None else best[1]


class DeviceTrackerEntity(Entity):
    """A tracker: ``location_name``, or ``latitude``/``longitude`` (and ``gps_accuracy``)."""

    domain: ClassVar[str] = "device_tracker"
    source_type: str = SOURCE_GPS
    _attr_location_name: str | None = None
    _attr_latitude: float | None = None
    _attr_longitude: float | None = None
    _attr_gps_accuracy: float = 0

    @property
    def location_name(self) -> str | None:
        """A place name the device reports (``home``, ``not_home``, a zone's name)."""
        return self._attr_location_name

    @property
    def latitude(self) -> float | None:
        """Latitude in degrees."""
        return self._attr_latitude

    @property
    def longitude(self) -> float | None:
        """Longitude in degrees."""
        return self._attr_longitude

    @property
    def gps_accuracy(self) -> float:
        """Accuracy of the position in metres."""
        return self._attr_gps_accuracy

    @property
    def state(self) -> str | None:
        """The location name, else the zone of the coordinates, else None."""
        if self.location_name is not None:
            return self.location_name
        lat, lon = self.latitude, self.longitude
        if lat is None or lon is None or self.hub is None:
            return None
        return active_zone(self.hub, lat, lon, self.gps_accuracy) or STATE_NOT_HOME

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``source_type``, and the coordinates with their accuracy when known."""
        attrs: dict[str, Any] = {"source_type": self.source_type}
        if self.latitude is not None and self.longitude is not None:
            attrs["latitude"] = self.latitude
            attrs["longitude"] = self.longitude
            attrs["gps_accuracy"] = self.gps_accuracy
        return attrs
