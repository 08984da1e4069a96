"""db.driver.DriverStatement: statements run on the driver's cursor write and read what SQLAlchemy's own
execution does (aware datetimes as UTC, JSON, a LIMIT's value, column defaults), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, select, update

from db.engine import make_engine, metadata
from db.driver import DriverStatement, with_defaults
from intake.models import ProcessingAttempt, Submission
from tests.servers import RoundTrips

BKK = timezone(timedelta(hours=7))
_COLUMNS = tuple(c.key for c in Submission.__table__.columns if c.key != "id")
_INSERT = DriverStatement(insert(Submission).returning(Submission.id), _COLUMNS)
_LATEST = DriverStatement(select(Submission.id, Submission.arrived_at, Submission.c01_counts, Submission.fold_state)
                          .where(Submission.unit_code == bindparam("unit"))
                          .order_by(Submission.arrived_at.desc()).limit(1))
_ALL = DriverStatement(select(Submission.id).where(Submission.unit_code == bindparam("unit")).order_by(Submission.id))


def test_rows_written_on_the_driver_read_back_as_sqlalchemy_writes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    try:
        with engine.begin() as c:
            first = _INSERT.scalar(c, with_defaults(Submission.__table__, {
                "unit_code": "HPC01", "period": "2026-11", "arrived_at": datetime(2026, 11, 3, 9, 30, tzinfo=BKK),
                "c01_counts": {"complaint": 2, "ข้อเสนอแนะ": 1}}))
            second = c.execute(insert(Submission).returning(Submission.id), {
                "unit_code": "HPC01", "period": "2026-11", "arrived_at": datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
                "c01_counts": {"complaint": 0}}).scalar_one()
            other = _INSERT.scalar(c, with_defaults(Submission.__table__, {
                "unit_code": "HPC02", "period": "2026-11", "arrived_at": datetime(2026, 11, 4, tzinfo=UTC)}))
        with engine.connect() as c:
            # What SQLAlchemy reads for the row the driver wrote: the same instant (as UTC), the same JSON,
            # the column defaults applied (has_c01 False, files []), a None written as NULL.
            orm = c.execute(select(Submission.arrived_at, Submission.c01_counts, Submission.has_c01, Submission.files,
                                   Submission.channel, Submission.fold_state).where(Submission.id == first)).one()
            assert orm == (datetime(2026, 11, 3, 2, 30, tzinfo=UTC), {"complaint": 2, "ข้อเสนอแนะ": 1}, False, [],
                           "email", None)
            # And what the driver statement reads: processed as SQLAlchemy would (an aware UTC datetime, a dict).
            # The LIMIT's own value travels with the statement; the newest of the two is the driver-written one.
            assert _LATEST.first(c, {"unit": "HPC01"}) == (first, datetime(2026, 11, 3, 2, 30, tzinfo=UTC),
                                                            {"complaint": 2, "ข้อเสนอแนะ": 1}, None)
            assert _ALL.all(c, {"unit": "HPC01"}) == [(first,), (second,)]
            assert _ALL.all(c, {"unit": "HPC02"}) == [(other,)]
            assert _LATEST.first(c, {"unit": "nobody"}) is None and _LATEST.scalar(c, {"unit": "nobody"}) is None
            # None is SQL NULL, as for a column SQLAlchemy's insert leaves out (not the JSON text `null`).
            assert c.execute(select(Submission.id).where(Submission.fold_state.is_(None))).scalars().all() == \
                [first, second, other]
    finally:
        engine.dispose()


def test_a_naive_datetime_is_refused_as_by_sqlalchemy(sqlite_only_url: str) -> None:
    engine = make_engine(sqlite_only_url)
    metadata.create_all(engine)
    try:
        with engine.begin() as c, pytest.raises(ValueError, match="naive"):
            _INSERT.scalar(c, with_defaults(Submission.__table__, {
                "unit_code": "HPC01", "period": "2026-11", "arrived_at": datetime(2026, 11, 3)}))
    finally:
        engine.dispose()


def test_a_statement_with_an_in_list_is_refused(sqlite_only_url: str) -> None:
    engine = make_engine(sqlite_only_url)
    metadata.create_all(engine)
    statement = DriverStatement(select(Submission.id).where(Submission.unit_code.in_(["A", "B"])))
    try:
        with engine.connect() as c, pytest.raises(ValueError, match="IN lists"):
            statement.all(c, {})
    finally:
        engine.dispose()


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(db_url: str) -> None:
    """A duplicate key is SQLAlchemy's IntegrityError (what callers catch), not the driver's own class."""
    from sqlalchemy.exc import IntegrityError

    from intake.models import ProcessingAttempt

    statement = DriverStatement(insert(ProcessingAttempt), ("sha256", "attempts", "last_error", "updated_at"))
    engine = make_engine(db_url)
    metadata.create_all(engine)
    row = {"sha256": "a" * 64, "attempts": 1, "last_error": "", "updated_at": datetime.now(UTC)}
    try:
        with engine.begin() as c:
            assert statement.run(c, row) == 1
        with engine.begin() as c, pytest.raises(IntegrityError):
            statement.run(c, row)
    finally:
        engine.dispose()


def test_savepoints_sent_as_text_roll_back_only_their_part(db_url: str) -> None:
    """make_engine sends SAVEPOINT, RELEASE and ROLLBACK TO to the driver itself: a nested transaction that
    fails (a duplicate key; on PostgreSQL that aborts the transaction until the rollback) loses only its rows."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from intake.models import ProcessingAttempt

    engine = make_engine(db_url)
    metadata.create_all(engine)
    now = datetime.now(UTC)
    try:
        with Session(engine) as s, s.begin():
            s.add(ProcessingAttempt(sha256="a", attempts=1, last_error="", updated_at=now))
            with pytest.raises(IntegrityError), s.begin_nested():
                s.add(ProcessingAttempt(sha256="b", attempts=1, last_error="", updated_at=now))
                s.flush()
                s.add(ProcessingAttempt(sha256="a", attempts=2, last_error="", updated_at=now))
                s.flush()
            with s.begin_nested():
                with s.begin_nested():
                    s.add(ProcessingAttempt(sha256="c", attempts=1, last_error="", updated_at=now))
        with Session(engine) as s:
            assert s.scalars(select(ProcessingAttempt.sha256).order_by(ProcessingAttempt.sha256)).all() == ["a", "c"]
    finally:
        engine.dispose()


