"""Where blueprints live, loading them, and turning configurations that use one into plain ones.

``use_blueprint: {path: homeassistant/motion_light.yaml}`` in an automation names
``<config>/blueprints/automation/homeassistant/motion_light.yaml``; when the config dir has no
such file, the same ``automation/…`` path is looked up in each folder that integrations ship
through the ``linli_blueprint_folders`` hook, in order of their plugin names. The first found
wins, so a community can override a shipped blueprint by copying it into its config dir.

Files are read anew on every call: a reload picks up an edited blueprint.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli.blueprint.models import Blueprint, BlueprintError, BlueprintInputs
from linli.blueprint.schema import USE_BLUEPRINT_SCHEMA, is_blueprint_instance_config, where
from linli.config import ConfigIssue, issues_from_invalid, load_config_file, load_yaml

if TYPE_CHECKING:
    import pluggy

    from linli.hub import Hub

__all__ = [
    "BLUEPRINT_FOLDER",
    "CONFIG_OWNER",
    "BlueprintFolder",
    "FoundBlueprint",
    "async_resolve_blueprint_automations",
    "blueprint_folders",
    "blueprint_usage",
    "config_folder",
    "find_blueprint",
    "hub_blueprint_folders",
    "iter_blueprints",
    "load_blueprint",
    "read_automation_configs",
    "resolve",
]

_LOGGER = logging.getLogger(__name__)

BLUEPRINT_FOLDER: Final = "blueprints"
"""The folder of the config dir that holds ``<domain>/…/<name>.yaml`` blueprints."""
CONFIG_OWNER: Final = "config"
"""The owner of the config dir's own blueprint folder."""
AUTOMATION: Final = "automation"


@dataclass(frozen=True, slots=True)
class BlueprintFolder:
    """A folder holding ``<domain>/<name>.yaml`` blueprints, and who provides it."""

    path: Path
    owner: str
    """``config`` for the config dir's, else the name of the plugin that ships it."""


FolderLike = Path | BlueprintFolder


def config_folder(config_dir: Path) -> BlueprintFolder:
    """Return the config dir's own blueprint folder."""
    return BlueprintFolder(Path(config_dir) / BLUEPRINT_FOLDER, CONFIG_OWNER)


def blueprint_folders(
    plugin_manager: pluggy.PluginManager,
) -> tuple[list[BlueprintFolder], list[str]]:
    """Ask every plugin for the blueprint folders it ships; return them and any problems.

    Each implementation is called on its own, so one that raises or returns nonsense is
    reported (and logged) against its plugin while the others still count.
    """
    folders: list[BlueprintFolder] = []
    problems: list[str] = []
    hook = getattr(plugin_manager.hook, "linli_blueprint_folders", None)
    if hook is None:
        return folders, problems
    for impl in sorted(hook.get_hookimpls(), key=lambda impl: impl.plugin_name):
        owner = impl.plugin_name
        try:
            result = impl.function()
        except Exception as err:
            _LOGGER.exception("Plugin %s failed to name its blueprint folders", owner)
            problems.append(f"{owner}: linli_blueprint_folders raised {type(err).__name__}: {err}")
            continue
        if result is None:
            continue
        if isinstance(result, str | Path) or not isinstance(result, Iterable):
            result = [result]
        for item in result:
            if isinstance(item, str | Path):
                folders.append(BlueprintFolder(Path(item), owner))
            else:
                problems.append(
                    f"{owner}: linli_blueprint_folders returned {type(item).__name__}, not a path"
                )
    return folders, problems


def hub_blueprint_folders(hub: Hub) -> list[BlueprintFolder]:
    """Return the folders the hub's integrations ship (problems are logged)."""
    if hub.loader is None:
        return []
    folders, problems = blueprint_folders(hub.loader.plugin_manager)
    for problem in problems:
        _LOGGER.error("Blueprint folders: %s", problem)
    return folders


def _owned(folders: Iterable[FolderLike]) -> list[BlueprintFolder]:
    return [
        folder
        if isinstance(folder, BlueprintFolder)
        else BlueprintFolder(Path(folder), str(folder))
        for folder in folders
    ]


def _display(file: Path, config_dir: Path) -> str:
    file, config_dir = file.absolute(), config_dir.absolute()
    return file.relative_to(config_dir).as_posix() if file.is_relative_to(config_dir) else str(file)


