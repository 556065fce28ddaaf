"""The hub: owns the loop, the bus, the states, the services, the registries and the lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from linli.bus import EventBus
from linli.callback import callback
from linli.clock import CancelCallback, Clock, SystemClock
from linli.const import (
    EVENT_LINLI_FINAL_WRITE,
    EVENT_LINLI_START,
    EVENT_LINLI_STARTED,
    EVENT_LINLI_STOP,
    STORAGE_DIR,
)
from linli.services import ServiceRegistry
from linli.state import StateMachine
from linli.util.dt import as_utc

if TYPE_CHECKING:
    from linli.plugins.loader import IntegrationLoader
    from linli.registry import Registries

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

TimerAction = Callable[[datetime], Coroutine[Any, Any, None] | None]

STOP_STAGE_TIMEOUT = 10.0
"""Seconds each stop stage (listeners, unloading, final write) may take before it is cut."""


class HubKey(Generic[_T]):
    """A typed key for :attr:`Hub.data`, so shared objects keep their type."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"HubKey({self.name!r})"


class HubData:
    """Typed storage for integrations' shared objects, keyed by :class:`HubKey`."""

    def __init__(self) -> None:
        self._data: dict[HubKey[Any], Any] = {}

    def __getitem__(self, key: HubKey[_T]) -> _T:
        return cast(_T, self._data[key])

    def __setitem__(self, key: HubKey[_T], value: _T) -> None:
        self._data[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: HubKey[_T], default: _T | None = None) -> _T | None:
        """Return the value for ``key`` or ``default``."""
        return cast(_T | None, self._data.get(key, default))

    def setdefault(self, key: HubKey[_T], default: _T) -> _T:
        """Return the value for ``key``, storing ``default`` first if there is none."""
        return cast(_T, self._data.setdefault(key, default))

    def pop(self, key: HubKey[_T], default: _T | None = None) -> _T | None:
        """Remove and return the value for ``key``."""
        return cast(_T | None, self._data.pop(key, default))


class _Timer:
    """One timer of the hub: runs its action once, at its time, unless cancelled first.

    While it waits, the clock's handle and the timer refer to each other; firing or
    cancelling clears the timer's references, so a spent timer is freed at once by
    reference counting and never left for the garbage collector (which thousands of ``for:``
    and delay timers a minute would otherwise keep busy with full collections).
    """

    __slots__ = ("action", "clock_cancel", "hub")

    def __init__(self, hub: Hub, action: TimerAction) -> None:
        self.hub: Hub | None = hub
        self.action: TimerAction | None = action
        self.clock_cancel: CancelCallback | None = None

    def fire(self) -> None:
        """The clock says it is time: run the action (unless cancelled meanwhile)."""
        hub, action = self.hub, self.action
        self.hub = self.action = self.clock_cancel = None
        if hub is None or action is None:
            return
        hub._timers.discard(self)
        hub._run_action(action, hub.clock.utcnow())

    @callback
    def cancel(self) -> None:
        """Stop the timer; harmless once it has run or been cancelled."""
        hub, clock_cancel = self.hub, self.clock_cancel
        self.hub = self.action = self.clock_cancel = None
        if hub is not None:
            hub._timers.discard(self)
        if clock_cancel is not None:
            clock_cancel()


class _Interval:
    """A repeating timer: each run schedules the next one before the action runs."""

    __slots__ = ("action", "cancel_next", "hub", "seconds")

    def __init__(self, hub: Hub, action: TimerAction, seconds: float) -> None:
        self.hub: Hub | None = hub
        self.action: TimerAction | None = action
        self.seconds = seconds
        self.cancel_next: CancelCallback | None = None

    def schedule(self, base: float) -> None:
        """Schedule the next run ``seconds`` after ``base``."""
        if self.hub is not None:
            self.cancel_next = self.hub.async_call_at(base + self.seconds, self._tick)

    def _tick(self, now: datetime) -> None:
        hub, action = self.hub, self.action
        if hub is None or action is None:
            return
        self.schedule(now.timestamp())
        hub._run_action(action, now)

    @callback
    def cancel(self) -> None:
        """Stop repeating; harmless when called twice."""
        cancel_next = self.cancel_next
        self.hub = self.action = self.cancel_next = None
        if cancel_next is not None:
            cancel_next()


