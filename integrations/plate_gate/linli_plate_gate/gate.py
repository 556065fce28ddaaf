"""The gate manager: decides each read, logs it, opens barriers, counts cars.

A decision reads only memory (the plate indexes), then the read is written to the gate log
in one transaction — with the visitor pass's use and the car park's presence — before the
answer leaves. The log row's ``dedup_key`` (the device's record identity) makes re-pushed
records idempotent: the same answer, no second row, no second open.

Decisions, in order: blacklist → deny; resident plate → open; a visitor pass whose window
holds at the read time → open (the pass counts a use); anything else → ``ask`` at an
entrance (closed until a guard opens with ``plate_gate.open``) and open at an exit (a car
inside may always leave). A record the camera buffered while offline, older than
``offline_open_window`` seconds, never opens: it is logged with ``deny``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from linli import Context, Hub, ServiceValidationError, callback
from linli.db import get_database
from linli_plate_gate import store
from linli_plate_gate.const import (
    DEVICE_KIND,
    EVENT_PLATE_GATE_DENIED,
    EVENT_PLATE_GATE_OPENED,
    EVENT_PLATE_GATE_READ,
    OPENED_BY_HUB,
    Category,
    Decision,
    Direction,
)
from linli_plate_gate.plates import Plate, PlateClass, PlateColor, PlateKey

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli_plate_gate.config import CarPark, GateConfig
    from linli_plate_gate.entities import BarrierCover, CarParkOccupancy, GateCamera

_LOGGER = logging.getLogger(__name__)

RECENT_OUTCOMES: Final = 4096
"""Outcomes kept in memory by dedup key, so a quick re-push needs no database read."""
SYSTEM_USER: Final = "system"
"""``opened_by`` of an open asked for without a user (an automation)."""


_LAST_ID: list[int] = [0, 0]
"""The milliseconds and sequence number of the last id made."""


def new_id(timestamp: float) -> str:
    """An id that sorts in the order made: milliseconds, a sequence within the millisecond
    (so reads logged at one instant keep their order), random bits; 28 characters."""
    ms = int(timestamp * 1000)
    last_ms, last_seq = _LAST_ID
    seq = last_seq + 1 if ms <= last_ms else 0
    ms = max(ms, last_ms)
    _LAST_ID[:] = [ms, seq]
    return f"{ms:012x}{seq:06x}{secrets.token_hex(5)}"


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One read as a device reported it."""

    gate: GateConfig
    plate: Plate
    source: str
    """``http`` or ``mqtt``."""
    direction: Direction | None = None
    """None: the gate's direction (a ``both`` gate guesses from who is inside)."""
    dedup_key: str | None = None
    record_ts: float | None = None
    offline: bool = False
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """What the hub decided for a read."""

    read_id: str
    decision: Decision
    category: Category
    direction: Direction
    household_id: str | None = None
    visitor_pass_id: str | None = None
    offline: bool = False
    duplicate: bool = False

    @property
    def opens(self) -> bool:
        """Whether the answer opens the barrier."""
        return self.decision is Decision.OPEN


@dataclass(slots=True)
class PendingOpen:
    """A guard's open waiting for an HTTP gate's next request."""

    read_id: str | None
    expires_ts: float


class Presence:
    """The cars in one car park now, by plate and colour (``""`` unknown)."""

    def __init__(self) -> None:
        """Start empty."""
        self.cars: dict[tuple[str, str], str | None] = {}

    def __len__(self) -> int:
        return len(self.cars)

    def contains(self, key: PlateKey) -> bool:
        """Whether a car matching ``key`` is in."""
        return any(PlateKey(number, _color(color)).matches(key) for number, color in self.cars)

    def enter(self, key: PlateKey, read_id: str | None) -> None:
        """A car came in (counted once however often it is read)."""
        self.cars[(key.number, "" if key.color is None else key.color.value)] = read_id

    def leave(self, key: PlateKey) -> None:
        """A car left: every entry matching it goes."""
        for number, color in list(self.cars):
            if PlateKey(number, _color(color)).matches(key):
                del self.cars[(number, color)]


def _color(text: str) -> PlateColor | None:
    return PlateColor(text) if text else None


