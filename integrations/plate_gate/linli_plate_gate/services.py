"""Services: ``plate_gate.open`` (a guard opens a gate, for a read or by hand) and
``plate_gate.deny`` (a guard refuses an ``ask``). Both log who answered.

A non-admin caller names the gate by its barrier's ``entity_id`` (the core checks that the
entity is in the caller's areas); ``gate_id`` alone is for admins and automations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from linli import ServiceCall, ServiceValidationError, SupportsResponse
from linli_plate_gate.const import DOMAIN

if TYPE_CHECKING:
    from linli import Hub
    from linli_plate_gate.config import GateConfig
    from linli_plate_gate.gate import GateManager

_ENTITY_IDS: Final = vol.Any(str, [str])

OPEN_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("gate_id"): str,
        vol.Optional("entity_id"): _ENTITY_IDS,
        vol.Optional("read_id"): str,
    }
)
DENY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("read_id"): str,
        vol.Optional("gate_id"): str,
        vol.Optional("entity_id"): _ENTITY_IDS,
    }
)


def _gate(manager: GateManager, data: dict[str, Any]) -> GateConfig | None:
    """The gate the call names (entity_id and gate_id must agree), or None if it names none."""
    by_entity = None
    if data.get("entity_id"):
        by_entity = manager.gate_for(None, data["entity_id"])
        if by_entity is None:
            raise ServiceValidationError(f"{data['entity_id']} is no plate gate")
    gate_id = data.get("gate_id")
    if gate_id is not None:
        gate = manager.gates.get(gate_id)
        if gate is None:
            raise ServiceValidationError(f"unknown gate {gate_id!r}")
        if by_entity is not None and by_entity.id != gate.id:
            raise ServiceValidationError("entity_id and gate_id name different gates")
        return gate
    return by_entity


def async_register_services(hub: Hub, manager: GateManager) -> None:
    """Register ``plate_gate.open`` and ``plate_gate.deny``."""

    async def open_gate(call: ServiceCall) -> dict[str, Any]:
        data = dict(call.data)
        gate = _gate(manager, data)
        read_id = data.get("read_id")
        if gate is None and read_id is None:
            raise ServiceValidationError("name the gate (entity_id or gate_id) or the read_id")
        return await manager.async_open(
            None if gate is None else gate.id,
            read_id,
            user_id=call.context.user_id,
            context=call.context,
        )

    async def deny(call: ServiceCall) -> dict[str, Any]:
        data = dict(call.data)
        gate = _gate(manager, data)
        if gate is not None:
            row = await manager.async_read(data["read_id"])
            if row is not None and row["gate_id"] != gate.id:
                raise ServiceValidationError(f"read {data['read_id']} was not at gate {gate.id}")
        return await manager.async_deny(
            data["read_id"], user_id=call.context.user_id, context=call.context
        )

    hub.services.async_register(
        DOMAIN,
        "open",
        open_gate,
        OPEN_SCHEMA,
        SupportsResponse.OPTIONAL,
        "Open a gate: for a read the hub asked about (read_id), or by hand.",
    )
    hub.services.async_register(
        DOMAIN,
        "deny",
        deny,
        DENY_SCHEMA,
        SupportsResponse.OPTIONAL,
        "Refuse a read the hub asked about; the barrier stays closed.",
    )