def find_blueprint(
    config_dir: Path, domain: str, path: str, folders: Iterable[FolderLike] = ()
) -> tuple[Path | None, list[Path]]:
    """Find ``<domain>/<path>`` in the config dir, then in ``folders``; say where it looked.

    ``path`` must already be checked (``schema.blueprint_path``): relative, without ``..``.
    """
    searched: list[Path] = []
    for folder in [config_folder(config_dir), *_owned(folders)]:
        candidate = folder.path / domain / path
        searched.append(candidate)
        if candidate.is_file():
            return candidate, searched
    return None, searched


def load_blueprint(
    file: Path,
    *,
    config_dir: Path | None = None,
    expected_domain: str | None = None,
    name: str | None = None,
) -> tuple[Blueprint | None, list[ConfigIssue]]:
    """Load and check one blueprint file; return it, or None and every issue found.

    ``config_dir`` is what file names in issues are shown relative to (default: the file's
    folder); ``name`` is how messages refer to the blueprint (default: the file as shown).
    """
    issues: list[ConfigIssue] = []
    root = config_dir if config_dir is not None else file.parent
    data = load_yaml(file, config_dir=root, issues=issues)
    if issues:
        return None, issues
    try:
        blueprint = Blueprint(
            data, path=name or _display(file, root), expected_domain=expected_domain
        )
    except BlueprintError as err:
        return None, err.issues
    return blueprint, []


@dataclass(slots=True)
class FoundBlueprint:
    """A blueprint file found in a folder, loaded or not."""

    domain: str
    path: str
    """Relative to the domain folder: what ``use_blueprint: {path: …}`` names."""
    file: Path
    owner: str
    blueprint: Blueprint | None = None
    issues: list[ConfigIssue] = field(default_factory=list)
    shadowed_by: str | None = None
    """The owner of a folder searched earlier that has the same path, which wins."""


def iter_blueprints(
    config_dir: Path, folders: Iterable[FolderLike] = (), *, domain: str | None = None
) -> list[FoundBlueprint]:
    """Load every blueprint in the config dir and ``folders`` (of one domain, or all)."""
    found: list[FoundBlueprint] = []
    first: dict[tuple[str, str], str] = {}
    for folder in [config_folder(config_dir), *_owned(folders)]:
        if not folder.path.is_dir():
            continue
        domains = [folder.path / domain] if domain else sorted(folder.path.iterdir())
        for domain_dir in domains:
            if not domain_dir.is_dir() or domain_dir.name.startswith("."):
                continue
            for file in sorted(domain_dir.rglob("*.yaml")):
                relative = file.relative_to(domain_dir)
                if any(part.startswith(".") for part in relative.parts) or not file.is_file():
                    continue
                path = relative.as_posix()
                blueprint, issues = load_blueprint(
                    file,
                    config_dir=config_dir,
                    expected_domain=domain_dir.name,
                    name=f"{domain_dir.name}/{path}",
                )
                key = (domain_dir.name, path)
                found.append(
                    FoundBlueprint(
                        domain_dir.name,
                        path,
                        file,
                        folder.owner,
                        blueprint,
                        issues,
                        shadowed_by=first.get(key),
                    )
                )
                first.setdefault(key, folder.owner)
    return found


class _Resolver:
    """Resolves one list of configurations, loading each blueprint once."""

    def __init__(self, config_dir: Path, folders: list[BlueprintFolder], domain: str) -> None:
        self.config_dir = config_dir
        self.folders = folders
        self.domain = domain
        self.loaded: dict[Path, tuple[Blueprint | None, list[ConfigIssue]]] = {}
        self.issues: list[ConfigIssue] = []

    def resolve(self, config: Mapping[str, Any], key: str | None) -> Any:
        """Return the substituted config, or None after reporting why it cannot be made."""
        found: list[ConfigIssue] = []
        made = self._resolve(config, found)
        self.issues.extend(
            replace(issue, key=f"{key}.{issue.key}" if key and issue.key else issue.key or key)
            for issue in found
        )
        return made

    def _resolve(self, config: Mapping[str, Any], issues: list[ConfigIssue]) -> Any:
        use = config["use_blueprint"]
        use_spot = where(config, "use_blueprint")
        try:
            checked = USE_BLUEPRINT_SCHEMA(use)
        except vol.Invalid as err:
            issues.extend(
                issues_from_invalid(
                    err,
                    use,
                    domain="use_blueprint",
                    default_file=use_spot[0],
                    default_line=use_spot[1],
                    schema=USE_BLUEPRINT_SCHEMA,
                )
            )
            return None
        path = checked["path"]
        path_spot = where(use, "path")
        file, searched = find_blueprint(self.config_dir, self.domain, path, self.folders)
        if file is None:
            looked = ", ".join(_display(candidate, self.config_dir) for candidate in searched)
            issues.append(
                ConfigIssue(
                    *path_spot,
                    "use_blueprint.path",
                    f"no blueprint {self.domain}/{path} (looked for {looked})",
                )
            )
            return None
        blueprint = self._load(file, path)
        if blueprint is None:
            issues.append(
                ConfigIssue(
                    *path_spot,
                    "use_blueprint.path",
                    f"blueprint {self.domain}/{path} is invalid; "
                    f"see the problems reported in {_display(file, self.config_dir)}",
                )
            )
            return None
        inputs = BlueprintInputs(blueprint, config)
        problems = inputs.validate()
        if problems:
            issues.extend(problems)
            return None
        return inputs.substitute()

    def _load(self, file: Path, path: str) -> Blueprint | None:
        if file not in self.loaded:
            self.loaded[file] = load_blueprint(
                file,
                config_dir=self.config_dir,
                expected_domain=self.domain,
                name=f"{self.domain}/{path}",
            )
            # The blueprint's own problems are reported once, however many configs use it.
            self.issues.extend(self.loaded[file][1])
        return self.loaded[file][0]


