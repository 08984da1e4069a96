"""Receipts queued as data and composed by the sender, over a real aiosmtpd, on SQLite and PostgreSQL:
what a unit receives is what was decided when its message was stored, and a receipt that cannot be
composed fails alone."""

from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox
from bot.storing import process_one
from intake.context import Fetched
from mailer.models import OutboxMessage
from mailer.outbox import purge_sent
from mailer.receipts import ReceiptInfo, receipt_from_payload, receipt_payload
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk

NOV = Period(2026, 11)
U1 = f"hpc01@{DOMAIN}"


def _receipt_rows(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt").order_by(OutboxMessage.id)))


def test_the_payload_keeps_everything_the_receipt_shows() -> None:
    info = ReceiptInfo(
        key="receipt:7", situation="report", reference="CR-2569-11-000007", to=U1, arrived_at=bkk(2026, 11, 20, 9),
        unit_code="HPC01", unit_name="ศูนย์อนามัยที่ 1 เชียงใหม่", period=NOV, period_rule="form",
        deadline=bkk(2026, 11, 25, 23, 59), status="on_time", report_kind="complaints",
        completed_at=bkk(2026, 11, 20, 9), files=[("Complaint_01.xlsx", "complaint_01", "rows", {"rows": "3"})],
        counts={"complaint": 3}, problems=[("warning", "totals_mismatch", {"category": "complaint"})],
        original_message_id="<a@b>", original_subject="รายงาน พ.ย. 69")
    assert receipt_from_payload(receipt_payload(info)) == info
    bare = ReceiptInfo(key="receipt:8", situation="unknown_sender", reference="CR-000008", to="x@y.go.th",
                       arrived_at=datetime(2026, 11, 20, 2, tzinfo=UTC))
    assert receipt_from_payload(receipt_payload(bare)) == bare


def test_a_receipt_is_composed_when_sent_as_it_was_decided_when_stored(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, SMTP_URL=smtp.url)
    when = bkk(2026, 11, 20, 9, 30)
    raw = make_mail(sender=U1, to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ส่งรายงานครับ", date_=when,
                    attachments=forms("ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, sample_cases(NOV, 3)))
    result = process_one(app, Fetched(raw=raw, arrived_at=when))
    assert result is not None and result.outcome == "report"
    [queued] = _receipt_rows(app)
    assert queued.raw == b"" and queued.subject == "" and queued.payload["status"] == "on_time"  # data, not yet mail
    assert flush_outbox(app).sent == 1
    [captured] = smtp.handler.messages
    msg = captured.message
    assert "[CR-2569-11]" in msg["Subject"] and msg["Message-ID"].strip() == queued.message_id
    assert msg["In-Reply-To"] and msg["Auto-Submitted"] == "auto-replied"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "ตรงเวลา" in text and "ศูนย์อนามัยที่ 1 เชียงใหม่" in text
    [sent] = _receipt_rows(app)
    kept = email.message_from_bytes(sent.raw, policy=email.policy.default)  # a retry would send these bytes
    assert sent.status == "sent" and kept["Message-ID"] == msg["Message-ID"] and sent.subject == str(msg["Subject"])
    assert kept["Date"] == msg["Date"] == email.utils.format_datetime(queued.created_at)  # dated when decided
    with app.sessions.begin() as s:  # the record stays; what it quoted of the sender goes with the bytes
        assert purge_sent(s, datetime.now(UTC) + timedelta(seconds=1)) == 1
    [purged] = _receipt_rows(app)
    assert purged.raw == b"" and purged.payload is None and purged.status == "sent"


def test_a_receipt_that_cannot_be_composed_fails_alone(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, SMTP_URL=smtp.url)
    for day, sender in ((3, U1), (4, f"hpc02@{DOMAIN}")):
        when = bkk(2026, 11, day)
        process_one(app, Fetched(make_mail(sender=sender, to=SECRETARIAT, subject="รายงาน", body="ไม่มีข้อร้องเรียนครับ",
                                           date_=when), when))
    first = _receipt_rows(app)[0]
    with app.sessions.begin() as s:  # a payload no composer can read (a bug, or a row edited by hand)
        row = s.get(OutboxMessage, first.id)
        assert row is not None
        row.payload = {**row.payload, "arrived_at": "not a time"}
    report = flush_outbox(app)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    broken, fine = _receipt_rows(app)
    assert broken.status == "failed" and "could not compose" in broken.last_error and broken.raw == b""
    assert fine.status == "sent" and [m.recipients for m in smtp.handler.messages] == [[f"hpc02@{DOMAIN}"]]
