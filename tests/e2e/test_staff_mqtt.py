"""The acceptance point: a device event sent over MQTT raises an alert (through an automation)
that appears on the staff board within a second, without reloading the page."""

from __future__ import annotations

import json
import time

import pytest
from playwright.async_api import expect

import linli_frontend
import linli_mqtt
from linli.components.alert import get_manager
from linli.testing.community import SAMPLE_AREAS, async_build_community
from linli.testing.http import HubClient
from linli_mqtt.testing import (
    PeerFactory,
    mqtt_base_topic,
    mqtt_broker,
    mqtt_peer,
    mqtt_section,
)

from .conftest import UI, EvidencePlugin, async_set_password

__all__ = ["mqtt_base_topic", "mqtt_broker", "mqtt_peer"]


@pytest.fixture
def hub_config(mqtt_base_topic: str, mqtt_broker: tuple[str, int]) -> str:
    """The sample community and the web UI, mqtt on the shared broker under this test's own
    topics, and an automation raising an alert when a lift reports an e-bike."""
    return (
        SAMPLE_AREAS
        + "\nfrontend:\n"
        + mqtt_section(mqtt_broker, mqtt_base_topic, discovery=True)
        + """automation:
  - id: ebike_in_lift
    alias: E-bike in the lift
    triggers:
      - trigger: event
        event_type: linli_device_event
        event_data: {kind: lift, type: ebike_entered}
    actions:
      - alert:
          kind: ebike_in_elevator
          severity: warning
          title: "E-bike in lift {{ trigger.event.data.device_id }}"
          area_id: b1-u1
"""
    )


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The web UI, the evidence view and the mqtt integration."""
    return [
        ("frontend", linli_frontend),
        ("e2e_evidence", EvidencePlugin()),
        ("mqtt", linli_mqtt),
    ]


async def test_mqtt_device_event_reaches_board_within_a_second(
    ui: UI, hub_client: HubClient, mqtt_peer: PeerFactory, mqtt_base_topic: str
) -> None:
    """A lift publishes an e-bike event; the staff board shows the alert within 1 s."""
    community = await async_build_community(hub_client)
    name = await async_set_password(community.staff)
    await ui.open()
    await ui.login(name)
    await ui.page.locator("#nav a[href='#/alerts']").click()
    await expect(ui.page.locator("#live-state")).to_have_text("实时")
    await expect(ui.page.locator("#alert-empty")).to_be_visible()

    lift = await mqtt_peer()
    payload = {"v": 1, "id": "b1-l1-000042", "event": "ebike_entered", "floor": 1}
    started = time.perf_counter()
    await lift.async_publish(f"{mqtt_base_topic}/linli/lift/b1-l1/event", json.dumps(payload))
    card = ui.page.locator("#alert-list [data-alert-id]")
    await card.first.wait_for(timeout=1000)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"the alert took {elapsed:.2f} s to appear"
    await expect(card.get_by_role("heading")).to_have_text("E-bike in lift b1-l1")
    await expect(card).to_contain_text("警告")
    await ui.screenshot("staff-mqtt-alert")

    alert_id = await card.get_attribute("data-alert-id")
    alert = get_manager(hub_client.hub).get(str(alert_id))
    assert alert is not None
    assert alert.kind == "ebike_in_elevator"
    assert alert.area_id == "b1-u1"
