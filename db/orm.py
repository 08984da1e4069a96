"""The ORM's side of the database: the declarative base every package's mapped classes share (on the one
metadata of db/engine.py) and the session factory."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from db.owed import send_owed_writes
from db.engine import metadata


class Base(DeclarativeBase):
    metadata = metadata


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


@event.listens_for(Session, "before_commit")
def _owed_writes_first(session: Session) -> None:
    """Writes owed to a PostgreSQL connection (`DriverStatement.owe`) are sent before their savepoint (or the
    transaction) commits: their error then fails it as an ORM flush's error would, and the session rolls
    the savepoint back. (Sent later, at the RELEASE itself, an error left the savepoint neither released nor
    rolled back.)"""
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        send_owed_writes(session.connection())