def test_a_savepoint_costs_no_round_trip_of_its_own_and_keeps_its_meaning(db_url: str) -> None:
    """On PostgreSQL a savepoint's SAVEPOINT and RELEASE are owed and go with the next statement (psycopg's
    pipeline): a message stored in its own savepoint waited for the server twice more than its statements
    (0.6-0.8 ms and 0.1-0.2 ms a message on two busy cores). What each savepoint means is unchanged: a
    savepoint rolled back before anything ran in it, one rolled back after a failure, releases owed at
    COMMIT, and a transaction rolled back with savepoints owed, after which the connection starts clean."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from intake.models import ProcessingAttempt

    engine = make_engine(db_url)
    metadata.create_all(engine)
    now = datetime.now(UTC)
    trips = RoundTrips(engine) if engine.dialect.name == "postgresql" else None

    def attempt(sha: str) -> ProcessingAttempt:
        return ProcessingAttempt(sha256=sha, attempts=1, last_error="", updated_at=now)

    try:
        with Session(engine) as s, s.begin():
            s.add(attempt("a"))
            s.flush()
            started = trips.count if trips else 0
            for sha in ("b", "c", "d"):  # a message each, in its own savepoint: one statement each
                with s.begin_nested():
                    s.add(attempt(sha))
            if trips:
                assert trips.count - started == 3  # was 9: SAVEPOINT, INSERT, RELEASE each
            with s.begin_nested() as nothing:  # nothing ran in it: nothing sent, nothing to undo
                nothing.rollback()
            with pytest.raises(IntegrityError), s.begin_nested():
                s.add(attempt("e"))
                s.flush()
                s.add(attempt("a"))  # a duplicate key: PostgreSQL aborts the transaction until ROLLBACK TO
                s.flush()
            with s.begin_nested():
                with s.begin_nested():
                    s.add(attempt("f"))
            # COMMIT with the last RELEASEs still owed
        with Session(engine) as s:
            assert s.scalars(select(ProcessingAttempt.sha256).order_by(ProcessingAttempt.sha256)).all() == [
                "a", "b", "c", "d", "f"]
            s.begin_nested()
            s.add(attempt("g"))
            s.flush()
            s.begin_nested()  # owed when the transaction rolls back: the next one must not inherit it
            s.rollback()
        with Session(engine) as s, s.begin():
            s.add(attempt("h"))
        with Session(engine) as s:
            assert "g" not in s.scalars(select(ProcessingAttempt.sha256)).all()
            assert "h" in s.scalars(select(ProcessingAttempt.sha256)).all()
    finally:
        if trips:
            trips.close()
        engine.dispose()


_SET_ATTEMPTS = DriverStatement(update(ProcessingAttempt).where(ProcessingAttempt.sha256 == bindparam("sha"))
                                .values(attempts=bindparam("n")))
_SET_ERROR = DriverStatement(update(ProcessingAttempt).where(ProcessingAttempt.sha256 == bindparam("sha"))
                             .values(last_error=bindparam("error")))


def _attempts(s: Any, shas: str, now: datetime) -> Any:
    """A processing marker for each of `shas`, flushed; the session's connection."""
    s.add_all([ProcessingAttempt(sha256=sha, attempts=1, last_error="", updated_at=now) for sha in shas])
    s.flush()
    return s.connection()


