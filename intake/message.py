"""Parse raw message bytes into plain data: addresses, headers, body text and attachments."""

from __future__ import annotations

import base64
import binascii
import email
import email.parser
import email.policy
import functools
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from email.header import Header, decode_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.utils import parseaddr

from intake.encodings import decode_bytes, register_thai_codecs
from intake.headers import (MAX_HEADER_BYTES, MAX_HEADER_FIELDS, capped_header_block, has_raw_bytes, header_items,
                            raw_header_text, recover_raw_headers, unfold)
from intake.text import html_to_text

register_thai_codecs()

MAX_HEADER_CHARS = 4000  # a subject or filename longer than this is not one a person wrote
MAX_NESTING = 40  # multiparts and forwards inside each other: real mail nests a handful; hostile mail thousands


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
    all_headers: list[tuple[str, str]]  # every header in order (Received, Authentication-Results repeat)
    text: str  # the body as plain text (from HTML when no plain part)
    attachments: list[Attachment] = field(default_factory=list)
    content_type: str = "text/plain"
    return_path: str | None = None
    defects: list[str] = field(default_factory=list)
    forwarded: list[Forwarded] = field(default_factory=list)
    sender_problem: str | None = None  # why the From header cannot name a unit (several, unparseable, disguised)


def _msg_ids(value: str) -> str:
    """In-Reply-To or References as written: Python's own generator (3.11, the default policy) writes a long
    Message-ID as RFC 2047 encoded words, which RFC 2047 forbids there but scripts send; decoded, it is the
    identifier it meant (a reply to the bot's reminder must still find the reminder)."""
    return decode_header_value(value) if "=?" in value else value


def decode_header_value(value: object) -> str:
    """A header as text: RFC 2047 words in any charset, and raw 8-bit (non-compliant clients) as UTF-8 or cp874."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = value[:MAX_HEADER_CHARS]
    try:
        chunks = decode_header(value if isinstance(value, (str, Header)) else str(value)[:MAX_HEADER_CHARS])
    except (email.errors.HeaderParseError, ValueError, TypeError):
        chunks = [(str(value), None)]
    parts: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            declared = None if charset in (None, "unknown-8bit") else charset
            parts.append(decode_bytes(chunk, declared))
        else:
            parts.append(chunk)
    text = "".join(parts)
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # 8-bit bytes smuggled through as surrogates
        text = decode_bytes(text.encode("utf-8", errors="surrogateescape"))
    # Folded lines joined with one space (split/strip rather than a pattern: linear on any input).
    return " ".join(line.strip() for line in text[:MAX_HEADER_CHARS].splitlines() if line.strip())


_ADDRESS_HEADER = HeaderRegistry()
Sender = tuple[str, str, str | None]  # (address, display name, problem): what `sender_identity` answers


def sender_identity(values: list[str]) -> Sender:
    """(address, display name, problem) from the From header(s), strictly (RFC 5322, email.headerregistry).

    The address is taken from the header as written, before any encoded word is decoded: a display
    name decoded first can pose as an address (`=?utf-8?q?unit=40x?= <attacker@y>`). Several From
    headers or addresses, a value the parser repairs (defects), or a display name that holds another
    address: a problem, no address (so the message can speak for no unit), and the reason for review.
    """
    if not values:
        return "", "", None
    if len(values) > 1:
        return "", "", f"{len(values)} From headers"
    return _one_sender(unfold(raw_header_text(values[0][:MAX_HEADER_CHARS * 2]))[:MAX_HEADER_CHARS])


# What the strict parser reports about decoding a display name (a charset it does not know, an encoded word
# split inside a Thai character as NeoMutt and Outlook split them, encoded words inside a quoted name as Zimbra
# and old Outlook write them): the address is not in doubt, and the name is decoded again below as RFC 2047
# joins adjacent words (and checked for a second address like any other).
_NAME_ONLY_DEFECTS = (email.errors.NonASCIILocalPartDefect, email.errors.UndecodableBytesDefect,
                      email.errors.CharsetError)
_NAME_ONLY_MESSAGES = frozenset({"encoded word inside quoted string", "missing trailing whitespace after encoded-word",
                                 "missing whitespace before encoded word"})


def _about_the_address(defect: email.errors.MessageDefect) -> bool:
    return not (isinstance(defect, _NAME_ONLY_DEFECTS) or str(defect) in _NAME_ONLY_MESSAGES)


@functools.lru_cache(maxsize=4096)
def _one_sender(text: str) -> tuple[str, str, str | None]:
    """One From value read strictly. Cached: a backlog holds many messages from each unit, and the strict
    parse costs more than the rest of the header block's (the value is capped, the answer immutable)."""
    try:
        header = _ADDRESS_HEADER("from", text)
        addresses = list(header.addresses)  # type: ignore[attr-defined]
        defects = [d for d in header.defects if _about_the_address(d)]
    except Exception as exc:  # the parser is strict; anything it cannot take is not a unit's From
        return "", "", f"unparseable From ({type(exc).__name__})"
    if len(addresses) != 1:
        return "", "", f"{len(addresses)} addresses in From"
    address, parsed_name = addresses[0].addr_spec.strip().lower(), addresses[0].display_name
    name = _display_name(text, parsed_name)
    if defects or not address or "@" not in address or has_raw_bytes(address):
        return "", name, "unparseable From: " + ", ".join(type(d).__name__ for d in defects[:3])
    for token in re.split(r"[\s<>()\"',;:\[\]]+", f"{parsed_name} {name}".lower()):
        if "@" in token and "." in token.rpartition("@")[2] and token != address:
            return "", name, f"display name holds another address ({token[:100]} <{address[:100]}>)"
    return address, name, None


