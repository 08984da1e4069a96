"""The queries asked for every message are answered from a few index entries, whatever the backlog.

A query that reads every row of the hour or of the month is invisible on a small database and costs more
with each message of a long backlog. Each test fills a table the way a backlog does and asks SQLite how it
plans the statement the code actually runs (each failed with the indexes before migrations 0010 and 0011).
On PostgreSQL a statement run five times on a connection is prepared (psycopg) and may then run on a generic
plan, made without its parameters' values: those plans are asked for too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.samples import make_mail
from bot.storing import process_batch
from intake.context import Fetched
from intake.state import _LATEST_OTHER, _WAITING_FOR_UNIT, attempts_query, failed_attempts, review_units
from intake.tables import Outcome, inbound_messages
from mailer.limits import HOURS_MAIL, RateLimits
from mailer.outbox import Envelope, enqueue
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, bkk


def _plan(session: Session, statement: Select[Any], values: dict[str, object]) -> str:
    """SQLite's plan for `statement` with these values, as one line."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    params = compiled.construct_params(values)
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                tuple(params[name] for name in compiled.positiontup or ()))
    return " | ".join(str(row[-1]) for row in rows)


def test_a_unit_months_newest_part_is_read_from_the_end_of_the_index(tmp_path, make_app) -> None:  # type: ignore[no-untyped-def]
    """fold_in's question for every message: on (unit_code, period) SQLite read and sorted every correction
    of the month (one unit's 5,000: 0.4 -> 3.4 ms a message)."""
    app = make_app(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    batch = [Fetched(raw=make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject=f"แก้ไขครั้งที่ {i}",
                                   body="ไม่มีข้อร้องเรียน", date_=bkk(2026, 11, 3)),
                     arrived_at=bkk(2026, 11, 3, 9) + timedelta(minutes=i), uid=str(i)) for i in range(12)]
    assert all(r is not None and r.outcome == "report" for r in process_batch(app, batch))
    with app.sessions() as s:
        plan = _plan(s, _LATEST_OTHER.statement, {"unit_code": "HPC01", "period": "2026-11", "sub_id": 0})
    assert "ix_submissions_unit_period_order" in plan and "TEMP B-TREE" not in plan, plan


def _rows_read(session: Session, statement: Select[Any], values: dict[str, object]) -> int:
    """How much the database reads to answer `statement`: on PostgreSQL the rows its scans read (EXPLAIN
    ANALYZE: returned and filtered out), on SQLite its virtual machine's steps (a progress handler counting each)."""
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params(values)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), params).scalar()
        return _scanned(plan[0]["Plan"])
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    driver = connection.connection.driver_connection
    driver.set_progress_handler(count, 1)  # type: ignore[union-attr]
    try:
        connection.exec_driver_sql(str(compiled), tuple(params[name] for name in compiled.positiontup or ()))
    finally:
        driver.set_progress_handler(None, 1)  # type: ignore[union-attr]
    return steps


def test_a_units_unread_attempts_are_read_from_the_few_messages_that_held_no_report(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """A receipt for a unit whose report is incomplete lists the month's messages that held no usable report, for
    every message. Through (unit_code, period) that read every message of the unit's month to find the few:
    1,500 rows for 3 (migration 0018 added the partial index; the query says its predicate in its words)."""
    app = make_app(db_url)
    arrived = datetime(2026, 11, 20, 3, tzinfo=UTC)
    problem = [{"code": "unreadable_attachment", "severity": "error", "params": {"filename": "x.xlsx"}}]
    read: list[int] = []
    for first, last in ((0, 30), (30, 1500)):
        with app.sessions.begin() as s:
            s.execute(insert(inbound_messages), [
                dict(sha256=f"{i:064d}", source="bench", uid=str(i), arrived_at=arrived, processed_at=arrived,
                     raw=b"x", unit_code="HPC01", period="2026-11", candidates=[], problems=problem,
                     outcome=Outcome.NO_REPORT if i % 500 == 7 else Outcome.REPORT) for i in range(first, last)])
        with app.sessions() as s:
            assert len(failed_attempts(s, "2026-11", arrived, ["HPC01"])["HPC01"]) == len(range(7, last, 500))
            read.append(_rows_read(s, attempts_query("2026-11", arrived, ["HPC01"]), {}))
    assert read[1] <= read[0] * 4, read  # 3 of 1,500 against 1 of 30


def _generic_rows_read(session: Session, statement: Select[Any], values: dict[str, object]) -> int:
    """`_rows_read` on PostgreSQL's generic plan for `statement`: the plan a prepared statement may keep using,
    made without knowing its parameters' values."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    connection = session.connection()
    params = compiled.construct_params(values)
    driver = connection.connection.driver_connection
    connection.exec_driver_sql("PREPARE per_message AS " + re.sub(r"%\((\w+)\)s", numbered, str(compiled)))
    literals = ", ".join(sql.Literal(params[name]).as_string(driver) for name in names)  # type: ignore[arg-type]
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE per_message({literals})").scalar()
    connection.exec_driver_sql("DEALLOCATE per_message")
    return _scanned(plan[0]["Plan"])


def _scanned(node: dict[str, Any]) -> int:
    """The rows an EXPLAIN ANALYZE plan's scans read: returned and filtered out."""
    own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) if "Scan" in node["Node Type"] else 0
    return int(own + sum(_scanned(child) for child in node.get("Plans", [])))