def test_an_owed_write_is_written_once_in_its_savepoint_and_undone_with_it(db_url: str) -> None:
    """`DriverStatement.owe`: a write nobody reads the result of goes with the next statement on PostgreSQL
    (runs at once elsewhere). It is written before anything reads after it, at its savepoint's release and at
    COMMIT; rolled back with its savepoint; and its error belongs to its savepoint."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    engine = make_engine(db_url)
    metadata.create_all(engine)
    now = datetime.now(UTC)
    try:
        with Session(engine) as s, s.begin():
            c = _attempts(s, "abcd", now)
            _SET_ATTEMPTS.owe(c, {"sha": "a", "n": 2})
            assert c.execute(select(ProcessingAttempt.attempts).where(ProcessingAttempt.sha256 == "a")).scalar() == 2
            # (The session opens each savepoint when it is asked for its connection inside it.)
            with s.begin_nested():
                _SET_ATTEMPTS.owe(s.connection(), {"sha": "b", "n": 3})  # written at the release
            with s.begin_nested() as undone:
                _SET_ATTEMPTS.owe(s.connection(), {"sha": "c", "n": 4})
                undone.rollback()  # never sent
            with pytest.raises(DBAPIError), s.begin_nested():  # its error is its savepoint's
                _SET_ERROR.owe(s.connection(), {"sha": "c", "error": "written, then undone"})
                _SET_ATTEMPTS.owe(s.connection(), {"sha": "c", "n": 2 ** 40})  # out of PostgreSQL's integer range
                if engine.dialect.name == "sqlite":  # SQLite stores it: fail its way
                    s.connection().exec_driver_sql("SELECT * FROM no_such_table")
            _SET_ATTEMPTS.owe(s.connection(), {"sha": "d", "n": 5})  # written at COMMIT
        with Session(engine) as s:
            got = {sha: n for sha, n in s.execute(select(ProcessingAttempt.sha256, ProcessingAttempt.attempts))}
            assert got == {"a": 2, "b": 3, "c": 1, "d": 5}
            assert s.scalar(select(ProcessingAttempt.last_error).where(ProcessingAttempt.sha256 == "c")) == ""
    finally:
        engine.dispose()


def test_reads_together_see_what_is_owed_and_cost_one_wait(db_url: str) -> None:
    """`read_together`: several reads answered at once, rows processed as `DriverStatement.all` processes them,
    each seeing the writes owed before it; on PostgreSQL in one pipeline with what is owed, one wait in all."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from db.driver import read_together

    engine = make_engine(db_url)
    metadata.create_all(engine)
    now = datetime(2026, 11, 3, 9, 30, tzinfo=BKK)
    attempts = DriverStatement(select(ProcessingAttempt.attempts, ProcessingAttempt.updated_at)
                               .where(ProcessingAttempt.sha256 == bindparam("sha")))
    trips = RoundTrips(engine) if engine.dialect.name == "postgresql" else None
    try:
        with Session(engine) as s, s.begin():
            c = _attempts(s, "ab", now)
            _SET_ATTEMPTS.owe(c, {"sha": "a", "n": 7})
            before = trips.count if trips else 0
            got = read_together(c, [(attempts, {"sha": "a"}), (attempts, {"sha": "b"}), (attempts, {"sha": "z"})])
            assert got == [[(7, now.astimezone(UTC))], [(1, now.astimezone(UTC))], []]
            if trips:  # the owed write and three reads: one wait
                assert trips.count - before == 1
            missing = Table("no_such_table", MetaData(), Column("x", Integer))
            with pytest.raises(DBAPIError), s.begin_nested():  # a read's error, raised as SQLAlchemy raises it
                read_together(s.connection(), [(attempts, {"sha": "a"}), (DriverStatement(select(missing.c.x)), {})])
    finally:
        if trips:
            trips.close()
        engine.dispose()


