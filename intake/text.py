"""Reply text: HTML to text, quoted text removed, and "no complaints" statements recognised."""

from __future__ import annotations

import re
import unicodedata
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


# The stdlib parser rescans for the end of every unclosed construct: 100 KB of "<a <a …" cost 90 s and
# "<!--<!--…" 4 s. Before it sees the text, comments are removed (str.find: linear) and a "<" that
# does not open a well-formed tag (closed by ">" within 4,000 characters, before any other "<")
# becomes text, so every construct it meets is bounded.
_STRAY_LT = re.compile(r"<(?![/!?]?[A-Za-z][^<>]{0,4000}>)")


def _without_comments(html: str) -> str:
    out: list[str] = []
    pos = 0
    while (start := html.find("<!--", pos)) != -1:
        out.append(html[pos:start])
        end = html.find("-->", start + 4)
        pos = len(html) if end == -1 else end + 3  # an unclosed comment hides the rest, as in a browser
    out.append(html[pos:])
    return "".join(out)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        # A stray "<" travels as NUL (plain data to the parser; an entity would cost an unescape each).
        parser.feed(_STRAY_LT.sub("\x00", _without_comments(html)))
        parser.close()
    except Exception:  # malformed HTML: fall back to stripping tags (`[^<>]`: a run of "<" stays linear)
        return re.sub(r"<[^<>]*>", " ", html)
    text = "".join(parser.parts).replace("\xa0", " ").replace("\x00", "<")
    return _collapse_blank_lines(text)


def _collapse_blank_lines(text: str) -> str:
    """At most one empty line between paragraphs (line by line: linear on any input)."""
    out: list[str] = []
    for line in text.split("\n"):
        if line.strip() or (out and out[-1].strip()):
            out.append(line if line.strip() else "")
    return "\n".join(out).strip()


# Lines that start a quoted earlier message; everything from there on is not the sender's new text.
# Checked with string operations on lines capped at MAX_QUOTE_LINE characters: no backtracking.
MAX_QUOTE_LINE = 1000
_SEPARATORS = ("original message", "ข้อความต้นฉบับ", "forwarded message", "ข้อความที่ส่งต่อ")
_OUTLOOK_FROM = ("from", "จาก")
_OUTLOOK_NEXT = ("sent", "date", "to", "subject", "ส่ง", "วันที่", "ถึง", "เรื่อง")


def _starts_reply(line: str) -> bool:
    """`On …` / `เมื่อ …`: the first line of a Gmail quote header."""
    return line.startswith(("เมื่อ ", "เมื่อ\t")) or line[:3].lower() in ("on ", "on\t")


def _ends_wrote(line: str) -> bool:
    tail = line.rstrip().removesuffix(":").rstrip().lower()
    return tail.endswith("wrote") or tail.endswith("เขียนว่า")


def _quote_header(line: str) -> bool:
    text = line.strip()[:MAX_QUOTE_LINE]
    lower = text.lower()
    if _starts_reply(text) and _ends_wrote(text) and (text.endswith(":") or not lower.endswith("wrote")):
        return True  # "On … wrote:" (English needs the colon) / "เมื่อ … เขียนว่า"
    if lower.startswith("--") and any(lower.strip("- ").startswith(sep) for sep in _SEPARATORS):
        return True
    return len(text) >= 10 and set(text) == {"_"}  # Outlook's separator line


def _header_field(line: str, names: tuple[str, ...]) -> bool:
    """`From: …`, `*Sent:*`, `ถึง :` — a field of Outlook's quoted header block."""
    text = line.strip()[:MAX_QUOTE_LINE].lower().replace("*", "")
    return any(text.startswith(n) and text[len(n):].lstrip().startswith(":") for n in names)


