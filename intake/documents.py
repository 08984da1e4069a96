"""Documents in a message: attachments (also inside .zip and attached .eml), read as forms or memos.

Each file is recognised by its content first (a file may lie about its name) and read by the
matching reader; a file that cannot be read becomes a problem, and the others are still read.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import NamedTuple

from defusedxml import ElementTree as SafeET

from intake.containers import (MAX_FILES, MAX_SHEET_CELLS, MAX_SHEET_ROWS, MAX_UNPACKED_BYTES, MAX_ZIP_DEPTH,
                               MAX_ZIP_MEMBERS, biff_filepass, check_sheet_ranges, member_head, normalized_package,
                               ole_root_entries, open_zip, tnef_files)
from intake.encodings import decode_bytes
from intake.errors import DocumentError
from intake.forms import FormReading, read_forms
from intake.message import Attachment, parse_message, short_filename
from intake.ocr import OcrUnavailable, ocr_image, ocr_pdf
from intake.problems import ERROR, WARNING, Problem
from intake.text import nil_statement

# OCR text per scan (by content hash); None where OCR could not run and a person must read it.
ScanTexts = dict[str, str | None]

IGNORED_EXTENSIONS = (".p7s", ".vcf", ".ics", ".asc", ".sig")
WORKBOOK_NAMES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TNEF = b"\x78\x9f\x3e\x22"  # winmail.dat: Outlook's TNEF signature


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


class Sniffed(NamedTuple):
    """What a file is (see `sniff`), and for a zip package the archive opened and checked to find out, so
    its reader does not read the directory again."""

    kind: str
    archive: zipfile.ZipFile | None = None


def sniff(filename: str, data: bytes) -> str:
    """What a file really is: workbook, csv, docx, odt, doc, pdf, image, zip, tnef, eml, encrypted, corrupt, other.

    A zip container that fails its size checks raises DocumentError (nothing is inflated to sniff it).
    """
    return sniff_file(filename, data).kind


def sniff_file(filename: str, data: bytes) -> Sniffed:
    """`sniff`, with the archive a zip package was found in."""
    lower = filename.lower()
    head = data[:8]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            archive = open_zip(filename, data)
            names = {n.replace("\\", "/") for n in archive.namelist()}  # some zip tools write backslashes
            mime = archive.read("mimetype")[:100] if "mimetype" in names else b""
            if "META-INF/manifest.xml" in names and b"encryption-data" in member_head(archive, "META-INF/manifest.xml"):
                return Sniffed("encrypted")  # a password-protected .ods/.odt
            types = member_head(archive, "[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except DocumentError as exc:
            if exc.code == "archive_too_large":
                raise
            return Sniffed("corrupt")
        except Exception:  # zipfile raises many types for damaged archives (even NotImplementedError)
            return Sniffed("corrupt")
        if any(n.startswith("xl/") for n in names) or b"spreadsheetml" in types or b"ms-excel" in types:
            return Sniffed("workbook", archive)  # by its content types too: a package need not use xl/
        if "word/document.xml" in names:
            return Sniffed("docx", archive)
        if "content.xml" in names:
            return Sniffed("workbook" if b"spreadsheet" in mime else "odt", archive)
        return Sniffed("corrupt" if lower.endswith(WORKBOOK_NAMES + (".docx",)) else "zip")
    return Sniffed(_sniff_flat(lower, head, data))


def _sniff_ole(lower: str, data: bytes) -> str:
    """An OLE compound file by its root entries: a workbook with a Word document embedded in it is a workbook."""
    root = ole_root_entries(data)
    if root is None:  # a directory olefile cannot walk: the old guess by the names anywhere in the file
        root = {n for n in ("EncryptedPackage", "WordDocument") if _utf16(n) in data} or {"Workbook"}
    if "EncryptedPackage" in root:
        return "encrypted"  # a password-protected .xlsx/.docx
    if root & {"Workbook", "Book", "WORKBOOK", "BOOK"}:
        return "encrypted" if biff_filepass(data) else "workbook"  # .xls (BIFF8 `Workbook`, BIFF5 `Book`)
    if "WordDocument" in root:
        return "doc"
    return "corrupt" if lower.endswith(WORKBOOK_NAMES) else "other"  # an Outlook .msg, a .ppt, …


def _sniff_flat(lower: str, head: bytes, data: bytes) -> str:
    """`sniff` for anything that is not a zip container."""
    if head == _OLE:
        return _sniff_ole(lower, data)
    if head[:4] == _TNEF:
        return "tnef"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:3] == b"\xff\xd8\xff" or head.startswith(b"\x89PNG") or head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".eml"):
        return "eml"
    if lower.endswith(WORKBOOK_NAMES + (".docx", ".pdf", ".zip")):
        return "corrupt"  # the name promises a format the content is not
    return "other"


@dataclass
class FileNote:
    filename: str
    kind: str  # complaint_01 | complaint_02 | memo | scan | unknown | unreadable
    detail: str = ""  # what was found, as a code (mailer/problem_text.py words it for the receipt)
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Documents:
    forms: list[FormReading] = field(default_factory=list)
    memo_nil: list[str] = field(default_factory=list)  # memos that state there were no complaints
    memo_text: list[str] = field(default_factory=list)  # text of nil memos (for the period written in them)
    forwarded_text: list[str] = field(default_factory=list)  # own text of attached .eml files
    files: list[FileNote] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)  # keys of scans the OCR queue has not read yet

    def merge(self, other: Documents) -> None:
        for name in ("forms", "memo_nil", "memo_text", "forwarded_text", "files", "problems", "review_reasons",
                     "scans"):
            getattr(self, name).extend(getattr(other, name))


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member names from Thai Windows are cp874 bytes without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return decode_bytes(info.filename.encode("cp437"))
    except UnicodeEncodeError:
        return info.filename


def expand(att: Attachment, depth: int = 0) -> list[tuple[Attachment, Sniffed | None]]:
    """Attachments with zip archives replaced by their members (bounded against zip bombs), each with what
    `sniff_file` found it to be (None below the depth limit, where it is not sniffed here)."""
    if depth >= MAX_ZIP_DEPTH:
        return [(att, None)]
    sniffed = sniff_file(att.filename, att.data)
    if sniffed.kind == "tnef":
        return [item for name, data in tnef_files(att.filename, att.data)
                for item in expand(Attachment(short_filename(name), "application/octet-stream", data), depth + 1)]
    if sniffed.kind != "zip":
        return [(att, sniffed)]
    zf = open_zip(att.filename, att.data, MAX_ZIP_MEMBERS)
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if not infos:
        raise DocumentError(att.filename, "empty_attachment", "empty archive")
    out: list[tuple[Attachment, Sniffed | None]] = []
    for info in infos:
        # Only the last path component: "../../x.xlsx" is just "x.xlsx" (nothing is written to disk anyway).
        name = short_filename(_zip_name(info).replace("\\", "/").rsplit("/", 1)[-1])
        if not name or name.startswith("._") or "__MACOSX/" in _zip_name(info):
            continue
        try:
            data = zf.read(info)
        except RuntimeError as exc:  # an encrypted member
            raise DocumentError(att.filename, "encrypted_attachment", str(exc)) from exc
        except Exception as exc:  # damaged member: CRC, compression method, truncation
            raise DocumentError(att.filename, "unreadable_attachment", str(exc)) from exc
        out.extend(expand(Attachment(name, "application/octet-stream", data), depth + 1))
    return out


def _xml_text(xml: bytes, paragraph_tag: str, text_tag: str) -> str:
    root = SafeET.fromstring(xml)
    return "\n".join("".join(t.text or "" for t in p.iter(text_tag)) for p in root.iter(paragraph_tag))


def docx_text(data: bytes) -> str:
    """Paragraph text of a .docx memo (its XML is parsed with defusedxml)."""
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with open_zip("", data) as zf:
        return _xml_text(zf.read("word/document.xml"), f"{ns}p", f"{ns}t")


def odt_text(data: bytes) -> str:
    ns = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
    with open_zip("", data) as zf:
        root = SafeET.fromstring(zf.read("content.xml"))
    return "\n".join("".join(p.itertext()) for p in root.iter(f"{ns}p"))


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF (empty for a scan)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise DocumentError("", "encrypted_attachment", "encrypted PDF")
    return "\n".join((page.extract_text() or "") for page in reader.pages[:10])


def _limits(code: str) -> dict[str, str]:
    """The limits a size problem names (the receipt says what they are)."""
    if code == "archive_too_large":
        return {"max_mb": str(MAX_UNPACKED_BYTES // (1024 * 1024)), "max_members": str(MAX_ZIP_MEMBERS)}
    if code == "sheet_too_large":
        return {"max_rows": f"{MAX_SHEET_ROWS:,}", "max_cells": f"{MAX_SHEET_CELLS:,}"}
    return {}


def record_failure(doc: Documents, err: DocumentError) -> None:
    """A file that could not be read: unreadable in the receipt, with the code (and limit) that says why."""
    limits = _limits(err.code)
    doc.files.append(FileNote(err.filename, "unreadable", err.code, limits))  # the receipt words the code
    doc.problems.append(Problem(err.code, ERROR, {"file": err.filename, **limits}))


def _read_workbook(doc: Documents, name: str, data: bytes, archive: zipfile.ZipFile | None) -> None:
    if data[:4] == b"PK\x03\x04":
        data, package = normalized_package(name, data, archive)
        check_sheet_ranges(name, package)
    forms = read_forms(name, data)
    if not forms:
        doc.files.append(FileNote(name, "unknown", "no_form_table"))
        doc.problems.append(Problem("unknown_template", WARNING, {"file": name}))
    for form in forms:
        doc.forms.append(form)
        if form.form == "complaint_01":
            detail, params = "c01_rows", {"sheet": form.sheet, "rows": str(len(form.rows))}
        elif form.filled:
            detail, params = "c02_total", {"sheet": form.sheet, "total": str(sum(form.category_counts().values()))}
        else:
            detail, params = "c02_empty", {"sheet": form.sheet}
            doc.problems.append(Problem("empty_form", ERROR, {"file": name}))
        doc.files.append(FileNote(name, form.form, detail, params))
        doc.problems.extend(form.problems)


def _memo(doc: Documents, name: str, text: str, how: str) -> None:
    if nil_statement(text):
        doc.memo_text.append(text)
        doc.memo_nil.append(name)
        doc.files.append(FileNote(name, "memo", "memo_nil", {"how": how}))
    else:
        doc.files.append(FileNote(name, "memo", "memo_no_nil", {"how": how}))


def scan_key(data: bytes) -> str:
    """A scan is known by its content: the OCR queue's text for it is found again by this key."""
    return hashlib.sha256(data).hexdigest()


