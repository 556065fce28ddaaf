"""The public surface: exactly what integration authors may use, and nothing by accident."""

from __future__ import annotations

import types

import linli


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(linli).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(linli.__all__) == public | {"__version__"}
    assert len(linli.__all__) == len(set(linli.__all__))


def test_every_public_callable_is_documented() -> None:
    undocumented = [
        name
        for name in linli.__all__
        if callable(getattr(linli, name)) and not (getattr(linli, name).__doc__ or "").strip()
    ]
    assert undocumented == []
