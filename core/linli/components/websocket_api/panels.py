"""Frontend panels: what integrations add to the web UI's sidebar, listed by ``get_panels``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.components.websocket_api.decorators import websocket_command
from linli.hub import HubKey

if TYPE_CHECKING:
    from linli.components.websocket_api.connection import ActiveConnection
    from linli.hub import Hub

PANELS: Final[HubKey[dict[str, Panel]]] = HubKey("websocket_api.panels")


@dataclass(frozen=True, slots=True)
class Panel:
    """A sidebar panel (Home Assistant's fields)."""

    component_name: str
    """The web component that renders it, e.g. ``"alerts"`` or ``"iframe"``."""
    url_path: str
    title: str | None = None
    icon: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    require_admin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return what ``get_panels`` sends for it."""
        return {
            "component_name": self.component_name,
            "icon": self.icon,
            "title": self.title,
            "config": self.config,
            "url_path": self.url_path,
            "require_admin": self.require_admin,
            "config_panel_domain": None,
        }


@callback
def async_register_panel(
    hub: Hub,
    component_name: str,
    *,
    url_path: str | None = None,
    title: str | None = None,
    icon: str | None = None,
    config: dict[str, Any] | None = None,
    require_admin: bool = False,
) -> Panel:
    """Add a panel (``url_path`` defaults to ``component_name``); replaces one at that path."""
    panel = Panel(
        component_name,
        url_path or component_name,
        title,
        icon,
        dict(config or {}),
        require_admin,
    )
    hub.data.setdefault(PANELS, {})[panel.url_path] = panel
    return panel


@callback
def async_remove_panel(hub: Hub, url_path: str) -> None:
    """Remove the panel at ``url_path`` if there is one."""
    (hub.data.get(PANELS) or {}).pop(url_path, None)


@websocket_command({vol.Required("type"): "get_panels"})
@callback
def handle_get_panels(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """List the panels the user may open: ``{url_path: panel}``."""
    is_admin = connection.permissions.is_admin
    connection.send_result(
        msg["id"],
        {
            path: panel.as_dict()
            for path, panel in (hub.data.get(PANELS) or {}).items()
            if is_admin or not panel.require_admin
        },
    )
