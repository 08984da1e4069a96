"""Charset aliases Thai mail uses that Python lacks (Outlook labels Thai mail `windows-874`)."""

from __future__ import annotations

import codecs

_ALIASES = {"windows_874", "windows-874", "x-windows-874", "x_windows_874", "tis-620", "tis620", "tis_620",
            "iso-8859-11", "iso8859_11", "iso_8859_11"}
_registered = False


def _search(name: str) -> codecs.CodecInfo | None:
    if name.lower().replace(" ", "") in _ALIASES or name.lower().replace("-", "_") in _ALIASES:
        return codecs.lookup("cp874")
    return None


def register_thai_codecs() -> None:
    """Idempotent: make `windows-874`, `x-windows-874` and `tis-620` decode as cp874."""
    global _registered
    if not _registered:
        codecs.register(_search)
        _registered = True


def _has_thai(text: str) -> bool:
    return any("\u0e01" <= ch <= "\u0e5b" for ch in text)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text whose label may be missing or wrong: the declared charset, else UTF-8 or cp874.

    Without a label, the reading that gives Thai wins: short cp874 byte strings are often valid
    UTF-8 too ("แบบ" in cp874 reads as "Ẻ" in UTF-8).
    """
    register_thai_codecs()
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, ValueError):  # an unknown label; a bad byte; a label with a NUL (ValueError)
            pass
    try:
        utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
        # Mostly UTF-8 with a few broken bytes (a truncated line, a stray byte): keep the text, mark the damage.
        lenient = data.decode("utf-8", errors="replace")
        if _has_thai(lenient) and lenient.count("\ufffd") <= max(3, len(lenient) // 20):
            return lenient
    if utf8 is not None and (utf8.isascii() or _has_thai(utf8)):
        return utf8
    thai = data.decode("cp874", errors="replace")
    if _has_thai(thai) or utf8 is None:
        return thai
    return utf8
