"""The digest workbook as it opens and prints: rendered by LibreOffice headless (docs/spec.md, "Outgoing mail").

Row heights fit TH Sarabun New (14-18 pt) with Thai marks above and below the line, dates show as dates
(5/11/2569, not #####), and every sheet prints on A4 landscape.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.digest_data import digest_data
from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_one
from intake import decisions
from intake.context import Fetched
from mailer.workbook import ROW_HEIGHT, TITLE_HEIGHT, build_workbook
from scoring.periods import Period
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, bkk

NOV = Period(2026, 11)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, make_app_module) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    if not servers.ensure_libreoffice():
        servers.unavailable("LibreOffice (apt-get install libreoffice-calc-nogui fonts-thai-tlwg)")
    folder = tmp_path_factory.mktemp("render")
    app = make_app_module
    for i, unit in enumerate(("hpc01", "hpc02")):
        raw = make_mail(sender=f"{unit}@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ตามแนบ",
                        date_=bkk(2026, 11, 10 + i), attachments=forms(f"ศูนย์อนามัยที่ {i + 1}", NOV,
                                                                      sample_cases(NOV, 5)))
        process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 10 + i)))
    # A late unit and a secretariat action with a long address: the texts that were clipped before.
    late = make_mail(sender=f"hpc03@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ไม่มีข้อร้องเรียน",
                     date_=bkk(2026, 11, 27, 10, 5))
    process_one(app, Fetched(raw=late, arrived_at=bkk(2026, 11, 27, 10, 5)))
    with app.sessions.begin() as s:
        decisions.exempt(s, app.registry.get("DIV02"), NOV, "ปิดปรับปรุงอาคาร",
                     "secretariat.clerk.on.duty@anamai.example.go.th", bkk(2026, 11, 28, 9))
    with app.sessions() as s:
        data = digest_data(app, s, NOV, bkk(2026, 11, 30))
    workbook, _ = build_workbook(data)
    source = folder / "digest.xlsx"
    source.write_bytes(workbook)
    out = folder / "lo"
    profile = folder / "profile"
    for fmt in ("pdf", "xlsx"):
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                        "--outdir", str(out), str(source)], check=True, capture_output=True, timeout=180)
    return source, out / "digest.pdf", out / "digest.xlsx"


@pytest.fixture(scope="module")
def make_app_module(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from bot.app import build_app
    from config.settings import settings_from_mapping
    from tests.conftest import SECRET, UNITS

    folder = tmp_path_factory.mktemp("app")
    (folder / "units.csv").write_text(UNITS, encoding="utf-8")
    app = build_app(settings_from_mapping({
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "UNITS_FILE": str(folder / "units.csv"),
        "SECRETARIAT_EMAIL": SECRETARIAT, "SECRET_KEY": SECRET, "DATA_DIR": str(folder / "data")}, base_dir=folder))
    yield app
    app.close()


def test_every_sheet_prints_on_a4_landscape(rendered) -> None:  # type: ignore[no-untyped-def]
    _, pdf, _ = rendered
    pages = PdfReader(pdf).pages
    assert len(pages) >= 6  # one or more per sheet
    for page in pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (842, 595), (width, height)  # A4 landscape, in points


def test_no_cell_shows_hashes_and_dates_read_as_buddhist_era(rendered) -> None:  # type: ignore[no-untyped-def]
    _, pdf, _ = rendered
    text = "\n".join(page.extract_text() or "" for page in PdfReader(pdf).pages)
    assert "###" not in text
    assert "3/11/2569" in text and "ร้องเรียนเสียงดัง" in text


def test_row_heights_fit_the_thai_font_as_libreoffice_lays_them_out(rendered) -> None:  # type: ignore[no-untyped-def]
    source, _, resaved = rendered
    wb = load_workbook(resaved)
    for ws in wb.worksheets:
        assert (ws.row_dimensions[1].height or 0) >= TITLE_HEIGHT - 0.5, ws.title  # the 18 pt title
        heights = [ws.row_dimensions[r].height or ws.sheet_format.defaultRowHeight for r in range(2, ws.max_row + 1)]
        assert min(heights) >= ROW_HEIGHT - 0.5, (ws.title, min(heights))  # never the 15 pt default


def _plain(text: str) -> str:
    """Text as compared with the PDF's: no spaces, no Thai marks (pypdf maps some of them to others), and sara am
    as sara aa (the PDF's text spells ำ as ำา or as the nikhahit mark and า)."""
    import unicodedata

    plain = "".join(ch for ch in text.replace("\u0e33", "\u0e32") if not ch.isspace()
                    and unicodedata.category(ch) not in ("Mn", "Mc"))
    return plain.replace("\u0e32\u0e32", "\u0e32")


def test_no_cell_is_clipped(rendered) -> None:  # type: ignore[no-untyped-def]
    """Every text of a boxed cell that does not wrap shows whole as LibreOffice prints it (the status "ส่งครบถ้วน
    แต่ล่าช้ากว่ากำหนด" was cut to "ส่งครบถ้วน แต่ล่าช้ากว", the actions sheet's times and addresses too): the
    columns are as wide as their text in the Thai font's metrics (mailer/text_width.py)."""
    source, pdf, _ = rendered
    printed = _plain("".join(page.extract_text() or "" for page in PdfReader(pdf).pages))
    wb = load_workbook(source)
    checked = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.strip() and not cell.alignment.wrap_text \
                        and cell.border.left.style:
                    checked.append(cell.value)
                    assert _plain(cell.value) in printed, (ws.title, cell.coordinate, cell.value)
    assert "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด" in checked and "secretariat.clerk.on.duty@anamai.example.go.th" in checked


def test_the_summary_prints_on_one_page(rendered) -> None:  # type: ignore[no-untyped-def]
    """Its small tables are not one table: fitted to one page, no table's header repeated over another's (the
    status table's header was repeated over the channels on a second page)."""
    source, pdf, resaved = rendered
    first = _plain(PdfReader(pdf).pages[0].extract_text() or "")
    assert _plain("สรุปการส่งรายงาน") in first and _plain("ช่องทางการรับเรื่อง") in first
    for path in (source, resaved):  # as written, and as LibreOffice keeps it
        summary = load_workbook(path)["สรุป"]
        assert summary.sheet_properties.pageSetUpPr.fitToPage and summary.page_setup.fitToHeight in (None, 1, "1")  # absent: 1
        assert not summary.print_title_rows, summary.print_title_rows
