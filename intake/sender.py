"""The steps of `ingest` that decide who a message speaks for: whether its From can be trusted at all, the
units its address may speak for (decided before any attachment is read), and, where an address serves
several units, the unit its forms name."""

from __future__ import annotations

from config.msgid import read_message_ids
from config.units import Unit, UnitRegistry
from intake.authentication import authenticate
from intake.context import IntakeContext
from intake.documents import Documents
from intake.message import ParsedMail
from intake.problems import WARNING, Problem


# Step: who sent it (before any attachment is read) ----------------------------------------------

def sender_doubt(mail: ParsedMail, ctx: IntakeContext) -> str | None:
    """Why this message may not speak for anyone: a From header that cannot name one sender, or (with
    TRUSTED_AUTHSERV_ID set) no vouching result from our own server; None when neither."""
    if mail.sender_problem:
        return f"sender: {mail.sender_problem}"
    if ctx.authserv_id:
        verdict = authenticate(mail.all_headers, mail.from_addr, ctx.authserv_id)
        if not verdict.ok:
            return f"authentication: {verdict.reason}"
    return None


def sender_candidates(mail: ParsedMail, ctx: IntakeContext) -> list[Unit]:
    """The units the From address may speak for; empty for a stranger, whose files are never read.

    A unit's contact address (where reminders go) also counts when it replies to the bot's own
    message for that unit (the signed Message-ID says which).
    """
    candidates = ctx.registry.for_sender(mail.from_addr)
    if not candidates:
        for ref in read_message_ids(ctx.secret, [mail.in_reply_to, *mail.references]):
            contact_of = ctx.registry.get(ref.unit) if ref.unit else None
            if contact_of and contact_of.active and mail.from_addr in contact_of.contacts:
                return [contact_of]
    return candidates


# Step: which unit --------------------------------------------------------------------------------

def decide_unit(candidates: list[Unit], doc: Documents, registry: UnitRegistry) -> tuple[Unit | None, list[Problem]]:
    """The unit from the sender; where an address serves several units, the unit the form names."""
    named = [u for f in doc.forms if (u := registry.find_by_name(f.header_text))]
    problems: list[Problem] = []
    if len(candidates) == 1:
        unit = candidates[0]
        for other in {u.code: u for u in named if u.code != unit.code}.values():
            problems.append(Problem("unit_conflict", WARNING, {"named": other.name, "unit": unit.name}))
        return unit, problems
    chosen = {u.code for u in named} & {u.code for u in candidates}
    if len(chosen) == 1:
        return registry.get(chosen.pop()), problems
    return None, problems
