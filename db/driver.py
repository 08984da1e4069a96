"""Statements run on the database driver's own cursor, for the few that every stored message runs (see
`DriverStatement`). Values still go through each column type's processors and errors are raised as SQLAlchemy
raises them, so callers see what SQLAlchemy would give them. What such a statement owes PostgreSQL, and when it is
sent, is db/owed.py's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError

from db.owed import Owed, on_cursor


_RESERVED = "complaint_bot.db.reserved_ids"  # a session's info: {table: ids taken from its sequence, not yet used}
RESERVE = 32


def reserve_id(connection: Connection, info: dict[str, Any], table: str) -> int:
    """An id for a new row of `table` (PostgreSQL), taken from its serial column's sequence ahead, RESERVE at a
    time (one round trip per RESERVE rows), so that its insert needs no RETURNING and can be owed. Ids taken
    and not used leave gaps, as a rolled-back insert does."""
    pool: dict[str, list[int]] = info.setdefault(_RESERVED, {})
    ids = pool.setdefault(table, [])
    if not ids:
        cursor = on_cursor(connection, "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                                        "FROM generate_series(1, %s)", [table, RESERVE])
        try:
            ids.extend(int(row[0]) for row in cursor.fetchall())
        finally:
            cursor.close()
        ids.reverse()  # handed out in the sequence's order
    return ids.pop()


class DriverStatement:
    """A Core statement compiled once per dialect and run on the driver's own cursor, for the few statements
    every stored message runs (its row, its submission, its receipt, the look-ups that fold its report).

    Measured on a backlog, SQLAlchemy's work around each execution (the compiled cache's look-up, setting up
    the parameters' processing, wrapping the result) cost the storing process more than the database's own
    work. Here the parameters still go through each type's bind processor (UTCDateTime, JSON) and the
    selected columns through their result processors, so values are what SQLAlchemy would write and read,
    except that None is always SQL NULL (SQLAlchemy writes a JSON column's None as the JSON text `null`).
    The statement takes named parameters and runs inside the caller's transaction (and savepoint).

    Every parameter must be given (no column defaults are applied here: `with_defaults` fills an insert's).
    """

    def __init__(self, statement: Any, keys: tuple[str, ...] | None = None) -> None:
        self.statement = statement
        self.keys = keys  # an INSERT's columns, in order (its other columns are left to the database)
        self._compiled: dict[str, _DriverSQL] = {}

    def _for(self, dialect: Dialect) -> _DriverSQL:
        key = f"{dialect.name}+{dialect.driver}"
        compiled = self._compiled.get(key)
        if compiled is None:  # two threads may both build it: the same result
            compiled = self._compiled[key] = _DriverSQL.build(self.statement, dialect, self.keys)
        return compiled

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Run it on the connection's driver cursor; the driver cursor is returned, its rows not yet read."""
        compiled = self._for(connection.dialect)
        return on_cursor(connection, compiled.sql, compiled.values(params))

    def owe(self, connection: Connection, params: Mapping[str, Any]) -> None:
        """Run a write whose result nobody reads. On PostgreSQL it is owed to the connection and goes in one
        pipeline with the next statement (at the latest when its savepoint is released, or at COMMIT), so it
        costs no round trip of its own; elsewhere it runs now. Its error is raised where it is sent."""
        if connection.dialect.name != "postgresql":
            self.run(connection, params)
            return
        compiled = self._for(connection.dialect)
        Owed.owe_write(connection.connection.driver_connection, compiled.sql, compiled.values(params))

    def scalar(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (processed), or None."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, each column processed as its type says; None when there is none."""
        cursor = self.execute(connection, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else self._for(connection.dialect).row(row)

    def all(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self.execute(connection, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return list(map(self._for(connection.dialect).row, rows))

    def run(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it touched."""
        cursor = self.execute(connection, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


_REQUIRED = object()


@dataclass(frozen=True)
class _DriverSQL:
    sql: str
    positional: bool
    names: tuple[str, ...]
    # (name, bind processor, the value the statement gives it: a LIMIT's, or _REQUIRED from the caller)
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    results: tuple[Callable[[Any], Any] | None, ...]

    def values(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The parameters as the driver takes them, each through its type's bind processor."""
        values = []
        for name, proc, given in self.binds:
            value = params[name] if given is _REQUIRED else params.get(name, given)
            values.append(value if proc is None or value is None else proc(value))
        return values if self.positional else dict(zip(self.names, values))

    def row(self, row: Any) -> tuple[Any, ...]:
        """A selected row, each column through its type's result processor."""
        return tuple(value if proc is None else proc(value) for value, proc in zip(row, self.results))

    @classmethod
    def build(cls, statement: Any, dialect: Dialect, keys: tuple[str, ...] | None) -> _DriverSQL:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a driver statement takes plain parameters only (no IN lists)")
        positional = bool(dialect.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                       _REQUIRED if compiled.binds[name].value is None else compiled.binds[name].value)
                      for name in names)
        # A SELECT's columns, or an INSERT/UPDATE's RETURNING columns.
        results = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None)
                        for col in statement.exported_columns)
        return cls(str(compiled), positional, names, binds, results)


def with_defaults(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """An insert's values with each missing or None value replaced by its column's Python default (what
    SQLAlchemy's own insert does for a column left out; a column without one gets NULL)."""
    out = dict(values)
    for column in table.columns:
        if out.get(column.key) is None and column.default is not None and not column.primary_key:
            default = column.default
            out[column.key] = default.arg(None) if default.is_callable else default.arg
        out.setdefault(column.key, None)
    return out


def read_together(connection: Connection,
                  reads: list[tuple[DriverStatement, Mapping[str, Any]]]) -> list[list[tuple[Any, ...]]]:
    """The rows of several reads whose answers are needed now, each row processed as `DriverStatement.all`
    does. On PostgreSQL they go in one pipeline after what the connection owes: one wait for the server for
    all of them, where each alone waited once (a stored message's fold look-up and its unit's review look-up,
    ~0.4-0.8 ms a wait on two busy cores). Elsewhere they run one after another."""
    if connection.dialect.name != "postgresql":
        return [statement.all(connection, params) for statement, params in reads]
    driver_connection = connection.connection.driver_connection
    compiled = [(statement._for(connection.dialect), params) for statement, params in reads]
    error = connection.dialect.loaded_dbapi.Error
    cursors = [driver_connection.cursor() for _ in compiled]  # type: ignore[union-attr]
    try:
        owed = Owed.owed.pop(driver_connection, None)
        with driver_connection.pipeline():  # type: ignore[union-attr]
            if owed:
                Owed.send(cursors[0], owed)
            for cursor, (sql, params) in zip(cursors, compiled):
                cursor.execute(sql.sql, sql.values(params))
        return [list(map(sql.row, cursor.fetchall())) for cursor, (sql, _) in zip(cursors, compiled)]
    except error as exc:
        raise DBAPIError.instance("; ".join(sql.sql for sql, _ in compiled), None, exc, error) from exc
    finally:
        for cursor in cursors:
            cursor.close()
