"""Personal data (Thailand's PDPA): complainants' names, phone and ID numbers masked for reading or purged.

Shared by mailer (what the secretariat reads) and intake (the retention purge).
"""

from __future__ import annotations

import re

_TITLES = ("นางสาว", "นาง", "นาย", "น.ส.", "ด.ช.", "ด.ญ.", "mrs.", "mr.", "ms.", "miss")
# Thai mobile/landline numbers (with or without dashes/spaces), and 13-digit citizen IDs.
_PHONE = re.compile(r"(?<!\d)(?:\+66|0)\d(?:[\s-]?\d){7,8}(?!\d)")
_CITIZEN_ID = re.compile(r"(?<!\d)\d(?:[\s-]?\d){12}(?!\d)")
_EMAIL = re.compile(r"([\w.+-])[\w.+-]*(@[\w-]+(?:\.[\w-]+)+)")


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


def mask_text(text: str) -> str:
    """Free text with phone numbers, citizen IDs and e-mail addresses masked."""
    if not _DIGIT_OR_AT.search(text):  # most case text has neither: skip the three patterns
        return text
    text = _CITIZEN_ID.sub(_mask_digits, text)
    text = _PHONE.sub(_mask_digits, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)


def mask_name(name: str) -> str:
    """`นายสมชาย ใจดี` → `นายส***** ใ***`: the title stays, each name keeps its first letter."""
    name = name.strip()
    if not name:
        return ""
    title = next((t for t in _TITLES if name.lower().startswith(t)), "")
    rest = name[len(title):].strip()
    words = [w[0] + "*" * max(len(w) - 1, 2) for w in rest.split()]
    return (title + " ".join(words)).strip() if words else title


def safe_cell(value: object) -> object:
    """Text from units never starts a cell with = + - @ (Excel would read a formula)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
