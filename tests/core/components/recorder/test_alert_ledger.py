"""Alerts in the SQL ledger, on SQLite and PostgreSQL: committed per change, kept across a
restart, imported once from the JSON file of earlier versions; and a refused schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import linli.components.recorder as recorder_component
from linli import Context, Hub
from linli.clock import FakeClock
from linli.components.alert import AuditAction, get_manager
from linli.components.recorder import Recorder
from linli.db import Database, get_database
from linli.db.models import AlertAuditRow
from linli.plugins.loader import IntegrationLoader, Status

StartRecorder = Callable[..., Awaitable[tuple[Hub, Recorder]]]
HubFactory = Callable[..., Awaitable[Hub]]


async def test_alerts_and_their_audit_trail_survive_a_restart(
    start_recorder: StartRecorder, clock: FakeClock, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub, _ = await start_recorder(config_dir=config_dir, alerts=True)
    manager = get_manager(hub)
    alert, _ = await manager.async_raise("falling_object", "3号楼 高空抛物", dedup_key="cam-7")
    clock.advance(5)
    await manager.async_raise("falling_object", "3号楼 高空抛物", dedup_key="cam-7")
    await manager.async_acknowledge(alert.id, note="收到", context=Context(user_id="u-staff"))
    await manager.async_resolve(alert.id, context=Context(user_id="u-staff"))

    def trail(session: Session) -> list[tuple[int, str, str]]:
        query = select(AlertAuditRow.seq, AlertAuditRow.action, AlertAuditRow.actor).order_by(
            AlertAuditRow.seq
        )
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]

    # Committed as it happened: no flush, no stop needed.
    assert await get_database(hub).async_run(trail) == [
        (0, "raised", "system"),
        (1, "repeated", "system"),
        (2, "acknowledged", "u-staff"),
        (3, "resolved", "u-staff"),
    ]
    before = [a.as_dict() for a in manager.alerts()]
    await hub.async_stop()

    hub2, _ = await start_recorder(config_dir=config_dir, alerts=True)
    after = get_manager(hub2).alerts()
    assert [a.as_dict() for a in after] == before
    assert [e.action for e in after[0].history] == [
        AuditAction.RAISED,
        AuditAction.REPEATED,
        AuditAction.ACKNOWLEDGED,
        AuditAction.RESOLVED,
    ]


async def test_the_old_json_file_is_imported_once(
    start_recorder: StartRecorder, tmp_path: Path
) -> None:
    config_dir = tmp_path / "community"
    hub, _ = await start_recorder(config_dir=config_dir, alerts=True)
    alert, _ = await get_manager(hub).async_raise("fire", "烟感", area_id=None)
    legacy = [a.as_dict() for a in get_manager(hub).alerts()]
    await hub.async_stop()

    # An older Linli's file, with one alert the database already has and one it has not.
    old = {**legacy[0], "id": "01OLDALERT0000000000000000", "title": "旧的"}
    path = config_dir / ".linli" / "linli.alerts"
    path.write_bytes(
        orjson.dumps(
            {
                "version": 1,
                "minor_version": 1,
                "key": "linli.alerts",
                "data": {"alerts": [*legacy, old]},
            }
        )
    )
    hub2, _ = await start_recorder(config_dir=config_dir, alerts=True)
    assert sorted(a.id for a in get_manager(hub2).alerts()) == sorted([old["id"], alert.id])
    assert not path.exists()
    assert path.with_name("linli.alerts.imported").exists()
    await hub2.async_stop()

    hub3, _ = await start_recorder(config_dir=config_dir, alerts=True)
    assert len(get_manager(hub3).alerts()) == 2  # not imported twice


async def test_a_newer_schema_fails_the_recorder_and_its_dependants(
    hub_factory: HubFactory, db_url: str, tmp_path: Path
) -> None:
    database = Database(db_url)
    await database.async_start()

    def future(session: Session) -> None:
        session.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))

    await database.async_run(future)
    await database.async_stop()

    import linli.components.alert as alert_component

    hub = await hub_factory(tmp_path / "c", start=False)
    loader = IntegrationLoader(hub)
    loader.register(recorder_component, name="recorder")
    loader.register(alert_component, name="alert")
    await loader.async_setup_all({"recorder": {"db_url": db_url}})
    record = loader.records["recorder"]
    assert record.status is Status.failed
    assert "0099_future" in (record.reason or "")
    assert "newer Linli" in (record.reason or "")
    assert loader.records["alert"].status is Status.skipped
