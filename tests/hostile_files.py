"""Files nobody here would write, as an attacker (or a broken generator) would: for the isolation tests."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

FILES = Path(__file__).parent / "data" / "files"


def far_cell_xlsx(*, dimension: bool) -> bytes:
    """5 KB: cells A1 and XFD1048576. calamine materialises the whole range (512 GB) and aborts.
    Without its <dimension> element only the sandbox's memory limit stands between it and the worker."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["XFD1048576"] = "ลำดับ", "x"
    buf = io.BytesIO()
    wb.save(buf)
    if dimension:
        return buf.getvalue()
    return rewrite_sheets(buf.getvalue(), lambda xml: re.sub(rb"<dimension[^>]*/>", b"", xml))


def rewrite_sheets(package: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """An .xlsx with each worksheet's XML passed through `change`, every other part as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, change(data) if "worksheets/" in item.filename else data)
    return out.getvalue()


def _inflating(member: str, others: dict[str, bytes], size: int) -> bytes:
    """A package whose `member` inflates to `size` bytes of XML from a few hundred KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in others.items():
            zf.writestr(name, data)
        with zf.open(member, "w", force_zip64=True) as sink:
            chunk = b"<row><c><v>1</v></c></row>" * 40_000
            for _ in range(size // len(chunk) + 1):
                sink.write(chunk)
    return out.getvalue()


@functools.cache
def inflating_xlsx() -> bytes:
    """An .xlsx whose sheet XML inflates to 200 MB (the issue measured 1.27 GB RSS on a larger one)."""
    return _inflating("xl/worksheets/sheet1.xml", {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"},
                      200 * 1024 * 1024)


@functools.cache
def inflating_docx() -> bytes:
    """A .docx whose document.xml inflates to 200 MB (a 408 KB one took 1.2 GB and 186 s)."""
    return _inflating("word/document.xml", {"[Content_Types].xml": b"<Types/>"}, 200 * 1024 * 1024)


def scanned_pdf() -> bytes:
    return (FILES / "memo_scan.pdf").read_bytes()


PARSER_KILLER = b"X-Kill-The-Parser: yes"


def parse_or_die(raw: bytes, *, body: bool = True) -> object:
    """Stands in for the MIME parser: a message carrying PARSER_KILLER kills the process parsing its body (as a
    native crash would; its header block alone parses); any other message is parsed for real."""
    import os
    import signal

    from intake.message import parse_message

    if body and PARSER_KILLER in raw:
        os.kill(os.getpid(), signal.SIGKILL)
    return parse_message(raw, body=body)


def read_or_raise(raw: bytes, sender: tuple[str, str, str | None] | None = None) -> object:
    """Stands in for `read_message`, raising (as a reader's bug would) on a message holding PARSER_KILLER."""
    from intake.reading import read_message

    if PARSER_KILLER in raw:
        raise ValueError("reader bug on this message")
    return read_message(raw, sender)


def read_or_die(raw: bytes, sender: tuple[str, str, str | None] | None = None) -> object:
    """Stands in for `read_message` (a message's parse and reading in one sandbox task), dying the same way."""
    from intake.reading import read_message

    parse_or_die(raw)
    return read_message(raw, sender)


def cannot_start(*args: object) -> None:
    """Stands in for a parser worker's start (`intake.sandbox._init_worker`) on a host that refuses it what it needs
    (memory, a process): it fails, and pebble's pool stops with every task it held."""
    raise OSError(12, "Cannot allocate memory")
