"""How a form's header and cells are recognised: the column labels (Thai and English) of Complaint_01 and
Complaint_02, and the words for a category, a case's result and a total row. Pure text matching, by the
labels a person writes, never by cell positions (intake/forms.py reads the tables with these)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

# Column labels, Thai and English; a header cell matches the longest label it starts with.
C01_LABELS: dict[str, tuple[str, ...]] = {
    "seq": ("ลำดับ", "ลำดับที่", "ที่", "no", "no.", "#", "item"),
    "received": ("วันที่รับเรื่อง", "วันรับเรื่อง", "วันที่รับ", "วันที่ได้รับ", "datereceived", "receiveddate", "date"),
    "channel": ("ช่องทางการรับเรื่อง", "ช่องทาง", "channel"),
    "category": ("ประเภท", "ประเภทเรื่อง", "category", "type"),
    "subject": ("เรื่อง/รายละเอียดโดยย่อ", "เรื่อง", "รายละเอียด", "subject", "details", "description", "summary"),
    "complainant": ("ชื่อผู้ร้อง", "ผู้ร้อง", "ชื่อผู้ร้องเรียน", "ชื่อ-สกุลผู้ร้อง", "complainant", "name"),
    "action": ("การดำเนินการ", "การแก้ไข", "action", "actiontaken"),
    "result": ("ผลการดำเนินการ", "ผลการดำเนินงาน", "สถานะ", "result", "status", "outcome"),
    "completed": ("วันที่แล้วเสร็จ", "วันที่ดำเนินการแล้วเสร็จ", "วันแล้วเสร็จ", "datecompleted", "completeddate",
                  "dateclosed"),
    "note": ("หมายเหตุ", "note", "notes", "remark", "remarks"),
}
C02_LABELS: dict[str, tuple[str, ...]] = {
    "category": ("ประเภท", "ประเภทเรื่อง", "รายการ", "category", "type"),
    "received": ("จำนวนที่ได้รับ", "จำนวนเรื่องที่ได้รับ", "จำนวนที่รับ", "ได้รับ", "รับเรื่อง", "จำนวนเรื่อง", "received",
                 "totalreceived", "จำนวน"),
    "done": ("ดำเนินการแล้วเสร็จ", "แล้วเสร็จ", "เสร็จสิ้น", "completed", "done", "closed"),
    "in_progress": ("อยู่ระหว่างดำเนินการ", "อยู่ระหว่าง", "ระหว่างดำเนินการ", "inprogress", "pending", "open"),
}

_CATEGORY_WORDS = (
    ("complaint", ("ร้องเรียน", "complaint")),
    ("suggestion", ("เสนอแนะ", "suggestion")),
    ("opinion", ("คิดเห็น", "opinion", "comment")),
    ("compliment", ("ชมเชย", "คำชม", "compliment", "praise")),
)
_DONE_WORDS = ("แล้วเสร็จ", "เสร็จสิ้น", "ยุติ", "เสร็จ", "done", "completed", "closed", "resolved")
_PROGRESS_WORDS = ("อยู่ระหว่าง", "กำลังดำเนินการ", "ระหว่างดำเนินการ", "inprogress", "pending", "open", "ongoing")
_TOTAL_WORDS = ("รวม", "total", "ทั้งหมด", "ยอดรวม")


_SPACES = re.compile(r"[\s\u200b_:*]+")


def norm(value: object) -> str:
    """Cell text for matching labels: lower case, no spaces, line breaks or bracketed notes' spacing."""
    return _norm_text(value) if value.__class__ is str else _norm_text(str(value if value is not None else ""))


@functools.lru_cache(maxsize=16384)
def _norm_text(text: str) -> str:
    return _SPACES.sub("", text).lower()


def category_of(value: object) -> str | None:
    text = norm(value)
    for cat, words in _CATEGORY_WORDS:
        if any(w in text for w in words):
            return cat
    return None


def result_of(value: object) -> str | None:
    text = norm(value)
    if any(w in text for w in _PROGRESS_WORDS):
        return "in_progress"
    if any(w in text for w in _DONE_WORDS):
        return "done"
    return None


def is_total(value: object) -> bool:
    text = norm(value)
    return any(text.startswith(w) for w in _TOTAL_WORDS)


def _sorted_labels(labels: dict[str, tuple[str, ...]]) -> tuple[tuple[str, str], ...]:
    """(normalized label, field), longest first: the first match is the best one."""
    pairs = [(norm(label), name) for name, options in labels.items() for label in options]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


_SORTED_LABELS = {"c01": _sorted_labels(C01_LABELS), "c02": _sorted_labels(C02_LABELS)}


@functools.lru_cache(maxsize=16384)
def _match_normalized(text: str, which: str) -> str | None:
    for lab, name in _SORTED_LABELS[which]:
        if text == lab or (len(lab) >= 2 and text.startswith(lab)):
            return name
    return None


def _match_label(cell: object, labels: dict[str, tuple[str, ...]]) -> str | None:
    text = norm(cell)
    if not text or len(text) > 80:  # a header label is short; long text is data or a title
        return None
    return _match_normalized(text, "c01" if labels is C01_LABELS else "c02")


def header_columns(row: Sequence[object], labels: dict[str, tuple[str, ...]]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for idx, cell in enumerate(row):
        name = _match_label(cell, labels)
        if name and name not in cols:
            cols[name] = idx
    return cols


def merge_header(upper: Sequence[object], lower: Sequence[object]) -> list[object]:
    """Two header rows where a merged cell spans both: prefer the lower label, else the upper."""
    width = max(len(upper), len(lower))
    return [
        (lower[i] if i < len(lower) and str(lower[i]).strip() else (upper[i] if i < len(upper) else ""))
        for i in range(width)
    ]
