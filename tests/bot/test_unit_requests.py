"""Units help themselves by mail: their own fiscal-year record (subject `สถานะ 2570`) and evidence pack
(`ขอหลักฐาน 2570`), for their own units only, authenticated as a report is; strangers, forged or unauthenticated
senders and requests naming another unit get nothing and are listed for the secretariat; a pack over the size
limit goes as a summary with a note; every answer is listed in the digest."""

from __future__ import annotations

import email
import io
import random
import zipfile
from email.message import EmailMessage
from email.policy import default

import pytest
import time_machine
from sqlalchemy import select

from bot.cycle import send_digest
from bot.digest_data import digest_data
from bot.evidence import MANIFEST
from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox, poll_once
from bot.storing import process_one
from intake.context import Fetched
from intake.tables import Outcome
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk, compose_queued_receipts, plain_text

OURS = "mx.anamai.example.go.th"
NOV, OCT = Period(2026, 11), Period(2026, 10)
U1, U2 = f"hpc01@{DOMAIN}", f"hpc02@{DOMAIN}"


def _auth(raw: bytes, domain: str = DOMAIN, result: str = "pass") -> bytes:
    return f"Authentication-Results: {OURS}; dmarc={result} header.from={domain}\r\n".encode() + raw


def _app(make_app, db_url, **env):  # type: ignore[no-untyped-def]
    return make_app(db_url, TRUSTED_AUTHSERV_ID=OURS, DIGEST_TO=f"boss@{DOMAIN}", **env)


def _send(app, sender: str, subject: str, when, body: str = "ขอข้อมูลครับ", auth: str | None = "pass", **kw):  # type: ignore[no-untyped-def]
    raw = make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=when, **kw)
    return process_one(app, Fetched(raw=_auth(raw, sender.rpartition("@")[2], auth) if auth else raw, arrived_at=when))


