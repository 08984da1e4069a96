"""The digest workbook: formal Thai layout, BE dates, a chart, written with XlsxWriter.

Sheets: สรุป (summary), สถานะหน่วยงาน (every unit), รายการเรื่อง (every case, personal data masked),
ปีงบประมาณ (units × months coloured by status, scores, and a native bar chart), ปัญหา, การดำเนินการ.

A department-wide digest holds 200,000 cases, 2.6 million cells: XlsxWriter's constant_memory mode writes them in
flat memory (25.8 s and 134 MB peak here; a realistic year of 24,000 cases in 3.9 s). docs/dependencies.md says
why this writer; openpyxl still writes the blank forms and reads workbooks.
"""

from __future__ import annotations

import io
import itertools
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from mailer.digest import STATUS_ORDER, CaseLine, DigestData, action_reason, month_words, problem_list
from config.privacy import mask_name, mask_text, safe_cell
from mailer.problem_text import problem_text
from mailer.text_width import column_units
from mailer.staff_mail import refusal_thai
from scoring.periods import THAI_MONTHS_ABBR, thai_datetime
from scoring.status import CATEGORIES
from mailer.words import ACTION_THAI, CATEGORY_THAI, PROBLEM_SHORT, RESULT_THAI, STATUS_THAI

FONT_NAME = "TH Sarabun New"
HEAD_FILL = "DDEBF7"
STATUS_FILL = {"on_time": "C6EFCE", "late": "FFEB9C", "missing": "FFC7CE", "incomplete": "F8CBAD",
               "needs_review": "BDD7EE", "exempt": "D9D9D9", "pending": "FFFFFF"}
BOX_COLOR = "999999"


# A real date, shown in the Buddhist Era as Thai officers write it (5/11/2569): LCID 041E (Thai) with
# calendar 07 (Thai Buddhist), understood by Excel and LibreOffice; sorting and filtering stay by date.
BE_DATE = "[$-107041E]d/m/yyyy"
ROW_HEIGHT = 21.75  # points: TH Sarabun New 14 pt with Thai marks above and below the line
TITLE_HEIGHT = 30.0  # 18 pt titles
MAX_WIDTH = 60  # a column wider than this would shrink the printed page too much: its text wraps or is cut
CASE_CHUNK = 2000  # case rows handed to the writer at a time: one call per chunk, memory stays flat


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs: Thai vowel and tone marks take no width; TH Sarabun is narrow."""
    base = sum(1 for ch in text if unicodedata.category(ch) not in ("Mn", "Mc"))
    return max(1, -(-int(base * 0.8) // max(int(width), 1)) + text.count("\n"))


@dataclass(frozen=True)
class Style:
    """How a cell looks; every cell is in the Thai font."""

    size: int = 14
    bold: bool = False
    fill: str | None = None  # RGB hex
    box: bool = True  # a thin grey border
    wrap: bool = False
    date: bool = False  # shown as a Buddhist Era date


BODY, BOLD, TITLE = Style(), Style(bold=True), Style(size=18, bold=True, box=False)
HEAD = Style(bold=True, fill=HEAD_FILL, wrap=True)


class _Formats:
    """One writer Format per distinct Style, made on first use (a workbook holds a handful)."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._made: dict[Style, Format] = {}

    def __call__(self, style: Style) -> Format:
        made = self._made.get(style)
        if made is None:
            spec: dict[str, object] = {"font_name": FONT_NAME, "font_size": style.size}
            if style.bold:
                spec["bold"] = True
            if style.fill:
                spec.update(pattern=1, bg_color=f"#{style.fill}")
            if style.box:
                spec.update(border=1, border_color=f"#{BOX_COLOR}")
            if style.wrap:
                spec.update(text_wrap=True, valign="top")
            if style.date:
                spec["num_format"] = BE_DATE
            made = self._made[style] = self.wb.add_format(spec)
        return made


@dataclass(frozen=True)
class Cell:
    value: object
    style: Style = BODY


