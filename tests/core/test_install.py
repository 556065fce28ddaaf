"""Installing an integration makes it discoverable; uninstalling it turns its section into an error.

A fresh virtual environment gets the core and ``integrations/demo`` the way a user installs them
(``pip install``, not editable), and that environment's own ``linli`` command is run on a copy of
``config_example``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config_example"
DEMO = REPO / "integrations" / "demo"
MQTT = REPO / "integrations" / "mqtt"
CAPABILITIES = (
    REPO / "integrations" / "face_access",
    REPO / "integrations" / "plate_gate",
    REPO / "frontend",
)
"""What config_example configures besides the demo (its doors, gates and web UI)."""

PIP_TIMEOUT = 120.0
PIP_SETTINGS = {"PIP_RETRIES": "1", "PIP_DEFAULT_TIMEOUT": "15", "PIP_TIMEOUT": "15"}
"""Give up on an unreachable index quickly, also in the build-dependency subprocesses."""
COMMAND_TIMEOUT = 15.0

NO_INDEX = re.compile(
    r"NewConnectionError|Failed to establish a new connection|name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeout|"
    r"ReadTimeout|timed out|No matching distribution found|"
    r"Could not find a version that satisfies",
    re.IGNORECASE,
)
"""What pip says when it cannot get a distribution from any index or its cache."""

_BUILD_LEFTOVERS = shutil.ignore_patterns(
    "build", "dist", "*.egg-info", "__pycache__", ".linli", ".*_cache"
)


@dataclass(frozen=True)
class Venv:
    root: Path
    demo_source: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def linli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run the environment's own ``linli`` command."""
        return subprocess.run(
            [str(self.root / "bin" / "linli"), *map(str, args)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=COMMAND_TIMEOUT,
            env=_isolated_env(),
            check=False,
        )

    def pip(self, *args: str | Path) -> None:
        _pip(self.python, *args)


def _isolated_env() -> dict[str, str]:
    """This process's environment without what would point Python at the project's tree."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env["PYTHONIOENCODING"] = "utf-8"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _no_index(message: str) -> None:
    if os.environ.get("LINLI_REQUIRE_SERVICES", "") not in ("", "0"):
        pytest.fail(message)
    pytest.skip(message)


def _pip(python: Path, *args: str | Path) -> None:
    command = [str(python), "-m", "pip", *map(str, args)]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=PIP_TIMEOUT,
            env=_isolated_env() | PIP_SETTINGS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _no_index(f"pip {' '.join(command[3:])} took more than {PIP_TIMEOUT:g} s")
        raise
    if result.returncode == 0:
        return
    output = (result.stdout + result.stderr).strip()
    if NO_INDEX.search(output):
        _no_index(
            "pip can reach no package index and has not cached what it needs "
            f"(pip {' '.join(command[3:])}):\n{output[-3000:]}"
        )
    pytest.fail(f"pip {' '.join(command[3:])} failed ({result.returncode}):\n{output}")


def _copy_sources(target: Path) -> tuple[Path, Path, Path, list[Path]]:
    """Copy the core's, the mqtt integration's, the demo's and the capabilities' sources (the
    demo's devices speak MQTT to them), so building them leaves the checkout alone."""
    core = target / "linli"
    core.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, core / name)
    shutil.copytree(REPO / "core", core / "core", ignore=_BUILD_LEFTOVERS)
    mqtt = target / "linli-mqtt"
    shutil.copytree(MQTT, mqtt, ignore=_BUILD_LEFTOVERS)
    demo = target / "linli-demo"
    shutil.copytree(DEMO, demo, ignore=_BUILD_LEFTOVERS)
    capabilities = []
    for source in CAPABILITIES:
        copy = target / source.name
        shutil.copytree(source, copy, ignore=_BUILD_LEFTOVERS)
        capabilities.append(copy)
    return core, mqtt, demo, capabilities


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment with the core, the demo and the integrations it uses,
    installed from their sources."""
    root = tmp_path_factory.mktemp("install")
    core, mqtt, demo, capabilities = _copy_sources(root)
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    _pip(python, "install", "--quiet", core)
    _pip(python, "install", "--quiet", mqtt)
    _pip(python, "install", "--quiet", *capabilities)
    _pip(python, "install", "--quiet", demo)
    return Venv(env_dir, demo)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    return target


def _version(project: Path) -> str:
    with (project / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


def _row(listing: str, domain: str) -> str:
    rows = [line for line in listing.splitlines() if line.split()[:1] == [domain]]
    assert len(rows) == 1, f"expected one row for {domain}:\n{listing}"
    return rows[0]


def _line_of(path: Path, text: str) -> int:
    found = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if line == text]
    assert len(found) == 1, f"expected one line {text!r} in {path.name}, found {found}"
    return found[0]


def test_the_environment_runs_its_own_copy(venv: Venv) -> None:
    where = subprocess.run(
        [
            str(venv.python),
            "-c",
            "import linli, linli_demo; print(linli.__file__, linli_demo.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=_isolated_env(),
        check=True,
    ).stdout.split()
    assert len(where) == 2
    assert all(Path(path).is_relative_to(venv.root) for path in where), where

    result = venv.linli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "linli " + _version(REPO)


def test_installed_demo_is_discovered(venv: Venv, config_dir: Path) -> None:
    version = _version(DEMO)

    listing = venv.linli("integrations", "list", "-c", config_dir)
    assert listing.returncode == 0, listing.stderr
    demo = _row(listing.stdout, "demo")
    assert re.fullmatch(rf"demo\s+linli-demo {re.escape(version)}\s+yes\s+installed", demo), demo

    as_json = venv.linli("integrations", "list", "-c", config_dir, "--json")
    assert as_json.returncode == 0, as_json.stderr
    [entry] = [i for i in json.loads(as_json.stdout)["integrations"] if i["domain"] == "demo"]
    assert entry["source"] == f"linli-demo {version}"
    assert entry["status"] == "installed"
    assert entry["configured"] is True

    check = venv.linli("check-config", "-c", config_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "Configuration is valid."


def test_uninstalled_demo_is_a_clear_error(venv: Venv, config_dir: Path) -> None:
    demo_line = _line_of(config_dir / "configuration.yaml", "demo:")

    venv.pip("uninstall", "--quiet", "-y", "linli-demo")
    try:
        check = venv.linli("check-config", "-c", config_dir)
        assert check.returncode == 1, check.stdout + check.stderr
        assert [line for line in check.stdout.splitlines() if line.startswith("error: ")] == [
            f"error: configuration.yaml:{demo_line}: demo: integration 'demo' is not installed "
            "(pip install linli-demo)"
        ]
        assert "1 problem found." in check.stdout

        listing = venv.linli("integrations", "list", "-c", config_dir)
        assert listing.returncode == 0, listing.stderr
        demo = _row(listing.stdout, "demo")
        assert re.match(r"demo\s+-\s+yes\s+not_installed\b", demo), demo
        assert "pip install linli-demo" in demo
    finally:
        venv.pip("install", "--quiet", "--no-deps", venv.demo_source)

    check = venv.linli("check-config", "-c", config_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "Configuration is valid."
