"""``linli user create|list`` and ``linli token create``: manage logins from the shell.

These commands write the database directly (``recorder.db_url``, default SQLite in
``<config>/.linli/``), so they work whether or not the hub is running: a running hub finds
new users and tokens on its next lookup. Area and person ids are checked against the stored
registries (and the ``areas:`` tree of configuration.yaml).

Exit codes: 0 done, 1 refused (unknown area, taken name …), 2 the config dir or the database
cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from linli.auth.users import Role, UserError

if TYPE_CHECKING:
    from linli.auth.manager import AuthManager

__all__ = ["add_parsers", "main"]

_T = TypeVar("_T")

EXIT_REFUSED = 1
EXIT_UNUSABLE = 2


class _Unusable(Exception):
    """The config dir or its database cannot be used."""


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    config_arg: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``user`` and ``token`` commands to the ``linli`` command's subcommands."""
    roles = [str(role) for role in Role]
    user = sub.add_parser("user", help="create and list users (logins)")
    user_actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_actions.add_parser(
        "create",
        help="create a user",
        description=(
            "Create a login. Staff, grid workers and police see the area subtrees given with "
            "--area; a resident sees the rooms of their household (--person); an admin sees "
            "everything. Without --password-stdin the user can only use tokens."
        ),
    )
    create.add_argument("name", metavar="NAME", help="the login name (no spaces)")
    create.add_argument("--role", required=True, choices=roles, help="what the user is")
    create.add_argument(
        "--area",
        action="append",
        default=[],
        metavar="ID",
        dest="areas",
        help="an area id whose subtree the user sees (repeat for several)",
    )
    create.add_argument(
        "--person", metavar="ID", help="the person (people registry) this login belongs to"
    )
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (prompted when it is a terminal)",
    )
    config_arg(create)
    listing = user_actions.add_parser("list", help="list the users")
    listing.add_argument("--json", action="store_true", help="print JSON")
    config_arg(listing)

    token = sub.add_parser("token", help="create long-lived access tokens")
    token_actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_create = token_actions.add_parser(
        "create",
        help="create a long-lived access token for a user; it is printed once, on the last line",
    )
    token_create.add_argument("user", metavar="NAME", help="the user's login name")
    token_create.add_argument(
        "--name", dest="label", default="CLI", metavar="LABEL", help="what the token is for"
    )
    config_arg(token_create)


def main(args: argparse.Namespace) -> int:
    """Run the ``user`` or ``token`` action in ``args``; return the exit code."""
    logging.basicConfig(level=logging.CRITICAL)
    config_dir: Path = args.config
    try:
        if args.command == "user" and args.user_command == "create":
            password = _read_password() if args.password_stdin else None
            return _run(config_dir, lambda auth: _create_user(auth, args, password))
        if args.command == "user":
            return _run(config_dir, lambda auth: _list_users(auth, as_json=args.json))
        return _run(config_dir, lambda auth: _create_token(auth, args.user, args.label))
    except _Unusable as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_REFUSED


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise UserError("the passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise UserError("--password-stdin: nothing on standard input")
    return line.removesuffix("\n").removesuffix("\r")


def _run(config_dir: Path, action: Callable[[AuthManager], Awaitable[int]]) -> int:
    if not (config_dir / "configuration.yaml").is_file():
        raise _Unusable(f"{config_dir}: no configuration.yaml in this directory")
    return asyncio.run(_async_run(config_dir, action))


async def _async_run(config_dir: Path, action: Callable[[AuthManager], Awaitable[int]]) -> int:
    from linli.auth.manager import AuthManager
    from linli.bootstrap import read_config
    from linli.core_config import core_config_from
    from linli.db import DATABASE, DatabaseError, open_database
    from linli.exceptions import StorageError
    from linli.hub import Hub

    loop = asyncio.get_running_loop()
    checked = await loop.run_in_executor(None, read_config, config_dir)
    hub = Hub(config_dir)
    if checked.core is not None:
        hub.config = core_config_from(checked.core)
    try:
        await hub.async_load()
        database = await loop.run_in_executor(None, open_database, config_dir)
        await database.async_start()
    except (StorageError, DatabaseError) as err:
        await hub.async_stop()
        raise _Unusable(str(err)) from err
    except Exception as err:  # the database driver's own errors (cannot connect …)
        await hub.async_stop()
        raise _Unusable(f"cannot open the database: {err}") from err
    hub.data[DATABASE] = database
    auth = AuthManager(hub, database)
    auth.extra_area_ids = _configured_area_ids(hub, checked.core)
    try:
        return await action(auth)
    finally:
        await database.async_stop()
        await hub.async_stop()


def _configured_area_ids(hub: Any, core: dict[str, Any] | None) -> frozenset[str]:
    """The ids of configuration.yaml's area tree (the hub stores them when it next starts)."""
    from linli.registry.areas import SOURCE_USER, expand_area_tree

    tree = (core or {}).get("areas")
    if not tree:
        return frozenset()
    areas = hub.registries.areas
    user_ids = {entry.id for entry in areas if entry.source == SOURCE_USER}
    try:
        nodes = expand_area_tree(
            tree, root_id=areas.root_id, language=hub.config.language, reserved=user_ids
        )
    except Exception:  # an invalid tree: check-config reports it; only stored ids count
        return frozenset()
    return frozenset(node["id"] for node in nodes)


async def _create_user(auth: AuthManager, args: argparse.Namespace, password: str | None) -> int:
    role = Role(args.role)
    if role is Role.resident and args.person is None:
        raise UserError("a resident needs --person: their household's rooms are their scope")
    if role is Role.admin and args.areas:
        raise UserError("an admin sees every area: leave out --area")
    user = await auth.async_create_user(
        args.name, role, area_ids=args.areas, person_id=args.person, password=password
    )
    if role in (Role.staff, Role.grid_worker, Role.police) and not user.area_ids:
        print(
            f"warning: {user.name} has no areas and sees nothing until given some",
            file=sys.stderr,
        )
    scope = ", ".join(user.area_ids) or ("everything" if role is Role.admin else "none")
    print(f"Created user {user.name} ({role}), id {user.id}; areas: {scope}")
    if password is None:
        print(f"It has no password: give it a token with 'linli token create {user.name}'.")
    return 0


async def _list_users(auth: AuthManager, *, as_json: bool) -> int:
    users = await auth.async_list_users()
    if as_json:
        print(json.dumps([user.as_dict() for user in users], ensure_ascii=False, indent=2))
        return 0
    print(f"{'NAME':<20} {'ROLE':<12} {'ACTIVE':<7} {'AREAS':<30} ID")
    for user in users:
        areas = ",".join(user.area_ids) or (f"person:{user.person_id}" if user.person_id else "-")
        active = "yes" if user.is_active else "no"
        print(f"{user.name:<20} {user.role!s:<12} {active:<7} {areas:<30} {user.id}")
    print(f"\n{len(users)} user{'s' if len(users) != 1 else ''}.")
    return 0


async def _create_token(auth: AuthManager, name: str, label: str) -> int:
    user = await auth.async_get_user_by_name(name)
    if user is None:
        raise UserError(f"no user called {name!r} ('linli user list' shows them)")
    if not user.is_active:
        raise UserError(f"user {name!r} is not active")
    token = await auth.async_create_long_lived_token(user.id, label)
    print(
        f"Long-lived access token {label!r} for {user.name} ({user.role}). It is shown only "
        "this once: store it now. Use it as 'Authorization: Bearer <token>'."
    )
    print(token)
    return 0
