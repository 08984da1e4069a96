"""Reply text: quoted text stripped, "no complaints" recognised only in the sender's own words."""

from __future__ import annotations

import pytest

from intake.text import html_to_text, nil_statement, strip_quoted


@pytest.mark.parametrize("text", [
    "ไม่มีข้อร้องเรียนครับ",
    "เรียน สลก.\nศูนย์ฯ ขอรายงานว่าเดือนนี้ไม่มีเรื่องร้องเรียนค่ะ",
    "ไม่มีผู้ร้องเรียน",
    "ไม่พบข้อร้องเรียนในเดือนพฤศจิกายน 2569",
    "ไม่มี ข้อ ร้องเรียน",
    "No complaints this month.",
    "ไม่มีข้อร้องเรียน ข้อเสนอแนะ ข้อคิดเห็น และคำชมเชย",
])
def test_nil_statements(text: str) -> None:
    assert nil_statement(text)


@pytest.mark.parametrize("text", [
    "ไม่มีข้อร้องเรียน แต่มีข้อเสนอแนะ 2 เรื่อง",
    "ไม่มีข้อร้องเรียน มีคำชมเชย 1 เรื่อง",
    "ขอส่งรายงานครับ",
    "จะส่งรายงานพรุ่งนี้",
    "มีข้อร้องเรียน 3 เรื่อง",
    "ok\n\nเมื่อ 20 พ.ย. 2569 เวลา 09:00 สลก. <saraban@x.go.th> เขียนว่า:\n> หากไม่มีข้อร้องเรียน กรุณาตอบกลับ",
    "รับทราบ\n> ไม่มีข้อร้องเรียน",
    "รับทราบครับ\n\nFrom: สลก.\nSent: Monday\nSubject: แจ้งเตือน\nหากไม่มีข้อร้องเรียน ให้ตอบกลับ",
    "ok\n-----Original Message-----\nไม่มีข้อร้องเรียน",
    "Thanks\n\nOn Mon, 23 Nov 2026 at 09:00, Bot <a@b.go.th> wrote:\nno complaints? reply",
    "รับทราบครับ หากไม่มีข้อร้องเรียนจะแจ้งให้ทราบ",
    "กรณีไม่มีข้อร้องเรียน ให้ตอบกลับอีเมลนี้",
    "If no complaints, please reply",
])
def test_not_nil_statements(text: str) -> None:
    assert not nil_statement(text)


def test_strip_quoted_keeps_own_text_only() -> None:
    text = "ไม่มีข้อร้องเรียนค่ะ\n\nจาก: ศูนย์ฯ\n\nเมื่อ 23 ต.ค. เวลา 09:00 สลก. เขียนว่า:\n> ข้อความเดิม"
    assert strip_quoted(text) == "ไม่มีข้อร้องเรียนค่ะ\n\nจาก: ศูนย์ฯ"


def test_html_quotes_and_scripts_are_not_text() -> None:
    html = ("<html><head><style>p{}</style></head><body><p>ไม่มีข้อร้องเรียนครับ</p>"
            "<div class='gmail_quote'><p>quoted ข้อความ</p><blockquote>older</blockquote></div>"
            "<script>x()</script><p>ขอบคุณ&nbsp;ครับ</p></body></html>")
    text = html_to_text(html)
    assert "ไม่มีข้อร้องเรียนครับ" in text and "ขอบคุณ ครับ" in text
    assert "quoted" not in text and "older" not in text and "x()" not in text
