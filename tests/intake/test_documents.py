"""Documents: content sniffing, OCR fallback, and readers that never raise on hostile input (Hypothesis)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from intake import ocr
from mailer.blank_forms import complaint_02
from intake.documents import ocr_attachments, scan_key, sniff
from intake.message import Attachment, parse_message
from intake.reading import read_documents
from mailer.problem_text import problem_text
from scoring.periods import Period
from tests.paths import DATA

FILES = DATA / "files"


@pytest.mark.parametrize("name,kind", [
    ("c01.xls", "workbook"), ("c01.ods", "workbook"), ("c01.xlsm", "workbook"), ("c01_encrypted.xlsx", "encrypted"),
    ("memo_nil.pdf", "pdf"), ("memo_scan.png", "image"), ("memo_scan.jpg", "image"),
])
def test_sniff_by_content(name: str, kind: str) -> None:
    assert sniff("whatever.bin", (FILES / name).read_bytes()) == kind


def test_a_file_that_lies_about_its_name() -> None:
    assert sniff("Complaint_01.xlsx", b"<html><table>...</table></html>") == "corrupt"
    assert sniff("Complaint_01.xlsx", (FILES / "memo_nil.pdf").read_bytes()) == "pdf"


@pytest.mark.slow  # Tesseract OCR
def test_scans_wait_for_the_ocr_queue_and_without_ocr_need_a_person(monkeypatch: pytest.MonkeyPatch, parsers) -> None:
    scan = [Attachment("scan.png", "image/png", (FILES / "memo_scan.png").read_bytes())]
    waiting = read_documents(scan, parsers)  # on the intake path: no OCR, the scan is queued
    assert waiting.scans == [scan_key(scan[0].data)] and [f.kind for f in waiting.files] == ["scan"]
    assert waiting.memo_nil == [] and waiting.review_reasons == []
    monkeypatch.setattr(ocr, "ocr_languages", lambda: frozenset())
    texts = ocr_attachments(scan)
    assert texts == {scan_key(scan[0].data): None}
    doc = read_documents(scan, parsers, texts)
    assert doc.scans == [] and doc.memo_nil == [] and doc.review_reasons


def test_a_good_file_is_read_beside_a_broken_one(parsers) -> None:
    good = complaint_02("ศูนย์อนามัยที่ 1", Period(2026, 11), {})
    doc = read_documents([Attachment("a.xlsx", "", b"PK\x03\x04broken"), Attachment("b.xlsx", "", good),
                          Attachment("c.zip", "", b"PK\x05\x06" + b"\x00" * 18)], parsers)
    assert [f.form for f in doc.forms] == ["complaint_02"]
    assert sorted(p.code for p in doc.problems) == ["empty_attachment", "unreadable_attachment"]


def _seed_attachments() -> list[bytes]:
    return [(FILES / n).read_bytes() for n in ("c01.xls", "c01.ods", "c01.xlsm", "memo_nil.pdf")] + [
        complaint_02("x", Period(2026, 11), {})]


SEEDS = _seed_attachments()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=20),
       st.sampled_from(["x.xlsx", "x.xls", "x.ods", "x.pdf", "x.csv", "x.zip", "x.docx", "x.bin"]))
def test_mutated_files_never_raise(parsers, seed: bytes, flips: list[tuple[int, int]], name: str) -> None:
    data = bytearray(seed)
    for pos, value in flips:
        data[pos % len(data)] = value
    doc = read_documents([Attachment(name, "application/octet-stream", bytes(data))], parsers)
    assert all(p.code and problem_text(p.code, p.params) for p in doc.problems)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_as_a_message_never_raise(parsers, raw: bytes) -> None:
    mail = parse_message(raw)
    read_documents(mail.attachments, parsers)


RAW_MESSAGES = [p.read_bytes() for p in sorted(DATA.glob("*.eml"))[:20]]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(RAW_MESSAGES), st.integers(min_value=0), st.binary(min_size=1, max_size=64))
def test_corrupted_real_messages_never_raise(parsers, raw: bytes, pos: int, junk: bytes) -> None:
    at = pos % len(raw)
    mail = parse_message(raw[:at] + junk + raw[at + len(junk):])
    read_documents(mail.attachments, parsers)


def test_a_charset_label_with_a_nul_in_it_does_not_stop_the_parse() -> None:
    """Found by the test above: an encoded-word labelled "\\x00tf-8" made the codec lookup raise ValueError."""
    raw = (b"From: hpc01@anamai.example.go.th\nSubject: =?\x00tf-8?b?4Liq4LmI4LiH?= 2569\n"
           b"Content-Type: text/plain; charset=\"\x00tf-8\"\n\nabc\n")
    mail = parse_message(raw)
    assert mail.subject.endswith("2569") and mail.text.strip() == "abc"


def cp874_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A zip as Thai Windows writes it: member names in cp874 bytes, without the UTF-8 flag."""
    buf = io.BytesIO()
    placeholders = []
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, data) in enumerate(members):
            raw = name.encode("cp874")
            placeholder = f"{i:0{len(raw)}d}".encode()  # same length, ASCII: zipfile sets no flag
            placeholders.append((placeholder, raw))
            zf.writestr(placeholder.decode(), data)
    out = buf.getvalue()
    for placeholder, raw in placeholders:
        out = out.replace(placeholder, raw)
    return out


