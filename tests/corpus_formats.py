"""Golden corpus, part two: every file format, edited forms, memos and scans, hostile containers.

Imported by tests/corpus.py; the same rules apply (expectations written by hand).
"""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from openpyxl import Workbook

from bot.samples import forms, make_mail, sample_cases
from mailer.blank_forms import complaint_02
from tests.corpus import ARRIVE, NAME1, NOV, SUBJ, U1, aside, case, mail, report
from tests.conftest import DOMAIN, SECRETARIAT

FILES = Path(__file__).parent / "data" / "files"


def f(name: str) -> bytes:
    return (FILES / name).read_bytes()


def xlsx(*sheets: tuple[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEAD1 = ["ลำดับ", "วันที่รับเรื่อง", "ช่องทางการรับเรื่อง", "ประเภท", "เรื่อง/รายละเอียดโดยย่อ", "ชื่อผู้ร้อง",
         "การดำเนินการ", "ผลการดำเนินการ", "วันที่แล้วเสร็จ", "หมายเหตุ"]
TITLE1 = [["แบบรายงาน Complaint_01"], [f"หน่วยงาน {NAME1}"], ["ประจำเดือน พฤศจิกายน พ.ศ. 2569"]]
TITLE2 = [["แบบสรุป Complaint_02"], [f"หน่วยงาน {NAME1}"], ["ประจำเดือน พฤศจิกายน พ.ศ. 2569"]]
HEAD2 = ["ประเภท", "จำนวนที่ได้รับ", "ดำเนินการแล้วเสร็จ", "อยู่ระหว่างดำเนินการ"]
ZERO2 = [["ข้อร้องเรียน", 0, 0, 0], ["ข้อเสนอแนะ", 0, 0, 0], ["ข้อคิดเห็น", 0, 0, 0], ["คำชมเชย", 0, 0, 0],
         ["รวม", 0, 0, 0]]


def c02(counts: dict[str, int]) -> bytes:
    rows = [[name, counts.get(name, 0), counts.get(name, 0), 0] for name in ("ข้อร้องเรียน", "ข้อเสนอแนะ", "ข้อคิดเห็น", "คำชมเชย")]
    return xlsx(("Complaint_02", TITLE2 + [HEAD2] + rows))


def att(*files: tuple[str, bytes]) -> list[tuple[str, bytes]]:
    return list(files)


# --- Formats -------------------------------------------------------------------------------------

case("xls_both_forms", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน (Excel 97-2003)", attachments=att(("Complaint_01.xls", f("c01.xls")),
                                                                        ("Complaint_02.xls", f("c02.xls")))))
case("ods_c01_with_xls_c02", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งจาก LibreOffice", attachments=att(("c01.ods", f("c01.ods")), ("c02.xls", f("c02.xls")))))
case("ods_c02_zero", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(U1, SUBJ, "ไม่มีเรื่องครับ แนบแบบ 02", attachments=att(("Complaint_02.ods", f("c02_zero.ods")))))
case("xlsm_macro_never_run", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ไฟล์มีมาโคร", attachments=att(("Complaint_01.xlsm", f("c01.xlsm")), ("c02.xls", f("c02.xls")))))
case("encrypted_workbook_with_nil_text", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil",
                                                problems=["encrypted_attachment"]))(
    lambda: mail(U1, SUBJ, "ไม่มีข้อร้องเรียนครับ", attachments=att(("Complaint_01.xlsx", f("c01_encrypted.xlsx")))))
case("encrypted_workbook_only", report("HPC01", "2026-11", "text", outcome="no_report", reply="no_report",
                                       problems=["encrypted_attachment"]))(
    lambda: mail(U1, SUBJ, "แนบรายงาน รหัสผ่าน 1234", attachments=att(("Complaint_01.xlsx", f("c01_encrypted.xlsx")))))
case("csv_utf8_bom_c02_zero", report("HPC01", "2026-11", "text", c02=0, status="on_time", kind="nil"))(
    lambda: mail(U1, SUBJ, "ส่งไฟล์ csv", attachments=att(("Complaint_02.csv", "\ufeff" .encode() + (
        "ประเภท,จำนวนที่ได้รับ,แล้วเสร็จ,อยู่ระหว่างดำเนินการ\nข้อร้องเรียน,0,0,0\nข้อเสนอแนะ,0,0,0\n"
        "ข้อคิดเห็น,0,0,0\nคำชมเชย,0,0,0\n").encode()))))
case("csv_cp874_both_forms", report("HPC01", "2026-11", "text", c01=1, c02=1, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งไฟล์ csv", attachments=att(
        ("c01.csv", ("ลำดับ,วันที่รับเรื่อง,ช่องทาง,ประเภท,เรื่อง\n1,5/11/2569,โทรศัพท์,ร้องเรียน,เสียงดัง\n").encode("cp874")),
        ("c02.csv", ("ประเภท;จำนวนที่ได้รับ;แล้วเสร็จ;อยู่ระหว่างดำเนินการ\nข้อร้องเรียน;1;1;0\nข้อเสนอแนะ;0;0;0\n"
                     "ข้อคิดเห็น;0;0;0\nคำชมเชย;0;0;0\n").encode("cp874")))))

