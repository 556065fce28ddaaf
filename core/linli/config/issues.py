"""Configuration problems, each located at a file and line, and the error that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linli.exceptions import LinliError


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the configuration, located as precisely as the loader could.

    ``file`` is already in display form: relative to the config dir (POSIX separators) when the
    file is inside it, else absolute. ``line`` is 1-based. ``key`` is the dotted path of the
    offending key (``mqtt.port``, ``automation[2].trigger``) when known. ``message`` says why,
    and never contains a secret's value.
    """

    file: str | None
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        """Render as ``configuration.yaml:12: mqtt.port: expected int``."""
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.key:
            parts.append(self.key)
        parts.append(self.message)
        return ": ".join(parts)


class ConfigError(LinliError):
    """The configuration is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = list(issues)
        # The issues are the only argument so the error pickles and copies intact.
        super().__init__(self.issues)

    def __str__(self) -> str:
        """One issue per line."""
        return "\n".join(str(issue) for issue in self.issues) or "invalid configuration"