class GateManager:
    """The gates, car parks and plate indexes of one hub."""

    def __init__(
        self,
        hub: Hub,
        gates: dict[str, GateConfig],
        parks: dict[str, CarPark],
        *,
        offline_open_window: float,
        barrier_open_seconds: float,
    ) -> None:
        """Manage ``gates`` and ``parks``; :meth:`async_load` fills the indexes."""
        self.hub = hub
        self.gates = gates
        self.parks = parks
        self.offline_open_window = offline_open_window
        self.barrier_open_seconds = barrier_open_seconds
        self.residents = store.PlateIndex()
        self.passes = store.PlateIndex()
        self.blacklist = store.PlateIndex()
        self.presence: dict[str, Presence] = {park: Presence() for park in parks}
        self.barriers: dict[str, BarrierCover] = {}
        self.cameras: dict[str, GateCamera] = {}
        self.occupancy: dict[str, CarParkOccupancy] = {}
        self.gates_by_device: dict[str, GateConfig] = {
            gate.device_id: gate for gate in gates.values() if gate.kind == "mqtt"
        }
        self._pending: dict[str, PendingOpen] = {}
        self._recent: OrderedDict[str, ReadOutcome] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[ReadOutcome]] = {}
        self._close_timers: dict[str, Callable[[], None]] = {}

    # ------------------------------------------------------------------ loading
    async def async_load(self) -> None:
        """Read plates, running passes, the blacklist and presence into memory."""
        after = self.hub.clock.time() - 86_400

        def load(session: Session) -> dict[str, list[Any]]:
            return store.load_all(session, after)

        data = await get_database(self.hub).async_run(load)
        for entry in data["residents"]:
            self.residents.add(entry)
        for entry in data["passes"]:
            self.passes.add(entry)
        for entry in data["blacklist"]:
            self.blacklist.add(entry)
        for car_park, key, read_id in data["presence"]:
            if car_park in self.presence:
                self.presence[car_park].enter(key, read_id)

    @callback
    def async_stop(self) -> None:
        """Cancel the barrier timers."""
        for cancel in self._close_timers.values():
            cancel()
        self._close_timers.clear()

    # ------------------------------------------------------------------ deciding
    def _decide(
        self, plate: Plate, direction: Direction, when: float
    ) -> tuple[Category, Decision, str | None, store.VisitorPass | None]:
        key = plate.key
        if plate.number and self.blacklist.matching(key):
            return Category.BLACKLIST, Decision.DENY, None, None
        residents: list[store.ResidentPlate] = self.residents.matching(key) if plate.number else []
        if residents:
            return Category.RESIDENT, Decision.OPEN, residents[0].household_id, None
        if direction is Direction.IN and plate.number:
            held = [p for p in self.passes.matching(key) if p.holds(when)]
            if held:
                chosen: store.VisitorPass = min(held, key=lambda p: p.end_ts)
                return Category.VISITOR, Decision.OPEN, chosen.household_id, chosen
        if direction is Direction.OUT:
            return Category.UNKNOWN, Decision.OPEN, None, None
        return Category.UNKNOWN, Decision.ASK, None, None

    def _direction(self, read: PlateRead) -> Direction:
        if read.direction is not None:
            return read.direction
        if read.gate.direction in ("in", "out"):
            return Direction(read.gate.direction)
        inside = self.presence[read.gate.car_park].contains(read.plate.key)
        return Direction.OUT if inside else Direction.IN

    async def async_handle_read(self, read: PlateRead) -> ReadOutcome:
        """Decide, log and act on one read; a re-pushed record gets its first outcome."""
        key = read.dedup_key
        if key is None:
            return await self._async_handle_new(read)
        cached = self._recent.get(key)
        if cached is not None:
            return replace(cached, duplicate=True)
        running = self._inflight.get(key)
        if running is not None:
            return replace(await asyncio.shield(running), duplicate=True)
        future: asyncio.Future[ReadOutcome] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            outcome = await self._async_handle_new(read)
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiters (if any) get it too
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(outcome)
        self._remember(key, outcome)
        return outcome

    def _remember(self, key: str, outcome: ReadOutcome) -> None:
        self._recent[key] = replace(outcome, duplicate=False)
        if len(self._recent) > RECENT_OUTCOMES:
            self._recent.popitem(last=False)

    async def _async_handle_new(self, read: PlateRead) -> ReadOutcome:
        now = self.hub.clock.time()
        gate = read.gate
        stale = read.offline and (
            read.record_ts is None or now - read.record_ts > self.offline_open_window
        )
        when = read.record_ts if read.offline and read.record_ts is not None else now
        direction = self._direction(read)
        category, decision, household_id, visitor = self._decide(read.plate, direction, when)
        if stale and decision is not Decision.DENY:
            decision = Decision.DENY  # the car is long gone: log it, open nothing
        read_id = new_id(now)
        plate = read.plate
        row = {
            "read_id": read_id,
            "time_ts": now,
            "record_ts": read.record_ts,
            "gate_id": gate.id,
            "car_park": gate.car_park,
            "area_id": gate.area_id,
            "direction": direction.value,
            "source": read.source,
            "raw_plate": plate.raw[:64],
            "plate": plate.number[:32],
            "color": None if plate.color is None else plate.color.value,
            "plate_class": plate.plate_class.value,
            "plate_valid": plate.valid,
            "plate_flag": None if plate.flag is None else plate.flag.value,
            "confidence": read.confidence,
            "category": category.value,
            "decision": decision.value,
            "household_id": household_id,
            "visitor_pass_id": None if visitor is None else visitor.id,
            "offline": read.offline,
            "dedup_key": read.dedup_key,
            "opened_by": OPENED_BY_HUB if decision is Decision.OPEN else None,
            "opened_ts": now if decision is Decision.OPEN else None,
        }
        opens = decision is Decision.OPEN

        def write(session: Session) -> dict[str, Any] | None:
            if read.dedup_key is not None:
                existing = session.execute(
                    select(store.READS).where(store.READS.c.dedup_key == read.dedup_key)
                ).first()
                if existing is not None:
                    return store.read_as_dict(existing)
            session.execute(store.READS.insert().values(**row))
            if visitor is not None and opens:
                store.mark_pass_used(session, visitor.id, read_id, now)
            if opens:
                store.set_presence(session, gate.car_park, plate.key, direction.value, now, read_id)
            return None

        database = get_database(self.hub)
        try:
            existing = await database.async_run(write)
        except IntegrityError:
            # Another writer logged the same record first (a second hub on one database).
            def find(session: Session) -> dict[str, Any] | None:
                found = session.execute(
                    select(store.READS).where(store.READS.c.dedup_key == read.dedup_key)
                ).first()
                return None if found is None else store.read_as_dict(found)

            existing = await database.async_run(find)
            if existing is None:
                raise
        if existing is not None:
            return ReadOutcome(
                existing["read_id"],
                Decision(existing["decision"]),
                Category(existing["category"]),
                Direction(existing["direction"]),
                existing["household_id"],
                existing["visitor_pass_id"],
                existing["offline"],
                duplicate=True,
            )
        if visitor is not None and opens:
            current: store.VisitorPass | None = self.passes.by_id.get(visitor.id)
            if current is not None:  # not cancelled meanwhile
                self.passes.add(store.used(current, read_id, now))
        if opens:
            self._track_presence(gate, plate.key, direction, read_id)
        outcome = ReadOutcome(
            read_id,
            decision,
            category,
            direction,
            household_id,
            None if visitor is None else visitor.id,
            read.offline,
        )
        self._announce(gate, plate, outcome)
        if opens:
            await self._async_actuate(gate, read_id, from_read=True)
        return outcome

    def _track_presence(
        self, gate: GateConfig, key: PlateKey, direction: Direction, read_id: str
    ) -> None:
        presence = self.presence[gate.car_park]
        if direction is Direction.IN:
            presence.enter(key, read_id)
        else:
            presence.leave(key)
        sensor = self.occupancy.get(gate.car_park)
        if sensor is not None:
            sensor.set_count(len(presence))

    def _announce(self, gate: GateConfig, plate: Plate, outcome: ReadOutcome) -> None:
        barrier = self.barriers.get(gate.id)
        data = {
            "gate_id": gate.id,
            "gate_entity_id": None if barrier is None else barrier.entity_id,
            "car_park": gate.car_park,
            "area_id": gate.area_id,
            "direction": outcome.direction.value,
            "plate": plate.number,
            "color": None if plate.color is None else plate.color.value,
            "plate_valid": plate.valid,
            "plate_flag": None if plate.flag is None else plate.flag.value,
            "category": outcome.category.value,
            "decision": outcome.decision.value,
            "household_id": outcome.household_id,
            "visitor_pass_id": outcome.visitor_pass_id,
            "read_id": outcome.read_id,
            "offline": outcome.offline,
        }
        self.hub.bus.async_fire(EVENT_PLATE_GATE_READ, data)
        camera = self.cameras.get(gate.id)
        if camera is not None and camera.added:
            camera.record(
                outcome.decision.value,
                {
                    "read_id": outcome.read_id,
                    "category": outcome.category.value,
                    "direction": outcome.direction.value,
                    "plate_valid": plate.valid,
                    "offline": outcome.offline,
                },
            )

    # ------------------------------------------------------------------ opening
    async def _async_actuate(
        self, gate: GateConfig, read_id: str | None, *, from_read: bool
    ) -> None:
        """Open the barrier: MQTT gates get ``open``; an HTTP gate's answer opens it (a read)
        or its next request does (a guard's open)."""
        if gate.kind == "mqtt":
            from linli_mqtt import MqttError, async_send_command

            payload: dict[str, Any] = {"command": "open"}
            if read_id is not None:
                payload["read_id"] = read_id
            try:
                await async_send_command(self.hub, DEVICE_KIND, gate.device_id, payload)
            except (MqttError, ServiceValidationError) as err:
                _LOGGER.warning("Could not send open to gate %s: %s", gate.id, err)
        elif not from_read:
            self._pending[gate.id] = PendingOpen(
                read_id, self.hub.clock.time() + self.offline_open_window
            )
        self._show_open(gate.id)

    def _show_open(self, gate_id: str) -> None:
        barrier = self.barriers.get(gate_id)
        if barrier is None or not barrier.added:
            return
        barrier.set_open(True)
        cancel = self._close_timers.pop(gate_id, None)
        if cancel is not None:
            cancel()

        @callback
        def close(_now: Any) -> None:
            self._close_timers.pop(gate_id, None)
            barrier.set_open(False)

        self._close_timers[gate_id] = self.hub.async_call_later(self.barrier_open_seconds, close)

    @callback
    def take_pending_open(self, gate_id: str) -> bool:
        """Whether a guard's open waits for this HTTP gate (consumed once)."""
        pending = self._pending.pop(gate_id, None)
        return pending is not None and pending.expires_ts >= self.hub.clock.time()

    def gate_for(self, gate_id: str | None, entity_id: Any = None) -> GateConfig | None:
        """A gate by id, or by its barrier's or camera's entity id."""
        if gate_id is not None:
            return self.gates.get(gate_id)
        entity_ids = [entity_id] if isinstance(entity_id, str) else list(entity_id or [])
        for gid, barrier in self.barriers.items():
            camera = self.cameras.get(gid)
            if barrier.entity_id in entity_ids or (camera and camera.entity_id in entity_ids):
                return self.gates[gid]
        return None

    async def async_read(self, read_id: str) -> dict[str, Any] | None:
        """One gate-log row, or None."""

        def find(session: Session) -> dict[str, Any] | None:
            row = session.execute(
                select(store.READS).where(store.READS.c.read_id == read_id)
            ).first()
            return None if row is None else store.read_as_dict(row)

        return await get_database(self.hub).async_run(find)

    async def async_open(
        self,
        gate_id: str | None,
        read_id: str | None,
        *,
        user_id: str | None,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """A person opens a gate — for a read (an ``ask``) or by hand; logged with who."""
        now = self.hub.clock.time()
        opener = user_id or SYSTEM_USER
        row: dict[str, Any] | None = None
        if read_id is not None:
            row = await self.async_read(read_id)
            if row is None:
                raise ServiceValidationError(f"unknown read_id {read_id!r}")
            if gate_id is not None and row["gate_id"] != gate_id:
                raise ServiceValidationError(f"read {read_id} was not at gate {gate_id}")
            gate_id = row["gate_id"]
        gate = self.gates.get(gate_id) if gate_id is not None else None
        if gate is None:
            raise ServiceValidationError(f"unknown gate {gate_id!r}")
        if row is not None and (row["opened_by"] is not None or row["denied_by"] is not None):
            return {
                "gate_id": gate.id,
                "read_id": read_id,
                "opened": False,
                "reason": "already answered",
            }
        direction = Direction(row["direction"]) if row is not None else Direction.IN
        key = PlateKey(row["plate"], _color(row["color"] or "")) if row is not None else None

        def write(session: Session) -> str:
            if row is not None:
                session.execute(
                    update(store.READS)
                    .where(store.READS.c.read_id == row["read_id"])
                    .values(opened_by=opener, opened_ts=now)
                )
                if key is not None and key.number:
                    store.set_presence(
                        session, gate.car_park, key, direction.value, now, row["read_id"]
                    )
                return str(row["read_id"])
            manual_id = new_id(now)
            session.execute(
                store.READS.insert().values(
                    read_id=manual_id,
                    time_ts=now,
                    gate_id=gate.id,
                    car_park=gate.car_park,
                    area_id=gate.area_id,
                    direction=(gate.direction if gate.direction != "both" else "in"),
                    source="manual",
                    raw_plate="",
                    plate="",
                    plate_class=PlateClass.INVALID.value,
                    plate_valid=False,
                    category=Category.MANUAL.value,
                    decision=Decision.OPEN.value,
                    offline=False,
                    opened_by=opener,
                    opened_ts=now,
                )
            )
            return manual_id

        logged_id = await get_database(self.hub).async_run(write)
        if key is not None and key.number:
            self._track_presence(gate, key, direction, logged_id)
        await self._async_actuate(gate, logged_id, from_read=False)
        self.hub.bus.async_fire(
            EVENT_PLATE_GATE_OPENED,
            {"gate_id": gate.id, "read_id": logged_id, "user_id": user_id},
            context=context,
        )
        return {"gate_id": gate.id, "read_id": logged_id, "opened": True}

    async def async_deny(
        self, read_id: str, *, user_id: str | None, context: Context | None = None
    ) -> dict[str, Any]:
        """A guard answers an ``ask`` with deny: logged; the barrier stays closed."""
        row = await self.async_read(read_id)
        if row is None:
            raise ServiceValidationError(f"unknown read_id {read_id!r}")
        if row["opened_by"] is not None or row["denied_by"] is not None:
            return {
                "gate_id": row["gate_id"],
                "read_id": read_id,
                "denied": False,
                "reason": "already answered",
            }
        now = self.hub.clock.time()

        def write(session: Session) -> None:
            session.execute(
                update(store.READS)
                .where(store.READS.c.read_id == read_id)
                .values(denied_by=user_id or SYSTEM_USER, denied_ts=now)
            )

        await get_database(self.hub).async_run(write)
        pending = self._pending.get(row["gate_id"])
        if pending is not None and pending.read_id == read_id:
            del self._pending[row["gate_id"]]
        self.hub.bus.async_fire(
            EVENT_PLATE_GATE_DENIED,
            {"gate_id": row["gate_id"], "read_id": read_id, "user_id": user_id},
            context=context,
        )
        return {"gate_id": row["gate_id"], "read_id": read_id, "denied": True}

    async def async_close(self, gate_id: str) -> None:
        """Close a barrier: MQTT gates get ``close``; an HTTP gate's queued open is dropped."""
        gate = self.gates[gate_id]
        self._pending.pop(gate_id, None)
        if gate.kind == "mqtt":
            from linli_mqtt import MqttError, async_send_command

            try:
                await async_send_command(
                    self.hub, DEVICE_KIND, gate.device_id, {"command": "close"}
                )
            except (MqttError, ServiceValidationError) as err:
                _LOGGER.warning("Could not send close to gate %s: %s", gate.id, err)
        cancel = self._close_timers.pop(gate_id, None)
        if cancel is not None:
            cancel()
        barrier = self.barriers.get(gate_id)
        if barrier is not None and barrier.added:
            barrier.set_open(False)

    @callback
    def report_barrier(self, gate_id: str, is_open: bool) -> None:
        """A gate reported its barrier's state (MQTT ``state``)."""
        cancel = self._close_timers.pop(gate_id, None)
        if cancel is not None:
            cancel()
        barrier = self.barriers.get(gate_id)
        if barrier is not None and barrier.added:
            barrier.set_open(is_open)
