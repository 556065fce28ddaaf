"""The simulated community: households in the registries, and devices that speak MQTT and HTTP.

The hub side creates households and residents. The devices are outside the hub in all but
process: each connects to the broker with its own MQTT client (:class:`DeviceLink`) and
publishes Linli device messages (:mod:`linli_demo.devices`), which the ``mqtt`` integration
validates and turns into devices and entities; each lift's e-bike camera POSTs to a webhook
(:mod:`linli_demo.camera`). Nothing here sets a device's state directly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Final
from zoneinfo import ZoneInfo

import aiohttp
import orjson

from linli import Hub, callback
from linli.clock import CancelCallback
from linli.registry import AreaEntry
from linli_demo.camera import LiftEbikeSensor, async_push
from linli_demo.community import (
    ELEVATOR,
    FACE_TERMINAL_NAMES,
    READINGS,
    ReadingKind,
    household_name,
    localized,
    place_name,
    plan_households,
)
from linli_demo.devices import (
    OFFLINE,
    Channel,
    Kind,
    Place,
    SimDevice,
    camera_push,
    main_meter_total,
    plan_devices,
    topic,
)
from linli_demo.gate import AnprGate, Outcome, camera_serial
from linli_demo.identity import (
    capture,
    card_number,
    face_vector,
    household_plates,
    stranger,
    visitor_plate,
)
from linli_demo.terminal import Answer, FaceTerminal, IsapiTerminal, SubEvent
from linli_demo.wire import DeviceLink

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "demo"
MANUFACTURER: Final = "Linli demo"
CONNECT_TIMEOUT: Final = 15.0


@dataclass(frozen=True, slots=True)
class TerminalSpec:
    """A face terminal the hub's ``face_access`` expects: ``mqtt`` or ``hikvision``."""

    id: str
    kind: str
    door_id: str
    door_name: str
    area_id: str
    webhook_id: str | None = None


@dataclass(frozen=True, slots=True)
class GateSpec:
    """A barrier gate the hub's ``plate_gate`` expects: ``http`` or ``mqtt``."""

    id: str
    name: str
    kind: str
    area_id: str
    direction: str
    device_id: str
    webhook_id: str | None = None


@dataclass(frozen=True, slots=True)
class Size:
    """A generated community: buildings × units × floors × rooms per floor."""

    buildings: int
    units: int
    floors: int
    rooms: int


def _adult(age: int | None) -> bool:
    return age is None or age >= 18


