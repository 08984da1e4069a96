"""Mail that asks the bot to do something, decided from headers and the sender's own text: reply words from the
staff (`staff_command`) and a digest asked for by subject (`command_of`). Part of `screen`; nothing here is read
from an attachment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.msgid import read_message_ids
from intake.authentication import authenticate
from intake.context import IntakeContext
from intake.message import ParsedMail
from intake.reply_words import looks_like_commands
from intake.text import nil_statement, strip_quoted


STAFF_KINDS = ("digest", "review", "staff")  # the bot's mail to the staff, which their commands reply to


@dataclass(frozen=True)
class StaffVerdict:
    allowed: bool
    why: str = ""  # why it may not command


def staff_command(mail: ParsedMail, ctx: IntakeContext) -> StaffVerdict | None:
    """Reply words from the staff: allowed when this message may command; refused, with why, when it looks like a
    command but may not (not from STAFF_EMAILS, not a reply to the bot's own mail, not authenticated);
    None when it is not a command at all (a unit's mail goes its usual way).
    A forged From alone can do nothing: the reply must quote a Message-ID the bot signed, and our own
    server's Authentication-Results must vouch for the sender's domain."""
    replies_to_staff_mail = any(ref.kind in STAFF_KINDS for ref in
                                read_message_ids(ctx.secret, [mail.in_reply_to, *mail.references]))
    is_staff = mail.from_addr in ctx.staff
    if not replies_to_staff_mail:
        if is_staff and looks_like_commands(strip_quoted(mail.text)):
            return StaffVerdict(False, "not a reply to the bot's digest or review alert")
        return None
    if not is_staff and not looks_like_commands(strip_quoted(mail.text)):
        # A unit answering a digest the secretariat forwarded to it (its report, "ไม่มีข้อร้องเรียน"): not a
        # command at all, so it goes the unit's way (or a stranger's). Reply words from anyone else are refused
        # below and listed for the secretariat.
        return None
    if mail.sender_problem:  # a From that cannot name one sender never commands
        return StaffVerdict(False, f"sender: {mail.sender_problem}")
    if not is_staff:
        return StaffVerdict(False, "the sender is not in STAFF_EMAILS")
    if not ctx.authserv_id:
        return StaffVerdict(False, "TRUSTED_AUTHSERV_ID is not set, so the sender cannot be authenticated")
    verdict = authenticate(mail.all_headers, mail.from_addr, ctx.authserv_id)
    return StaffVerdict(True) if verdict.ok else StaffVerdict(False, f"authentication: {verdict.reason}")


COMMAND_SUBJECTS = {"สถานะ": "digest", "digest": "digest", "status": "digest", "สรุป": "digest"}


def command_of(mail: ParsedMail, ctx: IntakeContext) -> str | None:
    """A secretariat request by mail (subject `สถานะ` or `digest`), only from configured addresses."""
    if mail.from_addr not in ctx.command_senders:
        return None
    words = re.sub(r"^(re|fw|fwd|ตอบกลับ)\s*:\s*", "", mail.subject.strip(), flags=re.I).split()
    return COMMAND_SUBJECTS.get(words[0].lower()) if words else None


# A unit's own requests by subject (docs/spec.md, "Who meets it"): its fiscal-year record, its evidence pack.
UNIT_SUBJECTS = {"สถานะ": "record", "status": "record", "ขอสถานะ": "record",
                 "ขอหลักฐาน": "evidence", "หลักฐาน": "evidence", "evidence": "evidence"}
_YEAR = re.compile(r"\b(25\d\d|20\d\d)\b")


@dataclass(frozen=True)
class UnitRequest:
    kind: str  # record | evidence
    fiscal_year: int | None  # BE, as written (a CE year is read as the fiscal year it ends in); None: the current
    named: tuple[str, ...]  # unit codes the subject names


def unit_request(mail: ParsedMail, ctx: IntakeContext) -> UnitRequest | None:
    """A unit asking for its own record or evidence (`สถานะ 2570`, `ขอหลักฐาน 2570`, `status`, `evidence`); None for
    anything else, and for the secretariat's own addresses (their `สถานะ` asks for the digest). A mail with files
    attached, or saying in the sender's own words that there were no complaints, is a report whatever its subject
    says ("สถานะ รายงานเดือน พ.ย." with the forms; "Status report" with "ไม่มีข้อร้องเรียน")."""
    if mail.from_addr in ctx.command_senders or mail.from_addr in ctx.staff or mail.attachments:
        return None
    if nil_statement(strip_quoted(mail.text)):
        return None
    words = re.sub(r"^((re|fw|fwd|ตอบกลับ)\s*:\s*)+", "", mail.subject.strip()[:200], flags=re.I).split()
    kind = UNIT_SUBJECTS.get(words[0].lower()) if words else None
    if kind is None:
        return None
    year = next((int(m.group(1)) for m in _YEAR.finditer(" ".join(words[1:]))), None)
    if year is not None and year < 2400:
        year += 543
    named = tuple(dict.fromkeys(w.upper() for w in words[1:] if ctx.registry.get(w.upper()) is not None))
    return UnitRequest(kind, year, named)
