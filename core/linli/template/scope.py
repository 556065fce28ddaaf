"""The render in progress: its error type, what it looked at, and the limits it runs under.

Every render sets a :class:`RenderScope` in a context variable. Helpers record the entities,
domains and clock reads they use in it (for :class:`RenderInfo`), refuse state access in
limited renders, and charge their work to its :class:`Budget`, so a template cannot hang the
event loop or exhaust memory however it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from linli.exceptions import LinliError

MAX_TEMPLATE_OUTPUT: Final = 256 * 1024
"""Characters a template may render (Home Assistant's limit)."""
MAX_VALUE_SIZE: Final = 256 * 1024
"""Characters or items in one value a template builds or hands to a function or filter."""
MAX_WORK: Final = 4 * 1024 * 1024
"""Characters and items one render may build or inspect in total."""
MAX_STEPS: Final = 250_000
"""Loop iterations plus calls one render may make."""
MAX_INT_BITS: Final = 8192
"""Bits of the largest integer arithmetic may produce (about 2,500 digits)."""

_CONTAINERS: Final = (list, tuple, set, frozenset, dict, MappingProxyType)


class TemplateError(LinliError):
    """A template could not be compiled or rendered.

    ``reason`` says what went wrong without the template; ``template`` is its source, and
    ``line`` / ``column`` locate a syntax error when they are known.
    """

    def __init__(
        self,
        reason: str,
        *,
        template: str | None = None,
        action: str = "rendering",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        message = (
            reason if template is None else f"Error {action} template {snippet(template)}: {reason}"
        )
        super().__init__(message)
        self.reason = reason
        self.template = template
        self.line = line
        self.column = column


def snippet(source: str, limit: int = 80) -> str:
    """Return a short one-line quotation of a template for messages."""
    text = " ".join(source.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


@dataclass(slots=True)
class RenderInfo:
    """The outcome of a render and what the template looked at.

    A template trigger re-renders when a state it read changes: :meth:`matches` says whether a
    change of ``entity_id`` is one of those. ``has_time`` is set when the template read the
    clock (``now()``, ``utcnow()``, ``today_at()`` …), so it should also re-render as time passes.
    """

    result: Any = None
    exception: TemplateError | None = None
    entities: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    all_states: bool = False
    has_time: bool = False

    def matches(self, entity_id: str) -> bool:
        """Return whether a state change of ``entity_id`` can change the result."""
        return (
            self.all_states
            or entity_id in self.entities
            or entity_id.partition(".")[0] in self.domains
        )


class Budget:
    """The work one render may still do; every guard charges it and raises when it runs out."""

    __slots__ = ("_weights", "steps", "work")

    def __init__(self) -> None:
        self.steps = 0
        self.work = 0
        # id -> (object, weight): the object is kept so its id cannot be reused meanwhile.
        self._weights: dict[int, tuple[Any, int]] = {}

    def step(self, count: int = 1) -> None:
        """Charge loop iterations or calls."""
        self.steps += count
        if self.steps > MAX_STEPS:
            raise TemplateError(
                f"the template does too much work (over {MAX_STEPS} loop iterations and calls)"
            )

    def charge(self, size: int) -> None:
        """Charge characters or items built or inspected."""
        self.work += size
        if self.work > MAX_WORK:
            raise TemplateError(
                f"the template does too much work (over {MAX_WORK} characters and items built)"
            )

    def check_size(self, size: int, what: str = "value") -> None:
        """Refuse to build a value of ``size`` characters or items when that is too big."""
        if size > MAX_VALUE_SIZE:
            raise TemplateError(
                f"the {what} would be too big ({size} characters or items; "
                f"at most {MAX_VALUE_SIZE} are allowed)"
            )

    def weigh(self, value: Any) -> int:
        """Return how big ``value`` is as text, counting nested items; refuse it when too big.

        Lists may hold one big string many times over, so the nested size, not ``len``,
        bounds what printing or joining it would build.
        """
        if isinstance(value, str | bytes):
            self.check_size(len(value))
            return len(value)
        if not isinstance(value, _CONTAINERS):
            return _scalar_weight(value)
        known = self._weights.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        total = 0
        stack: list[Any] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str | bytes):
                total += len(item)
            elif isinstance(item, dict | MappingProxyType):
                total += len(item) + 1
                if total <= MAX_VALUE_SIZE:
                    stack.extend(item.keys())
                    stack.extend(item.values())
            elif isinstance(item, _CONTAINERS):
                total += len(item) + 1
                if total <= MAX_VALUE_SIZE:
                    stack.extend(item)
            else:
                total += _scalar_weight(item)
            if total > MAX_VALUE_SIZE:
                self.check_size(total)
        self.charge(total)
        self._weights[id(value)] = (value, total)
        return total


def _scalar_weight(value: Any) -> int:
    # Huge integers print as thousands of digits.
    if type(value) is int and (value > 2**64 or value < -(2**64)):
        return value.bit_length() // 3
    return 1


class RenderScope:
    """What one render records and is allowed: its info, its budget, whether it is limited."""

    __slots__ = ("budget", "info", "limited")

    def __init__(self, *, limited: bool = False, info: RenderInfo | None = None) -> None:
        self.limited = limited
        self.info = info
        self.budget = Budget()


_SCOPE: ContextVar[RenderScope | None] = ContextVar("linli_template_scope", default=None)


def current() -> RenderScope:
    """Return the scope of the render in progress (a fresh one outside renders).

    Outside a render (Jinja folds constant filter calls while compiling) the fresh scope still
    applies the size limits to that one call.
    """
    return _SCOPE.get() or RenderScope()


@contextmanager
def rendering(scope: RenderScope) -> Iterator[RenderScope]:
    """Make ``scope`` the current one for the duration of a render."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def track_entity(entity_id: str) -> None:
    """Record that the template read the state of ``entity_id``."""
    scope = _SCOPE.get()
    if scope is not None and scope.info is not None:
        scope.info.entities.add(entity_id)


def track_domain(domain: str) -> None:
    """Record that the template read every state of ``domain``."""
    scope = _SCOPE.get()
    if scope is not None and scope.info is not None:
        scope.info.domains.add(domain)


def track_all_states() -> None:
    """Record that the template read every state."""
    scope = _SCOPE.get()
    if scope is not None and scope.info is not None:
        scope.info.all_states = True


def track_time() -> None:
    """Record that the template read the clock."""
    scope = _SCOPE.get()
    if scope is not None and scope.info is not None:
        scope.info.has_time = True


def require_full(name: str) -> None:
    """Refuse ``name`` in a limited render (one that may not read states or registries)."""
    scope = _SCOPE.get()
    if scope is not None and scope.limited:
        raise TemplateError(f"'{name}' cannot be used in a limited template")
