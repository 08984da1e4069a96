"""End to end over a real Dovecot and a real aiosmtpd: append, poll, store, mark, deliver receipts."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.runner import StopFlag, run_forever
from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox, poll_once
from bot.reporting import status_report
from intake.errors import SourceError
from intake.models import InboundMessage, Submission
from intake.context import Fetched
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.conftest import BKK, DOMAIN, SECRETARIAT, bkk

pytestmark = pytest.mark.imap
NOV = Period(2026, 11)
U1 = f"hpc01@{DOMAIN}"


def _mail(sender: str, body: str, when: datetime, **kw: object) -> bytes:
    return make_mail(sender=sender, to=SECRETARIAT, subject=kw.pop("subject", "รายงานข้อร้องเรียน"),  # type: ignore[arg-type]
                     body=body, date_=when, **kw)  # type: ignore[arg-type]


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_poll_stores_marks_and_answers(dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    # The Date headers lie (senders control them); INTERNALDATE decides on time or late.
    dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 1)), bkk(2026, 11, 25, 23, 59, 59))
    dovecot.append(imap_user, _mail(f"hpc02@{DOMAIN}", "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 20)),
                   bkk(2026, 11, 26, 0, 0, 0))
    dovecot.append(imap_user, _mail(f"hpc03@{DOMAIN}", "ส่งรายงาน", bkk(2026, 11, 10), subject="ประจำเดือน พ.ย. 69",
                                    attachments=forms("ศูนย์อนามัยที่ 3", NOV, sample_cases(NOV, 3))),
                   bkk(2026, 11, 10, 9))
    dovecot.append(imap_user, _mail(U1, "out of office", bkk(2026, 11, 2), headers={"Auto-Submitted": "auto-replied"}),
                   bkk(2026, 11, 2))
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    source = app.source()
    report = poll_once(app, source)
    assert (report.seen, report.processed) == (4, 4)
    assert report.outcomes == {"report": 3, "set_aside": 1}

    # Marked done on the server with our keyword, never \Seen or \Deleted: people read this mailbox.
    flags = dovecot.flags(imap_user)
    assert len(flags) == 4 and all("ComplaintBotDone" in f for f in flags.values())
    assert not any("\\Seen" in f or "\\Deleted" in f for f in flags.values())

    # A second poll finds nothing new.
    assert poll_once(app, source).seen == 0
    source.close()

    status = status_report(app, NOV, bkk(2026, 11, 27))
    by_unit = {u["unit"]: u for u in status["units"]}
    assert by_unit["HPC01"]["status"] == "on_time"
    assert by_unit["HPC02"]["status"] == "late"
    assert by_unit["HPC03"]["status"] == "on_time" and by_unit["HPC03"]["kind"] == "complaints"
    assert by_unit["HPC03"]["counts"] == {"complaint": 1, "suggestion": 1, "opinion": 0, "compliment": 1}
    assert [u["unit"] for u in status["units"]] == ["HPC01", "HPC02", "HPC03", "DIV01", "DIV02"]

    sent = flush_outbox(app)
    assert sent.sent == 3
    got = {m.recipients[0]: m.message for m in smtp.handler.messages}
    assert set(got) == {U1, f"hpc02@{DOMAIN}", f"hpc03@{DOMAIN}"}
    late = got[f"hpc02@{DOMAIN}"]
    assert "[CR-2569-11]" in late["Subject"] and "ล่าช้า" in late["Subject"]
    assert late["Auto-Submitted"] == "auto-replied" and late["In-Reply-To"]
    assert "26 พฤศจิกายน 2569 เวลา 00.00 น." in late.get_body(("plain",)).get_content()
    assert flush_outbox(app).sent == 0  # nothing is sent twice


def test_crash_between_commit_and_mark_sends_no_second_receipt(dovecot, imap_user, smtp, db_url,
                                                               make_app) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 3)), bkk(2026, 11, 3))
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)

    class CrashOnMark:
        """The real source, but the process 'dies' right after the commit, before the server mark."""

        def __init__(self) -> None:
            self.inner = app.source()
            self.name = self.inner.name

        def fetch_new(self, known):  # type: ignore[no-untyped-def]
            return self.inner.fetch_new(known)

        def mark_all(self, batch: list[Fetched]) -> None:
            raise KeyboardInterrupt("simulated crash")

    crashing = CrashOnMark()
    with pytest.raises(KeyboardInterrupt):
        poll_once(app, crashing)  # type: ignore[arg-type]
    crashing.inner.close()
    assert "ComplaintBotDone" not in next(iter(dovecot.flags(imap_user).values()))

    restarted = app.source()
    report = poll_once(app, restarted)
    restarted.close()
    assert report.seen == 0  # recognised by folder + UIDVALIDITY + UID, not fetched again
    assert "ComplaintBotDone" in next(iter(dovecot.flags(imap_user).values()))
    assert _count(app, InboundMessage) == 1 and _count(app, Submission) == 1 and _count(app, OutboxMessage) == 1
    flush_outbox(app)
    assert len(smtp.handler.messages) == 1


def test_same_message_delivered_twice_is_stored_once(dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    raw = _mail(U1, "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 3))
    dovecot.append(imap_user, raw, bkk(2026, 11, 3))
    dovecot.append(imap_user, raw, bkk(2026, 11, 3, 0, 5))
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    source = app.source()
    report = poll_once(app, source)
    source.close()
    assert (report.processed, report.duplicates) == (1, 1)
    assert _count(app, OutboxMessage) == 1
    assert all("ComplaintBotDone" in f for f in dovecot.flags(imap_user).values())


def test_done_folder_moves_processed_mail(dovecot, imap_user, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    for day in (3, 4, 5):  # one batch: flagged and moved with one command each
        dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, day)), bkk(2026, 11, day))
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), IMAP_DONE_FOLDER="Processed")
    source = app.source()
    assert poll_once(app, source).processed == 3
    source.close()
    assert dovecot.flags(imap_user) == {}
    moved = dovecot.flags(imap_user, "Processed")
    assert len(moved) == 3 and all("ComplaintBotDone" in flags for flags in moved.values())


def test_wrong_password_is_a_source_error_without_the_password(dovecot, imap_user, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user, password="wrong-pw-123"))
    with pytest.raises(SourceError) as err:
        poll_once(app, app.source())
    assert "wrong-pw-123" not in str(err.value)


def test_idle_wakes_the_worker_and_the_receipt_leaves_within_seconds(dovecot, imap_user, smtp, db_url,
                                                                    make_app) -> None:  # type: ignore[no-untyped-def]
    # A long sweep interval: only IDLE can explain a quick receipt.
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url, SWEEP_SECONDS="3600",
                   IDLE_SECONDS="3")
    stop = StopFlag()
    worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
    worker.start()
    try:
        time.sleep(1.0)  # the worker is idling now
        dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", datetime.now(BKK)), datetime.now(BKK))
        deadline = time.monotonic() + 15
        while not smtp.handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(smtp.handler.messages) == 1
        assert smtp.handler.messages[0].recipients == [U1]
    finally:
        stop.set()
        worker.join(timeout=40)
    assert not worker.is_alive()


def test_worker_reconnects_after_the_server_drops_the_connection(dovecot, imap_user, smtp, db_url,
                                                                 make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url, SWEEP_SECONDS="3600",
                   IDLE_SECONDS="2")
    stop = StopFlag()
    worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
    worker.start()
    try:
        time.sleep(1.0)
        # Kick every IMAP session of this user, as a server restart or a network cut would.
        import subprocess
        subprocess.run(["doveadm", "-c", str(dovecot.conf), "kick", imap_user], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", datetime.now(BKK)), datetime.now(BKK))
        deadline = time.monotonic() + 20
        while not smtp.handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(smtp.handler.messages) == 1
    finally:
        stop.set()
        worker.join(timeout=40)


def test_status_json_contract_from_the_command_line(dovecot, imap_user, db_url, make_app, tmp_path,
                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from bot.cli import app as cli

    dovecot.append(imap_user, _mail(U1, "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 20)), bkk(2026, 11, 20, 10, 2, 11))
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user))
    (tmp_path / ".env").write_text(
        f"DATABASE_URL={db_url}\nUNITS_FILE={tmp_path / 'units.csv'}\nDATA_DIR={tmp_path / 'data'}\n"
        f"MAIL_SOURCE={dovecot.url(imap_user)}\nSECRETARIAT_EMAIL={SECRETARIAT}\nSECRET_KEY=test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6\n")
    monkeypatch.chdir(tmp_path)
    for key in ("DATABASE_URL", "MAIL_SOURCE", "UNITS_FILE", "DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["poll"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["status", "--period", "2026-11", "--as-of", "2026-11-27T09:00:00", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"period", "deadline", "units"}
    assert data["period"] == "2026-11" and data["deadline"] == "2026-11-25T23:59:59+07:00"
    first = data["units"][0]
    assert first == {"unit": "HPC01", "status": "on_time", "kind": "nil", "completed_at": "2026-11-20T10:02:11+07:00",
                     "counts": {"complaint": 0, "suggestion": 0, "opinion": 0, "compliment": 0}, "problems": []}
    assert {u["unit"] for u in data["units"]} == {"HPC01", "HPC02", "HPC03", "DIV01", "DIV02"}  # not OLD01
    assert {u["status"] for u in data["units"][1:]} == {"missing"}
    del app
