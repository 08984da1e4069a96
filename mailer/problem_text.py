"""Every sentence a person reads about a problem, by the problem's stable code: intake says what is wrong as
a code and its parameters; the wording lives here, in one place, in formal Thai."""

from __future__ import annotations

from collections.abc import Mapping

from scoring.status import CATEGORY_THAI

_FIX_CATEGORY = "กรุณาระบุเป็น ข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น หรือ คำชมเชย"

CATALOGUE: dict[str, str] = {
    # A file that could not be read (intake/documents.py)
    "unreadable_attachment": "เปิดไฟล์ไม่ได้ (ไฟล์อาจเสียหายหรือไม่ใช่ไฟล์ตามนามสกุล) กรุณาบันทึกไฟล์ใหม่แล้วส่งอีกครั้ง",
    "encrypted_attachment": "ไฟล์มีการตั้งรหัสผ่าน ระบบจึงเปิดอ่านไม่ได้ กรุณายกเลิกรหัสผ่านแล้วส่งอีกครั้ง",
    "archive_too_large": ("ไฟล์บีบอัดหรือไฟล์ Office มีขนาดเมื่อขยายหรือจำนวนไฟล์ภายในเกินกำหนด "
                          "(ไม่เกิน {max_mb} MB และ {max_members} ไฟล์) "
                          "กรุณาแนบแบบฟอร์มโดยตรงโดยไม่ต้องบีบอัด หรือลบข้อมูลที่ไม่เกี่ยวข้องออก"),
    "sheet_too_large": ("แผ่นงานในไฟล์มีขนาดเกินกำหนด (ไม่เกิน {max_rows} แถว และ {max_cells} ช่อง) "
                        "กรุณาลบแถวหรือคอลัมน์ว่างที่ไม่ใช้ออก หรือคัดลอกเฉพาะตารางลงแบบฟอร์มใหม่แล้วส่งอีกครั้ง"),
    "parser_limit": ("ไฟล์ใช้เวลาหรือหน่วยความจำในการอ่านเกินกำหนด ระบบจึงอ่านไม่ได้ "
                     "กรุณาบันทึกเป็นแบบฟอร์มใหม่ที่มีเฉพาะตารางรายงานแล้วส่งอีกครั้ง"),
    "empty_attachment": "ไฟล์แนบว่างเปล่า (ขนาด 0 ไบต์) กรุณาแนบไฟล์ใหม่อีกครั้ง",
    "unsupported_format": "ระบบอ่านไฟล์ Word รุ่นเก่า (.doc) ไม่ได้ กรุณาบันทึกเป็น .docx หรือ .pdf แล้วส่งอีกครั้ง",
    "too_many_files": "มีไฟล์แนบมากเกินกำหนด ระบบอ่านเฉพาะไฟล์แรก ๆ กรุณาส่งเฉพาะแบบฟอร์มที่เกี่ยวข้อง",
    "unknown_template": ("ไม่พบหัวตารางของแบบฟอร์ม Complaint_01 หรือ Complaint_02 "
                         "กรุณาใช้แบบฟอร์มของสำนักงานเลขานุการกรม โดยคงชื่อหัวคอลัมน์ไว้"),
    "empty_form": "แบบ Complaint_02 ยังไม่ได้กรอกจำนวน หากไม่มีเรื่อง กรุณากรอกเลข 0",
    # A row or a cell of a form (intake/forms.py)
    "bad_date": "วันที่ \"{value}\" ไม่ถูกต้อง กรุณาระบุเป็น วัน/เดือน/ปี พ.ศ. เช่น 5/11/2569",
    "row_missing_category": "ไม่ได้ระบุประเภท " + _FIX_CATEGORY,
    "unknown_category": "ประเภท \"{value}\" ไม่อยู่ในรายการ " + _FIX_CATEGORY,
    "row_missing_date": "ไม่ได้ระบุวันที่รับเรื่อง กรุณาเพิ่มวันที่รับเรื่อง",
    "bad_number": "จำนวน \"{value}\" ไม่ใช่ตัวเลข กรุณาระบุเป็นตัวเลข",
    # The message as a whole (intake/pipeline.py)
    "unit_conflict": ("แบบฟอร์มระบุหน่วยงาน \"{named}\" แต่ส่งจากที่อยู่อีเมลของ \"{unit}\" "
                      "ระบบบันทึกเป็นของ {unit} หากไม่ถูกต้อง กรุณาแจ้งสำนักงานเลขานุการกรม"),
    "period_conflict": "แบบฟอร์มที่แนบระบุเดือนไม่ตรงกัน ({periods}) ระบบบันทึกเป็นเดือน{chosen} กรุณาตรวจสอบ",
    "period_text_conflict": ("หัวเรื่องหรือข้อความระบุเดือน{written} แต่แบบฟอร์มระบุเดือน{chosen} "
                             "ระบบบันทึกตามแบบฟอร์ม (เดือน{chosen})"),
    "date_out_of_period": "วันที่รับเรื่อง {date} อยู่{when}เดือน{period} กรุณาตรวจสอบวันที่หรือเดือนที่รายงาน",
    "sender_not_verified": "ไม่สามารถยืนยันตัวตนผู้ส่งอีเมลได้ เจ้าหน้าที่จะตรวจสอบ",
    "message_too_large": "อีเมลมีขนาดเกิน {max_mb} MB กรุณาส่งแบบฟอร์มเป็นไฟล์ Excel ที่มีขนาดเล็กลง",
    # The unit's report for the month (intake/state.py)
    "totals_mismatch": ("{category}: แบบ Complaint_02 ระบุ {summary} เรื่อง แต่แบบ Complaint_01 มี {rows} รายการ "
                        "กรุณาตรวจสอบให้ตรงกันแล้วส่งแบบที่แก้ไขอีกครั้ง"),
    "missing_complaint_01": "ยังไม่ได้รับแบบ Complaint_01 (รายละเอียดรายเรื่อง) กรุณาส่งเพิ่มเติม",
    "missing_complaint_02": "ยังไม่ได้รับแบบ Complaint_02 (สรุปจำนวนเรื่อง) กรุณาส่งเพิ่มเติม",
}
# What the receipt says about each attached file, by the note intake gives it.
FILE_NOTES: dict[str, str] = {
    "c01_rows": "แบบ Complaint_01 แผ่นงาน {sheet} จำนวน {rows} รายการ",
    "c02_total": "แบบ Complaint_02 แผ่นงาน {sheet} รวม {total} เรื่อง",
    "c02_empty": "แบบ Complaint_02 แผ่นงาน {sheet} ยังไม่ได้กรอกจำนวน",
    "no_form_table": "ไม่พบตารางของแบบฟอร์ม Complaint_01 หรือ Complaint_02",
    "not_a_form": "ไม่ใช่ไฟล์แบบฟอร์ม",
    "memo_nil": "{how}แจ้งว่าไม่มีข้อร้องเรียน",
    "memo_no_nil": "{how} (ไม่พบข้อความแจ้งว่าไม่มีข้อร้องเรียน)",
    "scan_pending": "เอกสารสแกน อยู่ระหว่างอ่านข้อความ (OCR)",
    "scan_for_a_person": "เอกสารสแกน รอเจ้าหน้าที่อ่าน",
    "scan_unreadable": "เอกสารสแกนที่อ่านข้อความไม่ได้ รอเจ้าหน้าที่ตรวจสอบ",
}
MEMO_THAI = {"docx": "บันทึกข้อความ (Word) ", "odt": "บันทึกข้อความ (ODT) ", "pdf": "บันทึกข้อความ (PDF) ",
             "ocr": "เอกสารสแกน (อ่านด้วย OCR) "}
