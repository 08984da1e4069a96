"""The secretariat's side by mail: reply words read line by line, done only for authenticated staff replies to
the bot's own mail, each line answered (status before and after, the reference that undoes it), refusals listed
in the digest, rate-limited. Through process_one on SQLite; the month over real servers is in test_month."""

from __future__ import annotations

import email
import zipfile
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import default

import pytest
import time_machine
from sqlalchemy import select

from bot.cycle import run_cycle, send_digest
from bot.digest_data import digest_data
from bot.evidence import build_evidence, verify_evidence
from bot.reporting import scores, status_report
from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_one
from intake.models import Action, Exemption, InboundMessage, Outcome, Submission
from intake.context import Fetched
from intake.reply_words import Verb, looks_like_commands, parse_commands
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk, compose_queued_receipts, plain_text

NOV = Period(2026, 11)
OURS = "mx.anamai.example.go.th"
CLERK = f"clerk@{DOMAIN}"
UNITS = {"HPC01", "HPC02", "HPC03", "DIV01", "DIV02"}


def _parse(text: str, period: Period | None = NOV, files: bool = False):  # type: ignore[no-untyped-def]
    return parse_commands(text, default_period=period, is_unit=lambda c: c.upper() in UNITS, has_files=files)


# --- The reply words -----------------------------------------------------------------------------------------

def test_reply_words_are_read_line_by_line() -> None:
    parsed = _parse("เรียน ระบบ\n"
                    "ยกเว้น HPC07 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร\n"
                    "- รับทางกระดาษ hpc08 ไม่มีข้อร้องเรียน รับเมื่อ ๒๐ พ.ย. ๒๕๖๙\n"
                    "#57 HPC05\n"
                    "หน่วยงาน HPC05 ประจำเดือนตุลาคม 2569\n"
                    "#58 ไม่ใช่รายงาน เป็นหนังสือเวียน\n"
                    "อ่านใหม่\n"
                    "ยกเลิก A-12\n"
                    "HPC02\n"
                    "ขอบคุณครับ")
    assert parsed.errors == []
    by = [(c.line_no, c.verb, c.unit, c.period, c.target) for c in parsed.commands]
    assert by == [(2, Verb.EXEMPT, "HPC07", NOV, None), (3, Verb.PAPER, "HPC08", NOV, None),
                  (4, Verb.ASSIGN, "HPC05", None, 57), (5, Verb.ASSIGN, "HPC05", Period(2026, 10), None),
                  (6, Verb.DISMISS, None, None, 58), (7, Verb.REREAD, None, None, None),
                  (8, Verb.UNDO, None, None, None), (9, Verb.ASSIGN, "HPC02", None, None)]
    exempt, paper = parsed.commands[0], parsed.commands[1]
    assert exempt.reason == "ปิดปรับปรุงอาคาร"
    assert paper.nil and paper.received == date(2026, 11, 20)
    assert parsed.commands[4].reason == "เป็นหนังสือเวียน" and parsed.commands[6].reference == 12
    assert parsed.ignored == ["เรียน ระบบ", "ขอบคุณครับ"]


@pytest.mark.parametrize("line,code", [
    ("ยกเว้น HPC07 พฤศจิกายน 2569", "exempt_no_reason"),
    ("ยกเว้น HPC07 พ.ย. 69 ธ.ค. 69 เหตุผล น้ำท่วม", "period_several"),
    ("รับทางกระดาษ HPC08 ไม่มีข้อร้องเรียน", "paper_no_received"),
    ("รับทางกระดาษ HPC08 ไม่มีข้อร้องเรียน รับเมื่อ 31 ก.พ. 2569", "paper_bad_received"),
    ("รับทางกระดาษ HPC08 รับเมื่อ 20 พ.ย. 2569", "paper_nothing"),  # no nil words, no forms attached
    ("ยกเลิก คำสั่งล่าสุด", "undo_no_reference"),
    ("#57 ตกลง", "review_words_unknown"),
])
def test_a_line_it_cannot_do_is_named_with_why(line: str, code: str) -> None:
    parsed = _parse(f"สวัสดีครับ\n{line}")
    assert [(e.line_no, e.code) for e in parsed.errors] == [(2, code)] and parsed.commands == []


