"""Face access control for Linli: doors, credentials with consent built in, the access log.

Terminals at the community's doors talk over Linli's MQTT device topics (kind
``face_terminal``) or push Hikvision ISAPI events to a webhook. Faces are enrolled only with
an active ``face`` consent, and every enrolled person always has a card, QR code or PIN too.
Withdrawing the consent erases the templates and snapshots — on the terminals too — through
:mod:`linli.privacy`. See README.md for the configuration, topics and privacy notes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from linli import (
    ConfigType,
    Event,
    Hub,
    HubKey,
    HubState,
    Integration,
    IotClass,
    LinliError,
    Manifest,
    callback,
    hookimpl,
)
from linli.const import EVENT_LINLI_STARTED
from linli_face_access.config import CONFIG_SCHEMA
from linli_face_access.const import (
    DATA_ACCESS_LOG,
    DATA_FACE_SNAPSHOT,
    DATA_FACE_TEMPLATE,
    DOMAIN,
    EVENT_ANOMALY,
    EVENT_CREDENTIAL_USED,
    EVENT_PASSAGE,
    PRIVATE_FIELDS,
    SNAPSHOT_DIR,
)

if TYPE_CHECKING:
    from linli.helpers.teardown import Teardown

    # Imported when set up (they pull in numpy): a hub without doors does not pay for them.
    from linli_face_access.access import FaceAccess, FaceAccessError

__all__ = [
    "DOMAIN",
    "EVENT_ANOMALY",
    "EVENT_CREDENTIAL_USED",
    "EVENT_PASSAGE",
    "FaceAccess",
    "FaceAccessError",
    "get_face_access",
    "linli_integration",
]

_LOGGER = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name in ("FaceAccess", "FaceAccessError"):
        from linli_face_access import access

        return getattr(access, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Face access",
    version="0.1.0",
    dependencies=("recorder", "http", "websocket_api", "webhook", "mqtt"),
    after_dependencies=("privacy",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    documentation="https://github.com/linli/linli/tree/main/integrations/face_access",
)

INDEX_DELAY: Final = 1.0
"""Seconds after start before the face index is built, unless a face needs it sooner."""
WEBHOOK_MAX_SIZE: Final = 256 * 1024
"""Bytes a Hikvision push may have (a JSON part and a JPEG of at most 48 KiB)."""


@dataclass
class FaceAccessData:
    """What the integration keeps on the hub."""

    face: FaceAccess
    unloads: list[Teardown] = field(default_factory=list)


DATA: Final[HubKey[FaceAccessData]] = HubKey(DOMAIN)


def get_face_access(hub: Hub) -> FaceAccess:
    """The hub's face access state; raises LinliError when the integration is not set up."""
    data = hub.data.get(DATA)
    if data is None:
        raise LinliError("the face_access integration is not set up")
    return data.face


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Create the tables, load the templates, add the doors and wire the device intake."""
    from linli.components import webhook
    from linli.const import STORAGE_DIR
    from linli.db import async_create_tables
    from linli.entity import async_add_entities
    from linli.privacy import DataKind, get_privacy
    from linli_face_access.access import FaceAccess
    from linli_face_access.api import async_register_api
    from linli_face_access.entities import DoorEvents, DoorLock
    from linli_face_access.models import FaceAccessBase
    from linli_face_access.store import FaceStore
    from linli_face_access.terminal_schemas import COMMAND_SCHEMA, EVENT_SCHEMA
    from linli_mqtt import DeviceKind, async_register_device_kind

    await async_create_tables(hub, FaceAccessBase.metadata)
    store = FaceStore(hub, hub.config_dir.joinpath(STORAGE_DIR, *SNAPSHOT_DIR))
    face = FaceAccess(hub, config, store)
    data = hub.data[DATA] = FaceAccessData(face)
    try:
        issues = face.async_lint()

        # numpy and the templates a moment after the hub runs (its first answers come first),
        # or as soon as a face needs them.
        @callback
        def start_index(_event: Event[Any] | None = None) -> None:
            def build() -> None:
                hub.async_create_background_task(face.async_build_index(), "face_access index")

            handle = asyncio.get_running_loop().call_later(INDEX_DELAY, build)
            data.unloads.append(handle.cancel)

        if hub.state is HubState.running:
            start_index()
        else:
            data.unloads.append(hub.bus.async_listen_once(EVENT_LINLI_STARTED, start_index))
        data.unloads.append(
            async_register_device_kind(
                hub,
                DeviceKind(
                    "face_terminal",
                    schemas={"event": EVENT_SCHEMA, "command": COMMAND_SCHEMA},
                    on_message=face.async_handle_mqtt,
                    name="Face terminal",
                    # Credentials and biometrics stay with this integration: never on the
                    # bus, so never in the recorder's events or a subscriber's hands.
                    private_fields=PRIVATE_FIELDS,
                ),
            )
        )
        for webhook_id, terminal in face.webhooks.items():
            webhook.async_register(
                hub,
                DOMAIN,
                f"Face terminal {terminal.id}",
                webhook_id,
                face.async_handle_webhook,
                max_size=WEBHOOK_MAX_SIZE,
            )
            data.unloads.append(partial(webhook.async_unregister, hub, webhook_id))
        entities = []
        for door in face.doors.values():
            lock = face.locks[door.id] = DoorLock(door, face.unlock_seconds, face.async_open_door)
            messages = [issue.message for issue in issues if issue.door_id == door.id]
            if messages:
                lock._attr_extra_state_attributes = {"lint": messages}
            face.events[door.id] = DoorEvents(door)
            entities += [lock, face.events[door.id]]
        await async_add_entities(hub, DOMAIN, entities)
        privacy = get_privacy(hub)
        for kind in (
            DataKind(
                DATA_FACE_TEMPLATE,
                "Face templates for door access",
                sensitive=True,
                consent_kind="face",
                default_keep_days=5 * 365,
                purge=face.async_purge_templates,
                erase=face.async_erase_templates,
                export=face.async_export_templates,
            ),
            DataKind(
                DATA_FACE_SNAPSHOT,
                "Face images taken at doors (only with store_snapshots)",
                sensitive=True,
                consent_kind="face",
                default_keep_days=30,
                purge=lambda cutoff: store.async_delete_snapshots(before=cutoff),
                erase=face.async_erase_snapshots,
                export=face.async_export_snapshots,
            ),
            DataKind(
                DATA_ACCESS_LOG,
                "Door access records (who passed which door when)",
                sensitive=True,
                consent_kind=None,
                default_keep_days=180,
                default_floor_days=30,
                purge=lambda cutoff: store.async_delete_log(before=cutoff),
                erase=face.async_erase_log,
                export=face.async_export_log,
            ),
        ):
            data.unloads.append(privacy.async_register_data_kind(kind))
        async_register_api(hub)
    except BaseException:
        await async_unload(hub)
        raise
    return True


async def async_unload(hub: Hub) -> None:
    """Remove the device kind, webhooks, data kinds and door entities."""
    from linli.entity import async_remove_platform
    from linli.helpers.teardown import async_teardown

    data = hub.data.pop(DATA)
    if data is None:
        return
    await async_teardown(data.unloads, DOMAIN)
    await async_remove_platform(hub, DOMAIN)


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the face_access integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
