"""JSON on orjson: the encoder of the WebSocket and REST APIs, and a matching decoder.

orjson writes str, numbers, dicts, lists, tuples, dataclasses, datetimes (RFC 3339), UUIDs and
Enums itself; :func:`json_encoder_default` adds what it cannot: objects with an
``as_dict()`` (State, Event, Context, …), sets, read-only mappings, paths, timedeltas.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any, Final

import orjson

__all__ = ["JSONDecodeError", "json_bytes", "json_dumps", "json_encoder_default", "json_loads"]

JSONDecodeError = orjson.JSONDecodeError

_OPTIONS: Final = orjson.OPT_NON_STR_KEYS
_dumps = orjson.dumps


def json_encoder_default(obj: Any) -> Any:
    """Return a JSON-ready form of ``obj`` for what orjson cannot write by itself."""
    as_dict = getattr(obj, "as_dict", None)
    if as_dict is not None:
        return as_dict()
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, PurePath):
        return obj.as_posix()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def json_bytes(obj: Any) -> bytes:
    """Serialise ``obj`` to UTF-8 JSON bytes (the fast path: no decode to str)."""
    return _dumps(obj, default=json_encoder_default, option=_OPTIONS)


def json_dumps(obj: Any) -> str:
    """Serialise ``obj`` to a JSON string."""
    return _dumps(obj, default=json_encoder_default, option=_OPTIONS).decode()


def json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text or bytes."""
    return orjson.loads(data)
