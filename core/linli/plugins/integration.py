"""What an integration declares: its manifest, its config schema and its lifecycle."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linli.hub import Hub

ConfigType = dict[str, Any]
"""An integration's validated configuration section."""

_DOMAIN = re.compile(r"^[a-z][a-z0-9_]*$")


class IotClass(StrEnum):
    """How an integration talks to its devices (Home Assistant's classes)."""

    local_push = "local_push"
    local_polling = "local_polling"
    cloud_push = "cloud_push"
    cloud_polling = "cloud_polling"
    calculated = "calculated"


@dataclass(frozen=True, slots=True)
class Manifest:
    """Facts about an integration, known before it is set up.

    :param domain: The configuration key and service prefix, e.g. ``"plate_gate"``.
    :param name: A human name, e.g. ``"Licence-plate gates"``.
    :param version: The integration's version (its distribution's, usually).
    :param dependencies: Domains that must be set up successfully first; if one fails,
        this integration is skipped and reported.
    :param after_dependencies: Domains to set up first *if* they are configured too.
    :param iot_class: How it talks to devices.
    :param codeowners: Who maintains it (GitHub handles).
    :param documentation: URL of its documentation.
    :param distribution: The package to ``pip install`` (default ``linli-<domain>``).
    :param setup_timeout: Seconds ``async_setup`` may take before it is cancelled and reported.
    :param load_by_default: Set up even when ``configuration.yaml`` has no section for it.
    """

    domain: str
    name: str
    version: str = "0.0.0"
    dependencies: tuple[str, ...] = ()
    after_dependencies: tuple[str, ...] = ()
    iot_class: IotClass = IotClass.local_push
    codeowners: tuple[str, ...] = ()
    documentation: str = ""
    distribution: str = ""
    setup_timeout: float = 60.0
    load_by_default: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not _DOMAIN.match(self.domain):
            problems.append(
                f"domain {self.domain!r} must be lower-case letters, digits and underscores"
            )
        for dep in (*self.dependencies, *self.after_dependencies):
            if not _DOMAIN.match(dep):
                problems.append(f"dependency {dep!r} is not a valid domain")
        if self.domain in self.dependencies or self.domain in self.after_dependencies:
            problems.append("an integration cannot depend on itself")
        if self.setup_timeout <= 0:
            problems.append("setup_timeout must be positive")
        if problems:
            raise ValueError(f"Invalid manifest for {self.domain!r}: " + "; ".join(problems))
        if not self.distribution:
            object.__setattr__(self, "distribution", "linli-" + self.domain.replace("_", "-"))


SetupFunc = Callable[["Hub", ConfigType], Awaitable[bool | None]]
UnloadFunc = Callable[["Hub"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Integration:
    """An integration as the hub sees it: returned by the ``linli_integration`` hook.

    :param manifest: Its :class:`Manifest`.
    :param async_setup: ``async def async_setup(hub, config) -> bool | None``: set up with the
        validated config section (``{}`` when absent). Return False or raise to fail; raise
        :class:`~linli.exceptions.SetupNotReady` to be retried later with backoff.
    :param async_unload: ``async def async_unload(hub) -> None``: undo setup at stop (called
        in reverse setup order). Listeners and services the integration registered are removed
        by the core afterwards anyway.
    :param config_schema: A voluptuous schema (or any callable) validating the integration's
        section of ``configuration.yaml``; errors are reported with file and line.
    """

    manifest: Manifest
    async_setup: SetupFunc
    async_unload: UnloadFunc | None = None
    config_schema: Callable[[Any], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """The integration's domain."""
        return self.manifest.domain
