"""``linli blueprint validate|import|list``: check, fetch and survey blueprints."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from linli.config import ConfigIssue

__all__ = ["add_parser", "main"]


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    config_arg: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``blueprint`` command to the ``linli`` command's subcommands."""
    from linli.blueprint.importer import DEFAULT_TIMEOUT, MAX_BYTES

    blueprint = sub.add_parser("blueprint", help="validate, import and list blueprints")
    actions = blueprint.add_subparsers(dest="blueprint_command", required=True, metavar="ACTION")

    validate = actions.add_parser(
        "validate", help="check a blueprint file; print its name and inputs"
    )
    validate.add_argument("file", type=Path, metavar="FILE", help="the blueprint YAML file")

    importing = actions.add_parser(
        "import",
        help="fetch a blueprint from a URL or copy it from a file into the config dir",
        description=(
            "Check a blueprint and store it as "
            "<config>/blueprints/<domain>/<author or source>/<name>.yaml. URLs must be "
            "https (plain http is allowed only to this machine, e.g. http://127.0.0.1); "
            f"downloads time out after {DEFAULT_TIMEOUT:g} s (see --timeout) and may be "
            f"{MAX_BYTES // 1024} KiB at most."
        ),
    )
    importing.add_argument("source", metavar="URL|FILE", help="where the blueprint is")
    config_arg(importing)
    importing.add_argument(
        "--force", action="store_true", help="replace a blueprint already stored there"
    )
    importing.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a download after this long (default: {DEFAULT_TIMEOUT:g})",
    )

    listing = actions.add_parser(
        "list", help="every blueprint (config dir and integrations) and what uses it"
    )
    config_arg(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")


def main(args: argparse.Namespace) -> int:
    """Run the ``blueprint`` action in ``args``; return the exit code."""
    logging.basicConfig(level=logging.CRITICAL)
    if args.blueprint_command == "validate":
        return validate(args.file)
    if args.blueprint_command == "import":
        return import_(args.source, args.config, force=args.force, timeout=args.timeout)
    return list_(args.config, as_json=args.json)


def _print_issues(issues: Sequence[ConfigIssue]) -> int:
    for issue in issues:
        print(f"error: {issue}")
    print(f"{len(issues)} problem{'s' if len(issues) != 1 else ''} found.")
    return 1


def validate(file: Path) -> int:
    """Check one blueprint file."""
    from linli.blueprint.store import load_blueprint

    if not file.is_file():
        print(f"error: {file}: no such file", file=sys.stderr)
        return 2
    cwd = Path.cwd()
    # Shown as the user would type it: relative to the current directory when inside it.
    root = cwd if file.absolute().is_relative_to(cwd) else file.absolute().parent
    blueprint, issues = load_blueprint(file.absolute(), config_dir=root)
    if blueprint is None:
        return _print_issues(issues)
    print(f"{blueprint.name} ({blueprint.domain} blueprint)")
    for label, value in (
        ("description", blueprint.description),
        ("author", blueprint.author),
        ("source", blueprint.source_url),
    ):
        if value:
            first, _, rest = str(value).strip().partition("\n")
            print(f"  {label}: {first}{' …' if rest else ''}")
    if not blueprint.inputs:
        print("No inputs.")
        return 0
    print("Inputs:")
    section = None
    for key, declared in blueprint.inputs.items():
        if declared.section != section:
            section = declared.section
            if section is not None:
                title = blueprint.sections[section].name or section
                print(f"  [{title}]")
        indent = "    " if section is not None else "  "
        kind = f"{declared.selector_type} selector" if declared.selector else "any value"
        need = f"default {declared.default!r}" if declared.has_default else "required"
        name = f" — {declared.name}" if declared.name and declared.name != key else ""
        print(f"{indent}{key}{name} ({kind}, {need})")
    return 0


def import_(source: str, config_dir: Path, *, force: bool, timeout: float) -> int:
    """Fetch or copy a blueprint into ``config_dir``."""
    from linli.blueprint.importer import BlueprintImportError, import_blueprint
    from linli.blueprint.models import BlueprintError

    if not config_dir.is_dir():
        print(f"error: {config_dir}: no such config directory", file=sys.stderr)
        return 2
    try:
        imported = import_blueprint(source, config_dir, force=force, timeout=timeout)
    except BlueprintImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BlueprintError as err:
        return _print_issues(err.issues)
    blueprint = imported.blueprint
    shown = imported.file.relative_to(config_dir).as_posix()
    print(f"Imported {blueprint.name!r} to {shown}")
    if imported.source_url_added:
        print(f"  source_url set to {source}")
    print(f"Use it in {blueprint.domain} configuration with:")
    print("  use_blueprint:")
    print(f"    path: {imported.path}")
    required = [key for key, item in blueprint.inputs.items() if not item.has_default]
    if required:
        print("    input:")
        for key in required:
            print(f"      {key}: …")
    return 0


def list_(config_dir: Path, *, as_json: bool, plugins: Iterable[tuple[str, object]] = ()) -> int:
    """Print every blueprint found and the automations using each.

    ``plugins`` registers extra (bundled or test) plugins by name, beside the installed ones.
    """
    from linli.blueprint.store import blueprint_folders, blueprint_usage, iter_blueprints
    from linli.components import register_bundled
    from linli.hub import Hub
    from linli.plugins.loader import IntegrationLoader

    if not config_dir.is_dir():
        print(f"error: {config_dir}: no such config directory", file=sys.stderr)
        return 2
    loader = IntegrationLoader(Hub(config_dir))
    # The same plugins as a running hub: bundled integrations, then installed ones.
    register_bundled(loader)
    loader.discover()
    for name, plugin in plugins:
        loader.register(plugin, name=name)
    folders, problems = blueprint_folders(loader.plugin_manager)
    found = iter_blueprints(config_dir, folders)
    has_config = (config_dir / "configuration.yaml").is_file()
    usage = blueprint_usage(config_dir) if has_config else {}
    rows: list[dict[str, Any]] = []
    for item in found:
        counted = item.domain == "automation" and not item.shadowed_by
        used = usage.get(item.path, []) if counted else []
        rows.append(
            {
                "domain": item.domain,
                "path": item.path,
                "name": item.blueprint.name if item.blueprint else None,
                "owner": item.owner,
                "file": str(item.file),
                "valid": item.blueprint is not None,
                "issues": [str(issue) for issue in item.issues],
                "shadowed_by": item.shadowed_by,
                "used_by": used,
            }
        )
    known = {row["path"] for row in rows if row["domain"] == "automation"}
    missing = {path: names for path, names in usage.items() if path not in known}
    if as_json:
        print(json.dumps({"blueprints": rows, "missing": missing, "problems": problems}, indent=2))
        return 0
    for problem in problems:
        print(f"warning: {problem}")
    if not rows:
        print(f"No blueprints in {config_dir / 'blueprints'} or shipped by integrations.")
    for row in rows:
        print(f"{row['domain']}/{row['path']}  [{row['owner']}]")
        if row["valid"]:
            print(f"  name: {row['name']}")
        else:
            print(f"  invalid: {row['issues'][0] if row['issues'] else 'unknown problem'}")
        if row["shadowed_by"]:
            print(f"  hidden by the blueprint of the same path from {row['shadowed_by']}")
        elif row["domain"] == "automation":
            print(f"  used by: {', '.join(row['used_by']) if row['used_by'] else 'nothing'}")
    for path, names in sorted(missing.items()):
        print(f"warning: automation/{path} is not found, but used by: {', '.join(names)}")
    return 0
