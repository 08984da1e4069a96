"""Submissions across messages, on SQLite and PostgreSQL: parts merge, corrections, periods, versions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_one
from bot.reporting import status_report
from mailer.blank_forms import complaint_02
from intake.models import InboundMessage, Submission
from tests.stored import stored_cases
from intake.context import Fetched
from mailer.problem_text import problem_text
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk, compose_queued_receipts
from tests.paths import DATA

NOV, OCT = Period(2026, 11), Period(2026, 10)
U1 = f"hpc01@{DOMAIN}"
NAME = "ศูนย์อนามัยที่ 1 เชียงใหม่"


def _send(app, when: datetime, body: str, subject: str = "รายงาน", **kw):  # type: ignore[no-untyped-def]
    raw = make_mail(sender=kw.pop("sender", U1), to=SECRETARIAT, subject=subject, body=body, date_=when, **kw)
    return process_one(app, Fetched(raw=raw, arrived_at=when))


def _unit(app, period: Period, as_of: datetime, code: str = "HPC01") -> dict:  # type: ignore[no-untyped-def]
    return next(u for u in status_report(app, period, as_of)["units"] if u["unit"] == code)


def test_parts_in_two_messages_complete_the_report(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    cases = sample_cases(NOV, 3)
    first = _send(app, bkk(2026, 11, 20), "ส่ง 01", attachments=forms(NAME, NOV, cases, c02=False))
    assert first.report.state.kind is None and first.report.state.missing == ["Complaint_02"]
    assert _unit(app, NOV, bkk(2026, 11, 21))["status"] == "incomplete"
    assert _unit(app, NOV, bkk(2026, 11, 27))["status"] == "incomplete"
    second = _send(app, bkk(2026, 11, 25, 23, 0), "ส่ง 02", attachments=forms(NAME, NOV, cases, c01=False))
    assert second.report.state.kind == "complaints"
    row = _unit(app, NOV, bkk(2026, 11, 27))
    assert row["status"] == "on_time" and row["counts"]["complaint"] == 1
    assert row["completed_at"] == "2026-11-25T23:00:00+07:00"
    # As of a moment before the second part, the unit was still incomplete.
    assert _unit(app, NOV, bkk(2026, 11, 22))["status"] == "incomplete"


def test_correction_replaces_data_but_keeps_timeliness(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, bkk(2026, 11, 24), "ส่งรายงาน", attachments=forms(NAME, NOV, sample_cases(NOV, 2)))
    _send(app, bkk(2026, 11, 28), "ฉบับแก้ไข", attachments=forms(NAME, NOV, sample_cases(NOV, 5)))
    row = _unit(app, NOV, bkk(2026, 11, 30))
    assert row["status"] == "on_time" and row["completed_at"] == "2026-11-24T00:00:00+07:00"
    assert sum(row["counts"].values()) == 5
    with app.sessions() as s:  # every version is kept
        assert s.scalar(select(func.count()).select_from(Submission)) == 2
        assert len(stored_cases(s)) == 7
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_message_read_again_replaces_its_submission_and_its_case_rows(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """A person's "reprocess" reads a stored message again: its earlier submission is replaced, and that
    submission's case sheet goes with it (the database's ON DELETE CASCADE), in the same transaction as the new
    one is written."""
    from bot.reread import reread

    app = make_app(db_url)
    first = _send(app, bkk(2026, 11, 24), "ส่งรายงาน", attachments=forms(NAME, NOV, sample_cases(NOV, 4)))
    with app.sessions() as s:
        before = s.scalar(select(Submission.id))
    again = reread(app, first.inbound_id, "reprocess", "สลก.", "อ่านใหม่")
    assert again.rows == 4
    with app.sessions() as s:
        after = list(s.scalars(select(Submission.id)))
        assert len(after) == 1 and after[0] != before
        cases = stored_cases(s)
        assert {sub_id for sub_id, _ in cases} == set(after) and len(cases) == 4


def test_after_the_deadline_an_unstated_period_goes_to_the_next_month_once_complete(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, bkk(2026, 11, 20), "ไม่มีข้อร้องเรียนครับ")
    later = _send(app, bkk(2026, 11, 28), "ไม่มีข้อร้องเรียนครับ")
    assert str(later.period) == "2026-12" and later.period_rule == "arrival_next"
    other = _send(app, bkk(2026, 11, 28), "ไม่มีข้อร้องเรียนครับ", sender=f"hpc02@{DOMAIN}")
    assert str(other.period) == "2026-11" and other.period_rule == "arrival_late"
    assert _unit(app, NOV, bkk(2026, 11, 29), "HPC02")["status"] == "late"


def test_nil_then_cases_switches_kind_but_keeps_the_first_completion(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, bkk(2026, 11, 10), "ไม่มีข้อร้องเรียนครับ")
    _send(app, bkk(2026, 11, 27), "ขอแก้ไข มีเรื่องร้องเรียนค่ะ", subject="ประจำเดือนพฤศจิกายน 2569",
          attachments=forms(NAME, NOV, sample_cases(NOV, 2)))
    row = _unit(app, NOV, bkk(2026, 11, 30))
    assert (row["status"], row["kind"]) == ("on_time", "complaints")


def test_original_bytes_are_stored_and_identical_messages_change_nothing(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    raw = make_mail(sender=U1, to=SECRETARIAT, subject="x", body="ไม่มีข้อร้องเรียน", date_=bkk(2026, 11, 3))
    assert process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 3))) is not None
    assert process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 4))) is None
    with app.sessions() as s:
        [stored] = s.scalars(select(InboundMessage)).all()
        assert stored.raw == raw and stored.arrived_at == bkk(2026, 11, 3)
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_broken_message_is_quarantined_answered_and_the_loop_goes_on(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import intake.pipeline

    app = make_app(db_url)

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("reader bug")

    monkeypatch.setattr(intake.pipeline, "finish_reading", boom)
    result = _send(app, bkk(2026, 11, 3), "ไม่มีข้อร้องเรียน")
    assert result.outcome == "quarantined" and "reader bug" in result.reason
    monkeypatch.undo()
    assert _send(app, bkk(2026, 11, 4), "ไม่มีข้อร้องเรียนค่ะ").outcome == "report"
    with app.sessions() as s:
        assert [m.outcome for m in s.scalars(select(InboundMessage).order_by(InboundMessage.id))] == [
            "quarantined", "report"]
        compose_queued_receipts(app)
        subjects = [o.subject for o in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert "ตรวจสอบ" in subjects[0]  # the sender is told a person will look at it


def test_receipts_per_sender_are_rate_limited(db_url, make_app, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Over the limit a unit's receipt waits an hour, none lost; the log warns once for the recipient's hour (a
    backlog of one unit's corrections warned for every receipt held back), the others at debug level."""
    import logging

    import mailer.limits

    monkeypatch.setattr(mailer.limits, "_HELD_LOGGED", {})  # what earlier tests in this process warned about
    app = make_app(db_url, RECEIPTS_PER_SENDER_PER_HOUR="3")
    with caplog.at_level(logging.DEBUG, logger="complaint_bot.outbox"):
        for i in range(6):
            _send(app, bkk(2026, 11, 3, 10, i), f"จะส่งรายงานพรุ่งนี้ {i}")
    with app.sessions() as s:
        due = sorted(s.scalars(select(OutboxMessage.next_attempt_at)))
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 6
    assert len(due) == 6 and due[3] - due[2] >= timedelta(minutes=59) and due[2] - due[0] < timedelta(minutes=1)
    held = [(r.levelno, r.getMessage()) for r in caplog.records if "rate limit" in r.getMessage()]
    assert [level for level, _ in held] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert "logged at debug level" in held[0][1]


