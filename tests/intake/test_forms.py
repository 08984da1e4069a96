"""Complaint_01/02 found by labels: canonical forms, edited forms, blank forms, dates."""

from __future__ import annotations

import io
import pickle
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import Workbook

from mailer.blank_forms import Case, complaint_01, complaint_02
from intake.dates import BadDate, parse_date
from intake.forms import CaseRow, read_forms, read_table
from intake.labels import C01_LABELS
from mailer.problem_text import problem_text
from scoring.periods import Period

NOV = Period(2026, 11)


def _xlsx(rows: list[list[object]], title: str = "Sheet1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_canonical_forms_round_trip() -> None:
    cases = [Case(date(2026, 11, 3), "โทรศัพท์", "complaint", "เสียงดัง", "นายก ข", "ตรวจสอบ", True, date(2026, 11, 9)),
             Case(date(2026, 11, 5), "เว็บไซต์", "compliment", "ชมเชย", done=False)]
    [c01] = read_forms("c1.xlsx", complaint_01("ศูนย์อนามัยที่ 1", NOV, cases))
    assert c01.form == "complaint_01" and c01.periods == [NOV] and "ศูนย์อนามัยที่ 1" in c01.header_text
    assert [(r.received, r.category, r.result, r.completed) for r in c01.rows] == [
        (date(2026, 11, 3), "complaint", "done", date(2026, 11, 9)), (date(2026, 11, 5), "compliment", "in_progress", None)]
    assert c01.rows[0].complainant == "นายก ข" and c01.problems == []
    [c02] = read_forms("c2.xlsx", complaint_02("ศูนย์อนามัยที่ 1", NOV, {"complaint": (1, 1, 0), "compliment": (1, 0, 1)}))
    assert c02.form == "complaint_02" and c02.filled
    assert c02.category_counts() == {"complaint": 1, "suggestion": 0, "opinion": 0, "compliment": 1}


def test_blank_complaint_02_is_not_a_nil_report() -> None:
    [c02] = read_forms("blank.xlsx", complaint_02())
    assert not c02.filled


def test_edited_complaint_01_with_title_rows_english_headers_and_shuffled_columns() -> None:
    rows: list[list[object]] = [
        ["รายงานผลการจัดการข้อร้องเรียน"], [], ["หน่วยงาน: ศูนย์อนามัยที่ 2", None, "ประจำเดือน ต.ค. 69"],
        ["Category", "No.", "Date received", "Subject", "Channel\n(ช่องทาง)", "Result", "Remarks"],
        ["ร้องเรียน", 1, "3/10/2569", "ขยะ", "โทรศัพท์", "เสร็จสิ้น", ""],
        [None, None, None, None, None, None, None],
        ["ข้อเสนอแนะ", 2, "๕ ต.ค. ๒๕๖๙", "เวลา", "อีเมล", "อยู่ระหว่างดำเนินการ", "x"],
        ["รวม", "", "", "", "", "", ""],
        ["หมายเหตุ: ข้อมูลเบื้องต้น"],
    ]
    [form] = read_forms("edited.xlsx", _xlsx(rows))
    assert form.form == "complaint_01" and form.periods == [Period(2026, 10)]
    assert [(r.category, r.received, r.result) for r in form.rows] == [
        ("complaint", date(2026, 10, 3), "done"), ("suggestion", date(2026, 10, 5), "in_progress")]


def test_row_problems_name_the_file_sheet_and_row() -> None:
    rows: list[list[object]] = [["ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท", "เรื่อง"],
                                [1, "31/02/2569", "โทรศัพท์", "", "x"], [2, "", "เว็บ", "อื่นๆ", "y"]]
    [form] = read_forms("bad.xlsx", _xlsx(rows, "ข้อมูล"))
    codes = sorted(p.code for p in form.problems)
    assert codes == ["bad_date", "row_missing_category", "row_missing_date", "unknown_category"]
    assert any("ไฟล์ bad.xlsx แผ่นงาน ข้อมูล แถวที่ 2" in problem_text(p.code, p.params) for p in form.problems)


def test_a_reading_crosses_the_sandbox_whole() -> None:
    """A reading travels pickled from the parser workers, its rows as plain tuples (intake/forms.py): it comes back
    equal, rows as CaseRow with their fields named, its problems and periods kept."""
    rows: list[list[object]] = [["รายงานประจำเดือนพฤศจิกายน 2569"],
                                ["ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท", "เรื่อง", "ผลการดำเนินการ"],
                                [1, "31/02/2569", "โทรศัพท์", "", "x", "เสร็จสิ้น"], [2, "3/11/2569", "เว็บ", "ร้องเรียน", "y", ""],
                                ["รวม", "", "", "", "", ""], [3, "4/11/2569", "เว็บ", "ร้องเรียน", "after the total", ""]]
    [form] = read_forms("bad.xlsx", _xlsx(rows, "ข้อมูล"))
    back = pickle.loads(pickle.dumps(form, pickle.HIGHEST_PROTOCOL))
    assert back == form and back.periods == [NOV] and len(back.rows) == 2  # the total row ends the table
    assert all(type(r) is CaseRow for r in back.rows)
    assert (back.rows[1].received, back.rows[1].category, back.rows[0].result) == (date(2026, 11, 3), "complaint", "done")
    assert sorted(p.code for p in back.problems) == ["bad_date", "row_missing_category"]  # a bad date is not a missing one


def test_csv_in_cp874_is_read() -> None:
    text = "ประเภท,จำนวนที่ได้รับ,แล้วเสร็จ,อยู่ระหว่างดำเนินการ\nข้อร้องเรียน,0,0,0\nข้อเสนอแนะ,0,0,0\n"
    [form] = read_forms("c2.csv", text.encode("cp874"))
    assert form.form == "complaint_02" and form.filled and sum(form.category_counts().values()) == 0


def test_corrupt_workbook_is_a_document_error() -> None:
    from intake.errors import DocumentError

    with pytest.raises(DocumentError) as err:
        read_forms("broken.xlsx", b"PK\x03\x04 not really a zip")
    assert err.value.code == "unreadable_attachment"


@pytest.mark.parametrize("value,expected", [
    ("5/11/2569", date(2026, 11, 5)), ("05-11-69", date(2026, 11, 5)), ("5 พ.ย. 2569", date(2026, 11, 5)),
    ("5 พฤศจิกายน 69", date(2026, 11, 5)), ("2026-11-05", date(2026, 11, 5)), ("๕/๑๑/๒๕๖๙", date(2026, 11, 5)),
    (46331.0, date(2026, 11, 5)), ("5/11/2026", date(2026, 11, 5)), ("", None), (None, None),
])
def test_dates(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2569", "hello", "5/13/2569"])
def test_impossible_dates(value: str) -> None:
    with pytest.raises(BadDate):
        parse_date(value)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)), st.booleans(), st.booleans())
