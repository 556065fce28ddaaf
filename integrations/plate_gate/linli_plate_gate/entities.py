"""The entities of plate gates: a barrier (cover) and a camera (event) per gate, and the
occupancy (sensor) of each car park.

Plate numbers never go into entity states or attributes: states are recorded into history,
which the gate log's retention policy does not reach. The camera's event says what was
decided and carries the ``read_id`` that finds the read in the gate log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from linli import Context, callback
from linli.entity import (
    CoverEntity,
    CoverEntityFeature,
    DeviceInfo,
    EventEntity,
    SensorEntity,
    SensorStateClass,
)
from linli_plate_gate.const import DOMAIN, Decision

if TYPE_CHECKING:
    from linli_plate_gate.config import CarPark, GateConfig
    from linli_plate_gate.gate import GateManager


def slug(text: str) -> str:
    """An object-id part from a configured id (``north-1`` → ``north_1``)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "gate"


def _gate_device(gate: GateConfig) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, f"gate:{gate.id}")},
        name=gate.name,
        model="ANPR gate (HTTP push)" if gate.kind == "http" else "ANPR gate (MQTT)",
        suggested_area=gate.area_id,
    )


class BarrierCover(CoverEntity):
    """A gate's barrier: ``cover.open_cover`` opens it (logged as a manual open)."""

    device_class = "gate"
    has_entity_name = True
    supported_features = CoverEntityFeature.OPEN | CoverEntityFeature.CLOSE

    def __init__(self, manager: GateManager, gate: GateConfig) -> None:
        """The barrier of ``gate``; closed until it is opened."""
        self._manager = manager
        self.gate = gate
        self.unique_id = f"{gate.id}/barrier"
        self.entity_id = f"cover.{slug(gate.id)}_barrier"
        self.name = "Barrier"
        self.device_info = _gate_device(gate)
        self._attr_is_closed = True
        self._attr_extra_state_attributes = {"gate_id": gate.id, "car_park": gate.car_park}

    @callback
    def set_open(self, is_open: bool) -> None:
        """Show the barrier open or closed."""
        self._attr_is_closed = not is_open
        self.async_schedule_write_state()

    def _user_id(self) -> str | None:
        context: Context | None = self._context
        return None if context is None else context.user_id

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Open the barrier by hand (logged with who asked)."""
        await self._manager.async_open(
            self.gate.id, None, user_id=self._user_id(), context=self._context
        )

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Close the barrier (MQTT gates get ``close``; an HTTP gate's queued open is dropped)."""
        await self._manager.async_close(self.gate.id)


class GateCamera(EventEntity):
    """A gate's ANPR camera: one event per read, typed by the decision."""

    has_entity_name = True
    event_types = tuple(decision.value for decision in Decision)

    def __init__(self, gate: GateConfig) -> None:
        """The camera of ``gate``."""
        self.gate = gate
        self.unique_id = f"{gate.id}/camera"
        self.entity_id = f"event.{slug(gate.id)}_camera"
        self.name = "Camera"
        self.device_info = _gate_device(gate)

    @callback
    def record(self, decision: str, attributes: Mapping[str, Any]) -> None:
        """Show a read (no plate number: see the module docstring)."""
        self._trigger_event(decision, attributes)
        self.async_schedule_write_state()


class CarParkOccupancy(SensorEntity):
    """How many cars are in a car park; ``capacity`` and ``free`` as attributes."""

    has_entity_name = True
    state_class = SensorStateClass.MEASUREMENT
    icon = "mdi:car-multiple"

    def __init__(self, park: CarPark) -> None:
        """The occupancy of ``park``."""
        self.park = park
        self.unique_id = f"car_park/{park.id}/occupancy"
        self.entity_id = f"sensor.{slug(park.id)}_occupancy"
        self.name = "Occupancy"
        self.device_info = DeviceInfo(
            identifiers={(DOMAIN, f"car_park:{park.id}")},
            name=park.name,
            model="Car park",
            suggested_area=park.area_id,
        )
        self._attr_native_value = 0

    @callback
    def set_count(self, count: int) -> None:
        """Show ``count`` cars in."""
        self._attr_native_value = count
        self._attr_extra_state_attributes = {
            "cars_in": count,
            "capacity": self.park.capacity,
            "free": max(0, self.park.capacity - count),
        }
        self.async_schedule_write_state()
