"""Browser tests of the web UI: a hub started by the test, Debian's Chromium driven through
Playwright's async API, one browser per test.

Every page a test opens is watched: a console error or a request to any host but the hub
fails the test after it ran. Screenshots go to ``tests/e2e/artifacts/`` (phone and desk).
Without Chromium these tests are skipped, or fail when ``LINLI_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from aiohttp import web

import linli_frontend
from linli import ConfigType, Hub, Integration, Manifest, hookimpl
from linli.auth import get_auth
from linli.components.http import HubView, async_register_view
from linli.testing.community import SAMPLE_AREAS, Community, async_build_community

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

    from linli.testing.http import HubClient

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS: Final = Path(__file__).parent / "artifacts"
PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
DESK: Final[ViewportSize] = {"width": 1280, "height": 800}
PASSWORD: Final = "correct horse battery"
EVIDENCE_PATH: Final = "/api/e2e/evidence.svg"
EVIDENCE_SVG: Final = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90">'
    b'<rect width="160" height="90" fill="#446"/><circle cx="80" cy="45" r="30" fill="#fc3"/>'
    b"</svg>"
)


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (script/browser installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e 'frontend[test]')"
    return None


# ------------------------------------------------------------------ the hub
class EvidenceView(HubView):
    """A camera snapshot on the hub, readable with a token only (as real evidence is)."""

    url = EVIDENCE_PATH
    name = "e2e:evidence"

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Send the picture."""
        return web.Response(body=EVIDENCE_SVG, content_type="image/svg+xml")


async def _setup_evidence(hub: Hub, config: ConfigType) -> bool:
    async_register_view(hub, EvidenceView())
    return True


class EvidencePlugin:
    """A test integration serving :class:`EvidenceView`."""

    @hookimpl
    def linli_integration(self) -> Integration:
        """Describe it."""
        manifest = Manifest(
            domain="e2e_evidence", name="Evidence", dependencies=("http",), load_by_default=True
        )
        return Integration(manifest, _setup_evidence)


@pytest.fixture
def hub_config() -> str:
    """The sample community, with the web UI enabled."""
    return SAMPLE_AREAS + "\nfrontend:\n"


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The web UI, and a picture to show as evidence."""
    return [("frontend", linli_frontend), ("e2e_evidence", EvidencePlugin())]


@pytest_asyncio.fixture
async def community(hub_client: HubClient) -> Community:
    """The sample community: one user per role (log in with :data:`PASSWORD`)."""
    return await async_build_community(hub_client)


async def async_set_password(client: HubClient) -> str:
    """Give the user of ``client`` :data:`PASSWORD`; return their user name."""
    await get_auth(client.hub).async_set_password(client.user.id, PASSWORD)
    return client.user.name


# ------------------------------------------------------------------ the browser
@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (skipped without it; failed under LINLI_REQUIRE_SERVICES=1)."""
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("LINLI_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class UI:
    """One browser page on the hub, watched for console errors and requests leaving the hub."""

    page: Page
    context: BrowserContext
    base_url: str
    name: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    expected_errors: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self) -> None:
        """Record console errors, page errors and requests to other hosts."""
        hub = urlsplit(self.base_url).netloc

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        def on_request(url: str) -> None:
            parts = urlsplit(url)
            if parts.scheme not in ("blob", "data") and parts.netloc != hub:
                self.foreign_requests.append(url)

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("request", lambda request: on_request(request.url))
        self.page.on("websocket", lambda socket: on_request(socket.url))

    def expect_console_error(self, pattern: str) -> None:
        """Allow console errors matching ``pattern`` (e.g. the 400 of a refused login)."""
        self.expected_errors.append(re.compile(pattern))

    async def open(self, fragment: str = "") -> None:
        """Load the shell (``fragment``: a route such as ``#/alerts``)."""
        await self.page.goto(self.base_url + "/" + fragment)

    async def login(self, username: str, password: str = PASSWORD) -> None:
        """Log in through the login form and wait for the home page."""
        await self.page.locator("#username").fill(username)
        await self.page.locator("#password").fill(password)
        await self.page.locator("form button[type=submit]").click()
        await self.page.wait_for_url("**/#/home")
        await self.page.locator("main .grid:not([aria-busy])").wait_for()

    async def nav_labels(self) -> list[str]:
        """The texts of the main navigation's links."""
        return [text.strip() for text in await self.page.locator("#nav a").all_inner_texts()]

    async def screenshot(self, page_name: str) -> None:
        """Save the page at phone and desk widths."""
        ARTIFACTS.mkdir(exist_ok=True)
        for label, size in (("phone", PHONE), ("desk", DESK)):
            await self.page.set_viewport_size(size)
            await self.page.screenshot(
                path=str(ARTIFACTS / f"{page_name}-{label}.png"), full_page=True
            )
        await self.page.set_viewport_size(PHONE)

    def check(self) -> None:
        """Fail on unexpected console errors or on requests that left the hub."""
        unexpected = [
            text
            for text in self.console_errors
            if not any(pattern.search(text) for pattern in self.expected_errors)
        ]
        assert not unexpected, f"console errors: {unexpected}"
        assert not self.foreign_requests, f"requests leaving the hub: {self.foreign_requests}"


@pytest_asyncio.fixture
async def ui(
    browser: Browser, hub_client: HubClient, request: pytest.FixtureRequest
) -> AsyncIterator[UI]:
    """A phone-sized page (a Chinese browser in Shanghai) on the hub, checked after the test."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(5000)
    page = await context.new_page()
    watched = UI(page, context, hub_client.base_url, request.node.name)
    watched.watch()
    try:
        yield watched
        watched.check()
    finally:
        await context.close()
