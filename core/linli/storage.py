"""Versioned JSON files for the hub's own state (registries and the like).

Every store is one file ``<config>/.linli/<key>`` holding one JSON object::

    {
      "version": 1,          major version: bumped on incompatible changes
      "minor_version": 1,    minor version: bumped on compatible additions
      "key": "linli.areas",  the store's key (the file name), for humans reading it
      "data": {...}          what the owner saved
    }

Loading a file written with an older major or minor version runs the owner's
``migrate(old_major, old_minor, data)`` and writes the migrated file back. A newer major
version is refused (the data was written by a newer Linli and must not be downgraded); a newer
minor version of the same major is compatible by definition and loads as it is. A file that
cannot be parsed is refused with the reason and left untouched: the hub never starts empty over
real data.

Writes are atomic (a temporary file in the same directory, fsync, then ``os.replace``), happen
in the executor, and are serialised per store. The directory is private (0o700), the files too
(0o600): they hold personal data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from linli.callback import callback
from linli.exceptions import StorageError

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

_VALID_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

MigrateFunc = Callable[[int, int, Any], Awaitable[Any]]
"""``migrate(old_major, old_minor, data)`` returns the data in the store's current version."""


class Store:
    """One versioned JSON file under the hub's storage directory."""

    def __init__(
        self,
        hub: Hub,
        key: str,
        version: int,
        *,
        minor_version: int = 1,
        migrate: MigrateFunc | None = None,
    ) -> None:
        """Describe the store; nothing is read or written until asked."""
        if not _VALID_KEY.match(key):
            raise ValueError(f"Invalid storage key {key!r}: use letters, digits, '.', '_', '-'")
        self._hub = hub
        self.key = key
        self.version = version
        self.minor_version = minor_version
        self._migrate = migrate
        self._write_lock = asyncio.Lock()
        # The pending delayed save: a function producing the data, and the timer that writes it.
        self._data_func: Callable[[], Any] | None = None
        self._cancel_timer: CancelCallback | None = None
        self._timer_due = 0.0

    @property
    def path(self) -> Path:
        """The file this store reads and writes."""
        return self._hub.storage_dir / self.key

    # ------------------------------------------------------------------ loading
    async def async_load(self) -> Any | None:
        """Return the stored data (migrated to the current version), or None without a file.

        Raises :class:`StorageError` for a file that cannot be parsed, has no version, was
        written by a newer major version, or needs a migration nobody provided.
        """
        path = self.path
        raw = await self._hub.async_add_executor_job(_read_file, path)
        if raw is None:
            return None
        try:
            content = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise StorageError(
                f"Cannot read {path}: not valid JSON ({err}). The file was left as it is; "
                "restore it from a backup or move it away to start over"
            ) from err
        if (
            not isinstance(content, dict)
            or not _is_int(content.get("version"))
            or "data" not in content
        ):
            raise StorageError(
                f"Cannot read {path}: expected an object with 'version' and 'data'. "
                "The file was left as it is"
            )
        major: int = content["version"]
        minor = content.get("minor_version", 1)
        if not _is_int(minor):
            raise StorageError(f"Cannot read {path}: 'minor_version' must be an integer")
        data = content["data"]
        if major > self.version:
            raise StorageError(
                f"{path} was written by a newer Linli (storage version {major}, this one "
                f"understands up to {self.version}); it must not be downgraded. Install the "
                "newer Linli again or restore a backup made by this version"
            )
        if major == self.version and minor >= self.minor_version:
            return data
        if self._migrate is None:
            raise StorageError(
                f"{path} has storage version {major}.{minor} and this Linli needs "
                f"{self.version}.{self.minor_version}, but no migration is defined"
            )
        _LOGGER.info(
            "Migrating %s from version %s.%s to %s.%s",
            self.key,
            major,
            minor,
            self.version,
            self.minor_version,
        )
        try:
            data = await self._migrate(major, minor, data)
        except StorageError:
            raise
        except Exception as err:
            raise StorageError(
                f"Migrating {path} from version {major}.{minor} failed: {err}. "
                "The file was left as it is"
            ) from err
        await self.async_save(data)
        return data

    # ------------------------------------------------------------------ saving
    async def async_save(self, data: Any) -> None:
        """Write ``data`` now (replacing any pending delayed save, which it supersedes)."""
        self._async_cancel_timer()
        self._data_func = lambda: data
        await self._async_write_pending()

    @callback
    def async_delay_save(self, data_func: Callable[[], Any], delay: float = 1.0) -> None:
        """Write ``data_func()`` within ``delay`` seconds; later calls coalesce into that write.

        The timer is not pushed back by later calls, so a steady stream of changes still
        reaches the disk; ``data_func`` runs on the loop just before writing, so the write
        holds the latest data.
        """
        self._data_func = data_func
        due = self._hub.clock.time() + delay
        if self._cancel_timer is not None:
            if due >= self._timer_due:
                return
            self._async_cancel_timer()
        self._timer_due = due
        self._cancel_timer = self._hub.async_call_later(delay, self._timer_fired)

    async def async_flush(self) -> None:
        """Write a pending delayed save now and wait for any write in progress."""
        self._async_cancel_timer()
        await self._async_write_pending()

    @property
    def pending(self) -> bool:
        """Whether changes are waiting for a delayed save."""
        return self._data_func is not None

    @callback
    def _async_cancel_timer(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    def _timer_fired(self, _now: datetime) -> Coroutine[Any, Any, None]:
        # Forget the timer at once, so a change arriving before the write starts schedules
        # nothing and is picked up by this write.
        self._cancel_timer = None
        return self._async_write_logged()

    async def _async_write_logged(self) -> None:
        try:
            await self._async_write_pending()
        except Exception:
            _LOGGER.exception("Error writing %s; the next save tries again", self.path)

    async def _async_write_pending(self) -> None:
        # Under the lock: one write at a time per store, and a waiter that finds the data
        # already written by the write before it has nothing left to do.
        async with self._write_lock:
            data_func = self._data_func
            if data_func is None:
                return
            self._data_func = None
            content = {
                "version": self.version,
                "minor_version": self.minor_version,
                "key": self.key,
                "data": data_func(),
            }
            try:
                await self._hub.async_add_executor_job(_write_file, self.path, content)
            except Exception:
                # Keep the data pending so a later save or the flush at stop tries again.
                if self._data_func is None:
                    self._data_func = data_func
                raise


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StorageError(f"Cannot read {path}: {err.strerror or err}") from err


def _write_file(path: Path, content: dict[str, Any]) -> None:
    payload = orjson.dumps(content, option=orjson.OPT_INDENT_2)
    directory = path.parent
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is reduced by the umask
    # mkstemp creates the file with mode 0o600.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp_name)
        raise
    # Make the rename itself durable: without it a power cut can bring back the old file.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
