"""Containers checked before anything is inflated or materialised (docs/spec.md, "Trust").

Zip containers (.zip, and the .xlsx/.xlsm/.ods/.docx/.odt packages, which are zips too) from their
central directory; a worksheet's range from its declared dimension, and where that is too large (Gnumeric
declares the whole sheet) from the cells it really holds; a password-protected .xls from the record after
its BOF; what an OLE compound file is from its root streams; the files inside an Outlook `winmail.dat`
(TNEF). Each limit is named in the receipt (intake/documents.py).
"""

from __future__ import annotations

import io
import re
import zipfile

from intake.encodings import decode_bytes
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


def _too_large(rows: int, columns: int) -> bool:
    return rows > MAX_SHEET_ROWS or rows * columns > MAX_SHEET_CELLS


def check_sheet_ranges(filename: str, zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose worksheets span a range too large to materialise. The declared range is read
    from the first few KB of each sheet; only where it is too large are the sheet's cell references read,
    streamed, to find the range really used: Gnumeric declares A1:XFD1048576 for a sheet of
    two rows, while a sheet whose cells really are A1 and XFD1048576 is refused before any reader sees it."""
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
        if not _too_large(int(row), _column_number(col)):
            continue
        rows, columns = used_range(zf, info)
        if _too_large(rows, columns):
            raise DocumentError(filename, "sheet_too_large", f"{info.filename} uses {rows} rows, {columns} columns")


# A cell's or a row's reference in sheet XML (`<c r="XFD1048576"`, `<row r="7"`); a cell without `r` counts as
# the whole sheet (the range it stands for cannot be known without reading every cell before it).
_REFERENCE = re.compile(rb"<(?:\w{1,10}:)?(c|row)\b[^>]{0,200}?\sr=\"\$?([A-Z]{0,3})\$?(\d{1,7})\"|<(?:\w{1,10}:)?c[\s>/]")
_CHUNK = 1 << 20


def used_range(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) that a worksheet's cells really use, streamed in chunks (an element cut at a
    chunk's end is read with the next one)."""
    rows = columns = 0
    carry = b""
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")
            data, carry = (data[:cut], data[cut:]) if cut > 0 and len(data) - cut < 512 else (data, b"")
            for m in _REFERENCE.finditer(data):
                if m.group(3) is None:
                    return 1 << 20, 1 << 14  # a cell without its reference
                rows = max(rows, int(m.group(3)))
                if m.group(1) == b"c" and m.group(2):
                    columns = max(columns, _column_number(m.group(2)))
    return rows, columns


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


def ole_root_entries(data: bytes) -> set[str] | None:
    """The names at the root of an OLE compound file (`Workbook`/`Book` for .xls, `WordDocument` for .doc,
    `EncryptedPackage` for a password-protected .xlsx): a file is what its root says, not what an object
    embedded in it (a Word document inside a workbook) holds. None when the directory cannot be read."""
    import olefile  # here: only a parser worker meeting a compound file needs it (6 ms to import)

    try:
        with olefile.OleFileIO(data) as ole:
            return {entry[0] for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises its own and others on damaged directories
        return None


def tnef_files(filename: str, data: bytes) -> list[tuple[str, bytes]]:
    """The files inside an Outlook `winmail.dat` (TNEF, as Outlook sends with rich text on): (name, bytes), at
    most MAX_ZIP_MEMBERS (nothing is inflated: TNEF holds the files as they are, so they are no larger than
    it). Names are decoded from the sender's codepage (cp874 from Thai Windows) when they are bytes."""
    from tnefparse import TNEF  # here: only a parser worker meeting a winmail.dat needs it (6 ms to import)

    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # a damaged or hostile TNEF: tnefparse raises many types
        raise DocumentError(filename, "unreadable_attachment", f"bad TNEF: {exc!r}") from exc
    if len(tnef.attachments) > MAX_ZIP_MEMBERS:
        raise DocumentError(filename, "archive_too_large", f"{len(tnef.attachments)} files in TNEF")
    out = []
    for i, attachment in enumerate(tnef.attachments):
        name = _tnef_name(attachment, tnef.codepage)
        out.append((name or f"winmail-{i + 1}.bin", bytes(attachment.data or b"")))
    return out


def _tnef_name(attachment: object, codepage: str | None) -> str:
    """The long file name where the sender's Outlook wrote one, else the short title in the OEM codepage (the
    bytes are decoded here: tnefparse reads them as UTF-8, and cp874 "แบบ" is valid UTF-8 for "Ẻ")."""
    from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME  # decoded by tnefparse (Unicode or the codepage)

    for attr in getattr(attachment, "mapi_attrs", []):
        if getattr(attr, "name", None) == MAPI_ATTACH_LONG_FILENAME and isinstance(attr.data, str):
            if long_name := attr.data.strip("\x00 "):
                return long_name
    raw = getattr(attachment, "_name", b"")
    name = decode_bytes(raw, codepage) if isinstance(raw, bytes) else str(raw)
    return name.strip("\x00 ")


def biff_filepass(data: bytes) -> bool:
    """An .xls whose workbook stream starts BOF, FILEPASS: encrypted with a password (the record that
    follows the BOF of a protected workbook; BIFF8's BOF is 16 bytes long, BIFF5's 8)."""
    for bof, size in ((b"\x09\x08\x10\x00", 16), (b"\x09\x08\x08\x00", 8)):
        at = data.find(bof, 0, 1 << 20)
        if at >= 0 and data[at + 4 + size:at + 6 + size] == b"\x2f\x00":
            return True
    return False
