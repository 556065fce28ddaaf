"""Blueprint commands of the WebSocket API, for administrators.

``linli/blueprints/list`` answers every blueprint found (the config dir's, then those
integrations ship), as ``linli blueprint list`` shows them, with their inputs and the
automations using each. ``linli/blueprints/import`` checks a blueprint, given as a URL or as
YAML text, and stores it in the config dir as ``linli blueprint import`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.blueprint.importer import (
    BlueprintImportError,
    ImportedBlueprint,
    import_blueprint,
    import_blueprint_text,
    is_url,
)
from linli.blueprint.models import Blueprint, BlueprintError
from linli.blueprint.store import (
    AUTOMATION,
    FoundBlueprint,
    blueprint_usage,
    hub_blueprint_folders,
    iter_blueprints,
)
from linli.callback import callback
from linli.components.websocket_api import const
from linli.components.websocket_api.connection import ActiveConnection, async_register_command
from linli.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)

if TYPE_CHECKING:
    from linli.hub import Hub

REPLACE_HINT: Final = "import it with force to replace it"
MAX_ISSUES_SHOWN: Final = 10


@callback
def async_register_commands(hub: Hub) -> None:
    """Register ``linli/blueprints/list`` and ``linli/blueprints/import``."""
    async_register_command(hub, handle_blueprints_list)
    async_register_command(hub, handle_blueprints_import)


def _inputs(blueprint: Blueprint) -> list[dict[str, Any]]:
    inputs: list[dict[str, Any]] = []
    for key, declared in blueprint.inputs.items():
        item: dict[str, Any] = {
            "key": key,
            "name": declared.name,
            "description": declared.description,
            "selector": declared.selector,
            "section": declared.section,
            "required": not declared.has_default,
        }
        if declared.has_default:
            item["default"] = declared.default
        inputs.append(item)
    return inputs


def _row(item: FoundBlueprint, usage: dict[str, list[str]]) -> dict[str, Any]:
    blueprint = item.blueprint
    counted = item.domain == AUTOMATION and not item.shadowed_by
    return {
        "path": item.path,
        "domain": item.domain,
        "owner": item.owner,
        "name": blueprint.name if blueprint else None,
        "description": blueprint.description if blueprint else None,
        "author": blueprint.author if blueprint else None,
        "source_url": blueprint.source_url if blueprint else None,
        "valid": blueprint is not None,
        "issues": [str(issue) for issue in item.issues],
        "shadowed_by": item.shadowed_by,
        "inputs": _inputs(blueprint) if blueprint else [],
        "used_by": usage.get(item.path, []) if counted else [],
    }


def list_blueprints(hub: Hub) -> list[dict[str, Any]]:
    """Every blueprint of the config dir and the integrations, as answered. Blocking."""
    config_dir = Path(hub.config_dir)
    found = iter_blueprints(config_dir, hub_blueprint_folders(hub))
    has_config = (config_dir / "configuration.yaml").is_file()
    usage = blueprint_usage(config_dir) if has_config else {}
    return [_row(item, usage) for item in found]


@websocket_command({vol.Required("type"): "linli/blueprints/list"})
@require_admin
@async_response
async def handle_blueprints_list(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """List every blueprint with its inputs and the automations using it (admins only)."""
    rows = await hub.async_add_executor_job(list_blueprints, hub)
    connection.send_result(msg["id"], rows)


def _issues_message(err: BlueprintError) -> str:
    shown = [str(issue) for issue in err.issues[:MAX_ISSUES_SHOWN]]
    more = len(err.issues) - len(shown)
    if more > 0:
        shown.append(f"… and {more} more")
    return "Not a valid blueprint: " + "; ".join(shown)


@websocket_command(
    {
        vol.Required("type"): "linli/blueprints/import",
        vol.Exclusive("url", "source"): vol.All(str, vol.Strip, vol.Length(min=1)),
        vol.Exclusive("yaml", "source"): vol.All(str, vol.Length(min=1)),
        vol.Optional("path"): str,
        vol.Optional("force", default=False): bool,
    }
)
@require_admin
@async_response
async def handle_blueprints_import(
    hub: Hub, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Check a blueprint (``url`` or ``yaml`` text) and store it in the config dir.

    Answers ``{path, domain, name, file, source_url_added}``; ``invalid_format`` with the
    problems when it is not a valid blueprint or cannot be fetched or stored.
    """
    config_dir = Path(hub.config_dir)
    url: str | None = msg.get("url")
    if url is None and "yaml" not in msg:
        connection.send_error(
            msg["id"], const.ERR_INVALID_FORMAT, "Give the blueprint as url or as yaml."
        )
        return
    if url is not None and not is_url(url):
        connection.send_error(msg["id"], const.ERR_INVALID_FORMAT, f"{url!r} is not an http(s) URL")
        return
    try:
        imported: ImportedBlueprint
        if url is not None:
            imported = await hub.async_add_executor_job(
                lambda: import_blueprint(
                    url,
                    config_dir,
                    force=msg["force"],
                    path=msg.get("path"),
                    replace_hint=REPLACE_HINT,
                )
            )
        else:
            imported = await hub.async_add_executor_job(
                lambda: import_blueprint_text(
                    msg["yaml"],
                    config_dir,
                    path=msg.get("path"),
                    force=msg["force"],
                    replace_hint=REPLACE_HINT,
                )
            )
    except BlueprintError as err:
        connection.send_error(msg["id"], const.ERR_INVALID_FORMAT, _issues_message(err))
        return
    except BlueprintImportError as err:
        connection.send_error(msg["id"], const.ERR_INVALID_FORMAT, str(err))
        return
    connection.send_result(
        msg["id"],
        {
            "path": imported.path,
            "domain": imported.blueprint.domain,
            "name": imported.blueprint.name,
            "file": imported.file.relative_to(config_dir).as_posix(),
            "source_url_added": imported.source_url_added,
        },
    )
