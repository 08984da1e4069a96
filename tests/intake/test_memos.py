"""The official memo (บันทึกข้อความ) read by its structure, in every format units send it (tests/memo_corpus.py).

8 memo texts x 4 formats (Word, ODF, PDF with a text layer, pasted into the body) = 32 variants, plus the
scanned memo through OCR and text-layer quirks; each through the real pipeline, answered in Thai.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.samples import make_mail
from bot.service import read_pending_scans
from bot.storing import process_one
from intake.models import Submission
from intake.context import Fetched
from intake.text import nil_statement, normalize_text
from mailer.problem_text import file_note_text
from tests.conftest import BKK, DOMAIN, SECRETARIAT
from tests.memo_corpus import MEMOS, Memo, docx, odt, pdf_path

ARRIVED = datetime(2026, 11, 9, 10, 0, tzinfo=BKK)
FORMATS = ("docx", "odt", "pdf", "body")


def _mail(memo: Memo, fmt: str) -> bytes:
    files: list[tuple[str, bytes]] = []
    body = "เรียน สลก.\nขอส่งบันทึกข้อความตามแนบครับ"
    if fmt == "docx":
        files = [("บันทึกข้อความ.docx", docx(memo.lines))]
    elif fmt == "odt":
        files = [("บันทึกข้อความ.odt", odt(memo.lines))]
    elif fmt == "pdf":
        files = [("บันทึกข้อความ.pdf", pdf_path(memo).read_bytes())]
    else:
        body = "\n".join(memo.lines)
    return make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="ส่งบันทึกข้อความ", body=body, date_=ARRIVED,
                     attachments=files)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("memo", MEMOS, ids=lambda m: m.name)
def test_memo_variant(memo: Memo, fmt: str, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = process_one(app, Fetched(_mail(memo, fmt), ARRIVED))
    assert result is not None and result.unit is not None
    assert result.nil is memo.nil, [file_note_text(f.kind, f.detail, f.params) for f in result.files]
    with app.sessions() as s:
        subs = list(s.scalars(select(Submission)))
    if memo.nil:
        [sub] = subs
        assert sub.nil_statement and result.outcome == "report"
        # The period written in the memo, not its date field (วันที่ 9 ตุลาคม 2569) nor the arrival month.
        assert str(result.period) == memo.period and result.period_rule == "text"
        if fmt != "body":
            assert any("แจ้งว่าไม่มีข้อร้องเรียน" in file_note_text(f.kind, f.detail, f.params) for f in result.files)
    else:
        assert subs == [] and result.outcome in ("no_report", "needs_review")


def test_corpus_size() -> None:
    assert len(MEMOS) * len(FORMATS) >= 30 and sum(m.nil for m in MEMOS) >= 4 and sum(not m.nil for m in MEMOS) >= 3


def test_pdf_text_layer_control_characters_are_normalised() -> None:
    # Thai PDF producers (fpdf2 with HarfBuzz, some Word exports) put U+0003 after sara am.
    layer = "ไม่มีข้อร้องเรียน ประจ\u0e33\u0003เดือนตุลาคม 2569 ข้อเสนอแนะ ข้อคิดเห็น และคำ\u0003ชมเชย แต่อย่างใด"
    assert "\u0003" not in normalize_text(layer) and "ประจำเดือน" in normalize_text(layer)
    assert nil_statement(layer)
    assert nil_statement("ไม่มีข้อร้องเรียน\u0003ค่ะ") and not nil_statement("ไม่มีข้อร้องเรียน แต่มีข้อเสนอ\u0003แนะ 1 เรื่อง")


@pytest.mark.slow  # Tesseract OCR
def test_scanned_memo_is_read_by_the_ocr_queue(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests import servers
    from tests.memo_corpus import MEMOS_DIR

    if not servers.ensure_ocr():
        if servers.IN_CI:
            pytest.fail("Tesseract with Thai is required under CI=true")
        pytest.skip("Tesseract with Thai is not installed")
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    scan = (MEMOS_DIR.parent / "files" / "memo_scan.png").read_bytes()
    raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="บันทึกข้อความ", body="ตามแนบครับ",
                    date_=ARRIVED, attachments=[("scan.png", scan)])
    first = process_one(app, Fetched(raw, ARRIVED))
    assert first is not None and first.scans_pending
    [result] = read_pending_scans(app)
    assert result.nil and result.outcome == "report" and str(result.period) == "2026-11"
