"""The golden corpus: realistic unit e-mails with their expected readings, written by hand.

`python -m tests.corpus` (re)writes `tests/data/NAME.eml` and `NAME.expected.json`. The expectations
below are stated here, not computed by the code under test; the .eml files are committed.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

from bot.samples import counts_of, forms, make_mail, sample_cases
from config.msgid import make_message_id
from mailer.blank_forms import complaint_02
from scoring.periods import Period
from tests.conftest import BKK, DOMAIN, SECRETARIAT

DATA = Path(__file__).parent / "data"
NOV, OCT = Period(2026, 11), Period(2026, 10)
SECRET = "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6"  # the SECRET_KEY the tests' apps use
ARRIVE = datetime(2026, 11, 10, 10, 0, tzinfo=BKK)
CASES: dict[str, tuple[bytes, dict]] = {}


def case(name: str, expected: dict, arrived: datetime = ARRIVE,
         needs_ocr: bool = False) -> Callable[[Callable[[], bytes]], None]:
    def register(build: Callable[[], bytes]) -> None:
        CASES[name] = (build(), {"arrived_at": arrived.isoformat(), "needs_ocr": needs_ocr, **expected})
    return register


def mail(sender: str, subject: str, body: str, **kw: object) -> bytes:
    return make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=ARRIVE, **kw)  # type: ignore[arg-type]


U1, U2 = f"hpc01@{DOMAIN}", f"hpc02@{DOMAIN}"
NAME1 = "ศูนย์อนามัยที่ 1 เชียงใหม่"
SUBJ = "ส่งรายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569"


def report(unit: str | None, period: str | None, rule: str, *, c01: int | None = None, c02: int | None = None,
           nil: bool = False, problems: list[str] | None = None, status: str | None = None,
           kind: str | None = None, outcome: str = "report", reply: str | None = "report") -> dict:
    return {"outcome": outcome, "unit": unit, "period": period, "period_rule": rule, "c01_rows": c01,
            "c02_total": c02, "nil": nil, "problems": sorted(problems or []), "status": status, "kind": kind,
            "reply": reply}


def aside(reply: str | None = None, unit: str | None = None) -> dict:
    return {"outcome": "set_aside", "unit": unit, "reply": reply}


def held() -> dict:
    """Not from any unit (its From cannot be trusted): nothing read or counted, nobody answered, a person looks."""
    return {"outcome": "needs_review", "unit": None, "reply": None, "held": True}


# --- Complete reports ------------------------------------------------------------------------------

case("canonical_c01_c02", report("HPC01", "2026-11", "form", c01=3, c02=3, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "เรียน สลก.\nขอส่งรายงานครับ", attachments=forms(NAME1, NOV, sample_cases(NOV, 3))))

case("nil_text_thai", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "รายงานข้อร้องเรียน", "เรียน สำนักงานเลขานุการกรม\n\nเดือนนี้ไม่มีข้อร้องเรียนครับ\n\nขอบคุณครับ"))

case("nil_c02_zero", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(U1, "ส่ง Complaint_02", "ไม่มีเรื่องครับ แนบแบบ 02",
                 attachments=[("Complaint_02.xlsx", complaint_02(NAME1, NOV, {}))]))


@case("nil_windows874_outlook", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))
def _() -> bytes:
    msg = MIMEText("ศูนย์อนามัยที่ 1 ขอรายงานว่า ประจำเดือนพฤศจิกายน 2569 ไม่มีข้อร้องเรียน", "plain", "cp874")
    del msg["Content-Type"]
    msg["Content-Type"] = 'text/plain; charset="windows-874"'
    msg["From"] = U1
    msg["To"] = SECRETARIAT
    msg["Subject"] = Header("รายงานข้อร้องเรียน", "cp874").encode().replace("cp874", "windows-874")
    msg["Date"] = format_datetime(ARRIVE)
    msg["Message-ID"] = "<outlook-874@anamai.example.go.th>"
    return msg.as_bytes()


@case("nil_html_only_gmail", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))
def _() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = U1, SECRETARIAT, "Re: รายงาน"
    msg["Date"] = format_datetime(ARRIVE)
    msg.set_content("<div dir='ltr'>ไม่มีข้อร้องเรียนค่ะ</div><div class='gmail_quote'>เมื่อ ... เขียนว่า:"
                    "<blockquote>โปรดส่งรายงาน</blockquote></div>", subtype="html")
    return msg.as_bytes()


@case("reply_to_reminder_nil", report("HPC01", "2026-10", "reply", nil=True, status="late", kind="nil"),
      arrived=datetime(2026, 11, 2, 9, 0, tzinfo=BKK))
def _() -> bytes:
    rid = make_message_id(SECRET, DOMAIN, "overdue", "HPC01", "2026-10", "overdue:HPC01:2026-10")
    return mail(U1, "Re: แจ้งเตือน: ยังไม่ได้รับรายงาน", "ไม่มีข้อร้องเรียนครับ ขออภัยที่ล่าช้า\n\n"
                "เมื่อ 26 ต.ค. 2569 สลก. <saraban@anamai.example.go.th> เขียนว่า:\n> กรุณาส่งรายงาน",
                headers={"In-Reply-To": rid, "References": rid})


case("subject_tag_only", report("HPC01", "2026-10", "reply", nil=True, status="late", kind="nil"),
     arrived=datetime(2026, 11, 3, 9, 0, tzinfo=BKK))(
    lambda: mail(U1, "RE: [CR-2569-10] แจ้งเตือนการส่งรายงาน", "ไม่มีข้อร้องเรียนครับ"))


@case("forged_reply_id_ignored", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"),
      arrived=datetime(2026, 11, 3, 9, 0, tzinfo=BKK))
def _() -> bytes:
    forged = make_message_id("not-our-secret", DOMAIN, "reminder", "HPC01", "2026-09", "x")
    return mail(U1, "Re: แจ้งเตือน", "ไม่มีข้อร้องเรียนครับ", headers={"In-Reply-To": forged})


case("after_deadline_no_period", report("HPC01", "2026-11", "arrival_late", nil=True, status="late", kind="nil"),
     arrived=datetime(2026, 11, 27, 9, 0, tzinfo=BKK))(
    lambda: mail(U1, "รายงาน", "ไม่มีข้อร้องเรียนครับ"))

case("deadline_last_second", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"),
     arrived=datetime(2026, 11, 25, 23, 59, 59, tzinfo=BKK))(
    lambda: mail(U1, "รายงาน", "ไม่มีข้อร้องเรียนครับ"))

case("english_nil", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "Complaint report November 2026", "Dear secretariat, no complaints this month. Regards"))


@case("rfc2231_thai_filenames", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time",
                                        kind="complaints"))
def _() -> bytes:
    cases = sample_cases(NOV, 2)
    files = forms(NAME1, NOV, cases)
    renamed = [("แบบรายงาน_Complaint_01_พย69.xlsx", files[0][1]), ("สรุป_Complaint_02_พย69.xlsx", files[1][1])]
    return mail(U1, SUBJ, "ส่งรายงานค่ะ", attachments=renamed)


@case("zip_with_cp874_names", report("HPC01", "2026-11", "form", c01=3, c02=3, status="on_time", kind="complaints"))
def _() -> bytes:
    from tests.intake.test_documents import cp874_zip

    data = cp874_zip([(f"รายงาน/{n}", d) for n, d in forms(NAME1, NOV, sample_cases(NOV, 3))])
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = U1, SECRETARIAT, SUBJ, format_datetime(ARRIVE)
    msg.set_content("แนบไฟล์ zip ครับ")
    msg.add_attachment(data, maintype="application", subtype="zip", filename="report.zip")
    return msg.as_bytes()


@case("forwarded_message_with_forms", report("HPC01", "2026-11", "form", c01=1, c02=1, status="on_time",
                                              kind="complaints"))
def _() -> bytes:
    inner = make_mail(sender=f"clerk01@{DOMAIN}", to=U1, subject="รายงาน", body="ฝากส่งด้วย", date_=ARRIVE,
                      attachments=forms(NAME1, NOV, sample_cases(NOV, 1)))
    from email import message_from_bytes
    outer_msg = EmailMessage()
    outer_msg["From"], outer_msg["To"], outer_msg["Subject"] = U1, SECRETARIAT, "Fwd: รายงาน"
    outer_msg["Date"] = format_datetime(ARRIVE)
    outer_msg.set_content("ส่งต่อรายงานของเจ้าหน้าที่ครับ")
    outer_msg.add_attachment(message_from_bytes(inner))
    return outer_msg.as_bytes()


# --- Incomplete, problems ------------------------------------------------------------------------

case("c01_only", report("HPC01", "2026-11", "form", c01=3, status="incomplete", problems=["missing_complaint_02"]))(
    lambda: mail(U1, SUBJ, "ส่ง 01 ก่อนครับ", attachments=forms(NAME1, NOV, sample_cases(NOV, 3), c02=False)))

case("totals_mismatch", report("HPC01", "2026-11", "form", c01=3, c02=4, status="on_time", kind="complaints",
                               problems=["totals_mismatch"]))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=forms(NAME1, NOV, sample_cases(NOV, 3), c02_counts={
        "complaint": (2, 1, 1), "suggestion": (1, 0, 1), "compliment": (1, 1, 0)})))

case("corrupt_plus_good", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil",
                                 problems=["unreadable_attachment"]))(
    lambda: mail(U1, SUBJ, "แนบไฟล์", attachments=[("Complaint_01.xlsx", b"PK\x03\x04garbage"),
                                                    ("Complaint_02.xlsx", complaint_02(NAME1, NOV, {}))]))

case("empty_attachment", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil",
                                 problems=["empty_attachment"]))(
    lambda: mail(U1, SUBJ, "ไม่มีข้อร้องเรียนครับ", attachments=[("memo.xlsx", b"")]))

@case("unknown_template", report("HPC01", "2026-11", "text", outcome="no_report", problems=["unknown_template"],
                                 reply="no_report"))
def _() -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(["รายชื่อผู้เข้าประชุม"])
    wb.active.append(["นาย ก", "นาย ข"])
    buf = io.BytesIO()
    wb.save(buf)
    return mail(U1, SUBJ, "ส่งไฟล์ครับ", attachments=[("notes.xlsx", buf.getvalue())])


case("period_conflict", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil",
                               problems=["period_conflict"]))(
    lambda: mail(U1, "รายงานประจำเดือน ต.ค. 69", "แนบแบบ 02",
                 attachments=[("Complaint_02.xlsx", complaint_02(NAME1, NOV, {}))]))

case("unit_conflict", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil",
                             problems=["unit_conflict"]))(
    lambda: mail(U1, SUBJ, "แนบแบบ 02",
                 attachments=[("Complaint_02.xlsx", complaint_02("ศูนย์อนามัยที่ 2 พิษณุโลก", NOV, {}))]))


@case("date_out_of_period", report("HPC01", "2026-11", "form", c01=1, c02=1, status="on_time", kind="complaints",
                                   problems=["date_out_of_period"]))
def _() -> bytes:
    from mailer.blank_forms import Case
    from datetime import date
    cases = [Case(date(2026, 12, 2), "โทรศัพท์", "complaint", "เรื่องเดือนหน้า")]
    return mail(U1, SUBJ, "ส่งรายงาน", attachments=forms(NAME1, NOV, cases, c02_counts=counts_of(cases)))


# --- No report in the message --------------------------------------------------------------------

case("will_send_tomorrow", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "รายงาน", "จะส่งรายงานให้พรุ่งนี้ครับ"))

case("nil_but_suggestions", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "รายงาน", "ไม่มีข้อร้องเรียน แต่มีข้อเสนอแนะ 2 เรื่อง จะส่งแบบฟอร์มตามไปค่ะ"))

case("quoted_reminder_only", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "Re: แจ้งเตือน", "รับทราบครับ\n\nเมื่อ 20 พ.ย. 2569 เวลา 09:00 สลก. <saraban@x> เขียนว่า:\n"
                 "> หากไม่มีข้อร้องเรียน กรุณาตอบกลับว่า ไม่มีข้อร้องเรียน"))

case("broken_pdf", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report",
                          problems=["unreadable_attachment"]))(
    lambda: make_mail(sender=U1, to=SECRETARIAT, subject="บันทึกข้อความ", body="แนบบันทึกข้อความครับ", date_=ARRIVE,
                      attachments=[("memo.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")]))


@case("docx_memo_nil", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))
def _() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"/>')
        zf.writestr("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://'
                    'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>บันทึกข้อความ'
                    '</w:t></w:r></w:p><w:p><w:r><w:t>ศูนย์อนามัยที่ 1 ไม่มีข้อร้องเรียนในเดือนนี้</w:t></w:r></w:p>'
                    '</w:body></w:document>')
    return mail(U1, "บันทึกข้อความ", "แนบบันทึกครับ", attachments=[("บันทึก.docx", buf.getvalue())])


# --- Set aside -----------------------------------------------------------------------------------

case("auto_reply_out_of_office", aside())(lambda: mail(U1, "Automatic reply: รายงาน", "ไม่อยู่ที่สำนักงาน",
                                                       headers={"Auto-Submitted": "auto-replied"}))
case("x_autoreply", aside())(lambda: mail(U1, "Out of office", "ไม่มีข้อร้องเรียน", headers={"X-Autoreply": "yes"}))
case("precedence_bulk", aside())(lambda: mail(U1, "ข่าวสาร", "ไม่มีข้อร้องเรียน", headers={"Precedence": "bulk"}))
case("mailing_list", aside())(lambda: mail(U1, "[list] ข่าว", "ไม่มีข้อร้องเรียน", headers={"List-Id": "<news.x>"}))
case("own_mail", aside())(lambda: mail(SECRETARIAT, "[CR-2569-11] ใบตอบรับ", "ไม่มีข้อร้องเรียน"))
case("unknown_sender_outside", aside())(lambda: mail("someone@gmail.com", "สอบถาม", "ไม่มีข้อร้องเรียน"))
case("unknown_sender_trusted_domain", aside(reply="unknown_sender"))(
    lambda: mail(f"newclerk@{DOMAIN}", SUBJ, "ไม่มีข้อร้องเรียนครับ"))
case("inactive_unit_sender", aside(reply="unknown_sender"))(lambda: mail(f"old01@{DOMAIN}", SUBJ, "ไม่มีข้อร้องเรียน"))
case("display_name_trick", held())(lambda: mail(f'"{U1}" <attacker@evil.example>', SUBJ, "ไม่มีข้อร้องเรียน"))


def _raw_from(from_lines: str) -> bytes:
    """A message with From header(s) written exactly as given (EmailMessage would repair them)."""
    return (f"{from_lines}To: {SECRETARIAT}\r\nSubject: =?utf-8?b?{__import__('base64').b64encode(SUBJ.encode()).decode()}?=\r\n"
            f"Date: {format_datetime(ARRIVE)}\r\nMessage-ID: <forged.{len(from_lines)}@evil.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "ไม่มีข้อร้องเรียนครับ\r\n").encode()


# Python 3.11's parseaddr returns the display part here (CVE-2023-27043): the unit's address.
case("from_unquoted_address_as_display_name", held())(
    lambda: _raw_from(f"From: {U1} <attacker@evil.example>\r\n"))
# Decoding encoded words before parsing the address turned the display name into the unit's address.
case("from_encoded_word_display_name", held())(
    lambda: _raw_from("From: =?utf-8?q?hpc01=40anamai.example.go.th?= <attacker@evil.example>\r\n"))
def _raw_8bit(encoding: str, filename: bool = False) -> bytes:
    """Headers as raw 8-bit bytes (RFC 6532 UTF-8, or cp874 from old Outlook/Thunderbird setups)."""
    subject = "รายงาน" if filename else "ไม่มีข้อร้องเรียน ประจำเดือนตุลาคม 2569"
    body = "ตามแนบครับ" if filename else "เรียน สลก. ตามหัวเรื่องครับ"
    head = (f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: {subject}\r\nDate: {format_datetime(ARRIVE)}\r\n"
            f"Message-ID: <raw.{encoding}.{int(filename)}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n")
    if not filename:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode(encoding) + body.encode() + b"\r\n"
    form = complaint_02(NAME1, None, {})
    import base64
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            'Content-Type: text/plain; charset=utf-8\r\n\r\n').encode(encoding) + body.encode() + (
        '\r\n--b\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; '
        'name="Complaint_02 ต.ค. 69.xlsx"\r\nContent-Disposition: attachment; filename="Complaint_02 ต.ค. 69.xlsx"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n").encode(encoding) + base64.encodebytes(form) + b"\r\n--b--\r\n"


# "ไม่มีข้อร้องเรียน ประจำเดือนตุลาคม 2569" in a raw header became U+FFFD and filed under the arrival month.
for _enc in ("utf-8", "cp874"):
    case(f"raw_8bit_subject_{_enc.replace('-', '')}", report("HPC01", "2026-10", "text", nil=True, status="late",
                                                              kind="nil"))(lambda e=_enc: _raw_8bit(e))
    case(f"raw_8bit_filename_{_enc.replace('-', '')}", report("HPC01", "2026-10", "text", c02=0, status="late",
                                                               kind="nil"))(lambda e=_enc: _raw_8bit(e, True))
def _broken_mime(body: bytes) -> bytes:
    return (f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: =?utf-8?b?4Lij4Liy4Lii4LiH4Liy4LiZ?=\r\n"
            f"Date: {format_datetime(ARRIVE)}\r\nMessage-ID: <broken.{len(body)}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            ).encode() + body


NIL_UTF8 = "ไม่มีข้อร้องเรียนครับ".encode()
_NIL_REPORT = report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil")
# A multipart whose boundary lines are missing: its body is the text (it was "unnamed.bin").
case("multipart_without_boundaries", _NIL_REPORT)(lambda: _broken_mime(
    b"Content-Type: multipart/mixed; boundary=zzz\r\n\r\n" + NIL_UTF8 + b"\r\n"))
# Invalid UTF-8 in a nil body: the statement survives, the broken bytes are marked.
case("nil_body_invalid_utf8", _NIL_REPORT)(lambda: _broken_mime(
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + NIL_UTF8
    + b" \xff\xfe\r\n"))
# An empty forwarded multipart: no phantom file in the receipt.
case("empty_forwarded_multipart", _NIL_REPORT)(lambda: _broken_mime(
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
    + NIL_UTF8 + b'\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary="c"\r\n'
    b"\r\n--c--\r\n--b\r\nContent-Type: multipart/alternative; boundary=d\r\n\r\n--d--\r\n--b--\r\n"))
case("from_two_headers", held())(lambda: _raw_from(f"From: {U1}\r\nFrom: attacker@evil.example\r\n"))
case("from_two_addresses", held())(lambda: _raw_from(f"From: {U1}, attacker@evil.example\r\n"))
case("from_unparseable", held())(lambda: _raw_from(f"From: {U1} <<attacker@evil.example\r\n"))


@case("bounce_report", aside())
def _() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"MAILER-DAEMON@{DOMAIN}", SECRETARIAT, "Undelivered Mail"
    msg["Date"] = format_datetime(ARRIVE)
    msg.set_content("The mail system could not deliver")
    msg.add_attachment("Reporting-MTA: dns; mx\nFinal-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n",
                       subtype="delivery-status")
    msg.replace_header("Content-Type", msg["Content-Type"].replace("multipart/mixed", "multipart/report"))
    return msg.as_bytes()


# --- Shared addresses ----------------------------------------------------------------------------

case("shared_address_form_names_unit", report("DIV02", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(f"central@{DOMAIN}", SUBJ, "แนบแบบ 02 ของกองคลัง",
                 attachments=[("Complaint_02.xlsx", complaint_02("กองคลัง", NOV, {}))]))

case("shared_address_unnamed", report(None, "2026-11", "arrival", outcome="needs_review", reply="needs_review"))(
    lambda: mail(f"central@{DOMAIN}", "รายงาน", "ไม่มีข้อร้องเรียนครับ"))


def write(rebuild: set[str] | None = None) -> None:
    """Write expectations always; write an .eml only when it is new or named (the files are golden)."""
    # Import by name, so both halves register into the same CASES (not __main__'s copy).
    import tests.corpus_formats  # noqa: F401
    from tests.corpus import CASES

    DATA.mkdir(exist_ok=True)
    written = 0
    for name, (raw, expected) in sorted(CASES.items()):
        eml = DATA / f"{name}.eml"
        if not eml.exists() or (rebuild is not None and (not rebuild or name in rebuild)):
            eml.write_bytes(raw)
            written += 1
        (DATA / f"{name}.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    print(f"{len(CASES)} cases; {written} .eml file(s) written to {DATA}")


if __name__ == "__main__":
    import sys

    # `python -m tests.corpus` adds new cases; `--rebuild [NAME …]` rewrites the named (or all) files.
    args = sys.argv[1:]
    write(set(args[1:]) if args[:1] == ["--rebuild"] else None)
