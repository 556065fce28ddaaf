"""Bring a hub up from a config dir, and check a config dir without running it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from linli.clock import Clock
from linli.components import register_bundled
from linli.config import ConfigError, ConfigIssue, issues_from_invalid, load_config_file, located
from linli.core_config import CORE_CONFIG_SCHEMA, core_config_from
from linli.exceptions import RegistryError
from linli.hub import Hub
from linli.plugins.loader import IntegrationLoader, Status

_LOGGER = logging.getLogger(__name__)

CORE_DOMAIN = "linli"


@dataclass(slots=True)
class CheckedConfig:
    """A config dir read and validated: the raw sections, the core section, the issues."""

    raw: dict[str, Any] = field(default_factory=dict)
    core: dict[str, Any] | None = None
    issues: list[ConfigIssue] = field(default_factory=list)

    @property
    def integration_sections(self) -> dict[str, Any]:
        """Every top-level section except the core's, by domain."""
        return {k: v for k, v in self.raw.items() if k != CORE_DOMAIN}


def read_config(config_dir: Path) -> CheckedConfig:
    """Read configuration.yaml (with includes and secrets) and validate the ``linli:`` section.

    Blocking: call it from an executor when a loop is running.
    """
    raw, issues = load_config_file(config_dir)
    checked = CheckedConfig(issues=list(issues))
    if raw is None:
        return checked
    checked.raw = raw
    section = raw.get(CORE_DOMAIN)
    try:
        checked.core = CORE_CONFIG_SCHEMA({} if section is None else section)
    except vol.Invalid as err:
        file, line = _key_location(raw, CORE_DOMAIN)
        checked.issues.extend(
            issues_from_invalid(
                err,
                section,
                domain=CORE_DOMAIN,
                default_file=file,
                default_line=line,
                schema=CORE_CONFIG_SCHEMA,
            )
        )
    return checked


def _key_location(parent: Any, key: str) -> tuple[str | None, int | None]:
    lines = getattr(parent, "key_lines", None)
    file, line = located(parent)
    if lines and key in lines:
        line = lines[key]
    return file, line


def check_integrations(checked: CheckedConfig, loader: IntegrationLoader) -> list[ConfigIssue]:
    """Check each integration section: installed, importable, and valid for its schema."""
    issues: list[ConfigIssue] = []
    sections = checked.integration_sections
    loader.plan(sections)
    for domain, section in sections.items():
        record = loader.records[domain]
        file, line = _key_location(checked.raw, domain)
        if record.integration is None or record.status in (Status.broken, Status.not_installed):
            issues.append(ConfigIssue(file, line, domain, _missing_reason(domain, record.reason)))
            continue
        schema = record.integration.config_schema
        if schema is None:
            continue
        try:
            schema({} if section is None else section)
        except vol.Invalid as err:
            issues.extend(
                issues_from_invalid(
                    err,
                    section,
                    domain=domain,
                    default_file=file,
                    default_line=line,
                    schema=schema,
                )
            )
        except Exception as err:
            issues.append(ConfigIssue(file, line, domain, f"invalid configuration: {err}"))
    for domain, record in sorted(loader.records.items()):
        if record.status is Status.failed and record.reason and "cycle" in record.reason:
            file, line = _key_location(checked.raw, domain)
            issues.append(ConfigIssue(file, line, domain, record.reason))
    return issues


def _missing_reason(domain: str, reason: str | None) -> str:
    if reason and not reason.startswith("not installed"):
        return f"integration '{domain}' is installed but broken: {reason}"
    dist = "linli-" + domain.replace("_", "-")
    return f"integration '{domain}' is not installed (pip install {dist})"


def check_config_dir(
    config_dir: Path, plugins: Iterable[tuple[str, object]] = ()
) -> list[ConfigIssue]:
    """Return every problem in a config dir, each with file and line where known."""
    checked = read_config(config_dir)
    if not checked.raw:
        return checked.issues
    loader = IntegrationLoader(Hub(config_dir))
    register_bundled(loader)
    loader.discover()
    for name, plugin in plugins:
        loader.register(plugin, name=name)
    return _without_echoes(checked.issues + check_integrations(checked, loader))


def _without_echoes(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Drop schema complaints about a value the loader already reported.

    A missing secret leaves an empty value behind, which the schema then rejects too: one
    problem should give one message.
    """
    kept: list[ConfigIssue] = []
    seen: set[tuple[str | None, int | None]] = set()
    for issue in issues:
        spot = (issue.file, issue.line)
        if issue.line is not None and issue.key is not None and spot in seen:
            continue
        if issue.key is None:  # loader issues come first and carry no key
            seen.add(spot)
        kept.append(issue)
    return kept


async def async_setup_hub(
    config_dir: str | Path,
    *,
    clock: Clock | None = None,
    plugins: Iterable[tuple[str, object]] = (),
    discover: bool = True,
) -> Hub:
    """Build, set up and start a hub from a config dir.

    Problems in the core section stop here with :class:`ConfigError`; problems in an
    integration's section fail that integration only (it is reported, the rest runs).
    ``plugins`` registers extra (bundled or test) integration plugins by name.
    """
    started = time.perf_counter()
    config_dir = Path(config_dir)
    if not (config_dir / "configuration.yaml").is_file():
        raise ConfigError(
            [ConfigIssue(str(config_dir), None, None, "no configuration.yaml in this directory")]
        )
    loop = asyncio.get_running_loop()
    checked = await loop.run_in_executor(None, read_config, config_dir)
    checked.issues = _without_echoes(checked.issues)
    if checked.core is None:
        raise ConfigError(checked.issues or [ConfigIssue(None, None, None, "cannot read config")])
    for issue in checked.issues:
        _LOGGER.error("Configuration problem: %s", issue)
    hub = Hub(config_dir, clock=clock)
    hub.config = core_config_from(checked.core)
    await hub.async_load()
    try:
        hub.registries.areas.async_sync_from_config(
            checked.core["name"], checked.core.get("areas") or []
        )
    except RegistryError as err:
        file, line = _key_location(checked.raw.get(CORE_DOMAIN) or {}, "areas")
        await hub.async_stop()
        raise ConfigError([ConfigIssue(file, line, "linli.areas", str(err))]) from err
    loader = IntegrationLoader(hub)
    register_bundled(loader)
    if discover:
        await loop.run_in_executor(None, loader.discover)
    for name, plugin in plugins:
        loader.register(plugin, name=name)
    await loader.async_setup_all(checked.integration_sections)
    await hub.async_start()
    failed = [r for r in loader.records.values() if r.status in _PROBLEMS]
    loaded = sum(1 for r in loader.records.values() if r.status is Status.loaded)
    _LOGGER.info(
        "Hub '%s' started in %.0f ms: %d integration%s loaded, %d with problems",
        hub.config.name,
        (time.perf_counter() - started) * 1000,
        loaded,
        "" if loaded == 1 else "s",
        len(failed),
    )
    return hub


_PROBLEMS = (Status.failed, Status.skipped, Status.not_installed, Status.broken, Status.retrying)
