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


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text whose label may be missing or wrong: declared, then UTF-8, then cp874."""
    register_thai_codecs()
    for charset in filter(None, (declared, "utf-8", "cp874")):
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")