# --- Memos and scans -----------------------------------------------------------------------------

case("pdf_memo_nil", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบบันทึกข้อความครับ", attachments=att(("บันทึก.pdf", f("memo_nil.pdf")))))
case("pdf_memo_other_subject", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบหนังสือเชิญประชุม", attachments=att(("เชิญประชุม.pdf", f("memo_other.pdf")))))
case("scanned_png_memo_nil", needs_ocr=True, expected=report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบไฟล์สแกน", attachments=att(("scan.png", f("memo_scan.png")))))
case("scanned_jpg_memo_nil", needs_ocr=True, expected=report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบรูปถ่ายบันทึก", attachments=att(("IMG_2031.jpg", f("memo_scan.jpg")))))
case("scanned_pdf_memo_nil", needs_ocr=True, expected=report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบไฟล์สแกน PDF", attachments=att(("scan.pdf", f("memo_scan.pdf")))))
case("old_word_doc", report("HPC01", "2026-11", "arrival", outcome="needs_review", reply="needs_review",
                            problems=["unsupported_format"]))(
    lambda: mail(U1, "บันทึกข้อความ", "แนบบันทึก", attachments=att(
        ("บันทึก.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + b"\x00" * 600))))
case("lying_extension_pdf_named_xlsx", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "รายงาน", "แนบไฟล์", attachments=att(("Complaint_02.xlsx", f("memo_nil.pdf")))))
case("small_logo_image_ignored", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))(
    lambda: mail(U1, "รายงาน", "ไม่มีข้อร้องเรียนครับ", attachments=att(("logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 500))))

# --- Containers ----------------------------------------------------------------------------------


def _zip(members: list[tuple[str, bytes]], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


case("nested_zip", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "zip ซ้อน zip", attachments=att(("outer.zip", _zip([("inner.zip", _zip(
        forms(NAME1, NOV, sample_cases(NOV, 2))))])))))
case("zip_path_traversal_names", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "zip", attachments=att(("r.zip", _zip([(f"../../{n}", d) for n, d in
                                                                   forms(NAME1, NOV, sample_cases(NOV, 2))])))))
case("zip_bomb", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil",
                        problems=["archive_too_large"]))(
    lambda: mail(U1, SUBJ, "ไม่มีข้อร้องเรียนครับ", attachments=att(("big.zip", _zip([("zeros.csv", b"0" * 120_000_000)])))))
case("zip_named_dat", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(U1, SUBJ, "แนบไฟล์", attachments=att(("report.dat", _zip([("Complaint_02.xlsx", complaint_02(NAME1, NOV, {}))])))))


def _forward(inner: bytes, levels: int) -> bytes:
    for i in range(levels):
        outer = EmailMessage()
        outer["From"], outer["To"], outer["Subject"] = U1, SECRETARIAT, "Fwd: " * (i + 1) + "รายงาน"
        outer["Date"] = format_datetime(ARRIVE)
        outer.set_content("ส่งต่อครับ")
        from email import message_from_bytes
        outer.add_attachment(message_from_bytes(inner))
        inner = outer.as_bytes()
    return inner


case("forwarded_three_levels", report("HPC01", "2026-11", "form", c01=1, c02=1, status="on_time", kind="complaints"))(
    lambda: _forward(make_mail(sender=f"clerk01@{DOMAIN}", to=U1, subject="รายงาน", body="ฝากส่ง", date_=ARRIVE,
                               attachments=forms(NAME1, NOV, sample_cases(NOV, 1))), 3))
case("forwarded_nil_from_director", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))(
    lambda: _forward(make_mail(sender=f"director01@{DOMAIN}", to=U1, subject="รายงาน",
                               body="เดือนนี้ไม่มีข้อร้องเรียน ฝากแจ้ง สลก. ด้วย", date_=ARRIVE), 1))


@case("eml_file_attachment", report("HPC01", "2026-11", "form", c01=3, c02=3, status="on_time", kind="complaints"))
def _() -> bytes:
    inner = make_mail(sender=f"clerk01@{DOMAIN}", to=U1, subject="รายงาน", body="ฝากส่ง", date_=ARRIVE,
                      attachments=forms(NAME1, NOV, sample_cases(NOV, 3)))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = U1, SECRETARIAT, SUBJ, format_datetime(ARRIVE)
    msg.set_content("แนบอีเมลเดิม")
    msg.add_attachment(inner, maintype="application", subtype="octet-stream", filename="รายงาน.eml")
    return msg.as_bytes()


@case("inline_part_without_filename", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))
def _() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = U1, SECRETARIAT, SUBJ, format_datetime(ARRIVE)
    msg.set_content("แบบ 02")
    msg.add_attachment(complaint_02(NAME1, NOV, {}), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", disposition="inline")
    return msg.as_bytes()


@case("raw_utf8_filename_header", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))
def _() -> bytes:
    data = complaint_02(NAME1, NOV, {})
    import base64
    body = base64.encodebytes(data).decode()
    raw = (f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: =?UTF-8?B?4Lij4Liy4Lii4LiH4Liy4LiZ?=\r\n"
           f"Date: {format_datetime(ARRIVE)}\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
           "แนบแบบฟอร์ม\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
           'Content-Disposition: attachment; filename="แบบสรุป_Complaint_02.xlsx"\r\n'
           f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b1--\r\n")
    return raw.encode("utf-8")


@case("tis620_quoted_printable_subject", report("HPC01", "2026-11", "text", nil=True, status="on_time", kind="nil"))
def _() -> bytes:
    import quopri
    encoded = quopri.encodestring("รายงานประจำเดือนพฤศจิกายน 2569".encode("tis-620"), header=True).replace(b"=\n", b"")
    subject = "=?TIS-620?Q?" + encoded.decode() + "?="
    body = "ไม่มีข้อร้องเรียนค่ะ".encode("tis-620")
    head = (f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: {subject}\r\nDate: {format_datetime(ARRIVE)}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-windows-874\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n").encode()
    return head + body + b"\r\n"


# --- Edited forms --------------------------------------------------------------------------------

case("edited_english_headers_totals_notes", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time",
                                                   kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("report.xlsx", xlsx(
        ("Complaint_01", [["Complaint report"], [], [f"Unit: {NAME1}", None, "Period: November 2026"], [],
                          ["No.", "Category", "Date received", "Channel", "Subject", "Action taken", "Status", "Remarks"],
                          [1, "Complaint", "2026-11-03", "Phone", "Noise", "Checked", "Done", ""], [None] * 8,
                          [2, "Compliment", "4/11/2026", "Web", "Good service", "Thanked", "Closed", ""],
                          ["Total", 2], [], ["Note: prepared by the clerk"]]))),
        ("c02.xlsx", c02({"ข้อร้องเรียน": 1, "คำชมเชย": 1})))))

case("merged_two_row_header", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("Complaint_01.xlsx", xlsx(("ข้อมูล", TITLE1 + [
        ["ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท\n(ร้องเรียน/เสนอแนะ/คิดเห็น/ชมเชย)", "เรื่อง", "การดำเนินการ", None],
        [None, None, None, None, None, "การดำเนินการ", "ผลการดำเนินการ"],
        [1, "3/11/2569", "โทรศัพท์", "ร้องเรียน", "เสียงดัง", "ตรวจสอบ", "แล้วเสร็จ"],
        [2, "4/11/2569", "อีเมล", "ข้อเสนอแนะ", "ที่จอดรถ", "พิจารณา", "อยู่ระหว่างดำเนินการ"]]))),
        ("c02.xlsx", c02({"ข้อร้องเรียน": 1, "ข้อเสนอแนะ": 1})))))

case("form_on_second_sheet", report("HPC01", "2026-11", "form", c01=1, c02=1, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("รายงาน.xlsx", xlsx(
        ("คำชี้แจง", [["วิธีกรอกแบบฟอร์ม"], ["1. กรอกทุกช่อง"]]),
        ("Sheet2", TITLE1 + [HEAD1, [1, "3/11/2569", "โทรศัพท์", "ข้อร้องเรียน", "เสียงดัง", "", "", "แล้วเสร็จ", "", ""]]),
        ("Sheet3", TITLE2 + [HEAD2, ["ข้อร้องเรียน", 1, 1, 0], ["ข้อเสนอแนะ", 0, 0, 0], ["ข้อคิดเห็น", 0, 0, 0],
                             ["คำชมเชย", 0, 0, 0], ["รวม", 1, 1, 0]]))))))

case("synonyms_for_categories_and_results", report("HPC01", "2026-11", "form", c01=4, c02=4, status="on_time",
                                                    kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("Complaint_01.xlsx", xlsx(("Complaint_01", TITLE1 + [HEAD1,
        [1, "3/11/2569", "โทรศัพท์", "เรื่องร้องเรียน", "ก", "", "", "ยุติเรื่อง", "", ""],
        [2, "4/11/2569", "โทรศัพท์", "เสนอแนะ", "ข", "", "", "เสร็จสิ้น", "", ""],
        [3, "5/11/2569", "โทรศัพท์", "ความคิดเห็น", "ค", "", "", "อยู่ระหว่างการพิจารณา", "", ""],
        [4, "6/11/2569", "โทรศัพท์", "คำชม", "ง", "", "", "แล้วเสร็จ", "", ""]]))),
        ("c02.xlsx", c02({"ข้อร้องเรียน": 1, "ข้อเสนอแนะ": 1, "ข้อคิดเห็น": 1, "คำชมเชย": 1})))))

case("row_problems_category_and_dates", report("HPC01", "2026-11", "form", c01=3, c02=1, status="on_time",
                                                kind="complaints",
                                                problems=["bad_date", "row_missing_category", "unknown_category"]))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("Complaint_01.xlsx", xlsx(("Complaint_01", TITLE1 + [HEAD1,
        [1, "3/11/2569", "โทรศัพท์", "", "ก", "", "", "แล้วเสร็จ", "", ""],
        [2, "31/11/2569", "โทรศัพท์", "ข้อร้องเรียน", "ข", "", "", "แล้วเสร็จ", "", ""],
        [3, "5/11/2569", "โทรศัพท์", "สอบถามข้อมูล", "ค", "", "", "แล้วเสร็จ", "", ""]]))),
        ("c02.xlsx", c02({"ข้อร้องเรียน": 1})))))

