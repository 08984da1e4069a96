"""Every sentence a person reads about a problem, by the problem's stable code: intake says what is wrong as
a code and its parameters; the sentences are in mailer/words.py (CATALOGUE, FILE_NOTES), filled in here."""

from __future__ import annotations

from collections.abc import Mapping

from mailer.words import CATALOGUE, CATEGORY_THAI, FILE_NOTES, MEMO_THAI, WHEN_THAI


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a parameter an older row lacks renders empty, never fails
        return ""


def _where(params: Mapping[str, str]) -> str:
    if not params.get("file"):
        return ""
    text = f"ไฟล์ {params['file']}"
    if params.get("sheet"):
        text += f" แผ่นงาน {params['sheet']}"
    if params.get("row"):
        text += f" แถวที่ {params['row']}"
    return text + ": "


def problem_text(code: str, params: Mapping[str, str] | None = None) -> str:
    """The Thai sentence for a problem: where (file, sheet, row), what is wrong, how to fix it. A problem
    stored before the catalogue existed carries its sentence as `message` and is shown as it was."""
    params = dict(params or {})
    if "message" in params:
        sentence = params["message"]
    else:
        values = _Blank(params)
        if "category" in params:
            values["category"] = CATEGORY_THAI.get(params["category"], params["category"])
        if "when" in params:
            values["when"] = WHEN_THAI.get(params["when"], params["when"])
        key = "period_text_conflict" if code == "period_conflict" and "written" in params else code
        sentence = _where(params) + CATALOGUE.get(key, "อ่านไฟล์ไม่ได้").format_map(values)
    if params.get("attempt"):  # a message of the month that held no usable report
        sentence = f"อีเมลเมื่อ {params['attempt']} น.: {sentence}"
    return sentence


def file_note_text(kind: str, note: str, params: Mapping[str, str] | None = None) -> str:
    """What the receipt says about one attached file; an unreadable file says why, as its problem does."""
    values = _Blank(params or {})
    if kind == "unreadable":  # the same sentence as its problem, with the limit it names
        return CATALOGUE.get(note, "อ่านไฟล์ไม่ได้").format_map(values)
    if note not in FILE_NOTES:  # a note stored before the catalogue was already a sentence
        return note
    values["how"] = MEMO_THAI.get(values["how"], values["how"])
    return FILE_NOTES[note].format_map(values)
