"""Files and message structures other software writes (tests/data/others/SOURCES.md names each file's origin):
Outlook's winmail.dat (TNEF), a forward whose message/rfc822 part is base64, a form uuencoded in the body, an .xls
with Word documents embedded in it, a Gnumeric workbook declaring the whole sheet, and the receipt's words for a
file refused by a size limit."""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile

import pytest

from bot.samples import forms, make_mail, sample_cases
from mailer.blank_forms import complaint_02
from intake.containers import MAX_SHEET_ROWS
from intake.documents import _limits, read_attachment, sniff
from intake.message import Attachment, parse_message
from mailer.problem_text import file_note_text, problem_text
from scoring.periods import Period
from tests import hostile_files
from tests.clients import ADDRESS, NOV_ARRIVAL, SECRETARIAT, nil_expected
from tests.clients.tnef import winmail
from tests.golden import check_golden
from tests.paths import DATA
from mailer.words import CATALOGUE, FILE_NOTES

OTHERS = DATA / "others"
NOV = Period(2026, 11)
NAME1 = "ศูนย์อนามัยที่ 1 เชียงใหม่"


def _forms_expected(c01: int | None, c02: int | None, kind: str, **extra: object) -> dict:
    return {**nil_expected("HPC01"), "period_rule": "form", "c01_rows": c01, "c02_total": c02, "nil": False,
            "kind": kind, **extra}


# --- Outlook's winmail.dat ---------------------------------------------------------------------------------------

def test_tnef_files_from_tnefparse_are_listed_as_files() -> None:
    """tnefparse's own examples: every file inside is named in the receipt (none is a form)."""
    for name, inside in (("two-files.tnef", ["AUTHORS", "README"]),
                         ("umlaut.tnef", ["TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"])):
        data = (OTHERS / "tnefparse" / name).read_bytes()
        assert sniff("winmail.dat", data) == "tnef"
        doc = read_attachment(Attachment("winmail.dat", "application/ms-tnef", data), None)
        assert [f.filename for f in doc.files] == [n for n in inside if n != "image003.jpg"]  # a 1 KB logo is no scan
        assert doc.problems == []


