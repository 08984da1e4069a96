"""A stranger's file can never crash, stall or exhaust the bot (docs/spec.md, "Trust"; docs/reliability.md).

Each hostile file goes through the real pipeline (a Maildir and a real Dovecot), with a unit's
genuine report queued behind it that must still be counted and answered.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.samples import forms, make_mail, sample_cases
from bot.service import poll_once, read_pending_scans
from bot.storing import process_one
from bot.reporting import status_report
from intake.decisions import review_items
from intake.documents import read_attachment
from intake.message import Attachment
from intake.models import InboundMessage
from intake.context import Fetched
from intake.reading import read_documents
from intake.sandbox import SandboxFailure
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests import hostile_files
from tests.conftest import DOMAIN, SECRETARIAT, UNITS, bkk, compose_queued_receipts, record_tasks
from tests.paths import ROOT

NOV = Period(2026, 11)
ARRIVED = bkk(2026, 11, 12, 10)


def _mail(sender: str, subject: str, files: list[tuple[str, bytes]], body: str = "ส่งรายงานครับ") -> bytes:
    return make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=ARRIVED, attachments=files)


def _hostile_then_genuine() -> list[tuple[str, bytes]]:
    """(what, raw): four hostile files from units, then a genuine report (HPC03)."""
    return [
        ("far cell, declared", _mail(f"hpc01@{DOMAIN}", "รายงาน พ.ย. 69",
                                     [("Complaint_01.xlsx", hostile_files.far_cell_xlsx(dimension=True))])),
        ("far cell, undeclared", _mail(f"hpc01@{DOMAIN}", "รายงาน พ.ย. 69",
                                       [("Complaint_01.xlsx", hostile_files.far_cell_xlsx(dimension=False))])),
        ("inflating sheet", _mail(f"hpc02@{DOMAIN}", "รายงาน พ.ย. 69",
                                  [("Complaint_02.xlsx", hostile_files.inflating_xlsx())])),
        ("inflating memo", _mail(f"hpc02@{DOMAIN}", "บันทึกข้อความ พ.ย. 69", [("memo.docx", hostile_files.inflating_docx())])),
        ("genuine", _mail(f"hpc03@{DOMAIN}", "รายงาน พ.ย. 69", forms("ศูนย์อนามัยที่ 3 นครสวรรค์", NOV, sample_cases(NOV, 3)))),
    ]


EXPECTED_PROBLEM = {"far cell, declared": "sheet_too_large", "far cell, undeclared": "parser_limit",
                    "inflating sheet": "archive_too_large", "inflating memo": "archive_too_large"}
THAI_LIMIT_WORDS = {"sheet_too_large": "200,000 แถว", "parser_limit": "เกินกำหนด", "archive_too_large": "100 MB"}


def _deliver_maildir(folder: Path, mails: list[tuple[str, bytes]]) -> None:
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    start = int(ARRIVED.timestamp())
    for i, (_, raw) in enumerate(mails):
        (folder / "new" / f"{start + i}.m{i}.host").write_bytes(raw)


@pytest.mark.parametrize("kind", ["maildir", pytest.param("imap", marks=pytest.mark.imap)])
def test_hostile_files_cost_only_themselves_and_the_report_behind_them_counts(
        kind: str, db_url: str, make_app, tmp_path: Path, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    mails = _hostile_then_genuine()
    if kind == "imap":
        dovecot = request.getfixturevalue("dovecot")
        user = dovecot.new_user()
        for i, (_, raw) in enumerate(mails):
            dovecot.append(user, raw, ARRIVED.replace(minute=i))
        app = make_app(db_url, MAIL_SOURCE=dovecot.url(user))
    else:
        _deliver_maildir(tmp_path / "mail", mails)
        app = make_app(db_url, MAIL_SOURCE=f"maildir:{tmp_path / 'mail'}")
    source = app.source()
    started = time.monotonic()
    report = poll_once(app, source)
    source.close()
    assert time.monotonic() - started < 60
    assert (report.seen, report.processed, report.failed) == (5, 5, 0)

    with app.sessions() as s:
        stored = list(s.scalars(select(InboundMessage).order_by(InboundMessage.arrived_at, InboundMessage.id)))
        receipts = {o.recipients[0]: o for o in s.scalars(select(OutboxMessage))}
    # Every original kept, in order (IMAP stores lines ending in CRLF).
    assert [m.raw.replace(b"\r\n", b"\n") for m in stored] == [raw.replace(b"\r\n", b"\n") for _, raw in mails]
    for (what, _), msg in zip(mails[:4], stored[:4]):
        code = EXPECTED_PROBLEM[what]
        assert code in {p["code"] for p in msg.problems}, (what, msg.problems)
        assert msg.outcome in ("no_report", "needs_review")
        # The unit is told, in Thai, which file could not be read and the limit it broke.
        text = _receipt_text(app, msg.id)
        assert ("Complaint_0" in text or "memo.docx" in text) and THAI_LIMIT_WORDS[code] in text, text
    # The genuine report behind them is counted and answered.
    row = next(u for u in status_report(app, NOV, bkk(2026, 11, 30))["units"] if u["unit"] == "HPC03")
    assert (row["status"], row["kind"]) == ("on_time", "complaints")
    assert f"hpc03@{DOMAIN}" in receipts
    if kind == "imap":
        assert all("ComplaintBotDone" in f for f in request.getfixturevalue("dovecot").flags(user).values())


def test_in_a_backlog_a_file_that_kills_its_reader_costs_only_that_file(db_url: str, make_app,  # type: ignore[no-untyped-def]
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """In a backlog's batch a unit's message is parsed and read in one task with a few others; when that task
    dies each of them is parsed and read again one file per task, so the message's other form still counts, the
    file at fault is named in its receipt, and the messages around it are read as if nothing had happened."""
    from bot.lookahead import LookAhead
    from bot.storing import process_batch

    app = make_app(db_url)
    good = forms("ศูนย์อนามัยที่ 2 พิษณุโลก", NOV, sample_cases(NOV, 3))
    batch = [Fetched(raw=_mail(f"hpc0{1 + i % 3}@{DOMAIN}", f"รายงาน พ.ย. 69 ({i})",
                               forms("หน่วยงาน", NOV, sample_cases(NOV, 2))), arrived_at=ARRIVED.replace(minute=i),
                     source="test", uidvalidity=1, uid=str(i + 1)) for i in range(LookAhead.IN_SANDBOX_FROM + 2)]
    batch[3] = Fetched(raw=_mail(f"hpc02@{DOMAIN}", "รายงาน พ.ย. 69",
                                 [("Complaint_01.xlsx", hostile_files.far_cell_xlsx(dimension=False)), good[1]]),
                       arrived_at=ARRIVED.replace(minute=3), source="test", uidvalidity=1, uid="4")
    tasks = record_tasks(app, monkeypatch)
    results = process_batch(app, batch)
    # Four messages to a task; the members of the task that died are each parsed again alone, then read one file
    # per task.
    assert tasks.started == 3 + 4 + 4 * 2
    assert sorted(tasks) == ["parse_message"] * 4 + ["read_attachment"] * 4 * 2 + ["read_message"] * len(batch)
    hit = results[3]
    assert hit is not None and [(f.filename, f.kind, f.detail) for f in hit.files] == [
        ("Complaint_01.xlsx", "unreadable", "parser_limit"), ("Complaint_02.xlsx", "complaint_02", "c02_total")]
    assert "parser_limit" in {p.code for p in hit.problems}
    assert [r.outcome for i, r in enumerate(results) if r and i != 3] == ["report"] * (len(batch) - 1)
    assert all(r is not None and r.rows == 2 for i, r in enumerate(results) if i != 3)


def _receipt_text(app, inbound_id: int) -> str:  # type: ignore[no-untyped-def]
    import email
    import email.policy

    with app.sessions() as s:
        compose_queued_receipts(app)
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"receipt:{inbound_id}"))
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    return str(msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_strangers_files_are_never_parsed_unpacked_or_ocrd(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    scans = [(f"scan{i}.pdf", hostile_files.scanned_pdf()) for i in range(5)]
    bombs = [("a.xlsx", hostile_files.far_cell_xlsx(dimension=False)), ("b.docx", hostile_files.inflating_docx())]
    raw = _mail("someone@elsewhere.example", "รายงาน พ.ย. 69", scans + bombs, body="ไม่มีข้อร้องเรียน")
    result = process_one(app, Fetched(raw=raw, arrived_at=ARRIVED))
    assert result is not None and (result.outcome, result.reason) == ("set_aside", "unknown sender")
    assert not app.parsers.started and not app.ocr.started  # no parser or OCR worker ever ran for it
    assert not result.scans_pending and result.files == [] and read_pending_scans(app) == []
    with app.sessions() as s:
        assert s.scalar(select(InboundMessage.raw)) == raw  # kept as bytes
        assert s.scalars(select(OutboxMessage)).all() == []  # never answered
        assert [m.id for m in review_items(s)] == [result.inbound_id]  # a person can still look at it
    genuine = _mail(f"hpc01@{DOMAIN}", "รายงาน", [], body="ไม่มีข้อร้องเรียนครับ")
    assert process_one(app, Fetched(raw=genuine, arrived_at=ARRIVED)).outcome == "report"  # type: ignore[union-attr]


@pytest.mark.slow  # OCR of a scanned memo
def test_a_units_plain_mail_never_waits_behind_another_units_scans(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scans = [(f"scan{i}.pdf", hostile_files.scanned_pdf()) for i in range(2)]
    _deliver_maildir(tmp_path / "mail", [
        ("scans", _mail(f"hpc01@{DOMAIN}", "บันทึกข้อความ พ.ย. 69", scans)),
        ("plain", _mail(f"hpc02@{DOMAIN}", "รายงาน พ.ย. 69", [], body="ไม่มีข้อร้องเรียนครับ")),
    ])
    app = make_app(db_url, MAIL_SOURCE=f"maildir:{tmp_path / 'mail'}", OCR_SECONDS="120")
    assert poll_once(app, app.source()).processed == 2
    assert not app.ocr.started  # no OCR on the intake path: the scans wait for the OCR queue
    with app.sessions() as s:
        waiting = s.scalars(select(InboundMessage).where(InboundMessage.scans_pending.is_(True))).all()
        answered = [o.recipients[0] for o in s.scalars(select(OutboxMessage))]
    assert [m.from_addr for m in waiting] == [f"hpc01@{DOMAIN}"]
    assert answered == [f"hpc02@{DOMAIN}"]  # the plain e-mail is answered at once; the scans' receipt waits
    [result] = read_pending_scans(app)
    assert not result.scans_pending and result.unit is not None and result.unit.code == "HPC01"
    with app.sessions() as s:
        assert sorted(o.recipients[0] for o in s.scalars(select(OutboxMessage))) == [f"hpc01@{DOMAIN}",
                                                                                     f"hpc02@{DOMAIN}"]
        assert not s.scalars(select(InboundMessage).where(InboundMessage.scans_pending.is_(True))).all()


def _big_csv() -> bytes:
    rows = ["ลำดับ,วันที่รับเรื่อง,ช่องทาง,ประเภท,เรื่อง,ผู้ร้อง,การดำเนินการ,ผลการดำเนินการ"]
    rows += [f"{i},5/11/2569,โทรศัพท์,ข้อร้องเรียน,เรื่องที่ {i},นาย ก,ตรวจสอบ,แล้วเสร็จ" for i in range(190_000)]
    return "\n".join(rows).encode()


def test_a_parser_child_killed_mid_file_costs_that_file_and_the_pool_goes_on(parsers) -> None:  # type: ignore[no-untyped-def]
    good = [("Complaint_01.xlsx", forms("x", NOV, sample_cases(NOV, 2))[0][1])]
    assert [f.form for f in read_documents([Attachment(n, "", d) for n, d in good], parsers).forms] == ["complaint_01"]
    future = parsers.submit(read_attachment, Attachment("big.csv", "", _big_csv()), None)
    time.sleep(0.5)  # the worker is inside the reader now (the file takes ~2 s)
    assert not future.done()
    for pid in [p.pid for p in multiprocessing.active_children() if p.pid]:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(SandboxFailure) as failure:
        parsers.result(future)
    assert failure.value.kind == "crashed"
    # The same pool reads the next file: the dead worker was replaced, nothing restarted.
    doc = read_documents([Attachment(n, "", d) for n, d in good], parsers)
    assert [f.form for f in doc.forms] == ["complaint_01"]


@pytest.mark.slow
def test_wall_clock_and_cpu_limits_end_only_the_task(make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, PARSER_SECONDS="3")
    started = time.monotonic()
    with pytest.raises(SandboxFailure) as hung:
        app.parsers.run(time.sleep, 30)  # a reader that never returns
    assert hung.value.kind == "timeout" and time.monotonic() - started < 10
    with pytest.raises(SandboxFailure) as spinning:
        app.parsers.run(sum, range(10 ** 12))  # a reader spinning in C: the CPU limit (2 s) ends it
    assert spinning.value.kind == "timeout"
    assert app.parsers.run(sum, range(10)) == 45


def test_readers_run_below_the_bots_own_cpu_priority(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The parser and OCR workers run at PARSER_NICE (default 10) below the bot's own priority, so the storing
    loop and the database come first and the workers, reading ahead, take the time left (docs/performance.md)."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    app = make_app(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    assert app.parsers.run(os.getpriority, os.PRIO_PROCESS, 0) == min(own + 10, 19)
    assert app.ocr.run(os.getpriority, os.PRIO_PROCESS, 0) == min(own + 10, 19)
    assert os.getpriority(os.PRIO_PROCESS, 0) == own  # the bot's own is untouched
    other = make_app(f"sqlite:///{tmp_path / 'other.sqlite3'}", PARSER_NICE="0")
    assert other.parsers.run(os.getpriority, os.PRIO_PROCESS, 0) == own


def _env(tmp_path: Path, db: str) -> dict[str, str]:
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    return {"DATABASE_URL": db, "UNITS_FILE": str(tmp_path / "units.csv"), "DATA_DIR": str(tmp_path / "data"),
            "MAIL_SOURCE": f"maildir:{tmp_path / 'mail'}", "SMTP_URL": f"file:{tmp_path / 'sent'}",
            "SECRETARIAT_EMAIL": SECRETARIAT, "SECRET_KEY": "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6", "MAILBOX_LEASE_SECONDS": "1",
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


@pytest.mark.slow
def test_a_message_that_kills_the_worker_again_and_again_is_quarantined_and_intake_goes_on(db_url: str, make_app,
                                                                                    tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _deliver_maildir(tmp_path / "mail", [
        ("poison", _mail(f"hpc01@{DOMAIN}", "POISON รายงาน", [], body="ไม่มีข้อร้องเรียน")),
        ("genuine", _mail(f"hpc02@{DOMAIN}", "รายงาน", [], body="ไม่มีข้อร้องเรียนครับ")),
    ])
    env = _env(tmp_path, db_url)
    app = make_app(db_url)

    def poll() -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, str(ROOT / "tests" / "crash_worker.py"), "poll"]
        return subprocess.run(cmd, env={**env, "CRASH_AT": "during_ingest_of_poison"}, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    from bot.storing import MAX_KILLS

    # The message kills the worker (as a native abort would) before anything is stored; a dead worker's
    # lease and marker are taken over at once; its deaths count apart from failures, up to MAX_KILLS.
    for _ in range(MAX_KILLS):  # the first run marks the batch; then the message alone, until MAX_KILLS deaths
        assert poll().returncode == -signal.SIGKILL
    done = poll()
    assert done.returncode == 0, done.stderr
    with app.sessions() as s:
        stored = {m.from_addr: m for m in s.scalars(select(InboundMessage))}
        quarantined = stored[f"hpc01@{DOMAIN}"]
        assert quarantined.outcome == "quarantined" and f"stopped {MAX_KILLS} times" in quarantined.reason
        assert b"POISON" in quarantined.raw
        assert [m.id for m in review_items(s)] == [quarantined.id]
        assert stored[f"hpc02@{DOMAIN}"].outcome == "report"
    # Marked done: a fourth run finds nothing new.
    again = poll()
    assert again.returncode == 0 and "0 message(s)" in again.stdout
    row = next(u for u in status_report(app, NOV, datetime.now(UTC))["units"] if u["unit"] == "HPC02")
    assert row["kind"] == "nil"


@pytest.mark.slow
def test_a_worker_killed_again_and_again_never_makes_a_report_poison(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`poll` SIGKILLed five times in a row while it stores a unit's report (an operator, the OOM killer): the
    sixth run stores it as the report it is, not quarantined."""
    _deliver_maildir(tmp_path / "mail", [("report", _mail(f"hpc01@{DOMAIN}", "รายงาน พ.ย. 69", forms(
        "ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, sample_cases(NOV, 3))))])
    env = {**_env(tmp_path, db_url), "CRASH_AT": "during_ingest_times", "CRASH_TIMES": "5",
           "CRASH_COUNTER": str(tmp_path / "kills")}
    app = make_app(db_url)
    runs = [subprocess.run([sys.executable, str(ROOT / "tests" / "crash_worker.py"), "poll"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120) for _ in range(6)]
    assert [r.returncode for r in runs] == [-signal.SIGKILL] * 5 + [0], runs[-1].stderr
    with app.sessions() as s:
        [stored] = s.scalars(select(InboundMessage)).all()
    assert stored.outcome == "report" and stored.unit_code == "HPC01"


def test_hostile_text_through_the_pipeline_costs_milliseconds(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The three quadratic cases the issue measured (18 s, 11-16 s, 20 s), in one message from a unit."""
    subject = "Nov." + " " * 20_000 + "x"
    body = "On x\n" + " " * 32_000 + "\n" + "a" * 40_000 + "\n" + "<a " * 10_000
    _deliver_maildir(tmp_path / "mail", [
        ("hostile", make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject=subject[:900], body=body,
                              date_=ARRIVED, headers={"X-Long": subject})),
        ("genuine", _mail(f"hpc02@{DOMAIN}", "รายงาน พ.ย. 69", [], body="ไม่มีข้อร้องเรียนครับ")),
    ])
    raw_subject = (tmp_path / "mail" / "new")
    first = sorted(raw_subject.iterdir())[0]
    first.write_bytes(first.read_bytes().replace(b"Subject: ", b"Subject: Nov." + b" " * 20_000 + b"x ", 1))
    app = make_app(db_url, MAIL_SOURCE=f"maildir:{tmp_path / 'mail'}")
    started = time.monotonic()
    assert poll_once(app, app.source()).processed == 2
    assert time.monotonic() - started < 5
    assert _status_of(app, "HPC02") == "on_time"


def _status_of(app, unit: str) -> str:  # type: ignore[no-untyped-def]
    return next(u["status"] for u in status_report(app, NOV, bkk(2026, 11, 30))["units"] if u["unit"] == unit)


_UNSTARTABLE = '''
# No `if __name__ == "__main__"`: the forkserver runs this again in every parser worker, which then fails to start.
from intake.message import parse_message
from intake.sandbox import Sandbox

sandbox = Sandbox()
raw = b"Subject: x\\r\\n\\r\\n" + b"body line\\r\\n" * 20000  # ~220 KB a task: more than a pipe holds
futures = [sandbox.submit(parse_message, raw) for _ in range(30)]
outcomes = []
for future in futures:
    try:
        sandbox.result(future)
        outcomes.append("parsed")
    except Exception as exc:
        outcomes.append(type(exc).__name__)
print(sorted(set(outcomes)))
sandbox.close()
'''


def test_a_pool_whose_workers_cannot_start_fails_its_tasks_instead_of_hanging(tmp_path: Path) -> None:
    """Workers that die as they start break pebble's pool. It failed the tasks it knew of with its own
    BrokenProcessPool (not a SandboxFailure), and a task it was handing to a worker when that worker died was
    never finished: waiting for it hung intake for good (seen with a script the forkserver re-ran in each
    worker). Every task now fails within a second of its pool stopping, and as ParsersUnavailable, not as its
    message's SandboxFailure: a trivial task fails too, so no message is to blame (bot/storing.py leaves them all for
    the next poll)."""
    script = tmp_path / "unstartable.py"
    script.write_text(_UNSTARTABLE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.stdout.strip() == "['ParsersUnavailable']", (done.stdout, done.stderr[-2000:])
