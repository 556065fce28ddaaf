"""Root conftest: the ``hub``, ``hub_factory`` and ``clock`` fixtures come from linli.testing."""
