"""Availability from MQTT topics, as Home Assistant computes it: pure logic, no I/O.

An entity lists availability topics (``availability_topic`` or the ``availability`` list), each
with its own ``payload_available`` / ``payload_not_available`` (``online`` / ``offline``) and an
optional ``value_template``. ``availability_mode`` says how they combine: ``latest`` (the last
message on any of them decides; the default), ``all`` (every topic available) or ``any``. Until a
topic has said ``online`` it counts as not available; an entity without topics is available.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from linli.template import Template

AvailabilityMode = Literal["latest", "all", "any"]
MODES: Final = ("latest", "all", "any")


@dataclass(frozen=True, slots=True)
class AvailabilityTopic:
    """One availability topic and the payloads it uses."""

    topic: str
    payload_available: str = "online"
    payload_not_available: str = "offline"
    value_template: Template | None = None


class Availability:
    """The availability state of one entity, fed one message at a time."""

    __slots__ = ("_latest", "_mode", "_state", "topics")

    def __init__(self, topics: Iterable[AvailabilityTopic], mode: AvailabilityMode = "latest"):
        """Start with every topic unknown (not available)."""
        self.topics: dict[str, AvailabilityTopic] = {entry.topic: entry for entry in topics}
        self._mode = mode
        self._state: dict[str, bool] = dict.fromkeys(self.topics, False)
        self._latest = False

    @property
    def configured(self) -> bool:
        """Whether any availability topic is configured."""
        return bool(self.topics)

    @property
    def available(self) -> bool:
        """Whether the entity is available according to its topics."""
        if not self.topics:
            return True
        if self._mode == "all":
            return all(self._state.values())
        if self._mode == "any":
            return any(self._state.values())
        return self._latest

    def update(self, topic: str, value: str) -> bool:
        """Feed ``value`` (already templated) received on ``topic``; return whether it mattered.

        A value that is neither payload of that topic is ignored, as in Home Assistant.
        """
        entry = self.topics.get(topic)
        if entry is None:
            return False
        if value == entry.payload_available:
            state = True
        elif value == entry.payload_not_available:
            state = False
        else:
            return False
        before = self.available
        self._state[topic] = state
        self._latest = state
        return before != self.available
