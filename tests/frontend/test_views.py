"""The web UI as the hub serves it: the shell, its language, its assets, its configuration."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from posixpath import dirname, normpath
from urllib.parse import urljoin

import pytest

from linli.testing.community import SAMPLE_AREAS
from linli.testing.http import HubClient
from linli_frontend import get_assets
from linli_frontend.assets import TEMPLATE_DIR, load_assets

XMLNS = re.compile(r'xmlns(?::\w+)?="[^"]*"|"http://www\.w3\.org/2000/svg"')


class _Links(HTMLParser):
    """Collect the URLs a page loads (src and href) and its <html lang>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.lang: str | None = None
        self.boot: str = ""
        self._in_boot = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "script" and values.get("id") == "linli-boot":
            self._in_boot = True
        for key in ("src", "href"):
            value = values.get(key)
            if value and not value.startswith("#"):
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_boot = False

    def handle_data(self, data: str) -> None:
        if self._in_boot:
            self.boot += data


async def _shell(client: HubClient, **headers: str) -> _Links:
    response = await client.get("/", auth=False, headers=headers)
    assert response.status == 200
    assert response.content_type == "text/html"
    links = _Links()
    links.feed(await response.text())
    return links


async def test_shell_is_served_at_root_and_public(hub_client: HubClient) -> None:
    response = await hub_client.get("/", auth=False)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "script-src 'self'" in policy
    text = await response.text()
    assert "<title>Linli · 邻里社区中心</title>" in text


async def test_the_api_still_answers_beside_the_shell(hub_client: HubClient) -> None:
    response = await hub_client.get("/api/")
    assert response.status == 200
    assert (await response.json()) == {"message": "API running."}
    assert (await hub_client.get("/api/", auth=False)).status == 401
    assert (await hub_client.post("/", auth=False)).status == 405


@pytest.mark.parametrize(
    ("headers", "lang", "heading"),
    [
        ({}, "zh-CN", "正在加载…"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "en", "Loading…"),
        ({"Accept-Language": "zh-TW,en;q=0.5"}, "zh-CN", "正在加载…"),
        ({"Accept-Language": "en", "Cookie": "linli_language=zh-CN"}, "zh-CN", "正在加载…"),
        ({"Accept-Language": "zh-CN", "Cookie": "linli_language=en"}, "en", "Loading…"),
        ({"Cookie": "linli_language=fr"}, "zh-CN", "正在加载…"),
    ],
)
async def test_shell_language(
    hub_client: HubClient, headers: dict[str, str], lang: str, heading: str
) -> None:
    response = await hub_client.get("/", auth=False, headers=headers)
    text = await response.text()
    links = _Links()
    links.feed(text)
    assert links.lang == lang
    assert heading in text
    boot = json.loads(links.boot)
    assert boot["language"] == lang
    assert boot["catalogue"]["app.loading"] == heading
    assert response.headers["Vary"] == "Accept-Language, Cookie"


@pytest.mark.parametrize("hub_config", [SAMPLE_AREAS + "\nfrontend:\n  default_language: en\n"])
async def test_default_language_from_config(hub_client: HubClient) -> None:
    assert (await _shell(hub_client)).lang == "en"
    assert (await _shell(hub_client, **{"Accept-Language": "zh-CN"})).lang == "zh-CN"


@pytest.mark.parametrize(
    "hub_config", ["linli:\n  name: Riverside\n  language: en-GB\nfrontend:\n"]
)
async def test_default_language_follows_the_hub(hub_client: HubClient) -> None:
    response = await hub_client.get("/", auth=False)
    text = await response.text()
    assert '<html lang="en">' in text
    assert "<title>Riverside · Linli community hub</title>" in text


async def test_every_asset_the_shell_uses_is_served(hub_client: HubClient) -> None:
    """The shell's links, every module's imports and both catalogues answer 200, cacheable."""
    links = await _shell(hub_client)
    base = json.loads(links.boot)["assetBase"]
    assert links.urls, "the shell references no asset"
    pending = [*links.urls, base + "i18n/en.json", base + "i18n/zh-CN.json"]
    seen: set[str] = set()
    import_re = re.compile(r"""(?:^|\s)(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.M)
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        assert url.startswith(base), f"{url} is not one of the hub's assets"
        response = await hub_client.get(url, auth=False)
        assert response.status == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["ETag"]
        if url.endswith(".js"):
            assert response.content_type == "text/javascript"
            for target in import_re.findall(await response.text()):
                assert target.startswith("."), f"{url} imports {target} by a bare name"
                pending.append(normpath(urljoin(dirname(url) + "/", target)))
        elif url.endswith(".css"):
            assert response.content_type == "text/css"
        elif url.endswith(".json"):
            assert response.content_type == "application/json"
            json.loads(await response.text())
    served = {base + path for path in get_assets(hub_client.hub).files}
    assert served <= seen, f"never used: {served - seen}"


async def test_assets_ask_no_other_host() -> None:
    """No asset or template names a URL on another host (SVG's XML namespace aside)."""
    assets = load_assets()
    texts = {path: asset.body.decode("utf-8") for path, asset in assets.files.items()}
    texts["index.html"] = (TEMPLATE_DIR / "index.html").read_text(encoding="utf-8")
    found = {
        path: re.findall(r"(?:https?:|wss?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", XMLNS.sub("", text))
        for path, text in texts.items()
    }
    assert {path: urls for path, urls in found.items() if urls} == {}


async def test_assets_outside_the_current_digest_are_not_found(hub_client: HubClient) -> None:
    base = get_assets(hub_client.hub).base_url
    assert (await hub_client.get(base + "app.js", auth=False)).status == 200
    assert (await hub_client.get("/frontend/0000000000000000/app.js", auth=False)).status == 404
    assert (await hub_client.get(base + "nothing.js", auth=False)).status == 404
    assert (await hub_client.get(base + "../../api/", auth=False)).status in (404, 401)


async def test_unchanged_asset_answers_not_modified(hub_client: HubClient) -> None:
    url = get_assets(hub_client.hub).base_url + "style.css"
    first = await hub_client.get(url, auth=False)
    again = await hub_client.get(url, auth=False, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


async def test_catalogues_have_the_same_keys() -> None:
    catalogues = load_assets().catalogues
    assert set(catalogues["en"]) == set(catalogues["zh-CN"])
    for language, catalogue in catalogues.items():
        assert all(text.strip() for text in catalogue.values()), language


@pytest.mark.parametrize("hub_config", [SAMPLE_AREAS])
async def test_not_served_without_a_frontend_section(hub_client: HubClient) -> None:
    assert (await hub_client.get("/", auth=False)).status == 404
    assert hub_client.hub.loader is not None
    assert hub_client.hub.loader.records["frontend"].status == "installed"


@pytest.mark.parametrize(
    ("hub_config", "words"),
    [
        (SAMPLE_AREAS + "\nfrontend:\n  default_language: fr\n", "default_language"),
        (SAMPLE_AREAS + "\nfrontend:\n  theme: dark\n", "theme"),
    ],
)
async def test_config_errors_fail_the_frontend_only(hub_client: HubClient, words: str) -> None:
    assert hub_client.hub.loader is not None
    record = hub_client.hub.loader.records["frontend"]
    assert record.status == "failed"
    assert words in (record.reason or "")
    assert (await hub_client.get("/", auth=False)).status == 404
    assert (await hub_client.get("/api/")).status == 200
