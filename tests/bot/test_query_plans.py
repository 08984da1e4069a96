"""The queries asked for every message are answered from a few index entries, whatever the backlog.

A query that reads every row of the hour or of the month is invisible on a small database and costs more
with each message of a long backlog. Each test fills a table the way a backlog does and asks SQLite how it
plans the statement the code actually runs (each failed with the indexes before migrations 0010 and 0011).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.samples import make_mail
from bot.storing import process_batch
from intake.context import Fetched
from intake.state import _LATEST_OTHER
from mailer.outbox import _RECENT, Envelope, enqueue, recent_count
from tests.conftest import DOMAIN, SECRETARIAT, bkk


def _plan(session: Session, statement: Select[Any], values: dict[str, object]) -> str:
    """SQLite's plan for `statement` with these values, as one line."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    params = compiled.construct_params(values)
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                tuple(params[name] for name in compiled.positiontup or ()))
    return " | ".join(str(row[-1]) for row in rows)


def test_the_per_recipient_limit_reads_only_that_recipients_rows(tmp_path, make_app) -> None:  # type: ignore[no-untyped-def]
    """SQLite chose (kind, created_at) and counted every receipt of the hour (5,000 messages: 0.5 -> 3.6 ms
    a message on this count alone)."""
    app = make_app(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        for i in range(200):
            to = f"u{i % 100}@{DOMAIN}"
            enqueue(s, Envelope(key=f"r{i}", kind="receipt", recipients=[to], subject="x", message_id=f"<r{i}@x>",
                                raw=b"x"), now)
    with app.sessions() as s:
        since = now - timedelta(hours=1)
        assert recent_count(s, f"u7@{DOMAIN}", "receipt", since) == 2
        plan = _plan(s, _RECENT.statement, {"address": f"u7@{DOMAIN}", "kind": "receipt", "since": since})
    assert "ix_outbox_recipient_kind" in plan, plan


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
