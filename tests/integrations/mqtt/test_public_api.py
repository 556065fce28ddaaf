"""Other integrations import from the package root only: the device-topic API is there too."""

from __future__ import annotations

import pytest

import linli_mqtt
from linli_mqtt import devices


def test_the_device_api_is_offered_at_the_root() -> None:
    for name in ("DeviceKind", "async_register_device_kind", "async_send_command"):
        assert name in linli_mqtt.__all__
        assert getattr(linli_mqtt, name) is getattr(devices, name)
    with pytest.raises(AttributeError, match="no attribute 'async_nothing'"):
        _ = linli_mqtt.async_nothing  # type: ignore[attr-defined]
