"""Personal data (Thailand's PDPA): complainants' names, phone and ID numbers masked for reading or purged.

Shared by mailer (what the secretariat reads) and intake (the retention purge).
"""

from __future__ import annotations

import re

_TITLES = ("นางสาว", "นาง", "นาย", "น.ส.", "ด.ช.", "ด.ญ.", "mrs.", "mr.", "ms.", "miss")
# Honorifics and ranks that precede a person's name in Thai free text ("นายสมชาย ใจดี แจ้งว่า…").
_HONORIFICS = ("นางสาว", "นาง", "นาย", "น.ส.", "ด.ช.", "ด.ญ.", "เด็กชาย", "เด็กหญิง", "นายแพทย์", "แพทย์หญิง",
               "นพ.", "พญ.", "ทพ.", "ทพญ.", "ดร.", "คุณ", "พล.ต.อ.", "พล.ต.ท.", "พล.ต.ต.", "พ.ต.อ.", "พ.ต.ท.", "พ.ต.ต.",
               "ร.ต.อ.", "ร.ต.ท.", "ร.ต.ต.", "ด.ต.", "จ.ส.ต.", "ส.ต.อ.", "ส.ต.ท.", "ส.ต.ต.", "พล.อ.", "พ.อ.", "พ.ท.",
               "พ.ต.", "ร.อ.", "ร.ท.", "ร.ต.", "จ.ส.อ.", "ส.อ.", "พลทหาร", "ว่าที่ร้อยตรี", "ว่าที่ ร.ต.")
# Words that start like an honorific but are offices, not names (นายก = mayor, นายอำเภอ = district chief…).
_NOT_NAMES = ("นายก", "นายอำเภอ", "นายช่าง", "นายทะเบียน", "นายจ้าง", "นายหน้า", "นางพยาบาล", "คุณภาพ", "คุณสมบัติ",
              "คุณค่า", "คุณประโยชน์", "คุณธรรม", "คุณลักษณะ")
# An honorific, then the given name (Thai letters), then optionally a surname after one space: bounded
# repeats, so the scan is linear.
_THAI_NAME = re.compile(
    "(" + "|".join(re.escape(h) for h in sorted(_HONORIFICS, key=len, reverse=True)) + ")"
    r" ?([ก-๎]{2,40})(?: ([ก-๎]{2,40}))?")
# Thai mobile/landline numbers (with or without dashes/spaces), and 13-digit citizen IDs.
_PHONE = re.compile(r"(?<!\d)(?:\+66|0)\d(?:[\s-]?\d){7,8}(?!\d)")
_CITIZEN_ID = re.compile(r"(?<!\d)\d(?:[\s-]?\d){12}(?!\d)")
# Found from each "@" (the local part is walked back at most 64 characters): a pattern starting at every
# letter made a 40,000-character run of letters without "@" cost 20 s.
_EMAIL_DOMAIN = re.compile(r"@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    keep = 2
    digits = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep else "x")
        else:
            out.append(ch)
    return "".join(out)


_DIGIT_OR_AT = re.compile(r"[\d@]")


def _mask_person(match: re.Match[str]) -> str:
    whole = match.group(0)
    if whole.startswith(_NOT_NAMES):
        return whole
    names = [w for w in match.group(2, 3) if w]
    return match.group(1) + " ".join(w[0] + "*" * max(len(w) - 1, 2) for w in names)


def mask_text(text: str) -> str:
    """Free text with people's names after an honorific or rank, phone numbers, 13-digit citizen IDs and
    e-mail addresses masked."""
    text = _THAI_NAME.sub(_mask_person, text)
    if not _DIGIT_OR_AT.search(text):  # most case text has neither: skip the three patterns
        return text
    text = _CITIZEN_ID.sub(_mask_digits, text)
    text = _PHONE.sub(_mask_digits, text)
    return _mask_emails(text)


def _mask_emails(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _EMAIL_DOMAIN.finditer(text):
        start = m.start()
        while start > max(pos, m.start() - 64) and (text[start - 1] in _LOCAL_CHARS or text[start - 1].isalnum()):
            start -= 1
        if start == m.start():
            continue  # "@" with no local part: not an address
        out.append(text[pos:start] + text[start] + "***" + m.group(0))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def mask_name(name: str) -> str:
    """`นายสมชาย ใจดี` → `นายส**** ใ***`: the title stays, each name keeps its first letter."""
    name = name.strip()
    if not name:
        return ""
    lowered = name.lower()
    # A Thai title is written against the name (นายสมชาย); an English one is a word of its own ("Miss Ann",
    # not "Missy"). The title is kept as written, and so is the space after it.
    size = next((len(t) for t in _TITLES if lowered.startswith(t)
                 and (not t.isascii() or t.endswith(".") or name[len(t):len(t) + 1] in ("", " "))), 0)
    title, rest = name[:size], name[size:]
    words = [w[0] + "*" * max(len(w) - 1, 2) for w in rest.split()]
    if not words:
        return title
    return title + (" " if rest[:1].isspace() else "") + " ".join(words)


EXCEL_MAX_TEXT = 32_767  # characters in one cell: Excel's limit, which an xlsx writer may enforce by refusing


def safe_cell(value: object) -> object:
    """Text from units never starts a cell with = + - @ (Excel would read a formula), and is clipped to what a
    cell holds (a workbook made elsewhere can carry longer text; the digest's writer refuses it)."""
    if isinstance(value, str):
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            value = "'" + value
        if len(value) > EXCEL_MAX_TEXT:
            value = value[:EXCEL_MAX_TEXT - 1] + "…"
    return value
