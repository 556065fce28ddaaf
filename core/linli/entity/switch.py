"""Switches: something the hub turns on and off (Home Assistant's ``SwitchEntity``).

Services ``switch.turn_on``, ``switch.turn_off`` and ``switch.toggle`` call
:meth:`~linli.entity.entity.ToggleEntity.async_turn_on` / ``async_turn_off`` /
``async_toggle`` on the targeted entities.
"""

from __future__ import annotations

from typing import ClassVar

from linli.entity.entity import ToggleEntity


class SwitchEntity(ToggleEntity):
    """A switch: ``is_on``; implement ``async_turn_on`` and ``async_turn_off``."""

    domain: ClassVar[str] = "switch"
