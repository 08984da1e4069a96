"""The migrated schema is exactly what the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.schema import current_revision, metadata, migrate
from db.engine import make_engine
from tests.conftest import SECRET
from tests.paths import ROOT



def test_migrations_match_the_models(db_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # running again is harmless
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    engine.dispose()
    assert diff == []


def test_alembic_autogenerate_sees_the_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`alembic check` (autogenerate without writing) from the repository root: no pending change on a migrated
    database; a table the migrations lack is found, so `alembic revision --autogenerate` would write it."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    env = {**os.environ, "DATABASE_URL": url, "SECRETARIAT_EMAIL": "saraban@example.go.th", "SECRET_KEY": SECRET,
           "UNITS_FILE": str(tmp_path / "units.csv"), "DATA_DIR": str(tmp_path)}
    check = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "check"]
    clean = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE review_alerts")
    engine.dispose()
    drift = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
    assert drift.returncode != 0 and "review_alerts" in drift.stdout + drift.stderr



def test_the_start_up_check_knows_the_newest_migration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    from bot.schema import SCHEMA_HEAD, alembic_config, migrate_if_needed

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD
    migrate_if_needed(engine)  # a new database is migrated
    assert current_revision(engine) == SCHEMA_HEAD
    engine.dispose()


def test_workers_started_together_on_a_new_database_migrate_it_once(db_url) -> None:  # type: ignore[no-untyped-def]
    """Several workers (say, one per mailbox) started at once on an empty database: one creates the schema,
    the others wait for it and find it current, instead of failing on a table that appeared meanwhile."""
    script = "import sys; from bot.schema import migrate_if_needed; from db.engine import make_engine; " \
             "migrate_if_needed(make_engine(sys.argv[1]))"
    workers = [subprocess.Popen([sys.executable, "-c", script, db_url], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [(w.wait(timeout=120), w.stdout.read() if w.stdout else "") for w in workers]
    assert [code for code, _ in outputs] == [0] * 4, "\n".join(out[-2000:] for _, out in outputs)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata()) == []
    engine.dispose()


def test_refused_commands_stored_before_get_their_own_outcome_and_back(db_url) -> None:  # type: ignore[no-untyped-def]
    """0014: a refused command mail was `set_aside` with a reason starting "command refused: "; it becomes
    `command_refused` with the reason alone, and a downgrade puts it back."""
    from alembic import command
    from sqlalchemy import text

    from bot.schema import alembic_config

    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0013")
    row = ("INSERT INTO inbound_messages (sha256, source, arrived_at, processed_at, from_addr, subject, message_id, "
           "size, raw, outcome, reason, candidates, problems, scans_pending) VALUES (:sha, 'maildir', "
           "'2026-11-20 03:00:00', '2026-11-20 03:00:00', 'x@y', '', '', 0, :raw, :outcome, :reason, '[]', '[]', :f)")
    with engine.begin() as conn:
        conn.execute(text(row), {"sha": "a" * 64, "raw": b"", "outcome": "set_aside",
                                 "reason": "command refused: the sender is not in STAFF_EMAILS", "f": False})
        conn.execute(text(row), {"sha": "b" * 64, "raw": b"", "outcome": "set_aside", "reason": "unknown sender", "f": False})
    command.upgrade(cfg, "0014")
    read = "SELECT outcome, reason FROM inbound_messages ORDER BY sha256"
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(read))] == [
            ("command_refused", "the sender is not in STAFF_EMAILS"), ("set_aside", "unknown sender")]
    command.downgrade(cfg, "0013")
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(read))][0] == (
            "set_aside", "command refused: the sender is not in STAFF_EMAILS")
    engine.dispose()


def test_original_bytes_are_compressed_with_lz4_on_postgresql(db_url) -> None:  # type: ignore[no-untyped-def]
    """0016: pglz gave up on the mail units send (23.9 KB stored as 25.9 KB, 1.0-1.1 ms of the server's time an
    insert); lz4 stores it smaller in half the time. A message stored before and after reads back whole."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from bot.schema import alembic_config
    from bot.samples import forms, make_mail, sample_cases
    from scoring.periods import Period

    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0015")
    raw = make_mail(sender="hpc01@anamai.example.go.th", to="saraban@anamai.example.go.th", subject="รายงาน",
                    body="ขอส่งรายงานครับ", date_=datetime(2026, 11, 20, 9, tzinfo=UTC), attachments=forms("ศูนย์อนามัยที่ 1", Period(2026, 11), sample_cases(Period(2026, 11), 80)))
    row = ("INSERT INTO inbound_messages (sha256, source, arrived_at, processed_at, from_addr, subject, message_id, "
           "size, raw, outcome, reason, candidates, problems, scans_pending) VALUES (:sha, 'maildir', "
           "'2026-11-20 03:00:00', '2026-11-20 03:00:00', 'x@y', '', '', 0, :raw, 'report', '', '[]', '[]', :f)")
    with engine.begin() as conn:
        conn.execute(text(row), {"sha": "a" * 64, "raw": raw, "f": False})
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        conn.execute(text(row), {"sha": "b" * 64, "raw": raw, "f": False})
    with engine.connect() as conn:
        assert [bytes(r[0]) for r in conn.execute(text("SELECT raw FROM inbound_messages ORDER BY sha256"))] == [raw, raw]
        if engine.dialect.name == "postgresql":
            methods = [r[0] for r in conn.execute(text(
                "SELECT pg_column_compression(raw) FROM inbound_messages ORDER BY sha256"))]
            assert methods == [None, "lz4"], methods  # pglz gave up and stored it as it came
    engine.dispose()


