"""The UI's files, read once at setup: static assets (named by a digest of their content,
so browsers may keep them for a year), the shell template and the language catalogues."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jinja2

from linli_frontend.language import LANGUAGES

if TYPE_CHECKING:
    from linli import Hub

PACKAGE_DIR: Final = Path(__file__).parent
STATIC_DIR: Final = PACKAGE_DIR / "static"
TEMPLATE_DIR: Final = PACKAGE_DIR / "templates"
URL_PREFIX: Final = "/frontend"
ENTRY_MODULE: Final = "app.js"
STYLESHEET: Final = "style.css"
ICON: Final = "icon.svg"

CONTENT_TYPES: Final = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file, ready to send."""

    body: bytes
    content_type: str
    etag: str


@dataclass(frozen=True, slots=True)
class Assets:
    """Everything the UI serves, and the shell's template."""

    files: dict[str, Asset]
    """Path below ``static/`` (``pages/login.js``) → file."""
    digest: str
    """A short hash of every file: part of each asset URL, so a new release gets new URLs."""
    catalogues: dict[str, dict[str, str]]
    template: jinja2.Template

    @property
    def base_url(self) -> str:
        """The URL the assets live under, ending in ``/``."""
        return f"{URL_PREFIX}/{self.digest}/"

    def url(self, path: str) -> str:
        """The URL of one asset."""
        return self.base_url + path

    @property
    def modules(self) -> list[str]:
        """Every JavaScript module (preloaded by the shell, so imports need no round trips)."""
        return sorted(path for path in self.files if path.endswith(".js"))


def content_type(path: str) -> str:
    """The Content-Type an asset is sent with."""
    suffix = Path(path).suffix
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def load_assets(static_dir: Path = STATIC_DIR, template_dir: Path = TEMPLATE_DIR) -> Assets:
    """Read the static files, catalogues and template (blocking: call from an executor)."""
    files: dict[str, Asset] = {}
    overall = hashlib.sha256()
    for file in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        path = file.relative_to(static_dir).as_posix()
        if path.startswith(".") or "/." in path:
            continue
        body = file.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        overall.update(f"{path}\0{digest}\0".encode())
        files[path] = Asset(body, content_type(path), f'"{digest[:24]}"')
    catalogues: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        data: Any = json.loads(files[f"i18n/{language}.json"].body)
        catalogues[language] = {str(k): str(v) for k, v in data.items()}
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Assets(
        files=files,
        digest=overall.hexdigest()[:16],
        catalogues=catalogues,
        template=environment.get_template("index.html"),
    )


async def async_load_assets(hub: Hub) -> Assets:
    """Read the assets in an executor."""
    return await hub.async_add_executor_job(load_assets)
