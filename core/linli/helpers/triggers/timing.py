"""Wall-clock arithmetic for the time triggers: the next local time matching a pattern."""

from __future__ import annotations

import bisect
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

_ONE_SECOND = timedelta(seconds=1)


def local_zone(hub: Hub) -> ZoneInfo:
    """Return the hub's time zone (``linli: time_zone``); UTC when it is unknown."""
    try:
        return ZoneInfo(hub.config.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        _LOGGER.warning("Unknown time zone %r; using UTC", hub.config.time_zone)
        return ZoneInfo("UTC")


def _first_at_least(values: Sequence[int], minimum: int) -> int | None:
    index = bisect.bisect_left(values, minimum)
    return values[index] if index < len(values) else None


def _next_wall_time(
    start: datetime, hours: Sequence[int], minutes: Sequence[int], seconds: Sequence[int]
) -> datetime:
    """Return the first naive wall time at or after ``start`` matching the sorted value lists."""
    moment = start
    while True:
        hour = _first_at_least(hours, moment.hour)
        if hour is None:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            continue
        if hour != moment.hour:
            moment = moment.replace(hour=hour, minute=0, second=0)
        minute = _first_at_least(minutes, moment.minute)
        if minute is None:
            moment = moment.replace(minute=0, second=0) + timedelta(hours=1)
            continue
        if minute != moment.minute:
            moment = moment.replace(minute=minute, second=0)
        second = _first_at_least(seconds, moment.second)
        if second is None:
            moment = moment.replace(second=0) + timedelta(minutes=1)
            continue
        return moment.replace(second=second)


def next_local_time(
    after: float,
    zone: ZoneInfo,
    hours: Sequence[int],
    minutes: Sequence[int],
    seconds: Sequence[int],
) -> float:
    """Return the first POSIX time strictly after ``after`` whose local time matches.

    ``hours``, ``minutes`` and ``seconds`` are sorted, non-empty lists of allowed values. A
    wall time that a daylight-saving jump skips is taken as the instant zoneinfo maps it to.
    """
    wall = datetime.fromtimestamp(after, zone).replace(tzinfo=None, microsecond=0) + _ONE_SECOND
    while True:
        candidate = _next_wall_time(wall, hours, minutes, seconds)
        timestamp = candidate.replace(tzinfo=zone).timestamp()
        if timestamp > after:
            return timestamp
        # Only when a daylight-saving fold maps the wall time before ``after``.
        wall = candidate + _ONE_SECOND
