"""Running scripts: runs, modes, waits, persisted delays, and resuming them after a restart.

Each run is a background task of the hub, so a run waiting a day in a ``delay`` holds up
neither ``hub.async_block_till_done()`` nor a stop. While a run is doing something (not
waiting on a timer or a trigger) it holds a task the hub tracks, so ``async_block_till_done``
returns once every run has finished or is waiting. When the hub stops, every run is
cancelled; a persisted delay stays in the store and :meth:`Script.async_resume_after_restart`
continues the run from the step after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.const import EVENT_LINLI_STOP
from linli.context import Context
from linli.helpers.condition import attach
from linli.helpers.script.actions import (
    AbortRun,
    Delay,
    DelayPlace,
    Step,
    StepError,
    StopRun,
    compile_sequence,
    describe_error,
    expected_error,
    fingerprint,
    index_delays,
)
from linli.helpers.script.schema import DEFAULT_MAX_RUNS, ScriptMode
from linli.helpers.trace import Trace, get_trace_store, json_safe
from linli.hub import HubKey, HubState
from linli.util.dt import utc_from_timestamp

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.helpers.deadlines import Deadline, DeadlineFired
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

ROOT_PATH: Final = "action"
"""The trace path of a script's top-level sequence (``action/0``, ``action/1`` …)."""

_STOPPING: Final = (HubState.stopping, HubState.stopped)


@dataclass(slots=True)
class ScriptRunResult:
    """How a run ended."""

    run_id: str
    script_execution: str
    """``finished``, ``aborted``, ``error``, ``cancelled``, ``suspended`` (see the trace module)."""
    response: dict[str, Any] | None
    """What ``stop`` returned through its ``response_variable``."""
    variables: dict[str, Any]
    error: str | None
    trace: Trace


class _Activity:
    """Counts the strands of a run that are busy; holds a tracked hub task while any is.

    A strand waiting on a timer or a trigger is not busy, so ``hub.async_block_till_done``
    does not wait for a delay to pass, yet it does wait for everything a run does at once.
    """

    __slots__ = ("_busy", "_hub", "_name", "_token", "branches", "suspended")

    def __init__(self, hub: Hub, name: str) -> None:
        self._hub = hub
        self._name = name
        self._busy = 0
        self._token: asyncio.Future[None] | None = None
        self.suspended = False
        """The hub stopped while the run waited in a persisted delay (it resumes later)."""
        self.branches = 0

    def acquire(self) -> None:
        """A strand became busy."""
        self._busy += 1
        if self._busy == 1:
            token: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._token = token
            self._hub.async_create_task(_hold(token), self._name)

    def release(self) -> None:
        """A strand started waiting (or ended)."""
        self._busy -= 1
        if self._busy <= 0:
            self.close()

    def close(self) -> None:
        """The run is over: let go of the tracked task."""
        self._busy = 0
        token, self._token = self._token, None
        if token is not None and not token.done():
            token.set_result(None)


async def _hold(token: asyncio.Future[None]) -> None:
    await token


