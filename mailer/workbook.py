"""The digest workbook, streamed with openpyxl's write-only mode: formal Thai layout, BE dates, a chart.

Sheets: สรุป (summary), สถานะหน่วยงาน (every unit), รายการเรื่อง (every case, personal data masked),
ปีงบประมาณ (units × months coloured by status, scores, and a native bar chart), ปัญหา, การดำเนินการ.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from mailer.digest import STATUS_ORDER, DigestData
from config.privacy import mask_name, mask_text, safe_cell
from mailer.problem_text import problem_text
from mailer.staff_mail import ACTION_THAI, refusal_thai
from scoring.periods import THAI_MONTHS_ABBR, thai_datetime
from scoring.status import CATEGORIES, CATEGORY_THAI, STATUS_THAI

FONT_NAME = "TH Sarabun New"
BODY = Font(name=FONT_NAME, size=14)
BOLD = Font(name=FONT_NAME, size=14, bold=True)
TITLE = Font(name=FONT_NAME, size=18, bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
STATUS_FILL = {
    "on_time": PatternFill("solid", fgColor="C6EFCE"), "late": PatternFill("solid", fgColor="FFEB9C"),
    "missing": PatternFill("solid", fgColor="FFC7CE"), "incomplete": PatternFill("solid", fgColor="F8CBAD"),
    "needs_review": PatternFill("solid", fgColor="BDD7EE"), "exempt": PatternFill("solid", fgColor="D9D9D9"),
    "pending": PatternFill("solid", fgColor="FFFFFF"),
}
_THIN = Side(style="thin", color="999999")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
RESULT_THAI = {"done": "แล้วเสร็จ", "in_progress": "อยู่ระหว่างดำเนินการ"}


# A real date, shown in the Buddhist Era as Thai officers write it (5/11/2569): LCID 041E (Thai) with
# calendar 07 (Thai Buddhist), understood by Excel and LibreOffice; sorting and filtering stay by date.
BE_DATE = "[$-107041E]d/m/yyyy"
ROW_HEIGHT = 21.75  # points: TH Sarabun New 14 pt with Thai marks above and below the line
TITLE_HEIGHT = 30.0  # 18 pt titles


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs: Thai vowel and tone marks take no width; TH Sarabun is narrow."""
    base = sum(1 for ch in text if unicodedata.category(ch) not in ("Mn", "Mc"))
    return max(1, -(-int(base * 0.8) // max(int(width), 1)) + text.count("\n"))


class _Sheet:
    """A write-only sheet with Thai styling: cells are made with a font, a border and a safe value."""

    def __init__(self, wb: Workbook, title: str, widths: Sequence[float], header_row: int = 2) -> None:
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title)
        # A write-only sheet writes its views and columns with the first row: set them now.
        for i, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.ws.freeze_panes = f"A{header_row + 1}"
        # Printed as officers file it: landscape, one page wide, the header repeated on every page.
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = "9"  # A4
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth, self.ws.page_setup.fitToHeight = 1, 0
        self.ws.print_title_rows = f"{header_row}:{header_row}"
        # Rows default to a height that fits the Thai font (the 15 pt default clips it in LibreOffice).
        self.ws.sheet_format.defaultRowHeight = ROW_HEIGHT
        self.ws.sheet_format.customHeight = True
        self.widths = list(widths)
        self.header_row = header_row
        self.rows = 0
        self.width = len(widths)

    def cell(self, value: object, font: Font = BODY, fill: PatternFill | None = None, box: bool = True,
             wrap: bool = False) -> Cell:
        c = WriteOnlyCell(self.ws, value=safe_cell(value))
        c.font = font
        if isinstance(value, (date, datetime)):
            c.number_format = BE_DATE
        if fill is not None:
            c.fill = fill
        if box:
            c.border = BOX
        if wrap:
            c.alignment = Alignment(wrap_text=True, vertical="top")
        return c

    def row(self, values: Sequence[object], **kw: object) -> None:
        cells = [v if isinstance(v, Cell) else self.cell(v, **kw) for v in values]  # type: ignore[arg-type]
        lines = max((_lines(str(c.value), self.widths[i]) for i, c in enumerate(cells)
                     if i < len(self.widths) and c.alignment is not None and c.alignment.wrap_text
                     and isinstance(c.value, str)), default=1)
        if lines > 1:  # a wrapped cell: as tall as its text (a row of a write-only sheet is sized before it is written)
            self.ws.row_dimensions[self.rows + 1].height = lines * ROW_HEIGHT
        self.ws.append(cells)
        self.rows += 1

    def title(self, text: str) -> None:
        self.ws.row_dimensions[self.rows + 1].height = TITLE_HEIGHT
        self.ws.append([self.cell(text, TITLE, box=False)])
        self.rows += 1

    def header(self, labels: Sequence[str]) -> None:
        """The table's header row (frozen, see __init__): bold on blue."""
        self.row([self.cell(label, BOLD, HEAD_FILL, wrap=True) for label in labels])
        assert self.rows == self.header_row, "the header must be at the row given to _Sheet"

    def filter(self) -> None:
        last = get_column_letter(self.width)
        self.ws.auto_filter.ref = f"A{self.header_row}:{last}{max(self.rows, self.header_row)}"


def _summary(wb: Workbook, data: DigestData, tz_of: datetime) -> None:
    s = _Sheet(wb, "สรุป", [34, 16, 16], header_row=5)
    s.title(f"สรุปการส่งรายงานการจัดการข้อร้องเรียน ประจำเดือน{data.period.thai()}")
    s.row([s.cell(f"กำหนดส่ง {thai_datetime(data.deadline.astimezone(tz_of.tzinfo))}", box=False)])
    s.row([s.cell(f"ข้อมูล ณ {thai_datetime(data.as_of.astimezone(tz_of.tzinfo))}", box=False)])
    s.row([])
    s.header(["สถานะ", "จำนวนหน่วยงาน", "ร้อยละ"])
    counts = data.status_counts()
    total = max(len(data.units), 1)
    for status in STATUS_ORDER:
        s.row([s.cell(STATUS_THAI[status], fill=STATUS_FILL[status]), counts[status], round(100 * counts[status] / total, 1)])
    s.row([s.cell("รวม", BOLD), s.cell(len(data.units), BOLD), s.cell(100 if data.units else 0, BOLD)])
    s.row([])
    s.row([s.cell("ประเภทเรื่อง", BOLD, HEAD_FILL), s.cell("จำนวนเรื่อง", BOLD, HEAD_FILL)])
    for cat, n in data.category_totals().items():
        s.row([CATEGORY_THAI[cat], n])
    s.row([])
    s.row([s.cell("ช่องทางการรับเรื่อง", BOLD, HEAD_FILL), s.cell("จำนวนเรื่อง", BOLD, HEAD_FILL)])
    for channel, n in sorted(data.channels.items(), key=lambda kv: -kv[1]):
        s.row([channel or "(ไม่ระบุ)", n])
    if data.unreachable:
        s.row([])
        s.row([s.cell("ที่อยู่อีเมลที่ส่งไม่ถึง", BOLD, HEAD_FILL), s.cell("รหัสสถานะ", BOLD, HEAD_FILL),
               s.cell("เหตุผล", BOLD, HEAD_FILL)])
        for address, status, reason in data.unreachable:
            s.row([address, status, reason])


def _units(wb: Workbook, data: DigestData, tz_of: datetime) -> None:
    labels = ["รหัส", "หน่วยงาน", "สถานะ", "ประเภทรายงาน", "วันเวลาที่ครบถ้วน",
              *(CATEGORY_THAI[c] for c in CATEGORIES), "ปัญหาที่พบ"]
    s = _Sheet(wb, "สถานะหน่วยงาน", [10, 36, 18, 16, 24, 12, 12, 12, 12, 40])
    s.title(f"สถานะการส่งรายงานรายหน่วยงาน ประจำเดือน{data.period.thai()}")
    s.header(labels)
    kinds = {"complaints": "มีเรื่อง", "nil": "ไม่มีเรื่อง"}
    for u in data.units:
        completed = thai_datetime(u.completed_at.astimezone(tz_of.tzinfo)) if u.completed_at else ""
        s.row([u.code, u.name, s.cell(STATUS_THAI.get(u.status, u.status), fill=STATUS_FILL.get(u.status)),
               kinds.get(u.kind or "", ""), completed, *(u.counts.get(c, 0) for c in CATEGORIES),
               s.cell(", ".join(sorted({p[0] for p in u.problems})), wrap=True)])
    s.filter()


def _cases(wb: Workbook, data: DigestData) -> int:
    labels = ["รหัสหน่วยงาน", "หน่วยงาน", "เดือน", "ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท",
              "เรื่อง/รายละเอียดโดยย่อ", "ชื่อผู้ร้อง", "การดำเนินการ", "ผลการดำเนินการ", "วันที่แล้วเสร็จ", "หมายเหตุ"]
    s = _Sheet(wb, "รายการเรื่อง", [12, 30, 16, 8, 14, 16, 14, 44, 20, 36, 18, 14, 20])
    s.title(f"รายการเรื่องทั้งหมด ประจำเดือน{data.period.thai()}"
            + ("" if data.include_personal else " (ปกปิดข้อมูลส่วนบุคคล)"))
    s.header(labels)
    n = 0
    privacy = (lambda t: t) if data.include_personal else mask_text
    # Hundreds of thousands of rows: plain values (the workbook's default font is the Thai one, see
    # build_workbook); a styled cell costs openpyxl about three times as much.
    def day(value: date | None) -> object:
        if value is None:
            return ""
        c = WriteOnlyCell(s.ws, value=value)
        c.number_format = BE_DATE
        return c

    for case in data.cases:
        name = case.complainant if data.include_personal else mask_name(case.complainant)
        s.ws.append([safe_cell(v) for v in (
            case.unit_code, case.unit_name, case.period.thai(), case.seq, day(case.received), privacy(case.channel),
            CATEGORY_THAI.get(case.category or "", ""), privacy(case.subject), name, privacy(case.action),
            RESULT_THAI.get(case.result or "", ""), day(case.completed), privacy(case.note))])
        s.rows += 1
        n += 1
    s.filter()
    return n


def _matrix(wb: Workbook, data: DigestData) -> None:
    months = [f"{THAI_MONTHS_ABBR[p.month - 1]} {p.be_year % 100:02d}" for p in data.matrix_periods]
    tail = ["ครบกำหนด", "ตรงเวลา", "ล่าช้า", "ไม่ส่ง", "ยกเว้น", "คะแนน", "ระดับ"]
    s = _Sheet(wb, f"ปีงบประมาณ {data.fiscal_year}", [10, 32, *([9] * len(months)), *([10] * len(tail))])
    s.title(f"ผลการส่งรายงานรายเดือน ปีงบประมาณ พ.ศ. {data.fiscal_year}")
    s.header(["รหัส", "หน่วยงาน", *months, *tail])
    short = {"on_time": "ตรงเวลา", "late": "ล่าช้า", "missing": "ไม่ส่ง", "incomplete": "ไม่ครบ",
             "needs_review": "รอตรวจ", "exempt": "ยกเว้น", "pending": "รอส่ง"}
    for row in data.matrix:
        cells = [s.cell(short.get(st or "", ""), fill=STATUS_FILL.get(st or "")) for st in row.statuses]
        sc = row.score
        s.row([row.unit_code, row.unit_name, *cells, sc.due, sc.on_time, sc.late, sc.missing, sc.exempt,
               s.cell(sc.score, BOLD), s.cell(sc.level, BOLD)])
    s.filter()
    # The monthly picture below the matrix, and a native stacked bar chart of it.
    monthly = data.monthly()
    s.row([])
    s.row([])
    first = s.rows + 1
    s.row([s.cell("เดือน", BOLD, HEAD_FILL), s.cell("ตรงเวลา", BOLD, HEAD_FILL), s.cell("ล่าช้า", BOLD, HEAD_FILL),
           s.cell("ไม่ส่ง/ไม่ครบ", BOLD, HEAD_FILL), s.cell("รอตรวจ", BOLD, HEAD_FILL)])
    for p, on_time, late, missing, review in monthly:
        s.row([p.thai(), on_time, late, missing, review])
    if monthly:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = f"ผลการส่งรายงาน ปีงบประมาณ {data.fiscal_year}"
        chart.y_axis.title, chart.x_axis.title = "จำนวนหน่วยงาน", "เดือน"
        values = Reference(s.ws, min_col=2, max_col=5, min_row=first, max_row=first + len(monthly))
        chart.add_data(values, titles_from_data=True)
        chart.set_categories(Reference(s.ws, min_col=1, min_row=first + 1, max_row=first + len(monthly)))
        for series, color in zip(chart.series, ("2E9E4F", "E0A800", "D9534F", "5B9BD5")):  # green, amber, red, blue
            series.graphicalProperties.solidFill = color
            series.graphicalProperties.line.solidFill = color
        chart.height, chart.width = 9, 18
        s.ws.add_chart(chart, f"F{first}")


def _problems(wb: Workbook, data: DigestData) -> None:
    s = _Sheet(wb, "ปัญหา", [10, 30, 22, 12, 80])
    s.title(f"ปัญหาที่พบในรายงาน ประจำเดือน{data.period.thai()}")
    s.header(["รหัส", "หน่วยงาน", "รหัสปัญหา", "ระดับ", "รายละเอียดและวิธีแก้ไข"])
    for u in data.units:
        for code, severity, params in u.problems:
            message = problem_text(code, params)
            s.row([u.code, u.name, code, "ต้องแก้ไข" if severity == "error" else "ข้อสังเกต",
                   s.cell(mask_text(message), wrap=True)])
    s.filter()


def _actions(wb: Workbook, data: DigestData, tz_of: datetime) -> None:
    s = _Sheet(wb, "การดำเนินการ", [24, 14, 10, 10, 20, 50])
    s.title("การดำเนินการของสำนักงานเลขานุการกรม")
    s.header(["วันเวลา", "การดำเนินการ", "หน่วยงาน", "เดือน", "ผู้ดำเนินการ", "เหตุผล"])
    for when, kind, unit, period, actor, reason in data.actions:
        s.row([thai_datetime(when.astimezone(tz_of.tzinfo)), ACTION_THAI.get(kind, kind), unit, period, actor,
               s.cell(reason, wrap=True)])
    for when, sender, why in data.refused:
        s.row([thai_datetime(when.astimezone(tz_of.tzinfo)), ACTION_THAI["refused"], "", "", sender,
               s.cell(refusal_thai(why), wrap=True)])
    s.filter()


def build_workbook(data: DigestData) -> tuple[bytes, int]:
    """The digest workbook as bytes, and the number of case rows written."""
    wb = Workbook(write_only=True)
    # Unstyled cells use the workbook's first font: make it the Thai one (openpyxl has no public
    # setting for the default font; this list has held it since openpyxl 2.x).
    wb._fonts = IndexedList([BODY])  # type: ignore[attr-defined]
    tz_of = data.as_of
    _summary(wb, data, tz_of)
    _units(wb, data, tz_of)
    cases = _cases(wb, data)
    _matrix(wb, data)
    _problems(wb, data)
    _actions(wb, data, tz_of)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), cases
