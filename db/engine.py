"""The database: the metadata every package's tables share, the types they use, and the engine. Core only:
the ORM (db/orm.py) is imported by the code that works with mapped objects, not by a command that
only reads; statements run on the driver itself are db/driver.py. (Migrations live in `bot/migrations`,
the one layer that may import every package's models.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Text, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeDecorator

from db.owed import plain_savepoints
from db.storable import storable, storable_json

# Stable constraint names so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend (SQLite would silently drop the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StorableString(TypeDecorator[str]):
    """A VARCHAR whose values are made storable as they are bound (db/storable.py): for every column that
    may hold a message's text (addresses, subjects, Message-IDs, filenames, reasons)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value) if isinstance(value, str) else value


class StorableText(StorableString):
    """TEXT, made storable as it is bound."""

    impl = Text
    cache_ok = True


class StorableJSON(TypeDecorator[Any]):
    """JSON whose strings are made storable as it is bound (problems, file notes and receipts quote a
    message's words; PostgreSQL refuses `\\u0000` and a lone surrogate's escape in json)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable_json(value)


# Every package's tables, on one metadata (the ORM's declarative base in db/orm.py shares it).
metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(busy_ms: int | None) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        # WAL lets the status command read while the worker writes; busy_timeout waits for the writer.
        cur.execute("PRAGMA journal_mode=WAL")
        if busy_ms is not None:
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return on_connect


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # It holds every original message: readable by the bot's user only. SQLite gives its -wal and
            # -shm files the database file's mode.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        engine = create_engine(url)
        # `?timeout=SECONDS` in the URL sets how long to wait for a lock; otherwise 30 s.
        event.listen(engine, "connect", _sqlite_pragmas(None if "timeout=" in url else 30000))
    else:
        engine = create_engine(url, pool_pre_ping=True)
    plain_savepoints(engine.dialect)
    return engine
