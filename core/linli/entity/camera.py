"""Cameras: still images on demand (Home Assistant's ``Camera``, without streams).

The state is ``recording``, ``streaming`` or ``idle``. Images are served to readers of the
entity at ``GET /api/camera_proxy/<entity_id>`` (bearer auth; see
:mod:`linli.components.entity`) and written by ``camera.snapshot`` to a file under the
config dir's ``www/`` or ``media/`` only (``filename`` may be a template with
``entity_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from linli.entity.entity import Entity
from linli.exceptions import LinliError, ServiceValidationError

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

SNAPSHOT_DIRS: Final = ("www", "media")
"""The folders of the config dir ``camera.snapshot`` may write into."""


class CameraState(StrEnum):
    """A camera's states."""

    RECORDING = "recording"
    STREAMING = "streaming"
    IDLE = "idle"


class CameraEntity(Entity):
    """A camera: implement ``async_camera_image``."""

    domain: ClassVar[str] = "camera"
    content_type: str = "image/jpeg"
    brand: str | None = None
    model: str | None = None
    _attr_is_recording: bool = False
    _attr_is_streaming: bool = False
    _attr_motion_detection_enabled: bool = False

    @property
    def is_recording(self) -> bool:
        """Whether it is recording."""
        return self._attr_is_recording

    @property
    def is_streaming(self) -> bool:
        """Whether it is streaming."""
        return self._attr_is_streaming

    @property
    def motion_detection_enabled(self) -> bool:
        """Whether motion detection is on."""
        return self._attr_motion_detection_enabled

    @property
    def state(self) -> str | None:
        """recording, streaming or idle."""
        if self.is_recording:
            return CameraState.RECORDING
        if self.is_streaming:
            return CameraState.STREAMING
        return CameraState.IDLE

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``entity_picture`` (the proxy URL), ``brand``, ``model_name``, ``motion_detection``."""
        attrs: dict[str, Any] = {"entity_picture": f"/api/camera_proxy/{self.entity_id}"}
        if self.brand is not None:
            attrs["brand"] = self.brand
        if self.model is not None:
            attrs["model_name"] = self.model
        if self.motion_detection_enabled:
            attrs["motion_detection"] = True
        return attrs

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a still image (``content_type``), or None when there is none."""
        raise NotImplementedError


def snapshot_path(hub: Hub, filename: str) -> Path:
    """Return where ``filename`` lands, refusing anything outside ``www/`` or ``media/``.

    A relative name is taken from the config dir; ``..`` and symbolic links are resolved
    before the check.
    """
    path = Path(filename)
    if not path.is_absolute():
        path = hub.config_dir / path
    resolved = path.resolve()
    for folder in SNAPSHOT_DIRS:
        allowed = (hub.config_dir / folder).resolve()
        if resolved != allowed and resolved.is_relative_to(allowed):
            return resolved
    raise ServiceValidationError(
        f"Cannot write {filename}: snapshots go under the config dir's www/ or media/ only"
    )


async def async_snapshot(camera: CameraEntity, filename: str) -> None:
    """Write ``camera``'s current image to ``filename`` (see :func:`snapshot_path`)."""
    from linli.template import Template, TemplateError

    hub = camera.hub
    assert hub is not None
    try:
        rendered = str(
            Template(filename, hub).async_render(
                {"entity_id": camera.entity_id}, parse_result=False
            )
        )
    except TemplateError as err:
        raise ServiceValidationError(f"Invalid snapshot filename: {err}") from err
    path = snapshot_path(hub, rendered)
    image = await camera.async_camera_image()
    if image is None:
        raise LinliError(f"{camera.entity_id} has no image to snapshot")

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image)

    await hub.async_add_executor_job(write)
    _LOGGER.debug("Snapshot of %s written to %s", camera.entity_id, path)
