"""Build the MIME bytes of an automatic message: text + HTML, threading and auto-reply headers."""

from __future__ import annotations

import base64
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    data: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"


def _header(text: str) -> str:
    """RFC 2047 words for non-ASCII header text (Thai subjects and names), folded between words.

    Each encoded word ends at a grapheme boundary (never before a Thai vowel or tone mark) and stays under
    75 characters; adjacent words are joined by folding whitespace, which decoders drop.
    """
    if text.isascii():
        return text
    words: list[str] = []
    chunk = ""
    for ch in text:
        if chunk and len((chunk + ch).encode("utf-8")) > 42 and unicodedata.category(ch) not in ("Mn", "Mc"):
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return "\r\n ".join("=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words)


def _display_name(name: str) -> str:
    """A Thai display name as encoded words split only after spaces (each space kept inside its word).

    Not formataddr: it puts encoded words inside a quoted string, where clients show the folds as spaces
    ("…เลขานุกา รกรม") or do not decode them. Some decoders (Python's own, some webmail) also keep the
    whitespace between encoded words of a name: splitting only where the name has a space means that
    costs at most a doubled space, never a word cut in two. A single long word may exceed RFC 2047's
    75 characters; mail clients decode it whole.
    """
    words = [w + " " for w in name.split(" ")]
    words[-1] = words[-1][:-1]
    return "\r\n ".join("=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words if w)


def build_message(*, from_addr: str, from_name: str, to: Sequence[str], subject: str, text: str, html: str,
                  message_id: str, date: datetime, in_reply_to: str = "", references: Sequence[str] = (),
                  auto_submitted: str = "auto-generated",
                  attachments: Sequence[OutgoingAttachment] = ()) -> bytes:
    headers = _headers(from_addr=from_addr, from_name=from_name, to=to, subject=subject, message_id=message_id,
                       date=date, in_reply_to=in_reply_to, references=references, auto_submitted=auto_submitted)
    if not attachments and all(value.isascii() and len(name) + len(value) < 900 for name, value in headers):
        return _alternative(headers, text, html)
    # The classic MIME classes: the modern policy's header folder costs ~15 ms per Thai subject.
    alternative = MIMEMultipart("alternative")
    for body, subtype in ((text, "plain"), (html, "html")):
        part = MIMEText("", subtype, "utf-8")
        part.set_payload(base64.encodebytes(body.encode("utf-8")).decode("ascii"))
        part.replace_header("Content-Transfer-Encoding", "base64")
        alternative.attach(part)
    msg: MIMEMultipart = alternative
    if attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(alternative)
        for att in attachments:
            file_part = MIMEApplication(att.data, att.subtype)
            file_part.set_type(f"{att.maintype}/{att.subtype}")
            file_part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", att.filename))
            msg.attach(file_part)
    for name, value in headers:
        msg[name] = value
    # CRLF line ends: smtplib sends bytes as they are, and SMTP servers read lines by CRLF.
    return msg.as_bytes(policy=compat32.clone(linesep="\r\n"))


def _headers(*, from_addr: str, from_name: str, to: Sequence[str], subject: str, message_id: str, date: datetime,
             in_reply_to: str, references: Sequence[str], auto_submitted: str) -> list[tuple[str, str]]:
    """The message's own headers, every value ASCII already (encoded words folded with CRLF and a space)."""
    headers = [
        ("From", f"{_display_name(from_name)} <{from_addr}>" if from_name and not from_name.isascii() else (
            formataddr((from_name, from_addr)) if from_name else from_addr)),
        ("To", ", ".join(to)), ("Subject", _header(subject)), ("Date", format_datetime(date)),
        ("Message-ID", message_id)]
    if in_reply_to:
        headers += [("In-Reply-To", in_reply_to), ("References", " ".join([*references, in_reply_to][-10:]))]
    # RFC 3834: mark automatic mail so robots do not answer it; Outlook honours the second header.
    headers.append(("Auto-Submitted", auto_submitted))
    # The bot knows its own mail by this (intake/triage.py LOOP_HEADER) and by its Message-ID, not by its address.
    headers += [("X-Complaint-Bot", "sent"), ("X-Auto-Response-Suppress", "OOF, AutoReply")]
    if auto_submitted == "auto-generated":
        headers.append(("Precedence", "bulk"))  # reminders and digests: vacation robots stay quiet
    return headers


def _alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """A message of text and HTML alone (a receipt: the outbox's rush), written as the email package writes it
    (tests/mailer/test_compose.py compares the two, parsed): every header value is ASCII (an internationalised
    address goes the email package's way) and folded already, the
    bodies are base64, so the generator's per-header folding (two thirds of a receipt's composing) has nothing
    left to do."""
    boundary = f"=_complaint-bot_{secrets.token_hex(12)}"
    lines = [f'Content-Type: multipart/alternative; boundary="{boundary}"', "MIME-Version: 1.0"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("")
    for body, subtype in ((text, "plain"), (html, "html")):
        lines += [f"--{boundary}", f'Content-Type: text/{subtype}; charset="utf-8"', "MIME-Version: 1.0",
                  "Content-Transfer-Encoding: base64", "",
                  base64.encodebytes(body.encode("utf-8")).decode("ascii").replace("\n", "\r\n")]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")
