"""The canonical Complaint_01 / Complaint_02 workbooks, blank or filled (for units, demos and tests)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from scoring.periods import BE_OFFSET, Period
from scoring.status import CATEGORIES
from mailer.words import CATEGORY_THAI

FONT = "TH SarabunPSK"
C01_HEADERS = (
    ("ลำดับ", 7), ("วันที่รับเรื่อง", 14), ("ช่องทางการรับเรื่อง", 18), ("ประเภท", 14),
    ("เรื่อง/รายละเอียดโดยย่อ", 40), ("ชื่อผู้ร้อง", 20), ("การดำเนินการ", 34),
    ("ผลการดำเนินการ", 20), ("วันที่แล้วเสร็จ", 14), ("หมายเหตุ", 18),
)
C02_HEADERS = (("ประเภท", 22), ("จำนวนที่ได้รับ", 16), ("ดำเนินการแล้วเสร็จ", 18), ("อยู่ระหว่างดำเนินการ", 20))
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class Case:
    received: date
    channel: str
    category: str  # one of CATEGORIES
    subject: str
    complainant: str = ""
    action: str = ""
    done: bool = True
    completed: date | None = None
    note: str = ""


def be_date(day: date) -> str:
    return f"{day.day}/{day.month}/{day.year + BE_OFFSET}"


def _title(ws, text: str, row: int, width: int, size: int = 16, bold: bool = True) -> None:  # type: ignore[no-untyped-def]
    ws.cell(row=row, column=1, value=text).font = Font(name=FONT, size=size, bold=bold)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.cell(row=row, column=1).alignment = Alignment(horizontal="center")


def _header(ws, row: int, headers: Sequence[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    for col, (label, width) in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=label)
        cell.font = Font(name=FONT, size=14, bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _form_sheet(wb: Workbook, name: str, title: str, unit_name: str, period: Period | None,
                headers: Sequence[tuple[str, int]]):  # type: ignore[no-untyped-def]
    """The form's sheet with its three title rows (form, unit, month: where readers find them) and header."""
    ws = wb.active
    ws.title = name
    _title(ws, f"{title} ({name})", 1, len(headers))
    _title(ws, f"หน่วยงาน {unit_name}".rstrip(), 2, len(headers), 14, False)
    month = f"ประจำเดือน {period.thai().replace(' ', ' พ.ศ. ')}" if period else "ประจำเดือน ............ พ.ศ. ........"
    _title(ws, month, 3, len(headers), 14, False)
    _header(ws, 5, headers)
    return ws


def complaint_01(unit_name: str = "", period: Period | None = None, cases: Sequence[Case] = ()) -> bytes:
    wb = Workbook()
    ws = _form_sheet(wb, "Complaint_01", "แบบรายงานการจัดการข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น คำชมเชย", unit_name,
                     period, C01_HEADERS)
    dv = DataValidation(type="list", formula1='"ข้อร้องเรียน,ข้อเสนอแนะ,ข้อคิดเห็น,คำชมเชย"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("D6:D500")
    result_dv = DataValidation(type="list", formula1='"แล้วเสร็จ,อยู่ระหว่างดำเนินการ"', allow_blank=True)
    ws.add_data_validation(result_dv)
    result_dv.add("H6:H500")
    for i, case in enumerate(cases, start=1):
        values = (
            i, be_date(case.received), case.channel, CATEGORY_THAI[case.category], case.subject, case.complainant,
            case.action, "แล้วเสร็จ" if case.done else "อยู่ระหว่างดำเนินการ",
            be_date(case.completed) if case.completed else "", case.note,
        )
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=5 + i, column=col, value=value)
            cell.font = Font(name=FONT, size=14)
            cell.border = _BOX
    return _save(wb)


def complaint_02(unit_name: str = "", period: Period | None = None,
                 counts: Mapping[str, tuple[int, int, int]] | None = None) -> bytes:
    """Counts per category as (received, done, in progress); None writes a blank form."""
    wb = Workbook()
    ws = _form_sheet(wb, "Complaint_02", "แบบสรุปการจัดการข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น คำชมเชย", unit_name,
                     period, C02_HEADERS)
    width = len(C02_HEADERS)
    totals = [0, 0, 0]
    for i, cat in enumerate(CATEGORIES, start=6):
        values: list[object] = [CATEGORY_THAI[cat]]
        if counts is not None:
            nums = counts.get(cat, (0, 0, 0))
            values += list(nums)
            totals = [a + b for a, b in zip(totals, nums)]
        for col, value in enumerate(values, start=1):
            ws.cell(row=i, column=col, value=value)
        for col in range(1, width + 1):
            ws.cell(row=i, column=col).border = _BOX
            ws.cell(row=i, column=col).font = Font(name=FONT, size=14)
    total_row = 6 + len(CATEGORIES)
    ws.cell(row=total_row, column=1, value="รวม").font = Font(name=FONT, size=14, bold=True)
    for col in range(2, width + 1):
        letter = get_column_letter(col)
        ws.cell(row=total_row, column=col, value=f"=SUM({letter}6:{letter}{total_row - 1})")
    for col in range(1, width + 1):
        ws.cell(row=total_row, column=col).border = _BOX
    return _save(wb)
