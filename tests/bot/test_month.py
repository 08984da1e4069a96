"""A month simulated end to end against Dovecot and aiosmtpd: reminders, replies, bounces, late and missing
units, overdue notices, the digest on the 26th (its workbook checked cell by cell), a restart that sends
nothing twice, and a digest asked for by mail."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from email.message import EmailMessage

import pytest
from openpyxl import load_workbook

from bot.cycle import run_cycle
from intake.forms import read_forms
from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox, poll_once
from bot.reporting import scores, status_report
from intake.decisions import exempt
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk

pytestmark = pytest.mark.imap
NOV = Period(2026, 11)
UNITS = "code,name,senders,contacts,active\n" + "".join(
    f"U{i:02d},หน่วยงานที่ {i},u{i:02d}@{DOMAIN},{'c05@' + DOMAIN if i == 5 else ''},yes\n" for i in range(1, 21))
BOSS = f"chief@{DOMAIN}"
CLERK = f"clerk@{DOMAIN}"
OURS = "mx.anamai.example.go.th"


def kind_of(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).split(".")[1]  # <cr.KIND.UNIT.PERIOD.nonce.sig@domain>


class Month:
    def __init__(self, dovecot, user, smtp, app) -> None:  # type: ignore[no-untyped-def]
        self.dovecot, self.user, self.smtp, self.app = dovecot, user, smtp, app
        self.seen = 0

    def deliver(self, raw: bytes, when: datetime) -> None:
        self.dovecot.append(self.user, raw, when)

    def send(self, sender: str, when: datetime, body: str, subject: str = "รายงานข้อร้องเรียน", *,  # type: ignore[no-untyped-def]
             vouched: bool = False, **kw) -> None:
        raw = make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=when, **kw)
        if vouched:  # our receiving server's verdict, on top as an MTA adds it
            raw = f"Authentication-Results: {OURS}; dmarc=pass header.from={DOMAIN}\r\n".encode() + raw
        self.deliver(raw, when)

    def reply(self, original: EmailMessage, sender: str, when: datetime, body: str, **kw) -> None:  # type: ignore[no-untyped-def]
        quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
        text = f"{body}\n\nเมื่อ {when:%d/%m/%Y} สำนักงานเลขานุการกรม <{SECRETARIAT}> เขียนว่า:\n{quoted}"
        headers = {"In-Reply-To": original["Message-ID"], "References": original["Message-ID"]}
        self.send(sender, when, text, subject="Re: " + str(original["Subject"]), headers=headers, **kw)

    def tick(self, as_of: datetime) -> list[EmailMessage]:
        """What the worker does at a moment: read mail, run the cycle, deliver. Returns the new mail out."""
        source = self.app.source()
        poll_once(self.app, source)
        source.close()
        run_cycle(self.app, as_of)
        flush_outbox(self.app)
        new = [m.message for m in self.smtp.handler.messages[self.seen:]]
        self.seen = len(self.smtp.handler.messages)
        return new

    def status(self, as_of: datetime) -> dict[str, str]:
        return {u["unit"]: u["status"] for u in status_report(self.app, NOV, as_of)["units"]}


def _by_unit(mails: list[EmailMessage], kind: str) -> dict[str, EmailMessage]:
    return {str(m["Message-ID"]).split(".")[2]: m for m in mails if kind_of(m) == kind}


def test_a_month(dovecot, imap_user, smtp, db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    env = dict(MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url, DIGEST_TO=f"{SECRETARIAT},{BOSS}")
    month = Month(dovecot, imap_user, smtp, make_app(db_url, **env))

    # Early birds: a complete report and a nil report by text.
    month.send("u01@" + DOMAIN, bkk(2026, 11, 5, 10), "ส่งรายงานครับ",
               attachments=forms("หน่วยงานที่ 1", NOV, sample_cases(NOV, 3)))
    month.send("u02@" + DOMAIN, bkk(2026, 11, 6, 10), "ไม่มีข้อร้องเรียนครับ")
    out = month.tick(bkk(2026, 11, 10, 9))
    assert Counter(kind_of(m) for m in out) == {"receipt": 2}

    # 18 November 09:00, seven days before the deadline: a reminder to each of the 18 others.
    out = month.tick(bkk(2026, 11, 18, 9, 0))
    reminders = _by_unit(out, "reminder")
    assert sorted(reminders) == [f"U{i:02d}" for i in range(3, 21)]
    assert reminders["U05"]["To"] == f"c05@{DOMAIN}"
    assert "[CR-2569-11]" in reminders["U03"]["Subject"] and reminders["U03"]["Auto-Submitted"] == "auto-generated"
    assert "25 พฤศจิกายน 2569" in reminders["U03"].get_body(("plain",)).get_content()
    # The blank forms travel with every reminder (the same files as `complaint-bot template`), readable as forms.
    attached = {a.get_filename(): a.get_content() for a in reminders["U03"].iter_attachments()}
    assert sorted(attached) == ["Complaint_01.xlsx", "Complaint_02.xlsx"]
    assert [f.form for f in read_forms("Complaint_01.xlsx", attached["Complaint_01.xlsx"])] == ["complaint_01"]
    assert month.tick(bkk(2026, 11, 18, 9, 5)) == []  # the job runs again: nothing twice

    # Replies to reminders: nil by text (the quoted reminder says "ไม่มีข้อร้องเรียน" too), forms attached,
    # and U05's contact address (not a sender) replying on its behalf. U06's address bounces.
    month.reply(reminders["U03"], f"u03@{DOMAIN}", bkk(2026, 11, 18, 10), "ไม่มีข้อร้องเรียนครับ")
    month.reply(reminders["U04"], f"u04@{DOMAIN}", bkk(2026, 11, 18, 11), "แนบรายงานค่ะ",
                attachments=forms("หน่วยงานที่ 4", None, sample_cases(NOV, 2)))
    month.reply(reminders["U05"], f"c05@{DOMAIN}", bkk(2026, 11, 18, 12), "ไม่มีข้อร้องเรียน")
    month.reply(reminders["U12"], f"u12@{DOMAIN}", bkk(2026, 11, 18, 13), "รับทราบครับ จะส่งภายในสัปดาห์นี้")
    month.deliver(_bounce(f"u06@{DOMAIN}", str(reminders["U06"]["Message-ID"])), bkk(2026, 11, 18, 9, 1))
    month.send(f"u07@{DOMAIN}", bkk(2026, 11, 20, 10), "ส่ง 01 ก่อน",
               attachments=forms("หน่วยงานที่ 7", NOV, sample_cases(NOV, 2), c02=False))
    out = month.tick(bkk(2026, 11, 20, 11))
    receipts = _by_unit(out, "receipt")
    assert sorted(receipts) == ["U03", "U04", "U05", "U07", "U12"]  # nothing back to the bounce
    assert "ไม่พบรายงาน" in receipts["U12"]["Subject"]
    status = month.status(bkk(2026, 11, 20, 12))
    assert [status[u] for u in ("U03", "U04", "U05", "U07", "U12")] == [
        "on_time", "on_time", "on_time", "incomplete", "pending"]

    # A restart between the two reminders: a new process on the same database sends nothing again.
    # (The old worker stops as `run` does on SIGTERM, releasing its mailbox lease.)
    from intake.lease import release

    with month.app.sessions.begin() as s:
        release(s, month.app.source().name, month.app.worker_id)
    month.app = make_app(db_url, **env)
    assert month.tick(bkk(2026, 11, 20, 12)) == []

    # 23 November 09:00, two days before: reminders to those still pending or incomplete.
    out = month.tick(bkk(2026, 11, 23, 9))
    second = _by_unit(out, "reminder")
    assert sorted(second) == ["U06", "U07"] + [f"U{i:02d}" for i in range(8, 21)]
    assert "Complaint_02" in second["U07"].get_body(("plain",)).get_content()

    # The deadline: 23:59:59 is on time, midnight is late.
    month.send(f"u08@{DOMAIN}", bkk(2026, 11, 25, 23, 59, 59), "ไม่มีข้อร้องเรียน")
    month.send(f"u09@{DOMAIN}", bkk(2026, 11, 26, 0, 0, 0), "ไม่มีข้อร้องเรียน")
    with month.app.sessions.begin() as s:
        exempt(s, month.app.registry.get("U11"), NOV, "ปิดปรับปรุงสำนักงานทั้งเดือน", "สลก.", bkk(2026, 11, 24))

    # 26 November 08:00: the digest; 09:00: overdue notices to the missing and the incomplete.
    out = month.tick(bkk(2026, 11, 26, 8, 0))
    [digest] = [m for m in out if kind_of(m) == "digest"]
    assert sorted(a.strip() for a in digest["To"].split(",")) == sorted([SECRETARIAT, BOSS])
    _check_digest_workbook(digest)
    out = month.tick(bkk(2026, 11, 26, 9, 0))
    overdue = _by_unit(out, "overdue")
    assert sorted(overdue) == ["U06", "U07", "U10"] + [f"U{i:02d}" for i in range(12, 21)]
    assert month.tick(bkk(2026, 11, 26, 15, 0)) == []

    # A late reply to the overdue notice, and the chief asks for the current digest by mail.
    month.reply(overdue["U10"], f"u10@{DOMAIN}", bkk(2026, 11, 27, 9), "ไม่มีข้อร้องเรียน ขออภัยที่ล่าช้า")
    month.send(BOSS, bkk(2026, 11, 27, 10), "ขอสถานะล่าสุด", subject="สถานะ")
    out = month.tick(bkk(2026, 11, 27, 11))
    assert Counter(kind_of(m) for m in out) == {"receipt": 1, "digest": 1}
    [asked] = [m for m in out if kind_of(m) == "digest"]
    assert asked["To"] == BOSS and asked["In-Reply-To"]
    body = asked.get_body(("plain",)).get_content()
    assert "U10" in body and "ไม่ได้ส่งรายงาน → ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด" in body  # changed since the last

    final = month.status(bkk(2026, 11, 30))
    assert final["U08"] == "on_time" and final["U09"] == "late" and final["U10"] == "late"
    assert final["U11"] == "exempt" and final["U06"] == "missing" and final["U07"] == "incomplete"


def test_the_secretariat_works_by_replying(dovecot, imap_user, smtp, db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A clerk settles a shared-address message, excuses a unit and records a paper report only by replying;
    the digest, the status JSON and the scores show each; a forged From and a non-reply change nothing."""
    shared = f"shared@{DOMAIN}"
    (tmp_path / "units.csv").write_text(UNITS.replace(f"u19@{DOMAIN}", shared).replace(f"u20@{DOMAIN}", shared),
                                        encoding="utf-8")
    env = dict(MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url, DIGEST_TO=f"{SECRETARIAT},{CLERK}",
               STAFF_EMAILS=CLERK, TRUSTED_AUTHSERV_ID=OURS)
    month = Month(dovecot, imap_user, smtp, make_app(db_url, **env))

    # A shared address sends a nil report naming no unit: it waits for a person, and the clerk is told.
    month.send(shared, bkk(2026, 11, 20, 10), "ไม่มีข้อร้องเรียนครับ", subject="รายงาน พ.ย. 69", vouched=True)
    out = month.tick(bkk(2026, 11, 20, 10, 5))
    [alert] = [m for m in out if kind_of(m) == "review"]
    assert alert["To"] == CLERK and "U19" in alert.get_body(("plain",)).get_content()
    assert month.status(bkk(2026, 11, 20, 11))["U20"] == "needs_review"

    # The clerk answers the alert with the unit's code (the alert quoted below, as a mail client does).
    month.reply(alert, CLERK, bkk(2026, 11, 20, 11), "U20", vouched=True)
    out = month.tick(bkk(2026, 11, 20, 11, 5))
    answers = [m for m in out if kind_of(m) == "staff"]
    assert [a["To"] for a in answers] == [CLERK] and answers[0]["In-Reply-To"]
    assert "รอเจ้าหน้าที่ตรวจสอบ → ส่งครบถ้วนและตรงเวลา" in answers[0].get_body(("plain",)).get_content()
    assert [m["To"] for m in out if kind_of(m) == "receipt"] == [shared]  # the unit hears it counted
    assert month.status(bkk(2026, 11, 20, 12))["U20"] == "on_time"

    # The digest on the 26th; the clerk replies: excuse U07, record U08's paper report with its scan.
    out = month.tick(bkk(2026, 11, 26, 8, 0))
    [digest] = [m for m in out if kind_of(m) == "digest"]
    scan = ("memo-U08.pdf", b"%PDF-1.4 a scanned paper memo")
    month.reply(digest, CLERK, bkk(2026, 11, 26, 10), "ยกเว้น U07 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร\n"
                "รับทางกระดาษ U08 ไม่มีข้อร้องเรียน รับเมื่อ 20 พ.ย. 2569", vouched=True, attachments=[scan])
    # A forged From (no vouching) and the clerk writing afresh (not a reply) try the same on U09.
    month.reply(digest, CLERK, bkk(2026, 11, 26, 10, 1), "ยกเว้น U09 พฤศจิกายน 2569 เหตุผล ปลอม")
    month.send(CLERK, bkk(2026, 11, 26, 10, 2), "ยกเว้น U09 พฤศจิกายน 2569 เหตุผล ไม่ได้ตอบกลับ", vouched=True)
    out = month.tick(bkk(2026, 11, 26, 10, 5))
    [answer] = [m for m in out if kind_of(m) == "staff"]
    text = answer.get_body(("plain",)).get_content()
    assert "ไม่ได้ส่งรายงาน → ได้รับการยกเว้น" in text and "ไม่ได้ส่งรายงาน → ส่งครบถ้วนและตรงเวลา" in text
    status = month.status(bkk(2026, 11, 26, 11))
    assert (status["U07"], status["U08"], status["U09"]) == ("exempt", "on_time", "missing")
    with month.app.sessions() as s:
        _, _, results = scores(month.app, s, 2570, bkk(2026, 11, 30))
    by_unit = {r.unit: r for r in results}
    assert by_unit["U07"].exempt == 1 and by_unit["U08"].on_time == 1 and by_unit["U09"].missing == 1

    # The clerk asks for the digest by mail: the actions, by the clerk's address, and the refused attempts.
    month.send(CLERK, bkk(2026, 11, 27, 9), "ขอสถานะล่าสุด", subject="สถานะ", vouched=True)
    out = month.tick(bkk(2026, 11, 27, 9, 5))
    [asked] = [m for m in out if kind_of(m) == "digest"]
    body = asked.get_body(("plain",)).get_content()
    assert "ยกเว้นการส่งรายงาน U07" in body and f"โดย {CLERK}" in body
    assert body.count(f"จาก {CLERK}") == 2  # the forged reply and the non-reply, listed, not done
    workbook = next(a for a in asked.iter_attachments() if str(a.get_filename()).endswith(".xlsx")).get_content()
    actions = load_workbook(io.BytesIO(workbook))["การดำเนินการ"]
    kinds = [actions.cell(row=r, column=2).value for r in range(3, actions.max_row + 1)]
    assert kinds.count("ไม่รับคำสั่งทางอีเมล") == 2 and "บันทึกรายงานที่ได้รับทางกระดาษ" in kinds