def test_zip_member_names_in_cp874_are_decoded(parsers) -> None:
    data = cp874_zip([("แบบ02.xlsx", complaint_02("x", Period(2026, 11), {}))])
    doc = read_documents([Attachment("r.zip", "application/zip", data)], parsers)
    assert [f.filename for f in doc.files] == ["แบบ02.xlsx"]


def _repacked(data: bytes, rename, rewrite=lambda b: b) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(rename(item.filename), rewrite(src.read(item)))
    return out.getvalue()


def _chart_sheet_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "Complaint_02"
    for row in (["ประเภท", "จำนวนที่ได้รับ", "ดำเนินการแล้วเสร็จ"], ["ข้อร้องเรียน", 0, 0], ["ข้อเสนอแนะ", 0, 0]):
        ws.append(row)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3))
    wb.create_chartsheet("กราฟ", 0).add_chart(chart)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("case", ["backslash member names", "no xl folder", "chart sheet first"])
def test_odd_but_valid_workbooks_are_read(case: str, parsers) -> None:  # type: ignore[no-untyped-def]
    form = complaint_02("ศูนย์อนามัยที่ 1", Period(2026, 11), {})
    data = {
        "backslash member names": lambda: _repacked(form, lambda n: n.replace("/", "\\")),
        "no xl folder": lambda: _repacked(form, lambda n: n.replace("xl/", "excel/"),
                                          lambda b: b.replace(b"/xl/", b"/excel/").replace(b'"xl/', b'"excel/')),
        "chart sheet first": _chart_sheet_workbook,
    }[case]()
    doc = read_documents([Attachment("Complaint_02.xlsx", "", data)], parsers)
    assert [f.form for f in doc.forms] == ["complaint_02"] and doc.problems == [], doc.problems


def test_password_protected_odf_says_remove_the_password(parsers) -> None:  # type: ignore[no-untyped-def]
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", b"\x8f\x12 encrypted bytes")
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                   'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data '
                   'manifest:checksum-type="SHA1"/></manifest:file-entry></manifest:manifest>')
    doc = read_documents([Attachment("Complaint_02.ods", "", ods.getvalue())], parsers)
    assert [p.code for p in doc.problems] == ["encrypted_attachment"] and "รหัสผ่าน" in problem_text(doc.problems[0].code, doc.problems[0].params)


def test_password_protected_xls_says_remove_the_password(parsers) -> None:  # type: ignore[no-untyped-def]
    """BIFF: a FILEPASS record right after the workbook stream's BOF (as Excel and LibreOffice write it)."""
    data = (FILES / "c01.xls").read_bytes()
    bof = data.find(b"\x09\x08\x10\x00")
    protected = data[:bof + 20] + b"\x2f\x00" + data[bof + 22:]
    assert sniff("c01.xls", data) == "workbook" and sniff("c01.xls", protected) == "encrypted"
    doc = read_documents([Attachment("Complaint_01.xls", "", protected)], parsers)
    assert [p.code for p in doc.problems] == ["encrypted_attachment"]
