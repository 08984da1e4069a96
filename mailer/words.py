"""Every word a person reads about the bot's codes, in one place beside the templates (mailer/templates/): the
statuses, categories, report kinds, outcomes, how a month was decided, the staff's actions and refusals, the
problems intake finds and the notes on each file. Formal Thai; code keeps the codes (`status --json`, the
database), and everything rendered for a person looks them up here. tests/mailer/test_words.py checks that every
status, kind, outcome and problem code has its words."""

from __future__ import annotations

# The labels a person reads, defined once: receipts, digests, workbooks, forms and the blank forms use these.
CATEGORY_THAI = {"complaint": "ข้อร้องเรียน", "suggestion": "ข้อเสนอแนะ", "opinion": "ข้อคิดเห็น", "compliment": "คำชมเชย"}

STATUS_THAI = {
    "on_time": "ส่งครบถ้วนและตรงเวลา",
    "late": "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด",
    "incomplete": "ยังไม่ครบถ้วน",
    "pending": "ยังไม่ได้รับรายงาน",
    "missing": "ไม่ได้ส่งรายงาน",
    "needs_review": "รอเจ้าหน้าที่ตรวจสอบ",
    "exempt": "ได้รับการยกเว้น",
}

KIND_THAI = {"complaints": "รายงานกรณีมีเรื่อง (Complaint_01 และ Complaint_02)",
             "nil": "รายงานกรณีไม่มีเรื่องร้องเรียน"}

PERIOD_RULE_THAI = {
    "form": "ตามที่ระบุในแบบฟอร์ม",
    "text": "ตามที่ระบุในหัวเรื่องหรือข้อความของอีเมล",
    "reply": "ตามอีเมลแจ้งเตือนที่ท่านตอบกลับ",
    "arrival": "ตามเดือนที่ได้รับอีเมล เนื่องจากไม่พบการระบุเดือนในอีเมลหรือแบบฟอร์ม",
    "arrival_late": "ตามเดือนที่ได้รับอีเมล ซึ่งได้รับหลังกำหนดส่ง จึงถือเป็นการส่งล่าช้าของเดือนนี้",
    "arrival_next": "เป็นเดือนถัดไป เนื่องจากรายงานเดือนที่ได้รับอีเมลครบถ้วนแล้ว",
}

# Why a line was not done, by the code intake or bot gives (the params fill the braces).
LINE_ERRORS = {
    "period_several": "ระบุเดือนมากกว่าหนึ่งเดือนในบรรทัดเดียว กรุณาแยกเป็นบรรทัดละหนึ่งเดือน",
    "period_missing": "ไม่ได้ระบุเดือน กรุณาระบุ เช่น พฤศจิกายน 2569",
    "undo_no_reference": "ไม่พบเลขอ้างอิงของคำสั่งที่จะยกเลิก กรุณาระบุ เช่น ยกเลิก A-12",
    "exempt_no_reason": "การยกเว้นต้องระบุเหตุผล เช่น ยกเว้น HPC07 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร",
    "review_words_unknown": "ไม่เข้าใจคำสั่งสำหรับเรื่องนี้ ใช้ได้: รหัสหน่วยงาน, ไม่ใช่รายงาน หรือ อ่านใหม่",
    "paper_no_received": "ไม่ได้ระบุวันที่ได้รับรายงานฉบับกระดาษ กรุณาเพิ่ม เช่น รับเมื่อ 20 พ.ย. 2569",
    "paper_bad_received": "อ่านวันที่ได้รับ \"{date}\" ไม่ได้ กรุณาระบุ เช่น รับเมื่อ 20 พ.ย. 2569",
    "paper_nothing": "กรุณาแนบแบบฟอร์ม Complaint_01/Complaint_02 ที่พิมพ์จากฉบับกระดาษ หรือระบุว่า ไม่มีข้อร้องเรียน",
    "paper_received_future": "วันที่ได้รับ {date} ยังมาไม่ถึง กรุณาตรวจสอบวันที่",
    "no_unit": "ไม่พบหน่วยงานรหัส {unit} ในทะเบียนหน่วยงาน",
    "already_exempt": "หน่วยงาน {unit} ได้รับการยกเว้นประจำเดือน{period}อยู่แล้ว",
    "no_message": "ไม่พบอีเมลเลขที่ #{number}",
    "no_target": "ไม่ทราบว่าหมายถึงอีเมลฉบับใด กรุณาตอบกลับอีเมลแจ้งเรื่องรอตรวจสอบ หรือระบุเลขที่ เช่น #57 HPC05",
    "target_ambiguous": "อีเมลแจ้งเรื่องรอตรวจสอบฉบับนี้มีหลายเรื่อง กรุณาระบุเลขที่ เช่น #{first} HPC05",
    "not_in_review": "อีเมลเลขที่ #{number} ไม่ได้อยู่ระหว่างรอตรวจสอบ (ดำเนินการไปแล้ว)",
    "no_action": "ไม่พบคำสั่งเลขอ้างอิง {reference}",
    "already_undone": "คำสั่ง {reference} ถูกยกเลิกไปแล้ว",
    "cannot_undo": "คำสั่ง {reference} ยกเลิกไม่ได้",
    "failed": "ดำเนินการไม่ได้ กรุณาติดต่อผู้ดูแลระบบ",
}