def _display_name(text: str, parsed: str) -> str:
    """The display name as a person reads it: the words before `<address>` decoded as RFC 2047 6.2 says
    (adjacent encoded words joined without the space the strict parser leaves, "กรมอ นามัย"); the parser's own
    name when the address is not in angle brackets."""
    before, bracket, _ = text.rpartition("<")
    if not bracket or not before.strip():
        return parsed
    name = decode_header_value(before).strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    # Words as a person reads them: a run of spaces between them is one (an unquoted phrase's words are
    # separated by folding white space, which means one space; Python's generator leaves a name's spaces as typed).
    return " ".join(name.split()) or parsed


def _filename(part: Message) -> str:
    name = part.get_filename()  # handles RFC 2231 continuations and charsets
    if name is None:
        ctype_name = part.get_param("name")
        name = ctype_name if isinstance(ctype_name, str) else None
    return short_filename(decode_header_value(name)) if name else ""


MAX_FILENAME = 120


def short_filename(name: str) -> str:
    """At most MAX_FILENAME characters, keeping the extension (it says what the file claims to be)."""
    name = "".join(ch for ch in name if ch.isprintable())
    if len(name) <= MAX_FILENAME:
        return name
    stem, dot, ext = name.rpartition(".")
    ext = ext[:10] if dot else ""
    return name[:MAX_FILENAME - len(ext) - 2] + "…" + (f".{ext}" if ext else "")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


@dataclass(frozen=True)
class Forwarded:
    """A message attached to (forwarded inside) the one received."""

    from_addr: str
    message_id: str
    text: str


_UU_BEGIN = re.compile(r"begin [0-7]{3,4} (\S[^\r\n]{0,250})")