@pytest.mark.slow
def test_whether_a_unit_waits_for_review_reads_only_the_waiting_messages_on_a_generic_plan(  # type: ignore[no-untyped-def]
        make_app, postgres_ok) -> None:
    """The receipt's review question runs for every message, so psycopg prepares it and PostgreSQL may plan it
    once for any values. With the outcomes as parameters that plan could not use the partial index of the
    waiting messages and read all of the unit's month: 1,500 rows for 3 (0.4 ms a message in a backlog of one
    unit's corrections, counted by pg_stat_statements in `bench intake`)."""
    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    try:
        app = make_app(url)
        arrived = datetime(2026, 11, 20, 3, tzinfo=UTC)
        with app.sessions.begin() as s:
            s.execute(insert(inbound_messages), [
                dict(sha256=f"{i:064d}", source="bench", uid=str(i), arrived_at=arrived, processed_at=arrived,
                     raw=b"x", unit_code="HPC01", period="2026-11", candidates=[], problems=[],
                     outcome=Outcome.NEEDS_REVIEW if i % 500 == 7 else Outcome.REPORT) for i in range(1500)])
        with app.sessions.begin() as s:
            assert review_units(s, "2026-11", arrived, "HPC01") == {"HPC01"}
            read = _generic_rows_read(s, _WAITING_FOR_UNIT.statement, {"unit_code": "HPC01", "period": "2026-11"})
        assert read <= 10, read
    finally:
        servers.drop_pg_database(name)


def test_the_hours_mail_is_read_from_the_hours_rows_only(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """The rate limits count the hour's mail by recipient and kind, once a second per session: from the hour's
    rows in the index on created_at, not from the whole outbox (a year of receipts). 600 rows of two hours ago
    cost no more to skip than 25. On PostgreSQL with the table's statistics, as autovacuum keeps them (a small
    table without them is read whole, which costs less there than the index)."""
    app = make_app(db_url)
    now = datetime.now(UTC)
    limits = RateLimits(receipt=100_000, total=100_000)
    read: list[int] = []
    for old in (25, 600):
        with app.sessions.begin() as s:
            for i in range(len(read) and 25, old):
                enqueue(s, Envelope(key=f"old{i}", kind="receipt", recipients=[f"u{i % 50}@{DOMAIN}"], subject="x",
                                    message_id=f"<old{i}@x>", raw=b"x"), now - timedelta(hours=2), limits)
            for i in range(20):
                enqueue(s, Envelope(key=f"new{old}-{i}", kind="receipt", recipients=[f"u{i}@{DOMAIN}"], subject="x",
                                    message_id=f"<new{old}-{i}@x>", raw=b"x"), now, limits)
        with app.sessions() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("ANALYZE outbox"))
            since = now - timedelta(hours=1)
            counts = {(to, kind): n for to, kind, n in s.execute(HOURS_MAIL.statement, {"since": since})}
            assert sum(counts.values()) == 20 * len(read) + 20 and counts[(f"u3@{DOMAIN}", "receipt")] == len(read) + 1
            read.append(_rows_read(s, HOURS_MAIL.statement, {"since": since}))
    assert read[1] <= read[0] * 2.5, read  # 40 rows in the hour against 20; 600 old rows against 25 were not read


def test_whether_a_unit_waits_for_review_reads_no_further_than_the_waiting_messages(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """A receipt asks whether the unit has a message waiting for a person this month. With one unit's
    corrections in a new database (no statistics yet, as in a first backlog), PostgreSQL read every one of its
    messages of the month through (unit_code, period) to find the few waiting: 3,000 rows for 1,500 messages
    (0.2 -> 0.6 ms a message over 1,000 corrections)."""
    app = make_app(db_url)
    arrived = datetime(2026, 11, 20, 3, tzinfo=UTC)
    values = {"unit_code": "HPC01", "period": "2026-11"}
    read: list[int] = []
    for first, last in ((0, 30), (30, 1500)):
        with app.sessions.begin() as s:
            s.execute(insert(inbound_messages), [
                dict(sha256=f"{i:064d}", source="bench", uid=str(i), arrived_at=arrived, processed_at=arrived,
                     raw=b"x", unit_code="HPC01", period="2026-11", candidates=[], problems=[],
                     outcome=Outcome.NEEDS_REVIEW if i % 500 == 7 else Outcome.REPORT) for i in range(first, last)])
        with app.sessions() as s:
            assert review_units(s, "2026-11", arrived, "HPC01") == {"HPC01"}
            read.append(_rows_read(s, _WAITING_FOR_UNIT.statement, values))
    assert read[1] <= read[0] * 4, read  # 3 waiting of 1,500 against 1 of 30
