"""QR codes for the page, drawn by the hub as SVG (segno): no script library in the browser."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.callback import callback
from linli.components.websocket_api import (
    async_register_command,
    websocket_command,
)

if TYPE_CHECKING:
    from linli.components.websocket_api import ActiveConnection
    from linli.hub import Hub

MAX_TEXT: Final = 512


def qr_svg(text: str, title: str | None = None) -> str:
    """Return an SVG drawing of ``text`` as a QR code (error correction M, a 4-module margin)."""
    import segno

    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True, title=title)
    return out.getvalue().decode("utf-8")


@websocket_command(
    {
        vol.Required("type"): "frontend/qr_svg",
        vol.Required("text"): vol.All(str, vol.Length(min=1, max=MAX_TEXT)),
        vol.Optional("title"): vol.All(str, vol.Length(max=200)),
    }
)
@callback
def handle_qr_svg(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Draw a QR code of ``text`` (any signed-in user: it reads nothing of the hub's)."""
    connection.send_result(msg["id"], {"svg": qr_svg(msg["text"], msg.get("title"))})


def async_register_qr(hub: Hub) -> None:
    """Offer ``frontend/qr_svg``."""
    async_register_command(hub, handle_qr_svg)