def split_uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """Files uuencoded inside a body's text (`begin 644 Complaint_02.xlsx` ... `end`, as old clients and some
    forwarding tools write them), and the text without them. One pass over the lines; a block that does not
    decode is left in the text as it was."""
    if "begin " not in text:
        return text, []
    kept: list[str] = []
    found: list[Attachment] = []
    block: list[str] | None = None
    name = ""
    for line in text.splitlines():
        if block is None:
            m = _UU_BEGIN.fullmatch(line.rstrip())
            if m:
                block, name = [line], m.group(1).strip()
            else:
                kept.append(line)
            continue
        block.append(line)
        if line.strip() != "end":
            continue
        data = _uudecode(block[1:-1])
        if data is None:
            kept.extend(block)
        else:
            found.append(Attachment(short_filename(name), "application/octet-stream", data))
        block = None
    kept.extend(block or [])
    return "\n".join(kept), found


def _uudecode(lines: list[str]) -> bytes | None:
    out = bytearray()
    try:
        for line in lines:
            if line.strip() in ("", "`"):
                continue
            out += binascii.a2b_uu(line.rstrip("\r\n"))
    except (binascii.Error, ValueError):
        return None
    return bytes(out) or None


def _leaf(part: Message, out: ParsedMail, texts: list[str], htmls: list[str]) -> None:
    ctype = part.get_content_type()
    disposition = part.get_content_disposition() or ""
    filename = _filename(part)
    if not filename and disposition != "attachment" and ctype in ("text/plain", "text/html"):
        text = _part_text(part)
        if ctype == "text/plain":
            text, files = split_uuencoded(text)
            out.attachments.extend(files)
        (texts if ctype == "text/plain" else htmls).append(text)
        return
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        if not filename and not payload.strip():
            return  # an empty part the sender did not attach: never name it in the receipt
        if not filename:
            ext = mimetypes.guess_extension(ctype) or ".bin"
            filename = f"unnamed{ext}"
        out.attachments.append(Attachment(filename, ctype, payload))


def _collect(part: Message, out: ParsedMail, texts: list[str], htmls: list[str], depth: int) -> None:
    """Body text and attachments; one malformed part is recorded as a defect and the others are still read."""
    try:
        _collect_part(part, out, texts, htmls, depth)
    except Exception as exc:
        out.defects.append(f"unreadable part: {type(exc).__name__}")


def _decoded_message(part: Message, inner: Message) -> Message:
    """A forwarded message whose message/rfc822 part is base64- or quoted-printable-encoded (RFC 2046 5.2.1
    forbids it; some clients forward that way): the parser took the encoded text for a headerless message, so
    it is decoded and parsed again. Any other forwarded message is returned as it is."""
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte not in ("base64", "quoted-printable") or inner.keys():
        return inner
    encoded = inner.get_payload()
    if not isinstance(encoded, str):
        return inner
    try:
        data = (base64.b64decode(encoded) if cte == "base64"
                else quopri.decodestring(encoded.encode("ascii", "surrogateescape")))
        decoded = email.message_from_bytes(data, policy=email.policy.compat32)
        recover_raw_headers(decoded)
    except (binascii.Error, ValueError, RecursionError):
        return inner
    return decoded


def _collect_part(part: Message, out: ParsedMail, texts: list[str], htmls: list[str], depth: int) -> None:
    """A forwarded message gives its attachments, and its own text apart from the body."""
    payload = part.get_payload()
    if part.get_content_type() == "message/rfc822" or (isinstance(payload, list) and part.get_content_maintype() == "message"):
        if depth >= MAX_NESTING:
            out.defects.append("forward nesting too deep")
            return
        for inner in payload if isinstance(payload, list) else []:
            if isinstance(inner, Message):
                inner = _decoded_message(part, inner)
                inner_texts: list[str] = []
                inner_htmls: list[str] = []
                _collect(inner, out, inner_texts, inner_htmls, depth + 1)
                text = "\n".join(t for t in inner_texts if t.strip()) or "\n".join(html_to_text(h) for h in inner_htmls)
                inner_headers = dict((k.lower(), v) for k, v in reversed(header_items(inner)))
                out.forwarded.append(Forwarded(sender_identity([inner_headers.get("from", "")])[0],
                                               inner_headers.get("message-id", "").strip(), text))
        return
    if part.get_content_maintype() == "multipart" and not part.is_multipart():
        # A multipart without its boundary lines (or an empty one): its body is text, not a file.
        text = _part_text(part)
        if text.strip():
            texts.append(text)
        return
    if part.is_multipart():
        if depth >= MAX_NESTING:
            out.defects.append("MIME nesting too deep")
            return
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _collect(sub, out, texts, htmls, depth + 1)
        return
    _leaf(part, out, texts, htmls)


