"""The blueprints the project ships: where a hub finds them, and that each is sound."""

from __future__ import annotations

from pathlib import Path

import pytest

from linli.blueprint import load_blueprint
from linli.blueprint.cli import validate
from linli.components.automation import linli_blueprint_folders

REPO_FOLDER = Path(__file__).resolve().parents[2] / "blueprints"
SHIPPED = sorted((REPO_FOLDER / "automation" / "linli").glob("*.yaml"))


def test_the_automation_integration_offers_the_shipped_folder() -> None:
    (folder,) = linli_blueprint_folders()
    offered = sorted(p.name for p in (folder / "automation" / "linli").glob("*.yaml"))
    assert offered == [
        "escalate_unacknowledged_alert.yaml",
        "group_rental_review.yaml",
        "no_activity_alert.yaml",
        "no_power_use_alert.yaml",
        "sensor_threshold_alert.yaml",
        "tailgating_alert.yaml",
        "unknown_plate_ask_guard.yaml",
        "visitor_plate_pass.yaml",
    ]
    assert offered == [p.name for p in SHIPPED]
    for name in offered:
        shipped = folder / "automation" / "linli" / name
        assert shipped.read_bytes() == (REPO_FOLDER / "automation" / "linli" / name).read_bytes()


@pytest.mark.parametrize("file", SHIPPED, ids=lambda file: file.name)
def test_each_shipped_blueprint_validates(file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(file) == 0, capsys.readouterr().out
    blueprint, issues = load_blueprint(file, expected_domain="automation")
    assert issues == []
    assert blueprint is not None
    assert blueprint.author == "Linli"
    assert blueprint.source_url is None
    assert blueprint.description
    for key, declared in blueprint.inputs.items():
        assert declared.name, f"input {key} has no name"
        assert declared.selector is not None, f"input {key} has no selector"
    # Every input is used by the body, and the body uses no undeclared one.
    assert blueprint.placeholders == set(blueprint.inputs)
