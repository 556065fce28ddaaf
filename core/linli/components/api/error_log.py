"""A bounded ring of the hub's recent warnings and errors, for ``GET /api/error_log``."""

from __future__ import annotations

import logging
from collections import deque
from typing import Final

CAPACITY: Final = 1000
"""Records kept; older ones are dropped."""

_FORMAT: Final = logging.Formatter(
    "%(asctime)s.%(msecs)03d %(levelname)s (%(threadName)s) [%(name)s] %(message)s",
    "%Y-%m-%d %H:%M:%S",
)


class RingHandler(logging.Handler):
    """Keeps the last :data:`CAPACITY` formatted records of WARNING and above."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        """Keep at most ``capacity`` lines."""
        super().__init__(logging.WARNING)
        self.lines: deque[str] = deque(maxlen=capacity)
        self.setFormatter(_FORMAT)

    def emit(self, record: logging.LogRecord) -> None:
        """Format and keep ``record`` (never raises)."""
        try:
            self.lines.append(self.format(record))
        except Exception:  # a logging handler must not raise
            self.handleError(record)

    def text(self) -> str:
        """The kept lines, oldest first, one per line."""
        return "".join(line + "\n" for line in list(self.lines))
