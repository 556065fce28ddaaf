"""Traces: what one run of an automation or script did, step by step, kept for inspection.

A :class:`Trace` records the run's trigger, its variables, every condition and action it
evaluated (by path, e.g. ``condition/0`` or ``action/2/then/0``) with the result or error, and
how the run ended (``script_execution``). Timestamps come from the hub's clock, so traces made
under a fake clock read like the test that made them. The :class:`TraceStore` keeps the last
few traces of every item (an automation's id, a script's name) in memory.

``script_execution`` is one of:

``finished``            the run reached its end (also after ``stop`` without ``error``)
``failed_conditions``   the automation's conditions were not met; no action ran
``failed_single``       mode ``single`` refused the run: it was already running
``failed_max_runs``     modes ``queued``/``parallel`` refused the run: too many runs
``aborted``             a ``condition`` action was false, or a wait timed out without
                        ``continue_on_timeout``
``error``               a step raised or ``stop`` with ``error: true`` ended the run
``cancelled``           the run was stopped (mode ``restart``, ``Script.async_stop``, the hub
                        stopping while the run was not in a persisted delay)
``suspended``           the hub stopped while the run waited in a persisted delay; it
                        continues after the restart, under the same run id
``aborted_by_restart``  a persisted delay could not be resumed after a restart (it was inside
                        ``repeat`` or ``parallel``, or the script changed)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from linli.callback import callback
from linli.hub import HubKey
from linli.util.dt import utc_from_timestamp
from linli.util.ids import ulid
from linli.util.json import json_bytes, json_loads

if TYPE_CHECKING:
    from linli.context import Context
    from linli.hub import Hub

__all__ = [
    "DEFAULT_STORED_TRACES",
    "MAX_STEPS",
    "Trace",
    "TraceStore",
    "get_trace_store",
    "json_safe",
]

DEFAULT_STORED_TRACES = 5
"""How many traces the store keeps per item unless told otherwise."""

MAX_STEPS = 1000
"""Steps a trace keeps; past that the oldest half is dropped (a long ``repeat``)."""

_UNSET: Any = object()


class Trace:
    """The record of one run: trigger, variables, steps, outcome."""

    __slots__ = (
        "_time",
        "context",
        "domain",
        "error",
        "extra",
        "item_id",
        "last_step",
        "run_id",
        "script_execution",
        "state",
        "steps",
        "timestamp_finish",
        "timestamp_start",
        "trigger",
        "variables",
    )

    def __init__(
        self,
        hub: Hub,
        item_id: str,
        domain: str,
        *,
        context: Context | Mapping[str, Any] | None = None,
        trigger: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> None:
        """Start a trace now (by the hub's clock); ``run_id`` defaults to a new ULID."""
        self._time = hub.clock.time
        self.timestamp_start: float = self._time()
        self.run_id = run_id or ulid(self.timestamp_start)
        self.item_id = item_id
        self.domain = domain
        self.context: dict[str, Any] | None = None
        if context is not None:
            self.set_context(context)
        self.trigger: dict[str, Any] | None = dict(trigger) if trigger is not None else None
        self.variables: dict[str, Any] | None = dict(variables) if variables is not None else None
        self.steps: list[dict[str, Any]] = []
        self.last_step: str | None = None
        self.error: str | None = None
        self.script_execution: str | None = None
        self.state = "running"
        self.timestamp_finish: float | None = None
        self.extra: dict[str, Any] = {}
        """More facts about the run (``resumed_after_restart``, ``late``), shown in as_dict."""

    # ------------------------------------------------------------------ recording
    @callback
    def set_context(self, context: Context | Mapping[str, Any]) -> None:
        """Record the run's context (a Context or its dict form)."""
        self.context = dict(context) if isinstance(context, Mapping) else context.as_dict()

    @callback
    def set_trigger(self, trigger: Mapping[str, Any] | None) -> None:
        """Record what triggered the run (the ``trigger`` variable)."""
        self.trigger = dict(trigger) if trigger is not None else None

    @callback
    def set_variables(self, variables: Mapping[str, Any]) -> None:
        """Record the variables the run started with (a shallow copy)."""
        self.variables = dict(variables)

    @callback
    def add_step(
        self,
        path: str,
        result: Any = _UNSET,
        error: BaseException | str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one evaluated condition or action at ``path``; return its record.

        ``result`` is what the step produced (a condition's ``{"result": bool}``, a service
        call's parameters…), ``error`` why it failed, ``variables`` the variables it changed.
        The returned dict may be updated while the step runs (e.g. a delay marking ``done``).
        """
        if len(self.steps) >= MAX_STEPS:
            drop = MAX_STEPS // 2
            del self.steps[:drop]
            self.extra["steps_dropped"] = self.extra.get("steps_dropped", 0) + drop
        step: dict[str, Any] = {"path": path, "timestamp": self._time()}
        if result is not _UNSET:
            step["result"] = result
        if error is not None:
            step["error"] = str(error) or type(error).__name__
        if variables:
            step["changed_variables"] = dict(variables)
        self.steps.append(step)
        self.last_step = path
        return step

    @callback
    def finish(self, error: BaseException | str | None = None, stopped: str | None = None) -> None:
        """End the trace: ``stopped`` is the ``script_execution`` (default from ``error``).

        Only the first call counts, so a caller finishing a trace the script already finished
        (or the other way round) changes nothing.
        """
        if self.state == "stopped":
            return
        if error is not None:
            self.error = str(error) or type(error).__name__
        self.script_execution = stopped or ("error" if error is not None else "finished")
        self.state = "stopped"
        self.timestamp_finish = self._time()

    # ------------------------------------------------------------------ reading
    def as_dict(self) -> dict[str, Any]:
        """Return the trace as plain data (timestamps as ISO strings)."""
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "item_id": self.item_id,
            "domain": self.domain,
            "state": self.state,
            "script_execution": self.script_execution,
            "timestamp": {
                "start": utc_from_timestamp(self.timestamp_start).isoformat(),
                "finish": (
                    None
                    if self.timestamp_finish is None
                    else utc_from_timestamp(self.timestamp_finish).isoformat()
                ),
            },
            "context": self.context,
            "trigger": self.trigger,
            "variables": self.variables,
            "last_step": self.last_step,
            "error": self.error,
            "steps": [
                {**step, "timestamp": utc_from_timestamp(step["timestamp"]).isoformat()}
                for step in self.steps
            ],
        }
        data.update(self.extra)
        return data

    def as_persisted(self) -> dict[str, Any]:
        """Return the trace as JSON-able data :meth:`from_persisted` can rebuild."""
        return {
            "run_id": self.run_id,
            "item_id": self.item_id,
            "domain": self.domain,
            "timestamp_start": self.timestamp_start,
            "context": self.context,
            "trigger": json_safe(self.trigger),
            "variables": json_safe(self.variables),
            "steps": json_safe(self.steps),
            "extra": json_safe(self.extra),
        }

    @classmethod
    def from_persisted(cls, hub: Hub, data: Mapping[str, Any]) -> Trace:
        """Rebuild a running trace from :meth:`as_persisted` data (e.g. after a restart)."""
        trace = cls(
            hub,
            str(data["item_id"]),
            str(data["domain"]),
            context=data.get("context"),
            trigger=data.get("trigger"),
            variables=data.get("variables"),
            run_id=str(data["run_id"]),
        )
        trace.timestamp_start = float(data.get("timestamp_start", trace.timestamp_start))
        trace.steps = [dict(step) for step in data.get("steps") or ()]
        if trace.steps:
            trace.last_step = trace.steps[-1]["path"]
        trace.extra = dict(data.get("extra") or {})
        return trace

    def __repr__(self) -> str:
        return (
            f"<Trace {self.domain}.{self.item_id} {self.run_id} {self.state}"
            f" {self.script_execution or ''}>"
        )


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON data (States and Contexts as dicts; others dropped).

    Mappings keep only the keys whose values can be written; anything else that cannot be
    written becomes None.
    """
    if value is None:
        return None
    try:
        return json_loads(json_bytes(value))
    except TypeError:
        pass
    if isinstance(value, Mapping):
        safe: dict[str, Any] = {}
        for key, item in value.items():
            try:
                safe[str(key)] = json_loads(json_bytes(item))
            except TypeError:
                continue
        return safe
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return None


class StoredTrace:
    """A finished trace kept as its JSON text: what :class:`TraceStore` hands out for it.

    Made when read; the store itself keeps only ``(run_id, domain, item_id, json)``, a tuple
    of plain values the garbage collector stops tracking, so thousands of stored traces add
    nothing to the collector's pauses.
    """

    __slots__ = ("_json", "domain", "item_id", "run_id")

    state = "stopped"

    def __init__(self, run_id: str, domain: str, item_id: str, data: bytes) -> None:
        """Wrap the stored JSON ``data`` of one finished run."""
        self.run_id = run_id
        self.domain = domain
        self.item_id = item_id
        self._json = data

    def as_dict(self) -> dict[str, Any]:
        """Return the trace as plain data, as :meth:`Trace.as_dict` gave it when it finished."""
        data: dict[str, Any] = json_loads(self._json)
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredTrace):
            return NotImplemented
        return (self.run_id, self.item_id, self._json) == (other.run_id, other.item_id, other._json)

    def __hash__(self) -> int:
        return hash((self.run_id, self.item_id))

    def __repr__(self) -> str:
        return f"<StoredTrace {self.domain}.{self.item_id} {self.run_id}>"


_Frozen = tuple[str, str, str, bytes]
"""A finished trace in the store: run id, domain, item id, its ``as_dict()`` as JSON."""


def _freeze(trace: Trace) -> _Frozen:
    data = trace.as_dict()
    try:
        text = json_bytes(data)
    except TypeError:  # a variable that JSON cannot hold: keep what it can
        text = json_bytes(json_safe(data))
    return (trace.run_id, trace.domain, trace.item_id, text)


def _thaw(entry: Trace | _Frozen) -> Trace | StoredTrace:
    if isinstance(entry, Trace):
        return entry
    return StoredTrace(*entry)


class TraceStore:
    """The last ``keep`` traces of every item, newest last.

    A run's trace is stored when it starts and changes while it runs; once it has finished
    and a newer run of the item is stored, it is kept as JSON text (read back as a
    :class:`StoredTrace`).
    """

    def __init__(self, keep: int = DEFAULT_STORED_TRACES) -> None:
        """Create an empty store keeping ``keep`` traces per item."""
        self.keep = keep
        self._traces: dict[str, deque[Trace | _Frozen]] = {}
        self._keep_per_item: dict[str, int] = {}

    @callback
    def set_keep(self, item_id: str, keep: int) -> None:
        """Keep ``keep`` traces for ``item_id`` (an automation's ``trace: {stored_traces}``)."""
        self._keep_per_item[item_id] = keep
        old = self._traces.get(item_id)
        if old is not None:
            self._traces[item_id] = deque(old, maxlen=keep)

    @callback
    def add(self, trace: Trace) -> None:
        """Store ``trace``; storing the same trace twice keeps one copy."""
        traces = self._traces.get(trace.item_id)
        if traces is None:
            keep = self._keep_per_item.get(trace.item_id, self.keep)
            traces = self._traces[trace.item_id] = deque(maxlen=keep)
        elif traces:
            if any(item is trace for item in traces):
                return
            for index, item in enumerate(traces):
                if isinstance(item, Trace) and item.state == "stopped":
                    traces[index] = _freeze(item)
        traces.append(trace)

    @callback
    def get(self, item_id: str) -> list[Trace | StoredTrace]:
        """Return the stored traces of ``item_id``, oldest first."""
        return [_thaw(entry) for entry in self._traces.get(item_id, ())]

    @callback
    def get_run(self, item_id: str, run_id: str) -> Trace | StoredTrace | None:
        """Return the trace of one run, or None."""
        for entry in self._traces.get(item_id, ()):
            if (entry.run_id if isinstance(entry, Trace) else entry[0]) == run_id:
                return _thaw(entry)
        return None

    @callback
    def items(self) -> list[str]:
        """Return the ids of the items with stored traces."""
        return list(self._traces)

    @callback
    def clear(self, item_id: str | None = None) -> None:
        """Forget the traces of ``item_id`` (or of every item)."""
        if item_id is None:
            self._traces.clear()
        else:
            self._traces.pop(item_id, None)


_TRACE_STORE: HubKey[TraceStore] = HubKey("linli.helpers.trace")


@callback
def get_trace_store(hub: Hub) -> TraceStore:
    """Return the hub's trace store (made on first use)."""
    store = hub.data.get(_TRACE_STORE)
    if store is None:
        store = hub.data[_TRACE_STORE] = TraceStore()
    return store