ACTION_THAI = {
    "exempt": "ยกเว้นการส่งรายงาน",
    "record": "บันทึกรายงานที่ได้รับทางกระดาษ",
    "resolve": "กำหนดหน่วยงานของอีเมลที่รอตรวจสอบ",
    "dismiss": "บันทึกว่าไม่ใช่รายงาน",
    "reprocess": "อ่านอีเมลใหม่",
    "undo": "ยกเลิกคำสั่ง",
    "refused": "ไม่รับคำสั่งทางอีเมล",
    "unit_record": "หน่วยงานขอผลการส่งรายงานของตนทางอีเมล",
    "unit_evidence": "หน่วยงานขอชุดหลักฐานของตนทางอีเมล",
}

# What the bot could not decide about a message waiting for a person, by the start of its stored reason.
REVIEW_WHY = (
    ("sender serves several units", "ที่อยู่อีเมลผู้ส่งใช้ร่วมกันหลายหน่วยงาน และแบบฟอร์มไม่ได้ระบุหน่วยงาน"),
    ("unknown sender", "ที่อยู่อีเมลผู้ส่งไม่ได้ลงทะเบียนเป็นผู้ส่งรายงานของหน่วยงานใด"),
    ("message too large", "อีเมลมีขนาดใหญ่เกินกำหนด"),
    ("sender:", "ระบุผู้ส่งไม่ได้ (หัวอีเมล From ผิดรูปแบบหรือมีหลายผู้ส่ง)"),
    ("authentication:", "เซิร์ฟเวอร์อีเมลยืนยันตัวตนผู้ส่งไม่ได้ อาจเป็นอีเมลปลอม"),
    ("scan", "เป็นเอกสารสแกนที่ระบบอ่านได้ไม่ชัดเจน"),
    ("processing failed", "ระบบอ่านอีเมลนี้ไม่สำเร็จ"),
)

REFUSAL_THAI = (
    ("unit request: the sender is no unit", "ขอข้อมูลของหน่วยงานจากที่อยู่อีเมลที่ไม่ได้ลงทะเบียนเป็นผู้ส่งรายงาน"),
    ("unit request: asked for another unit", "ขอข้อมูลของหน่วยงานอื่นที่ไม่ใช่หน่วยงานของผู้ส่ง"),
    ("done before", "อีเมลคำสั่งฉบับนี้เคยดำเนินการแล้ว ระบบจึงไม่ดำเนินการซ้ำ"),
    ("not in STAFF_EMAILS", "ผู้ส่งไม่อยู่ในรายชื่อเจ้าหน้าที่ที่สั่งงานทางอีเมลได้ (STAFF_EMAILS)"),
    ("not a reply", "ไม่ได้ตอบกลับอีเมลสรุปหรืออีเมลแจ้งเรื่องรอตรวจสอบของระบบ"),
    ("TRUSTED_AUTHSERV_ID", "ระบบยังไม่ได้ตั้งค่าการยืนยันตัวตนผู้ส่ง (TRUSTED_AUTHSERV_ID) จึงไม่รับคำสั่งทางอีเมล"),
    ("authentication", "เซิร์ฟเวอร์อีเมลยืนยันตัวตนผู้ส่งไม่ได้ อาจเป็นอีเมลปลอม"),
    ("sender:", "หัวอีเมล From ผิดรูปแบบหรือระบุผู้ส่งมากกว่าหนึ่งราย อาจเป็นอีเมลปลอม"),
)