class Simulator:
    """The simulated community of one hub: its households, its devices and their links."""

    def __init__(
        self,
        hub: Hub,
        *,
        seed: int,
        occupancy: float,
        prefix: str,
        update_interval: float,
    ) -> None:
        """Simulate the community of ``hub``; devices publish under ``prefix``."""
        self._hub = hub
        self._seed = seed
        self._occupancy = occupancy
        self.prefix = prefix
        self.update_interval = update_interval
        self._rng = random.Random(seed)
        self.devices: dict[str, SimDevice] = {}
        """By ``<kind>/<device_id>``."""
        self.links: dict[str, DeviceLink] = {}
        self.cameras: dict[str, LiftEbikeSensor] = {}
        """The lifts' e-bike sensors, by unit id."""
        self.community_id = ""
        self.camera_url: str | None = None
        self.camera_secret = secrets.token_hex(16)
        self._session: aiohttp.ClientSession | None = None
        self._unsubscribe: list[CancelCallback] = []
        self._pushes: set[asyncio.Future[int]] = set()
        self._run_id = secrets.token_hex(3)
        self.terminals: dict[str, FaceTerminal] = {}
        """MQTT face terminals, by terminal id."""
        self.isapi_terminals: dict[str, IsapiTerminal] = {}
        """Hikvision-style terminals (webhook pushes), by terminal id."""
        self.gates: dict[str, AnprGate] = {}
        """Barrier gates with plate cameras, by ``plate_gate``'s gate id (an MQTT gate's
        topics use its device id)."""
        self.terminal_specs: dict[str, TerminalSpec] = {}
        self.enrolment: asyncio.Task[Any] | None = None
        self.connecting: asyncio.Task[None] | None = None
        """Connecting the devices (started once the hub runs)."""
        self.connected = asyncio.Event()
        """Done once the devices have connected (or tried to)."""
        self.unsubscribe_start: Callable[[], None] | None = None
        """Cards, consents, faces and cars being registered at the hub (after setup)."""
        self._access_rng = random.Random(seed + 1)
        self.traffic = 0.0
        """Chance per step that each door and each entrance gate sees someone (0: only
        scenarios move them)."""
        self.face_share = 0.0
        """The share of residents who agreed to face recognition (they use their face)."""
        self.steps = 0
        """How many times the readings have moved since setup."""
        self.published = 0
        """Device messages published since setup."""

    # ------------------------------------------------------------------ the community
    @callback
    def build(self, size: Size | None) -> int:
        """Create the area tree of ``size`` where it is missing (config areas stay)."""
        if size is None:
            return 0
        areas = self._hub.registries.areas
        created = 0

        def ensure(
            area_id: str, kind: str, zh: str, en: str, parent: str | None, **kw: Any
        ) -> None:
            nonlocal created
            if area_id in areas:
                return
            areas.async_create(kind, zh, parent, id=area_id, names={"zh-CN": zh, "en": en}, **kw)
            created += 1

        for b in range(1, size.buildings + 1):
            building = f"b{b}"
            ensure(building, "building", f"{b}号楼", f"Building {b}", None)
            for u in range(1, size.units + 1):
                unit = f"{building}-u{u}"
                ensure(unit, "unit", f"{u}单元", f"Unit {u}", building)
                for f in range(1, size.floors + 1):
                    floor = f"{unit}-f{f}"
                    ensure(floor, "floor", f"{f}层", f"Floor {f}", unit, floor_number=f)
                    for r in range(1, size.rooms + 1):
                        name = f"{f}{r:02d}"
                        ensure(f"{unit}-{name}", "room", name, name, floor)
        return created

    def populate(self) -> int:
        """Create households and residents for lived-in rooms; return how many are new.

        Rooms that already have a household (from an earlier start, or made by hand) are left
        alone, so restarting creates no duplicates.
        """
        areas = self._hub.registries.areas
        people = self._hub.registries.people
        taken = {room for h in people.households.values() for room in h.room_ids}
        rooms = [
            (room.id, self._household_name(room))
            for room in sorted(areas.async_get_by_kind("room"), key=lambda a: a.id)
        ]
        year = self._hub.clock.utcnow().year
        created = 0
        for plan in plan_households(rooms, seed=self._seed, occupancy=self._occupancy, year=year):
            if plan.room_id in taken:
                continue
            household = people.async_create_household(plan.name, [plan.room_id])
            for resident in plan.residents:
                people.async_create_person(
                    resident.name,
                    household_id=household.id,
                    relation=resident.relation,
                    birth_year=resident.birth_year,
                    tags=resident.tags,
                )
            created += 1
        _LOGGER.info(
            "Demo community: %d rooms, %d households (%d new)",
            len(rooms),
            len(people.households),
            created,
        )
        return created

    def _household_name(self, room: AreaEntry) -> str:
        above = {str(a.kind): a.name for a in self._hub.registries.areas.ancestors(room.id)}
        return household_name(above.get("building"), above.get("unit"), room.name)

    def _place(self, area: AreaEntry) -> Place:
        areas = self._hub.registries.areas
        language = self._hub.config.language
        chain = [*areas.ancestors(area.id), area]
        name = place_name([(str(a.kind), a.display_name(language)) for a in chain])
        floors = tuple(
            sorted(
                a.floor_number
                for a in areas.descendants(area.id)
                if a.kind == "floor" and a.floor_number is not None
            )
        )
        return Place(area.id, str(area.kind), name, floors)

    def plan(self) -> list[SimDevice]:
        """Decide the community's devices from the area tree and the households."""
        areas = self._hub.registries.areas
        lived_in = {
            room for h in self._hub.registries.people.households.values() for room in h.room_ids
        }

        def places(kind: str, only: set[str] | None = None) -> list[Place]:
            found = sorted(areas.async_get_by_kind(kind), key=lambda a: a.id)
            return [self._place(a) for a in found if only is None or a.id in only]

        self.community_id = areas.root_id
        devices = plan_devices(
            self._place(areas.areas[areas.root_id]),
            places("room", lived_in),
            places("unit"),
            places("zone"),
            language=self._hub.config.language or "en",
            rng=self._rng,
        )
        self.devices = {f"{d.kind}/{d.device_id}": d for d in devices}
        for device in devices:
            device.run_id = self._run_id
        self._advance(self._hub.clock.utcnow(), seconds=0.0)
        return devices

    # ------------------------------------------------------------------ the lifts' cameras
    def camera_sensors(self) -> list[LiftEbikeSensor]:
        """The e-bike sensor of each lift (demo entities fed by the cameras' webhook)."""
        language = self._hub.config.language
        reading = READINGS[ReadingKind.ELEVATOR_EBIKE]
        for device in self.devices.values():
            if device.kind is Kind.LIFT and device.device_id not in self.cameras:
                place = device.name.rsplit(" ", 1)[0]
                self.cameras[device.device_id] = LiftEbikeSensor(
                    device.device_id,
                    f"{place} {localized(reading.names, language)}",
                    f"{place} {localized(ELEVATOR.names, language)}",
                    ELEVATOR.model,
                )
        return list(self.cameras.values())

    # ------------------------------------------------------------------ doors and gates
    def add_access_devices(
        self, terminals: Iterable[TerminalSpec], gates: Iterable[GateSpec], base_url: str
    ) -> None:
        """Install the terminals and gates the hub is configured for (``base_url``: where
        their webhooks are, ``http://host:port``)."""
        clock = self._hub.clock.utcnow
        language = self._hub.config.language
        for number, spec in enumerate(terminals, 1):
            self.terminal_specs[spec.id] = spec
            if spec.kind == "hikvision":
                self.isapi_terminals[spec.id] = IsapiTerminal(
                    spec.id,
                    spec.area_id,
                    f"192.168.10.{number + 10}",
                    url=None
                    if spec.webhook_id is None
                    else f"{base_url}/api/webhook/{spec.webhook_id}",
                    serial=int(clock().timestamp()) % 1_000_000_000,
                )
            else:
                self.terminals[spec.id] = FaceTerminal(
                    spec.id,
                    spec.area_id,
                    f"{spec.door_name} {localized(FACE_TERMINAL_NAMES, language)}",
                    prefix=self.prefix,
                    run_id=self._run_id,
                    clock=clock,
                )
        for number, gate in enumerate(gates, 1):
            self.gates[gate.id] = AnprGate(
                gate.device_id,
                gate.area_id,
                gate.name,
                f"192.168.20.{number + 10}",
                camera_serial(gate.id),
                url=None
                if gate.webhook_id is None
                else f"{base_url}/api/webhook/{gate.webhook_id}",
                protocol=gate.kind,
                direction="out" if gate.direction == "out" else "in",
                prefix=self.prefix,
                run_id=self._run_id,
                clock=clock,
            )

    def face_of(self, person_id: str) -> list[float]:
        """The synthetic face of a resident (the same every run for the same seed)."""
        return face_vector(person_id, self._seed)

    def card_of(self, person_id: str) -> str:
        """The access card number of a resident."""
        return card_number(person_id, self._seed)

    def plates_of(self, household_id: str) -> list[tuple[str, int]]:
        """The cars of a household: ``(plate, colorType)``."""
        return household_plates(household_id, self._seed)

    def resident_of(self, room_id: str) -> tuple[str, str] | None:
        """``(person_id, household_id)`` of someone living in ``room_id`` (an adult when there
        is one), or None when nobody lives there."""
        people = self._hub.registries.people
        year = self._hub.clock.utcnow().year
        for household in people.households.values():
            if room_id in household.room_ids:
                members = [
                    p for p in people.members(household.id) if _adult(p.age_in(year))
                ] or people.members(household.id)
                if members:
                    return members[0].id, household.id
        return None

    def household_of(self, person_id: str) -> str | None:
        """The household ``person_id`` lives in."""
        person = self._hub.registries.people.async_get_person(person_id)
        return None if person is None else person.household_id

    def visitor_plate(self) -> tuple[str, int]:
        """A visiting car's plate (random)."""
        return visitor_plate(self._access_rng)

    def terminal_for(self, area_id: str) -> str | None:
        """The terminal at the door nearest above ``area_id`` (a room's unit entrance)."""
        areas = self._hub.registries.areas
        chain = (
            [area_id, *(a.id for a in reversed(areas.ancestors(area_id)))]
            if area_id in areas
            else [area_id]
        )
        for place in chain:
            for spec in self.terminal_specs.values():
                if spec.area_id == place:
                    return spec.id
        return None

    async def async_face(self, terminal_id: str, person_id: str | None) -> Answer:
        """Someone looks into ``terminal_id``'s camera: ``person_id``'s face, or a stranger's."""
        rng = self._access_rng
        now = self._hub.clock.utcnow()
        if terminal_id in self.isapi_terminals:
            isapi = self.isapi_terminals[terminal_id]
            event = isapi.face(person_id, now)
            status = await self._isapi_push(isapi, event)
            passed = event["AccessControllerEvent"]["subEventType"] == 75
            return Answer.OPEN if passed and status == 200 else Answer.DENY
        terminal = self.terminals[terminal_id]
        face = stranger(rng) if person_id is None else capture(self.face_of(person_id), rng)
        terminal.relock()
        return await terminal.async_access(terminal.face_event(face, now))

    async def async_card(self, terminal_id: str, person_id: str) -> Answer:
        """``person_id`` swipes their card at ``terminal_id``."""
        now = self._hub.clock.utcnow()
        card = self.card_of(person_id)
        if terminal_id in self.isapi_terminals:
            isapi = self.isapi_terminals[terminal_id]
            status = await self._isapi_push(isapi, isapi.card(person_id, card, now), picture=False)
            return Answer.OPEN if status == 200 else Answer.DENY
        terminal = self.terminals[terminal_id]
        terminal.relock()
        return await terminal.async_access(terminal.card_event(card, now))

    async def async_anomaly(self, terminal_id: str, kind: str) -> bool:
        """The door's sensor sees ``tailgating`` or ``reverse_passing``."""
        now = self._hub.clock.utcnow()
        if terminal_id in self.isapi_terminals:
            isapi = self.isapi_terminals[terminal_id]
            sub = SubEvent.TAILGATING if kind == "tailgating" else SubEvent.REVERSE_PASSING
            return await self._isapi_push(isapi, isapi.event(sub, now)) == 200
        return self.terminals[terminal_id].report(kind, now)

    async def _isapi_push(
        self, terminal: IsapiTerminal, event: dict[str, Any], picture: bool = True
    ) -> int:
        try:
            return await terminal.async_push(self._http(), event, picture)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            _LOGGER.info("Terminal %s could not push: %s", terminal.terminal_id, err)
            return 0

    async def async_plate(self, gate_id: str, plate: str, color: int) -> Outcome:
        """A car with ``plate`` drives up to ``gate_id``."""
        gate = self.gates[gate_id]
        gate.lower_barrier()
        if gate.protocol == "mqtt":
            return gate.send_plate(plate, color)
        return await gate.async_push(self._http(), plate, color)

    async def _poll(self, gate: AnprGate) -> int:
        """A gate camera's heartbeat (and the re-push of what it kept)."""
        opened = await gate.async_heartbeat(self._http())
        return int(bool(opened))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Devices post now and then: a connection per push, none left open.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        return self._session

    # ------------------------------------------------------------------ the wire
    async def async_connect(self, host: str, port: int) -> None:
        """Connect every device to the broker (its own client) and publish its first state."""
        links = {}
        for key, device in self.devices.items():
            links[key] = DeviceLink(
                f"linli-demo-{device.kind}-{device.device_id}-{self._run_id}",
                host,
                port,
                will_topic=device.availability_topic(self.prefix),
                hello=partial(self._hello, device),
            )
        for terminal in self.terminals.values():
            links[f"face_terminal/{terminal.terminal_id}"] = terminal.make_link(host, port)
        for gate in self.gates.values():
            if gate.protocol == "mqtt":
                links[f"anpr_gate/{gate.gate_id}"] = gate.make_link(host, port)
        self.links = links
        results = await asyncio.gather(
            *(link.async_connect(CONNECT_TIMEOUT) for link in links.values()),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            _LOGGER.warning(
                "Demo: %d of %d devices could not reach the broker at %s:%d (%s); they retry",
                len(failed),
                len(links),
                host,
                port,
                failed[0],
            )
        _LOGGER.info(
            "Demo: %d devices connected to the broker at %s:%d as themselves",
            len(links) - len(failed),
            host,
            port,
        )

    async def async_wait_connected(self) -> None:
        """Return once the devices have connected, or tried to (they connect after start)."""
        await self.connected.wait()

    def _hello(self, device: SimDevice) -> tuple[str, bytes]:
        """A device's first message on each connection: its state, what and where it is."""
        if device.kind is Kind.METER and device.device_id == self.community_id:
            device.power_w = main_meter_total(list(self.devices.values()), self.community_id)
        payload = device.state_payload(self._hub.clock.utcnow(), first=True)
        self.published += 1
        return topic(self.prefix, device.kind, device.device_id, Channel.STATE), orjson.dumps(
            payload
        )

    def publish(self, device: SimDevice, channel: Channel, payload: dict[str, Any]) -> bool:
        """Publish one message of ``device`` over its own link."""
        link = self.links.get(f"{device.kind}/{device.device_id}")
        if link is None or not device.online:
            return False
        sent = link.publish(
            topic(self.prefix, device.kind, device.device_id, channel), orjson.dumps(payload)
        )
        self.published += sent
        return sent

    def publish_state(self, device: SimDevice, now: datetime, *, first: bool = False) -> bool:
        """Publish ``device``'s current state."""
        if device.kind is Kind.METER and device.device_id == self.community_id:
            device.power_w = main_meter_total(list(self.devices.values()), self.community_id)
        return self.publish(device, Channel.STATE, device.state_payload(now, first=first))

    def clock_now(self) -> datetime:
        """The hub's time (the devices' clocks agree with it)."""
        return self._hub.clock.utcnow()

    async def async_set_online(self, device: SimDevice, online: bool) -> None:
        """Take a device off the network (its connection drops: the broker sends its last
        will, ``offline``) or bring it back (it reconnects, says ``online`` and its state)."""
        link = self.links.get(f"{device.kind}/{device.device_id}")
        device.online = online
        if link is None:
            return
        if not online:
            link.kill()
            return
        await link.async_connect(CONNECT_TIMEOUT)

    async def async_camera(self, lift: SimDevice, confidence: float = 0.93) -> int:
        """The lift's e-bike camera POSTs what it sees to the hub's webhook."""
        if self.camera_url is None:
            return 0
        body = camera_push(lift, self._hub.clock.utcnow(), confidence)
        try:
            return await async_push(self._http(), self.camera_url, self.camera_secret, body)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            # A camera that cannot reach the hub tries again with its next detection.
            _LOGGER.info("Camera of lift %s could not push: %s", lift.device_id, err)
            return 0

    async def async_disconnect(self) -> None:
        """Devices switch off: each says ``offline`` and disconnects cleanly."""
        for key, link in self.links.items():
            device = self.devices.get(key)
            if device is None or device.online:
                kind, device_id = key.split("/", 1)
                will = topic(self.prefix, kind, device_id, Channel.AVAILABILITY)
                link.publish(will, OFFLINE, qos=1, retain=True)
            link.disconnect()
        self.links = {}
        if self._pushes:  # let the cameras finish what they are posting
            await asyncio.wait(self._pushes, timeout=5)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ running
    def _local_hour(self, now: datetime) -> float:
        local = now.astimezone(ZoneInfo(self._hub.config.time_zone))
        return local.hour + local.minute / 60

    def _advance(self, now: datetime, seconds: float) -> list[SimDevice]:
        """Move every reading; return the lifts whose camera saw a change."""
        hour = self._local_hour(now)
        changed = []
        for device in self.devices.values():
            before = device.ebike
            device.advance(hour, seconds, self._rng)
            if device.kind is Kind.LIFT and device.ebike != before:
                changed.append(device)
        return changed

    @callback
    def step(self, now: datetime | None = None) -> int:
        """Move every reading one step and publish it; return the messages published.

        A lift whose camera sees an e-bike come or go also publishes the event and its
        camera pushes the detection to the webhook.
        """
        now = now or self._hub.clock.utcnow()
        changed = self._advance(now, self.update_interval)
        self.steps += 1
        before = self.published
        for device in self.devices.values():
            self.publish_state(device, now)
        for lift in changed:
            self.lift_ebike(lift, lift.ebike, now)
        # Doors and barriers close behind whoever went through since the last step.
        for terminal in self.terminals.values():
            terminal.relock()
        for gate in self.gates.values():
            gate.lower_barrier()
            if gate.protocol == "http":
                self._background(self._poll(gate), f"demo gate {gate.gate_id}")
        if self.traffic > 0:
            self._everyday_traffic()
        return self.published - before

    def _everyday_traffic(self) -> None:
        """Residents come and go through the doors, cars (now and then a stranger's) arrive."""
        from linli_demo.access import ADULT_AGE, agrees_to_face

        rng = self._access_rng
        people = self._hub.registries.people
        year = self._hub.clock.utcnow().year
        residents = sorted(p.id for p in people.persons.values() if p.household_id is not None)
        households = sorted(people.households)
        if not residents:
            return
        for terminal_id in sorted({*self.terminals, *self.isapi_terminals}):
            if rng.random() >= self.traffic:
                continue
            person_id = rng.choice(residents)
            age = people.persons[person_id].age_in(year)
            by_face = age is not None and age >= ADULT_AGE
            if by_face and agrees_to_face(person_id, self._seed, self.face_share):
                self._background(self.async_face(terminal_id, person_id), "demo door")
            else:
                self._background(self.async_card(terminal_id, person_id), "demo door")
        for gate in self.gates.values():
            if gate.direction == "out" or rng.random() >= self.traffic:
                continue
            cars = self.plates_of(rng.choice(households)) if households else []
            plate, color = rng.choice(cars) if cars and rng.random() < 0.9 else self.visitor_plate()
            self._background(self.async_plate(gate.gate_id, plate, color), "demo gate")

    def lift_ebike(self, lift: SimDevice, seen: bool, now: datetime | None = None) -> None:
        """An e-bike enters (or leaves) ``lift``: its MQTT event, and its camera's push."""
        now = now or self._hub.clock.utcnow()
        lift.ebike = seen
        event = "ebike_entered" if seen else "ebike_left"
        self.publish(lift, Channel.EVENT, lift.event_payload(event, now, floor=lift.floor))
        self._background(self.async_camera(lift), f"demo camera {lift.device_id}")

    def _background(self, push: Coroutine[Any, Any, Any], name: str) -> None:
        """A device posting on its own (the demo lets it finish before it stops)."""
        task = self._hub.async_create_task(push, name)
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    def find(self, key: str) -> SimDevice:
        """Return the device ``<kind>/<device_id>``; KeyError names the known kinds."""
        try:
            return self.devices[key]
        except KeyError:
            raise KeyError(f"no simulated device {key!r}") from None

    def of_kind(self, kind: Kind) -> Iterable[SimDevice]:
        """The devices of one kind."""
        return (d for d in self.devices.values() if d.kind is kind)

    @callback
    def start(self, interval: float) -> None:
        """Move the readings every ``interval`` seconds until :meth:`stop`."""
        self._unsubscribe.append(self._hub.async_track_time_interval(self._tick, interval))
        _LOGGER.info(
            "Demo community: %d simulated devices publishing every %g s "
            "(the demo.step service moves them at once)",
            len(self.devices),
            interval,
        )

    @callback
    def _tick(self, now: datetime) -> None:
        self.step(now)
        _LOGGER.info("%s", self.summary())

    def summary(self) -> str:
        """One line on what the community is doing now, for the demo's log."""
        devices = list(self.devices.values())
        meters = [d for d in devices if d.kind is Kind.METER and d.device_id != self.community_id]
        total = main_meter_total(devices, self.community_id) / 1000
        lifts = [d for d in devices if d.kind is Kind.LIFT]
        busy = sum(1 for d in devices if d.kind is Kind.SENSOR and d.load_kg)
        text = (
            f"Step {self.steps}: {len(meters)} flats draw {total:.1f} kW; "
            f"{busy} of {len(lifts)} lifts in use; {self.published} messages sent"
        )
        if self.terminals or self.isapi_terminals:
            opened = sum(t.opened for t in self.terminals.values()) + sum(
                t.opened for t in self.isapi_terminals.values()
            )
            text += f"; doors opened {opened} times"
        if self.gates:
            kept = sum(len(g.buffer) for g in self.gates.values())
            text += f"; barriers raised {sum(g.opened for g in self.gates.values())} times"
            if kept:
                text += f" ({kept} plate records waiting for the hub)"
        ebikes = [d.name for d in lifts if d.ebike]
        if ebikes:
            text += "; e-bike in the lift at " + ", ".join(ebikes)
        return text

    @callback
    def stop(self) -> None:
        """Stop moving the readings."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