class _Sheet:
    """A sheet with Thai styling, written row by row: printed on A4 landscape, one page wide, its header
    repeated on every page and frozen on screen, every row tall enough for the Thai font."""

    def __init__(self, wb: Workbook, formats: _Formats, title: str, widths: Sequence[float],
                 header_row: int = 2, big: bool = False, one_page: bool = False) -> None:
        # Every sheet streams its rows to disk as they come (the workbook's constant_memory: rows in order,
        # a row's height set before its cells; nothing goes back up).
        self.ws = wb.add_worksheet(title)
        self.formats = formats
        for i, width in enumerate(widths):
            self.ws.set_column(i, i, width)
        self.ws.set_default_row(ROW_HEIGHT)  # the 15 pt default clips the Thai font in LibreOffice
        self.ws.freeze_panes(header_row, 0)
        self.ws.set_landscape()
        self.ws.set_paper(9)  # A4
        if one_page:  # several small tables: printed on one page, no table's header repeated over another's
            self.ws.fit_to_pages(1, 1)
        else:
            self.ws.fit_to_pages(1, 0)
            self.ws.repeat_rows(header_row - 1, header_row - 1)
        self.wb = wb
        self.widths = list(widths)
        self.needed = list(widths)  # what the boxed cells written so far need (mailer/text_width.py)
        self.measure = not big  # a big sheet's columns are sized by its declared widths (its long texts wrap)
        self.header_row = header_row  # 1-based, as a person counts rows
        self.rows = 0  # rows written so far: the next row's 0-based index
        self.width = len(widths)

    @staticmethod
    def cell(value: object, style: Style = BODY) -> Cell:
        value = safe_cell(value)
        if isinstance(value, (date, datetime)) and not style.date:
            style = replace(style, date=True)
        return Cell(value, style)

    def row(self, values: Sequence[object], style: Style = BODY) -> None:
        cells = [v if isinstance(v, Cell) else self.cell(v, style) for v in values]
        lines = max((_lines(c.value, self.widths[i]) for i, c in enumerate(cells)
                     if i < len(self.widths) and c.style.wrap and isinstance(c.value, str)), default=1)
        if lines > 1:  # a wrapped cell: as tall as its text
            self._height(lines * ROW_HEIGHT)
        for col, c in enumerate(cells):
            self.ws.write(self.rows, col, None if c.value == "" else c.value, self.formats(c.style))
            if self.measure and c.style.box and not c.style.wrap and col < self.width and c.value not in (None, ""):
                text = (f"{c.value.day}/{c.value.month}/{c.value.year + 543}" if isinstance(c.value, (date, datetime))
                        else str(c.value))  # a date shows as 5/11/2569 (BE_DATE)
                self.needed[col] = max(self.needed[col], column_units(text, c.style.size, c.style.bold))
        self.rows += 1

    def _height(self, points: float) -> None:
        """The next row's height (before its cells: the row is written out when the next one starts)."""
        self.ws.set_row(self.rows, points)

    def rows_of(self, values: list[list[object]], style: Style) -> None:
        """Many rows of plain values in one style. Each cell goes to the writer's method for its type, where
        `write_row` would ask each value its type through two more calls: 5 % fewer instructions for the
        case sheet (callgrind, bench/writers.py's two XlsxWriter rows)."""
        fmt, ws, row = self.formats(style), self.ws, self.rows
        text, when, blank, number = ws.write_string, ws.write_datetime, ws.write_blank, ws.write_number
        for offset, line in enumerate(values):
            r = row + offset
            for col, value in enumerate(line):
                kind = value.__class__
                if kind is str and value:
                    text(r, col, value, fmt)
                elif value is None or kind is str:
                    blank(r, col, None, fmt)
                elif kind is date or kind is datetime:
                    when(r, col, value, fmt)
                elif kind is int or kind is float:
                    number(r, col, value, fmt)
                else:  # anything else as the writer would take it
                    ws.write(r, col, value, fmt)
        self.rows += len(values)

    def title(self, text: str) -> None:
        self._height(TITLE_HEIGHT)
        self.row([self.cell(text, TITLE)])

    def header(self, labels: Sequence[str]) -> None:
        """The table's header row (frozen, see __init__): bold on blue."""
        self.row([self.cell(label, HEAD) for label in labels])
        assert self.rows == self.header_row, "the header must be at the row given to _Sheet"

    def filter(self) -> None:
        self.ws.autofilter(self.header_row - 1, 0, max(self.rows, self.header_row) - 1, self.width - 1)
        self.fit()

    def fit(self) -> None:
        """Widen each column to what its text needs (never narrower than declared, never past MAX_WIDTH): a
        clipped status or time is a misread report."""
        for col, (declared, needed) in enumerate(zip(self.widths, self.needed)):
            if needed > declared:
                width = min(round(needed + 0.5), MAX_WIDTH)
                self.ws.set_column(col, col, width)


