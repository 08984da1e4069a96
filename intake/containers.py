"""Containers checked before anything is inflated or materialised (SPEC.md, "Trust").

Zip containers (.zip, and the .xlsx/.xlsm/.ods/.docx/.odt packages, which are zips too) from their
central directory; a worksheet's declared range from the first KB of its XML; a password-protected
.xls from the record after its BOF. Each limit is named in the receipt (intake/documents.py).
"""

from __future__ import annotations

import io
import re
import zipfile

from intake.errors import DocumentError

MAX_ZIP_MEMBERS = 200  # files in a .zip a unit sends
MAX_PACKAGE_PARTS = 2000  # parts of an Office/ODF package (a workbook of many sheets has hundreds)
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_DEPTH = 3
MAX_FILES = 100  # attachments after unpacking
# A sheet's declared range is checked before it is materialised (a form has tens of thousands of rows
# and about twenty columns at most; these limits are far above that).
MAX_SHEET_ROWS = 200_000
MAX_SHEET_CELLS = 5_000_000


def open_zip(filename: str, data: bytes, max_members: int = MAX_PACKAGE_PARTS) -> zipfile.ZipFile:
    """A zip whose central directory promises a sane unpacked size; DocumentError otherwise.

    Member count, total declared size and the total ratio are checked before anything is inflated.
    A member that lies about its size is caught by the sandbox's memory and time limits instead.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # zipfile raises many types for damaged archives (even NotImplementedError)
        raise DocumentError(filename, "unreadable_attachment", f"bad zip: {exc}") from exc
    if len(infos) > max_members:
        raise DocumentError(filename, "archive_too_large", f"{len(infos)} members")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES or total > MAX_ZIP_RATIO * max(len(data), 1) + 1024 * 1024:
        raise DocumentError(filename, "archive_too_large", f"unpacks to {total} bytes")
    return zf


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?\"")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_sheet_ranges(filename: str, zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose worksheets declare a range too large to materialise (read from the first
    few KB of each sheet, inflated as a stream)."""
    for info in zf.infolist():
        name = info.filename.replace("\\", "/").lower()
        if "worksheets/" not in name or not name.endswith(".xml"):
            continue
        with zf.open(info) as member:
            head = member.read(8192)
        m = _DIMENSION.search(head)
        if not m:
            continue  # no declared range: the sandbox's memory limit still holds
        col, row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
        rows, cells = int(row), int(row) * _column_number(col)
        if rows > MAX_SHEET_ROWS or cells > MAX_SHEET_CELLS:
            raise DocumentError(filename, "sheet_too_large", f"{info.filename} declares {rows} rows, {cells} cells")


def member_head(archive: zipfile.ZipFile, name: str, size: int = 65536) -> bytes:
    """The first bytes of a member (streamed: a small manifest is read, a bomb is not inflated)."""
    for info in archive.infolist():
        if info.filename.replace("\\", "/") == name:
            with archive.open(info) as member:
                return member.read(size)
    return b""


def normalized_package(filename: str, data: bytes, archive: zipfile.ZipFile | None = None) -> tuple[bytes, zipfile.ZipFile]:
    """A zip whose member names use backslashes (some Windows zip tools) rewritten with slashes, so that
    readers find xl/workbook.xml; any other zip is returned as it is. With it, the checked archive opened
    (`open_zip`), for the checks that follow: its directory is read once. `archive`: `data` already opened
    with `open_zip` (by the sniffing)."""
    zf = archive if archive is not None else open_zip(filename, data)
    if not any("\\" in i.filename for i in zf.infolist()):
        return data, zf
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zf.infolist():
            dst.writestr(info.filename.replace("\\", "/"), zf.read(info))
    return out.getvalue(), open_zip(filename, out.getvalue())


def biff_filepass(data: bytes) -> bool:
    """An .xls whose workbook stream starts BOF, FILEPASS: encrypted with a password (the record that
    follows the BOF of a protected workbook; BIFF8's BOF is 16 bytes long, BIFF5's 8)."""
    for bof, size in ((b"\x09\x08\x10\x00", 16), (b"\x09\x08\x08\x00", 8)):
        at = data.find(bof, 0, 1 << 20)
        if at >= 0 and data[at + 4 + size:at + 6 + size] == b"\x2f\x00":
            return True
    return False
