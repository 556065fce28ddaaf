"""The hooks an integration may implement: the plugin API for outside authors.

Linli uses `pluggy <https://pluggy.readthedocs.io>`_ with the project name ``linli``.
An integration is a Python distribution that registers its module in the ``linli``
entry-point group, conventionally named after its domain::

    # pyproject.toml of linli-plate-gate
    [project.entry-points.linli]
    plate_gate = "linli_plate_gate"

and implements hooks from this module, marked with :data:`hookimpl`::

    from linli import Integration, Manifest, hookimpl

    @hookimpl
    def linli_integration(core_version: str) -> Integration:
        return Integration(Manifest(domain="plate_gate", name="Plate gates"), async_setup)

Rules every hook follows:

* Hooks are synchronous and *declare*: they return data (descriptors, schemas, folders).
  Anything asynchronous lives on the returned :class:`~linli.plugins.Integration`
  (``async_setup``/``async_unload``), which the core awaits with a timeout.
* An implementation may accept fewer parameters than the spec lists (pluggy passes only
  those it names), so hooks can gain parameters in later versions without breaking you.
  Hooks never lose parameters.
* A hook that raises is reported against the plugin that implements it; the rest of the
  hub goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from linli.helpers.trigger import TriggerPlatform
    from linli.plugins.integration import Integration

hookspec = pluggy.HookspecMarker("linli")
"""Marks a function in this module as a hook specification."""

hookimpl = pluggy.HookimplMarker("linli")
"""Marks an integration's function as the implementation of a hook."""


# ---------------------------------------------------------------------------- discovery


@hookspec
def linli_integration(core_version: str) -> Integration | None:
    """Describe this integration to the hub.

    Called once per plugin when the hub discovers installed integrations, before any
    configuration is read, so it must be cheap and must not do I/O.

    :param core_version: The running core's version (``linli.__version__``), so an
        integration can refuse to load on a core it does not support (return None, or raise
        with a message saying which version it needs).
    :returns: The integration's :class:`~linli.plugins.Integration` (manifest, config
        schema, ``async_setup``/``async_unload``), or None to stay out. Every plugin's
        result is collected; the entry point's name should equal the returned domain.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------- blueprints

if TYPE_CHECKING:
    import pathlib


@hookspec
def linli_blueprint_folders() -> list[pathlib.Path] | None:
    """Name the folders holding the blueprints this integration ships.

    Called whenever blueprints are looked up: when automations that use one are loaded or
    reloaded, and by ``linli blueprint list``. It must be cheap and must not do I/O; return
    paths inside your package, e.g. ``[Path(__file__).parent / "blueprints"]``.

    Each folder holds ``<domain>/<name>.yaml`` (``automation/elder_no_activity.yaml``, or
    deeper: ``automation/<sub>/<name>.yaml``), in Home Assistant's blueprint schema. An
    automation uses one with ``use_blueprint: {path: elder_no_activity.yaml, input: …}``,
    the path relative to the domain folder. A blueprint of the same path in the config dir's
    ``blueprints/<domain>/`` wins, so a community can adapt a shipped one by copying it there;
    between integrations, the first by plugin name wins.

    :returns: The folders (absolute paths), or None when the integration ships none. Every
        plugin's result is collected.

    .. versionadded:: 0.2
    """


# ---------------------------------------------------------------------------- automations


@hookspec
def linli_trigger_platforms() -> dict[str, TriggerPlatform] | None:
    """Offer trigger platforms that automations (and ``wait_for_trigger``) can use.

    Called whenever triggers are validated or attached (when automations are set up or
    reloaded), on the event loop, so it must be cheap and must not do I/O: return the same
    mapping every time.

    :returns: A mapping of platform name — what users write in ``platform:`` (or
        ``trigger:``), by convention ``<domain>`` or ``<domain>.<kind>`` — to a
        :class:`~linli.helpers.trigger.TriggerPlatform`: a module or object with
        ``TRIGGER_SCHEMA`` (validates one trigger config, ``platform`` key included; extend
        :data:`~linli.helpers.trigger.TRIGGER_BASE_SCHEMA`) and
        ``async async_attach_trigger(hub, config, action, trigger_info)`` returning a function
        that detaches it. When the trigger fires, call ``action(payload, context)`` on the loop
        with your trigger variables (a ``description`` and your own keys; ``platform``,
        ``id``, ``idx`` and ``alias`` are added for you). Return None or ``{}`` to offer none.
        Every plugin's result is collected; a name already built in (``state``, ``time`` …)
        is ignored with a warning, and of two plugins offering the same name the later wins.

    .. versionadded:: 0.2
    """