def resolve(
    config_dir: Path,
    configs: Sequence[Any],
    folders: Iterable[FolderLike] = (),
    *,
    domain: str = AUTOMATION,
    key_prefix: str | None = None,
    keep_positions: bool = False,
) -> tuple[list[Any], list[ConfigIssue]]:
    """Replace each configuration that uses a blueprint by the configuration it makes.

    Configurations without ``use_blueprint`` pass through unchanged (the same objects); the
    ones made are :class:`~linli.blueprint.SubstitutedConfig`. One that cannot be made
    (unknown or invalid blueprint, missing, unknown or unsuitable inputs) has its problems
    reported, located in the file where each must be fixed, and is left out, or stands as None
    with ``keep_positions``; the others still come back, in order. Issue keys start with
    ``<key_prefix>[<index>]`` (``key_prefix`` defaults to ``domain``; give "" for none).
    Blocking (reads files): call it from an executor when a loop is running.
    """
    prefix = domain if key_prefix is None else key_prefix
    resolver = _Resolver(Path(config_dir), _owned(folders), domain)
    result: list[Any] = []
    for index, config in enumerate(configs):
        if not is_blueprint_instance_config(config):
            result.append(config)
            continue
        made = resolver.resolve(config, f"{prefix}[{index}]" if prefix else None)
        if made is not None or keep_positions:
            result.append(made)
    return result, resolver.issues


async def async_resolve_blueprint_automations(
    hub: Hub, automation_configs: Sequence[Any], *, keep_positions: bool = False
) -> tuple[list[Any], list[ConfigIssue]]:
    """:func:`resolve` automations on the hub's config dir and its integrations' folders."""
    folders = hub_blueprint_folders(hub)
    job = functools.partial(
        resolve, hub.config_dir, list(automation_configs), folders, keep_positions=keep_positions
    )
    return await hub.async_add_executor_job(job)


def read_automation_configs(config_dir: Path) -> list[Any]:
    """Return the automations of a config dir's configuration.yaml (loading problems ignored).

    Like Home Assistant, ``automation:`` and any ``automation <label>:`` sections count.
    Blocking.
    """
    raw, _issues = load_config_file(Path(config_dir))
    configs: list[Any] = []
    for key, section in (raw or {}).items():
        if isinstance(key, str) and (key == AUTOMATION or key.startswith(f"{AUTOMATION} ")):
            if isinstance(section, list):
                configs.extend(section)
            elif section is not None:
                configs.append(section)
    return configs


def blueprint_usage(
    config_dir: Path,
    automation_configs: Sequence[Any] | None = None,
    *,
    domain: str = AUTOMATION,
) -> dict[str, list[str]]:
    """Map each blueprint path that automations use to the automations using it.

    Paths are as ``use_blueprint`` names them, normalised (``homeassistant/motion_light.yaml``);
    automations are named by alias, else id, else ``automation[<index>]``. Without
    ``automation_configs`` the config dir's configuration.yaml is read (blocking).
    """
    if automation_configs is None:
        automation_configs = read_automation_configs(config_dir)
    usage: dict[str, list[str]] = {}
    for index, config in enumerate(automation_configs):
        if not is_blueprint_instance_config(config) or not isinstance(
            config["use_blueprint"], Mapping
        ):
            continue
        try:
            path = USE_BLUEPRINT_SCHEMA(config["use_blueprint"])["path"]
        except vol.Invalid:
            continue
        label = config.get("alias") or config.get("id") or f"{domain}[{index}]"
        usage.setdefault(path, []).append(str(label))
    return usage
