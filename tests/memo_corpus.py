"""The official memo (บันทึกข้อความ) as units write it: texts with their expected reading, in four formats.

Word (.docx) and ODF (.odt) files are built from the texts at test time; PDFs with a text layer need a
Thai font and fpdf2, so they are written once by `python -m tests.memo_corpus` (needs
`pip install fpdf2` and Debian's fonts-tlwg-garuda-ttf) and committed under tests/data/memos/.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

MEMOS_DIR = Path(__file__).parent / "data" / "memos"
FONT = "/usr/share/fonts/truetype/tlwg/Garuda.ttf"


@dataclass(frozen=True)
class Memo:
    name: str
    lines: tuple[str, ...]
    nil: bool
    period: str | None  # the period written in it (YYYY-MM), if any


def _header(no: str, date: str, subject: str, unit: str = "กองการเจ้าหน้าที่") -> tuple[str, ...]:
    return ("บันทึกข้อความ", f"ส่วนราชการ {unit} กลุ่มงานบริหารทั่วไป โทร. 0 2123 4567", f"ที่ สธ {no} วันที่ {date}",
            f"เรื่อง {subject}", "เรียน เลขานุการกรม")


SIGNATURE = ("จึงเรียนมาเพื่อโปรดทราบ", "(นายสมชาย ใจดี)", "ผู้อำนวยการกองการเจ้าหน้าที่")

MEMOS = (
    Memo("standard_nil", _header("0930.01/1187", "9 ตุลาคม 2569", "รายงานผลการจัดการข้อร้องเรียน ประจำเดือนกันยายน 2569")
         + ("กองการเจ้าหน้าที่ขอรายงานว่า ในเดือนกันยายน 2569 ไม่มีข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น และคำชมเชย "
            "แต่อย่างใด",) + SIGNATURE, True, "2026-09"),
    Memo("thai_digits_nil", _header("๐๙๓๐.๐๑/๑๑๘๗", "๙ ตุลาคม ๒๕๖๙", "รายงานผลการจัดการข้อร้องเรียน ประจำเดือนกันยายน ๒๕๖๙")
         + ("ในเดือนกันยายน ๒๕๖๙ หน่วยงานไม่มีข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น และคำชมเชย",) + SIGNATURE,
         True, "2026-09"),
    Memo("no_complaint_matters", _header("0930.05/88", "3 พฤศจิกายน 2569", "แจ้งผลการรับเรื่องร้องเรียน ประจำเดือนตุลาคม 2569")
         + ("ศูนย์อนามัยที่ 1 ขอแจ้งว่า ไม่มีเรื่องร้องเรียนในเดือนตุลาคม 2569",) + SIGNATURE, True, "2026-10"),
    Memo("count_zero", _header("0930.01/1201", "24 ตุลาคม 2569", "รายงานข้อร้องเรียน ประจำเดือนตุลาคม 2569")
         + ("ในเดือนตุลาคม 2569 ได้รับข้อร้องเรียน จำนวน 0 เรื่อง",) + SIGNATURE, True, "2026-10"),
    Memo("category_list_zero", _header("0930.01/1202", "24 ตุลาคม 2569", "รายงานข้อร้องเรียน ประจำเดือนตุลาคม 2569")
         + ("สรุปผลการรับเรื่อง ดังนี้", "1. ข้อร้องเรียน - เรื่อง", "2. ข้อเสนอแนะ 0 เรื่อง", "3. ข้อคิดเห็น - เรื่อง",
            "4. คำชมเชย 0 เรื่อง") + SIGNATURE, True, "2026-10"),
    Memo("reports_cases", _header("0930.01/1203", "24 ตุลาคม 2569", "รายงานข้อร้องเรียน ประจำเดือนตุลาคม 2569")
         + ("ในเดือนตุลาคม 2569 ได้รับข้อร้องเรียน จำนวน 2 เรื่อง และข้อเสนอแนะ 1 เรื่อง รายละเอียดตามแบบที่แนบ",)
         + SIGNATURE, False, "2026-10"),
    Memo("none_but_suggestions", _header("0930.01/1204", "24 ตุลาคม 2569", "รายงานข้อร้องเรียน ประจำเดือนตุลาคม 2569")
         + ("ในเดือนตุลาคม 2569 ไม่มีข้อร้องเรียน แต่มีข้อเสนอแนะ 1 เรื่อง",) + SIGNATURE, False, "2026-10"),
    Memo("meeting_invitation", _header("0930.01/1300", "1 ธันวาคม 2569", "ขอเชิญประชุมคณะทำงาน")
         + ("ขอเชิญเข้าร่วมประชุมในวันที่ 3 ธันวาคม 2569 เวลา 13.30 น. ณ ห้องประชุม 2",) + SIGNATURE, False, None),
)


def docx(lines: tuple[str, ...]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(line)}</w:t></w:r></w:p>" for line in lines)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        zf.writestr("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
                    f'openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    return out.getvalue()


def odt(lines: tuple[str, ...]) -> bytes:
    body = "".join(f"<text:p>{escape(line)}</text:p>" for line in lines)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
                    '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:'
                    f'xmlns:text:1.0"><office:body><office:text>{body}</office:text></office:body>'
                    "</office:document-content>")
    return out.getvalue()


def pdf_path(memo: Memo) -> Path:
    return MEMOS_DIR / f"{memo.name}.pdf"


def write_pdfs() -> None:
    from fpdf import FPDF

    MEMOS_DIR.mkdir(parents=True, exist_ok=True)
    for memo in MEMOS:
        pdf = FPDF()
        pdf.add_page()
        pdf.add_font("Garuda", "", FONT)
        pdf.set_font("Garuda", size=14)
        for line in memo.lines:
            pdf.multi_cell(0, 9, line, new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(pdf_path(memo)))
    print(f"wrote {len(MEMOS)} PDFs to {MEMOS_DIR}")


if __name__ == "__main__":
    write_pdfs()
