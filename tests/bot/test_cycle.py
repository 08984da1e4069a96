"""The monthly cycle's rules, scores by hand, secretariat actions, evidence, and the digest's safety."""

from __future__ import annotations

import email
from email.header import decode_header, make_header
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.reread import reread
from bot.cycle import due_slots, plan_notices, run_cycle
from bot.digest_data import digest_data
from bot.evidence import build_evidence, verify_evidence
from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_one
from bot.reporting import scores, status_report
from intake.decisions import SecretariatError, dismiss, exempt, record_paper, review_items
from intake.documents import Documents
from intake.message import Attachment
from intake.models import Action, InboundMessage
from intake.context import Fetched
from intake.reading import read_documents
from mailer.models import OutboxMessage
from mailer.workbook import build_workbook
from scoring.periods import Period
from scoring.scores import Rubric, score_unit
from tests.conftest import DOMAIN, SECRETARIAT, bkk, compose_queued_receipts

NOV, OCT, DEC = Period(2026, 11), Period(2026, 10), Period(2026, 12)
U1 = f"hpc01@{DOMAIN}"


def _send(app, sender: str, when: datetime, body: str, **kw):  # type: ignore[no-untyped-def]
    raw = make_mail(sender=sender, to=SECRETARIAT, subject=kw.pop("subject", "รายงาน"), body=body, date_=when, **kw)
    return process_one(app, Fetched(raw=raw, arrived_at=when))