def test_dates_in_either_era_and_digit_set(day: date, be: bool, thai_digits: bool) -> None:
    text = f"{day.day}/{day.month}/{day.year + (543 if be else 0)}"
    if thai_digits:
        text = text.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert parse_date(text) == day


# Each column may carry any of its known labels, in Thai or English, with odd spacing and line breaks.
_LABELS = {
    "seq": ["ลำดับ", "ลำดับที่", "No.", "#"],
    "received": ["วันที่รับเรื่อง", "วันที่ รับเรื่อง", "Date received", "วันรับเรื่อง"],
    "channel": ["ช่องทางการรับเรื่อง", "ช่องทาง", "Channel"],
    "category": ["ประเภท", "ประเภท\n(ร้องเรียน/เสนอแนะ/คิดเห็น/ชมเชย)", "Category", "ประเภทเรื่อง"],
    "subject": ["เรื่อง/รายละเอียดโดยย่อ", "รายละเอียด", "Subject", "เรื่อง"],
    "note": ["หมายเหตุ", "Remarks", "Note"],
}
_VALUES = {"seq": 1, "received": "1/11/2569", "channel": "โทรศัพท์", "category": "คำชมเชย", "subject": "ชม",
           "note": ""}


@settings(max_examples=80)
@given(st.permutations(list(_LABELS)), st.integers(min_value=0, max_value=6), st.data(),
       st.lists(st.text(alphabet="กขค xyz", max_size=8), max_size=2))
def test_header_found_whatever_the_order_labels_and_title_rows(fields: list[str], title_rows: int, data,
                                                                extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    labels = [data.draw(st.sampled_from(_LABELS[f])) for f in fields]
    rows: list[list[object]] = [["หัวเรื่อง"] for _ in range(title_rows)]
    rows.append(labels + [f"คอลัมน์เพิ่ม {e}" for e in extra])  # extra columns are ignored
    rows.append([_VALUES[f] for f in fields] + ["x" for _ in extra])
    form = read_table("f.xlsx", "s", rows)
    assert form is not None and form.form == "complaint_01"
    assert [(r.category, r.received, r.channel) for r in form.rows] == [("compliment", date(2026, 11, 1), "โทรศัพท์")]
    # Columns the form lacks read empty, whatever the unnamed columns beside the table hold.
    assert [(r.complainant, r.action, r.result, r.completed) for r in form.rows] == [("", "", None, None)]
    assert set(C01_LABELS) >= set(_LABELS)


def test_the_unit_a_form_header_names() -> None:
    """The longest registered name in the header wins (…ที่ 10 over …ที่ 1, wherever each appears); of equal
    names the first registered; else a unit code; the same answer on a header and on a long odd text."""
    from config.units import Unit, UnitRegistry

    units = [Unit(f"U{i:04d}", f"ศูนย์อนามัยที่ {i}", (f"u{i}@x.go.th",), ()) for i in range(1, 400)]
    units += [Unit("DUP1", "สำนักงานซ้ำ", ("a@x.go.th",), ()), Unit("DUP2", "สำนักงาน ซ้ำ", ("b@x.go.th",), ())]
    registry = UnitRegistry(units)

    def named(text: str) -> str | None:
        unit = registry.find_by_name(text)
        return unit.code if unit else None

    assert named("หน่วยงาน ศูนย์อนามัยที่ 1") == "U0001"
    assert named("ศูนย์อนามัยที่ 1 และ ศูนย์อนามัยที่ 10") == "U0010"
    assert named("ศูนย์อนามัยที่ 10 แทน ศูนย์อนามัยที่ 1") == "U0010"
    assert named("หน่วยงาน สำนักงานซ้ำ") == "DUP1"
    assert named("รหัส u0007 ประจำเดือน") == "U0007"
    assert named("ไม่มีชื่อหน่วยงาน") is None
    padding = "ศูนย์" * 5_000  # many places a name might start: the per-name search answers, the same way
    assert named(padding + "ศูนย์อนามัยที่ 3" + padding) == "U0003"
    assert named(padding + "ศูนย์อนามัยที่ 3 ศูนย์อนามัยที่ 31" + padding) == "U0031"