RESULT_THAI = {"done": "แล้วเสร็จ", "in_progress": "อยู่ระหว่างดำเนินการ"}

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

KIND_SHORT = {"complaints": "มีเรื่อง", "nil": "ไม่มีเรื่อง"}  # the table's words; `--json` keeps the codes
# What became of a stored message (intake's Outcome), as the review list and the evidence pack say it.
OUTCOME_THAI = {
    "report": "รายงาน",
    "no_report": "ไม่พบรายงานในอีเมล",
    "set_aside": "ไม่ต้องดำเนินการ (อีเมลอัตโนมัติหรือผู้ส่งที่ไม่ได้ลงทะเบียน)",
    "needs_review": "รอเจ้าหน้าที่ตรวจสอบ",
    "quarantined": "ระบบอ่านไม่สำเร็จ รอเจ้าหน้าที่ตรวจสอบ",
    "command": "คำสั่งจากเจ้าหน้าที่",
    "dismissed": "เจ้าหน้าที่บันทึกว่าไม่ใช่รายงาน",
    "command_refused": "คำสั่งทางอีเมลที่ไม่รับดำเนินการ",
}

# A problem named in a few words, where a list shows it beside a unit (the digest's unit lines, the workbook); the
# whole sentence with its fix is CATALOGUE's.
PROBLEM_SHORT = {
    "unreadable_attachment": "เปิดไฟล์ไม่ได้",
    "encrypted_attachment": "ไฟล์ตั้งรหัสผ่าน",
    "archive_too_large": "ไฟล์บีบอัดใหญ่เกินกำหนด",
    "sheet_too_large": "แผ่นงานใหญ่เกินกำหนด",
    "parser_limit": "อ่านไฟล์เกินเวลาหรือหน่วยความจำ",
    "empty_attachment": "ไฟล์ว่างเปล่า",
    "unsupported_format": "ไฟล์ Word รุ่นเก่า (.doc)",
    "too_many_files": "ไฟล์แนบมากเกินกำหนด",
    "unknown_template": "ไม่พบหัวตารางแบบฟอร์ม",
    "empty_form": "Complaint_02 ยังไม่กรอกจำนวน",
    "bad_date": "วันที่ไม่ถูกต้อง",
    "row_missing_category": "ไม่ระบุประเภท",
    "unknown_category": "ประเภทไม่อยู่ในรายการ",
    "row_missing_date": "ไม่ระบุวันที่รับเรื่อง",
    "bad_number": "จำนวนไม่ใช่ตัวเลข",
    "unit_conflict": "หน่วยงานในแบบฟอร์มไม่ตรงผู้ส่ง",
    "period_conflict": "เดือนในแบบฟอร์มไม่ตรงกัน",
    "period_text_conflict": "เดือนในอีเมลไม่ตรงแบบฟอร์ม",
    "date_out_of_period": "วันที่อยู่นอกเดือนที่รายงาน",
    "sender_not_verified": "ยืนยันตัวตนผู้ส่งไม่ได้",
    "message_too_large": "อีเมลใหญ่เกินกำหนด",
    "totals_mismatch": "จำนวนใน Complaint_02 ไม่ตรงกับ Complaint_01",
    "missing_complaint_01": "ยังไม่ได้รับ Complaint_01",
    "missing_complaint_02": "ยังไม่ได้รับ Complaint_02",
}
