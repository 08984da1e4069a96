"""Set aside what must never be answered: auto-replies, bounces, mailing lists, our own mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from intake.message import ParsedMail


class Verdict(StrEnum):
    UNIT_MAIL = "unit_mail"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"
    NO_SENDER = "no_sender"


@dataclass(frozen=True)
class Triage:
    verdict: Verdict
    reason: str

    @property
    def answerable(self) -> bool:
        return self.verdict == Verdict.UNIT_MAIL


LOOP_HEADER = "X-Complaint-Bot"  # on every message the bot sends (mailer/compose.py writes it)

_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|no-?reply|do-?not-?reply)@", re.I)


def triage(mail: ParsedMail, own_msgid_domain: str) -> Triage:
    """Classify one message by its headers; the first rule that matches decides."""
    h = mail.headers
    if mail.content_type == "multipart/report" or "delivery-status" in h.get("content-type", "").lower():
        return Triage(Verdict.BOUNCE, "delivery status report")
    if not mail.from_addr and not mail.sender_problem:  # a From that names no one is screened as doubtful
        return Triage(Verdict.NO_SENDER, "no From address")
    if _DAEMONS.match(mail.from_addr):
        kind = Verdict.BOUNCE if "daemon" in mail.from_addr or "postmaster" in mail.from_addr else Verdict.AUTO_REPLY
        return Triage(kind, f"automatic sender {mail.from_addr}")
    # Own mail is what the bot wrote (its Message-ID scheme, its loop header), not mail from its address: the
    # secretariat's staff may read and write in that same mailbox, and their replies must still command.
    if (mail.message_id.endswith(f"@{own_msgid_domain}>") and mail.message_id.startswith("<cr.")) \
            or LOOP_HEADER.lower() in h:
        return Triage(Verdict.OWN, "the bot's own mail")
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return Triage(Verdict.AUTO_REPLY, f"Auto-Submitted: {auto}")
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in h:
            return Triage(Verdict.AUTO_REPLY, f"{name} header")
    if h.get("precedence", "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return Triage(Verdict.AUTO_REPLY if h["precedence"].strip().lower() != "list" else Verdict.LIST,
                      f"Precedence: {h['precedence'].strip()}")
    if "list-id" in h or "list-unsubscribe" in h:
        return Triage(Verdict.LIST, "mailing list")
    if mail.return_path == "" and "return-path" in h:
        return Triage(Verdict.BOUNCE, "null Return-Path")
    return Triage(Verdict.UNIT_MAIL, "")
