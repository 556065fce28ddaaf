"""The plugin loader: dependency order, cycles, timeouts, failure isolation, teardown."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import voluptuous as vol

from linli import (
    ConfigType,
    Event,
    Hub,
    HubState,
    Integration,
    Manifest,
    SetupNotReady,
    callback,
    hookimpl,
)
from linli.clock import FakeClock
from linli.plugins.loader import IntegrationLoader, Status

Setup = Callable[[Hub, ConfigType], Awaitable[bool | None]]


class Recorder:
    """Collects the order in which integrations were set up and unloaded."""

    def __init__(self) -> None:
        self.setup: list[str] = []
        self.unloaded: list[str] = []
        self.configs: dict[str, ConfigType] = {}


def make_plugin(
    recorder: Recorder,
    domain: str,
    *,
    dependencies: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
    setup: Setup | None = None,
    timeout: float = 5.0,
    schema: Any = None,
) -> object:
    """A plugin object whose integration records its lifecycle."""

    async def default_setup(hub: Hub, config: ConfigType) -> bool:
        await asyncio.sleep(0)
        recorder.setup.append(domain)
        recorder.configs[domain] = config
        return True

    async def unload(hub: Hub) -> None:
        recorder.unloaded.append(domain)

    integration = Integration(
        Manifest(
            domain=domain,
            name=domain.title(),
            dependencies=dependencies,
            after_dependencies=after,
            setup_timeout=timeout,
        ),
        setup or default_setup,
        unload,
        schema,
    )

    class Plugin:
        @hookimpl
        def linli_integration(self, core_version: str) -> Integration:
            assert core_version
            return integration

    return Plugin()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def setup_hub(
    hub_factory: Callable[..., Awaitable[Hub]],
    plugins: list[tuple[str, object]],
    config: dict[str, Any],
) -> tuple[Hub, IntegrationLoader]:
    hub = await hub_factory(start=False)
    loader = IntegrationLoader(hub)
    for name, plugin in plugins:
        loader.register(plugin, name=name)
    await loader.async_setup_all(config)
    await hub.async_start()
    return hub, loader


async def test_dependencies_set_up_first_and_teardown_reverses(hub_factory, recorder):
    plugins = [
        ("app", make_plugin(recorder, "app", dependencies=("transport",), after=("store",))),
        ("store", make_plugin(recorder, "store", dependencies=("transport",))),
        ("transport", make_plugin(recorder, "transport")),
    ]
    hub, loader = await setup_hub(hub_factory, plugins, {"app": {}, "store": None})
    assert recorder.setup.index("transport") < recorder.setup.index("store")
    assert recorder.setup.index("store") < recorder.setup.index("app")
    # transport was not configured but is pulled in as a dependency, with an empty config
    assert loader.records["transport"].status is Status.loaded
    assert not loader.records["transport"].configured
    assert recorder.configs["transport"] == {}
    await hub.async_stop()
    assert recorder.unloaded == list(reversed(recorder.setup))
    assert all(r.status is Status.unloaded for r in loader.records.values())


async def test_after_dependency_only_orders_when_configured(hub_factory, recorder):
    plugins = [
        ("app", make_plugin(recorder, "app", after=("optional",))),
        ("optional", make_plugin(recorder, "optional")),
    ]
    _, loader = await setup_hub(hub_factory, plugins, {"app": {}})
    assert recorder.setup == ["app"]
    assert loader.records["optional"].status is Status.installed


async def test_cycle_is_reported_and_the_rest_starts(hub_factory, recorder):
    plugins = [
        ("a", make_plugin(recorder, "a", dependencies=("b",))),
        ("b", make_plugin(recorder, "b", dependencies=("c",))),
        ("c", make_plugin(recorder, "c", dependencies=("a",))),
        ("ok", make_plugin(recorder, "ok")),
    ]
    hub, loader = await setup_hub(hub_factory, plugins, {"a": {}, "ok": {}})
    assert recorder.setup == ["ok"]
    for domain in "abc":
        record = loader.records[domain]
        assert record.status in (Status.failed, Status.skipped)
    reason = loader.records["a"].reason or ""
    assert "dependency cycle" in reason
    assert "a → b → c → a" in reason or "b → c → a → b" in reason or "c → a → b → c" in reason
    assert hub.state is HubState.running


async def test_setup_error_skips_dependants_and_keeps_the_rest(hub_factory, recorder, caplog):
    async def broken(hub: Hub, config: ConfigType) -> bool:
        hub.services.async_register("broken", "poke", lambda call: None)

        @callback
        def leftover(event: Event[Any]) -> None:
            raise AssertionError("a failed integration's listener must be removed")

        hub.bus.async_listen("ping", leftover)
        raise RuntimeError("camera firmware too old")

    async def good(hub: Hub, config: ConfigType) -> bool:
        recorder.setup.append("good")

        async def hello(call: Any) -> dict[str, str]:
            return {"hello": "world"}

        from linli import SupportsResponse

        hub.services.async_register("good", "hello", hello, supports_response=SupportsResponse.ONLY)
        return True

    plugins = [
        ("broken", make_plugin(recorder, "broken", setup=broken)),
        ("needs_broken", make_plugin(recorder, "needs_broken", dependencies=("broken",))),
        ("good", make_plugin(recorder, "good", setup=good)),
    ]
    hub, loader = await setup_hub(
        hub_factory, plugins, {"broken": {}, "needs_broken": {}, "good": {}}
    )
    broken_record = loader.records["broken"]
    assert broken_record.status is Status.failed
    assert broken_record.reason == "RuntimeError: camera firmware too old"
    assert "Error setting up broken" in caplog.text
    dependant = loader.records["needs_broken"]
    assert dependant.status is Status.skipped
    assert "dependency 'broken' failed" in (dependant.reason or "")
    # The rest of the hub runs: the good integration answers, the failed one left nothing.
    assert hub.state is HubState.running
    assert await hub.services.async_call("good", "hello", return_response=True) == {
        "hello": "world"
    }
    assert not hub.services.has_service("broken", "poke")
    hub.bus.async_fire("ping")
    await hub.async_block_till_done()


async def test_hanging_setup_times_out_and_the_rest_starts(hub_factory, recorder):
    async def hang(hub: Hub, config: ConfigType) -> bool:
        await asyncio.Event().wait()
        return True

    plugins = [
        ("slow", make_plugin(recorder, "slow", setup=hang, timeout=0.2)),
        ("fast", make_plugin(recorder, "fast")),
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    hub, loader = await setup_hub(hub_factory, plugins, {"slow": {}, "fast": {}})
    assert loop.time() - started < 2
    assert loader.records["slow"].status is Status.failed
    assert loader.records["slow"].reason == "setup timed out after 0.2 s"
    assert loader.records["fast"].status is Status.loaded
    assert hub.state is HubState.running


async def test_returning_false_is_a_failure(hub_factory, recorder):
    async def refuse(hub: Hub, config: ConfigType) -> bool:
        return False

    _, loader = await setup_hub(
        hub_factory, [("no", make_plugin(recorder, "no", setup=refuse))], {"no": {}}
    )
    assert loader.records["no"].status is Status.failed
    assert loader.records["no"].reason == "setup returned False"


async def test_setup_failed_and_auth_failed_are_reported_as_such(hub_factory, recorder):
    from linli import SetupAuthFailed, SetupFailed

    async def no_licence(hub: Hub, config: ConfigType) -> bool:
        raise SetupFailed("licence file missing: put it in the config dir")

    async def bad_password(hub: Hub, config: ConfigType) -> bool:
        raise SetupAuthFailed("camera rejected user admin")

    _, loader = await setup_hub(
        hub_factory,
        [
            ("lic", make_plugin(recorder, "lic", setup=no_licence)),
            ("cam", make_plugin(recorder, "cam", setup=bad_password)),
        ],
        {"lic": {}, "cam": {}},
    )
    assert loader.records["lic"].status is Status.failed
    assert loader.records["lic"].reason == "licence file missing: put it in the config dir"
    assert loader.records["cam"].reason == "authentication failed: camera rejected user admin"


async def test_configured_but_not_installed_names_the_package(hub_factory, recorder):
    plugins = [("app", make_plugin(recorder, "app", dependencies=("weather_station",)))]
    _, loader = await setup_hub(hub_factory, plugins, {"bike_shed": {}, "app": {}})
    record = loader.records["bike_shed"]
    assert record.status is Status.not_installed
    assert record.reason == "not installed: pip install linli-bike-shed"
    assert loader.records["weather_station"].status is Status.not_installed
    assert loader.records["app"].status is Status.skipped
    assert "weather_station" in (loader.records["app"].reason or "")


async def test_invalid_config_fails_only_that_integration(hub_factory, recorder):
    schema = vol.Schema({vol.Required("port"): int})
    plugins = [
        ("strict", make_plugin(recorder, "strict", schema=schema)),
        ("other", make_plugin(recorder, "other")),
    ]
    _, loader = await setup_hub(hub_factory, plugins, {"strict": {"port": "x"}, "other": {}})
    record = loader.records["strict"]
    assert record.status is Status.failed
    assert "invalid configuration" in (record.reason or "")
    assert "strict.port" in (record.reason or "")
    assert loader.records["other"].status is Status.loaded


async def test_not_ready_is_retried_and_then_dependants_start(
    hub_factory, recorder, clock: FakeClock
):
    attempts = 0

    async def flaky(hub: Hub, config: ConfigType) -> bool:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise SetupNotReady("broker not answering")
        recorder.setup.append("flaky")
        return True

    plugins = [
        ("flaky", make_plugin(recorder, "flaky", setup=flaky)),
        ("user", make_plugin(recorder, "user", dependencies=("flaky",))),
    ]
    hub, loader = await setup_hub(hub_factory, plugins, {"flaky": {}, "user": {}})
    assert loader.records["flaky"].status is Status.retrying
    assert "broker not answering" in (loader.records["flaky"].reason or "")
    assert loader.records["user"].status is Status.skipped
    clock.advance(5)
    await hub.async_block_till_done()
    assert attempts == 2
    assert loader.records["flaky"].status is Status.loaded
    assert loader.records["user"].status is Status.loaded
    assert recorder.setup == ["flaky", "user"]


async def test_listeners_registered_in_setup_are_owned_by_the_integration(
    hub_factory, recorder, caplog
):
    async def setup(hub: Hub, config: ConfigType) -> bool:
        @callback
        def explode(event: Event[Any]) -> None:
            raise ValueError("bad payload")

        hub.bus.async_listen("device_message", explode)
        return True

    hub, _ = await setup_hub(
        hub_factory, [("gate", make_plugin(recorder, "gate", setup=setup))], {"gate": {}}
    )
    hub.bus.async_fire("device_message")
    assert "Error in gate listener" in caplog.text


async def test_broken_entry_point_is_reported_and_others_load(hub_factory, recorder):
    hub = await hub_factory(start=False)
    loader = IntegrationLoader(hub)
    bad = importlib.metadata.EntryPoint(
        name="ghost", value="linli_ghost_module_that_does_not_exist", group="linli"
    )
    loader.discover([bad])
    loader.register(make_plugin(recorder, "ok"), name="ok")
    await loader.async_setup_all({"ghost": {}, "ok": {}})
    assert loader.records["ghost"].status is Status.broken
    assert "ModuleNotFoundError" in (loader.records["ghost"].reason or "")
    assert loader.records["ok"].status is Status.loaded


async def test_same_domain_twice_is_reported(hub_factory, recorder):
    hub = await hub_factory(start=False)
    loader = IntegrationLoader(hub)
    loader.register(make_plugin(recorder, "dup"), name="first")
    loader.register(make_plugin(recorder, "dup"), name="second")
    assert loader.records["dup"].status is Status.broken
    assert "provided twice" in (loader.records["dup"].reason or "")


async def test_status_file_tells_the_cli_what_happened(hub_factory, recorder):
    async def boom(hub: Hub, config: ConfigType) -> None:
        raise OSError("no such device")

    hub, _ = await setup_hub(
        hub_factory,
        [("x", make_plugin(recorder, "x", setup=boom)), ("y", make_plugin(recorder, "y"))],
        {"x": {}, "y": {}},
    )
    await hub.async_block_till_done()
    saved = json.loads((hub.storage_dir / "integrations.json").read_text())
    by_domain = {item["domain"]: item for item in saved["integrations"]}
    assert by_domain["x"]["status"] == "failed"
    assert by_domain["x"]["reason"] == "OSError: no such device"
    assert by_domain["y"]["status"] == "loaded"
    assert by_domain["y"]["setup_seconds"] >= 0


def test_manifest_rejects_bad_domains():
    with pytest.raises(ValueError, match="domain 'Bad-Domain'"):
        Manifest(domain="Bad-Domain", name="x")
    with pytest.raises(ValueError, match="cannot depend on itself"):
        Manifest(domain="loop", name="x", dependencies=("loop",))
    assert Manifest(domain="plate_gate", name="x").distribution == "linli-plate-gate"
