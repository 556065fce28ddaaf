"""The domain classes: states and attributes as Home Assistant writes them, and services."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from linli.clock import FakeClock
from linli.entity import (
    ButtonEntity,
    CameraEntity,
    CoverEntity,
    CoverEntityFeature,
    DeviceTrackerEntity,
    EventEntity,
    LockEntity,
    LockEntityFeature,
    SensorEntity,
    SirenEntity,
    SirenEntityFeature,
    async_add_entities,
)
from linli.exceptions import LinliError, ServiceValidationError
from linli.hub import Hub
from linli.state import State


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


class GateLock(LockEntity):
    """A gate lock that obeys at once."""

    supported_features = LockEntityFeature.OPEN
    code_format = r"^\d{4}$"

    def __init__(self) -> None:
        self.unique_id = "gate-lock"
        self.name = "Gate"
        self._attr_is_locked = True
        self.codes: list[str | None] = []

    async def async_lock(self, **kwargs: Any) -> None:
        self.codes.append(kwargs.get("code"))
        self._attr_is_locked, self._attr_is_open = True, False
        self.async_write_state()

    async def async_unlock(self, **kwargs: Any) -> None:
        self.codes.append(kwargs.get("code"))
        self._attr_is_locked = False
        self.async_write_state()

    async def async_open(self, **kwargs: Any) -> None:
        self.codes.append(kwargs.get("code"))
        self._attr_is_open = True
        self.async_write_state()


async def test_lock_states_and_services(hub: Hub) -> None:
    lock = GateLock()
    await async_add_entities(hub, "gates", [lock])
    state = _state(hub, "lock.gate")
    assert state.state == "locked"
    assert state.attributes["code_format"] == r"^\d{4}$"
    assert state.attributes["supported_features"] == 1

    await hub.services.async_call("lock", "unlock", {"entity_id": "lock.gate", "code": "1234"})
    assert _state(hub, "lock.gate").state == "unlocked"
    await hub.services.async_call("lock", "open", {"entity_id": "lock.gate"})
    assert _state(hub, "lock.gate").state == "open"
    await hub.services.async_call("lock", "lock", {"entity_id": "lock.gate"})
    assert _state(hub, "lock.gate").state == "locked"
    assert lock.codes == ["1234", None, None]

    # Home Assistant's order: jammed wins over everything, then the moving states.
    lock._attr_is_locking = True
    lock.async_write_state()
    assert _state(hub, "lock.gate").state == "locking"
    lock._attr_is_jammed = True
    lock.async_write_state()
    assert _state(hub, "lock.gate").state == "jammed"
    lock._attr_is_jammed = lock._attr_is_locking = lock._attr_is_locked = None
    lock.async_write_state()
    assert _state(hub, "lock.gate").state == "unknown"


class Barrier(CoverEntity):
    """A car park barrier with a position."""

    device_class = "gate"
    supported_features = (
        CoverEntityFeature.OPEN
        | CoverEntityFeature.CLOSE
        | CoverEntityFeature.STOP
        | CoverEntityFeature.SET_POSITION
    )

    def __init__(self) -> None:
        self.unique_id = "barrier"
        self.name = "Barrier"
        self._attr_is_closed = True
        self._attr_current_cover_position = 0
        self.calls: list[str] = []

    def _move(self, position: int) -> None:
        self._attr_current_cover_position = position
        self._attr_is_closed = position == 0
        self._attr_is_opening = self._attr_is_closing = False
        self.async_write_state()

    async def async_open_cover(self, **kwargs: Any) -> None:
        self.calls.append("open")
        self._move(100)

    async def async_close_cover(self, **kwargs: Any) -> None:
        self.calls.append("close")
        self._move(0)

    async def async_stop_cover(self, **kwargs: Any) -> None:
        self.calls.append("stop")
        self._attr_is_opening = self._attr_is_closing = False
        self.async_write_state()

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        self.calls.append(f"position {kwargs['position']}")
        self._move(kwargs["position"])


async def test_cover_states_and_services(hub: Hub) -> None:
    barrier = Barrier()
    await async_add_entities(hub, "parking", [barrier])
    state = _state(hub, "cover.barrier")
    assert (state.state, state.attributes["current_position"]) == ("closed", 0)

    target = {"entity_id": "cover.barrier"}
    await hub.services.async_call("cover", "open_cover", target)
    assert _state(hub, "cover.barrier").state == "open"
    await hub.services.async_call("cover", "set_cover_position", {**target, "position": "40"})
    state = _state(hub, "cover.barrier")
    assert (state.state, state.attributes["current_position"]) == ("open", 40)
    with pytest.raises(ServiceValidationError, match="position"):
        await hub.services.async_call("cover", "set_cover_position", {**target, "position": 101})
    with pytest.raises(ServiceValidationError, match="position"):
        await hub.services.async_call("cover", "set_cover_position", target)

    barrier._attr_is_opening = True
    barrier.async_write_state()
    assert _state(hub, "cover.barrier").state == "opening"
    await hub.services.async_call("cover", "toggle", target)  # moving: toggle stops it
    await hub.services.async_call("cover", "close_cover", target)
    await hub.services.async_call("cover", "toggle", target)  # closed: toggle opens
    await hub.services.async_call("cover", "stop_cover", target)
    assert barrier.calls == ["open", "position 40", "stop", "close", "open", "stop"]


async def test_button_state_is_the_last_press(hub: Hub, clock: FakeClock) -> None:
    pressed: list[str] = []

    class OpenOnce(ButtonEntity):
        async def async_press(self) -> None:
            pressed.append("press")

    button = OpenOnce()
    button.name = "Open gate once"
    await async_add_entities(hub, "gates", [button])
    assert _state(hub, "button.open_gate_once").state == "unknown"
    await hub.services.async_call("button", "press", {"entity_id": "button.open_gate_once"})
    assert pressed == ["press"]
    assert _state(hub, "button.open_gate_once").state == clock.utcnow().isoformat()


async def test_event_entity(hub: Hub, clock: FakeClock) -> None:
    class Doorbell(EventEntity):
        device_class = "doorbell"
        event_types = ("ring", "long_press")

    bell = Doorbell()
    bell.name = "Doorbell 1201"
    await async_add_entities(hub, "bells", [bell])
    state = _state(hub, "event.doorbell_1201")
    assert state.state == "unknown"
    assert state.attributes["event_types"] == ["ring", "long_press"]
    assert state.attributes["event_type"] is None

    clock.advance(5)
    bell._trigger_event("ring", {"button": 1})
    bell.async_write_state()
    state = _state(hub, "event.doorbell_1201")
    assert state.state == clock.utcnow().isoformat()
    assert (state.attributes["event_type"], state.attributes["button"]) == ("ring", 1)
    with pytest.raises(ValueError, match="Invalid event type knock"):
        bell._trigger_event("knock")


async def test_device_tracker_home_zone_and_not_home(hub: Hub) -> None:
    hub.config.latitude, hub.config.longitude = 28.2282, 112.9388
    hub.states.async_set(
        "zone.school",
        "0",
        {"friendly_name": "School", "latitude": 28.2400, "longitude": 112.9500, "radius": 200},
    )

    class Wristband(DeviceTrackerEntity):
        pass

    band = Wristband()
    band.name = "Grandpa"
    await async_add_entities(hub, "wristbands", [band])
    assert _state(hub, "device_tracker.grandpa").state == "unknown"

    def at(lat: float, lon: float, accuracy: float = 10) -> State:
        band._attr_latitude, band._attr_longitude, band._attr_gps_accuracy = lat, lon, accuracy
        band.async_write_state()
        return _state(hub, "device_tracker.grandpa")

    home = at(28.2283, 112.9389)
    assert home.state == "home"
    assert home.attributes["source_type"] == "gps"
    assert home.attributes["gps_accuracy"] == 10
    assert at(28.2401, 112.9501).state == "School"
    assert at(28.3, 113.0).state == "not_home"
    band._attr_location_name = "work"
    band.async_write_state()
    assert _state(hub, "device_tracker.grandpa").state == "work"


class Sounder(SirenEntity):
    """A building's fire-alarm sounder."""

    supported_features = (
        SirenEntityFeature.TURN_ON
        | SirenEntityFeature.TURN_OFF
        | SirenEntityFeature.TONES
        | SirenEntityFeature.DURATION
    )

    def __init__(self) -> None:
        self.name = "Sounder"
        self.available_tones = {1: "fire", 2: "evacuate"}
        self._attr_is_on = False
        self.turned_on: list[dict[str, Any]] = []

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.turned_on.append(kwargs)
        self._attr_is_on = True
        self.async_write_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        self.async_write_state()


