"""The shell at ``/`` and the assets under ``/frontend/<digest>/…``; both public (the
pages log in through ``/auth/token`` and the WebSocket API, never through a cookie)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from aiohttp import hdrs, web

from linli.components.http import KEY_HUB, HubView
from linli_frontend.assets import ENTRY_MODULE, ICON, STYLESHEET, Assets
from linli_frontend.language import COOKIE, negotiate

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Only the hub itself may be asked for anything; the browser enforces it for every page."""

SHELL_HEADERS: Final = {
    hdrs.CACHE_CONTROL: "no-cache",
    hdrs.CONTENT_SECURITY_POLICY: CONTENT_SECURITY_POLICY,
    hdrs.VARY: "Accept-Language, Cookie",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSET_CACHE: Final = "public, max-age=31536000, immutable"


class ShellView(HubView):
    """``GET /``: the one HTML page; the hash router inside it shows each screen."""

    url = "/"
    name = "frontend:shell"
    requires_auth = False

    def __init__(self, assets: Assets, default_language: str) -> None:
        """Render with ``assets``; ``default_language`` when neither user nor browser chooses."""
        self._assets = assets
        self._default = default_language

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Render the shell in the negotiated language."""
        hub = request.app[KEY_HUB]
        assets = self._assets
        language = negotiate(
            request.cookies.get(COOKIE), request.headers.get(hdrs.ACCEPT_LANGUAGE), self._default
        )
        names = hub.config.extra.get("names") or {}
        hub_name = str(names.get(language) or hub.config.name)
        catalogue = assets.catalogues[language]
        html = assets.template.render(
            language=language,
            hub_name=hub_name,
            t=catalogue,
            stylesheet=assets.url(STYLESHEET),
            icon=assets.url(ICON),
            entry=assets.url(ENTRY_MODULE),
            modules=[assets.url(path) for path in assets.modules if path != ENTRY_MODULE],
            boot={
                "language": language,
                "catalogue": catalogue,
                "assetBase": assets.base_url,
                "hubName": hub_name,
                "names": {str(k): str(v) for k, v in names.items()},
            },
        )
        return web.Response(
            text=html, content_type="text/html", charset="utf-8", headers=SHELL_HEADERS
        )


class AssetView(HubView):
    """``GET /frontend/<digest>/<path>``: a static file, cached for a year (its URL changes
    with its content)."""

    url = "/frontend/{digest}/{path:.+}"
    name = "frontend:asset"
    requires_auth = False

    def __init__(self, assets: Assets) -> None:
        """Serve ``assets``."""
        self._assets = assets

    async def get(self, request: web.Request, digest: str, path: str) -> web.StreamResponse:
        """Send the file, or 304 when the browser has it, or 404."""
        asset = self._assets.files.get(path)
        if digest != self._assets.digest or asset is None:
            return web.Response(
                status=HTTPStatus.NOT_FOUND,
                text="Not found.",
                headers={hdrs.CACHE_CONTROL: "no-store"},
            )
        headers = {
            hdrs.CACHE_CONTROL: ASSET_CACHE,
            hdrs.ETAG: asset.etag,
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get(hdrs.IF_NONE_MATCH) == asset.etag:
            return web.Response(status=HTTPStatus.NOT_MODIFIED, headers=headers)
        charset = "utf-8" if asset.content_type.startswith(("text/", "application/json")) else None
        return web.Response(
            body=asset.body, content_type=asset.content_type, charset=charset, headers=headers
        )
