"""Build the MIME bytes of an automatic message: text + HTML, threading and auto-reply headers."""

from __future__ import annotations

import base64
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
    msg["From"] = f"{_display_name(from_name)} <{from_addr}>" if from_name and not from_name.isascii() else (
        formataddr((from_name, from_addr)) if from_name else from_addr)
    msg["To"] = ", ".join(to)
    msg["Subject"] = _header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*references, in_reply_to][-10:])
    # RFC 3834: mark automatic mail so robots do not answer it; Outlook honours the second header.
    msg["Auto-Submitted"] = auto_submitted
    # The bot knows its own mail by this (intake/triage.py LOOP_HEADER) and by its Message-ID, not by its address.
    msg["X-Complaint-Bot"] = "sent"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if auto_submitted == "auto-generated":
        msg["Precedence"] = "bulk"  # reminders and digests: vacation robots stay quiet
    # CRLF line ends: smtplib sends bytes as they are, and SMTP servers read lines by CRLF.
    return msg.as_bytes(policy=compat32.clone(linesep="\r\n"))