async def test_siren_services_and_tones(hub: Hub) -> None:
    siren = Sounder()
    await async_add_entities(hub, "alarm", [siren])
    state = _state(hub, "siren.sounder")
    assert state.state == "off"
    assert state.attributes["available_tones"] == {1: "fire", 2: "evacuate"}

    target = {"entity_id": "siren.sounder"}
    await hub.services.async_call(
        "siren", "turn_on", {**target, "tone": "evacuate", "duration": 30}
    )
    assert siren.turned_on == [{"tone": 2, "duration": 30}]
    assert _state(hub, "siren.sounder").state == "on"
    await hub.services.async_call("siren", "toggle", target)
    assert _state(hub, "siren.sounder").state == "off"
    with pytest.raises(ServiceValidationError, match="Invalid tone"):
        await hub.services.async_call("siren", "turn_on", {**target, "tone": "party"})
    with pytest.raises(ServiceValidationError, match="does not support setting volume_level"):
        await hub.services.async_call("siren", "turn_on", {**target, "volume_level": 0.5})
    with pytest.raises(ServiceValidationError):
        await hub.services.async_call("siren", "turn_on", {**target, "volume_level": 2})


class StillCamera(CameraEntity):
    """A camera that has one picture."""

    brand = "Hikvision"

    def __init__(self, name: str, image: bytes | None = b"\xff\xd8jpeg\xff\xd9") -> None:
        self.name = name
        self.image = image

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return self.image