def _scan(doc: Documents, name: str, data: bytes, scans: ScanTexts | None) -> None:
    """A scanned memo: read from the OCR queue's text when it has run (`scans` not None), otherwise left
    for it (OCR never runs on the intake path: one unit's scan must not hold another unit's plain e-mail)."""
    key = scan_key(data)
    if scans is None:
        doc.scans.append(key)
        doc.files.append(FileNote(name, "scan", "scan_pending"))
        return
    text = scans.get(key)
    if text is None:
        doc.files.append(FileNote(name, "memo", "scan_for_a_person"))
        doc.review_reasons.append(f"{name}: เอกสารสแกนต้องให้เจ้าหน้าที่อ่าน")
    elif not text.strip():
        doc.files.append(FileNote(name, "memo", "scan_unreadable"))
        doc.review_reasons.append(f"{name}: อ่านข้อความจากเอกสารสแกนไม่ได้")
    else:
        _memo(doc, name, text, "ocr")


def _read_one(doc: Documents, att: Attachment, sniffed: Sniffed | None, depth: int, scans: ScanTexts | None) -> None:
    name = att.filename
    if not att.data:
        raise DocumentError(name, "empty_attachment", "empty")
    kind, archive = sniffed or sniff_file(name, att.data)
    if kind in ("workbook", "csv"):
        _read_workbook(doc, name, att.data, archive)
    elif kind == "encrypted":
        raise DocumentError(name, "encrypted_attachment", "password-protected")
    elif kind == "corrupt":
        raise DocumentError(name, "unreadable_attachment", "content does not match the name")
    elif kind == "docx":
        _memo(doc, name, docx_text(normalized_package(name, att.data, archive)[0]), "docx")
    elif kind == "odt":
        _memo(doc, name, odt_text(normalized_package(name, att.data, archive)[0]), "odt")
    elif kind == "pdf":
        text = pdf_text(att.data)
        if text.strip():
            _memo(doc, name, text, "pdf")
        else:
            _scan(doc, name, att.data, scans)
    elif kind == "image":
        if len(att.data) < 20_000:  # logos and signatures in e-mail footers, not scans
            return
        _scan(doc, name, att.data, scans)
    elif kind == "doc":
        doc.review_reasons.append(f"{name}: ไฟล์ Word รุ่นเก่า (.doc)")
        raise DocumentError(name, "unsupported_format", "old .doc")
    elif kind == "eml" and depth < 3:
        inner = parse_message(att.data)
        doc.forwarded_text.append(inner.text)
        for inner_att in inner.attachments:
            _read_expanded(doc, inner_att, depth + 1, scans)
    elif not name.lower().endswith(IGNORED_EXTENSIONS):
        doc.files.append(FileNote(name, "unknown", "not_a_form"))


