"""The entity model's integration: the camera proxy, and cleanup of entities at stop.

``GET /api/camera_proxy/<entity_id>`` (Home Assistant's endpoint) answers a camera entity's
current image to a bearer-authenticated user who may read that entity; to anyone else, and
for an unknown or non-camera entity, 404 (existence is not revealed). A camera that is
unavailable answers 503; one that has no image or takes longer than
``CAMERA_IMAGE_TIMEOUT`` seconds, 500. Reads by roles whose reads of personal data are
audited (staff, police…) are written to the audit log.

The entity model itself (:mod:`linli.entity`) works without this integration (tests and
hubs without HTTP); when it unloads, every entity still in the hub is removed.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Final

import voluptuous as vol
from aiohttp import web

from linli.audit import async_audit
from linli.auth import Permissions
from linli.components.http import (
    KEY_HUB,
    KEY_PERMISSIONS,
    HubView,
    async_register_view,
    json_message,
)
from linli.const import __version__
from linli.entity.camera import CameraEntity
from linli.entity.platform import async_unload_manager, get_entity
from linli.hub import Hub
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = ["CAMERA_IMAGE_TIMEOUT", "DOMAIN", "CameraProxyView", "linli_integration"]

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "entity"
CAMERA_IMAGE_TIMEOUT: Final = 10.0
NOT_FOUND: Final = "Entity not found."
_SIZE: Final = vol.All(vol.Coerce(int), vol.Range(min=1, max=8192))


class CameraProxyView(HubView):
    """``GET /api/camera_proxy/<entity_id>[?width=…&height=…]``: a camera's still image."""

    url = "/api/camera_proxy/{entity_id}"
    name = "api:camera:image"

    async def get(self, request: web.Request, entity_id: str) -> web.StreamResponse:
        """Answer the image, or 404 when the user may not read the camera."""
        hub: Hub = request.app[KEY_HUB]
        permissions: Permissions = request[KEY_PERMISSIONS]
        camera = get_entity(hub, entity_id)
        if not isinstance(camera, CameraEntity) or not permissions.can_read_entity(entity_id):
            return json_message(NOT_FOUND, HTTPStatus.NOT_FOUND)
        if not camera.available:
            return json_message("Camera is unavailable.", HTTPStatus.SERVICE_UNAVAILABLE)
        width = request.query.get("width")
        height = request.query.get("height")
        try:
            image = await asyncio.wait_for(
                camera.async_camera_image(
                    None if width is None else _SIZE(width),
                    None if height is None else _SIZE(height),
                ),
                CAMERA_IMAGE_TIMEOUT,
            )
        except vol.Invalid:
            raise
        except TimeoutError:
            _LOGGER.warning("%s took too long to give an image", entity_id)
            image = None
        except Exception:
            _LOGGER.exception("Error getting an image from %s", entity_id)
            image = None
        if image is None:
            return json_message("Error getting the image.", HTTPStatus.INTERNAL_SERVER_ERROR)
        if permissions.audits_personal_data:
            entities = hub.registries.entities
            await async_audit(
                hub,
                user_id=permissions.user.id,
                action="read_camera_image",
                subject=f"entity:{entity_id}",
                area_id=entities.effective_area_id(entity_id) if entity_id in entities else None,
            )
        return web.Response(
            body=image, content_type=camera.content_type, headers={"Cache-Control": "no-store"}
        )


CONFIG_SCHEMA: Final = vol.Schema({})

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Entities",
    version=__version__,
    after_dependencies=("http",),
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Serve the camera proxy."""
    async_register_view(hub, CameraProxyView())
    return True


async def async_unload(hub: Hub) -> None:
    """Remove every entity still in the hub."""
    await async_unload_manager(hub)


@hookimpl
def linli_integration() -> Integration:
    """Describe the entity integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
