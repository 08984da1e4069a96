"""The digest's case sheet through each xlsx writer, side by side: the same 200,000 rows x 13 columns (Thai
text, two dates per row) in the same look (TH Sarabun New 14, a thin border, Buddhist Era dates), each writer in
a fresh process so that its peak memory is its own. Writers that are not installed are listed as such
(`pip install rvgsrust-xlsxwriter rustpy-xlsxwriter pyexcelerate` to compare them all)."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date

from bench.common import peak_rss_mb, table

FONT, BE_DATE = "TH Sarabun New", "[$-107041E]d/m/yyyy"
WIDTH = 13


def rows(n: int) -> Iterator[list[object]]:
    for i in range(n):
        yield [f"U{i % 1000:04d}", f"หน่วยงานที่ {i % 1000}", "พฤศจิกายน 2569", str(i % 200 + 1),
               date(2026, 11, 1 + i % 28), "โทรศัพท์", "ข้อร้องเรียน", f"ร้องเรียนเสียงดังจากสถานประกอบการ ซอย {i}",
               "นายส**** ใ***", "ประสานเจ้าหน้าที่ตรวจสอบพื้นที่", "แล้วเสร็จ", date(2026, 11, 2 + i % 27), ""]


def rvgsrust(n: int) -> bytes:  # the digest's writer before issue #27 (a young binding; see docs/dependencies.md)
    import rvgsrust_xlsxwriter as xw

    wb = xw.Workbook()
    ws = wb.add_worksheet("รายการเรื่อง", constant_memory=True)
    fmt = (xw.Format().set_font_name(FONT).set_font_size(14).set_border("thin").set_border_color("#999999")
           .set_num_format(BE_DATE))
    it, at = rows(n), 0
    while chunk := list(itertools.islice(it, 2000)):
        ws.write_rows(at, 0, chunk, fmt)
        at += len(chunk)
    return bytes(wb.save_to_buffer())


def openpyxl_write_only(n: int) -> bytes:  # the digest's writer before (one style object shared by every cell)
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, Side

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("รายการเรื่อง")
    font, side = Font(name=FONT, size=14), Side(style="thin", color="999999")
    border = Border(left=side, right=side, top=side, bottom=side)

    def cell(value: object) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        c.font, c.border = font, border
        if isinstance(value, date):
            c.number_format = BE_DATE
        return c

    for row in rows(n):
        ws.append([cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsxwriter(n: int, typed: bool) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    ws = wb.add_worksheet("รายการเรื่อง")
    fmt = wb.add_format({"font_name": FONT, "font_size": 14, "border": 1, "border_color": "#999999",
                         "num_format": BE_DATE})
    for r, row in enumerate(rows(n)):
        if not typed:
            ws.write_row(r, 0, row, fmt)
            continue
        for c, value in enumerate(row):  # as mailer/workbook.py's rows_of: each cell to its type's method
            if value.__class__ is str:
                if value:
                    ws.write_string(r, c, value, fmt)
                else:
                    ws.write_blank(r, c, None, fmt)
            else:
                ws.write_datetime(r, c, value, fmt)
    wb.close()
    return buf.getvalue()


def xlsxwriter_constant_memory(n: int) -> bytes:  # the digest's writer (mailer/workbook.py)
    return _xlsxwriter(n, typed=True)


def xlsxwriter_write_row(n: int) -> bytes:  # the same, each row through write_row (the digest until 2026-12-08)
    return _xlsxwriter(n, typed=False)


def rustpy_xlsxwriter(n: int) -> bytes:
    import rustpy_xlsxwriter as rx

    fmt = (rx.Format().set_font_name(FONT).set_font_size(14).set_border("thin").set_border_color("#999999")
           .set_num_format(BE_DATE))
    names = [f"c{i}" for i in range(WIDTH)]
    buf = io.BytesIO()
    rx.write_worksheet((dict(zip(names, row)) for row in rows(n)), buf, sheet_name="รายการเรื่อง",
                       column_formats=[fmt] * WIDTH)
    return buf.getvalue()


def pyexcelerate_styled(n: int) -> bytes:
    from pyexcelerate import Color, Font, Format, Style, Workbook
    from pyexcelerate.Border import Border
    from pyexcelerate.Borders import Borders

    wb = Workbook()
    data = list(rows(n))
    ws = wb.new_sheet("รายการเรื่อง", data=data)
    edge = Border(color=Color(0x99, 0x99, 0x99), style="thin")
    ws.set_col_style(range(1, WIDTH + 1), Style(font=Font(family=FONT, size=14), format=Format(BE_DATE),
                                                borders=Borders(edge, edge, edge, edge)))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


WRITERS: dict[str, Callable[[int], bytes]] = {
    "XlsxWriter constant_memory, typed writes (shipped)": xlsxwriter_constant_memory,
    "XlsxWriter constant_memory, write_row": xlsxwriter_write_row, "openpyxl write-only": openpyxl_write_only,
    "rvgsrust-xlsxwriter (before #27)": rvgsrust, "rustpy-xlsxwriter": rustpy_xlsxwriter,
    "pyexcelerate (column styles)": pyexcelerate_styled}


def _one(name: str, n: int) -> None:
    """In a child process: one writer, its time, size and peak memory as JSON on stdout."""
    start = time.perf_counter()
    try:
        out = WRITERS[name](n)
    except ImportError as exc:
        print(json.dumps({"missing": str(exc.name)}))
        return
    print(json.dumps({"seconds": time.perf_counter() - start, "mb": len(out) / 1e6, "peak": peak_rss_mb()}))


def main(n: int = 0) -> None:
    n = n or 200_000
    results = []
    for name in WRITERS:
        done = subprocess.run([sys.executable, "-m", "bench.writers", name, str(n)], capture_output=True, text=True,
                              check=True)
        results.append((name, json.loads(done.stdout.strip().splitlines()[-1])))
    shipped = results[0][1]["seconds"]
    lines: list[tuple[str, ...]] = [("writer", "seconds", "vs shipped", "file MB", "peak RSS MB")]
    for name, r in results:
        if "missing" in r:
            lines.append((name, "not installed", "", "", ""))
        else:
            lines.append((name, f"{r['seconds']:.1f}", f"{r['seconds'] / shipped:.1f}x", f"{r['mb']:.1f}",
                          f"{r['peak']:.0f}"))
    table(f"The case sheet, {n:,} rows x {WIDTH} columns, one look (font, border, BE dates)", lines)


if __name__ == "__main__":
    _one(sys.argv[1], int(sys.argv[2]))