def _read_expanded(doc: Documents, att: Attachment, depth: int, scans: ScanTexts | None) -> None:
    """One attachment, a zip replaced by its members; each broken member is a problem of its own."""
    try:
        members = expand(att)
    except DocumentError as err:
        record_failure(doc, err)
        return
    except BaseException as exc:  # never let a hostile archive escape (a native panic included, see _failed)
        record_failure(doc, _failed(att.filename, exc))
        return
    for member, sniffed in members:
        if len(doc.files) >= MAX_FILES:
            record_failure(doc, DocumentError(member.filename, "too_many_files", "too many files"))
            return
        try:
            _read_one(doc, member, sniffed, depth, scans)
        except DocumentError as err:
            record_failure(doc, DocumentError(err.filename or member.filename, err.code, str(err)))
        except BaseException as exc:  # a reader bug or a hostile file must not lose the rest of the message
            record_failure(doc, _failed(member.filename, exc))


def _failed(filename: str, exc: BaseException) -> DocumentError:
    """A reader that raised: the file is unreadable, the rest of the message is still read. A native library's
    panic (python-calamine's `pyo3_runtime.PanicException` on some valid .xlsb files) derives from BaseException,
    not Exception, and could not be sent back from the worker either: it is caught here like any error. Only
    the interpreter's own signals to stop go on."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc
    return DocumentError(filename, "unreadable_attachment", f"{type(exc).__name__}: {str(exc)[:200]}")


def read_attachment(att: Attachment, scans: ScanTexts | None) -> Documents:
    """Everything in one attachment. Runs inside a sandbox worker: the bytes are a stranger's."""
    doc = Documents()
    _read_expanded(doc, att, 0, scans)
    return doc


