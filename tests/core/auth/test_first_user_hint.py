"""A hub nobody can log in to says how to create the first user; once one exists it is quiet."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from linli.auth import Role, get_auth
from linli.clock import FakeClock
from linli.testing.http import async_start_served_hub

HINT = "Nobody can log in yet"


async def test_the_first_start_says_how_to_create_a_user(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    config_dir = tmp_path / "config"
    caplog.set_level(logging.WARNING, logger="linli.components.auth")
    hub = await async_start_served_hub(config_dir, clock=clock)
    try:
        hints = [r.getMessage() for r in caplog.records if HINT in r.getMessage()]
        assert hints == [
            f"{HINT}: create the first user with `linli -c {hub.config_dir} user create NAME "
            "--role admin --password-stdin`"
        ]
        await get_auth(hub).async_create_user("wang", Role.admin, password="a long passphrase")
    finally:
        await hub.async_stop()

    caplog.clear()
    hub = await async_start_served_hub(config_dir, clock=clock)
    await hub.async_stop()
    assert not [r for r in caplog.records if HINT in r.getMessage()]