class _Run:
    """One run of a script (or one branch of a ``parallel`` inside it)."""

    __slots__ = (
        "activity",
        "branch",
        "context",
        "hub",
        "run_id",
        "script",
        "task",
        "trace",
        "variables",
    )

    def __init__(
        self,
        script: Script,
        variables: dict[str, Any],
        context: Context,
        trace: Trace,
        activity: _Activity,
        branch: int = 0,
    ) -> None:
        self.script = script
        self.hub = script.hub
        self.variables = variables
        self.context = context
        self.trace = trace
        self.run_id = trace.run_id
        self.activity = activity
        self.branch = branch
        self.task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ helpers for steps
    def render(self, value: Any) -> Any:
        """Render a :class:`~linli.helpers.script.actions.Renderable` with the variables."""
        return value.render(self.hub, self.variables)

    def child_context(self) -> Context:
        """A context for something this run causes: the run's context is its parent."""
        return self.context.child()

    def set_variables(self, record: dict[str, Any], values: Mapping[str, Any]) -> None:
        """Set variables and note them in the step's trace record."""
        self.variables.update(values)
        record.setdefault("changed_variables", {}).update(values)

    # ------------------------------------------------------------------ running steps
    async def async_run_sequence(self, steps: Sequence[Step], start: int = 0) -> None:
        """Run ``steps[start:]`` in order."""
        for index in range(start, len(steps)):
            await self.async_run_step(steps[index])

    async def async_run_step(self, step: Step) -> None:
        """Run one step, tracing it; a failure becomes :class:`StepError` (once traced)."""
        trace = self.trace
        if not step.enabled:
            trace.add_step(step.path, result={"enabled": False})
            return
        record = {} if step.records_itself else trace.add_step(step.path)
        try:
            await step.run(self, record)
        except (StopRun, AbortRun):
            raise
        except StepError as err:
            if step.continue_on_error and expected_error(err.error):
                self._log_continue(step, err.error)
                return
            raise
        except Exception as err:
            if step.records_itself:
                record = trace.add_step(step.path)
            record["error"] = describe_error(err)
            if step.continue_on_error and expected_error(err):
                self._log_continue(step, err)
                return
            raise StepError(step.path, step.label, err) from err

    def _log_continue(self, step: Step, err: BaseException) -> None:
        self.script.logger.warning(
            "%s: error in %s (%s), continuing (continue_on_error): %s",
            self.script.name,
            step.path,
            step.label,
            describe_error(err),
        )

    async def async_run_parallel(self, branches: Sequence[Step]) -> None:
        """Run each branch in its own task with its own copy of the variables."""
        if not branches:
            return
        activity = self.activity
        remaining = len(branches)

        async def run_branch(step: Step) -> None:
            nonlocal remaining
            activity.branches += 1
            fork = _Run(
                self.script,
                dict(self.variables),
                self.context,
                self.trace,
                activity,
                activity.branches,
            )
            try:
                await fork.async_run_step(step)
            finally:
                remaining -= 1
                # The last branch to end hands its busy unit back to this strand.
                if remaining:
                    activity.release()

        # This strand's busy unit goes to the first branch; the others get their own.
        for _ in range(len(branches) - 1):
            activity.acquire()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(run_branch(step)) for step in branches]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    # ------------------------------------------------------------------ waiting
    async def async_wait(
        self,
        start: Callable[[Callable[[Any], None]], Callable[[], None]],
        seconds: float | None,
    ) -> tuple[Any, float | None]:
        """Wait until ``start``'s watcher calls ``done(value)``, or ``seconds`` have passed.

        ``start(done)`` sets up the watcher and returns the function that removes it.
        Returns ``(value, remaining seconds)``; value is None after a timeout.
        """
        hub = self.hub
        begin = hub.clock.time()
        if seconds is not None and seconds <= 0:
            return None, 0.0
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        activity = self.activity

        def done(value: Any) -> None:
            if not future.done():
                activity.acquire()
                future.set_result(value)

        stop = start(done)
        cancel_timer = (
            None if seconds is None else hub.async_call_later(seconds, lambda _now: done(None))
        )
        activity.release()
        try:
            value = await future
        finally:
            stop()
            if cancel_timer is not None:
                cancel_timer()
        remaining = None if seconds is None else max(0.0, seconds - (hub.clock.time() - begin))
        return value, remaining

    async def async_delay(self, step: Delay, seconds: float) -> bool:
        """Wait ``seconds`` (persisted when the script has a deadline prefix); True if late."""
        hub = self.hub
        script = self.script
        future: asyncio.Future[DeadlineFired | None] = asyncio.get_running_loop().create_future()
        activity = self.activity

        def wake(fired: DeadlineFired | None) -> None:
            if not future.done():
                activity.acquire()
                future.set_result(fired)

        when = hub.clock.time() + seconds
        persisted = script.deadline_prefix is not None
        if persisted:
            from linli.helpers.deadlines import get_deadlines

            deadlines = get_deadlines(hub)
            await deadlines.async_load()
            cancel = deadlines.async_schedule(
                script.run_key(self.run_id, self.branch),
                when,
                wake,
                data=self._delay_data(step),
            )
        else:
            cancel = hub.async_call_at(when, lambda _now: wake(None))
        activity.release()
        try:
            fired = await future
        except asyncio.CancelledError:
            if persisted and hub.state in _STOPPING:
                activity.suspended = True
            raise
        finally:
            # While the hub stops, cancelling keeps the persisted deadline for the next start.
            cancel()
        return fired is not None and fired.late

    def _delay_data(self, step: Delay) -> dict[str, Any]:
        context = self.context
        return {
            "path": step.path,
            "fingerprint": self.script.fingerprint,
            "variables": json_safe(self.variables),
            "context_id": context.id,
            "user_id": context.user_id,
            "trace": self.trace.as_persisted(),
        }

    async def async_resume(self, place: DelayPlace, future: asyncio.Future[DeadlineFired]) -> None:
        """Wait for the re-attached delay, then run what follows it, level by level."""
        try:
            fired = await future
        except asyncio.CancelledError:
            if self.hub.state in _STOPPING:
                self.activity.suspended = True
            raise
        trace = self.trace
        trace.extra["late"] = fired.late
        result = {"done": True, "resumed_after_restart": True, "late": fired.late}
        for record in reversed(trace.steps):
            if record.get("path") == place.step.path:
                record["result"] = {**(record.get("result") or {}), **result}
                break
        else:
            trace.add_step(place.step.path, result=result)
        for steps, index in reversed(place.chain):
            await self.async_run_sequence(steps, index + 1)


