"""What a PostgreSQL connection owes the server and sends with its next statement (a savepoint's statements, writes
nobody reads the result of), consecutive inserts merged into one statement; and the savepoints' statements sent as
text on every database. Errors are raised as SQLAlchemy raises them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


def plain_savepoints(dialect: Dialect) -> None:
    """SAVEPOINT, RELEASE and ROLLBACK TO sent to the driver as text. SQLAlchemy builds and compiles each
    savepoint's clause anew (every one has a name of its own, so its compiled cache never hits): with a
    savepoint per stored message, that cost the storing process more than the statement. The Session's
    nested transactions (`begin_nested`) are unchanged; only how their SQL is sent (this engine's dialect
    object is given these three methods: SQLAlchemy calls them to emit each savepoint's statement).

    On PostgreSQL a savepoint's SAVEPOINT and RELEASE are owed, not sent: they go in one pipeline with the
    next statement run on the connection (`Owed`), so a message's savepoint costs no round trip of its own."""

    def quote(name: str) -> str:  # as SQLAlchemy renders the name
        return str(dialect.identifier_preparer.format_savepoint(None, name))

    def send(connection: Connection, sql: str) -> None:
        on_cursor(connection, sql).close()

    if dialect.name == "postgresql":
        Owed.install(dialect, quote)
        return

    def do_savepoint(connection: Connection, name: str) -> None:
        send(connection, f"SAVEPOINT {quote(name)}")

    def do_release_savepoint(connection: Connection, name: str) -> None:
        send(connection, f"RELEASE SAVEPOINT {quote(name)}")

    def do_rollback_to_savepoint(connection: Connection, name: str) -> None:
        send(connection, f"ROLLBACK TO SAVEPOINT {quote(name)}")

    dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = do_release_savepoint  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]


def send_owed_writes(connection: Connection) -> None:
    """Send now what a PostgreSQL connection owes, if it owes any write (a savepoint's own statements can wait)."""
    driver_connection = connection.connection.driver_connection
    if Owed.owes_write(driver_connection):
        Owed.flush(driver_connection)


def end_owed_statement(connection: Connection) -> None:
    """What a PostgreSQL connection owes from here on goes in a statement of its own, not merged with the inserts
    owed before (`_merged`): one statement per stored message, though a backlog's messages may ask the server
    nothing until the transaction commits and owe it all their inserts at once. A merged statement of each
    message's few inserts has a few shapes, each prepared once; all of a transaction's in one would be a new
    statement every time (parsed and planned anew, and bounded only by the server's 65,535 parameters)."""
    owed = Owed.of(connection.connection.driver_connection)
    if owed and owed[-1][0] == "write":
        owed.append(("end", "", None))


