"""The access policy, role by role, on real registries (areas, devices, entities, people)."""

from __future__ import annotations

import time
from typing import Any

from linli import Event
from linli.auth import AuthManager, Role
from linli.auth.testing import async_user_with_token
from linli.hub import Hub
from linli.state import State

from .conftest import Community

ALL_ENTITIES = {
    "light.r101",
    "sensor.r102_temp",
    "light.b1_hall",
    "sensor.r201_smoke",
    "lock.gate",
    "sensor.no_area",
    "sensor.unregistered",
}


def readable(hub: Hub, auth: AuthManager, user: Any) -> set[str]:
    return {
        state.entity_id for state in auth.permissions(user).filter_states(hub.states.async_all())
    }


def state_event(entity_id: str) -> Event[Any]:
    return Event("state_changed", {"entity_id": entity_id})


def alert_event(area_id: str | None) -> Event[Any]:
    return Event("alert_raised", {"alert_id": "a1", "alert": {"id": "a1", "area_id": area_id}})


async def test_admin_sees_and_does_everything(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    admin, _ = await async_user_with_token(hub, Role.admin)
    perms = auth.permissions(admin)
    assert perms.is_admin
    assert perms.can_admin
    assert not perms.audits_personal_data
    assert readable(hub, auth, admin) == ALL_ENTITIES
    assert perms.can_read_event(Event("call_service", {}))
    assert perms.can_call_service("homeassistant", "restart", None)
    assert perms.can_read_household(community.h201)
    assert perms.area_in_scope(None)


async def test_staff_sees_their_building_subtree_only(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    staff, _ = await async_user_with_token(hub, Role.staff, area_ids=["b1"])
    perms = auth.permissions(staff)
    assert not perms.is_admin
    assert not perms.can_admin
    assert perms.audits_personal_data
    # light.r101 by its own area, sensor.r102_temp through its device, light.b1_hall in b1.
    assert readable(hub, auth, staff) == {"light.r101", "sensor.r102_temp", "light.b1_hall"}
    assert perms.can_control_entity("sensor.r102_temp")
    assert not perms.can_read_entity("sensor.r201_smoke")
    assert not perms.can_read_entity("sensor.no_area")  # no area: the root, out of scope
    assert not perms.can_read_entity("sensor.unregistered")
    assert perms.area_in_scope("r102")
    assert perms.area_in_scope("b1")
    assert not perms.area_in_scope("b2")
    assert not perms.area_in_scope(None)
    assert perms.can_read_event(state_event("light.r101"))
    assert not perms.can_read_event(state_event("sensor.r201_smoke"))
    assert perms.can_read_event(alert_event("r101"))
    assert not perms.can_read_event(alert_event("gate"))
    assert not perms.can_read_event(Event("call_service", {"domain": "light"}))
    assert perms.can_read_household(community.h101)
    assert not perms.can_read_household(community.h201)
    assert perms.can_read_person(community.alice)
    assert not perms.can_read_person(community.bob)
    assert perms.can_call_service("light", "turn_on", ["light.r101", "light.b1_hall"])
    assert not perms.can_call_service("light", "turn_on", ["light.r101", "sensor.r201_smoke"])
    assert not perms.can_call_service("homeassistant", "restart", None)
    assert perms.can_call_service("alert", "assign", None)
    assert perms.can_read_alert({"area_id": "r102"})
    assert perms.can_manage_alert({"area_id": "b1"})
    assert not perms.can_read_alert({"area_id": "b2"})


async def test_root_scoped_grid_worker_sees_everything_in_the_community(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    worker, _ = await async_user_with_token(hub, Role.grid_worker, area_ids=["community"])
    perms = auth.permissions(worker)
    assert readable(hub, auth, worker) == ALL_ENTITIES
    assert perms.area_in_scope(None)
    assert perms.can_read_household(community.h201)
    assert not perms.can_admin
    assert not perms.can_read_event(Event("automation_triggered", {}))


async def test_police_see_alerts_in_scope_but_no_states(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    police, _ = await async_user_with_token(hub, Role.police, area_ids=["community"])
    perms = auth.permissions(police)
    assert perms.audits_personal_data
    assert readable(hub, auth, police) == set()
    assert not perms.can_read_entity("lock.gate")
    assert not perms.can_read_event(state_event("lock.gate"))
    assert perms.can_read_event(alert_event("gate"))
    assert perms.can_read_alert({"area_id": "r201"})
    assert perms.can_manage_alert({"area_id": "r201"})
    assert perms.can_call_service("alert", "acknowledge", None)
    assert perms.can_call_service("alert", "resolve", None)
    assert not perms.can_call_service("alert", "dismiss", None)
    assert not perms.can_call_service("lock", "unlock", ["lock.gate"])
    assert not perms.can_read_household(community.h101)


async def test_resident_is_scoped_to_their_household_rooms(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    resident, _ = await async_user_with_token(hub, Role.resident, person_id=community.alice)
    perms = auth.permissions(resident)
    assert not perms.audits_personal_data
    assert readable(hub, auth, resident) == {"light.r101"}
    assert perms.can_control_entity("light.r101")
    assert not perms.can_read_entity("sensor.r102_temp")  # the neighbour's room
    assert perms.can_read_alert({"area_id": "r101"})
    assert not perms.can_manage_alert({"area_id": "r101"})
    assert not perms.can_read_alert({"area_id": "b1"})
    assert perms.can_read_household(community.h101)
    assert not perms.can_read_household(community.h201)
    assert perms.can_read_person(community.alice)
    assert not perms.can_read_person(community.bob)
    assert perms.can_read_event(state_event("light.r101"))
    assert not perms.can_read_event(state_event("sensor.r201_smoke"))
    assert not perms.can_read_event(Event("household_registry_updated", {}))
    assert not perms.can_call_service("alert", "acknowledge", None)
    assert perms.can_call_service("light", "turn_off", ["light.r101"])


async def test_non_admins_without_areas_see_nothing(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    for role in (Role.staff, Role.grid_worker, Role.police, Role.resident):
        user, _ = await async_user_with_token(hub, role)
        perms = auth.permissions(user)
        assert readable(hub, auth, user) == set(), role
        assert not perms.area_in_scope("r101"), role
        assert not perms.area_in_scope(None), role
        assert not perms.can_read_household(community.h101), role
        assert not perms.can_read_event(alert_event("r101")), role


async def test_scopes_follow_registry_changes(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    staff, _ = await async_user_with_token(hub, Role.staff, area_ids=["b2"])
    resident, _ = await async_user_with_token(hub, Role.resident, person_id=community.bob)
    staff_perms, resident_perms = auth.permissions(staff), auth.permissions(resident)
    assert auth.permissions(staff) is staff_perms  # cached per user
    assert readable(hub, auth, staff) == {"sensor.r201_smoke"}

    reg = hub.registries
    reg.entities.async_update_entity("light.r101", area_id="r201")  # moved into b2
    assert readable(hub, auth, staff) == {"sensor.r201_smoke", "light.r101"}

    reg.areas.async_create("room", "202", "b2-f1", id="r202")
    reg.entities.async_get_or_create(
        "light", "test", "l202", suggested_object_id="r202", area_id="r202"
    )
    hub.states.async_set("light.r202", "off")
    assert "light.r202" in readable(hub, auth, staff)
    assert not resident_perms.can_read_entity("light.r202")

    reg.people.async_update_household(community.h201, room_ids=["r201", "r202"])
    assert resident_perms.can_read_entity("light.r202")

    device = next(iter(reg.devices))
    reg.devices.async_update(device.id, area_id="r201")  # the thermostat moves too
    assert staff_perms.can_read_entity("sensor.r102_temp")

    reg.people.async_update_person(community.bob, household_id=community.h101)
    assert resident_perms.can_read_household(community.h101)
    assert not resident_perms.can_read_household(community.h201)


async def test_inactive_user_has_no_rights(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    admin, _ = await async_user_with_token(hub, Role.admin)
    admin = await auth.async_update_user(admin.id, is_active=False)
    perms = auth.permissions(admin)
    assert not perms.is_admin
    assert readable(hub, auth, admin) == set()
    assert not perms.can_call_service("light", "turn_on", ["light.r101"])


async def test_filter_states_over_ten_thousand_states_is_cheap(
    hub: Hub, auth: AuthManager, community: Community
) -> None:
    """Once per registry change the scope is computed; each filter is then a set lookup."""
    entities = hub.registries.entities
    for index in range(10_000):
        area = ("r101", "r102", "r201", "gate")[index % 4]
        entry = entities.async_get_or_create(
            "sensor", "bulk", f"s{index}", suggested_object_id=f"bulk_{index}", area_id=area
        )
        hub.states.async_set(entry.entity_id, str(index))
    staff, _ = await async_user_with_token(hub, Role.staff, area_ids=["b1"])
    perms = auth.permissions(staff)
    states: list[State] = hub.states.async_all()
    assert len(states) > 10_000
    assert len(perms.filter_states(states)) == 5_000 + 3  # r101, r102 bulk + the three in b1
    started = time.perf_counter()
    for _ in range(20):
        perms.filter_states(states)
    per_call = (time.perf_counter() - started) / 20
    # Generous for a loaded CI machine; on a laptop one filter takes well under a millisecond.
    assert per_call < 0.02, f"filter_states took {per_call * 1000:.1f} ms"
