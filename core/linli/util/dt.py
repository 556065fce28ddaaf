"""Date and time helpers: everything inside the hub is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["UTC", "as_utc", "parse_duration", "utc_from_timestamp"]


def utc_from_timestamp(timestamp: float) -> datetime:
    """Return the aware UTC datetime of a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_duration(value: str | float | timedelta | dict[str, float]) -> timedelta:
    """Parse ``"01:30:00"``, ``"90"`` (seconds), ``{"minutes": 5}`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, dict):
        return timedelta(**value)
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = value.strip()
    negative = text.startswith("-")
    text = text.lstrip("-")
    parts = text.split(":")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"Invalid duration {value!r}: use HH:MM[:SS] or a number of seconds")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as err:
        raise ValueError(f"Invalid duration {value!r}: use HH:MM[:SS] or seconds") from err
    seconds = 0.0
    if len(numbers) == 1:
        seconds = numbers[0]
    elif len(numbers) == 2:
        seconds = numbers[0] * 3600 + numbers[1] * 60
    else:
        seconds = numbers[0] * 3600 + numbers[1] * 60 + numbers[2]
    return timedelta(seconds=-seconds if negative else seconds)
