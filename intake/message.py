"""Parse raw message bytes into plain data: addresses, headers, body text and attachments."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from intake.encodings import decode_bytes, register_thai_codecs
from intake.text import html_to_text

register_thai_codecs()

MAX_DEPTH = 8  # forwarded messages inside forwarded messages; deeper ones are ignored


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    from_addr: str
    from_name: str
    subject: str
    message_id: str
    in_reply_to: str
    references: list[str]
    headers: dict[str, str]  # lower-cased names; first value wins
    text: str  # the body as plain text (from HTML when no plain part)
    attachments: list[Attachment] = field(default_factory=list)
    content_type: str = "text/plain"
    return_path: str | None = None
    defects: list[str] = field(default_factory=list)


def decode_header_value(value: str | None) -> str:
    """An RFC 2047 header as text; raw 8-bit headers (non-compliant clients) as UTF-8 or cp874."""
    if not value:
        return ""
    try:
        text = str(make_header(decode_header(value)))
    except (UnicodeDecodeError, LookupError, ValueError, email.errors.HeaderParseError):
        text = value
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", errors="surrogateescape")
        text = decode_bytes(raw)
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _filename(part: Message) -> str:
    name = part.get_filename()  # handles RFC 2231 continuations and charsets
    if name is None:
        ctype_name = part.get_param("name")
        name = ctype_name if isinstance(ctype_name, str) else None
    return decode_header_value(name) if name else ""


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _walk(msg: Message, out: ParsedMail, depth: int, texts: list[str], htmls: list[str]) -> None:
    """Collect body text and attachments; forwarded messages contribute their attachments too."""
    for part in msg.walk() if depth == 0 else [msg]:
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = _filename(part)
        if ctype == "message/rfc822" or (ctype.startswith("message/") and filename.endswith(".eml")):
            continue  # handled below, from the container's sub-parts
        if not filename and disposition != "attachment" and ctype in ("text/plain", "text/html"):
            (texts if ctype == "text/plain" else htmls).append(_part_text(part))
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.attachments.append(Attachment(filename or f"unnamed.{ctype.split('/')[-1]}", ctype, payload))
    if depth >= MAX_DEPTH:
        return
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            for sub in inner if isinstance(inner, list) else [inner]:
                if isinstance(sub, Message):
                    _walk_forwarded(sub, out, depth + 1)


def _walk_forwarded(msg: Message, out: ParsedMail, depth: int) -> None:
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        filename = _filename(part)
        if filename:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.attachments.append(Attachment(filename, part.get_content_type(), payload))


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw bytes; never raises for malformed input (defects are recorded instead)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers: dict[str, str] = {}
    for key, value in msg.items():
        headers.setdefault(key.lower(), str(value))
    from_name, from_addr = parseaddr(decode_header_value(headers.get("from", "")))
    refs = re.findall(r"<[^<>\s]+>", headers.get("references", ""))
    return_path = None
    if "return-path" in headers:
        return_path = parseaddr(headers["return-path"])[1]
    out = ParsedMail(
        from_addr=from_addr.strip().lower(),
        from_name=from_name,
        subject=decode_header_value(headers.get("subject")),
        message_id=headers.get("message-id", "").strip(),
        in_reply_to=headers.get("in-reply-to", "").strip(),
        references=refs,
        headers=headers,
        text="",
        content_type=msg.get_content_type(),
        return_path=return_path,
        defects=[type(d).__name__ for d in msg.defects],
    )
    texts: list[str] = []
    htmls: list[str] = []
    _walk(msg, out, 0, texts, htmls)
    out.text = "\n".join(t for t in texts if t.strip()) or "\n".join(html_to_text(h) for h in htmls)
    return out


def recipients(headers: dict[str, str]) -> list[str]:
    return [a.lower() for _, a in getaddresses([headers.get("to", ""), headers.get("cc", "")]) if a]
