"""Community notices (社区通知): published by the property office, read by residents.

Bundled with the core and set up by default; no configuration. Notices are kept in the
``linli.notices`` store in the configuration directory.

A notice has a title, a body (at most 4000 characters), the areas it is for (none: the whole
community), its author, when it was published, an optional expiry and a withdrawn flag. A
notice for an area reaches everyone whose scope lies in or under it: a notice for building
``b1`` reaches the residents of rooms in ``b1`` and staff of ``b1`` or of a floor in it.
Withdrawn notices, and those past ``expires_at`` by the hub's clock, are no longer listed.

Who may do what::

    what                                        admin  staff/grid_worker  police  resident
    GET  /api/linli/notices, linli/notices/list ✓      addressed to them (all roles)
    linli/notices/subscribe                     ✓      as list, again on every change
    POST /api/linli/notices, …/publish          ✓      areas in scope ¹   403     403
    linli/notices/withdraw                      ✓      areas in scope ¹   unauthorized

    ¹ a notice for the whole community only for those whose scope is the whole community.

Events: ``notice_published`` and ``notice_withdrawn``, with ``{"notice": …}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import voluptuous as vol

from linli.components.notice.board import (
    DOMAIN,
    EVENT_NOTICE_PUBLISHED,
    EVENT_NOTICE_WITHDRAWN,
    NOTICE_BOARD,
    Notice,
    NoticeBoard,
    NoticeError,
    get_board,
)
from linli.const import __version__
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

if TYPE_CHECKING:
    from linli.hub import Hub

__all__ = [
    "DOMAIN",
    "EVENT_NOTICE_PUBLISHED",
    "EVENT_NOTICE_WITHDRAWN",
    "Notice",
    "NoticeBoard",
    "NoticeError",
    "get_board",
]

CONFIG_SCHEMA: Final = vol.All(vol.Any(None, dict), lambda value: value or {}, vol.Schema({}))

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Community notices",
    version=__version__,
    iot_class=IotClass.calculated,
    after_dependencies=("http", "websocket_api", "api"),
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Load the notices; offer the REST views and WebSocket commands."""
    board = NoticeBoard(hub)
    await board.async_load()
    hub.data[NOTICE_BOARD] = board

    from linli.components.http import async_register_view
    from linli.components.notice.views import (
        OPENAPI_PATHS,
        OPENAPI_SCHEMAS,
        NoticesView,
        async_register_commands,
    )

    async_register_view(hub, NoticesView())
    async_register_commands(hub)
    from linli.components.api import async_register_openapi

    async_register_openapi(hub, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    return True


async def async_unload(hub: Hub) -> None:
    """Write what is pending."""
    board = hub.data.pop(NOTICE_BOARD, None)
    if board is not None:
        await board.async_flush()


@hookimpl
def linli_integration() -> Integration:
    """Describe the notice integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
