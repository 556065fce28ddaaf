"""The kinds every hub understands: ``meter``, ``lift``, ``people_counter`` and ``sensor``."""

from __future__ import annotations

from typing import Final

from linli_mqtt.devices.builtin_schemas import BUILTIN_SCHEMAS
from linli_mqtt.devices.entities import (
    BinarySensorField,
    EventField,
    SensorField,
    field_entities,
    value_sensor_entities,
)
from linli_mqtt.devices.model import DeviceKind

METER: Final = DeviceKind(
    "meter",
    schemas=BUILTIN_SCHEMAS["meter"],
    entities=field_entities(
        SensorField("power_w", "Power", "W", "power", "measurement"),
        SensorField("energy_kwh", "Energy", "kWh", "energy", "total_increasing"),
    ),
    name="Meter",
)

LIFT: Final = DeviceKind(
    "lift",
    schemas=BUILTIN_SCHEMAS["lift"],
    entities=field_entities(
        SensorField("floor", "Floor", icon="mdi:elevator", state_class="measurement"),
        SensorField(
            "door",
            "Door",
            device_class="enum",
            icon="mdi:elevator-passenger",
            options=("open", "closed", "opening", "closing"),
        ),
        BinarySensorField("ebike_detected", "E-bike detected", icon="mdi:bicycle-electric"),
        EventField("event", "E-bike", ("ebike_entered", "ebike_left"), icon="mdi:bicycle-electric"),
    ),
    name="Lift",
)

PEOPLE_COUNTER: Final = DeviceKind(
    "people_counter",
    schemas=BUILTIN_SCHEMAS["people_counter"],
    entities=field_entities(
        SensorField(
            "count",
            "People",
            "people",
            state_class="measurement",
            icon="mdi:account-group",
            attributes=("entered", "exited"),
        ),
    ),
    name="People counter",
)

SENSOR: Final = DeviceKind(
    "sensor",
    schemas=BUILTIN_SCHEMAS["sensor"],
    entities=value_sensor_entities,
    name="Sensor",
)

BUILTIN_KINDS: Final = (METER, LIFT, PEOPLE_COUNTER, SENSOR)
