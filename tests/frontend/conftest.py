"""Fixtures of the web UI's server-side tests: the sample community with ``frontend:``."""

from __future__ import annotations

import pytest

import linli_frontend
from linli.testing.community import SAMPLE_AREAS


@pytest.fixture
def hub_config() -> str:
    """The sample community, with the web UI enabled."""
    return SAMPLE_AREAS + "\nfrontend:\n"


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The web UI integration."""
    return [("frontend", linli_frontend)]
