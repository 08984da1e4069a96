"""Reply text: HTML to text, quoted text removed, and "no complaints" statements recognised."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from scoring.periods import thai_digits_to_arabic


class _TextExtractor(HTMLParser):
    """Visible text of an HTML body, leaving out quoted replies (blockquote, Gmail/Outlook quote blocks)."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"}
    _QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "divrplyfwdmsg")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_stack: list[str] = []
        self._skip_tags = {"style", "script", "head", "title"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").lower()
        ident = (attr.get("id") or "").lower()
        quoted = tag == "blockquote" or any(c in classes for c in self._QUOTE_CLASSES) or ident in (
            "appendonsend", "divrplyfwdmsg")
        if self._skip_stack or quoted or tag in self._skip_tags:
            if tag not in ("br", "img", "hr", "meta", "input"):
                self._skip_stack.append(tag)
            return
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_stack:
            if self._skip_stack[-1] == tag:
                self._skip_stack.pop()
            return
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_stack:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # malformed HTML: fall back to stripping tags
        return re.sub(r"<[^>]+>", " ", html)
    text = "".join(parser.parts).replace("\xa0", " ")
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


# Lines that start a quoted earlier message; everything from there on is not the sender's new text.
_QUOTE_HEADERS = [
    re.compile(r"^\s*เมื่อ\s.+เขียนว่า\s*:?\s*$"),  # Gmail, Thai
    re.compile(r"^\s*On\s.+wrote\s*:\s*$", re.IGNORECASE),  # Gmail, English
    re.compile(r"^\s*-{2,}\s*(Original Message|ข้อความต้นฉบับ|Forwarded message|ข้อความที่ส่งต่อ)\s*-{2,}", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook separator line
]
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|จาก)\s*:\*?\s*.+$", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|ส่ง|วันที่|ถึง|เรื่อง)\s*:", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The sender's own new text: stop at a quote header, drop `>` lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _QUOTE_HEADERS):
            break
        # Outlook's quoted header block: "From: …" followed by "Sent:/To:/ส่ง:" lines.
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1:i + 3]):
            break
        # A two-line Gmail header ("On Mon, … <x@y>\nwrote:") also ends the new text.
        if i + 1 < len(lines) and re.match(r"^\s*(On|เมื่อ)\s", line) and re.match(
                r"^\s*.*(wrote|เขียนว่า)\s*:?\s*$", lines[i + 1]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


_NIL_PATTERNS = [
    r"ไม่มี(?:ข้อ|เรื่อง|ผู้)?ร้องเรียน",
    r"ไม่พบ(?:ข้อ|เรื่อง)?ร้องเรียน",
    r"ไม่มี(?:ข้อ|เรื่อง)?ร้องเรียน",
    r"ไม่ได้รับ(?:ข้อ|เรื่อง)?ร้องเรียน",
    r"ไม่มีข้อร้องเรียน(?:/|และ|,)?ข้อเสนอแนะ",
    r"\bno\s+complaints?\b",
    r"\bnil\s+report\b",
    r"\bnothing\s+to\s+report\b",
]
_NIL = re.compile("|".join(_NIL_PATTERNS), re.IGNORECASE)
# "…but there were 2 suggestions": cases reported alongside a "no complaints" sentence.
_CASES = re.compile(
    r"(?:แต่|but)\s*(?:มี|there\s+(?:was|were)|had)"
    r"|(?:มี|จำนวน|received)\s*(?:ข้อ|เรื่อง|ความ)?(?:ร้องเรียน|เสนอแนะ|คิดเห็น|ชมเชย|suggestion|opinion|compliment)s?\s*(?:จำนวน)?\s*[1-9]\d*"
    r"|[1-9]\d*\s*(?:เรื่อง|ราย|cases?|suggestions?|compliments?)",
    re.IGNORECASE,
)


# "หากไม่มีข้อร้องเรียน ให้ตอบกลับ…" (if there are none, reply…) is an instruction, not a statement.
_CONDITIONAL = re.compile(r"(?:หาก|ถ้า|กรณี|ในกรณีที่|if|in\s+case)\s*(?:ท่าน|หน่วยงาน)?\s*$", re.IGNORECASE)


def _stated(text: str) -> bool:
    return any(not _CONDITIONAL.search(text[max(0, m.start() - 20):m.start()]) for m in _NIL.finditer(text))


def nil_statement(text: str) -> bool:
    """Does the sender's own text say there were no complaints (and report no cases)?"""
    own = thai_digits_to_arabic(strip_quoted(text))
    squashed = re.sub(r"[ \t\u200b]+", "", own)
    spaced = re.sub(r"\s+", " ", own)
    if not (_stated(squashed) or _stated(spaced)):
        return False
    return not (_CASES.search(squashed) or _CASES.search(spaced))
