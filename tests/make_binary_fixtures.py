"""One-off generator of the binary files in tests/data/files/ (committed; not run by the tests).

Needs tools the project itself does not: `pip install pillow reportlab xlwt odfpy msoffcrypto-tool`
and a Thai TrueType font (Debian: fonts-tlwg-garuda-ttf). Run: `python tests/make_binary_fixtures.py`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

OUT = Path(__file__).parent / "data" / "files"
FONT = "/usr/share/fonts/truetype/tlwg/Garuda.ttf"
C01_HEAD = ["ลำดับ", "วันที่รับเรื่อง", "ช่องทางการรับเรื่อง", "ประเภท", "เรื่อง/รายละเอียดโดยย่อ", "ชื่อผู้ร้อง",
            "การดำเนินการ", "ผลการดำเนินการ", "วันที่แล้วเสร็จ", "หมายเหตุ"]
C01_ROWS = [[1, "3/11/2569", "โทรศัพท์", "ข้อร้องเรียน", "เสียงดัง", "นายสมชาย ใจดี", "ตรวจสอบ", "แล้วเสร็จ", "10/11/2569", ""],
            [2, "7/11/2569", "เว็บไซต์", "ข้อเสนอแนะ", "ขยายเวลา", "", "พิจารณา", "อยู่ระหว่างดำเนินการ", "", ""]]
C02_HEAD = ["ประเภท", "จำนวนที่ได้รับ", "ดำเนินการแล้วเสร็จ", "อยู่ระหว่างดำเนินการ"]


def c02_rows(counts: dict[str, tuple[int, int, int]]) -> list[list[object]]:
    return [[name, *counts.get(name, (0, 0, 0))] for name in ("ข้อร้องเรียน", "ข้อเสนอแนะ", "ข้อคิดเห็น", "คำชมเชย")]


def xls(path: Path, title: list[str], head: list[str], rows: list[list[object]]) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("รายงาน")
    r = 0
    for t in title:
        ws.write(r, 0, t)
        r += 1
    for c, h in enumerate(head):
        ws.write(r, c, h)
    for row in rows:
        r += 1
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.save(str(path))


def ods(path: Path, title: list[str], head: list[str], rows: list[list[object]]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    for values in [[t] for t in title] + [head] + rows:
        tr = TableRow()
        for v in values:
            if isinstance(v, int):
                cell = TableCell(valuetype="float", value=v)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(v)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def xlsx_bytes(title: list[str], head: list[str], rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for t in title:
        ws.append([t])
    ws.append(head)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def encrypted(path: Path, plain: bytes) -> None:
    import msoffcrypto.format.ooxml as ooxml

    out = io.BytesIO()
    ooxml.OOXMLFile(io.BytesIO(plain)).encrypt("1234", out)
    path.write_bytes(out.getvalue())


def xlsm(path: Path, plain: bytes) -> None:
    src = zipfile.ZipFile(io.BytesIO(plain))
    with zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 Sub AutoOpen(): Shell \"calc\": End Sub")


def pdf_text(path: Path, lines: list[str]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Garuda", FONT))
    c = canvas.Canvas(str(path))
    c.setFont("Garuda", 16)
    y = 780
    for line in lines:
        c.drawString(72, y, line)
        y -= 28
    c.save()


def scan(lines: list[str]) -> "object":
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1654, 1000), 255)  # A4 width at 200 dpi
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 44)
    y = 80
    for line in lines:
        draw.text((120, y), line, font=font, fill=0)
        y += 90
    return img


MEMO = ["บันทึกข้อความ", "ส่วนราชการ ศูนย์อนามัยที่ 1 เชียงใหม่", "เรื่อง รายงานผลการจัดการข้อร้องเรียน",
        "ประจำเดือนพฤศจิกายน 2569", "ศูนย์อนามัยที่ 1 ขอรายงานว่า ไม่มีข้อร้องเรียน", "จึงเรียนมาเพื่อโปรดทราบ"]
OTHER = ["บันทึกข้อความ", "เรื่อง ขอเชิญประชุม", "ขอเชิญเข้าร่วมประชุมในวันที่ 3 ธันวาคม 2569"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    title = ["แบบรายงาน (Complaint_01)", "หน่วยงาน ศูนย์อนามัยที่ 1 เชียงใหม่", "ประจำเดือน พฤศจิกายน พ.ศ. 2569"]
    title2 = ["แบบสรุป (Complaint_02)", "หน่วยงาน ศูนย์อนามัยที่ 1 เชียงใหม่", "ประจำเดือน พฤศจิกายน พ.ศ. 2569"]
    counts = {"ข้อร้องเรียน": (1, 1, 0), "ข้อเสนอแนะ": (1, 0, 1)}
    xls(OUT / "c01.xls", title, C01_HEAD, C01_ROWS)
    xls(OUT / "c02.xls", title2, C02_HEAD, c02_rows(counts))
    ods(OUT / "c01.ods", title, C01_HEAD, C01_ROWS)
    ods(OUT / "c02_zero.ods", title2, C02_HEAD, c02_rows({}))
    plain = xlsx_bytes(title, C01_HEAD, C01_ROWS)
    encrypted(OUT / "c01_encrypted.xlsx", plain)
    xlsm(OUT / "c01.xlsm", plain)
    pdf_text(OUT / "memo_nil.pdf", MEMO)
    pdf_text(OUT / "memo_other.pdf", OTHER)
    img = scan(MEMO)
    img.save(OUT / "memo_scan.png")  # type: ignore[attr-defined]
    img.convert("RGB").save(OUT / "memo_scan.jpg", quality=85)  # type: ignore[attr-defined]
    img.convert("RGB").save(OUT / "memo_scan.pdf", resolution=200)  # type: ignore[attr-defined]
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