def _headers_only(raw: bytes) -> Message:
    head, _, _ = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    # headersonly: a multipart Content-Type does not start a body parse (the stdlib compiles a pattern for
    # every boundary it meets, which cost more than the rest of the header block).
    return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(head + b"\r\n\r\n", headersonly=True)


def parse_message(raw: bytes, *, body: bool = True, sender: Sender | None = None) -> ParsedMail:
    """Parse raw bytes; never raises for malformed input (defects are recorded instead).

    `body=False` reads the header block only (for a message that broke the worker before). `sender`: what
    `sender_identity` answered for this message's header block already (the storing process screens the header
    block before it hands the message to a parser worker): the strict From parse costs ~0.2 ms, more than the
    rest of the headers, and is not done twice.
    """
    raw, cut = capped_header_block(raw)
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32) if body else _headers_only(raw)
    except RecursionError:  # thousands of nested parts: the stdlib parser recurses; keep the headers
        msg = _headers_only(raw)
        msg.defects.append(email.errors.MessageDefect("MIME nesting too deep to parse"))
    try:
        recover_raw_headers(msg)
    except RecursionError:  # deeply nested parts: the headers stay as they are
        pass
    items = header_items(msg)
    headers: dict[str, str] = {}
    for key, value in items:
        headers.setdefault(key.lower(), value)
    # Raw values (surrogate-escaped 8-bit kept): compat32 would turn raw UTF-8 or cp874 into U+FFFD.
    from_addr, from_name, sender_problem = sender or sender_identity([v for k, v in msg.raw_items()
                                                                       if k.lower() == "from"])
    if cut:  # fields past the cap are not read: one of them could be a second From, so it speaks for no one
        from_addr, sender_problem = "", f"header block over {MAX_HEADER_FIELDS} fields or {MAX_HEADER_BYTES // 1024} KB"
    refs = re.findall(r"<[^<>\s]+>", _msg_ids(headers.get("references", "")))
    return_path = None
    if "return-path" in headers:
        return_path = parseaddr(headers["return-path"])[1]
    out = ParsedMail(
        from_addr=from_addr,
        from_name=from_name,
        sender_problem=sender_problem,
        subject=decode_header_value(headers.get("subject")),
        message_id=headers.get("message-id", "").strip(),
        in_reply_to=_msg_ids(headers.get("in-reply-to", "")).strip(),
        references=refs,
        headers=headers,
        all_headers=items,
        text="",
        content_type=msg.get_content_type(),
        return_path=return_path,
        defects=[type(d).__name__ for d in msg.defects] + (["TooManyHeaderFields"] if cut else []),
    )
    if not body:
        return out
    texts: list[str] = []
    htmls: list[str] = []
    _collect(msg, out, texts, htmls, 0)
    out.text = "\n".join(t for t in texts if t.strip()) or "\n".join(html_to_text(h) for h in htmls)
    return out


# A message parsed in the storing process itself (a trickle, one message at a time) must be small and flat: any
# other MIME structure is a stranger's to parse in a sandbox worker, where a million empty parts cost that worker
# (45 s and 1 GB measured here in the storing process) and not intake.
PARSE_HERE_BYTES = 1024 * 1024
PARSE_HERE_BOUNDARIES = 200  # lines starting "--": part boundaries, at most (real mail: a handful)


def small_and_flat(raw: bytes) -> bool:
    return len(raw) <= PARSE_HERE_BYTES and raw.count(b"\n--") <= PARSE_HERE_BOUNDARIES