class HubState(StrEnum):
    """The hub's lifecycle: ``not_running → starting → running → stopping → stopped``."""

    not_running = "NOT_RUNNING"
    starting = "STARTING"
    running = "RUNNING"
    stopping = "STOPPING"
    stopped = "STOPPED"


@dataclass(slots=True)
class CoreConfig:
    """The community's own settings (the ``linli:`` section of configuration.yaml)."""

    name: str = "Linli"
    time_zone: str = "Asia/Shanghai"
    latitude: float = 0.0
    longitude: float = 0.0
    elevation: int = 0
    language: str = "zh-CN"
    units: str = "metric"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as plain data."""
        return {
            "location_name": self.name,
            "time_zone": self.time_zone,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "elevation": self.elevation,
            "language": self.language,
            "unit_system": self.units,
        }


class Hub:
    """One community's hub: everything an integration reaches goes through it."""

    def __init__(self, config_dir: str | Path, clock: Clock | None = None) -> None:
        self.config_dir = Path(config_dir).resolve()
        self.clock: Clock = clock or SystemClock()
        self.state = HubState.not_running
        self.config = CoreConfig()
        self.data = HubData()
        self.bus = EventBus(self)
        self.states = StateMachine(self)
        self.services = ServiceRegistry(self)
        self.loader: IntegrationLoader | None = None
        self._registries: Registries | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._timers: set[_Timer] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._stopped: asyncio.Event | None = None
        self.exit_code = 0

    # ------------------------------------------------------------------ paths and registries
    @property
    def storage_dir(self) -> Path:
        """Where the hub keeps its own state (``<config>/.linli``); never edited by hand."""
        return self.config_dir / STORAGE_DIR

    def path(self, *parts: str) -> Path:
        """Return a path inside the config dir."""
        return self.config_dir.joinpath(*parts)

    @property
    def registries(self) -> Registries:
        """The area, device, entity and people registries (loaded by :meth:`async_load`)."""
        if self._registries is None:
            raise RuntimeError("Registries are not loaded yet: await hub.async_load() first")
        return self._registries

    async def async_load(self) -> None:
        """Load the persisted registries; call once before setting up integrations."""
        from linli.registry import Registries

        if self._registries is None:
            registries = Registries(self)
            await registries.async_load()
            self._registries = registries

    # ------------------------------------------------------------------ tasks and executor
    @callback
    def async_create_task(
        self, coro: Coroutine[Any, Any, _T], name: str | None = None
    ) -> asyncio.Task[_T]:
        """Run ``coro`` as a task the hub tracks: block_till_done and stop wait for it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @callback
    def async_create_background_task(
        self, coro: Coroutine[Any, Any, _T], name: str
    ) -> asyncio.Task[_T]:
        """Run a long-lived ``coro`` (a poller, a connection); it is cancelled at stop."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def async_add_executor_job(self, func: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Run a blocking ``func(*args)`` in the hub's thread pool; tracked like a task."""
        if self.state is HubState.stopped:
            raise RuntimeError("The hub has stopped: no more executor jobs")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="linli-exec")
        future = asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        return future

    async def async_block_till_done(self) -> None:
        """Wait until every tracked task (and what those tasks start) has finished."""
        current = asyncio.current_task()
        while True:
            await asyncio.sleep(0)
            pending = [t for t in self._tasks if t is not current and not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    # ------------------------------------------------------------------ timers
    @callback
    def async_call_at(self, when: datetime | float, action: TimerAction) -> CancelCallback:
        """Run ``action(now)`` at ``when`` (aware datetime or POSIX timestamp)."""
        timestamp = when if isinstance(when, int | float) else as_utc(when).timestamp()
        timer = _Timer(self, action)
        self._timers.add(timer)
        clock_cancel = self.clock.call_at(timestamp, timer.fire)
        if timer.hub is not None:  # not run by the clock at once
            timer.clock_cancel = clock_cancel
        return timer.cancel

    @callback
    def async_call_later(self, delay: float | timedelta, action: TimerAction) -> CancelCallback:
        """Run ``action(now)`` after ``delay`` seconds."""
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
        return self.async_call_at(self.clock.time() + seconds, action)

    @callback
    def async_track_time_interval(
        self, action: TimerAction, interval: float | timedelta
    ) -> CancelCallback:
        """Run ``action(now)`` every ``interval`` until the returned function is called."""
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        if seconds <= 0:
            raise ValueError("interval must be positive")
        repeating = _Interval(self, action, seconds)
        repeating.schedule(self.clock.time())
        return repeating.cancel

    def _run_action(self, action: TimerAction, now: datetime) -> None:
        try:
            result = action(now)
        except Exception:
            _LOGGER.exception("Error in timer %s", getattr(action, "__qualname__", action))
            return
        if asyncio.iscoroutine(result):
            self.async_create_task(self._await_logged(result), "timer action")

    @staticmethod
    async def _await_logged(awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception:
            _LOGGER.exception("Error in timer action")

    def pending_task_names(self) -> list[str]:
        """Names of tracked and background tasks that have not finished (for diagnostics)."""
        return sorted(
            t.get_name()
            for t in (*self._tasks, *self._background)
            if isinstance(t, asyncio.Task) and not t.done()
        )

    @property
    def pending_timers(self) -> int:
        """How many timers are scheduled and not yet run or cancelled."""
        return len(self._timers)

    # ------------------------------------------------------------------ lifecycle
    async def async_start(self) -> None:
        """Fire ``linli_start``, wait for what it started, then run and fire ``linli_started``."""
        if self.state is not HubState.not_running:
            raise RuntimeError(f"Hub cannot start from state {self.state}")
        self._stopped = asyncio.Event()
        self.state = HubState.starting
        self.bus.async_fire(EVENT_LINLI_START)
        await self._wait_stage("start")
        if self.state is not HubState.starting:
            return  # a stop was requested while starting, and it wins
        self.state = HubState.running
        self.bus.async_fire(EVENT_LINLI_STARTED)
        await asyncio.sleep(0)

    async def async_stop(self, exit_code: int = 0) -> None:
        """Stop: fire ``linli_stop``, unload integrations in reverse order, write, clean up."""
        if self._stopped is None:
            self._stopped = asyncio.Event()
        if self.state in (HubState.stopping, HubState.stopped):
            if self._stopped is not None:
                await self._stopped.wait()
            return
        self.exit_code = exit_code
        self.state = HubState.stopping
        self.bus.async_fire(EVENT_LINLI_STOP)
        await self._wait_stage("stop listeners")
        if self.loader is not None:
            await self.loader.async_unload_all()
        self.bus.async_fire(EVENT_LINLI_FINAL_WRITE)
        await self._wait_stage("final write")
        current = asyncio.current_task()
        background = [t for t in self._background if t is not current]
        for task in background:
            task.cancel()
        if background:
            await asyncio.wait(background, timeout=STOP_STAGE_TIMEOUT)
        await self._wait_stage("clean up")
        # Saved last, so changes made while cancelling and cleaning up are kept too; the
        # delayed-save timers cancelled here are flushed by the save itself.
        for timer in list(self._timers):
            timer.cancel()
        if self._registries is not None:
            await self._registries.async_save_now()
        for timer in list(self._timers):
            timer.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.state = HubState.stopped
        self._stopped.set()

    async def async_wait_stopped(self) -> int:
        """Wait until the hub has stopped; return its exit code."""
        if self._stopped is None:
            self._stopped = asyncio.Event()
        await self._stopped.wait()
        return self.exit_code

    async def _wait_stage(self, stage: str) -> None:
        # asyncio.timeout keeps this in the current task, so a stop requested from a tracked
        # task (a service handler, a listener) does not wait for itself.
        current = asyncio.current_task()
        try:
            async with asyncio.timeout(STOP_STAGE_TIMEOUT):
                await self.async_block_till_done()
        except TimeoutError:
            stuck = [
                t
                for t in self._tasks
                if isinstance(t, asyncio.Task) and t is not current and not t.done()
            ]
            _LOGGER.warning(
                "Stage '%s' still waiting after %ss for: %s; going on",
                stage,
                STOP_STAGE_TIMEOUT,
                ", ".join(sorted(t.get_name() for t in stuck)) or "executor jobs",
            )
            for task in stuck:
                task.cancel()
