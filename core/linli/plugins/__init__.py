"""The plugin API: what an integration declares, and the markers its hooks use.

An integration is a distribution registered in the ``linli`` entry-point group whose module
implements :func:`linli.plugins.hookspecs.linli_integration` and returns an :class:`Integration`.
"""

from linli.plugins.hookspecs import hookimpl, hookspec
from linli.plugins.integration import ConfigType, Integration, IotClass, Manifest

__all__ = ["ConfigType", "Integration", "IotClass", "Manifest", "hookimpl", "hookspec"]
