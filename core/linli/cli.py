"""The ``linli`` command: run a hub, check a configuration, list integrations, blueprints."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linli.auth import cli as auth_cli
from linli.blueprint import cli as blueprint_cli
from linli.const import __version__

_LOGGER = logging.getLogger("linli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linli", description="Linli (邻里): a smart-community hub."
    )
    parser.add_argument("--version", action="version", version=f"linli {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        dest="global_config",
        type=Path,
        default=None,
        metavar="DIR",
        help="config directory, for any command (the same as the command's own -c)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def config_arg(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "-c",
            "--config",
            type=Path,
            default=Path("."),
            metavar="DIR",
            help="config directory holding configuration.yaml (default: current directory)",
        )

    run = sub.add_parser("run", help="run the hub until Ctrl-C or SIGTERM")
    config_arg(run)
    run.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level (default: info)",
    )

    check = sub.add_parser("check-config", help="validate a configuration without running it")
    config_arg(check)

    integ = sub.add_parser("integrations", help="inspect integrations")
    integ_sub = integ.add_subparsers(dest="integrations_command", required=True, metavar="ACTION")
    listing = integ_sub.add_parser(
        "list", help="installed, configured, loaded and failed integrations"
    )
    config_arg(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")

    blueprint_cli.add_parser(sub, config_arg)
    auth_cli.add_parsers(sub, config_arg)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.global_config is not None and getattr(args, "config", None) == Path("."):
        args.config = args.global_config  # `linli -c DIR COMMAND`: the command's -c wins
    if args.command == "run":
        return _run(args.config, args.log_level)
    if args.command == "check-config":
        return _check_config(args.config)
    if args.command == "blueprint":
        return blueprint_cli.main(args)
    if args.command in ("user", "token"):
        return auth_cli.main(args)
    return _list_integrations(args.config, args.json)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _run(config_dir: Path, log_level: str) -> int:
    _setup_logging(log_level)
    try:
        return asyncio.run(_async_run(config_dir))
    except KeyboardInterrupt:
        return 130


async def _async_run(config_dir: Path) -> int:
    from linli.bootstrap import async_setup_hub
    from linli.config import ConfigError
    from linli.hub import Hub, HubState

    loop = asyncio.get_running_loop()
    hub: Hub | None = None
    stop_requested = False
    stopping: list[asyncio.Task[None]] = []  # keeps a reference to the stop task

    def start_stop() -> None:
        assert hub is not None
        stopping.append(loop.create_task(hub.async_stop(), name="stop on signal"))

    def request_stop(signame: str) -> None:
        nonlocal stop_requested
        if hub is not None and hub.state is HubState.stopped:
            return  # already stopped cleanly; the process is on its way out
        if stop_requested:
            _LOGGER.warning("Second %s: exiting now, without a clean stop", signame)
            os._exit(130)
        stop_requested = True
        _LOGGER.info("Received %s, stopping", signame)
        if hub is not None:
            start_stop()

    # Installed before setup: a Ctrl-C while the hub starts stops it as soon as it is up.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        hub = await async_setup_hub(config_dir)
    except ConfigError as err:
        for issue in err.issues:
            print(f"error: {issue}", file=sys.stderr)
        print("The hub did not start: fix the configuration above.", file=sys.stderr)
        return 2
    # What the start made (integrations, automations, templates, schemas, registries) lives
    # as long as the hub. Frozen, the garbage collector never scans it again: a full
    # collection then looks only at what was made since, and pauses the loop for that long
    # rather than for the whole heap. Collected first, so no start-up garbage is frozen.
    gc.collect()
    gc.freeze()
    if stop_requested:
        start_stop()
    code = await hub.async_wait_stopped()
    _LOGGER.info("Stopped")
    return code


def _check_config(config_dir: Path) -> int:
    from linli.bootstrap import check_config_dir

    if not (config_dir / "configuration.yaml").is_file():
        print(f"error: {config_dir}: no configuration.yaml in this directory", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL)
    issues = check_config_dir(config_dir)
    for issue in issues:
        print(f"error: {issue}")
    if issues:
        print(f"{len(issues)} problem{'s' if len(issues) != 1 else ''} found.")
        return 1
    print("Configuration is valid.")
    return 0


def _list_integrations(config_dir: Path, as_json: bool) -> int:
    from linli.bootstrap import read_config
    from linli.components import register_bundled
    from linli.hub import Hub
    from linli.plugins.loader import STATUS_FILE, IntegrationLoader

    logging.basicConfig(level=logging.CRITICAL)
    hub = Hub(config_dir)
    checked = read_config(config_dir) if (config_dir / "configuration.yaml").is_file() else None
    loader = IntegrationLoader(hub)
    register_bundled(loader)
    loader.discover()
    sections = checked.integration_sections if checked else {}
    loader.plan(sections)
    last_run: dict[str, Any] = {}
    written_at = None
    status_path = hub.storage_dir / STATUS_FILE
    if status_path.is_file():
        try:
            saved = json.loads(status_path.read_text("utf-8"))
            written_at = saved.get("written_at")
            last_run = {item["domain"]: item for item in saved.get("integrations", [])}
        except (OSError, ValueError, KeyError, TypeError):
            last_run = {}
    rows = []
    for item in loader.status():
        last = last_run.get(item["domain"], {})
        last_status = last.get("status")
        if last_status == "unloaded" and last.get("setup_seconds") is not None:
            last_status = "loaded"  # a clean stop unloads it; in that run, it loaded
        item["last_run"] = {
            "status": last_status,
            "reason": last.get("reason"),
            "setup_seconds": last.get("setup_seconds"),
        }
        rows.append(item)
    if as_json:
        print(json.dumps({"last_run_at": written_at, "integrations": rows}, indent=2))
        return 0
    header = f"{'DOMAIN':<16} {'INSTALLED':<24} {'CONFIGURED':<10} STATUS"
    print(header)
    for item in rows:
        installed = item["source"] if item["status"] not in ("not_installed",) else "-"
        status = item["status"]
        last = item["last_run"]
        if status in ("installed",) and last["status"]:
            status = f"last run: {last['status']}"
            if last["setup_seconds"] is not None:
                status += f" in {last['setup_seconds'] * 1000:.0f} ms"
            if last["reason"]:
                status += f" ({last['reason']})"
        elif item["reason"]:
            status += f" ({item['reason']})"
        configured = "yes" if item["configured"] else "no"
        print(f"{item['domain']:<16} {installed:<24} {configured:<10} {status}")
    if written_at is None:
        print("\nThe hub has not run with this config dir yet: statuses are from discovery.")
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(written_at))
        print(f"\n'last run' is the hub's report of {when}.")
    return 0
