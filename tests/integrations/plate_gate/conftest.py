"""Fixtures of the plate_gate tests: a served hub on the shared broker, the sample community,
and fake ANPR cameras that speak the common LPR push over real HTTP.

The hub has one car park (``p1``, in building ``b1``, room for 3 cars) with an HTTP entrance
(``north-in``), an HTTP exit (``north-out``) and an MQTT gate for both ways (``east``, placed
in building ``b2``).
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import linli_mqtt
import linli_plate_gate
from linli.clock import FakeClock
from linli.testing.community import SAMPLE_AREAS, Community, async_build_community
from linli.testing.http import HubClient
from linli_mqtt.testing import async_clear_retained, mqtt_broker, mqtt_peer, mqtt_section

__all__ = ["mqtt_broker", "mqtt_peer"]

ZONE = ZoneInfo("Asia/Shanghai")
NORTH_IN_HOOK = "north-in-3f9c2a7d41e8b650"
NORTH_OUT_HOOK = "north-out-8e1d5b0c7a92f364"


@pytest.fixture
def base_topic() -> str:
    """This test's own topic tree."""
    return f"linli_test/{uuid.uuid4().hex}"


@pytest.fixture
def hub_config(mqtt_broker: tuple[str, int], base_topic: str) -> str:
    """The sample community with a car park, two HTTP gates and an MQTT gate."""
    return (
        SAMPLE_AREAS
        + mqtt_section(mqtt_broker, base_topic)
        + f"""plate_gate:
  car_parks:
    - {{id: p1, name: North car park, area_id: b1, capacity: 3}}
  gates:
    - {{id: north-in, name: North entrance, car_park: p1, direction: in, kind: http,
        webhook_id: {NORTH_IN_HOOK}}}
    - {{id: north-out, name: North exit, car_park: p1, direction: out, kind: http,
        webhook_id: {NORTH_OUT_HOOK}}}
    - {{id: east, name: East gate, car_park: p1, direction: both, kind: mqtt, area_id: b2}}
"""
    )


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    """The mqtt and plate_gate integrations."""
    return [("mqtt", linli_mqtt), ("plate_gate", linli_plate_gate)]


class FakeCamera:
    """An ANPR camera pushing ``AlarmInfoPlate`` records to its webhook over real HTTP."""

    def __init__(self, client: HubClient, webhook_id: str, serialno: str) -> None:
        self.client = client
        self.path = f"/api/webhook/{webhook_id}"
        self.serialno = serialno
        self._plate_ids = itertools.count(1000)

    def record(
        self,
        plate: str,
        *,
        color: int = 1,
        offline: bool = False,
        age: float = 0.0,
        plateid: int | None = None,
    ) -> dict[str, Any]:
        """A push body for ``plate`` read ``age`` seconds ago (on the hub's clock)."""
        stamp = self.client.hub.clock.time() - age
        return {
            "AlarmInfoPlate": {
                "channel": 0,
                "deviceName": "IVS",
                "ipaddr": "192.0.2.10",
                "serialno": self.serialno,
                "result": {
                    "PlateResult": {
                        "license": plate,
                        "colorType": color,
                        "type": 1,
                        "confidence": 97,
                        "plateid": next(self._plate_ids) if plateid is None else plateid,
                        "isoffline": 1 if offline else 0,
                        "direction": 4,
                        "timeStamp": {"Timeval": {"sec": int(stamp), "usec": 250000}},
                    }
                },
            }
        }

    async def post(self, body: bytes | dict[str, Any], encoding: str = "utf-8") -> Any:
        """POST a body (a dict is sent as JSON in ``encoding``); return the response."""
        data = (
            json.dumps(body, ensure_ascii=False).encode(encoding)
            if isinstance(body, dict)
            else body
        )
        return await self.client.post(
            self.path, data=data, auth=False, headers={"Content-Type": "application/json"}
        )

    async def push(self, body: dict[str, Any], encoding: str = "utf-8") -> dict[str, Any]:
        """POST a record; return the ``Response_AlarmInfoPlate`` object (200 expected)."""
        response = await self.post(body, encoding)
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = (await response.json())["Response_AlarmInfoPlate"]
        return answer

    async def read(self, plate: str, **kwargs: Any) -> str:
        """Push a fresh read of ``plate``; return ``info`` (``ok`` opens)."""
        return str((await self.push(self.record(plate, **kwargs)))["info"])

    async def heartbeat(self) -> str:
        """Poll; return ``info``."""
        response = await self.post({"heartbeat": {"serialno": self.serialno, "channel": 0}})
        assert response.status == 200, await response.text()
        return str((await response.json())["Response_Heartbeat"]["info"])


@pytest.fixture
async def community(
    hub_client: HubClient, mqtt_broker: tuple[str, int], base_topic: str
) -> AsyncIterator[Community]:
    """The sample community (households 1201 and 1202, a user per role) on the hub."""
    yield await async_build_community(hub_client)
    await async_clear_retained(*mqtt_broker, f"{base_topic}/#")


@pytest.fixture
def north_in(hub_client: HubClient) -> FakeCamera:
    """The camera of the north entrance."""
    return FakeCamera(hub_client, NORTH_IN_HOOK, "a1b2c3d4-north-in")


@pytest.fixture
def north_out(hub_client: HubClient) -> FakeCamera:
    """The camera of the north exit."""
    return FakeCamera(hub_client, NORTH_OUT_HOOK, "a1b2c3d4-north-out")


@pytest.fixture
def local(clock: FakeClock) -> Any:
    """Move the clock to a local wall time: ``local("2026-03-01 19:00")``."""
    from datetime import datetime

    def move(text: str) -> None:
        clock.set(datetime.fromisoformat(text).replace(tzinfo=ZONE))

    return move