def _answers(app, kind: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    compose_queued_receipts(app)
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _month_of_reports(app) -> None:  # type: ignore[no-untyped-def]
    """HPC01: October nil on time, November two cases late; HPC02: November nil on time."""
    _send(app, U1, "รายงาน ต.ค. 69", bkk(2026, 10, 20, 10), body="ไม่มีข้อร้องเรียนครับ")
    _send(app, U1, "รายงาน พ.ย. 69", bkk(2026, 11, 27, 10), body="ตามแนบ",
          attachments=forms("ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, sample_cases(NOV, 2)))
    _send(app, U2, "รายงาน พ.ย. 69", bkk(2026, 11, 20, 10), body="ไม่มีข้อร้องเรียนครับ")


def test_a_unit_gets_its_own_record_in_thai(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    _month_of_reports(app)
    result = _send(app, U1, "สถานะ 2570", bkk(2026, 12, 2, 9))
    assert result is not None and result.outcome == Outcome.COMMAND and result.command == "unit_record"
    [answer] = _answers(app, "unit_record")
    text = plain_text(answer)
    assert answer.recipients == [U1] and answer.unit_code == "HPC01"
    assert "ศูนย์อนามัยที่ 1 เชียงใหม่ (HPC01) ปีงบประมาณ 2570" in text
    assert "เดือนตุลาคม 2569" in text and "ส่งครบถ้วนและตรงเวลา (ไม่มีเรื่อง)" in text
    assert "เดือนพฤศจิกายน 2569" in text and "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด (มีเรื่อง)" in text
    assert "เดือนธันวาคม 2569" in text and "ยังไม่ได้รับรายงาน" in text  # the month under way
    assert "HPC02" not in text and "พิษณุโลก" not in text  # no other unit's data, ever
    # An English subject, a CE year read as its fiscal year, a Re: prefix: the same answer.
    _send(app, U1, "Re: status 2027", bkk(2026, 12, 2, 9, 5))
    assert "ปีงบประมาณ 2570" in plain_text(_answers(app, "unit_record")[-1])


@pytest.mark.parametrize("case", ["stranger", "forged", "unauthenticated", "another unit", "secretariat's own words"])
def test_who_may_not_ask_gets_nothing_and_is_listed(case: str, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    _month_of_reports(app)
    when = bkk(2026, 12, 2, 9)
    if case == "stranger":
        result = _send(app, f"someone@{DOMAIN}", "สถานะ 2570", when)
    elif case == "forged":  # a second address in the display name: no one's mail
        raw = make_mail(sender=U1, to=SECRETARIAT, subject="สถานะ 2570", body="x", date_=when,
                        sender_name=f"hpc02@{DOMAIN}")
        result = process_one(app, Fetched(raw=_auth(raw), arrived_at=when))
    elif case == "unauthenticated":
        result = _send(app, U1, "สถานะ 2570", when, auth="fail")
    elif case == "another unit":
        result = _send(app, U1, "สถานะ HPC02 2570", when)
    else:  # the secretariat's `สถานะ` asks for the digest, not a unit's record
        result = _send(app, f"boss@{DOMAIN}", "สถานะ", when)
        assert result is not None and result.command == "digest"
        return
    assert result is not None and result.outcome == Outcome.COMMAND_REFUSED and result.reply_to is None
    assert _answers(app, "unit_record") == [] and _answers(app, "receipt")[-1].recipients != [f"someone@{DOMAIN}"]
    with app.sessions() as s:
        refused = digest_data(app, s, NOV, bkk(2026, 12, 2, 10)).refused
    # Listed with the sender as far as it can be named (a forged From names no one).
    expected = {"stranger": f"someone@{DOMAIN}", "forged": ""}.get(case, U1)
    assert [who for _, who, _ in refused] == [expected]


def test_a_unit_gets_its_evidence_pack_without_complainants_data_by_default(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    _month_of_reports(app)
    _send(app, U1, "ขอหลักฐาน 2570", bkk(2026, 12, 2, 9))
    [answer] = _answers(app, "unit_evidence")
    msg = email.message_from_bytes(answer.raw)
    [(name, data)] = [(p.get_filename(), p.get_payload(decode=True)) for p in msg.walk() if p.get_filename()]
    assert name.endswith(".zip") and "HPC01" in name
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert "summary.xlsx" in names and MANIFEST in names and "originals-sha256.txt" in names
        assert not [n for n in names if n.startswith("originals/")]  # personal data stays with the secretariat
        assert len(zf.read("originals-sha256.txt").splitlines()) == 2  # HPC01's two reports, by hash
        assert [n for n in names if n.startswith("receipts/")]
        everything = b"".join(zf.read(n) for n in names)
    assert b"hpc02" not in everything.lower() and "ไม่ได้แนบมา" in plain_text(answer)


def test_a_pack_over_the_size_limit_goes_as_its_summary_with_a_note(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url, UNIT_EVIDENCE_ORIGINALS="true", OUTGOING_MAX_MB="1")
    big = [("scan.pdf", b"%PDF-1.4\n" + random.Random(1).randbytes(1_500_000))]  # 1.5 MB that does not compress
    _send(app, U1, "รายงาน พ.ย. 69", bkk(2026, 11, 20, 10), body="ไม่มีข้อร้องเรียนครับ", attachments=big)
    _send(app, U1, "evidence 2570", bkk(2026, 12, 2, 9))
    [answer] = _answers(app, "unit_evidence")
    assert len(answer.raw) < 1024 * 1024 and "มีขนาดเกินที่ส่งทางอีเมลได้" in plain_text(answer)
    msg = email.message_from_bytes(answer.raw)
    [data] = [p.get_payload(decode=True) for p in msg.walk() if p.get_filename()]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "summary.xlsx" in zf.namelist() and not [n for n in zf.namelist() if n.startswith("originals/")]


def test_requests_are_limited_per_unit_and_hour_and_listed_in_the_digest(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url, UNIT_REQUESTS_PER_HOUR="2")
    _month_of_reports(app)
    for minute in range(4):
        with time_machine.travel(bkk(2026, 12, 2, 9, minute), tick=False):
            _send(app, U1, "สถานะ", bkk(2026, 12, 2, 9, minute))
    assert len(_answers(app, "unit_record")) == 2
    with time_machine.travel(bkk(2026, 12, 2, 10, 30), tick=False):
        _send(app, U1, "สถานะ", bkk(2026, 12, 2, 10, 30))  # the next hour
    assert len(_answers(app, "unit_record")) == 3
    assert send_digest(app, NOV, bkk(2026, 12, 2, 11), "digest:test", [f"boss@{DOMAIN}"])
    digest = plain_text(_answers(app, "digest")[-1])
    assert digest.count("HPC01: หน่วยงานขอผลการส่งรายงานของตนทางอีเมล") == 3


@pytest.mark.slow
def test_by_mail_through_dovecot_and_aiosmtpd(dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """The whole way: reports and requests appended to a real mailbox, answers delivered by a real SMTP server."""
    def mail(sender: str, subject: str, body: str, when, auth: str = "pass", **kw) -> bytes:  # type: ignore[no-untyped-def]
        return _auth(make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=when, **kw),
                     result=auth)

    dovecot.append(imap_user, mail(U1, "รายงาน พ.ย. 69", "ไม่มีข้อร้องเรียนครับ", bkk(2026, 11, 20)), bkk(2026, 11, 20))
    dovecot.append(imap_user, mail(U1, "สถานะ 2570", "ขอผลการส่งรายงาน", bkk(2026, 12, 2)), bkk(2026, 12, 2, 9))
    dovecot.append(imap_user, mail(U1, "ขอหลักฐาน 2570", "ขอหลักฐาน", bkk(2026, 12, 2)), bkk(2026, 12, 2, 9, 1))
    dovecot.append(imap_user, mail(U1, "สถานะ HPC02", "ขอของหน่วยงานอื่น", bkk(2026, 12, 2)), bkk(2026, 12, 2, 9, 2))
    dovecot.append(imap_user, mail(U1, "สถานะ", "ปลอม", bkk(2026, 12, 2), auth="fail"), bkk(2026, 12, 2, 9, 3))
    dovecot.append(imap_user, mail(U1, "ขอหลักฐาน", "ปลอม", bkk(2026, 12, 2), sender_name=U2), bkk(2026, 12, 2, 9, 4))
    app = _app(make_app, db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    source = app.source()
    assert poll_once(app, source).processed == 6
    source.close()
    assert flush_outbox(app).sent == 3  # the report's receipt, the record, the pack
    kinds = sorted(str(m.message["Subject"]) for m in smtp.handler.messages)
    assert any("ผลการส่งรายงานข้อร้องเรียน" in k for k in kinds) and any("ชุดหลักฐาน" in k for k in kinds)
    assert all(m.recipients == [U1] for m in smtp.handler.messages)
    with app.sessions() as s:
        refused = digest_data(app, s, NOV, bkk(2026, 12, 2, 10)).refused
    assert len(refused) == 3  # another unit's code, the unauthenticated one, the forged From


def test_a_request_whose_answer_fails_is_kept_for_a_person_and_intake_goes_on(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import bot.handlers

    def broken(*args: object) -> None:
        raise RuntimeError("the pack could not be built")

    monkeypatch.setattr(bot.handlers, "answer_unit_request", broken)
    app = _app(make_app, db_url)
    request = _send(app, U1, "ขอหลักฐาน 2570", bkk(2026, 12, 2, 9))
    after = _send(app, U2, "รายงาน ธ.ค. 69", bkk(2026, 12, 2, 9, 1), body="ไม่มีข้อร้องเรียนครับ")
    assert request is not None and after is not None and after.outcome == Outcome.REPORT
    from intake.models import InboundMessage

    with app.sessions() as s:
        stored = s.get(InboundMessage, request.inbound_id)
        assert stored is not None and stored.outcome == "quarantined" and "pack could not be built" in stored.reason


def test_a_report_whose_subject_starts_with_the_word_is_still_a_report(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    result = _send(app, U1, "สถานะ รายงานเดือน พ.ย. 69", bkk(2026, 11, 20, 10), body="ตามแนบ",
                   attachments=forms("ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, sample_cases(NOV, 2)))
    assert result is not None and result.outcome == Outcome.REPORT and result.rows == 2
    assert _answers(app, "unit_record") == []
    nil = _send(app, U2, "Status report November 2569", bkk(2026, 11, 20, 11), body="ไม่มีข้อร้องเรียนครับ")
    assert nil is not None and nil.outcome == Outcome.REPORT and nil.nil
