"""Which errors are the database's trouble (a message meeting one is stored later) and which the data's (the
message is quarantined): real errors from real databases, each made to happen."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from db.trouble import is_transient
from tests import servers


def _error(engine, sql: str) -> DBAPIError:  # type: ignore[no-untyped-def]
    with engine.connect() as c, pytest.raises(DBAPIError) as caught:
        c.execute(text(sql))
    return caught.value


def test_a_lock_not_had_in_time_is_the_databases_trouble_a_refused_value_the_datas(db_url) -> None:  # type: ignore[no-untyped-def]
    postgres = db_url.startswith("postgresql")
    engine = create_engine(db_url, connect_args={} if postgres else {"timeout": 0.05})
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
        c.execute(text("CREATE INDEX t_v ON t (v)"))
    holder = engine.connect()
    try:
        if postgres:
            holder.execute(text("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"))
            locked = _error(engine, "SET lock_timeout = '50ms'; INSERT INTO t VALUES (1, 'x')")
        else:
            holder.exec_driver_sql("BEGIN IMMEDIATE")
            locked = _error(engine, "INSERT INTO t VALUES (1, 'x')")
    finally:
        holder.rollback()
        holder.close()
    assert is_transient(locked), locked

    refused = [_error(engine, "INSERT INTO t VALUES (2, NULL)")]  # NOT NULL
    if postgres:  # a value too long for its index (a hostile header would be one), and a NUL in text
        refused.append(_error(engine, "INSERT INTO t SELECT 3, string_agg(md5(random()::text), '') "
                                      "FROM generate_series(1, 400)"))
        refused.append(_error(engine, "SELECT E'a\\\\u0000b'::jsonb"))
    assert not any(is_transient(e) for e in refused), refused
    assert not is_transient(RuntimeError("a bug"))
    engine.dispose()


def test_a_lost_connection_is_the_databases_trouble(postgres_ok) -> None:  # type: ignore[no-untyped-def]
    """The server ended the session (an administrator, a restart): PostgreSQL."""
    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    engine = create_engine(url)
    try:
        with engine.connect() as victim, engine.connect() as admin:
            pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as caught:
                victim.exec_driver_sql("SELECT 1")
        assert is_transient(caught.value), caught.value
    finally:
        engine.dispose()
        servers.drop_pg_database(name)
