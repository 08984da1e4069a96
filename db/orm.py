"""The ORM's side of the database: the declarative base every package's mapped classes share (on the one
metadata of db/engine.py) and the session factory."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from db.engine import metadata


class Base(DeclarativeBase):
    metadata = metadata


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
