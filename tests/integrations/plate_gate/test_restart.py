"""What survives a restart of the hub: plates, passes, presence, and re-push idempotency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from linli.auth.testing import async_user_with_token
from linli.clock import FakeClock
from linli.components.http import get_http
from linli.testing.http import async_start_served_hub

HOOK = "north-in-3f9c2a7d41e8b650"


async def test_a_record_re_pushed_after_a_restart_is_still_one_read(
    tmp_path: Path, clock: FakeClock, hub_config: str, hub_plugins: Any
) -> None:
    record = {
        "AlarmInfoPlate": {
            "serialno": "cam-1",
            "result": {
                "PlateResult": {
                    "license": "湘A12345",
                    "colorType": 1,
                    "plateid": 7,
                    "isoffline": 0,
                    "timeStamp": {"Timeval": {"sec": int(clock.time()), "usec": 0}},
                }
            },
        }
    }
    answers: list[str] = []
    rows: list[Any] = []
    for run in range(2):
        hub = await async_start_served_hub(
            tmp_path / "config", clock=clock, extra_config=hub_config, plugins=hub_plugins
        )
        try:
            _user, token = await async_user_with_token(hub, "admin", name=f"admin{run}")
            base = f"http://127.0.0.1:{get_http(hub).port}"
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as session:
                if run == 0:
                    household = hub.registries.people.async_create_household("1-1-1201")
                    async with session.post(
                        f"{base}/api/linli/plates",
                        json={"household_id": household.id, "plate": "湘A12345"},
                        headers=headers,
                    ) as response:
                        assert response.status == 201
                async with session.post(f"{base}/api/webhook/{HOOK}", json=record) as response:
                    answers.append((await response.json())["Response_AlarmInfoPlate"]["info"])
                async with session.get(f"{base}/api/linli/gate_log", headers=headers) as response:
                    rows = await response.json()
            occupancy = hub.states.get("sensor.p1_occupancy")
            assert occupancy is not None
            assert occupancy.state == "1"
        finally:
            await hub.async_stop()
    assert answers == ["ok", "ok"]
    assert len(rows) == 1