_NEW_SUBMISSION = (
    "INSERT INTO submissions (unit_code, period, arrived_at, channel, period_rule, has_c01, c01_rows, has_c02, "
    "c02_total, nil_statement, c01_counts, c02_counts, files, problems) VALUES ('HPC01', '2026-11', "
    "'2026-11-20 03:00:00', 'email', '', :t, 2, :f, 0, :f, '{}', '{}', '[]', '[]') RETURNING id")


def test_case_rows_keep_their_rows_without_the_foreign_key(db_url) -> None:  # type: ignore[no-untyped-def]
    """0017: the case rows' foreign key is dropped (PostgreSQL checked it with a query per row); rows stored
    before stay, the id of a deleted submission is never given again (SQLite's table becomes AUTOINCREMENT), and
    a downgrade puts the key back."""
    from alembic import command
    from sqlalchemy import inspect, text

    from bot.schema import alembic_config

    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0016")
    ids = []
    with engine.begin() as conn:
        for _ in range(2):
            ids.append(conn.execute(text(_NEW_SUBMISSION), {"t": True, "f": False}).scalar_one())
            for row in (1, 2):
                conn.execute(text("INSERT INTO case_rows (submission_id, row, seq, channel, subject, complainant, action, "
                                  "note) VALUES (:s, :r, '', '', 'เรื่อง', 'นาย ก', '', '')"), {"s": ids[-1], "r": row})
    assert inspect(engine).get_foreign_keys("case_rows")
    command.upgrade(cfg, "0017")
    assert inspect(engine).get_foreign_keys("case_rows") == []
    with engine.begin() as conn:
        assert conn.execute(text("SELECT submission_id, row FROM case_rows ORDER BY id")).all() == [
            (ids[0], 1), (ids[0], 2), (ids[1], 1), (ids[1], 2)]
        conn.execute(text("DELETE FROM case_rows WHERE submission_id = :s"), {"s": ids[1]})
        conn.execute(text("DELETE FROM submissions WHERE id = :s"), {"s": ids[1]})
        assert conn.execute(text(_NEW_SUBMISSION), {"t": True, "f": False}).scalar_one() > ids[1]  # not the deleted one's id
    command.downgrade(cfg, "0016")
    assert [fk["referred_table"] for fk in inspect(engine).get_foreign_keys("case_rows")] == ["submissions"]
    engine.dispose()


def test_case_rows_become_one_sheet_a_submission_and_come_back(db_url) -> None:  # type: ignore[no-untyped-def]
    """0019: each submission's case rows become one document, read back by intake/sheets.py as the same values in
    row order (dates, a missing date, NULLs, Thai, a quote, a tab); a submission without rows has no sheet; a
    submission deleted through the ORM takes its sheet along (the database's cascade); a downgrade gives the
    rows back as they were."""
    from datetime import date

    from alembic import command
    from sqlalchemy import inspect, select, text
    from sqlalchemy.orm import Session

    from bot.schema import alembic_config
    from intake.forms import CaseRow
    from intake.models import Submission
    from tests.stored import stored_cases

    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0018")
    cases = [CaseRow(7, "2", date(2026, 11, 4), "อีเมล", None, 'เรื่อง "ถนน"\tชำรุด', "", "รอ", None, None, ""),
             CaseRow(6, "1", None, "โทร\tศัพท์", "complaint", "เสียงดัง\nมาก", "นาย ก", "ตรวจ", "done",
                     date(2026, 11, 10), "หมายเหตุ\\")]
    insert_case = text("INSERT INTO case_rows (submission_id, row, seq, received, channel, category, subject, "
                       "complainant, action, result, completed, note) VALUES (:submission_id, :row, :seq, "
                       ":received, :channel, :category, :subject, :complainant, :action, :result, :completed, :note)")
    with engine.begin() as conn:
        ids = [conn.execute(text(_NEW_SUBMISSION), {"t": t, "f": False}).scalar_one() for t in (True, False, True)]
        for sub_id in (ids[0], ids[2]):
            for case in cases:  # row 7 before row 6
                conn.execute(insert_case, {"submission_id": sub_id, **case._asdict()})
    command.upgrade(cfg, "head")
    assert "case_rows" not in inspect(engine).get_table_names()
    ordered = sorted(cases)
    with Session(engine) as s, s.begin():
        assert stored_cases(s) == [(ids[0], c) for c in ordered] + [(ids[2], c) for c in ordered]
        s.delete(s.get(Submission, ids[0]))
    with Session(engine) as s:
        assert stored_cases(s) == [(ids[2], c) for c in ordered]
    command.downgrade(cfg, "0018")
    with engine.begin() as conn:
        back = conn.execute(text("SELECT submission_id, row, seq, received, channel, category, subject, complainant, "
                                 "action, result, completed, note FROM case_rows ORDER BY id")).all()
    assert [(r[0], CaseRow(r[1], r[2], _date(r[3]), *r[4:10], _date(r[10]), r[11])) for r in back] == [
        (ids[2], c) for c in ordered]
    engine.dispose()


def _date(value):  # type: ignore[no-untyped-def]
    """A DATE column's value as a date (SQLite's driver gives text for a text query)."""
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value
