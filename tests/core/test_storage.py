"""Behaviour of Store: versioned JSON files, atomic and coalesced writes, migrations, refusals."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import linli.storage as storage_module
from linli.clock import FakeClock
from linli.const import EVENT_LINLI_FINAL_WRITE
from linli.exceptions import StorageError
from linli.hub import Hub
from linli.storage import Store

HubFactory = Callable[..., Awaitable[Hub]]


def _write_raw(hub: Hub, key: str, content: Any) -> Path:
    path = hub.storage_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else orjson.dumps(content))
    return path


def _leftovers(hub: Hub) -> list[str]:
    return [p.name for p in hub.storage_dir.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- format and saving


async def test_save_then_load_round_trips_with_documented_format(hub: Hub) -> None:
    store = Store(hub, "test.data", 2, minor_version=3)
    await store.async_save({"rooms": ["1201", "1202"], "名字": "幸福里"})

    content = orjson.loads(store.path.read_bytes())
    assert content == {
        "version": 2,
        "minor_version": 3,
        "key": "test.data",
        "data": {"rooms": ["1201", "1202"], "名字": "幸福里"},
    }
    assert store.path == hub.storage_dir / "test.data"
    assert await Store(hub, "test.data", 2, minor_version=3).async_load() == content["data"]


async def test_files_and_directory_are_private(hub: Hub) -> None:
    store = Store(hub, "test.private", 1)
    await store.async_save({"x": 1})

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(hub.storage_dir.stat().st_mode) == 0o700


async def test_load_without_file_returns_none(hub: Hub) -> None:
    assert await Store(hub, "test.absent", 1).async_load() is None
    assert not (hub.storage_dir / "test.absent").exists()


def test_key_must_be_a_plain_file_name(hub: Hub) -> None:
    with pytest.raises(ValueError, match="Invalid storage key"):
        Store(hub, "../escape", 1)


async def test_write_is_atomic_old_file_survives_a_failed_replace(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(hub, "test.atomic", 1)
    await store.async_save({"generation": 1})
    before = store.path.read_bytes()
    calls: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def failing_replace(src: str, dst: str) -> None:
        calls.append("replace")
        raise OSError("disk pulled out")

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    monkeypatch.setattr(storage_module.os, "replace", failing_replace)

    with pytest.raises(OSError, match="disk pulled out"):
        await store.async_save({"generation": 2})

    # The data reached the disk (fsync) before the rename was tried, the old file is intact
    # and no temporary file is left behind.
    assert calls == ["fsync", "replace"]
    assert store.path.read_bytes() == before
    assert _leftovers(hub) == []


async def test_failed_write_stays_pending_and_is_retried_by_flush(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(hub, "test.retry", 1)
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(storage_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.async_save({"kept": True})
    assert store.pending

    monkeypatch.setattr(storage_module.os, "replace", real_replace)
    await store.async_flush()
    assert orjson.loads(store.path.read_bytes())["data"] == {"kept": True}
    assert not store.pending


# --------------------------------------------------------------------------- delayed saves


async def test_delay_save_coalesces_many_changes_into_one_write(hub: Hub, clock: FakeClock) -> None:
    store = Store(hub, "test.delay", 1)
    state = {"counter": 0}
    produced: list[int] = []

    def data() -> dict[str, int]:
        produced.append(state["counter"])
        return dict(state)

    for _ in range(50):
        state["counter"] += 1
        store.async_delay_save(data, delay=1.0)
    assert hub.pending_timers == 1

    clock.advance(0.5)
    await hub.async_block_till_done()
    assert not store.path.exists()

    clock.advance(0.5)
    await hub.async_block_till_done()
    assert produced == [50]  # the data was built once, for one write, with the latest state
    assert orjson.loads(store.path.read_bytes())["data"] == {"counter": 50}
    assert hub.pending_timers == 0
    assert not store.pending


async def test_delay_save_is_not_pushed_back_by_a_steady_stream(hub: Hub, clock: FakeClock) -> None:
    store = Store(hub, "test.stream", 1)
    for step in range(4):
        store.async_delay_save(lambda step=step: {"step": step}, delay=1.0)
        clock.advance(0.3)
        await hub.async_block_till_done()

    # First change at t=0, so the write happened at t=1.0 even though changes kept coming.
    assert orjson.loads(store.path.read_bytes())["data"] == {"step": 3}


async def test_shorter_delay_brings_the_write_forward(hub: Hub, clock: FakeClock) -> None:
    store = Store(hub, "test.sooner", 1)
    store.async_delay_save(lambda: {"v": 1}, delay=60)
    store.async_delay_save(lambda: {"v": 2}, delay=1)
    assert hub.pending_timers == 1

    clock.advance(1)
    await hub.async_block_till_done()
    assert orjson.loads(store.path.read_bytes())["data"] == {"v": 2}
    assert hub.pending_timers == 0


async def test_save_replaces_a_pending_delayed_save(hub: Hub, clock: FakeClock) -> None:
    store = Store(hub, "test.supersede", 1)
    store.async_delay_save(lambda: {"old": True}, delay=5)
    await store.async_save({"new": True})

    assert hub.pending_timers == 0
    clock.advance(10)
    await hub.async_block_till_done()
    assert orjson.loads(store.path.read_bytes())["data"] == {"new": True}


async def test_flush_writes_pending_data_now_and_cancels_the_timer(hub: Hub) -> None:
    store = Store(hub, "test.flush", 1)
    await store.async_flush()
    assert not store.path.exists()  # nothing pending: nothing written

    store.async_delay_save(lambda: {"flushed": 1}, delay=30)
    await store.async_flush()

    assert orjson.loads(store.path.read_bytes())["data"] == {"flushed": 1}
    assert hub.pending_timers == 0


async def test_writes_of_one_store_never_overlap(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(hub, "test.serial", 1)
    real_write = storage_module._write_file
    active = 0
    most = 0
    lock = threading.Lock()

    def slow_write(path: Path, content: dict[str, Any]) -> None:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.02)
        real_write(path, content)
        with lock:
            active -= 1

    monkeypatch.setattr(storage_module, "_write_file", slow_write)
    await asyncio.gather(*(store.async_save({"n": n}) for n in range(5)))

    assert most == 1
    assert orjson.loads(store.path.read_bytes())["data"] == {"n": 4}


async def test_stop_flushes_pending_saves_and_leaves_no_timer(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    hub = await hub_factory(tmp_path / "config")
    store = Store(hub, "test.stop", 1)
    store.async_delay_save(lambda: {"written": "at stop"}, delay=3600)
    assert hub.pending_timers == 1

    # Registries are flushed by the hub at stop; another owner flushes on the final write.
    async def final_write(_event: Any) -> None:
        await store.async_flush()

    hub.bus.async_listen(EVENT_LINLI_FINAL_WRITE, final_write)
    await hub.async_stop()

    assert orjson.loads(store.path.read_bytes())["data"] == {"written": "at stop"}
    assert hub.pending_timers == 0


# --------------------------------------------------------------------------- versions


async def test_older_major_version_is_migrated_and_written_back(hub: Hub) -> None:
    path = _write_raw(
        hub,
        "test.migrate",
        {"version": 1, "minor_version": 1, "key": "test.migrate", "data": {"rooms": "1201"}},
    )
    calls: list[tuple[int, int, Any]] = []

    async def migrate(major: int, minor: int, data: Any) -> Any:
        calls.append((major, minor, data))
        return {"rooms": [data["rooms"]], "schema": 2}

    store = Store(hub, "test.migrate", 2, minor_version=1, migrate=migrate)
    data = await store.async_load()

    assert calls == [(1, 1, {"rooms": "1201"})]
    assert data == {"rooms": ["1201"], "schema": 2}
    on_disk = orjson.loads(path.read_bytes())
    assert on_disk["version"] == 2
    assert on_disk["minor_version"] == 1
    assert on_disk["data"] == data

    # Loading again finds the current version: no second migration.
    assert await store.async_load() == data
    assert len(calls) == 1


async def test_older_minor_version_is_migrated(hub: Hub) -> None:
    _write_raw(hub, "test.minor", {"version": 1, "minor_version": 1, "data": {"a": 1}})

    async def migrate(major: int, minor: int, data: Any) -> Any:
        assert (major, minor) == (1, 1)
        return {**data, "b": None}

    store = Store(hub, "test.minor", 1, minor_version=2, migrate=migrate)
    assert await store.async_load() == {"a": 1, "b": None}
    assert orjson.loads(store.path.read_bytes())["minor_version"] == 2


async def test_newer_minor_version_of_same_major_loads_as_it_is(hub: Hub) -> None:
    path = _write_raw(hub, "test.newminor", {"version": 1, "minor_version": 5, "data": {"a": 1}})
    before = path.read_bytes()

    async def migrate(major: int, minor: int, data: Any) -> Any:
        raise AssertionError("a compatible file must not be migrated")

    store = Store(hub, "test.newminor", 1, minor_version=2, migrate=migrate)
    assert await store.async_load() == {"a": 1}
    assert path.read_bytes() == before


async def test_newer_major_version_is_refused_and_left_alone(hub: Hub) -> None:
    path = _write_raw(hub, "test.newer", {"version": 3, "minor_version": 1, "data": {"x": 1}})
    before = path.read_bytes()

    with pytest.raises(StorageError, match="newer Linli") as err:
        await Store(hub, "test.newer", 2).async_load()

    assert "downgraded" in str(err.value)
    assert path.read_bytes() == before


async def test_older_version_without_migration_is_refused(hub: Hub) -> None:
    path = _write_raw(hub, "test.nomigrate", {"version": 1, "data": {"x": 1}})
    before = path.read_bytes()

    with pytest.raises(StorageError, match="no migration"):
        await Store(hub, "test.nomigrate", 2).async_load()
    assert path.read_bytes() == before


async def test_failing_migration_is_reported_and_file_left_alone(hub: Hub) -> None:
    path = _write_raw(hub, "test.badmigrate", {"version": 1, "data": {"x": 1}})
    before = path.read_bytes()

    async def migrate(major: int, minor: int, data: Any) -> Any:
        raise KeyError("rooms")

    with pytest.raises(StorageError, match=r"Migrating .* failed"):
        await Store(hub, "test.badmigrate", 2, migrate=migrate).async_load()
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"version": 1, "data": {"unterminated', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'["a list"]', "expected an object"),
        (b'{"data": {}}', "expected an object"),
        (b'{"version": "1", "data": {}}', "expected an object"),
    ],
)
async def test_unreadable_file_is_refused_naming_file_and_reason(
    hub: Hub, raw: bytes, reason: str
) -> None:
    path = _write_raw(hub, "test.corrupt", raw)

    with pytest.raises(StorageError, match=reason) as err:
        await Store(hub, "test.corrupt", 1).async_load()

    assert str(path) in str(err.value)
    assert path.read_bytes() == raw  # never silently replaced by an empty store
