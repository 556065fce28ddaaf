"""Community notices: who they reach, who publishes and withdraws them, expiry by the hub's
clock, validation, the store and the live subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from linli import Event, callback
from linli.components.notice import EVENT_NOTICE_PUBLISHED, NoticeBoard, get_board

if TYPE_CHECKING:
    from linli.clock import FakeClock
    from linli.testing.http import HubClient

AREAS = """
linli:
  areas:
    - id: b1
      kind: building
      name: Building 1
      children:
        - id: b1-f1
          kind: floor
          name: Floor 1
          children:
            - {id: b1-101, kind: room, name: "101"}
    - id: b2
      kind: building
      name: Building 2
      children:
        - id: b2-f2
          kind: floor
          name: Floor 2
          children:
            - {id: b2-201, kind: room, name: "201"}
"""


@pytest.fixture
def hub_config() -> str:
    """Two buildings, one room each."""
    return AREAS


@dataclass
class Community:
    """One client per role: staff of b1, a grid worker of b2-201, root police, a resident
    of b1-101 and one of b2-201."""

    admin: HubClient
    staff: HubClient
    grid: HubClient
    police: HubClient
    resident_b1: HubClient
    resident_b2: HubClient


async def _community(hub_client: HubClient) -> Community:
    people = hub_client.hub.registries.people
    home_1 = people.async_create_household("101", ["b1-101"])
    home_2 = people.async_create_household("201", ["b2-201"])
    wang = people.async_create_person("Wang", household_id=home_1.id)
    li = people.async_create_person("Li", household_id=home_2.id)
    root = hub_client.hub.registries.areas.root_id
    return Community(
        admin=hub_client,
        staff=await hub_client.as_user("staff", name="staff-b1", area_ids=["b1"]),
        grid=await hub_client.as_user("grid_worker", name="grid", area_ids=["b2-201"]),
        police=await hub_client.as_user("police", name="police", area_ids=[root]),
        resident_b1=await hub_client.as_user("resident", name="wang", person_id=wang.id),
        resident_b2=await hub_client.as_user("resident", name="li", person_id=li.id),
    )


async def _titles(client: HubClient) -> list[str]:
    response = await client.get("/api/linli/notices")
    assert response.status == 200
    return [notice["title"] for notice in await response.json()]


async def _publish(client: HubClient, **body: Any) -> tuple[int, Any]:
    response = await client.post("/api/linli/notices", json={"body": "Text.", **body})
    return response.status, await response.json()


async def test_building_notice_reaches_its_residents_only(hub_client: HubClient) -> None:
    """A notice for b1 reaches b1's resident (room under it), staff of b1, police of the
    root and admins; not the resident or grid worker of b2."""
    c = await _community(hub_client)
    status, notice = await _publish(c.staff, title="Water off", area_ids=["b1"])
    assert status == 201, notice
    assert notice["area_ids"] == ["b1"]
    assert notice["author_user_id"] == c.staff.user.id
    assert notice["withdrawn"] is False
    for client in (c.admin, c.staff, c.police, c.resident_b1):
        assert await _titles(client) == ["Water off"]
    for client in (c.grid, c.resident_b2):
        assert await _titles(client) == []


async def test_room_notice_reaches_scopes_above_it(hub_client: HubClient) -> None:
    """A notice for one room reaches staff of its building (the room is in their scope),
    not the other room's resident."""
    c = await _community(hub_client)
    assert (await _publish(c.admin, title="Meter check", area_ids=["b1-101"]))[0] == 201
    assert await _titles(c.staff) == ["Meter check"]
    assert await _titles(c.resident_b1) == ["Meter check"]
    assert await _titles(c.resident_b2) == []


async def test_community_notice_reaches_everyone(hub_client: HubClient, clock: FakeClock) -> None:
    """No areas: the whole community; newest first."""
    c = await _community(hub_client)
    assert (await _publish(c.admin, title="First"))[0] == 201
    clock.advance(60)
    assert (await _publish(c.admin, title="Second", area_ids=[]))[0] == 201
    for client in (c.admin, c.staff, c.grid, c.police, c.resident_b1, c.resident_b2):
        assert await _titles(client) == ["Second", "First"]


async def test_who_may_publish(hub_client: HubClient) -> None:
    """Staff and grid workers only inside their scope; police and residents never; the whole
    community only for a root-scoped publisher."""
    c = await _community(hub_client)
    assert (await _publish(c.staff, title="t", area_ids=["b1-101"]))[0] == 201
    assert (await _publish(c.staff, title="t", area_ids=["b2"]))[0] == 403
    assert (await _publish(c.staff, title="t", area_ids=["b1", "b2"]))[0] == 403
    assert (await _publish(c.staff, title="t"))[0] == 403
    assert (await _publish(c.grid, title="t", area_ids=["b2-201"]))[0] == 201
    assert (await _publish(c.grid, title="t", area_ids=["b2"]))[0] == 403
    assert (await _publish(c.police, title="t", area_ids=["b1"]))[0] == 403
    assert (await _publish(c.resident_b1, title="t", area_ids=["b1-101"]))[0] == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "  ", "body": "x"}, "'title' is empty"),
        ({"title": "t", "body": ""}, "'body' is empty"),
        ({"title": "t", "body": "x" * 4001}, "'body' is longer than 4000"),
        ({"title": "t" * 201, "body": "x"}, "'title' is longer than 200"),
        ({"title": "t", "body": "x", "area_ids": ["nowhere"]}, "unknown areas: nowhere"),
        ({"title": "t", "body": "x", "area_ids": "b1"}, "list of area ids"),
        ({"title": "t", "body": "x", "expires_at": "soon"}, "ISO 8601"),
        ({"title": "t", "body": "x", "expires_at": "2025-01-01T00:00:00Z"}, "in the past"),
        ({"title": "t", "body": "x", "colour": "red"}, "Unknown keys: colour"),
        ({"title": 3, "body": "x"}, "should be text"),
    ],
)
async def test_validation(hub_client: HubClient, body: dict[str, Any], message: str) -> None:
    """Bad input answers 400 with the reason, over REST and (as invalid_format) WebSocket."""
    response = await hub_client.post("/api/linli/notices", json=body)
    assert response.status == 400
    assert message in (await response.json())["message"]
    assert await _titles(hub_client) == []


