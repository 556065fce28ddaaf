"""``linli blueprint validate|import|list`` as a user runs them (``python -m linli``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linli import hookimpl
from linli.blueprint.cli import list_

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
COMMAND_TIMEOUT = 20.0
Served = tuple[str, Path]


def without_shipped(listing: str) -> str:
    """``blueprint list`` output without the blueprints the core ships (owner automation)."""
    entries = re.split(r"(?m)^(?=\S)", listing)
    return "".join(entry for entry in entries if "  [automation]\n" not in entry)


def linli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m linli ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "linli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=COMMAND_TIMEOUT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        cwd=cwd,
        check=False,
    )


def test_validate_prints_the_name_and_inputs() -> None:
    result = linli("blueprint", "validate", FIXTURES / "elder_no_activity.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Elder living alone — no activity (automation blueprint)\n"
        "  description: Tell the grid worker when an elder's home shows no activity for a while.\n"
        "  author: Linli volunteers\n"
        "  source: https://example.org/blueprints/elder_no_activity.yaml\n"
        "Inputs:\n"
        "  [Sensors]\n"
        "    activity_sensors — Activity sensors (entity selector, required)\n"
        "  [Timing]\n"
        "    quiet_for — Quiet for (duration selector, default {'hours': 12})\n"
        "    check_from — Check from (time selector, default '07:00:00')\n"
        "  message — Severity (select selector, default 'warning')\n"
        "  extra_actions — Also do (action selector, default [])\n"
    )


def test_validate_reports_problems_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    text = (FIXTURES / "motion_light.yaml").read_text(encoding="utf-8")
    (folder / "motion.yaml").write_text(
        text.replace("        target:\n", "        targets:\n").replace(
            "!input no_motion_wait", "!input no_motion_delay"
        ),
        encoding="utf-8",
    )
    result = linli("blueprint", "validate", Path("shared/motion.yaml"), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "error: shared/motion.yaml:19: blueprint.input.light_target.selector: "
        "unknown selector type 'targets' (did you mean 'target'?); known types: action,"
    )
    assert lines[1:] == [
        "error: shared/motion.yaml:54: '!input no_motion_delay' is not declared under "
        "blueprint.input (did you mean 'no_motion_wait'?)",
        "2 problems found.",
    ]


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = linli("blueprint", "validate", tmp_path / "nothing.yaml")
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'nothing.yaml'}: no such file\n"


def test_import_from_a_file(config_dir: Path) -> None:
    source = FIXTURES / "elder_no_activity.yaml"
    result = linli("blueprint", "import", source, "-c", config_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Imported 'Elder living alone — no activity' to "
        "blueprints/automation/linli_volunteers/elder_no_activity.yaml\n"
        "Use it in automation configuration with:\n"
        "  use_blueprint:\n"
        "    path: linli_volunteers/elder_no_activity.yaml\n"
        "    input:\n"
        "      activity_sensors: …\n"
    )
    stored = config_dir / "blueprints/automation/linli_volunteers/elder_no_activity.yaml"
    assert stored.read_bytes() == source.read_bytes()

    again = linli("blueprint", "import", source, "-c", config_dir)
    assert again.returncode == 1
    assert again.stderr == (
        "error: blueprints/automation/linli_volunteers/elder_no_activity.yaml already exists; "
        "use --force to replace it\n"
    )
    forced = linli("blueprint", "import", source, "-c", config_dir, "--force")
    assert forced.returncode == 0, forced.stderr


def test_import_from_a_url(config_dir: Path, served: Served) -> None:
    base, www = served
    shutil.copy(FIXTURES / "motion_light.yaml", www / "motion_light.yaml")
    url = f"{base}/motion_light.yaml"
    result = linli("blueprint", "import", url, "-c", config_dir, "--force")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "Imported 'Motion-activated Light' to "
        "blueprints/automation/home_assistant/motion_light.yaml",
        f"  source_url set to {url}",
    ]
    validated = linli(
        "blueprint",
        "validate",
        config_dir / "blueprints/automation/home_assistant/motion_light.yaml",
    )
    assert f"  source: {url}\n" in validated.stdout


def test_import_refuses_plain_http_and_bad_blueprints(config_dir: Path, served: Served) -> None:
    refused = linli("blueprint", "import", "http://example.org/bp.yaml", "-c", config_dir)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: refusing http://example.org/bp.yaml: use https (plain http is only allowed to "
        "this machine)\n"
    )
    base, www = served
    (www / "empty.yaml").write_text("triggers: []\n", encoding="utf-8")
    invalid = linli("blueprint", "import", f"{base}/empty.yaml", "-c", config_dir)
    assert invalid.returncode == 1
    assert invalid.stdout.startswith(f"error: {base}/empty.yaml:1: not a blueprint:")


def test_list_shows_blueprints_and_what_uses_them(config_dir: Path) -> None:
    (config_dir / "automations.yaml").write_text(
        "- alias: Hall light\n"
        "  use_blueprint: {path: homeassistant/motion_light.yaml, input: {}}\n"
        "- id: gone\n"
        "  use_blueprint: {path: removed.yaml}\n",
        encoding="utf-8",
    )
    result = linli("blueprint", "list", "-c", config_dir)
    assert result.returncode == 0, result.stderr
    assert "automation/linli/no_activity_alert.yaml  [automation]\n" in result.stdout
    assert without_shipped(result.stdout) == (
        "automation/homeassistant/motion_light.yaml  [config]\n"
        "  name: Motion-activated Light\n"
        "  used by: Hall light\n"
        "warning: automation/removed.yaml is not found, but used by: gone\n"
    )
    as_json = json.loads(linli("blueprint", "list", "-c", config_dir, "--json").stdout)
    [row] = [row for row in as_json["blueprints"] if row["owner"] == "config"]
    assert row["path"] == "homeassistant/motion_light.yaml"
    assert row["used_by"] == ["Hall light"]
    assert as_json["missing"] == {"removed.yaml": ["gone"]}


def test_list_includes_integration_folders(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = tmp_path / "shipped"
    (shipped / "automation").mkdir(parents=True)
    shutil.copy(FIXTURES / "elder_no_activity.yaml", shipped / "automation")
    (shipped / "automation" / "broken.yaml").write_text(
        "blueprint: {domain: automation}\n", encoding="utf-8"
    )

    class Elder:
        @hookimpl
        def linli_blueprint_folders(self) -> list[Path]:
            return [shipped]

    assert list_(config_dir, as_json=False, plugins=[("linli_elder", Elder())]) == 0
    out = without_shipped(capsys.readouterr().out)
    assert out == (
        "automation/homeassistant/motion_light.yaml  [config]\n"
        "  name: Motion-activated Light\n"
        "  used by: nothing\n"
        "automation/broken.yaml  [linli_elder]\n"
        f"  invalid: {shipped / 'automation' / 'broken.yaml'}:1: blueprint: missing required "
        "key 'name'\n"
        "  used by: nothing\n"
        "automation/elder_no_activity.yaml  [linli_elder]\n"
        "  name: Elder living alone — no activity\n"
        "  used by: nothing\n"
    )