case("thai_digit_dates_two_digit_be", report("HPC01", "2026-11", "form", c01=2, c02=2, status="on_time",
                                             kind="complaints"))(
    lambda: mail(U1, SUBJ, "ส่งรายงาน", attachments=att(("Complaint_01.xlsx", xlsx(("Complaint_01", TITLE1 + [HEAD1,
        [1, "๓/๑๑/๒๕๖๙", "โทรศัพท์", "ข้อร้องเรียน", "ก", "", "", "แล้วเสร็จ", "๕ พ.ย. ๖๙", ""],
        [2, "04-11-69", "อีเมล", "คำชมเชย", "ข", "", "", "แล้วเสร็จ", "5 พฤศจิกายน 2569", ""]]))),
        ("c02.xlsx", c02({"ข้อร้องเรียน": 1, "คำชมเชย": 1})))))

case("both_forms_in_one_workbook", report("HPC01", "2026-11", "form", c01=1, c02=1, status="on_time", kind="complaints"))(
    lambda: mail(U1, SUBJ, "ไฟล์เดียว 2 แผ่นงาน", attachments=att(("รายงาน.xlsx", xlsx(
        ("01", TITLE1 + [HEAD1, [1, "3/11/2569", "โทรศัพท์", "ข้อร้องเรียน", "ก", "", "", "แล้วเสร็จ", "", ""]]),
        ("02", TITLE2 + [HEAD2, ["ข้อร้องเรียน", 1, 1, 0], ["ข้อเสนอแนะ", 0, 0, 0], ["ข้อคิดเห็น", 0, 0, 0],
                         ["คำชมเชย", 0, 0, 0]]))))))

