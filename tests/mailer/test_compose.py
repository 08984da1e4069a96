"""A receipt's MIME written directly (mailer/compose.py `_alternative`) reads exactly as the email package's own
writing of the same message: the same headers, parts and text once parsed."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32, default

import pytest

from mailer.compose import _headers, build_message

NAMES = ["สำนักงานเลขานุการกรม (ระบบรับรายงานอัตโนมัติ)", "Saraban", ""]
SUBJECTS = ["ใบตอบรับรายงานการจัดการข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569 [CR-2569-11]", "Receipt [CR-2569-11]",
            "ที่ " * 80 + "ก่ำ"]
BODIES = [("ข้อความ " * 300, "<p>ข้อความ</p>" * 300), ("", ""), ("a\r\nb\n", "<p>é ✓ 😀</p>")]


def _reference(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """The same message written by the email package (the path a message with attachments takes)."""
    msg = MIMEMultipart("alternative")
    for body, subtype in ((text, "plain"), (html, "html")):
        part = MIMEText("", subtype, "utf-8")
        part.set_payload(base64.encodebytes(body.encode("utf-8")).decode("ascii"))
        part.replace_header("Content-Transfer-Encoding", "base64")
        msg.attach(part)
    for name, value in headers:
        msg[name] = value
    return msg.as_bytes(policy=compat32.clone(linesep="\r\n"))


def _read(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage) and msg.get_content_type() == "multipart/alternative"
    headers = [(k, str(v)) for k, v in msg.items() if k.lower() != "content-type"]
    parts = [(p.get_content_type(), p.get_content()) for p in msg.iter_parts()]
    return headers, parts


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("bodies", BODIES)
def test_a_receipt_reads_as_the_email_package_writes_it(name: str, subject: str, bodies: tuple[str, str]) -> None:
    text, html = bodies
    args = dict(from_addr="saraban@anamai.example.go.th", from_name=name, to=["hpc01@anamai.example.go.th"],
                subject=subject, message_id="<cr.receipt.HPC01.2026-11.abc.def@anamai.example.go.th>",
                date=datetime(2026, 11, 20, 3, 5, tzinfo=UTC), in_reply_to="<m1@anamai.example.go.th>",
                references=("<d1@x>",), auto_submitted="auto-replied")
    raw = build_message(**args, text=text, html=html)  # type: ignore[arg-type]
    assert raw.count(b"\r\n") == raw.count(b"\n") and max(len(line) for line in raw.split(b"\r\n")) <= 998
    ours, theirs = _read(raw), _read(_reference(_headers(**args), text, html))  # type: ignore[arg-type]
    assert ours == theirs
    assert [p[1] for p in ours[1]] == [text, html]


def test_an_internationalised_address_is_written_by_the_email_package() -> None:
    """A non-ASCII address (RFC 6532) cannot go the ASCII way: the email package writes it, as before."""
    raw = build_message(from_addr="saraban@anamai.example.go.th", from_name="", to=["สมชาย@anamai.example.go.th"],
                        subject="x", text="t", html="<p>h</p>", message_id="<a@b>", date=datetime(2026, 11, 20, tzinfo=UTC))
    assert b"=_complaint-bot_" not in raw and b'boundary="=====' in raw
    assert str(email.message_from_bytes(raw, policy=default)["To"]).strip("\"") == "สมชาย@anamai.example.go.th"
