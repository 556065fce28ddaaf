"""Scripts: sequences of actions (Home Assistant's syntax, plus ``alert``) and their runs.

Validate a sequence with :func:`valid_actions` (``SCRIPT_SCHEMA``), make a :class:`Script`
of it and run it with :meth:`Script.async_run` (wait for the outcome) or
:meth:`Script.async_start` (don't). Every run writes a :class:`~linli.helpers.trace.Trace`
with a record per step at paths like ``action/2/then/0``. A failing step ends the run with
``script_execution`` ``error``: the error is in the trace and logged once with the script's
name, and nothing is raised to the caller.

Actions: service calls (``action:``, or the older ``service:``; ``data``, ``target`` with
``entity_id``/``area_id``/``device_id``, ``response_variable``), ``delay``,
``wait_template``, ``wait_for_trigger``, ``choose``, ``if``/``then``/``else``, ``repeat``
(``count``/``while``/``until``/``for_each``), ``event``, ``variables``, ``stop``,
``parallel``, ``sequence``, ``condition``, and ``alert`` (a blocking ``alert.raise``). Every
action may carry ``alias``, ``enabled: false`` and ``continue_on_error: true`` (which goes on
past the expected failures: a service error, a template error, invalid data).

Delays of a script made with a ``deadline_prefix`` are persisted: after a restart,
:meth:`Script.async_resume_after_restart` continues a run from the step after its delay, also
from a delay nested in ``sequence``, ``if`` or ``choose``. What cannot survive a restart:

* a delay inside ``repeat`` or ``parallel`` (the loop's position and the other branches are
  not saved): the run is not continued and its trace says ``aborted_by_restart``;
* a delay of a script whose steps changed while the hub was down (same outcome);
* ``wait_template`` and ``wait_for_trigger``: their runs end with the hub (``cancelled``);
* variables that cannot be written as JSON (they are dropped; States become dicts).
"""

from linli.helpers.script.runner import ROOT_PATH, Script, ScriptRunResult
from linli.helpers.script.schema import (
    ACTION_SCHEMA,
    DEFAULT_MAX_RUNS,
    SCRIPT_MODE_SCHEMA,
    SCRIPT_SCHEMA,
    ScriptMode,
    determine_action,
    valid_actions,
)

__all__ = [
    "ACTION_SCHEMA",
    "DEFAULT_MAX_RUNS",
    "ROOT_PATH",
    "SCRIPT_MODE_SCHEMA",
    "SCRIPT_SCHEMA",
    "Script",
    "ScriptMode",
    "ScriptRunResult",
    "determine_action",
    "valid_actions",
]