async def test_body_of_4000_characters_is_accepted(hub_client: HubClient) -> None:
    """The limit is inclusive; surrounding blanks are trimmed."""
    status, notice = await _publish(hub_client, title=" Long ", body="x" * 4000)
    assert status == 201
    assert notice["title"] == "Long"
    assert len(notice["body"]) == 4000


async def test_expiry_follows_the_hub_clock(hub_client: HubClient, clock: FakeClock) -> None:
    """A notice is listed until ``expires_at`` by the hub's clock, not after."""
    c = await _community(hub_client)
    expires = (clock.utcnow().replace(microsecond=0) + timedelta(hours=1)).isoformat()
    status, notice = await _publish(c.admin, title="Lift service", expires_at=expires)
    assert status == 201
    assert notice["expires_at"] == expires
    clock.advance(3599)
    assert await _titles(c.resident_b1) == ["Lift service"]
    clock.advance(1)
    assert await _titles(c.resident_b1) == []
    assert await _titles(c.admin) == []


async def test_withdraw_over_websocket(hub_client: HubClient) -> None:
    """Staff withdraw notices for their areas only; police and residents are refused; a
    missing id is not_found for admins and unauthorized for others."""
    c = await _community(hub_client)
    _, b1 = await _publish(c.staff, title="b1", area_ids=["b1"])
    _, b2 = await _publish(c.admin, title="b2", area_ids=["b2"])
    async with c.police.ws_client() as police:
        assert await police.error("linli/notices/withdraw", notice_id=b1["id"]) == "unauthorized"
    async with c.resident_b1.ws_client() as resident:
        assert await resident.error("linli/notices/withdraw", notice_id=b1["id"]) == (
            "unauthorized"
        )
    async with c.staff.ws_client() as staff:
        assert await staff.error("linli/notices/withdraw", notice_id=b2["id"]) == "unauthorized"
        assert await staff.error("linli/notices/withdraw", notice_id="nope") == "unauthorized"
        withdrawn = await staff.result("linli/notices/withdraw", notice_id=b1["id"])
        assert withdrawn["withdrawn"] is True
        assert withdrawn["withdrawn_at"] is not None
        assert await staff.result("linli/notices/list") == []
    async with c.admin.ws_client() as admin:
        assert await admin.error("linli/notices/withdraw", notice_id="nope") == "not_found"
        assert [n["title"] for n in await admin.result("linli/notices/list")] == ["b2"]


async def test_publish_over_websocket_fires_event(hub_client: HubClient) -> None:
    """``linli/notices/publish`` checks scope and input and fires ``notice_published``."""
    c = await _community(hub_client)
    seen: list[Event[Any]] = []

    @callback
    def listen(event: Event[Any]) -> None:
        seen.append(event)

    hub_client.hub.bus.async_listen(EVENT_NOTICE_PUBLISHED, listen)
    async with c.grid.ws_client() as grid:
        assert (
            await grid.error("linli/notices/publish", title="t", body="x", area_ids=["b1"])
            == "unauthorized"
        )
        assert (
            await grid.error("linli/notices/publish", title="", body="x", area_ids=["b2-201"])
            == "invalid_format"
        )
        notice = await grid.result(
            "linli/notices/publish", title="Parcel", body="At the gate.", area_ids=["b2-201"]
        )
    async with c.resident_b1.ws_client() as resident:
        assert (
            await resident.error("linli/notices/publish", title="t", body="x", area_ids=["b1-101"])
            == "unauthorized"
        )
    assert [event.data["notice"]["id"] for event in seen] == [notice["id"]]
    assert seen[0].context.user_id == c.grid.user.id


async def test_subscription_sends_notices_addressed_to_the_user(hub_client: HubClient) -> None:
    """The subscription sends the list now and again when a notice reaching the user is
    published; a notice for another building sends nothing."""
    c = await _community(hub_client)
    async with c.resident_b1.ws_client() as resident:
        sub = await resident.send("linli/notices/subscribe")
        assert (await resident.wait_for(sub))["success"] is True
        assert (await resident.wait_for(sub, "event"))["event"] == {"notices": []}
        await _publish(c.admin, title="Elsewhere", area_ids=["b2"])
        await _publish(c.staff, title="Here", area_ids=["b1"])
        event = (await resident.wait_for(sub, "event"))["event"]
        assert [notice["title"] for notice in event["notices"]] == ["Here"]
        assert not [m for m in resident.backlog if m.get("type") == "event"]


async def test_notices_survive_a_restart(hub_client: HubClient) -> None:
    """Notices are written to the ``linli.notices`` store and read back."""
    hub = hub_client.hub
    _, notice = await _publish(hub_client, title="Kept", area_ids=["b1"])
    await get_board(hub).async_withdraw(notice["id"])
    await get_board(hub).async_flush()
    board = NoticeBoard(hub)
    await board.async_load()
    again = board.get(notice["id"])
    assert again is not None
    assert again.as_dict() == get_board(hub).get(notice["id"]).as_dict()  # type: ignore[union-attr]
    assert again.withdrawn is True
