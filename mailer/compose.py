"""Build the MIME bytes of an automatic message: text + HTML, threading and auto-reply headers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    data: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"


def build_message(*, from_addr: str, from_name: str, to: Sequence[str], subject: str, text: str, html: str,
                  message_id: str, date: datetime, in_reply_to: str = "", references: Sequence[str] = (),
                  auto_submitted: str = "auto-generated",
                  attachments: Sequence[OutgoingAttachment] = ()) -> bytes:
    msg = EmailMessage()
    local, _, domain = from_addr.partition("@")
    msg["From"] = Address(display_name=from_name, username=local, domain=domain)
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*references, in_reply_to][-10:])
    # RFC 3834: mark automatic mail so robots do not answer it; Outlook honours the second header.
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if auto_submitted == "auto-generated":
        msg["Precedence"] = "bulk"  # reminders and digests: vacation robots stay quiet
    # base64: Thai UTF-8 lines easily pass SMTP's 998-byte limit, and base64 is smaller than QP for Thai.
    msg.set_content(text, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    for att in attachments:
        msg.add_attachment(att.data, maintype=att.maintype, subtype=att.subtype, filename=att.filename)
    # CRLF line ends: smtplib sends bytes as they are, and SMTP servers read lines by CRLF.
    return msg.as_bytes(policy=SMTP)
