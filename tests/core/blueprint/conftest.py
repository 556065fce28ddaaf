"""Shared helpers for the blueprint tests: config dirs with blueprints in them."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MOTION_LIGHT = "homeassistant/motion_light.yaml"
"""Where the motion light blueprint sits in ``blueprints/automation/`` of ``config_dir``."""

Write = Callable[[str, str], Path]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A config dir holding the motion light blueprint and an empty automation list."""
    root = tmp_path / "config"
    target = root / "blueprints" / "automation" / MOTION_LIGHT
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "motion_light.yaml", target)
    (root / "configuration.yaml").write_text(
        "linli:\n  name: Test\nautomation: !include automations.yaml\n", encoding="utf-8"
    )
    (root / "automations.yaml").write_text("[]\n", encoding="utf-8")
    return root


@pytest.fixture
def write(config_dir: Path) -> Write:
    """Write a file (path relative to the config dir) and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder; ``/redirect?to=URL`` answers 302 to that URL."""

    def do_GET(self) -> None:
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect?to="))
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A web server on 127.0.0.1 (no network involved): its base URL and the folder it serves."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval makes shutdown() quick at teardown.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="blueprint test server"
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
