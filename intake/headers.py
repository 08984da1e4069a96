"""A message's header block as intake reads it, before any parse of a value: cut to a size no one's mail exceeds,
raw 8-bit bytes recovered, every value unfolded. The one way intake reads headers (intake/message.py parses
with these; intake/bounces.py reads a report's blocks with them)."""

from __future__ import annotations

import re
from email.message import Message

from intake.encodings import decode_bytes


def raw_header_text(value: str) -> str:
    """A header value as the sender wrote it (encoded words left encoded), with raw 8-bit bytes
    (RFC 6532 UTF-8, or cp874 from old clients) recovered instead of left as surrogates."""
    if has_raw_bytes(value):
        return decode_bytes(value.encode("ascii", "surrogateescape"))
    return value


def unfold(value: str) -> str:
    """A header value on one line, as RFC 5322 2.2.3 unfolds it: every line break before whitespace removed.

    Every header value the bot reads passes here before any parse (the strict address parser refuses a value
    that still holds CR or LF, and every client folds a long Thai display name before the address). A bare CR
    or LF, which a parsed value cannot hold legitimately, goes too. `str.replace` only: linear on any input."""
    if "\n" not in value and "\r" not in value:
        return value
    return value.replace("\r\n", "").replace("\n", "").replace("\r", "")


def header_items(msg: Message) -> list[tuple[str, str]]:
    """Every header of `msg` in order, values unfolded (the one way intake reads a header block)."""
    return [(key, unfold(str(value))) for key, value in msg.items()]


_RAW_BYTE = re.compile("[\udc80-\udcff]")  # an 8-bit byte kept by the parser as a lone surrogate


def has_raw_bytes(value: str) -> bool:
    return _RAW_BYTE.search(value) is not None


def recover_raw_headers(msg: Message) -> None:
    """Headers written as raw 8-bit bytes (RFC 6532 UTF-8, or cp874 from old Outlook/Thunderbird setups)
    decoded in place (UTF-8, then cp874), in every part: compat32 would otherwise turn them into U+FFFD
    wherever they are read (subject, filenames, From). Encoded words are left as they are.

    One pass over each part's header list, in place (the same order: Authentication-Results above Received
    matters): deleting and re-adding fields one name at a time scans the whole list each time, which made a
    header block of 10,000 fields cost 18 s. `_headers` is the stdlib Message's list of (name, value) pairs,
    unchanged since Python 2; no public call replaces a value without that scan."""
    for part in msg.walk():
        headers = part._headers  # type: ignore[attr-defined]
        if any(isinstance(v, str) and has_raw_bytes(v) for _, v in headers):
            part._headers = [(k, raw_header_text(v) if isinstance(v, str) else v)  # type: ignore[attr-defined]
                             for k, v in headers]


MAX_HEADER_FIELDS = 1000  # a relayed message carries tens; a header block of thousands is no one's mail
MAX_HEADER_BYTES = 256 * 1024


def capped_header_block(raw: bytes) -> tuple[bytes, bool]:
    """`raw` with its header block cut to MAX_HEADER_FIELDS fields and MAX_HEADER_BYTES, before any per-header
    work (parse, decode, store); whether it was cut. The body is kept as it is. Counting is done on the bytes
    (C speed): a block under the caps, nearly every message, is returned untouched."""
    end = raw.find(b"\r\n\r\n")
    lf_end = raw.find(b"\n\n")
    if end < 0 or 0 <= lf_end < end:
        end, sep = lf_end, 2
    else:
        sep = 4
    head = raw if end < 0 else raw[:end]
    if len(head) <= MAX_HEADER_BYTES and head.count(b"\n") < MAX_HEADER_FIELDS:
        return raw, False
    cut = head[:MAX_HEADER_BYTES]
    fields = 1  # the first line starts the first field
    for m in _FIELD_START.finditer(cut):  # a line that does not start with whitespace starts a field
        fields += 1
        if fields > MAX_HEADER_FIELDS:
            cut = cut[:m.start() + 1]
            break
    cut = cut[:cut.rfind(b"\n") + 1] if b"\n" in cut else cut
    body = b"" if end < 0 else raw[end + sep:]
    return cut.rstrip(b"\r\n") + b"\r\n\r\n" + body, True


_FIELD_START = re.compile(rb"\n(?![ \t])")
