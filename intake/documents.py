"""Documents in a message: attachments (also inside .zip), read as forms or memos; problems, never crashes."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET

from intake.encodings import decode_bytes
from intake.errors import DocumentError
from intake.forms import WORKBOOK_EXTENSIONS, FormReading, read_forms
from intake.message import Attachment
from intake.problems import ERROR, WARNING, Problem
from intake.text import nil_statement

MAX_ZIP_MEMBERS = 200
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_DEPTH = 3
IGNORED_EXTENSIONS = (".p7s", ".vcf", ".ics", ".gif")  # signatures, cards, logos
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


@dataclass
class FileNote:
    filename: str
    kind: str  # complaint_01 | complaint_02 | memo | unknown | unreadable | ignored
    detail: str = ""  # Thai, for the receipt


@dataclass
class Documents:
    forms: list[FormReading] = field(default_factory=list)
    memo_nil: list[str] = field(default_factory=list)  # memos that state there were no complaints
    files: list[FileNote] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member names from Thai Windows are cp874 bytes without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return decode_bytes(info.filename.encode("cp437"))
    except UnicodeEncodeError:
        return info.filename


def expand(att: Attachment, depth: int = 0) -> list[Attachment]:
    """Attachments with .zip files replaced by their members (bounded against zip bombs)."""
    if not att.filename.lower().endswith(".zip") or depth >= MAX_ZIP_DEPTH:
        return [att]
    try:
        zf = zipfile.ZipFile(io.BytesIO(att.data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(att.filename, "unreadable_attachment", f"bad zip: {exc}") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise DocumentError(att.filename, "archive_too_large", f"{len(infos)} members")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES or total > MAX_ZIP_RATIO * max(len(att.data), 1) + 1024 * 1024:
        raise DocumentError(att.filename, "archive_too_large", f"unpacks to {total} bytes")
    out: list[Attachment] = []
    for info in infos:
        name = _zip_name(info).replace("\\", "/").rsplit("/", 1)[-1]
        if name.startswith(("__MACOSX", "._")) or not name:
            continue
        try:
            data = zf.read(info)
        except RuntimeError as exc:  # encrypted member
            raise DocumentError(att.filename, "encrypted_attachment", str(exc)) from exc
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DocumentError(att.filename, "unreadable_attachment", str(exc)) from exc
        out.extend(expand(Attachment(name, "application/octet-stream", data), depth + 1))
    return out


def docx_text(data: bytes) -> str:
    """Paragraph text of a .docx memo (the XML is parsed with defusedxml)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("word/document.xml")
    root = SafeET.fromstring(xml)
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    paragraphs = []
    for p in root.iter(f"{ns}p"):
        paragraphs.append("".join(t.text or "" for t in p.iter(f"{ns}t")))
    return "\n".join(paragraphs)


_THAI_PROBLEM = {
    "unreadable_attachment": "เปิดไฟล์ไม่ได้ (ไฟล์อาจเสียหาย) กรุณาบันทึกไฟล์ใหม่แล้วส่งอีกครั้ง",
    "encrypted_attachment": "ไฟล์มีการตั้งรหัสผ่าน ระบบจึงเปิดอ่านไม่ได้ กรุณายกเลิกรหัสผ่านแล้วส่งอีกครั้ง",
    "archive_too_large": "ไฟล์บีบอัดมีขนาดหรือจำนวนไฟล์เกินกำหนด กรุณาแนบแบบฟอร์มโดยตรงโดยไม่ต้องบีบอัด",
    "empty_attachment": "ไฟล์แนบว่างเปล่า (ขนาด 0 ไบต์) กรุณาแนบไฟล์ใหม่อีกครั้ง",
}


def _failed(doc: Documents, err: DocumentError) -> None:
    doc.files.append(FileNote(err.filename, "unreadable", _THAI_PROBLEM.get(err.code, "อ่านไฟล์ไม่ได้")))
    doc.problems.append(Problem(err.code, ERROR, f"ไฟล์ {err.filename}: {_THAI_PROBLEM.get(err.code, 'อ่านไฟล์ไม่ได้')}"))


def _read_one(doc: Documents, att: Attachment) -> None:
    name = att.filename
    lower = name.lower()
    if not att.data:
        _failed(doc, DocumentError(name, "empty_attachment", "empty"))
        return
    if lower.endswith(WORKBOOK_EXTENSIONS + (".csv",)):
        forms = read_forms(name, att.data)
        if not forms:
            doc.files.append(FileNote(name, "unknown", "ไม่พบตารางของแบบฟอร์ม Complaint_01 หรือ Complaint_02"))
            doc.problems.append(Problem(
                "unknown_template", WARNING,
                f"ไฟล์ {name}: ไม่พบหัวตารางของแบบฟอร์ม Complaint_01 หรือ Complaint_02 "
                "กรุณาใช้แบบฟอร์มของสำนักงานเลขานุการกรม (คำสั่ง template) โดยคงชื่อหัวคอลัมน์ไว้"))
        for form in forms:
            doc.forms.append(form)
            if form.form == "complaint_01":
                detail = f"แบบ Complaint_01 แผ่นงาน {form.sheet} จำนวน {len(form.rows)} รายการ"
            else:
                total = sum(form.category_counts().values())
                detail = f"แบบ Complaint_02 แผ่นงาน {form.sheet} รวม {total} เรื่อง"
            doc.files.append(FileNote(name, form.form, detail))
            doc.problems.extend(form.problems)
        return
    if lower.endswith(".docx"):
        try:
            text = docx_text(att.data)
        except Exception as exc:  # corrupt or hostile document
            raise DocumentError(name, "unreadable_attachment", str(exc)) from exc
        if nil_statement(text):
            doc.memo_nil.append(name)
            doc.files.append(FileNote(name, "memo", "บันทึกข้อความแจ้งว่าไม่มีข้อร้องเรียน"))
        else:
            doc.files.append(FileNote(name, "memo", "เอกสาร (ไม่พบข้อความแจ้งว่าไม่มีข้อร้องเรียน)"))
        return
    if lower.endswith((".pdf", ".doc") + IMAGE_EXTENSIONS):
        # Text layers and OCR come with the document readers; until then a person looks at it.
        doc.files.append(FileNote(name, "memo", "เอกสารที่ต้องให้เจ้าหน้าที่ตรวจสอบ"))
        doc.review_reasons.append(f"{name}: เอกสารประเภทนี้ต้องให้เจ้าหน้าที่อ่าน")
        return
    if lower.endswith(IGNORED_EXTENSIONS) or att.content_type.startswith("image/"):
        return
    doc.files.append(FileNote(name, "unknown", "ไม่ใช่ไฟล์แบบฟอร์ม"))


def read_documents(attachments: list[Attachment]) -> Documents:
    """Read every attachment; one broken file is a problem and the others are still read."""
    doc = Documents()
    for att in attachments:
        try:
            members = expand(att)
        except DocumentError as err:
            _failed(doc, err)
            continue
        for member in members:
            try:
                _read_one(doc, member)
            except DocumentError as err:
                _failed(doc, err)
            except Exception as exc:  # a reader bug must not lose the rest of the message
                _failed(doc, DocumentError(member.filename, "unreadable_attachment", repr(exc)))
    return doc


def filename_periods_text(attachments: list[Attachment]) -> str:
    """Filenames such as `Complaint_01_ต.ค.69.xlsx` also carry a period."""
    return " ".join(re.sub(r"[_]+", " ", a.filename.rsplit(".", 1)[0]) for a in attachments)
