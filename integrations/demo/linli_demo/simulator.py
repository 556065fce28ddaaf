"""The simulated community in a hub: households, residents and devices whose readings change."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from linli import Event, Hub, callback
from linli.clock import CancelCallback
from linli.registry import AreaEntry, EntityEntry
from linli.registry.devices import EVENT_DEVICE_REGISTRY_UPDATED
from linli.registry.entities import EVENT_ENTITY_REGISTRY_UPDATED
from linli_demo.community import (
    READINGS,
    ReadingKind,
    daily_power_factor,
    ebike_in_elevator,
    elevator_load,
    foot_traffic,
    household_name,
    localized,
    next_power,
    place_name,
    plan_households,
)

_LOGGER = logging.getLogger(__name__)

DOMAIN = "demo"
MANUFACTURER = "Linli demo"


@dataclass(slots=True)
class SimulatedEntity:
    """One simulated entity: its current entity_id, what it measures and its last value."""

    entity_id: str
    kind: ReadingKind
    peak: float = 0.0
    value: float = 0.0


def _object_id(area_id: str, suffix: str) -> str:
    return f"{area_id.replace('-', '_')}_{suffix}".lower()


class Simulator:
    """Builds the simulated community in the registries and keeps its entities' states moving.

    Entities the user disabled (or whose device they disabled) get no state; an entity removed
    from the registry is dropped for the rest of the run; a renamed entity_id is followed.
    """

    def __init__(self, hub: Hub, *, seed: int, occupancy: float) -> None:
        self._hub = hub
        self._seed = seed
        self._occupancy = occupancy
        self._rng = random.Random(seed)
        self._entities: dict[str, SimulatedEntity] = {}
        self._unsubscribe: list[CancelCallback] = []
        self.steps = 0
        """How many times the readings have moved since setup."""

    @property
    def entities(self) -> list[SimulatedEntity]:
        """The simulated entities, in registration order."""
        return list(self._entities.values())

    # ------------------------------------------------------------------ building
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

    def register_entities(self) -> None:
        """Register the simulated devices and entities, and give each its first state."""
        areas = self._hub.registries.areas
        lived_in = {
            room for h in self._hub.registries.people.households.values() for room in h.room_ids
        }
        hour = self._local_hour(self._hub.clock.utcnow())
        for room in sorted(areas.async_get_by_kind("room"), key=lambda a: a.id):
            if room.id in lived_in:
                peak = self._rng.uniform(800, 3500)
                self._add(room, ReadingKind.POWER, peak, peak * daily_power_factor(hour))
        self._add(areas.areas[areas.root_id], ReadingKind.TOTAL_POWER)
        for unit in sorted(areas.async_get_by_kind("unit"), key=lambda a: a.id):
            self._add(unit, ReadingKind.ELEVATOR_LOAD)
            self._add(unit, ReadingKind.ELEVATOR_EBIKE)
        for zone in sorted(areas.async_get_by_kind("zone"), key=lambda a: a.id):
            self._add(zone, ReadingKind.FOOT_TRAFFIC, peak=40)
        bus = self._hub.bus
        self._unsubscribe += [
            bus.async_listen(EVENT_ENTITY_REGISTRY_UPDATED, self._async_entity_changed),
            bus.async_listen(EVENT_DEVICE_REGISTRY_UPDATED, self._async_device_changed),
        ]
        self.step()

    def _place(self, area: AreaEntry) -> str:
        areas = self._hub.registries.areas
        language = self._hub.config.language
        chain = [*areas.ancestors(area.id), area]
        return place_name([(str(a.kind), a.display_name(language)) for a in chain])

    def _add(
        self, area: AreaEntry, kind: ReadingKind, peak: float = 0.0, value: float = 0.0
    ) -> None:
        reading = READINGS[kind]
        registries = self._hub.registries
        language = self._hub.config.language
        place = self._place(area)
        device = registries.devices.async_get_or_create(
            DOMAIN,
            identifiers=[(DOMAIN, f"{reading.device.key}-{area.id}")],
            manufacturer=MANUFACTURER,
            model=reading.device.model,
            name=f"{place} {localized(reading.device.names, language)}",
            area_id=area.id,
        )
        entry = registries.entities.async_get_or_create(
            reading.domain,
            DOMAIN,
            f"{area.id}-{reading.suffix}",
            suggested_object_id=_object_id(area.id, reading.suffix),
            device_id=device.id,
            original_name=f"{place} {localized(reading.names, language)}",
            unit_of_measurement=self._unit(kind),
        )
        # Disabled ones too: they get no state, but come back if the user enables them.
        self._entities[entry.entity_id] = SimulatedEntity(entry.entity_id, kind, peak, value)

    def _unit(self, kind: ReadingKind) -> str | None:
        units = READINGS[kind].units
        return None if units is None else localized(units, self._hub.config.language)

    def _active(self, entry: EntityEntry | None) -> bool:
        if entry is None or entry.disabled:
            return False
        if entry.device_id is None:
            return True
        device = self._hub.registries.devices.async_get(entry.device_id)
        return device is None or not device.disabled

    # ------------------------------------------------------------------ running
    def _local_hour(self, now: datetime) -> float:
        local = now.astimezone(ZoneInfo(self._hub.config.time_zone))
        return local.hour + local.minute / 60

    @callback
    def step(self, now: datetime | None = None) -> None:
        """Move every simulated reading one step and write the states."""
        hour = self._local_hour(now or self._hub.clock.utcnow())
        rng = self._rng
        for sim in self._entities.values():
            if not self._active(self._entry(sim)):
                continue
            if sim.kind is ReadingKind.POWER:
                sim.value = round(next_power(sim.value, sim.peak, hour, rng))
            elif sim.kind is ReadingKind.ELEVATOR_LOAD:
                sim.value = elevator_load(rng)
            elif sim.kind is ReadingKind.ELEVATOR_EBIKE:
                sim.value = 1.0 if ebike_in_elevator(rng) else 0.0
            elif sim.kind is ReadingKind.FOOT_TRAFFIC:
                sim.value = foot_traffic(sim.peak, hour, rng)
        self.steps += 1
        for sim in self.entities:
            self._write(sim)

    def meters(self) -> list[SimulatedEntity]:
        """Return the household meters that have a state (enabled, on an enabled device)."""
        return [
            sim
            for sim in self._entities.values()
            if sim.kind is ReadingKind.POWER and self._active(self._entry(sim))
        ]

    def _entry(self, sim: SimulatedEntity) -> EntityEntry | None:
        return self._hub.registries.entities.async_get(sim.entity_id)

    def _write(self, sim: SimulatedEntity) -> None:
        entry = self._entry(sim)
        if not self._active(entry):
            self._hub.states.async_remove(sim.entity_id)
            return
        assert entry is not None
        reading = READINGS[sim.kind]
        attributes: dict[str, Any] = {"friendly_name": entry.display_name or sim.entity_id}
        if (unit := self._unit(sim.kind)) is not None:
            attributes["unit_of_measurement"] = unit
        if reading.device_class is not None:
            attributes["device_class"] = reading.device_class
        if sim.kind is ReadingKind.ELEVATOR_EBIKE:
            state = "on" if sim.value else "off"
        elif sim.kind is ReadingKind.TOTAL_POWER:
            meters = self.meters()
            sim.value = sum(round(meter.value) for meter in meters)
            state = str(round(sim.value))
            attributes["meters"] = len(meters)
        else:
            state = str(round(sim.value))
        self._hub.states.async_set(sim.entity_id, state, attributes)

    @callback
    def _async_entity_changed(self, event: Event[Mapping[str, Any]]) -> None:
        """Follow the user's changes to our entities: removed, renamed, disabled, enabled."""
        entity_id: str = event.data["entity_id"]
        old_id: str = event.data.get("old_entity_id", entity_id)
        sim = self._entities.get(old_id)
        if sim is None:
            return
        if event.data["action"] == "remove":
            # Gone for the rest of this run; the next start registers it again.
            del self._entities[old_id]
            self._hub.states.async_remove(old_id)
        elif event.data["action"] == "update":
            if old_id != entity_id:
                self._hub.states.async_remove(old_id)
                del self._entities[old_id]
                sim.entity_id = entity_id
                self._entities[entity_id] = sim
            self._write(sim)
        if sim.kind is ReadingKind.POWER:
            self._write_totals()

    @callback
    def _async_device_changed(self, event: Event[Mapping[str, Any]]) -> None:
        """Remove or restore the states of a device's entities when it is disabled or enabled."""
        if event.data.get("action") != "update" or "disabled_by" not in event.data["changes"]:
            return
        device_id = event.data["id"]
        for sim in self.entities:
            entry = self._entry(sim)
            if entry is not None and entry.device_id == device_id:
                self._write(sim)
        self._write_totals()

    def _write_totals(self) -> None:
        for sim in self.entities:
            if sim.kind is ReadingKind.TOTAL_POWER:
                self._write(sim)

    # ------------------------------------------------------------------ lifecycle
    @callback
    def start(self, interval: float) -> None:
        """Move the readings every ``interval`` seconds until :meth:`stop`."""
        self._unsubscribe.append(self._hub.async_track_time_interval(self._tick, interval))
        _LOGGER.info(
            "Demo community: %d simulated entities, updated every %g s "
            "(the demo.step service moves them at once)",
            len(self._entities),
            interval,
        )

    @callback
    def _tick(self, now: datetime) -> None:
        self.step(now)
        _LOGGER.info("%s", self.summary())

    def summary(self) -> str:
        """One line on what the community is doing now, for the demo's log."""
        meters = self.meters()
        total = sum(round(m.value) for m in meters) / 1000
        ebikes = [
            self._place_of(sim)
            for sim in self.entities
            if sim.kind is ReadingKind.ELEVATOR_EBIKE and sim.value
        ]
        lifts = [sim for sim in self.entities if sim.kind is ReadingKind.ELEVATOR_LOAD]
        busy = sum(1 for sim in lifts if sim.value)
        text = (
            f"Step {self.steps}: {len(meters)} flats draw {total:.1f} kW; "
            f"{busy} of {len(lifts)} lifts in use"
        )
        if ebikes:
            text += "; e-bike in the lift at " + ", ".join(ebikes)
        return text

    def _place_of(self, sim: SimulatedEntity) -> str:
        entry = self._entry(sim)
        if entry is None or entry.device_id is None:
            return sim.entity_id
        device = self._hub.registries.devices.async_get(entry.device_id)
        area = (
            self._hub.registries.areas.async_get(device.area_id)
            if device and device.area_id
            else None
        )
        return sim.entity_id if area is None else self._place(area)

    @callback
    def stop(self) -> None:
        """Stop moving the readings and following the entity registry."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
