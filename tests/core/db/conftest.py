"""The ``db_url`` fixture: each database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from linli.db.testing import db_url

__all__ = ["db_url"]
