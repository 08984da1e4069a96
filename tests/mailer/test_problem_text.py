"""Intake says what is wrong as a code and parameters; every code has its Thai sentence in mailer's catalogue."""

from __future__ import annotations

import re

from intake.problems import Problem, where
from mailer.problem_text import problem_text
from tests.paths import ROOT
from mailer.words import CATALOGUE, FILE_NOTES


def _codes_intake_emits() -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "intake").glob("*.py"))
    codes = set(re.findall(r'Problem\(\s*"([a-z_0-9]+)"', source))
    codes |= set(re.findall(r'DocumentError\([^,\n]+,\s*"([a-z_0-9]+)"', source))
    for pair in re.findall(r'code = "([a-z_0-9]+)" if [^\n]* else "([a-z_0-9]+)"', source):
        codes |= set(pair)
    return codes


def test_every_code_intake_emits_has_a_sentence() -> None:
    codes = _codes_intake_emits()
    assert {"bad_date", "encrypted_attachment", "totals_mismatch", "unknown_category"} <= codes  # the scan works
    assert sorted(codes - set(CATALOGUE)) == []


def test_intake_holds_no_sentence_for_a_person() -> None:
    """Problems carry data: no Thai text is built into a Problem in intake."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "intake").glob("*.py"))
    calls = re.findall(r"Problem\((?:[^()]|\([^()]*\))*\)", source)
    assert calls and not [c for c in calls if re.search("[\u0e00-\u0e7f]", c)]


def test_sentences_name_where_and_what() -> None:
    p = Problem("bad_date", "warning", {**where("c01.xlsx", "ข้อมูล", 7), "value": "31/02/2569"})
    assert problem_text(p.code, p.params) == ('ไฟล์ c01.xlsx แผ่นงาน ข้อมูล แถวที่ 7: วันที่ "31/02/2569" ไม่ถูกต้อง '
                                              "กรุณาระบุเป็น วัน/เดือน/ปี พ.ศ. เช่น 5/11/2569")
    assert problem_text("totals_mismatch", {"category": "complaint", "summary": "3", "rows": "2"}).startswith(
        "ข้อร้องเรียน: แบบ Complaint_02 ระบุ 3 เรื่อง แต่แบบ Complaint_01 มี 2 รายการ")
    assert "แบบฟอร์มระบุเดือนพฤศจิกายน 2569" in problem_text(
        "period_conflict", {"written": "ตุลาคม 2569", "chosen": "พฤศจิกายน 2569"})
    assert problem_text("encrypted_attachment", {"file": "a.xlsx", "attempt": "20 พ.ย. 69 10:02"}).startswith(
        "อีเมลเมื่อ 20 พ.ย. 69 10:02 น.: ไฟล์ a.xlsx: ไฟล์มีการตั้งรหัสผ่าน")


def test_a_problem_stored_before_the_catalogue_keeps_its_sentence() -> None:
    old = Problem.from_dict({"code": "bad_date", "severity": "warning", "message": "ข้อความเดิม"})
    assert problem_text(old.code, old.params) == "ข้อความเดิม"
    assert problem_text("bad_date", {"file": "x.xlsx"}).startswith("ไฟล์ x.xlsx: วันที่ \"\" ไม่ถูกต้อง")  # no KeyError


def test_every_file_note_has_a_sentence_and_intake_writes_none() -> None:
    from mailer.problem_text import file_note_text

    source = (ROOT / "intake" / "documents.py").read_text(encoding="utf-8")
    notes = set(re.findall(r'FileNote\([^,\n]+, "[a-z_0-9]+", "([a-z_0-9]+)"', source))
    notes |= set(re.findall(r'detail, params = "([a-z_0-9]+)"', source))
    assert {"c01_rows", "memo_nil", "scan_pending"} <= notes and sorted(notes - set(FILE_NOTES)) == []
    calls = re.findall(r"FileNote\((?:[^()]|\([^()]*\))*\)", source)
    assert calls and not [c for c in calls if re.search("[\u0e00-\u0e7f]", c)]
    assert file_note_text("memo", "memo_nil", {"how": "docx"}) == "บันทึกข้อความ (Word) แจ้งว่าไม่มีข้อร้องเรียน"
    assert file_note_text("complaint_01", "c01_rows", {"sheet": "ข้อมูล", "rows": "3"}) == \
        "แบบ Complaint_01 แผ่นงาน ข้อมูล จำนวน 3 รายการ"
    assert file_note_text("unreadable", "encrypted_attachment").startswith("ไฟล์มีการตั้งรหัสผ่าน")