WHEN_THAI = {"before": "ก่อน", "after": "หลัง"}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a parameter an older row lacks renders empty, never fails
        return ""


def _where(params: Mapping[str, str]) -> str:
    if not params.get("file"):
        return ""
    text = f"ไฟล์ {params['file']}"
    if params.get("sheet"):
        text += f" แผ่นงาน {params['sheet']}"
    if params.get("row"):
        text += f" แถวที่ {params['row']}"
    return text + ": "


def problem_text(code: str, params: Mapping[str, str] | None = None) -> str:
    """The Thai sentence for a problem: where (file, sheet, row), what is wrong, how to fix it. A problem
    stored before the catalogue existed carries its sentence as `message` and is shown as it was."""
    params = dict(params or {})
    if "message" in params:
        sentence = params["message"]
    else:
        values = _Blank(params)
        if "category" in params:
            values["category"] = CATEGORY_THAI.get(params["category"], params["category"])
        if "when" in params:
            values["when"] = WHEN_THAI.get(params["when"], params["when"])
        key = "period_text_conflict" if code == "period_conflict" and "written" in params else code
        sentence = _where(params) + CATALOGUE.get(key, "อ่านไฟล์ไม่ได้").format_map(values)
    if params.get("attempt"):  # a message of the month that held no usable report
        sentence = f"อีเมลเมื่อ {params['attempt']} น.: {sentence}"
    return sentence


def file_note_text(kind: str, note: str, params: Mapping[str, str] | None = None) -> str:
    """What the receipt says about one attached file; an unreadable file says why, as its problem does."""
    values = _Blank(params or {})
    if kind == "unreadable":  # the same sentence as its problem, with the limit it names
        return CATALOGUE.get(note, "อ่านไฟล์ไม่ได้").format_map(values)
    if note not in FILE_NOTES:  # a note stored before the catalogue was already a sentence
        return note
    values["how"] = MEMO_THAI.get(values["how"], values["how"])
    return FILE_NOTES[note].format_map(values)
