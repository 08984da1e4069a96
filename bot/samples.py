"""Realistic unit e-mails for the demo (and anyone trying the bot): forms, nil reports, replies, robots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mailer.blank_forms import Case, complaint_01, complaint_02
from scoring.periods import Period

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def make_mail(*, sender: str, to: str, subject: str, body: str, date_: datetime,
              attachments: Sequence[tuple[str, bytes]] = (), headers: dict[str, str] | None = None,
              html: str | None = None, charset: str = "utf-8", sender_name: str = "") -> bytes:
    """A message as a unit's mail client would write it: with `sender_name`, the From header carries it as the
    display name (a long Thai name folds before the address, as every client folds it)."""
    msg = EmailMessage()
    msg["From"] = Address(display_name=sender_name, addr_spec=sender) if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date_)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example.org")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, charset=charset)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, data in attachments:
        msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return msg.as_bytes()


def sample_cases(period: Period, n: int = 3) -> list[Case]:
    """A few plausible cases received during the period."""
    pool = [
        Case(date(period.year, period.month, 3), "โทรศัพท์", "complaint", "ร้องเรียนเสียงดังจากสถานประกอบการ",
             "นายสมชาย ใจดี", "ประสานเจ้าหน้าที่ท้องถิ่นตรวจสอบ", True, date(period.year, period.month, 10)),
        Case(date(period.year, period.month, 7), "เว็บไซต์", "suggestion", "เสนอให้ขยายเวลาให้บริการคลินิก",
             "นางสาวสมหญิง ดีมาก", "นำเสนอผู้บริหารพิจารณา", False),
        Case(date(period.year, period.month, 12), "ตู้รับความคิดเห็น", "compliment", "ชมเชยเจ้าหน้าที่ให้บริการดี",
             "", "แจ้งหน่วยงานที่เกี่ยวข้องทราบ", True, date(period.year, period.month, 13)),
        Case(date(period.year, period.month, 15), "Facebook", "opinion", "แสดงความคิดเห็นเรื่องที่จอดรถ",
             "นายวิชัย รักงาน", "ชี้แจงข้อมูล", True, date(period.year, period.month, 16)),
        Case(date(period.year, period.month, 18), "อีเมล", "complaint", "ร้องเรียนน้ำดื่มไม่สะอาด",
             "นางมาลี ศรีสุข", "ตรวจคุณภาพน้ำ", False),
    ]
    return pool[:n]


def counts_of(cases: Sequence[Case]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for c in cases:
        r, d, p = out.get(c.category, (0, 0, 0))
        out[c.category] = (r + 1, d + int(c.done), p + int(not c.done))
    return out


def forms(unit_name: str, period: Period | None, cases: Sequence[Case], *, c01: bool = True, c02: bool = True,
          c02_counts: dict[str, tuple[int, int, int]] | None = None) -> list[tuple[str, bytes]]:
    files = []
    if c01:
        files.append(("Complaint_01.xlsx", complaint_01(unit_name, period, cases)))
    if c02:
        files.append(("Complaint_02.xlsx", complaint_02(unit_name, period, c02_counts or counts_of(cases))))
    return files
