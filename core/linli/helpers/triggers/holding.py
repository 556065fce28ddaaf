"""``for:`` timers of one trigger: persisted deadlines when the owner asked for them.

A trigger with ``for:`` keeps one timer per subject (an entity id, or ``template``). With a
``deadline_key`` in its :class:`~linli.helpers.trigger.TriggerInfo` each timer is a persisted
deadline ``<deadline_key>.<subject>`` carrying the trigger's fingerprint, so after a restart
the same trigger (and only the same trigger) can take it over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from linli.callback import callback
from linli.context import Context
from linli.helpers.deadlines import Deadline, DeadlineFired, get_deadlines
from linli.helpers.trigger import fingerprint
from linli.state import State

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerInfo
    from linli.hub import Hub

FireFunc = Callable[[bool], None]
"""Called when a ``for:`` has held: ``fire(late)``."""


class HoldTimers:
    """The running ``for:`` timers of one attached trigger, by subject."""

    __slots__ = ("_cancels", "_deadlines", "_fingerprint", "_hub", "_key")

    def __init__(self, hub: Hub, config: Mapping[str, Any], trigger_info: TriggerInfo) -> None:
        self._hub = hub
        self._key = trigger_info["deadline_key"]
        self._deadlines = get_deadlines(hub) if self._key else None
        self._fingerprint = fingerprint(config) if self._key else ""
        self._cancels: dict[str, CancelCallback] = {}

    async def async_restore(self) -> list[tuple[str, Deadline]]:
        """Return ``(subject, deadline)`` persisted by this same trigger in the last run.

        Deadlines of a trigger whose config has changed since are dropped. The caller takes
        over the ones still valid with :meth:`reattach` and drops the others with :meth:`drop`.
        """
        if self._deadlines is None or self._key is None:
            return []
        await self._deadlines.async_load()
        prefix = self._key + "."
        restored = []
        for deadline in self._deadlines.pending(prefix):
            if deadline.data.get("fingerprint") != self._fingerprint:
                self._deadlines.async_drop(deadline.key)
                continue
            restored.append((deadline.key[len(prefix) :], deadline))
        return restored

    @callback
    def reattach(self, subject: str, fire: FireFunc) -> None:
        """Take over the persisted deadline of ``subject`` (see :meth:`async_restore`)."""
        if self._deadlines is None:
            return
        cancel = self._deadlines.async_reattach(
            f"{self._key}.{subject}", self._on_deadline(subject, fire)
        )
        if cancel is not None:
            self._cancels[subject] = cancel

    @callback
    def drop(self, subject: str) -> None:
        """Forget the persisted deadline of ``subject`` without taking it over."""
        if self._deadlines is not None:
            self._deadlines.async_drop(f"{self._key}.{subject}")

    @callback
    def schedule(
        self, subject: str, period: timedelta, fire: FireFunc, data: dict[str, Any]
    ) -> None:
        """Run ``fire(False)`` after ``period`` unless cancelled; replaces a running timer.

        ``data`` is what a later run needs to fire the trigger by itself (JSON-able).
        """
        self.cancel(subject)
        when = self._hub.clock.time() + period.total_seconds()
        if self._deadlines is None:

            def on_timer(_now: datetime) -> None:
                self._cancels.pop(subject, None)
                fire(False)

            self._cancels[subject] = self._hub.async_call_at(when, on_timer)
            return
        self._cancels[subject] = self._deadlines.async_schedule(
            f"{self._key}.{subject}",
            when,
            self._on_deadline(subject, fire),
            data={**data, "fingerprint": self._fingerprint},
        )

    def _on_deadline(self, subject: str, fire: FireFunc) -> Callable[[DeadlineFired], None]:
        @callback
        def on_deadline(fired: DeadlineFired) -> None:
            self._cancels.pop(subject, None)
            fire(fired.late)

        return on_deadline

    @callback
    def cancel(self, subject: str) -> None:
        """Stop the timer of ``subject`` (and forget its persisted deadline)."""
        cancel = self._cancels.pop(subject, None)
        if cancel is not None:
            cancel()

    def is_running(self, subject: str) -> bool:
        """Return whether ``subject`` has a timer running."""
        return subject in self._cancels

    @callback
    def cancel_all(self) -> None:
        """Stop every timer (the trigger is detached)."""
        for cancel in self._cancels.values():
            cancel()
        self._cancels.clear()


def state_to_data(state: State | None) -> dict[str, Any] | None:
    """Return a state as JSON-able data, to persist with a deadline."""
    return None if state is None else dict(state.as_dict())


def state_from_data(data: Any) -> State | None:
    """Rebuild a state persisted by :func:`state_to_data` (None when absent or unreadable)."""
    if not isinstance(data, dict):
        return None
    try:
        context = data.get("context") or {}
        return State(
            data["entity_id"],
            data["state"],
            data.get("attributes"),
            datetime.fromisoformat(data["last_changed"]).timestamp(),
            datetime.fromisoformat(data["last_updated"]).timestamp(),
            Context(context.get("user_id"), context.get("parent_id"), context.get("id")),
        )
    except (KeyError, TypeError, ValueError):
        return None