def _outbox(app, kind: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    compose_queued_receipts(app)
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


@pytest.mark.parametrize("as_of,expected", [
    (bkk(2026, 11, 18, 8, 59), []),
    (bkk(2026, 11, 18, 9, 0), [("reminder", "7")]),
    (bkk(2026, 11, 22, 23, 0), [("reminder", "7")]),
    (bkk(2026, 11, 23, 9, 0), [("reminder", "2")]),  # the latest reminder only, never both
    (bkk(2026, 11, 25, 23, 59, 59), [("reminder", "2")]),
    (bkk(2026, 11, 26, 8, 0), [("digest", "")]),
    (bkk(2026, 11, 26, 9, 0), [("overdue", ""), ("digest", "")]),
    (bkk(2026, 11, 29, 8, 59), [("overdue", "")]),  # the digest's window closed at 08:00
    (bkk(2026, 11, 29, 9, 1), []),  # down for more than NOTICE_WINDOW_DAYS: not sent late
])
def test_due_slots(db_url, make_app, as_of: datetime, expected: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    assert [(s.kind, s.label) for s in due_slots(app, as_of)] == expected


def test_slot_times_come_from_settings(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, REMINDER_DAYS="3", REMINDER_TIME="13:30", DEADLINE_DAY="20")
    assert [(s.kind, s.at) for s in due_slots(app, bkk(2026, 11, 17, 14))] == [("reminder", bkk(2026, 11, 17, 13, 30))]


def test_reminders_once_however_often_the_job_runs(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, U1, bkk(2026, 11, 5), "ไม่มีข้อร้องเรียนครับ")
    first = run_cycle(app, bkk(2026, 11, 18, 9, 0))
    assert sorted(n.unit_code for n in first.notices) == ["DIV01", "DIV02", "HPC02", "HPC03"]  # not OLD01
    for minute in range(1, 30, 7):
        assert run_cycle(app, bkk(2026, 11, 18, 9, minute)).notices == []
    # Down from the 17th to the 24th: one reminder (the 2-day one) on return, not two.
    app2 = make_app(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert {n.key.rsplit(":", 1)[1] for n in run_cycle(app2, bkk(2026, 11, 24, 10)).notices} == {"2"}
    assert len(_outbox(app2, "reminder")) == 5


def test_dry_run_matches_what_is_then_sent(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from bot.cycle import planned_digests

    app = make_app(db_url)
    with app.sessions() as s:
        planned = [n.to_dict() for n in plan_notices(app, s, bkk(2026, 11, 26, 9))]
        digests = planned_digests(app, s, bkk(2026, 11, 26, 9))
    assert _outbox(app, "overdue") == []
    report = run_cycle(app, bkk(2026, 11, 26, 9))
    sent = [n.to_dict() for n in report.notices]
    assert planned == sent and {p["kind"] for p in planned} == {"overdue"}
    # The digest the cycle queues is in the plan too (it used to be hidden from --dry-run).
    assert [d["period"] for d in digests] == report.digests == ["2026-11"]
    assert {"unit": "HPC01", "period": "2026-11", "kind": "overdue", "to": [f"clerk01@{DOMAIN}"]} in planned


def test_cli_remind_dry_run_json_and_score_json(db_url, make_app, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import app as cli

    app = make_app(db_url)
    _send(app, U1, bkk(2026, 10, 20), "ไม่มีข้อร้องเรียนครับ")
    _send(app, U1, bkk(2026, 11, 27), "ไม่มีข้อร้องเรียนครับ ประจำเดือน พ.ย. 69")
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": db_url, "UNITS_FILE": str(tmp_path / "units.csv"), "DATA_DIR": str(tmp_path / "data"),
           "SECRET_KEY": "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6"}
    out = CliRunner().invoke(cli, ["remind", "--dry-run", "--json", "--as-of", "2026-11-23T09:30"], env=env)
    data = json.loads(out.output)
    assert [r["unit"] for r in data["reminders"]] == ["HPC01", "HPC02", "HPC03", "DIV01", "DIV02"]
    assert data["reminders"][0] == {"unit": "HPC01", "period": "2026-11", "kind": "reminder",
                                    "to": [f"clerk01@{DOMAIN}"]}  # reminders go to the contacts
    out = CliRunner().invoke(cli, ["score", "--fiscal-year", "2570", "--as-of", "2026-12-01", "--json"], env=env)
    data = json.loads(out.output)
    assert data["fiscal_year"] == 2570
    assert data["units"][0] == {"unit": "HPC01", "due": 2, "on_time": 1, "late": 1, "missing": 0, "needs_review": 0,
                                "exempt": 0, "score": 7.5, "level": 4}
    assert data["units"][1]["missing"] == 2 and data["units"][1]["score"] == 0


def test_score_by_hand() -> None:
    rubric = Rubric()
    # 12 months: 8 on time, 2 late, 1 missing, 1 exempt -> (8 + 2 * 0.5) / 11 = 81.8 % -> 8.18 points, level 4.
    s = score_unit("X", ["on_time"] * 8 + ["late"] * 2 + ["missing", "exempt"], rubric)
    assert (s.due, s.on_time, s.late, s.missing, s.exempt, s.score, s.level) == (12, 8, 2, 1, 1, 8.18, 4)
    # A month waiting for a person is counted as such (no credit until settled), not as missing.
    waiting = score_unit("X", ["incomplete", "needs_review"], rubric)
    assert (waiting.missing, waiting.needs_review, waiting.score) == (1, 1, 0.0)
    assert score_unit("X", ["on_time", "needs_review"], Rubric(credit={"on_time": 1, "needs_review": 0.5})).score == 7.5
    assert score_unit("X", ["exempt"], rubric).score == 0.0
    strict = Rubric(points=5, credit={"on_time": 1, "late": 0, "missing": 0})
    assert score_unit("X", ["on_time", "late"], strict).score == 2.5


def test_scores_over_a_fiscal_year(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, U1, bkk(2026, 10, 25, 12), "ไม่มีข้อร้องเรียน")
    _send(app, U1, bkk(2026, 11, 30, 12), "ไม่มีข้อร้องเรียน")  # late for November
    _send(app, f"hpc02@{DOMAIN}", bkk(2026, 12, 3, 12), "ไม่มีข้อร้องเรียน")  # early for December
    with app.sessions.begin() as s:
        exempt(s, app.registry.get("HPC03"), OCT, "ยุบรวมหน่วยงาน", "tester", datetime.now(UTC))
    with app.sessions() as s:
        periods, grid, results = scores(app, s, 2570, bkk(2026, 12, 10))
    assert grid["HPC01"][:3] == ["on_time", "late", None]
    assert grid["HPC02"][:3] == ["missing", "missing", "on_time"]  # early report shows before its deadline
    by = {r.unit: r for r in results}
    assert (by["HPC01"].due, by["HPC01"].score, by["HPC01"].level) == (2, 7.5, 4)
    assert (by["HPC02"].missing, by["HPC02"].on_time) == (2, 0)  # December is not due yet
    assert (by["HPC03"].exempt, by["HPC03"].missing, by["HPC03"].score) == (1, 1, 0.0)


def test_exemption_and_paper_report(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        exempt(s, app.registry.get("HPC02"), NOV, "น้ำท่วมสำนักงาน", "สลก.", now)
        with pytest.raises(SecretariatError):
            exempt(s, app.registry.get("HPC03"), NOV, "  ", "สลก.", now)
        record_paper(s, app.registry.get("HPC03"), NOV, bkk(2026, 11, 25, 16), nil=True, doc=Documents(),
                     actor="สลก.", reason="หนังสือเลขที่ 123", now=now)
        files = [Attachment(n, "", d) for n, d in forms("กองการเจ้าหน้าที่", NOV, sample_cases(NOV, 2))]
        sub, _, _ = record_paper(s, app.registry.get("DIV01"), NOV, bkk(2026, 11, 27, 9), nil=False,
                              doc=read_documents(files, app.parsers), actor="สลก.", reason="", now=now)
        assert sub.channel == "paper" and sub.c01_rows == 2
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 30))["units"]}
    assert (status["HPC02"], status["HPC03"], status["DIV01"]) == ("exempt", "on_time", "late")
    with app.sessions() as s:
        kinds = [a.kind for a in s.scalars(select(Action).order_by(Action.id))]
    assert kinds == ["exempt", "record", "record"]


def test_review_resolve_dismiss_and_reprocess(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    shared = _send(app, f"central@{DOMAIN}", bkk(2026, 11, 10), "ไม่มีข้อร้องเรียนครับ")
    stranger = _send(app, f"newclerk@{DOMAIN}", bkk(2026, 11, 11), "ไม่มีข้อร้องเรียนครับ")
    spam = _send(app, "x@spam.example", bkk(2026, 11, 12), "buy now")
    with app.sessions() as s:
        assert [m.id for m in review_items(s)] == [shared.inbound_id, stranger.inbound_id, spam.inbound_id]
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 12))["units"]}
    assert status["DIV01"] == status["DIV02"] == "needs_review"

    result = reread(app, shared.inbound_id, "resolve", "สลก.", "โทรถามแล้ว เป็นของกองคลัง", app.registry.get("DIV02"))
    assert (result.outcome, result.unit.code, str(result.period)) == ("report", "DIV02", "2026-11")
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 12))["units"]}
    assert (status["DIV01"], status["DIV02"]) == ("pending", "on_time")  # timeliness from the original arrival

    # The registry gains the new clerk's address; reprocessing makes the report count, on its arrival time.
    units = tmp_path / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace(f"hpc03@{DOMAIN}", f"hpc03@{DOMAIN};newclerk@{DOMAIN}"),
                     encoding="utf-8")
    app2 = make_app(db_url)
    result = reread(app2, stranger.inbound_id, "reprocess", "สลก.", "เพิ่มอีเมลผู้ส่งแล้ว")
    assert result.unit.code == "HPC03" and result.report.state.completed_at == bkk(2026, 11, 11)
    with app2.sessions.begin() as s:
        dismiss(s, spam.inbound_id, "สลก.", "spam", datetime.now(UTC))
    with app2.sessions() as s:
        assert review_items(s) == []
        assert s.get(InboundMessage, spam.inbound_id).outcome == "dismissed"
        compose_queued_receipts(app2)
        subjects = [o.subject for o in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))]
    assert sum("ส่งครบถ้วนและตรงเวลา" in x for x in subjects) == 2  # both senders told the outcome