case("c02_thai_digit_zeros", report("HPC01", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(U1, SUBJ, "แบบ 02", attachments=att(("c02.xlsx", xlsx(("Complaint_02", TITLE2 + [HEAD2,
        ["ข้อร้องเรียน", "๐", "๐", "๐"], ["ข้อเสนอแนะ", "-", "-", "-"], ["ข้อคิดเห็น", "๐", "๐", "๐"],
        ["คำชมเชย", "0", "0", "0"]]))))))

case("blank_c02_is_not_nil", report("HPC01", "2026-11", "form", outcome="no_report", reply="no_report",
                                    problems=["empty_form"]))(
    lambda: mail(U1, SUBJ, "แนบแบบฟอร์ม", attachments=att(("c02.xlsx", complaint_02(NAME1, NOV)))))

case("period_from_filename", report("HPC01", "2026-10", "text", c02=0, status="late", kind="nil"))(
    lambda: mail(U1, "ส่งรายงาน", "แนบแบบ 02", attachments=att(("Complaint_02_ต.ค.69.xlsx", complaint_02(NAME1, None, {})))))

case("period_in_body_previous_month", report("HPC01", "2026-10", "text", nil=True, status="late", kind="nil"))(
    lambda: mail(U1, "รายงาน", "รายงานประจำเดือน ต.ค. 69 ไม่มีข้อร้องเรียนครับ ขออภัยที่ล่าช้า"))

case("shared_address_form_names_code", report("DIV01", "2026-11", "form", c02=0, status="on_time", kind="nil"))(
    lambda: mail(f"central@{DOMAIN}", SUBJ, "แบบ 02", attachments=att(("c02.xlsx", xlsx(("Complaint_02", [
        ["Complaint_02"], ["หน่วยงาน: DIV01"], ["ประจำเดือน พ.ย. 2569"], HEAD2] + ZERO2))))))

# --- More reply texts ----------------------------------------------------------------------------

case("outlook_reply_quoting_reminder", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "RE: แจ้งเตือน", "รับทราบครับ จะส่งภายในวันนี้\n\n________________________________\n"
                 "From: สำนักงานเลขานุการกรม\nSent: Monday, November 23, 2026 9:00 AM\n"
                 "หากไม่มีข้อร้องเรียน กรุณาตอบกลับว่า ไม่มีข้อร้องเรียน"))