_MARK = DriverStatement(insert(ProcessingAttempt), ("sha256", "attempts", "last_error", "updated_at", "holder", "kills"))


@contextmanager
def _owing(db_url: str) -> Iterator[tuple[Any, Any, RoundTrips | None, dict[str, Any]]]:
    """A session in a transaction on a fresh schema (its BEGIN sent), its connection, the statements counted on
    PostgreSQL, and a processing marker's values."""
    from sqlalchemy.orm import Session

    engine = make_engine(db_url)
    metadata.create_all(engine)
    trips = RoundTrips(engine) if engine.dialect.name == "postgresql" else None
    mark = {"attempts": 1, "last_error": "", "updated_at": datetime.now(UTC), "holder": None, "kills": 0}
    try:
        with Session(engine) as s, s.begin():
            c = s.connection()
            c.execute(select(ProcessingAttempt.sha256)).all()  # the transaction's BEGIN goes with this
            yield s, c, trips, mark
    finally:
        if trips:
            trips.close()
        engine.dispose()


def test_owed_inserts_go_as_one_statement_with_the_insert_after_them(db_url: str) -> None:
    """Owed inserts, and an insert run after them, are one statement on PostgreSQL (`_merged`: each but the last a
    data-modifying WITH): every row written once, with its own parameters (the same names in each part); the last
    insert's RETURNING is its own; a savepoint or an update between them keeps its place; an error in any part
    fails the statement as SQLAlchemy raises it. SQLite runs each at once."""
    from sqlalchemy.exc import IntegrityError

    with _owing(db_url) as (s, c, trips, mark):
        now = mark["updated_at"]
        before = trips.statements if trips else 0
        for sha in "ab":
            _MARK.owe(c, {**mark, "sha256": sha})
        _SET_ATTEMPTS.owe(c, {"sha": "a", "n": 3})  # an update: its own statement, after the inserts
        _MARK.owe(c, {**mark, "sha256": "c", "attempts": 4})
        row = _INSERT.first(c, with_defaults(Submission.__table__, {
            "unit_code": "U1", "period": "2026-11", "arrived_at": now, "channel": "email", "period_rule": "x",
            "c01_counts": {}, "c02_counts": {}, "problems": []}))
        if trips:  # the two inserts as one, the update, the third insert with the submission's
            assert trips.statements - before == 3
        assert row is not None and row[0] == s.scalar(select(Submission.id))
        with pytest.raises(IntegrityError), s.begin_nested():
            _MARK.owe(s.connection(), {**mark, "sha256": "d"})
            _MARK.owe(s.connection(), {**mark, "sha256": "a"})  # a duplicate key in the second part
            _ALL.all(s.connection(), {"unit": "U1"})
        got = {sha: n for sha, n in s.execute(select(ProcessingAttempt.sha256, ProcessingAttempt.attempts))}
        assert got == {"a": 3, "b": 1, "c": 4}


def test_owed_inserts_after_an_end_go_in_a_statement_of_their_own(db_url: str) -> None:
    """`end_owed_statement` between two messages' owed inserts: each message's go as one statement (of a few shapes,
    each prepared once), not all of a transaction's as one; every row is written all the same. SQLite: nothing owed."""
    from db.owed import end_owed_statement

    with _owing(db_url) as (s, c, trips, mark):
        before = trips.statements if trips else 0
        for message in range(3):
            for part in "ab":
                _MARK.owe(c, {**mark, "sha256": f"{message}{part}"})
            end_owed_statement(c)
        end_owed_statement(c)  # nothing owed since the last: nothing more
        _ALL.all(c, {"unit": "U1"})
        if trips:  # three messages' pairs of inserts, and the read
            assert trips.statements - before == 4
        assert len(s.execute(select(ProcessingAttempt.sha256)).all()) == 6
