"""The ``@callback`` marker: a plain function that is safe to run on the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

_ATTR = "_linli_callback"


def callback(func: _F) -> _F:
    """Mark ``func`` as a callback: it never blocks and may run inline on the loop.

    The bus calls callbacks directly while firing, without creating a task, so they must be
    quick and must not do I/O. Anything slower belongs in a coroutine function.
    """
    setattr(func, _ATTR, True)
    return func


def is_callback(func: Callable[..., Any]) -> bool:
    """Return whether ``func`` was marked with :func:`callback`."""
    return getattr(func, _ATTR, False) is True
