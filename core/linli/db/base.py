"""The one declarative base every table of the project is a model on."""

from __future__ import annotations

from typing import Final

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are derived, never left to the database, so migrations can name them."""


class Base(DeclarativeBase):
    """Declarative base of every Linli table (typed ``Mapped[...]`` models)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