class Owed:
    """What each PostgreSQL connection owes the server, sent in one pipeline with its next statement: its
    savepoints' SAVEPOINT and RELEASE, and writes whose results nobody reads (`DriverStatement.owe`).

    A stored message's savepoint was two round trips of its own (SAVEPOINT before it, RELEASE after), each a
    wait for the server, measured at 0.6-0.8 ms and 0.1-0.2 ms a message in a backlog on two busy cores. Owed,
    they go in psycopg's pipeline mode together with the next statement (one round trip for all), and
    a savepoint released or rolled back before any statement ran in it is never sent at all. What the server
    sees is the same sequence of statements; only how many waits it costs. Owed writes are sent at the latest
    when their savepoint is released or the transaction commits, so a write's error still belongs to its
    savepoint; a ROLLBACK (TO) drops what it undoes, so nothing owed outlives its transaction."""

    # By the driver's connection: (what, SQL, its parameters), what being "savepoint", "release", "write" or "end"
    # (`end_owed_statement`).
    owed: WeakKeyDictionary[Any, list[tuple[str, str, Any]]] = WeakKeyDictionary()

    @classmethod
    def install(cls, dialect: Dialect, quote: Callable[[str], str]) -> None:
        cls._savepoints(dialect, quote)
        cls._executions(dialect)

    @classmethod
    def _savepoints(cls, dialect: Dialect, quote: Callable[[str], str]) -> None:
        """SAVEPOINT and RELEASE owed; ROLLBACK TO undoes what is owed unsent, and is sent itself when needed."""

        def owed_by(connection: Connection) -> list[tuple[str, str, Any]]:
            return cls.owed.setdefault(connection.connection.driver_connection, [])

        def do_savepoint(connection: Connection, name: str) -> None:
            owed_by(connection).append(("savepoint", f"SAVEPOINT {quote(name)}", None))

        def do_release_savepoint(connection: Connection, name: str) -> None:
            owed = owed_by(connection)
            if owed and owed[-1][1] == f"SAVEPOINT {quote(name)}":
                owed.pop()  # nothing ran in it
                return
            owed.append(("release", f"RELEASE SAVEPOINT {quote(name)}", None))
            if cls.owes_write(connection.connection.driver_connection):  # its writes answer for themselves first
                cls.flush(connection.connection.driver_connection)

        def do_rollback_to_savepoint(connection: Connection, name: str) -> None:
            owed = owed_by(connection)
            opened = next((i for i, item in enumerate(owed) if item[1] == f"SAVEPOINT {quote(name)}"), None)
            if opened is not None:
                del owed[opened:]  # nothing after it was sent: nothing to undo
                return
            owed.clear()  # all of it came after the savepoint, which was sent: undone unsent
            on_cursor(connection, f"ROLLBACK TO SAVEPOINT {quote(name)}").close()

        dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]
        dialect.do_release_savepoint = do_release_savepoint  # type: ignore[method-assign]
        dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]

    @classmethod
    def _executions(cls, dialect: Dialect) -> None:
        """Every statement SQLAlchemy runs pays what is owed first; COMMIT sends owed writes, ROLLBACK drops all."""
        plain_execute, plain_many = dialect.do_execute, dialect.do_executemany
        plain_no_params = dialect.do_execute_no_params
        plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

        def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
            cls.run(cursor, lambda: plain_execute(cursor, statement, parameters, context))

        def do_executemany(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
            cls.run(cursor, lambda: plain_many(cursor, statement, parameters, context))

        def do_execute_no_params(cursor: Any, statement: str, context: Any = None) -> None:
            cls.run(cursor, lambda: plain_no_params(cursor, statement, context))

        def driver(dbapi_connection: Any) -> Any:  # the pool's proxy (mostly), or the driver's connection itself
            return getattr(dbapi_connection, "driver_connection", dbapi_connection)

        def do_commit(dbapi_connection: Any) -> None:
            if cls.owes_write(driver(dbapi_connection)):
                cls.flush(driver(dbapi_connection))
            cls.owed.pop(driver(dbapi_connection), None)  # savepoints need nothing at COMMIT
            plain_commit(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            cls.owed.pop(driver(dbapi_connection), None)
            plain_rollback(dbapi_connection)

        dialect.do_execute = do_execute  # type: ignore[method-assign]
        dialect.do_executemany = do_executemany  # type: ignore[method-assign]
        dialect.do_execute_no_params = do_execute_no_params  # type: ignore[method-assign]
        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @classmethod
    def of(cls, driver_connection: Any) -> list[tuple[str, str, Any]] | None:
        """What is owed to this connection, if anything (a SQLite connection, no weak key, owes nothing)."""
        try:
            return cls.owed.get(driver_connection) if cls.owed else None
        except TypeError:
            return None

    @classmethod
    def owes_write(cls, driver_connection: Any) -> bool:
        """Whether a write is owed to this connection."""
        return any(what == "write" for what, _, _ in cls.of(driver_connection) or ())

    @classmethod
    def owe_write(cls, driver_connection: Any, sql: str, params: Any) -> None:
        cls.owed.setdefault(driver_connection, []).append(("write", sql, params))

    @classmethod
    def flush(cls, driver_connection: Any) -> None:
        """Send what is owed now, in one pipeline (a driver error raised as SQLAlchemy raises it)."""
        owed = cls.owed.pop(driver_connection, None)
        if not owed:
            return
        import psycopg  # only a PostgreSQL connection owes anything

        try:
            with driver_connection.pipeline(), driver_connection.cursor() as cursor:
                cls.send(cursor, owed)
        except psycopg.Error as exc:  # as SQLAlchemy raises a statement's error (IntegrityError, DataError...)
            raise DBAPIError.instance("; ".join(sql for _, sql, _ in owed), None, exc, psycopg.Error) from exc

    @classmethod
    def run(cls, cursor: Any, execute: Callable[[], Any]) -> None:
        """`execute` (a statement on `cursor`), after what is owed to its connection, all in one pipeline."""
        owed = cls.of(cursor.connection)
        if not owed:
            execute()
            return
        del cls.owed[cursor.connection]
        with cursor.connection.pipeline():
            cls.send(cursor, owed)
            execute()

    @classmethod
    def run_statement(cls, cursor: Any, sql: str, params: Any) -> None:
        """`run` for a statement of `on_cursor`. An INSERT takes the owed inserts just before it into its own
        statement (`_merged`), as WITHs before it: its result (a RETURNING, the rows it touched) is still its own,
        the statement's end."""
        owed = cls.of(cursor.connection) if _mergeable(sql, params) else None
        if owed and owed[-1][0] == "write" and _mergeable(owed[-1][1], owed[-1][2]):
            *rest, (_, sql, params) = _merged([*owed, ("write", sql, params)])
            owed[:] = rest
        cls.run(cursor, lambda: cursor.execute(sql) if params is None else cursor.execute(sql, params))

    @staticmethod
    def send(cursor: Any, owed: list[tuple[str, str, Any]]) -> None:
        """The owed statements on one cursor of the pipeline, consecutive inserts as one (`_merged`). A savepoint's
        statement is never prepared: each names its own savepoint, so psycopg would count every one toward a
        preparation that never comes."""
        for what, sql, params in _merged(owed):
            cursor.execute(sql, params, prepare=False if what != "write" else None)


# A named parameter as psycopg takes it (SQLAlchemy's pyformat for psycopg): %(name)s.
_PLACEHOLDER = re.compile(r"%\(([^)]*)\)s")


def _merged(owed: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """Consecutive owed INSERTs (a stored message's row, its submission, its case sheet, its receipt) sent as one
    statement, each but the last a data-modifying WITH: the server executed each statement alone, and its work
    around a statement (protocol, executor start and end) cost more than a small insert, so did psycopg's. They go
    into different rows, and constraints are checked as before (a foreign key at the statement's end, where every
    row is in); an error fails the one statement, as it failed the pipeline and the transaction before. Anything
    else (a savepoint, an update) is sent as it is, in its place."""
    out: list[tuple[str, str, Any]] = []
    run: list[tuple[str, str, Any]] = []
    for item in [*owed, ("end", "", None)]:  # an "end" (`end_owed_statement`) ends a run and is sent as nothing
        what, sql, params = item
        if what == "write" and _mergeable(sql, params):
            run.append(item)
            continue
        if len(run) > 1:
            out.append(_one_statement(run))
        else:
            out.extend(run)
        run = []
        if what != "end":
            out.append(item)
    return out


def _mergeable(sql: str, params: Any) -> bool:
    """An INSERT with named parameters (its RETURNING, if any, is read from the statement's end only)."""
    return sql.startswith("INSERT INTO ") and isinstance(params, dict)


def _one_statement(inserts: list[tuple[str, str, Any]]) -> tuple[str, str, Any]:
    """INSERTs as one: each but the last in a WITH, its parameters renamed apart (w0_..., w1_...)."""
    texts, values = [], {}
    for i, (_, sql, params) in enumerate(inserts):
        texts.append(_PLACEHOLDER.sub(rf"%(w{i}_\1)s", sql))
        values.update({f"w{i}_{name}": value for name, value in params.items()})
    head = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(texts[:-1]))
    return "write", f"WITH {head} {texts[-1]}", values


def on_cursor(connection: Connection, sql: str, params: Any = None) -> Any:
    """`sql` run on a new cursor of the connection's driver, which is returned open (its rows not yet read).
    A driver error is raised as SQLAlchemy raises it (IntegrityError for a duplicate key, OperationalError for
    a lock...), so callers catch the same exceptions whichever way a statement ran."""
    error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        Owed.run_statement(cursor, sql, params)
    except error as exc:
        cursor.close()
        raise DBAPIError.instance(sql, params, exc, error) from exc
    return cursor
