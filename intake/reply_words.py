"""The secretariat's reply words: the lines of a staff member's reply read as commands, or as errors naming the
line and why. Pure text in, data out; who may command, and doing it, are decided elsewhere.

The words (README, "For the secretariat"):

    ยกเว้น HPC07 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร        excuse a unit for a month
    รับทางกระดาษ HPC08 ไม่มีข้อร้องเรียน รับเมื่อ 20 พ.ย. 2569   record a paper report (forms or a scan attached)
    HPC05  or  หน่วยงาน HPC05 ประจำเดือนพฤศจิกายน 2569          a message in review belongs to this unit
    ไม่ใช่รายงาน [เหตุผล …]                                       a message in review is not a report
    อ่านใหม่                                                      read a message in review again
    ยกเลิก A-12                                                   undo the action with that reference

A review alert lists several messages; `#57 HPC05` names the one meant (the number is in the alert).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from intake.dates import BadDate, parse_date
from scoring.periods import Period, find_periods, thai_digits_to_arabic

MAX_LINES = 40  # a command mail is a few lines; the rest (a pasted table, a long signature) is not read
MAX_LINE = 300  # characters; a longer line is not a command


class Verb(StrEnum):
    EXEMPT = "exempt"
    PAPER = "record"
    ASSIGN = "resolve"
    DISMISS = "dismiss"
    REREAD = "reprocess"
    UNDO = "undo"


@dataclass(frozen=True)
class StaffCommand:
    line_no: int
    text: str
    verb: Verb
    unit: str | None = None
    period: Period | None = None
    reason: str = ""
    nil: bool = False
    received: date | None = None
    target: int | None = None  # the stored message meant (#57), for review words
    reference: int | None = None  # the action to undo


@dataclass(frozen=True)
class LineError:
    line_no: int
    text: str
    code: str  # why, as a key of mailer's message catalogue (the Thai sentence lives there)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    commands: list[StaffCommand]
    errors: list[LineError]
    ignored: list[str]  # lines that are not commands (greetings, a signature), shown back so a typo is seen

    @property
    def empty(self) -> bool:
        return not self.commands and not self.errors


# Each pattern is anchored and has no nested or adjacent unbounded repeats: matching is linear in the line.
_TARGET = re.compile(r"(?:#|เรื่องที่ ?)(\d{1,9}) ?[:.)]? ?")
_CODE = r"([A-Za-z][A-Za-z0-9\-]{0,31})"
_EXEMPT = re.compile(rf"ยกเว้น ?{_CODE}(.*?)(?:เหตุผล ?:? ?(.*))?")
_PAPER = re.compile(rf"รับทางกระดาษ ?{_CODE}(.*)")
_RECEIVED = re.compile(r"รับเมื่อ(?:วันที่)? ?:? ?(.{1,40})")
_ASSIGN = re.compile(rf"(?:หน่วยงาน|ของหน่วยงาน) ?{_CODE}(.*)")
_BARE_CODE = re.compile(_CODE)
_DISMISS = re.compile(r"ไม่ใช่รายงาน ?(?:เหตุผล ?:? ?)?(.*)")
_REREAD = re.compile(r"อ่านใหม่ ?(.*)")
_UNDO = re.compile(r"ยกเลิก ?(?:คำสั่ง ?)?(?:เลขที่ ?)?([Aa]-?)?(\d{1,9})")
_BULLET = re.compile(r"(?:[-*•>]|\d{1,2}[.)]) ")
_NIL_WORDS = ("ไม่มีข้อร้องเรียน", "ไม่มีเรื่องร้องเรียน", "ไม่มีเรื่อง")


def _normalize(line: str) -> str:
    text = " ".join(thai_digits_to_arabic(line).replace("\u200b", "").split())
    if m := _BULLET.match(text):
        text = text[m.end():]
    return text


def _period_in(text: str, default: Period | None) -> tuple[Period | None, str | None]:
    found = find_periods(text)
    if len(found) > 1:
        return None, "period_several"
    if found:
        return found[0], None
    if default is None:
        return None, "period_missing"
    return default, None


def _parse_line(no: int, text: str, default_period: Period | None, is_unit: Callable[[str], bool],
                has_files: bool) -> StaffCommand | LineError | None:
    target = None
    if m := _TARGET.match(text):
        target, text = int(m.group(1)), text[m.end():]
    if m := _UNDO.fullmatch(text):
        return StaffCommand(no, text, Verb.UNDO, reference=int(m.group(2)))
    if text.startswith("ยกเลิก"):
        return LineError(no, text, "undo_no_reference")
    if m := _EXEMPT.fullmatch(text):
        reason = (m.group(3) or "").strip()
        if not reason:
            return LineError(no, text, "exempt_no_reason")
        period, why = _period_in(m.group(2), default_period)
        if why:
            return LineError(no, text, why)
        return StaffCommand(no, text, Verb.EXEMPT, unit=m.group(1).upper(), period=period, reason=reason)
    if m := _PAPER.fullmatch(text):
        return _paper(no, text, m.group(1).upper(), m.group(2), default_period, has_files)
    if m := _DISMISS.fullmatch(text):
        return StaffCommand(no, text, Verb.DISMISS, target=target, reason=m.group(1).strip())
    if m := _REREAD.fullmatch(text):
        return StaffCommand(no, text, Verb.REREAD, target=target, reason=m.group(1).strip())
    if m := _ASSIGN.fullmatch(text):
        period, why = _period_in(m.group(2), None)
        if why and find_periods(m.group(2)):
            return LineError(no, text, why)
        return StaffCommand(no, text, Verb.ASSIGN, unit=m.group(1).upper(), period=period, target=target)
    if (m := _BARE_CODE.fullmatch(text)) and (target is not None or is_unit(m.group(1))):
        return StaffCommand(no, text, Verb.ASSIGN, unit=m.group(1).upper(), target=target)
    if target is not None:
        return LineError(no, text, "review_words_unknown")
    return None


def _paper(no: int, text: str, unit: str, rest: str, default_period: Period | None,
           has_files: bool) -> StaffCommand | LineError:
    received_match = _RECEIVED.search(rest)
    if received_match is None:
        return LineError(no, text, "paper_no_received")
    try:
        received = parse_date(received_match.group(1).strip())
    except BadDate:
        received = None
    if received is None:
        return LineError(no, text, "paper_bad_received", {"date": received_match.group(1).strip()})
    before = rest[:received_match.start()]
    period, why = _period_in(before, default_period)
    if why:
        return LineError(no, text, why)
    nil = any(word in before for word in _NIL_WORDS)
    if not nil and not has_files:
        return LineError(no, text, "paper_nothing")
    return StaffCommand(no, text, Verb.PAPER, unit=unit, period=period, nil=nil, received=received,
                        reason="รายงานฉบับกระดาษ")


def parse_commands(text: str, *, default_period: Period | None, is_unit: Callable[[str], bool],
                   has_files: bool = False) -> Parsed:
    """Each line of a reply's own text (quotes already stripped) as a command, an error, or not a command.
    `default_period` is the month of the digest replied to; `is_unit` tells a bare unit code from a word."""
    commands: list[StaffCommand] = []
    errors: list[LineError] = []
    ignored: list[str] = []
    lines = [line for line in text.splitlines() if line.strip()]
    for no, raw in enumerate(lines[:MAX_LINES], start=1):
        line = _normalize(raw[:MAX_LINE + 1])
        if len(line) > MAX_LINE:
            ignored.append(line[:80] + "…")
            continue
        parsed = _parse_line(no, line, default_period, is_unit, has_files)
        if isinstance(parsed, StaffCommand):
            commands.append(parsed)
        elif isinstance(parsed, LineError):
            errors.append(parsed)
        else:
            ignored.append(line[:80])
    return Parsed(commands, errors, ignored)


def looks_like_commands(text: str) -> bool:
    """Whether a message's own text holds reply words (read or not), for refusing them from anyone but staff."""
    parsed = parse_commands(text, default_period=None, is_unit=lambda code: False, has_files=True)
    return not parsed.empty
