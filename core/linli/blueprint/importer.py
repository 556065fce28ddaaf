"""Import a shared blueprint from a URL, a file or pasted text into a config dir.

The blueprint is checked before it is stored, under
``<config>/blueprints/<domain>/<author or source>/<name>.yaml``, as the text it was published
in (comments kept). Its ``source_url`` is kept; one fetched from a URL without a
``source_url`` gets that URL, so where it came from is never lost.

Fetching is guarded: https only (plain http is allowed to loopback addresses alone, for local
testing), redirects held to the same rule, a timeout, and a size limit. A GitHub page URL
(``github.com/<user>/<repo>/blob/…``) is fetched from raw.githubusercontent.com.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from http.client import HTTPMessage
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final
from urllib.parse import urlsplit

import voluptuous as vol
import yaml

from linli.blueprint.models import Blueprint, BlueprintError
from linli.blueprint.schema import blueprint_path
from linli.blueprint.store import BLUEPRINT_FOLDER
from linli.config import ConfigIssue, Input, NodeDict, NodeList, NodeStr, load_yaml
from linli.const import __version__
from linli.exceptions import LinliError

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BYTES",
    "BlueprintImportError",
    "ImportedBlueprint",
    "check_url",
    "fetch",
    "import_blueprint",
    "import_blueprint_text",
    "is_url",
    "raw_url",
]

MAX_BYTES: Final = 1 << 20
"""The largest blueprint accepted (1 MiB; real ones are a few KiB)."""
DEFAULT_TIMEOUT: Final = 10.0
"""Seconds a fetch may take to connect and to wait for each read."""
_GITHUB_BLOB: Final = re.compile(
    r"^https://github\.com/(?P<user>[^/]+)/(?P<repo>[^/]+)/blob/(?P<rest>.+)$"
)
_OWNER_HOSTS: Final = ("github.com", "raw.githubusercontent.com", "gist.github.com")


class BlueprintImportError(LinliError):
    """A blueprint could not be imported; the message says why."""


@dataclass(frozen=True, slots=True)
class ImportedBlueprint:
    """A blueprint stored in a config dir."""

    blueprint: Blueprint
    file: Path
    path: str
    """Relative to the domain folder: what ``use_blueprint: {path: …}`` names."""
    source_url_added: bool


def is_url(source: str) -> bool:
    """Whether ``source`` is an http(s) URL rather than a file name."""
    return urlsplit(source).scheme.lower() in ("http", "https")


def raw_url(url: str) -> str:
    """Return the URL of the file itself for a GitHub page URL; other URLs unchanged."""
    match = _GITHUB_BLOB.match(url)
    if match is None:
        return url
    return f"https://raw.githubusercontent.com/{match['user']}/{match['repo']}/{match['rest']}"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Refuse a URL that is not https (plain http only to a loopback address)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme == "http" and _is_loopback(parts.hostname):
        return
    if scheme == "http":
        raise BlueprintImportError(
            f"refusing {url}: use https (plain http is only allowed to this machine)"
        )
    raise BlueprintImportError(f"refusing {url}: only https URLs can be imported")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL :func:`check_url` accepts (no downgrade to http)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """Download ``url`` (checked by :func:`check_url`); raise BlueprintImportError on failure."""
    check_url(url)
    handlers: list[urllib.request.BaseHandler] = [_CheckedRedirects()]
    if _is_loopback(urlsplit(url).hostname):
        # A proxy from the environment must not see, or break, a fetch from this machine.
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        url, headers={"User-Agent": f"linli/{__version__}", "Accept": "text/yaml, text/plain, */*"}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise BlueprintImportError(_too_big(url, max_bytes))
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as err:
        raise BlueprintImportError(f"cannot fetch {url}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, BlueprintImportError):
            raise err.reason from err
        raise BlueprintImportError(f"cannot fetch {url}: {err.reason}") from err
    except TimeoutError as err:
        raise BlueprintImportError(f"cannot fetch {url}: timed out after {timeout:g} s") from err
    except OSError as err:
        raise BlueprintImportError(f"cannot fetch {url}: {err}") from err
    if len(data) > max_bytes:
        raise BlueprintImportError(_too_big(url, max_bytes))
    return data


def _too_big(source: str, max_bytes: int) -> str:
    return f"{source} is larger than {max_bytes // 1024} KiB: not a blueprint"


def _path_part(text: str | None) -> str | None:
    """Turn a name into one safe path component (letters of any script kept), or None."""
    if not text:
        return None
    cleaned = re.sub(r"[^\w.-]+", "_", text.strip().lower()).strip("._-")
    return cleaned or None


def _url_owner(url: str | None) -> str | None:
    """The publisher a URL points at: the GitHub user, else the host name."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in _OWNER_HOSTS and segments:
        return segments[0]
    return host or None


def _parse(content: bytes, filename: str, shown_as: str) -> tuple[Any, Blueprint]:
    """Load and check blueprint text; issues name ``shown_as`` (the URL or file given)."""
    issues: list[ConfigIssue] = []
    with tempfile.TemporaryDirectory(prefix="linli-blueprint-") as folder:
        file = Path(folder) / (_path_part(PurePosixPath(filename).name) or "blueprint.yaml")
        file.write_bytes(content)
        data = load_yaml(file, config_dir=Path(folder), issues=issues)
    try:
        if issues:
            raise BlueprintError(issues)
        return data, Blueprint(data, path=shown_as)
    except BlueprintError as err:
        raise BlueprintError([replace(issue, file=shown_as) for issue in err.issues]) from None