SUBHEAD = Style(bold=True, fill=HEAD_FILL)
PLAIN = Style(box=False)
WRAP = Style(wrap=True)
CASE = Style(date=True)  # the case sheet's one style: its two date columns need the date format; text ignores it


def _status(status: str | None, label: str) -> Cell:
    return _Sheet.cell(label, Style(fill=STATUS_FILL.get(status or "")))


def _summary(wb: Workbook, f: _Formats, data: DigestData, tz_of: datetime) -> None:
    s = _Sheet(wb, f, "สรุป", [34, 16, 16], header_row=5, one_page=True)
    s.title(f"สรุปการส่งรายงานการจัดการข้อร้องเรียน ประจำเดือน{data.period.thai()}")
    s.row([s.cell(f"กำหนดส่ง {thai_datetime(data.deadline.astimezone(tz_of.tzinfo))}", PLAIN)])
    s.row([s.cell(f"ข้อมูล ณ {thai_datetime(data.as_of.astimezone(tz_of.tzinfo))}", PLAIN)])
    s.row([])
    s.header(["สถานะ", "จำนวนหน่วยงาน", "ร้อยละ"])
    counts = data.status_counts()
    total = max(len(data.units), 1)
    for status in STATUS_ORDER:
        s.row([_status(status, STATUS_THAI[status]), counts[status], round(100 * counts[status] / total, 1)])
    s.row(["รวม", len(data.units), 100 if data.units else 0], BOLD)
    s.row([])
    s.row(["ประเภทเรื่อง", "จำนวนเรื่อง"], SUBHEAD)
    for cat, n in data.category_totals().items():
        s.row([CATEGORY_THAI[cat], n])
    s.row([])
    s.row(["ช่องทางการรับเรื่อง", "จำนวนเรื่อง"], SUBHEAD)
    for channel, n in sorted(data.channels.items(), key=lambda kv: -kv[1]):
        s.row([channel or "(ไม่ระบุ)", n])
    if data.unreachable:
        s.row([])
        s.row(["ที่อยู่อีเมลที่ส่งไม่ถึง", "รหัสสถานะ", "เหตุผล"], SUBHEAD)
        for address, status, reason in data.unreachable:
            s.row([address, status, reason])
    s.fit()


def _units(wb: Workbook, f: _Formats, data: DigestData, tz_of: datetime) -> None:
    labels = ["รหัส", "หน่วยงาน", "สถานะ", "ประเภทรายงาน", "วันเวลาที่ครบถ้วน",
              *(CATEGORY_THAI[c] for c in CATEGORIES), "ปัญหาที่พบ"]
    s = _Sheet(wb, f, "สถานะหน่วยงาน", [10, 36, 18, 16, 24, 12, 12, 12, 12, 40])
    s.title(f"สถานะการส่งรายงานรายหน่วยงาน ประจำเดือน{data.period.thai()}")
    s.header(labels)
    kinds = {"complaints": "มีเรื่อง", "nil": "ไม่มีเรื่อง"}
    for u in data.units:
        completed = thai_datetime(u.completed_at.astimezone(tz_of.tzinfo)) if u.completed_at else ""
        s.row([u.code, u.name, _status(u.status, STATUS_THAI.get(u.status, u.status)),
               kinds.get(u.kind or "", ""), completed, *(u.counts.get(c, 0) for c in CATEGORIES),
               s.cell(problem_list(u.problems), WRAP)])
    s.filter()


