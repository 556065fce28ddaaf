"""Test-only integration: a stream of state writes, alerts and audit rows, with a progress log.

Installed for a ``linli run`` subprocess by putting this folder (which holds a
``.dist-info`` with a ``linli`` entry point) on ``PYTHONPATH``. Each state write is logged
with its wall-clock time; each alert and audit row is logged after it returned, i.e. after
it was committed, so the test knows what must have survived a SIGKILL.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from linli import Hub, Integration, Manifest, hookimpl
from linli.audit import async_audit
from linli.components.alert import get_manager

MANIFEST = Manifest(domain="killtest", name="Kill test", dependencies=("recorder", "alert"))


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    progress = hub.path("progress.log").open("a", buffering=1, encoding="utf-8")

    async def stream() -> None:
        count = 0
        try:
            while True:
                count += 1
                hub.states.async_set("sensor.kill_counter", str(count))
                progress.write(f"state {count} {time.time():.6f}\n")
                if count % 10 == 0:
                    alert, _ = await get_manager(hub).async_raise("kill_test", f"alert {count}")
                    await async_audit(hub, user_id="u-test", action="kill_test", subject=str(count))
                    progress.write(f"ledger {alert.id} {count}\n")
                await asyncio.sleep(0.005)
        finally:
            progress.close()

    hub.async_create_background_task(stream(), "killtest stream")
    return True


@hookimpl
def linli_integration() -> Integration:
    return Integration(MANIFEST, async_setup)