def import_blueprint(
    source: str,
    config_dir: Path,
    *,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    path: str | None = None,
    replace_hint: str = "use --force to replace it",
) -> ImportedBlueprint:
    """Fetch or read ``source``, check it, and store it in ``config_dir``'s blueprint folder.

    ``path`` (``<folder>/<name>.yaml``) overrides where in the domain folder it goes. Raises
    :class:`BlueprintImportError` when it cannot be fetched or read, or the file is already
    there (unless ``force``; the message ends with ``replace_hint``), and
    :class:`~linli.blueprint.BlueprintError` with located issues when it is not a valid
    blueprint. Blocking.
    """
    url: str | None = None
    if is_url(source):
        url = source
        content = fetch(raw_url(source), timeout=timeout, max_bytes=max_bytes)
        filename = PurePosixPath(urlsplit(raw_url(source)).path).name
    else:
        try:
            if Path(source).stat().st_size > max_bytes:
                raise BlueprintImportError(_too_big(source, max_bytes))
            content = Path(source).read_bytes()
        except OSError as err:
            raise BlueprintImportError(f"cannot read {source}: {err.strerror or err}") from err
        filename = Path(source).name
    return _store(
        content,
        filename,
        source,
        config_dir,
        url=url,
        force=force,
        path=path,
        replace_hint=replace_hint,
    )


def import_blueprint_text(
    text: str,
    config_dir: Path,
    *,
    path: str | None = None,
    force: bool = False,
    max_bytes: int = MAX_BYTES,
    shown_as: str = "blueprint",
    replace_hint: str = "use --force to replace it",
) -> ImportedBlueprint:
    """Check blueprint YAML given as text and store it as :func:`import_blueprint` does.

    Without ``path`` the file is named after the blueprint's name; issues name ``shown_as``.
    Blocking.
    """
    content = text.encode("utf-8")
    if len(content) > max_bytes:
        raise BlueprintImportError(_too_big(shown_as, max_bytes))
    return _store(
        content,
        "blueprint.yaml",
        shown_as,
        config_dir,
        url=None,
        force=force,
        path=path,
        replace_hint=replace_hint,
        name_from_file=False,
    )


def _store(
    content: bytes,
    filename: str,
    shown_as: str,
    config_dir: Path,
    *,
    url: str | None,
    force: bool,
    path: str | None,
    replace_hint: str,
    name_from_file: bool = True,
) -> ImportedBlueprint:
    """Check ``content`` and write it under the config dir's blueprint folder."""
    data, blueprint = _parse(content, filename, shown_as)

    added = url is not None and blueprint.source_url is None
    if added:
        assert url is not None
        content = _with_source_url(content, data, url)
        data, blueprint = _parse(content, filename, shown_as)

    if path is not None:
        try:
            path = blueprint_path(path)
        except vol.Invalid as err:
            raise BlueprintImportError(str(err)) from None
    else:
        folder = (
            _path_part(blueprint.author)
            or _path_part(_url_owner(url or blueprint.source_url))
            or "local"
        )
        stem = (
            (_path_part(PurePosixPath(filename).stem) if name_from_file else None)
            or _path_part(blueprint.name)
            or "blueprint"
        )
        path = f"{folder}/{stem}.yaml"
    target = Path(config_dir) / BLUEPRINT_FOLDER / blueprint.domain / path
    if target.exists() and not force:
        raise BlueprintImportError(
            f"{BLUEPRINT_FOLDER}/{blueprint.domain}/{path} already exists; {replace_hint}"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_bytes(content)
        partial.replace(target)
    except OSError as err:
        raise BlueprintImportError(f"cannot write {target}: {err.strerror or err}") from err
    return ImportedBlueprint(blueprint, target, path, added)


def _with_source_url(content: bytes, data: Any, url: str) -> bytes:
    """Return the blueprint text with ``source_url: <url>`` added to its ``blueprint:`` section.

    The line is inserted before the section's first key, so the rest of the text (and its
    comments) is kept as published; a section written in flow style is re-written instead.
    """
    text = content.decode("utf-8-sig")
    section = data["blueprint"]
    top = data.key_lines.get("blueprint") if isinstance(data, NodeDict) else None
    first = min(section.key_lines.values(), default=None) if isinstance(section, NodeDict) else None
    lines = text.splitlines(keepends=True)
    if top is None or first is None or first <= top or first > len(lines):
        return _dump_with_source_url(data, url)
    original = lines[first - 1]
    indent = original[: len(original) - len(original.lstrip(" \t"))]
    newline = "\r\n" if original.endswith("\r\n") else "\n"
    # JSON's string syntax is YAML's double-quoted style, so any URL is written safely.
    lines.insert(first - 1, f"{indent}source_url: {json.dumps(url)}{newline}")
    return "".join(lines).encode("utf-8")


class _Dumper(yaml.SafeDumper):
    """Writes loaded blueprint data back as YAML, ``!input`` markers included."""


_Dumper.add_representer(NodeDict, lambda d, v: d.represent_dict(dict(v)))
_Dumper.add_representer(NodeList, lambda d, v: d.represent_list(list(v)))
_Dumper.add_representer(NodeStr, lambda d, v: d.represent_str(str(v)))
_Dumper.add_representer(Input, lambda d, v: d.represent_scalar("!input", v.name))


def _dump_with_source_url(data: Any, url: str) -> bytes:
    document = dict(data)
    document["blueprint"] = {**data["blueprint"], "source_url": url}
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text.encode("utf-8")