def test_the_month_comes_from_the_line_or_the_digest_replied_to() -> None:
    assert _parse("ยกเว้น HPC07 เหตุผล ปิดปรับปรุง").commands[0].period == NOV
    assert [e.code for e in _parse("ยกเว้น HPC07 เหตุผล ปิดปรับปรุง", period=None).errors] == ["period_missing"]
    assert _parse("ยกเว้น HPC07 10/2569 เหตุผล x", period=None).commands[0].period == Period(2026, 10)


def test_words_that_are_not_commands_stay_words() -> None:
    parsed = _parse("ยกเว้นกรณีที่แจ้งไว้แล้ว\nOK\nHPC99\nรับทราบครับ")
    assert parsed.commands == [] and parsed.errors == [] and len(parsed.ignored) == 4
    assert looks_like_commands("ยกเว้น HPC07 พ.ย. 69 เหตุผล x") and not looks_like_commands("ไม่มีข้อร้องเรียนครับ")


def test_a_long_mail_is_read_only_so_far() -> None:
    parsed = _parse("\n".join(["ยกเว้น HPC01 พ.ย. 69 เหตุผล x"] * 100) + "\n" + "ก" * 100_000)
    assert len(parsed.commands) == 40


# --- By mail, through process_one ------------------------------------------------------------------------------

def _app(make_app, db_url, **env):  # type: ignore[no-untyped-def]
    return make_app(db_url, TRUSTED_AUTHSERV_ID=OURS, STAFF_EMAILS=CLERK, DIGEST_TO=f"boss@{DOMAIN}", **env)


def _authenticated(raw: bytes, domain: str = DOMAIN) -> bytes:
    return f"Authentication-Results: {OURS}; dmarc=pass header.from={domain}\r\n".encode() + raw


def _reply(app, to: OutboxMessage, body: str, when: datetime, sender: str = CLERK, auth: bool = True,
           attachments=()):  # type: ignore[no-untyped-def]
    raw = make_mail(sender=sender, to=SECRETARIAT, subject=f"Re: {to.subject}", body=body, date_=when,
                    headers={"In-Reply-To": to.message_id, "References": to.message_id}, attachments=attachments)
    return process_one(app, Fetched(raw=_authenticated(raw, sender.rpartition("@")[2]) if auth else raw,
                                    arrived_at=when))