def _case_values(cases: Iterable[CaseLine], include_personal: bool) -> Iterator[list[object]]:
    """Each case as the sheet shows it: masked unless personal data was asked for, and defused. Hundreds of
    thousands of rows: what repeats (a unit's code and name, the month, channels, actions, notes) is
    masked and defused once; our own labels (category, result) and dates need neither."""
    def shown(text: str) -> object:
        return safe_cell(text if include_personal else mask_text(text))

    repeated = lru_cache(maxsize=4096)(shown)
    name = (lambda t: t) if include_personal else mask_name
    units: dict[tuple[str, str], tuple[object, object]] = {}
    months: dict[object, str] = {}
    for case in cases:
        unit = units.get((case.unit_code, case.unit_name))
        if unit is None:
            unit = units[(case.unit_code, case.unit_name)] = (safe_cell(case.unit_code), safe_cell(case.unit_name))
        month = months.get(case.period)
        if month is None:
            month = months[case.period] = case.period.thai()
        yield [unit[0], unit[1], month, safe_cell(case.seq), case.received, repeated(case.channel),
               CATEGORY_THAI.get(case.category or "", ""), shown(case.subject), safe_cell(name(case.complainant)),
               repeated(case.action), RESULT_THAI.get(case.result or "", ""), case.completed, repeated(case.note)]


def _cases(wb: Workbook, f: _Formats, data: DigestData) -> int:
    labels = ["รหัสหน่วยงาน", "หน่วยงาน", "เดือน", "ลำดับ", "วันที่รับเรื่อง", "ช่องทาง", "ประเภท",
              "เรื่อง/รายละเอียดโดยย่อ", "ชื่อผู้ร้อง", "การดำเนินการ", "ผลการดำเนินการ", "วันที่แล้วเสร็จ", "หมายเหตุ"]
    s = _Sheet(wb, f, "รายการเรื่อง", [12, 30, 16, 8, 14, 16, 14, 44, 20, 36, 18, 14, 20], big=True)
    s.title(f"รายการเรื่องทั้งหมด ประจำเดือน{data.period.thai()}"
            + ("" if data.include_personal else " (ปกปิดข้อมูลส่วนบุคคล)"))
    s.header(labels)
    n = 0
    values = _case_values(data.cases, data.include_personal)
    while chunk := list(itertools.islice(values, CASE_CHUNK)):
        s.rows_of(chunk, CASE)
        n += len(chunk)
    s.filter()
    return n


def _matrix(wb: Workbook, f: _Formats, data: DigestData) -> None:
    months = [f"{THAI_MONTHS_ABBR[p.month - 1]} {p.be_year % 100:02d}" for p in data.matrix_periods]
    tail = ["ครบกำหนด", "ตรงเวลา", "ล่าช้า", "ไม่ส่ง", "รอตรวจ", "ยกเว้น", "คะแนน", "ระดับ"]
    name = f"ปีงบประมาณ {data.fiscal_year}"
    s = _Sheet(wb, f, name, [10, 32, *([9] * len(months)), *([10] * len(tail))])
    s.title(f"ผลการส่งรายงานรายเดือน ปีงบประมาณ พ.ศ. {data.fiscal_year}")
    s.header(["รหัส", "หน่วยงาน", *months, *tail])
    short = {"on_time": "ตรงเวลา", "late": "ล่าช้า", "missing": "ไม่ส่ง", "incomplete": "ไม่ครบ",
             "needs_review": "รอตรวจ", "exempt": "ยกเว้น", "pending": "รอส่ง"}
    for row in data.matrix:
        sc = row.score
        s.row([row.unit_code, row.unit_name, *(_status(st, short.get(st or "", "")) for st in row.statuses),
               sc.due, sc.on_time, sc.late, sc.missing, sc.needs_review, sc.exempt, s.cell(sc.score, BOLD),
               s.cell(sc.level, BOLD)])
    s.filter()
    # The monthly picture below the matrix, and a native stacked bar chart of it.
    monthly = data.monthly()
    s.row([])
    s.row([])
    first = s.rows + 1  # the monthly table's header, 1-based
    s.row(["เดือน", "ตรงเวลา", "ล่าช้า", "ไม่ส่ง/ไม่ครบ", "รอตรวจ"], SUBHEAD)
    for p, on_time, late, missing, review in monthly:
        s.row([p.thai(), on_time, late, missing, review])
    if monthly:
        _chart(s, name, first, len(monthly), data.fiscal_year)