def test_evidence_zip_verifies_against_its_manifest(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    _send(app, U1, bkk(2026, 10, 20), "ไม่มีข้อร้องเรียน")
    _send(app, U1, bkk(2026, 11, 20), "ส่งรายงาน", attachments=forms("ศูนย์อนามัยที่ 1", NOV, sample_cases(NOV, 2)))
    _send(app, f"hpc02@{DOMAIN}", bkk(2026, 11, 21), "ไม่มีข้อร้องเรียน")
    out = tmp_path / "ev.zip"
    n = build_evidence(app, app.registry.get("HPC01"), 2570, bkk(2026, 12, 1), out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        summary = load_workbook(io.BytesIO(zf.read("summary.xlsx")))["สรุป"]
    assert n == len(names) == 6  # 2 originals, 2 receipts, summary, manifest
    assert sum(x.startswith("originals/") for x in names) == 2 and sum(x.startswith("receipts/") for x in names) == 2
    with zipfile.ZipFile(out) as zf:  # queued, not yet sent: composed as they will be sent
        receipts = [email.message_from_bytes(zf.read(x)) for x in names if x.startswith("receipts/")]
    assert all(str(make_header(decode_header(r["Subject"]))).startswith("[CR-2569-1") for r in receipts)
    assert [summary.cell(row=r, column=3).value for r in (4, 5)] == ["ส่งครบถ้วนและตรงเวลา", "ส่งครบถ้วนและตรงเวลา"]
    assert verify_evidence(out) == []
    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data + b"x" if name.startswith("originals/") and "20261020" in name else data)
    assert len(verify_evidence(tampered)) == 1


def _hostile_c01() -> bytes:
    """A unit workbook whose text cells look like formulas (stored as text, as a unit's Excel would)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["ประจำเดือน พฤศจิกายน 2569"])
    ws.append(["ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท", "เรื่อง", "ชื่อผู้ร้อง", "การดำเนินการ"])
    ws.append([1, "3/11/2569", "", "ข้อร้องเรียน", "", "", ""])
    for col, text in ((3, '=HYPERLINK("http://evil","x")'), (5, "+1 โทร 081-234-5678 เลขบัตร 1-1020-03045-67-8"),
                      (6, "@นายสมชาย ใจดี"), (7, "-cmd|' /C calc'!A0")):
        cell = ws.cell(row=3, column=col)
        cell.value, cell.data_type = text, "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_digest_masks_personal_data_and_defuses_formulas(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from mailer.blank_forms import complaint_02

    app = make_app(db_url)
    _send(app, U1, bkk(2026, 11, 10), "ส่งรายงาน", attachments=[
        ("Complaint_01.xlsx", _hostile_c01()), ("Complaint_02.xlsx", complaint_02("x", NOV, {"complaint": (1, 0, 1)}))])
    with app.sessions() as s:
        masked, _ = build_workbook(digest_data(app, s, NOV, bkk(2026, 11, 30)))
        plain, _ = build_workbook(digest_data(app, s, NOV, bkk(2026, 11, 30), include_personal=True))
    row = [c.value for c in load_workbook(io.BytesIO(masked))["รายการเรื่อง"][3]]
    assert row[5].startswith("'=HYPERLINK") and row[9].startswith("'-cmd")
    assert "081-234-5678" not in row[7] and "xxx-xxx-xx78" in row[7] and "1-1020-03045-67-8" not in row[7]
    assert row[8] == "'@******** ใ***"  # masked, and still defused
    full = [c.value for c in load_workbook(io.BytesIO(plain))["รายการเรื่อง"][3]]
    assert full[8] == "'@นายสมชาย ใจดี" and "081-234-5678" in full[7]
    for sheet in load_workbook(io.BytesIO(masked)):
        for line in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v[:1] in "=+-@" for v in line)


def test_digest_workbook_clips_text_longer_than_a_cell_holds() -> None:
    """A workbook made elsewhere can carry more than Excel's 32,767 characters in a cell; the digest's writer
    refuses such text, so one unit's overlong subject must not stop the whole digest."""
    from datetime import date

    from mailer.digest import CaseLine, DigestData, UnitLine

    long = "ร้องเรียน " * 5_000  # 50,000 characters
    data = DigestData(period=NOV, as_of=bkk(2026, 11, 30), deadline=bkk(2026, 11, 25, 23, 59), fiscal_year=2570,
                      units=[UnitLine("U01", long, "on_time", "complaints", bkk(2026, 11, 5), {}, [])],
                      cases=iter([CaseLine("U01", "หน่วยงานที่ 1", NOV, "1", date(2026, 11, 3), "โทรศัพท์", "complaint",
                                           long, "นายสมชาย ใจดี", "-" + long, "done", None, "")]),
                      matrix_periods=[], matrix=[], include_personal=True)
    workbook, written = build_workbook(data)
    wb = load_workbook(io.BytesIO(workbook))
    row = [c.value for c in wb["รายการเรื่อง"][3]]
    assert written == 1 and len(row[7]) == 32_767 and row[7].endswith("…") and row[7].startswith("ร้องเรียน")
    assert len(row[9]) == 32_767 and row[9].startswith("'-")  # defused, then clipped
    assert len(wb["สถานะหน่วยงาน"]["B3"].value) == 32_767


def test_scheduler_job_uses_the_clock(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from bot.runner import _cycle

    app = make_app(db_url)
    with time_machine.travel(bkk(2026, 11, 18, 9, 0, 30), tick=False):
        _cycle(app)
        _cycle(app)
    assert len(_outbox(app, "reminder")) == 5


@pytest.mark.parametrize("moment,expected", [
    (bkk(2026, 11, 20, 9), "2026-11"),  # before this month's deadline
    (bkk(2026, 11, 26, 9), "2026-11"),  # just after it: still November
    (bkk(2026, 12, 2, 9), "2026-11"),  # "how did November go?"
    (bkk(2026, 12, 9, 23, 59), "2026-11"),
    (bkk(2026, 12, 10, 9), "2026-12"),  # two weeks on: December
])
def test_the_month_in_focus(db_url, make_app, moment: datetime, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert str(make_app(db_url).period_in_focus(moment)) == expected


def test_months_before_the_bot_was_there_are_not_missing(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from bot.reporting import scores

    app = make_app(db_url)
    _send(app, U1, bkk(2026, 11, 20), "ไม่มีข้อร้องเรียนครับ")  # the first message: November
    with app.sessions() as s:
        _, grid, results = scores(app, s, 2570, bkk(2026, 12, 1))
    assert grid["HPC01"][:2] == [None, "on_time"]  # October: before the bot was there
    [hpc01] = [r for r in results if r.unit == "HPC01"]
    assert (hpc01.due, hpc01.on_time, hpc01.missing) == (1, 1, 0)
    earlier = make_app(db_url, START_PERIOD="2569-10")  # the secretariat says collection began in October
    with earlier.sessions() as s:
        _, grid, _ = scores(earlier, s, 2570, bkk(2026, 12, 1))
    assert grid["HPC01"][:2] == ["missing", "on_time"]


def test_a_reminders_forms_come_filled_in_and_are_read_back_with_two_cases(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """The reminder attaches Complaint_01 and Complaint_02 with the unit's name and code and the month entered; the
    clerk types two cases and their counts, and replies with the forms from another address of the unit's
    (its contact address, replying to the bot's signed reminder): read as HPC01's November report, on time."""
    app = make_app(db_url)
    run_cycle(app, bkk(2026, 11, 18, 9, 0))
    reminder = next(r for r in _outbox(app, "reminder") if r.unit_code == "HPC01")
    msg = email.message_from_bytes(reminder.raw)
    attached = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk() if p.get_filename()}
    assert sorted(attached) == ["Complaint_01.xlsx", "Complaint_02.xlsx"]
    texts = {name: " ".join(str(c.value) for row in load_workbook(io.BytesIO(data)).active.iter_rows(max_row=4)
                            for c in row if c.value) for name, data in attached.items()}
    for text in texts.values():
        assert "ศูนย์อนามัยที่ 1 เชียงใหม่ (HPC01)" in text and "พฤศจิกายน พ.ศ. 2569" in text
    c01 = load_workbook(io.BytesIO(attached["Complaint_01.xlsx"]))
    ws = c01.active
    for row, values in ((6, (1, "3/11/2569", "โทรศัพท์", "ข้อร้องเรียน", "เสียงดัง", "นาย ก", "ตรวจสอบ", "แล้วเสร็จ",
                             "10/11/2569")),
                        (7, (2, "7/11/2569", "อีเมล", "ข้อร้องเรียน", "กลิ่น", "นาง ข", "ประสาน", "อยู่ระหว่างดำเนินการ", ""))):
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
    c02 = load_workbook(io.BytesIO(attached["Complaint_02.xlsx"]))
    for col, value in zip((2, 3, 4), (2, 1, 1)):
        c02.active.cell(row=6, column=col, value=value)  # ข้อร้องเรียน: received, done, in progress
    for row in (7, 8, 9):
        for col in (2, 3, 4):
            c02.active.cell(row=row, column=col, value=0)
    filled = []
    for name, book in (("Complaint_01.xlsx", c01), ("Complaint_02.xlsx", c02)):
        out = io.BytesIO()
        book.save(out)
        filled.append((name, out.getvalue()))
    result = _send(app, f"clerk01@{DOMAIN}", bkk(2026, 11, 20, 10), "ส่งรายงานตามแนบ", subject=f"Re: {reminder.subject}",
                   attachments=filled, headers={"In-Reply-To": reminder.message_id, "References": reminder.message_id})
    assert result is not None and result.unit is not None and result.unit.code == "HPC01"
    assert str(result.period) == "2026-11" and result.rows == 2
    unit = next(u for u in status_report(app, NOV, bkk(2026, 11, 20, 11))["units"] if u["unit"] == "HPC01")
    assert (unit["status"], unit["kind"], unit["counts"]["complaint"]) == ("on_time", "complaints", 2)
