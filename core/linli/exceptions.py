"""The errors Linli raises, as a small documented taxonomy.

::

    LinliError                      base of everything below
    ├── InvalidEntityIdError        an entity_id that is not ``domain.object_id``
    ├── InvalidStateError           a state longer than 255 characters
    ├── ServiceNotFound             ``domain.service`` is not registered
    ├── ServiceValidationError      the call's data fails the service's schema
    ├── ConfigError                 configuration is invalid (in linli.config; file:line issues)
    ├── StorageError                a file under ``.linli/`` cannot be read or is too new
    ├── RegistryError               a registry refuses a change (unknown id, bad parent …)
    └── IntegrationError            an integration cannot be set up
        ├── SetupNotReady           setup will retry later with backoff (device not reachable)
        ├── SetupAuthFailed         credentials rejected: reported, no retry until reconfigured
        └── SetupFailed             permanent failure: reported, dependants are skipped

Integrations raise the ``Setup*`` errors from ``async_setup``; the core reacts as listed.
A configured integration that is not installed is reported by the loader (status
``not_installed``) with the ``pip install`` that would bring it.
Always ``raise … from err`` so the cause stays in the log.
"""

from __future__ import annotations


class LinliError(Exception):
    """Base class for every error Linli raises on purpose."""


class InvalidEntityIdError(LinliError, ValueError):
    """An entity_id is not of the form ``domain.object_id`` (lower case, digits, underscores)."""

    def __init__(self, entity_id: str) -> None:
        super().__init__(
            f"Invalid entity_id {entity_id!r}: expected 'domain.object_id' made of lower-case "
            "letters, digits and single underscores, e.g. 'sensor.building_3_gate'"
        )
        self.entity_id = entity_id


class InvalidStateError(LinliError, ValueError):
    """A state value is too long."""


class ServiceNotFound(LinliError):
    """A service was called that no integration registered."""

    def __init__(self, domain: str, service: str, suggestion: str | None = None) -> None:
        msg = f"Service {domain}.{service} not found"
        if suggestion:
            msg += f" (did you mean {suggestion}?)"
        super().__init__(msg)
        self.domain = domain
        self.service = service


class ServiceValidationError(LinliError, ValueError):
    """A service call's data does not match the service's schema."""


class StorageError(LinliError):
    """A storage file cannot be read, parsed or migrated."""


class RegistryError(LinliError, ValueError):
    """A registry refused a change."""


class IntegrationError(LinliError):
    """An integration could not be set up."""


class SetupNotReady(IntegrationError):
    """The integration's device or service is not reachable yet; the core retries later."""


class SetupAuthFailed(IntegrationError):
    """Credentials were rejected; the core reports it and does not retry."""


class SetupFailed(IntegrationError):
    """Setup failed for good; the core reports it and skips the integration's dependants."""


class Unauthorized(LinliError):
    """The user behind a call may not do what it asked (HTTP 403, WebSocket ``unauthorized``)."""

    def __init__(
        self, message: str = "", *, user_id: str | None = None, permission: str | None = None
    ) -> None:
        """Say who was refused what; ``permission`` names the check (``read``, ``control``…)."""
        super().__init__(message or "Unauthorized")
        self.user_id = user_id
        self.permission = permission