async def test_camera_state_and_snapshot_inside_www_only(hub: Hub, tmp_path: Path) -> None:
    camera = StillCamera("Lift 3")
    await async_add_entities(hub, "cams", [camera])
    state = _state(hub, "camera.lift_3")
    assert state.state == "idle"
    assert state.attributes["entity_picture"] == "/api/camera_proxy/camera.lift_3"
    assert state.attributes["brand"] == "Hikvision"
    camera._attr_is_streaming = True
    camera.async_write_state()
    assert _state(hub, "camera.lift_3").state == "streaming"

    target = {"entity_id": "camera.lift_3"}
    await hub.services.async_call(
        "camera", "snapshot", {**target, "filename": "www/snapshots/{{ entity_id }}.jpg"}
    )
    written = hub.config_dir / "www" / "snapshots" / "camera.lift_3.jpg"
    assert written.read_bytes() == b"\xff\xd8jpeg\xff\xd9"
    await hub.services.async_call(
        "camera", "snapshot", {**target, "filename": str(hub.config_dir / "media" / "a.jpg")}
    )
    assert (hub.config_dir / "media" / "a.jpg").exists()

    outside = tmp_path / "outside.jpg"
    for filename in (
        "secrets.yaml",
        "www/../configuration.yaml",
        str(outside),
        ".linli/x.jpg",
        "www",
    ):
        with pytest.raises(ServiceValidationError, match=r"www/ or media/ only"):
            await hub.services.async_call("camera", "snapshot", {**target, "filename": filename})
    assert not outside.exists()
    # A symbolic link inside www/ pointing out is refused too.
    (hub.config_dir / "www" / "out").symlink_to(tmp_path)
    with pytest.raises(ServiceValidationError):
        await hub.services.async_call("camera", "snapshot", {**target, "filename": "www/out/x.jpg"})

    camera.image = None
    with pytest.raises(LinliError, match="no image"):
        await hub.services.async_call("camera", "snapshot", {**target, "filename": "www/b.jpg"})


async def test_sensor_value_types(hub: Hub) -> None:
    sensor = SensorEntity()
    sensor.name = "Last swipe"
    sensor.device_class = "timestamp"
    await async_add_entities(hub, "access", [sensor])
    sensor._attr_native_value = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    sensor.async_write_state()
    assert _state(hub, "sensor.last_swipe").state == "2026-03-01T08:00:00+00:00"
    sensor._attr_native_value = 3
    sensor.async_write_state()
    assert _state(hub, "sensor.last_swipe").state == "3"
