"""Bringing a hub up from a config dir, and checking a config dir without running it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from linli import ConfigType, Hub, HubState, Integration, Manifest, hookimpl
from linli.bootstrap import async_setup_hub, check_config_dir
from linli.clock import FakeClock
from linli.config import ConfigError
from linli.plugins.loader import Status

EXAMPLE = Path(__file__).parents[2] / "config_example"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


class GatePlugin:
    """A small integration used to watch the bootstrap hand it its config."""

    def __init__(self) -> None:
        self.config: ConfigType | None = None

    @hookimpl
    def linli_integration(self) -> Integration:
        async def setup(hub: Hub, config: ConfigType) -> bool:
            self.config = config
            hub.states.async_set("lock.north_gate", "locked")
            return True

        schema = vol.Schema({vol.Optional("open_seconds", default=10): vol.Coerce(int)})
        return Integration(Manifest(domain="gate", name="Gate"), setup, None, schema)


async def test_hub_starts_from_a_config_dir(tmp_path: Path, clock: FakeClock) -> None:
    write(
        tmp_path,
        "configuration.yaml",
        """
        linli:
          name: {zh-CN: 幸福里小区, en: Xingfuli}
          time_zone: Asia/Shanghai
          latitude: 28.2
          longitude: 112.9
          language: en
          areas:
            - id: b1
              kind: building
              name: {zh-CN: 1号楼, en: Building 1}
              floors: {to: 3, rooms: ["01"]}
        gate:
          open_seconds: "15"
        """,
    )
    plugin = GatePlugin()
    hub = await async_setup_hub(tmp_path, clock=clock, plugins=[("gate", plugin)], discover=False)
    try:
        assert hub.state is HubState.running
        assert hub.config.name == "Xingfuli"
        assert hub.config.language == "en"
        assert hub.config.latitude == pytest.approx(28.2)
        assert plugin.config == {"open_seconds": 15}
        assert hub.states.is_state("lock.north_gate", "locked")
        areas = hub.registries.areas
        assert areas.display_name("b1", "zh-CN") == "1号楼"
        rooms = sorted(a.name for a in areas.async_get_by_kind("room"))
        assert rooms == ["101", "201", "301"]
        assert hub.loader is not None
        assert hub.loader.records["gate"].status is Status.loaded
    finally:
        await hub.async_stop()


async def test_bad_core_section_stops_the_start_with_file_and_line(
    tmp_path: Path, clock: FakeClock
) -> None:
    write(
        tmp_path,
        "configuration.yaml",
        """
        linli:
          name: 测试
          time_zone: Mars/Olympus
          latitude: 123
        """,
    )
    with pytest.raises(ConfigError) as caught:
        await async_setup_hub(tmp_path, clock=clock, discover=False)
    messages = sorted(str(issue) for issue in caught.value.issues)
    assert messages == [
        "configuration.yaml:3: linli.time_zone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name like Asia/Shanghai)",
        "configuration.yaml:4: linli.latitude: value must be at most 90, got 123",
    ]


async def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no configuration\.yaml"):
        await async_setup_hub(tmp_path, discover=False)


async def test_invalid_integration_section_fails_only_that_integration(
    tmp_path: Path, clock: FakeClock
) -> None:
    write(
        tmp_path,
        "configuration.yaml",
        """
        linli:
          name: 测试
        gate:
          open_seconds: soon
        """,
    )
    hub = await async_setup_hub(
        tmp_path, clock=clock, plugins=[("gate", GatePlugin())], discover=False
    )
    try:
        assert hub.state is HubState.running
        assert hub.loader is not None
        record = hub.loader.records["gate"]
        assert record.status is Status.failed
        assert "configuration.yaml:4: gate.open_seconds" in (record.reason or "")
    finally:
        await hub.async_stop()


async def test_area_tree_clash_with_a_user_area_is_a_config_error(
    tmp_path: Path, clock: FakeClock
) -> None:
    write(tmp_path, "configuration.yaml", "linli:\n  name: 测试\n")
    hub = await async_setup_hub(tmp_path, clock=clock, discover=False)
    hub.registries.areas.async_create("building", "B9", id="b9")
    await hub.async_stop()
    write(
        tmp_path,
        "configuration.yaml",
        """
        linli:
          name: 测试
          areas:
            - {id: b9, kind: building, name: 9号楼}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        await async_setup_hub(tmp_path, clock=clock, discover=False)
    (issue,) = caught.value.issues
    assert issue.file == "configuration.yaml"
    assert issue.line == 3
    assert "b9" in issue.message


def test_example_configuration_is_valid() -> None:
    assert check_config_dir(EXAMPLE) == []


def test_check_reports_each_problem_once_with_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    write(
        tmp_path,
        "configuration.yaml",
        """
        linli:
          name: 测试小区
          areas: !include areas.yaml

        demo:
          update_intervall: 5
          seed: !secret demo_seed
        bike_shed:
          racks: [north]
        """,
    )
    write(tmp_path, "secrets.yaml", "other_secret: 1\n")
    areas = (tmp_path / "areas.yaml").read_text(encoding="utf-8").splitlines()
    areas[2] = "  kind: building: oops"
    (tmp_path / "areas.yaml").write_text("\n".join(areas) + "\n", encoding="utf-8")

    found = [str(issue) for issue in check_config_dir(tmp_path)]

    assert found == [
        "areas.yaml:3: invalid YAML: mapping values are not allowed in this context",
        "configuration.yaml:7: secret 'demo_seed' is not defined (looked in secrets.yaml)",
        "configuration.yaml:6: demo.update_intervall: unknown key 'update_intervall' "
        "(did you mean 'update_interval'?)",
        "configuration.yaml:8: bike_shed: integration 'bike_shed' is not installed "
        "(pip install linli-bike-shed)",
    ]


def test_check_reports_dependency_cycles(tmp_path: Path) -> None:
    def plugin(domain: str, dep: str) -> Any:
        class Plugin:
            @hookimpl
            def linli_integration(self) -> Integration:
                async def setup(hub: Hub, config: ConfigType) -> bool:
                    return True

                return Integration(Manifest(domain=domain, name=domain, dependencies=(dep,)), setup)

        return Plugin()

    write(tmp_path, "configuration.yaml", "egg:\nchicken:\n")
    found = [
        str(i)
        for i in check_config_dir(
            tmp_path, [("egg", plugin("egg", "chicken")), ("chicken", plugin("chicken", "egg"))]
        )
    ]
    assert len(found) == 2
    assert all("dependency cycle" in text for text in found)
    assert found[0].startswith("configuration.yaml:2: chicken:")
    assert found[1].startswith("configuration.yaml:1: egg:")