def test_blank_complaint_02_is_no_report(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    result = _send(app, bkk(2026, 11, 3), "แนบแบบฟอร์ม", attachments=[("Complaint_02.xlsx", complaint_02())])
    assert result.outcome == "no_report"


def test_a_receipt_reads_as_a_thai_office_writes_it(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    """Times as 10.05 น., a formal closing, the contact line from settings, and the sender's name decoded
    whole by a strict parser (not '…เลขานุกา รกรม')."""
    from bot.service import flush_outbox

    app = make_app(db_url, SMTP_URL=smtp.url, SECRETARIAT_CONTACT="กลุ่มงานบริหารทั่วไป โทร. 0 2590 4000 ต่อ 1234")
    raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="รายงาน", body="ไม่มีข้อร้องเรียนครับ",
                    date_=bkk(2026, 11, 10, 10, 5))
    process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 10, 10, 5)))
    assert flush_outbox(app).sent == 1
    [captured] = smtp.handler.messages
    text = captured.message.get_body(("plain",)).get_content()
    html = captured.message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "10 พฤศจิกายน 2569 เวลา 10.05 น." in body and "จึงเรียนมาเพื่อโปรดทราบ" in body
        assert "ติดต่อสอบถาม: กลุ่มงานบริหารทั่วไป โทร. 0 2590 4000 ต่อ 1234" in body
    name = captured.message["From"].addresses[0].display_name
    assert "สำนักงานเลขานุการกรม" in name and "เลขานุกา รกรม" not in name