def _chart(s: _Sheet, sheet: str, header: int, months: int, fiscal_year: int) -> None:
    """A stacked column per month (on time, late, missing, waiting) from the table whose header is at row
    `header` (1-based), placed beside it."""
    chart = s.wb.add_chart({"type": "column", "subtype": "stacked"})
    assert chart is not None
    ref = f"='{sheet}'!${{col}}${header + 1}:${{col}}${header + months}"
    # green, amber, red, blue: the status colours a reader already knows from the matrix
    for col, color in zip("BCDE", ("#2E9E4F", "#E0A800", "#D9534F", "#5B9BD5")):
        chart.add_series({"values": ref.format(col=col), "categories": ref.format(col="A"),
                          "name": f"='{sheet}'!${col}${header}", "fill": {"color": color}, "border": {"color": color}})
    chart.set_title({"name": f"ผลการส่งรายงาน ปีงบประมาณ {fiscal_year}"})
    chart.set_y_axis({"name": "จำนวนหน่วยงาน"})
    chart.set_x_axis({"name": "เดือน"})
    chart.set_size({"width": 680, "height": 340})
    s.ws.insert_chart(header - 1, 5, chart)


def _problems(wb: Workbook, f: _Formats, data: DigestData) -> None:
    s = _Sheet(wb, f, "ปัญหา", [10, 30, 22, 12, 80])
    s.title(f"ปัญหาที่พบในรายงาน ประจำเดือน{data.period.thai()}")
    s.header(["รหัส", "หน่วยงาน", "ปัญหา", "ระดับ", "รายละเอียดและวิธีแก้ไข"])
    for u in data.units:
        for code, severity, params in u.problems:
            message = problem_text(code, params)
            s.row([u.code, u.name, PROBLEM_SHORT.get(code, code), "ต้องแก้ไข" if severity == "error" else "ข้อสังเกต",
                   s.cell(mask_text(message), WRAP)])
    s.filter()


def _actions(wb: Workbook, f: _Formats, data: DigestData, tz_of: datetime) -> None:
    s = _Sheet(wb, f, "การดำเนินการ", [24, 14, 10, 10, 20, 50])
    s.title("การดำเนินการของสำนักงานเลขานุการกรม")
    s.header(["วันเวลา", "การดำเนินการ", "หน่วยงาน", "เดือน", "ผู้ดำเนินการ", "เหตุผล"])
    for when, kind, unit, period, actor, reason in data.actions:
        s.row([thai_datetime(when.astimezone(tz_of.tzinfo)), ACTION_THAI.get(kind, kind), unit, month_words(period),
               actor, s.cell(action_reason(reason), WRAP)])
    for when, sender, why in data.refused:
        s.row([thai_datetime(when.astimezone(tz_of.tzinfo)), ACTION_THAI["refused"], "", "", sender,
               s.cell(refusal_thai(why), WRAP)])
    s.filter()


def build_workbook(data: DigestData) -> tuple[bytes, int]:
    """The digest workbook as bytes, and the number of case rows written."""
    out = io.BytesIO()
    # constant_memory: each sheet's rows go to a temporary file as they are written, so 200,000 cases cost
    # what one row does (in_memory would undo that); the finished file is assembled into `out`.
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    f = _Formats(wb)
    tz_of = data.as_of
    _summary(wb, f, data, tz_of)
    _units(wb, f, data, tz_of)
    cases = _cases(wb, f, data)
    _matrix(wb, f, data)
    _problems(wb, f, data)
    _actions(wb, f, data, tz_of)
    wb.close()
    return out.getvalue(), cases
