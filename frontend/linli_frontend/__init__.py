"""Linli's bundled web UI: a Jinja2-rendered shell at ``/`` and plain ES modules under
``/frontend/…``, talking to the hub's WebSocket API and ``/auth/token``.

Enabled by a ``frontend:`` section in configuration.yaml::

    frontend:
      default_language: zh-CN   # or en; used when neither the user nor the browser chooses

Nothing is fetched from anywhere but the hub: no CDN, no web fonts, no build step.
"""

from __future__ import annotations

from typing import Final

import voluptuous as vol

from linli import ConfigType, Hub, HubKey, Integration, IotClass, Manifest, hookimpl
from linli_frontend.assets import Assets, async_load_assets
from linli_frontend.language import CONF_DEFAULT_LANGUAGE, LANGUAGES, supported_language

__all__ = ["DOMAIN", "MANIFEST", "get_assets", "linli_integration"]

DOMAIN: Final = "frontend"
VERSION: Final = "0.1.0"

CONFIG_SCHEMA: Final = vol.Schema(
    {vol.Optional(CONF_DEFAULT_LANGUAGE): vol.In(LANGUAGES)}, extra=vol.PREVENT_EXTRA
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Web UI",
    version=VERSION,
    dependencies=("http", "auth", "api", "websocket_api"),
    after_dependencies=("alert",),
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    documentation="https://github.com/linli/linli/tree/main/frontend",
)

ASSETS: Final = HubKey[Assets]("frontend_assets")


def get_assets(hub: Hub) -> Assets:
    """The assets the hub serves (their digest names the URLs); KeyError when not set up."""
    assets = hub.data.get(ASSETS)
    if assets is None:
        raise KeyError("frontend is not set up")
    return assets


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Load the templates and static files once, then serve the shell and the assets."""
    from linli.components.http import async_register_view
    from linli_frontend.views import AssetView, ShellView

    assets = await async_load_assets(hub)
    hub.data[ASSETS] = assets
    default = config.get(CONF_DEFAULT_LANGUAGE) or supported_language(hub.config.language)
    async_register_view(hub, ShellView(assets, default))
    async_register_view(hub, AssetView(assets))
    from linli_frontend.qr import async_register_qr

    async_register_qr(hub)
    return True


async def async_unload(hub: Hub) -> None:
    """Forget the loaded assets (the HTTP server goes away with the hub)."""
    hub.data.pop(ASSETS)


@hookimpl
def linli_integration() -> Integration:
    """Describe the web UI integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
