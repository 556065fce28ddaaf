"""Integrations bundled with the core: set up like any other, registered by the bootstrap."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from linli.const import __version__

if TYPE_CHECKING:
    from linli.plugins.loader import IntegrationLoader

_LOGGER = logging.getLogger(__name__)

BUNDLED: tuple[str, ...] = (
    "recorder",
    "alert",
    "automation",
    "auth",
    "http",
    "websocket_api",
    "api",
    "webhook",
    "privacy",
    "zeroconf",
    "entity",
    "notice",
)
"""Domains of the bundled integrations, each a module ``linli.components.<domain>``."""


def register_bundled(loader: IntegrationLoader) -> None:
    """Register every bundled integration on ``loader``; one that fails to import is reported."""
    for domain in BUNDLED:
        try:
            module = importlib.import_module(f"linli.components.{domain}")
        except Exception as err:  # a broken bundled module must not stop the hub
            _LOGGER.exception("Cannot import bundled integration %s", domain)
            loader.record_broken(domain, f"linli {__version__}", f"import failed: {err}")
            continue
        loader.register(module, name=domain, source=f"linli {__version__} (bundled)")