def _scans_in(att: Attachment, depth: int = 0) -> list[tuple[str, bytes]]:
    """(filename, bytes) of every scanned page image or text-less PDF in an attachment."""
    found: list[tuple[str, bytes]] = []
    for member, sniffed in expand(att):
        kind = (sniffed or sniff_file(member.filename, member.data)).kind
        if kind == "image" and len(member.data) >= 20_000:
            found.append((member.filename, member.data))
        elif kind == "pdf" and not pdf_text(member.data).strip():
            found.append((member.filename, member.data))
        elif kind == "eml" and depth < 3:
            for inner in parse_message(member.data).attachments:
                found.extend(_scans_in(inner, depth + 1))
    return found


def ocr_attachments(attachments: list[Attachment]) -> ScanTexts:
    """OCR text of every scan in the attachments (None where OCR is not installed). Runs sandboxed."""
    out: ScanTexts = {}
    for att in attachments:
        try:
            scans = _scans_in(att)
        except Exception:  # an unreadable file was reported when the message was read
            continue
        for name, data in scans:
            try:
                out[scan_key(data)] = ocr_pdf(data) if data[:4] == b"%PDF" else ocr_image(
                    data, "." + (name.rsplit(".", 1)[-1] or "png"))
            except OcrUnavailable:
                out[scan_key(data)] = None
    return out


def filename_periods_text(attachments: list[Attachment]) -> str:
    """Filenames such as `Complaint_01_ต.ค.69.xlsx` also carry a period."""
    return " ".join(re.sub(r"[_]+", " ", a.filename[:200].rsplit(".", 1)[0]) for a in attachments)
