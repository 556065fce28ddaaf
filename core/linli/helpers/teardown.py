"""Undoing what an integration's setup did, one part at a time.

Setup registers things (device kinds, webhooks, data kinds, listeners) and keeps the function
that removes each; unload calls them newest first. One part that fails to come off is logged
and the others still are::

    unloads: list[Teardown] = []
    unloads.append(async_register_device_kind(hub, kind))
    ...
    await async_teardown(unloads, "plate_gate")          # in async_unload
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, MutableSequence
from typing import Any

_LOGGER = logging.getLogger(__name__)

Teardown = Callable[[], Awaitable[Any] | Any]
"""Removes one part: a plain function, or one that returns an awaitable."""


async def async_teardown(parts: MutableSequence[Teardown], owner: str) -> int:
    """Call every part's teardown, newest first, and empty ``parts``; return how many failed.

    A teardown that raises is logged with ``owner`` (the integration's domain) and the rest
    go on; an awaitable it returns is awaited.
    """
    failed = 0
    while parts:
        teardown = parts.pop()
        try:
            result = teardown()
            if inspect.isawaitable(result):
                await result
        except Exception:
            failed += 1
            _LOGGER.exception("Error undoing a part of %s (%r)", owner, teardown)
    return failed
