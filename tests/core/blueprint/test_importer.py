"""Importing a blueprint from a file or a URL (served on 127.0.0.1: no network is touched)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from linli.blueprint import BlueprintError, load_blueprint
from linli.blueprint.importer import (
    BlueprintImportError,
    check_url,
    fetch,
    import_blueprint,
    raw_url,
)

FIXTURES = Path(__file__).parent / "fixtures"
Served = tuple[str, Path]

NO_SOURCE = """\
# A blueprint without author or source_url.
blueprint:
  # What it is called.
  name: Gate left open
  domain: automation
  input:
    gate: {selector: {entity: {filter: {domain: binary_sensor}}}}
triggers:
  - trigger: state
    entity_id: !input gate
    to: "on"
    for: "00:10:00"
"""


def test_import_from_a_file_keeps_it_as_written(config_dir: Path) -> None:
    imported = import_blueprint(str(FIXTURES / "motion_light.yaml"), config_dir)
    assert imported.path == "home_assistant/motion_light.yaml"
    assert imported.file == (
        config_dir / "blueprints" / "automation" / "home_assistant" / "motion_light.yaml"
    )
    assert imported.file.read_bytes() == (FIXTURES / "motion_light.yaml").read_bytes()
    assert imported.blueprint.name == "Motion-activated Light"
    # A file has no URL to record.
    assert not imported.source_url_added
    assert imported.blueprint.source_url is None


def test_import_from_a_url_keeps_its_source_url(config_dir: Path, served: Served) -> None:
    base, www = served
    shutil.copy(FIXTURES / "elder_no_activity.yaml", www)
    imported = import_blueprint(f"{base}/elder_no_activity.yaml", config_dir)
    assert imported.path == "linli_volunteers/elder_no_activity.yaml"
    assert imported.file.read_bytes() == (FIXTURES / "elder_no_activity.yaml").read_bytes()
    assert imported.blueprint.source_url == "https://example.org/blueprints/elder_no_activity.yaml"
    assert not imported.source_url_added


def test_import_from_a_url_records_it_as_source_url(config_dir: Path, served: Served) -> None:
    base, www = served
    (www / "gate_open.yaml").write_text(NO_SOURCE, encoding="utf-8")
    url = f"{base}/gate_open.yaml"
    imported = import_blueprint(url, config_dir)
    assert imported.source_url_added
    assert imported.path == "127.0.0.1/gate_open.yaml"
    text = imported.file.read_text(encoding="utf-8")
    # One line added before the section's first key; the rest (comments too) as published.
    assert text == NO_SOURCE.replace(
        "  name: Gate left open\n", f'  source_url: "{url}"\n  name: Gate left open\n'
    )
    stored, issues = load_blueprint(imported.file)
    assert issues == []
    assert stored is not None
    assert stored.source_url == url


def test_flow_style_section_is_rewritten_with_the_source_url(
    config_dir: Path, served: Served
) -> None:
    base, www = served
    (www / "flow.yaml").write_text(
        "blueprint: {name: Flow, domain: automation, input: {wait: {default: 5}}}\n"
        "actions:\n  - delay: !input wait\n",
        encoding="utf-8",
    )
    imported = import_blueprint(f"{base}/flow.yaml", config_dir)
    stored, issues = load_blueprint(imported.file)
    assert issues == []
    assert stored is not None
    assert stored.source_url == f"{base}/flow.yaml"
    assert stored.placeholders == {"wait"}


def test_import_refuses_to_overwrite_unless_forced(config_dir: Path) -> None:
    source = str(FIXTURES / "motion_light.yaml")
    imported = import_blueprint(source, config_dir)
    imported.file.write_text("# edited by hand\n", encoding="utf-8")
    with pytest.raises(BlueprintImportError) as caught:
        import_blueprint(source, config_dir)
    assert str(caught.value) == (
        "blueprints/automation/home_assistant/motion_light.yaml already exists; "
        "use --force to replace it"
    )
    assert imported.file.read_text(encoding="utf-8") == "# edited by hand\n"
    import_blueprint(source, config_dir, force=True)
    assert imported.file.read_bytes() == (FIXTURES / "motion_light.yaml").read_bytes()


def test_an_invalid_blueprint_is_not_stored(config_dir: Path, served: Served) -> None:
    base, www = served
    (www / "bad.yaml").write_text(
        NO_SOURCE.replace("entity: {filter", "entities: {filter"), encoding="utf-8"
    )
    with pytest.raises(BlueprintError) as caught:
        import_blueprint(f"{base}/bad.yaml", config_dir)
    [issue] = caught.value.issues
    assert str(issue).startswith(
        f"{base}/bad.yaml:7: blueprint.input.gate.selector: unknown selector type 'entities' "
        "(did you mean 'entity'?)"
    )
    assert not (config_dir / "blueprints" / "automation" / "127.0.0.1").exists()


def test_names_in_any_script_make_the_folder(config_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "无人活动.yaml"
    source.write_text(
        NO_SOURCE.replace("  name: Gate left open\n", "  name: 门未关\n  author: 邻里 志愿者\n"),
        encoding="utf-8",
    )
    imported = import_blueprint(str(source), config_dir)
    assert imported.path == "邻里_志愿者/无人活动.yaml"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/bp.yaml",
        "http://127.0.0.1:8123/bp.yaml",
        "http://localhost/bp.yaml",
        "http://[::1]:8080/bp.yaml",
    ],
)
def test_allowed_urls(url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://example.org/bp.yaml",
            "refusing http://example.org/bp.yaml: use https (plain http is only allowed to "
            "this machine)",
        ),
        ("ftp://example.org/bp.yaml", "refusing ftp://example.org/bp.yaml: only https URLs"),
        ("file:///etc/passwd", "refusing file:///etc/passwd: only https URLs"),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(BlueprintImportError, match="^" + re.escape(message)):
        fetch(url)


def test_a_redirect_may_not_downgrade_to_plain_http(served: Served) -> None:
    base, _ = served
    with pytest.raises(BlueprintImportError, match=re.escape("refusing http://example.org/")):
        fetch(f"{base}/redirect?to=http://example.org/bp.yaml")


def test_fetch_limits_the_size(served: Served) -> None:
    base, www = served
    (www / "big.yaml").write_bytes(b"#" * 2048)
    assert fetch(f"{base}/big.yaml", max_bytes=4096) == b"#" * 2048
    with pytest.raises(BlueprintImportError, match="is larger than 1 KiB: not a blueprint"):
        fetch(f"{base}/big.yaml", max_bytes=1024)


def test_fetch_reports_http_errors(served: Served) -> None:
    base, _ = served
    with pytest.raises(BlueprintImportError, match=r"cannot fetch .*/gone.yaml: HTTP 404"):
        fetch(f"{base}/gone.yaml")


def test_github_page_urls_fetch_the_raw_file() -> None:
    assert raw_url("https://github.com/linli/blueprints/blob/main/automation/gate.yaml") == (
        "https://raw.githubusercontent.com/linli/blueprints/main/automation/gate.yaml"
    )
    assert raw_url("https://example.org/gate.yaml") == "https://example.org/gate.yaml"