def strip_quoted(text: str) -> str:
    """The sender's own new text: stop at a quote header, drop `>` lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:  # most lines of a long body; none starts a quote
            kept.append(line)
            continue
        if _quote_header(line):
            break
        # Outlook's quoted header block: "From: …" followed by "Sent:/To:/ส่ง:" lines.
        if _header_field(line, _OUTLOOK_FROM) and any(_header_field(n, _OUTLOOK_NEXT) for n in lines[i + 1:i + 3]):
            break
        # A two-line Gmail header ("On Mon, … <x@y>\nwrote:") also ends the new text.
        if i + 1 < len(lines) and _starts_reply(line.strip()[:MAX_QUOTE_LINE]) and _ends_wrote(
                lines[i + 1][:MAX_QUOTE_LINE]):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


_NIL_PATTERNS = [
    r"ไม่มี(?:ข้อ|เรื่อง|ผู้)?ร้องเรียน",
    r"ไม่พบ(?:ข้อ|เรื่อง)?ร้องเรียน",
    r"ไม่ได้รับ(?:ข้อ|เรื่อง)?ร้องเรียน",
    r"\bno\s{1,3}complaints?\b",
    r"\bnil\s{1,3}report\b",
    r"\bnothing\s{1,3}to\s{1,3}report\b",
]
_NIL = re.compile("|".join(_NIL_PATTERNS), re.IGNORECASE)
_CATEGORY = r"(?:ข้อ|เรื่อง|ความ)?(?:ร้องเรียน|เสนอแนะ|คิดเห็น|ชมเชย)|complaints?|suggestions?|opinions?|compliments?"
# A count the text states, on one line (never across lines: "วันที่ 9 ตุลาคม 2569\nเรื่อง …" in a memo's
# header is a year and a field name, not "2569 cases"). Bounded repeats only: linear on hostile text.
_COUNT = rf"(?:{_CATEGORY})[ \t]{{0,3}}(?:จำนวน[ \t]{{0,3}})?(\d{{1,4}}|-|–)[ \t]{{0,3}}(?:เรื่อง|ราย|ครั้ง|cases?)?"
_STATED_COUNT = re.compile(
    rf"{_COUNT}"
    r"|จำนวน[ \t]{0,3}(\d{1,4})[ \t]{0,3}(?:เรื่อง|ราย)"
    r"|(\d{1,4})[ \t]{1,3}(?:cases|complaints|suggestions|compliments)",
    re.IGNORECASE,
)
# "…แต่มีข้อเสนอแนะ" / "…but there were …": cases reported alongside a "no complaints" sentence.
_BUT_SOME = re.compile(r"(?:แต่|but)[ \t]{0,3}(?:มี(?!อย่าง)|there[ \t]{1,3}(?:was|were)|had)", re.IGNORECASE)

# "หากไม่มีข้อร้องเรียน ให้ตอบกลับ…" (if there are none, reply…) is an instruction, not a statement.
_CONDITIONAL = re.compile(r"(?:หาก|ถ้า|กรณี|ในกรณีที่|if|in\s{1,3}case)\s{0,3}(?:ท่าน|หน่วยงาน)?\s{0,3}$", re.IGNORECASE)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode category Cc, but newline and tab


def normalize_text(text: str) -> str:
    """Text as a person reads it: NFC, control characters dropped (Thai PDF producers put U+0003 after
    sara am), OCR's nikhahit + sara aa folded, Thai digits as Arabic."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0e4d \u0e32", "\u0e33")
    return thai_digits_to_arabic(text)


def _stated(text: str) -> bool:
    return any(not _CONDITIONAL.search(text[max(0, m.start() - 20):m.start()]) for m in _NIL.finditer(text))


def _counts_in(line: str) -> tuple[bool, bool]:
    """(a positive count is stated, a zero count for complaints is stated) on one body line."""
    positive = zero_complaints = False
    for m in _STATED_COUNT.finditer(line):
        value = next((g for g in m.groups() if g is not None), "")
        if value.isdigit() and int(value) > 0:
            positive = True
        elif "ร้องเรียน" in m.group(0) or "complaint" in m.group(0).lower():
            zero_complaints = True
    return positive, zero_complaints


def nil_statement(text: str) -> bool:
    """Does the sender's own text say there were no complaints (and report no cases)?

    1. Normalise, and keep the sender's own text (quoted replies removed).
    2. Read line by line: a count is one the text states on one line, next to a category or "จำนวน" (an
       official memo's header — "วันที่ 9 ตุลาคม 2569" above "เรื่อง …" — holds numbers that are not counts).
    3. "No complaints" is said in words (ไม่มีข้อร้องเรียน, no complaints) or as a zero count for complaints
       ("ข้อร้องเรียน จำนวน 0 เรื่อง", "ข้อร้องเรียน - เรื่อง"), outside an instruction ("หากไม่มี…").
    4. It is not a nil report when any line states a positive count or "…but there were …".
    """
    own = normalize_text(strip_quoted(text))
    lines = [" ".join(raw.split()) for raw in own.split("\n")]
    lines = [line for line in lines if line]
    squashed = [line.replace(" ", "").replace("\u200b", "") for line in lines]
    said = any(_stated(sq) or _stated(line) for line, sq in zip(lines, squashed))
    # Count patterns run only where they can matter: a statement was found, or a zero count may stand.
    counts = [_counts_in(line) for line in lines] if said or any(ch in own for ch in "0-–") else []
    said = said or any(zero for _, zero in counts)
    if not said:  # most text: one pass, no count patterns
        return False
    positive = any(p for p, _ in counts) or any(_BUT_SOME.search(line) or _BUT_SOME.search(sq)
                                                  for line, sq in zip(lines, squashed))
    return not positive
