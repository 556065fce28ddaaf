"""Context: who or what caused an event, a state change or a service call."""

from __future__ import annotations

from typing import Any

from linli.util.ids import ulid


class Context:
    """The cause of a change, carried through every event, state and service call.

    ``id`` is unique (a ULID made on first use, so contexts nobody reads cost almost nothing),
    ``user_id`` the user who asked for it (None for the system) and ``parent_id`` the context
    of what triggered it (an automation run's context has the trigger's context as parent).
    """

    __slots__ = ("_id", "parent_id", "user_id")

    def __init__(
        self, user_id: str | None = None, parent_id: str | None = None, id: str | None = None
    ) -> None:
        self._id = id
        self.user_id = user_id
        self.parent_id = parent_id

    @property
    def id(self) -> str:
        """The context's unique id."""
        if self._id is None:
            self._id = ulid()
        return self._id

    def child(self) -> Context:
        """Return a new context caused by this one (same user, this one as parent)."""
        return Context(user_id=self.user_id, parent_id=self.id)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used on the wire: ``{"id", "parent_id", "user_id"}``."""
        return {"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Context {self.id} user={self.user_id} parent={self.parent_id}>"