case("nil_with_compliment_is_not_nil", report("HPC01", "2026-11", "arrival", outcome="no_report", reply="no_report"))(
    lambda: mail(U1, "รายงาน", "ไม่มีข้อร้องเรียน มีคำชมเชย 1 เรื่องค่ะ"))


@case("outlook_html_reply_nil", report("HPC01", "2026-11", "arrival", nil=True, status="on_time", kind="nil"))
def _() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = U1, SECRETARIAT, "RE: แจ้งเตือน", format_datetime(ARRIVE)
    msg.set_content("<html><body><p>ไม่มีข้อร้องเรียนครับ</p><div id='appendonsend'></div><hr>"
                    "<div id='divRplyFwdMsg'><b>From:</b> สลก.<br>หากไม่มีข้อร้องเรียน ตอบกลับ</div></body></html>",
                    subtype="html")
    return msg.as_bytes()


case("auto_reply_thai_out_of_office", aside())(
    lambda: mail(U1, "ตอบกลับอัตโนมัติ: รายงาน", "ไม่อยู่", headers={"X-Auto-Response-Suppress": "All"}))
case("noreply_sender", aside())(lambda: mail(f"no-reply@{DOMAIN}", "แจ้งเตือนระบบ", "ไม่มีข้อร้องเรียน"))
