"""Start triggers, integration-provided trigger platforms, and validation of unknown ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import voluptuous as vol

from linli.bus import Event
from linli.callback import callback
from linli.clock import CancelCallback
from linli.helpers.trigger import (
    TRIGGER_BASE_SCHEMA,
    TriggerActionType,
    TriggerInfo,
    async_validate_trigger_config,
    valid_triggers,
)
from linli.hub import Hub
from linli.plugins import hookimpl
from linli.plugins.loader import IntegrationLoader

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""
HubFactory = Callable[..., Awaitable[Hub]]


async def test_start_trigger_fires_when_the_hub_has_started(
    hub_factory: HubFactory, attach: Attach
) -> None:
    hub = await hub_factory(start=False)
    fired, _ = await attach(
        hub, [{"platform": "linli_start"}, {"platform": "homeassistant", "event": "start"}]
    )
    assert len(fired) == 0
    await hub.async_start()
    assert [t["platform"] for t in fired.triggers] == ["linli_start", "homeassistant"]
    assert fired.triggers[0]["event"] == "start"


async def test_start_trigger_on_a_running_hub(hub: Hub, attach: Attach) -> None:
    at_once, _ = await attach(hub, {"platform": "linli_start"})
    reloaded, _ = await attach(hub, {"platform": "linli_start"}, hub_start=False)
    await hub.async_block_till_done()
    assert len(at_once) == 1
    assert len(reloaded) == 0


async def test_shutdown_trigger(hub_factory: HubFactory, attach: Attach) -> None:
    hub = await hub_factory()
    fired, _ = await attach(hub, {"platform": "homeassistant", "event": "shutdown"})
    await hub.async_stop()
    assert [t["event"] for t in fired.triggers] == ["shutdown"]


class DoorbellPlatform:
    """An integration's trigger platform: a doorbell button pressed."""

    TRIGGER_SCHEMA = TRIGGER_BASE_SCHEMA.extend(
        {vol.Required("platform"): "doorbell.ring", vol.Required("button"): vol.Coerce(int)}
    )

    async def async_attach_trigger(
        self,
        hub: Hub,
        config: dict[str, Any],
        action: TriggerActionType,
        trigger_info: TriggerInfo,
    ) -> CancelCallback:
        @callback
        def on_ring(event: Event[Any]) -> None:
            if event.data.get("button") == config["button"]:
                action({"button": config["button"], "description": "doorbell"}, event.context)

        return hub.bus.async_listen("doorbell_ring", on_ring)


class DoorbellPlugin:
    """The integration's plugin module, reduced to the hook under test."""

    @hookimpl
    def linli_trigger_platforms(self) -> dict[str, Any]:
        return {"doorbell.ring": DoorbellPlatform()}


async def test_an_integration_platform(hub: Hub, attach: Attach) -> None:
    IntegrationLoader(hub).register(DoorbellPlugin(), name="doorbell")
    fired, _ = await attach(hub, {"trigger": "doorbell.ring", "button": "2", "id": "ring"})
    hub.bus.async_fire("doorbell_ring", {"button": 1})
    hub.bus.async_fire("doorbell_ring", {"button": 2})
    assert fired.triggers == [
        {
            "platform": "doorbell.ring",
            "id": "ring",
            "idx": "0",
            "alias": None,
            "button": 2,
            "description": "doorbell",
        }
    ]


async def test_integration_schema_and_unknown_platforms_are_reported(hub: Hub) -> None:
    IntegrationLoader(hub).register(DoorbellPlugin(), name="doorbell")
    configs = valid_triggers([{"platform": "state", "entity_id": "a.b"}, {"platform": "doorbel"}])
    with pytest.raises(vol.Invalid, match="unknown trigger platform 'doorbel'") as err:
        await async_validate_trigger_config(hub, configs)
    assert err.value.path == [1, "platform"]
    assert "doorbell.ring" in str(err.value)

    configs = valid_triggers([{"platform": "doorbell.ring", "button": "x"}])
    with pytest.raises(vol.Invalid) as err:
        await async_validate_trigger_config(hub, configs)
    assert err.value.path == [0, "button"]


def test_a_trigger_needs_a_platform() -> None:
    with pytest.raises(vol.Invalid) as err:
        valid_triggers([{"entity_id": "light.a"}])
    assert "platform" in str(err.value)
