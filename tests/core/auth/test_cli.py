"""``linli user create|list`` and ``linli token create``, with and without a running hub."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from linli import cli
from linli.auth import Role, get_auth
from linli.bootstrap import async_setup_hub
from linli.clock import FakeClock
from linli.components.http import get_http
from linli.hub import Hub

from .conftest import CONFIGURATION, Community, build_community

HubFactory = Callable[..., Awaitable[Hub]]
CONFIG_WITH_TREE = CONFIGURATION.replace(
    "  name: Test community\n",
    "  name: Test community\n  areas:\n    - {id: b9, kind: building, name: 9号楼}\n",
)
"""The test configuration with one building that exists only in configuration.yaml."""


async def run_cli(*args: str | Path) -> int:
    """Run ``linli ARGS`` in this process (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(cli.main, [str(arg) for arg in args])


async def ok(*args: str | Path) -> None:
    """Run ``linli ARGS`` in this process and expect success."""
    assert await run_cli(*args) == 0


async def run_process(*args: str | Path, stdin: str = "") -> tuple[int, str, str]:
    """Run ``python -m linli ARGS`` as a separate process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "linli",
        *map(str, args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def write_config(config_dir: Path) -> None:
    """Write the test configuration.yaml into ``config_dir``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIG_WITH_TREE, encoding="utf-8")


async def stored_community(hub_factory: HubFactory, config_dir: Path) -> Community:
    """Write configuration.yaml and store the test community's registries in ``config_dir``."""
    write_config(config_dir)
    hub = await hub_factory(config_dir)
    community = build_community(hub)
    await hub.async_stop()  # writes the registries
    return community


async def test_create_and_list_users_without_a_hub(
    hub_factory: HubFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    community = await stored_community(hub_factory, config)
    await ok(
        "-c", config, "user", "create", "wang", "--role", "staff", "--area", "b1", "--area", "gate"
    )
    assert "Created user wang (staff)" in capsys.readouterr().out
    # The command's own -c works too; b9 is only in configuration.yaml (the hub never ran).
    await ok("user", "create", "zhao", "--role", "grid_worker", "--area", "b9", "-c", config)
    await ok(
        "-c", config, "user", "create", "alice", "--role", "resident", "--person", community.alice
    )
    assert await run_cli("-c", config, "user", "create", "root", "--role", "admin") == 0
    assert "It has no password" in capsys.readouterr().out
    assert await run_cli("-c", config, "user", "list", "--json") == 0
    listed = {user["name"]: user for user in json.loads(capsys.readouterr().out)}
    assert listed["wang"]["area_ids"] == ["b1", "gate"]
    assert listed["zhao"]["role"] == "grid_worker"
    assert listed["alice"]["person_id"] == community.alice
    assert listed["root"]["role"] == "admin"
    assert await run_cli("-c", config, "user", "list") == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["NAME", "ROLE", "ACTIVE", "AREAS", "ID"]
    assert "4 users." in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "staff", "--area", "b7"], "error: unknown area 'b7'"),
        (["--role", "resident"], "error: a resident needs --person"),
        (["--role", "resident", "--person", "nobody"], "error: unknown person 'nobody'"),
        (["--role", "resident", "--person", "x", "--area", "b1"], "give the person, not areas"),
        (["--role", "admin", "--area", "b1"], "error: an admin sees every area"),
    ],
)
async def test_user_create_refuses_bad_scopes(
    hub_factory: HubFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    config = tmp_path / "config"
    await stored_community(hub_factory, config)
    assert await run_cli("-c", config, "user", "create", "li", *args) == 1
    assert message in capsys.readouterr().err


async def test_user_create_refuses_taken_names_and_bad_config_dirs(
    hub_factory: HubFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    await stored_community(hub_factory, config)
    assert await run_cli("-c", config, "user", "create", "li", "--role", "police") == 0
    assert "has no areas and sees nothing" in capsys.readouterr().err
    assert await run_cli("-c", config, "user", "create", "li", "--role", "staff") == 1
    assert "a user called 'li' already exists" in capsys.readouterr().err
    assert await run_cli("-c", tmp_path / "missing", "user", "list") == 2
    assert "no configuration.yaml" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        await run_cli("-c", config, "user", "create", "li", "--role", "janitor")
    assert exit_.value.code == 2


async def test_password_from_stdin_lets_the_user_log_in(
    hub_factory: HubFactory,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    await stored_community(hub_factory, config)
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret password\n"))
    staff = ("--role", "staff", "--area", "b1", "--password-stdin")
    await ok("-c", config, "user", "create", "wang", *staff)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert await run_cli("-c", config, "user", "create", "li", *staff) == 1
    hub = await async_setup_hub(config, clock=clock, discover=False)
    try:
        auth = get_auth(hub)
        pair = await auth.async_login("wang", "s3cret password", client_ip=None)
        user = await auth.async_validate_access_token(pair.access_token)
        assert user is not None
        assert user.role is Role.staff
        assert user.area_ids == ("b1",)
        assert await auth.async_get_user_by_name("li") is None
    finally:
        await hub.async_stop()


async def test_token_create_prints_the_token_last(
    hub_factory: HubFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    await stored_community(hub_factory, config)
    assert await run_cli("-c", config, "user", "create", "root", "--role", "admin") == 0
    capsys.readouterr()
    assert await run_cli("-c", config, "token", "create", "root", "--name", "door script") == 0
    out = capsys.readouterr().out
    assert "'door script'" in out
    assert "shown only this once" in out
    assert out.splitlines()[-1].startswith("lnt_")
    assert await run_cli("-c", config, "token", "create", "nobody") == 1
    assert "no user called 'nobody'" in capsys.readouterr().err


@pytest.mark.slow
async def test_a_running_hub_accepts_users_and_tokens_made_by_the_cli(
    hub_factory: HubFactory, tmp_path: Path, clock: FakeClock
) -> None:
    """Another process writes the database while the hub runs; the hub finds what it wrote."""
    config = tmp_path / "config"
    await stored_community(hub_factory, config)
    hub = await async_setup_hub(config, clock=clock, discover=False)
    try:
        base = f"http://127.0.0.1:{get_http(hub).port}"
        async with aiohttp.ClientSession(base_url=base) as session:
            code, out, err = await run_process(
                "-c", config, "user", "create", "wang", "--role", "staff", "--area", "b1",
                "--password-stdin", stdin="s3cret password\n",
            )  # fmt: skip
            assert code == 0, err
            code, out, err = await run_process("-c", config, "token", "create", "wang")
            assert code == 0, err
            token = out.splitlines()[-1]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get("/api/", headers=headers) as response:
                assert response.status == 200
            login = {"grant_type": "password", "username": "wang", "password": "s3cret password"}
            async with session.post("/auth/token", data=login) as response:
                assert response.status == 200
            code, out, err = await run_process("-c", config, "user", "list")
            assert code == 0, err
            assert "wang" in out
    finally:
        await hub.async_stop()
