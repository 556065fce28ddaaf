"""The simulated community: households, residents and devices whose readings keep changing."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from linli import Hub, callback
from linli.registry.areas import AreaEntry
from linli_demo.community import daily_power_factor, plan_households

_LOGGER = logging.getLogger(__name__)

DOMAIN = "demo"
MANUFACTURER = "Linli demo"


@dataclass(slots=True)
class SimulatedEntity:
    """One simulated reading: its entity id, how it moves, and its current value."""

    entity_id: str
    kind: str
    value: float
    peak: float = 0.0


def _object_id(area_id: str, suffix: str) -> str:
    return f"{area_id.replace('-', '_')}_{suffix}".lower()


class Simulator:
    """Builds the simulated community in the registries and updates its entities."""

    def __init__(self, hub: Hub, *, seed: int, occupancy: float) -> None:
        self._hub = hub
        self._seed = seed
        self._occupancy = occupancy
        self._rng = random.Random(seed)
        self.entities: list[SimulatedEntity] = []
        self.steps = 0

    # ------------------------------------------------------------------ building
    def populate(self) -> None:
        """Create households and residents for lived-in rooms (once; kept across restarts)."""
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

    def _household_name(self, room: AreaEntry) -> str:
        areas = self._hub.registries.areas
        numbers = [
            a.name.rstrip("号楼单元")
            for a in areas.ancestors(room.id)
            if a.kind in ("building", "unit")
        ]
        return "-".join([*numbers, room.name])

    def register_entities(self) -> None:
        """Register the simulated devices and their entities, and set their first states."""
        areas = self._hub.registries.areas
        lived_in = {
            room for h in self._hub.registries.people.households.values() for room in h.room_ids
        }
        for room in sorted(areas.async_get_by_kind("room"), key=lambda a: a.id):
            if room.id not in lived_in:
                continue
            self._add(
                room,
                "meter",
                "Simulated electricity meter",
                "sensor",
                "power",
                "用电功率",
                "W",
                peak=self._rng.uniform(800, 3500),
            )
        for unit in sorted(areas.async_get_by_kind("unit"), key=lambda a: a.id):
            self._add(
                unit,
                "elevator",
                "Simulated elevator camera",
                "sensor",
                "elevator_load",
                "电梯载重",
                "kg",
                peak=1000,
            )
            self._add(
                unit,
                "elevator",
                "Simulated elevator camera",
                "binary_sensor",
                "elevator_ebike",
                "电梯电动车",
                None,
            )
        for zone in sorted(areas.async_get_by_kind("zone"), key=lambda a: a.id):
            self._add(
                zone,
                "counter",
                "Simulated people counter",
                "sensor",
                "people",
                "人流量",
                "人",
                peak=40,
            )
        self.step()

    def _add(
        self,
        area: AreaEntry,
        device_kind: str,
        model: str,
        domain: str,
        suffix: str,
        label: str,
        unit: str | None,
        peak: float = 0.0,
    ) -> None:
        registries = self._hub.registries
        device = registries.devices.async_get_or_create(
            DOMAIN,
            identifiers=[(DOMAIN, f"{device_kind}-{area.id}")],
            manufacturer=MANUFACTURER,
            model=model,
            name=f"{registries.areas.path_name(area.id)} {model}",
            area_id=area.id,
        )
        entry = registries.entities.async_get_or_create(
            domain,
            DOMAIN,
            f"{area.id}-{suffix}",
            suggested_object_id=_object_id(area.id, suffix),
            device_id=device.id,
            original_name=f"{registries.areas.path_name(area.id)} {label}",
            unit_of_measurement=unit,
        )
        if entry.disabled:
            return
        self.entities.append(SimulatedEntity(entry.entity_id, suffix, 0.0, peak))

    # ------------------------------------------------------------------ running
    @callback
    def step(self, now: datetime | None = None) -> None:
        """Move every simulated reading one step and write the states."""
        now = now or self._hub.clock.utcnow()
        local = now.astimezone(ZoneInfo(self._hub.config.time_zone))
        hour = local.hour + local.minute / 60
        rng = self._rng
        entities = self._hub.registries.entities
        for sim in self.entities:
            entry = entities.async_get(sim.entity_id)
            attributes: dict[str, object] = {
                "friendly_name": (entry.display_name if entry else None) or sim.entity_id
            }
            if sim.kind == "power":
                target = sim.peak * daily_power_factor(hour)
                sim.value = max(5.0, sim.value + (target - sim.value) * 0.3 + rng.gauss(0, 40))
                state = f"{sim.value:.0f}"
                attributes |= {"unit_of_measurement": "W", "device_class": "power"}
            elif sim.kind == "elevator_load":
                sim.value = rng.choice((0, 0, 0, 65, 130, 190, 260)) + rng.uniform(0, 20)
                state = f"{sim.value:.0f}" if sim.value > 20 else "0"
                attributes |= {"unit_of_measurement": "kg"}
            elif sim.kind == "elevator_ebike":
                sim.value = 1.0 if rng.random() < 0.03 else 0.0
                state = "on" if sim.value else "off"
                attributes |= {"device_class": "occupancy"}
            else:
                sim.value = max(0.0, sim.peak * daily_power_factor(hour) + rng.gauss(0, 3))
                state = f"{sim.value:.0f}"
                attributes |= {"unit_of_measurement": "人"}
            self._hub.states.async_set(sim.entity_id, state, attributes)
        self._write_total()
        self.steps += 1

    def _write_total(self) -> None:
        total = sum(s.value for s in self.entities if s.kind == "power")
        self._hub.states.async_set(
            "sensor.demo_community_power",
            f"{total / 1000:.1f}",
            {
                "friendly_name": "全小区用电功率",
                "unit_of_measurement": "kW",
                "device_class": "power",
                "households": sum(1 for s in self.entities if s.kind == "power"),
            },
        )