def test_a_form_inside_winmail_dat_is_read(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """Outlook with rich text on: the text in a plain part, the form inside winmail.dat, named in cp874."""
    dat = winmail([("แบบ Complaint_02 พฤศจิกายน 2569.xlsx", complaint_02(NAME1, NOV, {}))])
    raw = (f"From: =?windows-874?B?{base64.b64encode(NAME1.encode('cp874')).decode()}?=\r\n\t<{ADDRESS['HPC01']}>\r\n"
           f"To: {SECRETARIAT}\r\nSubject: Complaint_02\r\nMessage-ID: <tnef.1@anamai.example.go.th>\r\n"
           "X-Mailer: Microsoft Outlook 16.0\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed;\r\n\tboundary=\"----=_NextPart_000_0001\"\r\n\r\n"
           "------=_NextPart_000_0001\r\nContent-Type: text/plain;\r\n\tcharset=\"utf-8\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes("แนบแบบ 02 ครับ".encode()).decode()
           + "\r\n------=_NextPart_000_0001\r\nContent-Type: application/ms-tnef;\r\n\tname=\"winmail.dat\"\r\n"
           "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"winmail.dat\"\r\n\r\n"
           + base64.encodebytes(dat).decode() + "\r\n------=_NextPart_000_0001--\r\n").encode()
    check_golden(make_app(sqlite_only_url), raw, _forms_expected(None, 0, "nil"))


# --- Forwarded and encoded the way some clients do it -----------------------------------------------------------

def test_a_forward_whose_message_part_is_base64_is_read(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    inner = make_mail(sender=f"clerk01@anamai.example.go.th", to=ADDRESS["HPC01"], subject="รายงาน", body="ฝากส่ง",
                      date_=NOV_ARRIVAL, attachments=forms(NAME1, NOV, sample_cases(NOV, 2)))
    raw = (f"From: {ADDRESS['HPC01']}\r\nTo: {SECRETARIAT}\r\nSubject: Fwd: รายงาน\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n--fwd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "ส่งต่อรายงานครับ\r\n--fwd\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(inner).decode() + "\r\n--fwd--\r\n").encode()
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == ["Complaint_01.xlsx", "Complaint_02.xlsx"]
    assert parsed.forwarded[0].from_addr == "clerk01@anamai.example.go.th" and parsed.forwarded[0].text.strip() == "ฝากส่ง"
    check_golden(make_app(sqlite_only_url), raw, _forms_expected(2, 2, "complaints"))


def _uuencoded(name: str, data: bytes) -> str:
    lines = "".join(binascii.b2a_uu(data[i:i + 45]).decode() for i in range(0, len(data), 45))
    return f"begin 644 {name}\n{lines}`\nend\n"


def test_a_form_uuencoded_in_the_body_is_read(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    body = "เรียน สลก.\n\nแนบแบบ 02 ครับ\n\n" + _uuencoded("Complaint_02.xlsx", complaint_02(NAME1, NOV, {})) + "\nขอบคุณครับ\n"
    raw = make_mail(sender=ADDRESS["HPC01"], to=SECRETARIAT, subject="รายงาน", body=body, date_=NOV_ARRIVAL)
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == ["Complaint_02.xlsx"] and "begin 644" not in parsed.text
    assert "ขอบคุณครับ" in parsed.text
    check_golden(make_app(sqlite_only_url), raw, _forms_expected(None, 0, "nil"))


def test_text_that_only_looks_uuencoded_stays_text() -> None:
    body = "begin 644 notes.txt\nthis is not uuencoded !!!\nend\nไม่มีข้อร้องเรียน"
    parsed = parse_message(make_mail(sender=ADDRESS["HPC01"], to=SECRETARIAT, subject="x", body=body,
                                     date_=NOV_ARRIVAL))
    assert parsed.attachments == [] and "this is not uuencoded" in parsed.text


# --- Compound files and declared ranges -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["WithEmbeddedObjects.xls", "ole2-embedding.xls"])
def test_an_xls_with_an_embedded_word_document_is_a_workbook(name: str) -> None:
    """Apache POI's test files: "WordDocument" appears inside an embedded object, not at the root."""
    data = (OTHERS / "poi" / name).read_bytes()
    assert sniff(name, data) == "workbook"
    doc = read_attachment(Attachment(name, "application/vnd.ms-excel", data), None)
    assert "unsupported_format" not in {p.code for p in doc.problems}
    assert [f.detail for f in doc.files] == ["no_form_table"]  # read as a workbook (POI's sheets are no form)


def test_a_word_file_is_still_a_word_file() -> None:
    """The root decides both ways: POI's .doc (WordDocument at its root) is an old Word file."""
    data = (OTHERS / "poi" / "52117.doc").read_bytes()
    assert sniff("memo.doc", data) == sniff("memo.xls", data) == "doc"


def _declare_whole_sheet(data: bytes) -> bytes:
    return hostile_files.rewrite_sheets(
        data, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml))


def test_a_gnumeric_workbook_declaring_the_whole_sheet_is_read_by_what_it_holds() -> None:
    gnumeric = (OTHERS / "gnumeric" / "c02.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(gnumeric)) as package:  # written by Gnumeric: its namespace in the sheet XML
        assert b"www.gnumeric.org" in package.read("xl/worksheets/sheet1.xml")
    for data in (gnumeric, _declare_whole_sheet(gnumeric)):
        doc = read_attachment(Attachment("Complaint_02.xlsx", "", data), None)
        assert [(f.kind, f.detail, f.params.get("total")) for f in doc.files] == [("complaint_02", "c02_total", "2")]
        assert doc.problems == []
    # Cells that really span the sheet (only A1 and XFD1048576) stay refused before any reader sees them.
    far = read_attachment(Attachment("Complaint_01.xlsx", "", hostile_files.far_cell_xlsx(dimension=True)), None)
    assert [(f.kind, f.detail) for f in far.files] == [("unreadable", "sheet_too_large")]


# --- The receipt's words --------------------------------------------------------------------------------------------

def test_every_problem_and_file_note_renders_with_its_parameters() -> None:
    """No `{placeholder}` is ever left in what a person reads: each code with the parameters intake gives it."""
    for code in CATALOGUE:
        params = {"file": "a.xlsx", **_limits(code)}
        for text in (problem_text(code, params), file_note_text("unreadable", code, _limits(code))):
            assert "{" not in text and "}" not in text, (code, text)
    for note in FILE_NOTES:
        assert "{" not in file_note_text("memo", note, {"how": "pdf", "sheet": "1", "rows": "2", "total": "3"})
    far = read_attachment(Attachment("Complaint_01.xlsx", "", hostile_files.far_cell_xlsx(dimension=True)), None)
    [note] = far.files
    text = file_note_text(note.kind, note.detail, note.params)
    assert f"{MAX_SHEET_ROWS:,}" in text and "{" not in text


def test_a_native_panic_in_a_reader_costs_only_its_file(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """python-calamine panics (a BaseException) on Apache POI's Simple.xlsb: that file is unreadable, the valid
    Complaint_02 beside it counts, and the receipt goes to the unit by name."""
    xlsb = (OTHERS / "poi" / "Simple.xlsb").read_bytes()
    doc = read_attachment(Attachment("Simple.xlsb", "", xlsb), None)
    assert [(f.kind, f.detail) for f in doc.files] == [("unreadable", "unreadable_attachment")]
    raw = make_mail(sender=ADDRESS["HPC01"], to=SECRETARIAT, subject="รายงาน", body="แนบแบบ 02 ครับ",
                    date_=NOV_ARRIVAL, attachments=[("Simple.xlsb", xlsb),
                                                    ("Complaint_02.xlsx", complaint_02(NAME1, NOV, {}))])
    check_golden(make_app(sqlite_only_url), raw,
                 _forms_expected(None, 0, "nil", problems=["unreadable_attachment"]))
