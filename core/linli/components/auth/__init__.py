"""Users, logins and tokens, bundled with the core as the ``auth`` integration.

Sets up the :class:`~linli.auth.AuthManager` on the recorder's database, makes the core check
service calls made for a user, serves ``POST /auth/token`` (through the ``http``
integration, when it runs) and deletes expired refresh tokens once a day.

Configuration (optional; the defaults shown)::

    auth:
      max_failed_logins: 5           # failed logins per user name before a lock-out
      max_failed_logins_per_ip: 20   # failed logins per client address before a lock-out
      lockout_minutes: 15            # how long a lock-out lasts (and the counting window)
      access_token_minutes: 30       # lifetime of the web UI's access tokens
      refresh_token_days: 90         # a refresh token unused this long expires
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

import voluptuous as vol

from linli.auth import AUTH_MANAGER, AuthConfig, AuthManager
from linli.components.auth.views import AuthTokenView
from linli.const import __version__
from linli.db import get_database
from linli.hub import Hub, HubKey
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = ["DOMAIN", "AuthTokenView", "linli_integration"]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "auth"
PURGE_INTERVAL_SECONDS: Final = 24 * 3600.0
_CANCEL_PURGE: Final = HubKey[object]("auth_cancel_purge")


def _positive(kind: type[int] | type[float], maximum: float) -> vol.All:
    return vol.All(vol.Coerce(kind), vol.Range(min=1, max=maximum))


CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("max_failed_logins", default=5): _positive(int, 1000),
        vol.Optional("max_failed_logins_per_ip", default=20): _positive(int, 100_000),
        vol.Optional("lockout_minutes", default=15): _positive(float, 7 * 24 * 60),
        vol.Optional("access_token_minutes", default=30): _positive(float, 24 * 60),
        vol.Optional("refresh_token_days", default=90): _positive(float, 3650),
    }
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Users and logins",
    version=__version__,
    dependencies=("recorder",),
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    load_by_default=True,
)


def auth_config(config: ConfigType) -> AuthConfig:
    """Return the :class:`AuthConfig` of a validated ``auth:`` section."""
    return AuthConfig(
        max_failed_logins=config["max_failed_logins"],
        max_failed_logins_per_ip=config["max_failed_logins_per_ip"],
        lockout_seconds=config["lockout_minutes"] * 60.0,
        access_token_seconds=config["access_token_minutes"] * 60.0,
        refresh_token_seconds=config["refresh_token_days"] * 24 * 3600.0,
    )


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Set up the auth manager on the hub's database and serve ``/auth/token``."""
    manager = AuthManager(hub, get_database(hub), auth_config(config))
    manager.async_setup()
    hub.data[AUTH_MANAGER] = manager

    async def purge(_now: datetime) -> None:
        count = await manager.async_purge_expired_tokens()
        if count:
            _LOGGER.info("Deleted %d expired refresh token%s", count, "" if count == 1 else "s")

    hub.data[_CANCEL_PURGE] = hub.async_track_time_interval(purge, PURGE_INTERVAL_SECONDS)
    if not await manager.async_list_users():
        _LOGGER.warning(
            "Nobody can log in yet: create the first user with "
            "`linli -c %s user create NAME --role admin --password-stdin`",
            hub.config_dir,
        )
    try:
        from linli.components.http import async_register_view
    except ImportError:  # pragma: no cover - the http integration ships with the core
        return True
    async_register_view(hub, AuthTokenView())
    return True


async def async_unload(hub: Hub) -> None:
    """Stop purging and stop checking service calls."""
    cancel = hub.data.pop(_CANCEL_PURGE)
    if callable(cancel):
        cancel()
    manager = hub.data.pop(AUTH_MANAGER)
    if manager is not None:
        manager.async_unload()


@hookimpl
def linli_integration() -> Integration:
    """Describe the auth integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
