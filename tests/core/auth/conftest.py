"""Fixtures for the auth tests: a hub with a real database, an auth manager, an area tree.

The community used throughout::

    community
    ├── b1 (building)
    │   └── b1-u1 (unit) ── b1-u1-f1 (floor) ── r101, r102 (rooms)
    │   light.b1_hall (in b1)
    ├── b2 (building) ── b2-f1 (floor) ── r201 (room)
    └── gate (zone)

Entities: light.r101 (own area r101), sensor.r102_temp (through its device in r102),
light.b1_hall (b1), sensor.r201_smoke (r201), lock.gate (gate), sensor.no_area (registered,
no area) and sensor.unregistered (a state only). Households: h101 (r101, Alice) and
h201 (r201, Bob).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.auth import AUTH_MANAGER, AuthConfig, AuthManager
from linli.bootstrap import async_setup_hub
from linli.clock import FakeClock
from linli.db import DATABASE, Database
from linli.db.testing import db_url, sqlite_url
from linli.hub import Hub, HubState

__all__ = ["db_url"]


@dataclass(slots=True)
class Community:
    """Ids of the test community's households and persons."""

    h101: str
    h201: str
    alice: str
    bob: str


def build_community(hub: Hub) -> Community:
    """Create the area tree, devices, entities, households and persons described above."""
    reg = hub.registries
    areas = reg.areas
    areas.async_create("building", "1号楼", id="b1")
    areas.async_create("unit", "1单元", "b1", id="b1-u1")
    areas.async_create("floor", "1层", "b1-u1", id="b1-u1-f1", floor_number=1)
    areas.async_create("room", "101", "b1-u1-f1", id="r101")
    areas.async_create("room", "102", "b1-u1-f1", id="r102")
    areas.async_create("building", "2号楼", id="b2")
    areas.async_create("floor", "1层", "b2", id="b2-f1", floor_number=1)
    areas.async_create("room", "201", "b2-f1", id="r201")
    areas.async_create("zone", "东门", id="gate")
    device = reg.devices.async_get_or_create(
        "test", identifiers=[("test", "thermo-102")], name="Thermo", area_id="r102"
    )
    entities = reg.entities
    entities.async_get_or_create(
        "light", "test", "l101", suggested_object_id="r101", area_id="r101"
    )
    entities.async_get_or_create(
        "sensor", "test", "t102", suggested_object_id="r102_temp", device_id=device.id
    )
    entities.async_get_or_create(
        "light", "test", "hall", suggested_object_id="b1_hall", area_id="b1"
    )
    entities.async_get_or_create(
        "sensor", "test", "s201", suggested_object_id="r201_smoke", area_id="r201"
    )
    entities.async_get_or_create("lock", "test", "gate", suggested_object_id="gate", area_id="gate")
    entities.async_get_or_create("sensor", "test", "none", suggested_object_id="no_area")
    for entity_id in (
        "light.r101",
        "sensor.r102_temp",
        "light.b1_hall",
        "sensor.r201_smoke",
        "lock.gate",
        "sensor.no_area",
        "sensor.unregistered",
    ):
        hub.states.async_set(entity_id, "on")
    people = reg.people
    h101 = people.async_create_household("1-1-101", ["r101"])
    h201 = people.async_create_household("2-201", ["r201"])
    alice = people.async_create_person("Alice", household_id=h101.id)
    bob = people.async_create_person("Bob", household_id=h201.id)
    return Community(h101.id, h201.id, alice.id, bob.id)


async def start_auth(hub: Hub, url: str, config: AuthConfig | None = None) -> AuthManager:
    """Start a database at ``url`` on ``hub`` and set up an auth manager on it."""
    database = Database(url)
    await database.async_start()
    hub.data[DATABASE] = database
    manager = AuthManager(hub, database, config)
    manager.async_setup()
    hub.data[AUTH_MANAGER] = manager
    return manager


async def stop_auth(hub: Hub) -> None:
    """Undo :func:`start_auth`."""
    manager = hub.data.pop(AUTH_MANAGER)
    if manager is not None:
        manager.async_unload()
    database = hub.data.pop(DATABASE)
    if database is not None:
        await database.async_stop()


@async_fixture
async def auth(hub: Hub, tmp_path: Path) -> AsyncIterator[AuthManager]:
    """An auth manager on a SQLite database, on the started ``hub``."""
    manager = await start_auth(hub, sqlite_url(tmp_path))
    yield manager
    await stop_auth(hub)


@pytest.fixture
def community(hub: Hub) -> Community:
    """The test community on ``hub``."""
    return build_community(hub)


CONFIGURATION = """\
linli:
  name: Test community
http:
  server_host: 127.0.0.1
  server_port: 0
"""


@async_fixture
async def served(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Hub, Community]]:
    """A hub with the bundled integrations (recorder, alert, auth, http …) and the community."""
    (tmp_path / "configuration.yaml").write_text(CONFIGURATION, encoding="utf-8")
    hub = await async_setup_hub(tmp_path, clock=clock, discover=False)
    try:
        yield hub, build_community(hub)
    finally:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
    assert hub.pending_timers == 0, "hub left timers scheduled after stop"
    assert not hub.pending_task_names(), hub.pending_task_names()