class _RunningScripts:
    """The hub's scripts that have runs; the hub stopping cancels them all."""

    def __init__(self, hub: Hub) -> None:
        self.scripts: set[Script] = set()
        hub.bus.async_listen(EVENT_LINLI_STOP, self._async_stop, owner=__name__)

    @callback
    def _async_stop(self, _event: Event[Any]) -> None:
        for script in list(self.scripts):
            script.async_stop()


_RUNNING: HubKey[_RunningScripts] = HubKey("linli.helpers.script.running")


def _running(hub: Hub) -> _RunningScripts:
    running = hub.data.get(_RUNNING)
    if running is None:
        running = hub.data[_RUNNING] = _RunningScripts(hub)
    return running


class Script:
    """A sequence of actions that can be run, with a mode for overlapping runs.

    ``sequence`` is validated (:func:`valid_actions`). ``item_id`` names the script's traces
    in the :class:`~linli.helpers.trace.TraceStore`. With ``deadline_prefix`` its delays are
    persisted under ``<deadline_prefix>.run.<run_id>`` and :meth:`async_resume_after_restart`
    continues them after a restart.
    """

    def __init__(
        self,
        hub: Hub,
        sequence: Sequence[Mapping[str, Any]],
        name: str,
        domain: str,
        *,
        mode: ScriptMode | str = ScriptMode.single,
        max_runs: int = DEFAULT_MAX_RUNS,
        item_id: str,
        deadline_prefix: str | None = None,
        logger: logging.Logger | None = None,
        change_listener: Callable[[], None] | None = None,
    ) -> None:
        """Compile ``sequence`` (conditions and templates are prepared once, here).

        ``change_listener`` (a ``@callback``) is called whenever a run starts or ends,
        resumed runs included, so an owner can show how many are going on.
        """
        self.hub = hub
        self.sequence = sequence
        self.name = name
        self.domain = domain
        self.mode = ScriptMode(mode)
        self.max_runs = max_runs
        self.item_id = item_id
        self.deadline_prefix = deadline_prefix
        self.logger = logger or logging.getLogger(f"linli.helpers.script.{domain}")
        self.change_listener = change_listener
        attach(hub, list(sequence))
        self._steps = compile_sequence(hub, sequence, ROOT_PATH)
        self._delays = index_delays(self._steps)
        self.fingerprint = fingerprint(self._steps)
        self._runs: list[_Run] = []
        self._queue: deque[tuple[_Run, asyncio.Future[None]]] = deque()
        self._queue_busy = False

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        """Whether a run is going on (or queued)."""
        return bool(self._runs)

    @property
    def runs(self) -> int:
        """How many runs are going on (or queued)."""
        return len(self._runs)

    def run_key(self, run_id: str, branch: int = 0) -> str:
        """The deadline key of a run's delay (a ``parallel`` branch adds its number)."""
        key = f"{self.deadline_prefix}.run.{run_id}"
        return f"{key}.{branch}" if branch else key

    # ------------------------------------------------------------------ running
    async def async_run(
        self,
        variables: Mapping[str, Any] | None = None,
        context: Context | None = None,
        trace: Trace | None = None,
    ) -> ScriptRunResult | None:
        """Run the script and wait for the run to end; None when the mode refused it.

        The run may wait a long time (a delay of a day): a caller that does not need the
        outcome should use :meth:`async_start`. Cancelling the caller stops the run.
        """
        run, future = self._start(variables, context, trace)
        if run is None:
            return future.result()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if run.task is not None:
                run.task.cancel()
            raise

    @callback
    def async_start(
        self,
        variables: Mapping[str, Any] | None = None,
        context: Context | None = None,
        trace: Trace | None = None,
    ) -> asyncio.Future[ScriptRunResult | None]:
        """Start a run without waiting for it; the future gives its outcome.

        Safe to call from a ``@callback`` (a trigger's action): nothing waits for the run.
        """
        return self._start(variables, context, trace)[1]

    def _start(
        self,
        variables: Mapping[str, Any] | None,
        context: Context | None,
        trace: Trace | None,
    ) -> tuple[_Run | None, asyncio.Future[ScriptRunResult | None]]:
        hub = self.hub
        future: asyncio.Future[ScriptRunResult | None] = asyncio.get_running_loop().create_future()
        run_variables = dict(variables) if variables is not None else {}
        if trace is None:
            trace = Trace(hub, self.item_id, self.domain)
        if trace.variables is None:
            trace.set_variables(run_variables)
        get_trace_store(hub).add(trace)
        refused = self._refusal()
        if refused is not None:
            stopped, message = refused
            self.logger.log(
                logging.INFO if stopped == "cancelled" else logging.WARNING,
                "%s: %s",
                self.name,
                message,
            )
            trace.finish(stopped=stopped)
            future.set_result(None)
            return None, future
        if context is None:
            context = Context()
        if trace.context is None:
            trace.set_context(context)
        activity = _Activity(hub, f"{self.domain} {self.name} run")
        run = _Run(self, run_variables, context, trace, activity)
        activity.acquire()
        previous = list(self._runs)
        if self.mode is ScriptMode.restart:
            for other in previous:
                if other.task is not None:
                    other.task.cancel()
        self._add_run(run)
        run.task = hub.async_create_background_task(
            self._async_execute(run, future, previous=previous),
            f"{self.domain} {self.name} run {run.run_id}",
        )
        return run, future

    def _refusal(self) -> tuple[str, str] | None:
        if self.hub.state in _STOPPING:
            return "cancelled", "the hub is stopping, not starting a run"
        if not self._runs:
            return None
        if self.mode is ScriptMode.single:
            return "failed_single", "Already running"
        if self.mode in (ScriptMode.queued, ScriptMode.parallel) and len(self._runs) >= (
            self.max_runs
        ):
            return "failed_max_runs", "Maximum number of runs exceeded"
        return None

    def _add_run(self, run: _Run) -> None:
        self._runs.append(run)
        _running(self.hub).scripts.add(self)
        self._changed()

    def _remove_run(self, run: _Run) -> None:
        if run in self._runs:
            self._runs.remove(run)
        if not self._runs:
            running = self.hub.data.get(_RUNNING)
            if running is not None:
                running.scripts.discard(self)
        self._changed()

    def _changed(self) -> None:
        if self.change_listener is not None:
            try:
                self.change_listener()
            except Exception:
                self.logger.exception("%s: error in the change listener", self.name)

    async def _async_wait_turn(self, run: _Run) -> None:
        """Mode queued: wait until the runs started before this one have ended."""
        if not self._queue_busy:
            self._queue_busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (run, turn)
        self._queue.append(entry)
        run.activity.release()
        try:
            await turn
        except asyncio.CancelledError:
            if entry in self._queue:
                self._queue.remove(entry)
            elif turn.done():
                self._next_turn()  # granted just as it was cancelled: pass it on
            raise

    def _next_turn(self) -> None:
        while self._queue:
            run, turn = self._queue.popleft()
            if not turn.done():
                # Busy before it wakes, so block_till_done waits for the next run too.
                run.activity.acquire()
                turn.set_result(None)
                return
        self._queue_busy = False

    async def _async_execute(
        self,
        run: _Run,
        future: asyncio.Future[ScriptRunResult | None],
        *,
        previous: Sequence[_Run] = (),
        resume: tuple[DelayPlace, asyncio.Future[DeadlineFired]] | None = None,
    ) -> None:
        trace = run.trace
        stopped = "finished"
        error: str | None = None
        response: dict[str, Any] | None = None
        took_turn = False
        try:
            if self.mode is ScriptMode.restart:
                waiting = [other.task for other in previous if other.task is not None]
                if waiting:
                    await asyncio.wait(waiting)
            elif self.mode is ScriptMode.queued:
                if resume is None:
                    await self._async_wait_turn(run)
                    took_turn = True
                elif not self._queue_busy:
                    # A resumed run holds the turn without waiting for it: its deadline is
                    # already running (several resumed runs of one script run side by side).
                    self._queue_busy = took_turn = True
            if resume is not None:
                await run.async_resume(*resume)
            else:
                await run.async_run_sequence(self._steps)
        except StopRun as stop:
            if stop.error:
                stopped, error = "error", stop.reason
            else:
                response = stop.response
        except AbortRun as abort:
            stopped = "aborted"
            self.logger.info("%s: %s", self.name, abort)
        except StepError as err:
            stopped, error = "error", describe_error(err.error)
            self.logger.error(
                "%s: error in %s (%s): %s",
                self.name,
                err.path,
                err.label,
                error,
                exc_info=None if expected_error(err.error) else err.error,
            )
        except asyncio.CancelledError:
            stopped = "suspended" if run.activity.suspended else "cancelled"
        except Exception as err:
            stopped, error = "error", describe_error(err)
            self.logger.exception("%s: unexpected error running the script", self.name)
        finally:
            trace.finish(error, stopped=stopped)
            self._remove_run(run)
            if took_turn:
                self._next_turn()
            run.activity.close()
            if not future.done():
                future.set_result(
                    ScriptRunResult(run.run_id, stopped, response, run.variables, error, trace)
                )

    def async_stop(self) -> Awaitable[None]:
        """Cancel every run (queued ones too); await the result to wait until they ended."""
        tasks = [run.task for run in self._runs if run.task is not None]
        for task in tasks:
            task.cancel()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not tasks:
            done.set_result(None)
            return done

        def ended(_gathered: asyncio.Future[Any]) -> None:
            if not done.done():
                done.set_result(None)

        asyncio.gather(*tasks, return_exceptions=True).add_done_callback(ended)
        return done

    # ------------------------------------------------------------------ restart
    async def async_resume_after_restart(self) -> int:
        """Continue the runs that waited in a persisted delay when the hub stopped.

        Each continues from the step after its delay, at the delay's deadline (at once,
        marked late, if it passed while the hub was down), under its old run id, context and
        variables (those that could be saved as JSON); its trace holds the steps from before
        the restart. A delay inside ``repeat`` or ``parallel`` cannot be resumed exactly (the
        loop's position and the other branches are lost), nor one of a script that changed
        meanwhile: such a run is not continued, and its trace says ``aborted_by_restart``.
        Returns how many runs were resumed.
        """
        if self.deadline_prefix is None:
            return 0
        from linli.helpers.deadlines import get_deadlines

        deadlines = get_deadlines(self.hub)
        await deadlines.async_load()
        prefix = f"{self.deadline_prefix}.run."
        seen: set[str] = set()
        resumed = 0
        for deadline in deadlines.pending(prefix):
            run_id, _, branch = deadline.key[len(prefix) :].partition(".")
            if run_id in seen:
                deadlines.async_drop(deadline.key)
                continue
            seen.add(run_id)
            place = self._delays.get(str(deadline.data.get("path")))
            if deadline.data.get("fingerprint") != self.fingerprint or place is None:
                reason = "the script changed while the hub was down"
            elif branch or not place.resumable:
                reason = f"its delay at {place.step.path} was inside repeat or parallel"
            else:
                self._resume(deadline, run_id, place)
                resumed += 1
                continue
            deadlines.async_drop(deadline.key)
            self._abort_resumed(deadline, run_id, reason)
        return resumed

    def _restored_trace(self, deadline: Deadline, run_id: str) -> Trace:
        data = deadline.data.get("trace")
        if isinstance(data, Mapping):
            try:
                return Trace.from_persisted(self.hub, data)
            except (KeyError, TypeError, ValueError):
                _LOGGER.warning("Persisted trace of %s run %s is malformed", self.name, run_id)
        return Trace(self.hub, self.item_id, self.domain, run_id=run_id)

    def _abort_resumed(self, deadline: Deadline, run_id: str, reason: str) -> None:
        self.logger.warning(
            "%s: run %s not resumed after the restart: %s", self.name, run_id, reason
        )
        trace = self._restored_trace(deadline, run_id)
        trace.extra["resumed_after_restart"] = True
        get_trace_store(self.hub).add(trace)
        trace.finish(f"not resumed after the restart: {reason}", stopped="aborted_by_restart")

    def _resume(self, deadline: Deadline, run_id: str, place: DelayPlace) -> None:
        hub = self.hub
        data = deadline.data
        trace = self._restored_trace(deadline, run_id)
        trace.extra["resumed_after_restart"] = True
        trace.extra["deadline"] = utc_from_timestamp(deadline.when).isoformat()
        get_trace_store(hub).add(trace)
        context_id = data.get("context_id")
        user_id = data.get("user_id")
        context = Context(
            user_id=user_id if isinstance(user_id, str) else None,
            id=context_id if isinstance(context_id, str) else None,
        )
        if trace.context is None:
            trace.set_context(context)
        variables = data.get("variables")
        activity = _Activity(hub, f"{self.domain} {self.name} run")
        run = _Run(
            self,
            dict(variables) if isinstance(variables, Mapping) else {},
            context,
            trace,
            activity,
        )
        fired: asyncio.Future[DeadlineFired] = asyncio.get_running_loop().create_future()

        def wake(event: DeadlineFired) -> None:
            if not fired.done():
                activity.acquire()
                fired.set_result(event)

        from linli.helpers.deadlines import get_deadlines

        cancel = get_deadlines(hub).async_reattach(deadline.key, wake)
        self._add_run(run)
        self.logger.info(
            "%s: resuming run %s after the restart at %s", self.name, run_id, place.step.path
        )
        future: asyncio.Future[ScriptRunResult | None] = asyncio.get_running_loop().create_future()
        run.task = hub.async_create_background_task(
            self._async_execute_resumed(run, future, place, fired, cancel),
            f"{self.domain} {self.name} run {run_id}",
        )

    async def _async_execute_resumed(
        self,
        run: _Run,
        future: asyncio.Future[ScriptRunResult | None],
        place: DelayPlace,
        fired: asyncio.Future[DeadlineFired],
        cancel: Callable[[], None] | None,
    ) -> None:
        try:
            await self._async_execute(run, future, resume=(place, fired))
        finally:
            if cancel is not None:
                cancel()
