"""The core checks service calls made for a user; calls without one run as before."""

from __future__ import annotations

from typing import Any

import pytest

from linli import Context, Unauthorized
from linli.auth import Role, get_auth
from linli.auth.testing import async_user_with_token
from linli.components.alert import get_manager
from linli.hub import Hub
from linli.services import ServiceCall

from .conftest import Community


@pytest.fixture
def calls(served: tuple[Hub, Community]) -> list[ServiceCall]:
    """``light.turn_on`` and ``homeassistant.restart`` registered; their calls land here."""
    hub, _ = served
    made: list[ServiceCall] = []

    async def handle(call: ServiceCall) -> None:
        made.append(call)

    hub.services.async_register("light", "turn_on", handle)
    hub.services.async_register("homeassistant", "restart", handle)
    return made


async def call_as(hub: Hub, user_id: str | None, service: str, data: dict[str, Any]) -> None:
    domain, name = service.split(".")
    await hub.services.async_call(domain, name, data, context=Context(user_id=user_id))


async def test_calls_without_a_user_are_not_checked(
    served: tuple[Hub, Community], calls: list[ServiceCall]
) -> None:
    hub, _ = served
    assert hub.services.permission_check is not None
    await call_as(hub, None, "homeassistant.restart", {})
    await call_as(hub, None, "light.turn_on", {"entity_id": "light.r101"})
    assert len(calls) == 2


async def test_staff_may_target_only_entities_in_their_areas(
    served: tuple[Hub, Community], calls: list[ServiceCall]
) -> None:
    hub, _ = served
    staff, _ = await async_user_with_token(hub, Role.staff, area_ids=["b1"])
    await call_as(hub, staff.id, "light.turn_on", {"entity_id": "light.r101"})
    await call_as(hub, staff.id, "light.turn_on", {"entity_id": ["light.r101", "light.b1_hall"]})
    await call_as(hub, staff.id, "light.turn_on", {"target": {"entity_id": "light.b1_hall"}})
    await call_as(hub, staff.id, "light.turn_on", {"area_id": "b1-u1"})
    await call_as(hub, staff.id, "light.turn_on", {"target": {"device_id": _device_id(hub)}})
    assert len(calls) == 5
    refused = [
        {"entity_id": "sensor.r201_smoke"},
        {"entity_id": ["light.r101", "sensor.r201_smoke"]},
        {"entity_id": "light.r101, sensor.r201_smoke"},
        {"target": {"entity_id": "lock.gate"}},
        {"area_id": "b2"},
        {"target": {"area_id": "community"}},
        {"entity_id": "all"},
        {"entity_id": []},
        {},
    ]
    for data in refused:
        with pytest.raises(Unauthorized) as err:
            await call_as(hub, staff.id, "light.turn_on", data)
        assert err.value.user_id == staff.id, data
        assert err.value.permission == "call_service"
    with pytest.raises(Unauthorized):
        await call_as(hub, staff.id, "homeassistant.restart", {})
    assert len(calls) == 5


async def test_admins_may_call_anything_and_strangers_nothing(
    served: tuple[Hub, Community], calls: list[ServiceCall]
) -> None:
    hub, _ = served
    admin, _ = await async_user_with_token(hub, Role.admin)
    await call_as(hub, admin.id, "homeassistant.restart", {})
    await call_as(hub, admin.id, "light.turn_on", {"entity_id": "all"})
    with pytest.raises(Unauthorized):
        await call_as(hub, "someone-unknown", "light.turn_on", {"entity_id": "light.r101"})
    await get_auth(hub).async_update_user(admin.id, is_active=False)
    with pytest.raises(Unauthorized):
        await call_as(hub, admin.id, "homeassistant.restart", {})
    assert len(calls) == 2


async def test_resident_controls_only_their_rooms(
    served: tuple[Hub, Community], calls: list[ServiceCall]
) -> None:
    hub, community = served
    alice, _ = await async_user_with_token(hub, Role.resident, person_id=community.alice)
    await call_as(hub, alice.id, "light.turn_on", {"entity_id": "light.r101"})
    await call_as(hub, alice.id, "light.turn_on", {"area_id": "r101"})
    for data in ({"entity_id": "sensor.r102_temp"}, {"area_id": "b1"}, {"entity_id": "lock.gate"}):
        with pytest.raises(Unauthorized):
            await call_as(hub, alice.id, "light.turn_on", data)
    assert len(calls) == 2


async def test_alert_services_follow_the_alert_area(served: tuple[Hub, Community]) -> None:
    hub, community = served
    staff_b1, _ = await async_user_with_token(hub, Role.staff, area_ids=["b1"])
    police, _ = await async_user_with_token(hub, Role.police, area_ids=["b2"])
    alice, _ = await async_user_with_token(hub, Role.resident, person_id=community.alice)
    manager = get_manager(hub)

    async def raise_alert(user_id: str | None, **data: Any) -> str:
        response = await hub.services.async_call(
            "alert",
            "raise",
            {"kind": "smoke", "title": "Smoke", **data},
            context=Context(user_id=user_id),
            return_response=True,
        )
        assert response is not None
        return str(response["alert_id"])

    in_b1 = await raise_alert(staff_b1.id, source_entity_id="light.r101")
    in_b2 = await raise_alert(None, area_id="r201")
    with pytest.raises(Unauthorized):
        await raise_alert(staff_b1.id, area_id="r201")
    with pytest.raises(Unauthorized):
        await raise_alert(police.id, area_id="r201")  # police acknowledge and resolve only
    with pytest.raises(Unauthorized):
        await raise_alert(alice.id, area_id="r101")

    with pytest.raises(Unauthorized):
        await call_as(hub, staff_b1.id, "alert.acknowledge", {"alert_id": in_b2})
    await call_as(hub, police.id, "alert.acknowledge", {"alert_id": in_b2})
    with pytest.raises(Unauthorized):
        await call_as(hub, police.id, "alert.dismiss", {"alert_id": in_b2})
    with pytest.raises(Unauthorized):
        await call_as(hub, police.id, "alert.acknowledge", {"alert_id": in_b1})
    with pytest.raises(Unauthorized):
        await call_as(hub, alice.id, "alert.acknowledge", {"alert_id": in_b1})
    await call_as(hub, staff_b1.id, "alert.resolve", {"alert_id": in_b1})
    await call_as(hub, police.id, "alert.resolve", {"alert_id": in_b2})
    first, second = manager.get(in_b1), manager.get(in_b2)
    assert first is not None
    assert first.state == "resolved"
    assert first.area_id == "r101"
    assert second is not None
    assert second.state == "resolved"


def _device_id(hub: Hub) -> str:
    (device,) = list(hub.registries.devices)
    return device.id