def test_a_failed_attempt_shows_in_status_and_digest(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.digest_data import digest_data

    encrypted = (DATA / "files" / "c01_encrypted.xlsx").read_bytes()
    app = make_app(db_url)
    raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ตามแนบ",
                    date_=bkk(2026, 11, 20, 10, 2), attachments=[("Complaint_01.xlsx", encrypted)])
    process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 20, 10, 2)))
    [row] = [u for u in status_report(app, Period(2026, 11), bkk(2026, 11, 30))["units"] if u["unit"] == "HPC01"]
    assert row["status"] == "missing"
    [attempt] = [p for p in row["problems"] if p["code"] == "encrypted_attachment"]
    assert attempt["arrived_at"] == "2026-11-20T10:02:00+07:00" and "Complaint_01.xlsx" in attempt["message"]
    with app.sessions() as s:
        data = digest_data(app, s, Period(2026, 11), bkk(2026, 11, 30))
    [unit] = [u for u in data.units if u.code == "HPC01"]
    assert any(code == "encrypted_attachment" and "20 พ.ย. 69 10:02" in problem_text(code, params)
               for code, _, params in unit.problems)


def test_a_failed_attempt_is_dated_in_the_deployments_timezone(sqlite_only_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """intake keeps the moment; the Thai time in reports and mail is written in TIMEZONE, not Bangkok's."""
    from pathlib import Path

    encrypted = (DATA / "files" / "c01_encrypted.xlsx").read_bytes()
    app = make_app(sqlite_only_url, TIMEZONE="Asia/Tokyo")  # two hours ahead of Bangkok
    raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ตามแนบ",
                    date_=bkk(2026, 11, 20, 10, 2), attachments=[("Complaint_01.xlsx", encrypted)])
    process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 20, 10, 2)))
    [row] = [u for u in status_report(app, Period(2026, 11), bkk(2026, 11, 30))["units"] if u["unit"] == "HPC01"]
    [attempt] = [p for p in row["problems"] if p["code"] == "encrypted_attachment"]
    assert attempt["arrived_at"] == "2026-11-20T12:02:00+09:00"
    assert "อีเมลเมื่อ 20 พ.ย. 69 12:02 น." in attempt["message"]


def test_case_rows_are_stored_exactly_as_read_on_each_database(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A form's rows go as one JSON document (intake/sheets.py): the same values back on either database, with
    dates, a missing date, and text JSON must escape (a tab, a line break, a backslash, a quote, Thai). The dates
    never reach sqlite3's default date adapter (deprecated since Python 3.12): here it is taken away, as a later
    Python will."""
    import sqlite3
    from datetime import date

    monkeypatch.delitem(sqlite3.adapters, (date, sqlite3.PrepareProtocol), raising=False)

    from mailer.blank_forms import Case

    cases = [Case(date(2026, 11, 3), "โทร\tศัพท์", "complaint", "เสียงดัง\nจากโรงงาน \\N \"ปิด\"", "นาย ก", "ตรวจ", True,
                  date(2026, 11, 10), "หมายเหตุ\\"),
             Case(date(2026, 11, 7), "อีเมล", "suggestion", "ขยายเวลา", "", "", False, None, "")]
    app = make_app(db_url)
    _send(app, bkk(2026, 11, 12, 10), "ตามแนบ", attachments=forms(NAME, NOV, cases))
    with app.sessions() as s:
        rows = [(r.received, r.channel, r.subject, r.completed, r.note, r.result) for _, r in stored_cases(s)]
    assert rows == [
        (date(2026, 11, 3), "โทร\tศัพท์", "เสียงดัง\nจากโรงงาน \\N \"ปิด\"", date(2026, 11, 10), "หมายเหตุ\\", "done"),
        (date(2026, 11, 7), "อีเมล", "ขยายเวลา", None, "", "in_progress")]