def _outbox(app, kind: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    compose_queued_receipts(app)
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _shared_address_report(app):  # type: ignore[no-untyped-def]
    """A nil report from an address DIV01 and DIV02 share, on 20 November: it waits for a person."""
    shared = make_mail(sender=f"central@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69",
                       body="ไม่มีข้อร้องเรียน", date_=bkk(2026, 11, 20, 10))
    waiting = process_one(app, Fetched(raw=_authenticated(shared), arrived_at=bkk(2026, 11, 20, 10)))
    assert waiting is not None and waiting.outcome == Outcome.NEEDS_REVIEW
    return waiting


def _status(app, unit: str, as_of: datetime) -> str:  # type: ignore[no-untyped-def]
    return next(u["status"] for u in status_report(app, NOV, as_of)["units"] if u["unit"] == unit)


def _state(app) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """Everything a command could change."""
    with app.sessions() as s:
        return (s.scalars(select(Exemption.unit_code)).all(), s.scalars(select(Submission.id)).all(),
                s.scalars(select(Action.id)).all(),
                s.scalars(select(InboundMessage.outcome).where(InboundMessage.from_addr != CLERK)).all())


def test_a_clerk_settles_a_review_excuses_a_unit_records_paper_and_undoes(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 20, 10), tick=False):
        waiting = _shared_address_report(app)
        # 1. The review alert: once, to the staff, with the reply words; not again within the hour.
        assert run_cycle(app, bkk(2026, 11, 20, 10)).review_alert
        [alert] = _outbox(app, "review")
        assert alert.recipients == [CLERK]
        body = plain_text(alert)
        assert f"#{waiting.inbound_id}" in body and "DIV01" in body and "ไม่ใช่รายงาน" in body and "อ่านใหม่" in body
        assert not run_cycle(app, bkk(2026, 11, 20, 10, 30)).review_alert
    # 2. The clerk answers the alert with a unit code: the message counts for DIV02, answered before/after.
    with time_machine.travel(bkk(2026, 11, 20, 11), tick=False):
        assert _status(app, "DIV02", bkk(2026, 11, 20, 11)) == "needs_review"  # a candidate of the shared address
        command = _reply(app, alert, "DIV02\n\nขอบคุณครับ", bkk(2026, 11, 20, 11))
        assert command is not None and command.outcome == Outcome.COMMAND
        assert _status(app, "DIV02", bkk(2026, 11, 20, 11)) == "on_time"
        [answer] = _outbox(app, "staff")
        text = plain_text(answer)
        assert "ดำเนินการแล้ว" in text and "DIV02" in text and "รอเจ้าหน้าที่ตรวจสอบ → ส่งครบถ้วนและตรงเวลา" in text
        assert answer.recipients == [CLERK] and "ขอบคุณครับ" in text  # the ignored line is shown back
    # 3. The digest: the clerk excuses one unit and records another's paper report, one line wrong.
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        _reply(app, digest, "ยกเว้น HPC02 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร\n"
                            "รับทางกระดาษ HPC03 ไม่มีข้อร้องเรียน รับเมื่อ 20 พ.ย. 2569\n"
                            "ยกเว้น HPC99 พฤศจิกายน 2569 เหตุผล ไม่มีหน่วยงานนี้",
               bkk(2026, 11, 26, 9), attachments=[("scan.pdf", b"%PDF-1.4 scanned paper")])
        as_of = bkk(2026, 11, 26, 9)
        assert _status(app, "HPC02", as_of) == "exempt" and _status(app, "HPC03", as_of) == "on_time"
        answer = _outbox(app, "staff")[-1]
        text = plain_text(answer)
        assert "ไม่พบหน่วยงานรหัส HPC99" in text and "บรรทัดที่ 3" in text
        assert "ไม่ได้ส่งรายงาน → ได้รับการยกเว้น" in text  # HPC02: missing after the 25th, now exempt
        with app.sessions() as s:
            actions = s.scalars(select(Action).order_by(Action.id)).all()
            assert [(a.kind, a.unit_code, a.actor) for a in actions] == [
                ("resolve", "DIV02", CLERK), ("exempt", "HPC02", CLERK), ("record", "HPC03", CLERK)]
            paper = s.scalar(select(Submission).where(Submission.unit_code == "HPC03"))
            assert paper is not None and paper.channel == "paper"
            original = s.get(InboundMessage, paper.inbound_id)
            assert original is not None and b"scan.pdf" in original.raw  # the scan is kept as the original
            # ... and it is in the unit's evidence pack (the scan alone: the clerk's mail also excused HPC02).
            pack = tmp_path / "hpc03.zip"
            build_evidence(app, app.registry.get("HPC03"), 2570, as_of, pack)
            with zipfile.ZipFile(pack) as zf:
                scans = [n for n in zf.namelist() if n.startswith("originals/2026-11/") and n.endswith("scan.pdf")]
                assert len(scans) == 1 and zf.read(scans[0]) == b"%PDF-1.4 scanned paper"
                assert not [n for n in zf.namelist() if n.startswith("originals/") and n.endswith(".eml")]
            exempt_ref = f"A-{actions[1].id}"
        assert verify_evidence(pack) == []
        assert f"ยกเลิก {exempt_ref}" in text
        # The digest, the status JSON and the scores show each action.
        with app.sessions() as s:
            data = digest_data(app, s, NOV, as_of)
            assert {u.code: u.status for u in data.units}["HPC02"] == "exempt"
            assert [(k, who) for _, k, _, _, who, _ in data.actions] == [
                ("resolve", CLERK), ("exempt", CLERK), ("record", CLERK)]
            _, _, results = scores(app, s, 2570, as_of)
            assert {r.unit: r.exempt for r in results}["HPC02"] == 1
    # 4. Undo by replying to the answer: HPC02 is missing again.
    with time_machine.travel(bkk(2026, 11, 26, 10), tick=False):
        _reply(app, answer, f"ยกเลิก {exempt_ref}", bkk(2026, 11, 26, 10))
        assert _status(app, "HPC02", bkk(2026, 11, 26, 10)) == "missing"
        assert "ได้รับการยกเว้น → ไม่ได้ส่งรายงาน" in plain_text(_outbox(app, "staff")[-1])
        _reply(app, answer, f"ยกเลิก {exempt_ref}", bkk(2026, 11, 26, 10, 5))  # twice: refused, nothing changes
        assert "ถูกยกเลิกไปแล้ว" in plain_text(_outbox(app, "staff")[-1])