def _bounce(recipient: str, original_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"MAILER-DAEMON@{DOMAIN}", SECRETARIAT
    msg["Subject"], msg["Date"] = "Undelivered Mail Returned to Sender", "Wed, 18 Nov 2026 09:01:00 +0700"
    msg.set_content("This is the mail system. Your message could not be delivered.")
    msg.add_attachment(f"Reporting-MTA: dns; mx.{DOMAIN}\n\nFinal-Recipient: rfc822; {recipient}\n"
                       "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n",
                       subtype="delivery-status")
    msg.add_attachment(f"Message-ID: {original_id}\nSubject: reminder\n", subtype="rfc822-headers")
    msg.replace_header("Content-Type", str(msg["Content-Type"]).replace("multipart/mixed", "multipart/report"))
    return msg.as_bytes()


def _check_digest_workbook(digest: EmailMessage) -> None:
    [att] = list(digest.iter_attachments())
    assert att.get_filename() == "complaint-digest-2569-11.xlsx"
    wb = load_workbook(io.BytesIO(att.get_content()))
    assert wb.sheetnames == ["สรุป", "สถานะหน่วยงาน", "รายการเรื่อง", "ปีงบประมาณ 2570", "ปัญหา", "การดำเนินการ"]

    summary = wb["สรุป"]
    assert summary["A1"].value == "สรุปการส่งรายงานการจัดการข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569"
    assert summary["A2"].value == "กำหนดส่ง 25 พฤศจิกายน 2569 เวลา 23.59 น."
    assert summary["A1"].font.name == "TH Sarabun New"
    counts = {summary.cell(row=r, column=1).value: summary.cell(row=r, column=2).value for r in range(6, 13)}
    # on time: U01-U05, U08; late: U09; exempt: U11; incomplete: U07; missing: U06, U10, U12-U20.
    assert counts == {"ส่งครบถ้วนและตรงเวลา": 6, "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด": 1, "ไม่ได้ส่งรายงาน": 11,
                      "ยังไม่ครบถ้วน": 1, "รอเจ้าหน้าที่ตรวจสอบ": 0, "ยังไม่ได้รับรายงาน": 0, "ได้รับการยกเว้น": 1}
    assert summary["A13"].value == "รวม" and summary["B13"].value == 20
    unreachable = [summary.cell(row=r, column=1).value for r in range(14, summary.max_row + 1)]
    assert "u06@anamai.example.go.th" in unreachable

    units = wb["สถานะหน่วยงาน"]
    assert units.freeze_panes == "A3" and units.auto_filter.ref == "A2:J22"
    assert [c.value for c in units[2]][:5] == ["รหัส", "หน่วยงาน", "สถานะ", "ประเภทรายงาน", "วันเวลาที่ครบถ้วน"]
    row = {units.cell(row=r, column=1).value: [c.value for c in units[r]] for r in range(3, 23)}
    assert row["U01"][2:5] == ["ส่งครบถ้วนและตรงเวลา", "มีเรื่อง", "5 พฤศจิกายน 2569 เวลา 10.00 น."]
    assert row["U01"][5:9] == [1, 1, 0, 1]
    assert row["U09"][2] == "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด"
    assert row["U11"][2] == "ได้รับการยกเว้น"
    assert units.cell(row=3, column=3).fill.fgColor.rgb.endswith("C6EFCE")  # on time is green

    cases = wb["รายการเรื่อง"]
    rows = [[c.value for c in r] for r in cases.iter_rows(min_row=3)]
    assert len(rows) == 3 + 2  # U01's three cases and U04's two
    first = rows[0]
    assert first[:8] == ["U01", "หน่วยงานที่ 1", "พฤศจิกายน 2569", "1", datetime(2026, 11, 3), "โทรศัพท์", "ข้อร้องเรียน",
                         "ร้องเรียนเสียงดังจากสถานประกอบการ"]
    # A real date (sortable, filterable) shown in the Buddhist Era: 3/11/2569.
    assert cases.cell(row=3, column=5).number_format == "[$-107041E]d/m/yyyy"
    assert first[8] == "นายส**** ใ***"  # the complainant is masked
    assert all(not str(v).startswith(("=", "+", "-", "@")) for r in rows for v in r if v)

    fy = wb["ปีงบประมาณ 2570"]
    assert [c.value for c in fy[2]][:4] == ["รหัส", "หน่วยงาน", "ต.ค. 69", "พ.ย. 69"]
    # October came before the bot stored its first message (START_PERIOD unset): not scored, not "missing".
    assert fy["D3"].value == "ตรงเวลา" and fy["C3"].value is None
    assert len(fy._charts) == 1

    actions = wb["การดำเนินการ"]
    assert [actions.cell(row=3, column=c).value for c in (2, 3, 5, 6)] == [
        "ยกเว้นการส่งรายงาน", "U11", "สลก.", "ปิดปรับปรุงสำนักงานทั้งเดือน"]