def test_forged_not_a_reply_and_not_staff_change_nothing(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        before = _state(app)
        words = "ยกเว้น HPC02 พฤศจิกายน 2569 เหตุผล ปลอม"
        forged = _reply(app, digest, words, bkk(2026, 11, 26, 9, 1), auth=False)  # a forged From: no vouching
        stranger = _reply(app, digest, words, bkk(2026, 11, 26, 9, 2), sender=f"hpc01@{DOMAIN}")  # not staff
        fresh = process_one(app, Fetched(raw=_authenticated(make_mail(  # staff, but not a reply to the bot
            sender=CLERK, to=SECRETARIAT, subject="คำสั่ง", body=words, date_=bkk(2026, 11, 26, 9, 3))),
            arrived_at=bkk(2026, 11, 26, 9, 3)))
        raw = make_mail(sender=CLERK, to=SECRETARIAT, subject="Re: สรุป", body=words, date_=bkk(2026, 11, 26, 9, 4),
                        headers={"In-Reply-To": f"<cr.digest.-.2026-11.{'0' * 12}.{'0' * 16}@{DOMAIN}>"})
        unsigned = process_one(app, Fetched(raw=_authenticated(raw), arrived_at=bkk(2026, 11, 26, 9, 4)))  # forged ID
        disguised = process_one(app, Fetched(raw=_authenticated(make_mail(  # a From naming two senders
            sender=f"{CLERK}, boss@evil.example", to=SECRETARIAT, subject="Re: สรุป", body=words,
            date_=bkk(2026, 11, 26, 9, 5), headers={"In-Reply-To": digest.message_id})),
            arrived_at=bkk(2026, 11, 26, 9, 5)))
        assert disguised is not None and disguised.outcome != Outcome.COMMAND
        for result in (forged, stranger, fresh, unsigned):
            assert result is not None and result.outcome == Outcome.COMMAND_REFUSED
        assert _state(app)[:3] == before[:3] and _outbox(app, "staff") == []
        assert _status(app, "HPC02", bkk(2026, 11, 26, 9, 5)) == "missing"
        with app.sessions() as s:  # the next digest lists the attempts
            refused = digest_data(app, s, NOV, bkk(2026, 11, 26, 10)).refused
        assert [who for _, who, _ in refused] == [CLERK, f"hpc01@{DOMAIN}", CLERK, CLERK, ""]  # "": no one sender


def test_without_authserv_staff_commands_are_refused(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, STAFF_EMAILS=CLERK)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        result = _reply(app, digest, "ยกเว้น HPC02 พ.ย. 69 เหตุผล x", bkk(2026, 11, 26, 9, 1))
        assert result is not None and "TRUSTED_AUTHSERV_ID" in result.reason and _outbox(app, "staff") == []


def test_commands_are_rate_limited_per_staff_address(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url, STAFF_COMMANDS_PER_HOUR="2")
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        for i, code in enumerate(("HPC01", "HPC02", "HPC03")):
            _reply(app, digest, f"ยกเว้น {code} พ.ย. 69 เหตุผล ทดสอบ", bkk(2026, 11, 26, 9, i))
        assert len(_outbox(app, "staff")) == 2
        with app.sessions() as s:
            assert sorted(s.scalars(select(Exemption.unit_code))) == ["HPC01", "HPC02"]


def test_a_line_that_fails_leaves_the_others_done(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        _reply(app, digest, "ยกเว้น HPC01 พ.ย. 69 เหตุผล หนึ่ง\nยกเว้น HPC01 พ.ย. 69 เหตุผล ซ้ำ\n"
                            "รับทางกระดาษ HPC02 รับเมื่อ 20 พ.ย. 2569\nยกเว้น HPC03 พ.ย. 69 เหตุผล สาม",
               bkk(2026, 11, 26, 9, 1), attachments=forms("ศูนย์อนามัยที่ 2", NOV, sample_cases(NOV, 2)))
        text = plain_text(_outbox(app, "staff")[-1])
        with app.sessions() as s:
            assert sorted(s.scalars(select(Exemption.unit_code))) == ["HPC01", "HPC03"]
        assert "ได้รับการยกเว้นประจำเดือนพฤศจิกายน 2569อยู่แล้ว" in text
        assert text.count("ดำเนินการแล้ว") >= 2


def _codes_left(text: str) -> list[str]:
    """What a person should never read in a mail: months as YYYY-MM, action and problem codes."""
    import re

    return re.findall(r"\b20\d\d-\d\d\b|\((?:exempt|record|resolve|dismiss|reprocess|undo)\)|\b[a-z]+_[a-z_0-9]+\b", text)


def test_a_clerks_month_by_mail_reads_in_thai_and_the_digest_says_how_to_answer(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """Digest -> a reply with several actions -> undo -> the next digest: every mail in Thai, months in the
    Buddhist Era; the digest lists its reply words (each example line is understood) and each message waiting
    for review with its number and a suggested line."""
    app = _app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 20, 10), tick=False):
        waiting = _shared_address_report(app)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        text = plain_text(digest)
        assert f"#{waiting.inbound_id} จาก central[at]{DOMAIN}" in text  # quoted sender text is defanged
        assert f"ตอบกลับด้วย: #{waiting.inbound_id} DIV01" in text  # the sender's first unit, suggested
        examples = text.split("บรรทัดละหนึ่งคำสั่ง")[1].split("ระบบจะตอบกลับ")[0].strip().splitlines()[1:]
        lines = [line.split("   (")[0].strip().replace("#เลขที่", f"#{waiting.inbound_id}") for line in examples]
        assert len(lines) == 5
        for line in lines:
            parsed = _parse(line)
            assert len(parsed.commands) == 1 and parsed.errors == [], (line, parsed)
        _reply(app, digest, "ยกเว้น HPC02 เหตุผล ปิดปรับปรุงอาคาร\n"
                            "รับทางกระดาษ HPC03 ไม่มีข้อร้องเรียน รับเมื่อ 20 พ.ย. 2569", bkk(2026, 11, 26, 9, 5))
        answer = _outbox(app, "staff")[-1]
        with app.sessions() as s:
            record = s.scalars(select(Action).where(Action.kind == "record")).one()
        _reply(app, answer, f"ยกเลิก A-{record.id}", bkk(2026, 11, 26, 9, 10))
        undone = _outbox(app, "staff")[-1]
        send_digest(app, NOV, bkk(2026, 11, 26, 9, 20), "digest:2026-11:again")
        again = _outbox(app, "digest")[-1]
    for mail in (digest, answer, undone, again):
        assert _codes_left(plain_text(mail)) == [], (mail.kind, _codes_left(plain_text(mail)))
    assert "บันทึกรายงานที่ได้รับทางกระดาษ" in plain_text(undone), plain_text(undone)  # what was undone, in words
    assert "พฤศจิกายน 2569" in plain_text(again) and "ยกเลิก A-" in plain_text(again)


def test_exempting_a_unit_that_reported_late_says_so_and_what_the_score_was_and_becomes(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = _app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 8), tick=False):
        late = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ไม่มีข้อร้องเรียน",
                         date_=bkk(2026, 11, 26, 8))
        process_one(app, Fetched(raw=_authenticated(late), arrived_at=bkk(2026, 11, 26, 8)))
        on_time = make_mail(sender=f"hpc02@{DOMAIN}", to=SECRETARIAT, subject="รายงาน ต.ค. 69", body="ไม่มีข้อร้องเรียน",
                            date_=bkk(2026, 10, 20, 8))
        process_one(app, Fetched(raw=_authenticated(on_time), arrived_at=bkk(2026, 10, 20, 8)))
        assert _status(app, "HPC01", bkk(2026, 11, 26, 8)) == "late"
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        [digest] = _outbox(app, "digest")
        _reply(app, digest, "ยกเว้น HPC01 เหตุผล ระบบอีเมลของหน่วยงานขัดข้อง", bkk(2026, 11, 26, 9, 5))
        text = plain_text(_outbox(app, "staff")[-1])
    assert "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด → ได้รับการยกเว้น" in text
    assert "หน่วยงานนี้ส่งรายงานเดือนนี้แล้วแต่ล่าช้า" in text
    # The bot collects from October (the first message it stored): HPC01 missed October and was late in November,
    # (0 + 0.5) / 2 months = 2.5 points before; November exempt, 0 / 1 after.
    assert "คะแนนปีงบประมาณ 2570: 2.5 → 0" in text, text
