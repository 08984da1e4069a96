"""Screening: the early outcomes of a message, decided from its headers and its sender's own text before any
attachment is read. An ordered tuple of named rules (`RULES`); the first that speaks decides (`Early`), and a
message none of them stops goes on to have its files read (intake/pipeline.py `attribute`).

Each rule is `(mail, fetched, ctx) -> Early | None`, testable alone; docs/journey.md lists them in order. A rule
marked `when_forced` applies even when a person decided the message's unit (review resolve, re-reading): only the
size limit does, since a person's decision outranks who sent it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config.msgid import read_message_ids
from config.units import Unit
from intake.bounces import Bounce, parse_bounce
from intake.commands import command_of, staff_command, unit_request
from intake.context import Fetched, IngestResult, IntakeContext
from intake.message import ParsedMail, small_and_flat
from intake.problems import ERROR, Problem
from intake.sender import sender_candidates, sender_doubt
from intake.tables import Outcome
from intake.triage import Verdict, triage
from scoring.periods import Period, find_periods


@dataclass(frozen=True)
class Early:
    """A message's outcome decided by screening: stored as it is, its files never read."""

    outcome: Outcome
    reason: str
    reply_to: str | None = None  # None: nobody is answered
    command: str | None = None
    problems: tuple[Problem, ...] = ()
    period: Period | None = None  # the month a command names
    for_units: tuple[str, ...] = ()  # a unit's request: the units it is answered for (the sender's own)
    fiscal_year: int | None = None  # a unit's request: the fiscal year it names (BE)


@dataclass(frozen=True)
class Rule:
    name: str
    check: Callable[[ParsedMail, Fetched, IntakeContext], Early | None]
    when_forced: bool = False


def robots(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """Auto-replies, lists, bounces, our own mail: stored, never answered (no mail loops)."""
    verdict = triage(mail, ctx.msgid_domain)
    if verdict.answerable:
        return None
    return Early(Outcome.SET_ASIDE, f"{verdict.verdict}: {verdict.reason}")


def staff_reply_words(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """Reply words to the bot's digest or review alert: from STAFF_EMAILS, authenticated, a command; anything
    else that looks like one is refused, unread and unanswered, and listed in the next digest."""
    verdict = staff_command(mail, ctx)
    if verdict is None:
        return None
    if not verdict.allowed:
        return Early(Outcome.COMMAND_REFUSED, verdict.why)
    return Early(Outcome.COMMAND, "staff", reply_to=mail.from_addr, command="staff")


def unit_requests(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """A unit asking by subject for its own fiscal-year record or evidence pack: answered only to a unit's own
    address (or its contact replying to the bot's mail for it), authenticated as a report is, and only for its
    own units. A stranger, a doubtful sender or a request naming another unit gets nothing and is listed for the
    secretariat as a refused request."""
    request = unit_request(mail, ctx)
    if request is None:
        return None
    units = sender_candidates(mail, ctx)
    if not units:
        return Early(Outcome.COMMAND_REFUSED, "unit request: the sender is no unit's address")
    if doubt := sender_doubt(mail, ctx):
        return Early(Outcome.COMMAND_REFUSED, f"unit request: {doubt}")
    own = {u.code for u in units}
    if any(code not in own for code in request.named):
        return Early(Outcome.COMMAND_REFUSED, "unit request: asked for another unit's data")
    return Early(Outcome.COMMAND, f"unit {request.kind}", reply_to=mail.from_addr, command=f"unit_{request.kind}",
                 for_units=request.named or tuple(sorted(own)), fiscal_year=request.fiscal_year)


def unverified_sender(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """A From that cannot name one sender, or a domain our own server did not vouch for: someone may be posing
    as a unit or the secretariat. Nothing counts, nobody is answered; a person decides."""
    doubt = sender_doubt(mail, ctx)
    if not doubt:
        return None
    return Early(Outcome.NEEDS_REVIEW, doubt, problems=(Problem("sender_not_verified", ERROR),))


def digest_request(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """`สถานะ` / `digest` in the subject from COMMAND_SENDERS: the digest, for the month the subject names."""
    command = command_of(mail, ctx)
    if not command:
        return None
    found = find_periods(mail.subject)
    return Early(Outcome.COMMAND, command, reply_to=mail.from_addr, command=command,
                 period=found[0] if found else None)


def too_large(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """Over MAX_MESSAGE_MB: kept for a person, unread; a unit's address is told the limit."""
    if len(fetched.raw) <= ctx.max_message_bytes:
        return None
    return Early(Outcome.NEEDS_REVIEW, "message too large",
                 reply_to=mail.from_addr if ctx.registry.for_sender(mail.from_addr) else None,
                 problems=(Problem("message_too_large", ERROR,
                                   {"max_mb": str(ctx.max_message_bytes // (1024 * 1024))}),))


def stranger(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> Early | None:
    """An address that speaks for no unit: stored as bytes, its files never parsed; a short notice only inside
    TRUSTED_DOMAINS, and never to the bot's own address (the staff may write from the mailbox it reads)."""
    if sender_candidates(mail, ctx):
        return None
    domain = mail.from_addr.rpartition("@")[2]
    answer = domain in ctx.trusted_domains and mail.from_addr not in ctx.own_addresses
    return Early(Outcome.SET_ASIDE, "unknown sender", reply_to=mail.from_addr if answer else None)


RULES: tuple[Rule, ...] = (
    Rule("robots", robots),
    Rule("staff_reply_words", staff_reply_words),
    Rule("unit_requests", unit_requests),
    Rule("unverified_sender", unverified_sender),
    Rule("digest_request", digest_request),
    Rule("too_large", too_large, when_forced=True),
    Rule("stranger", stranger),
)


@dataclass(frozen=True)
class Screened:
    """Screening's answer: the early outcome (and the rule that gave it), or None and the units the sender may
    speak for, whose files are read next."""

    early: Early | None
    rule: str = ""
    candidates: list[Unit] = field(default_factory=list)
    bounces: list[Bounce] = field(default_factory=list)


def screen(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext, *, forced: bool = False) -> Screened:
    """Run the rules in order; the first that speaks decides. `forced`: a person decided the unit, so only the
    rules marked `when_forced` apply. A bounce's report is read here for the bounce handler."""
    bounces = signed_bounces(mail, fetched, ctx)
    for rule in RULES:
        if forced and not rule.when_forced:
            continue
        if (early := rule.check(mail, fetched, ctx)) is not None:
            return Screened(early, rule.name, bounces=bounces)
    return Screened(None, candidates=sender_candidates(mail, ctx), bounces=bounces)


def signed_bounces(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> list[Bounce]:
    """A delivery status notification's failed recipients, only where it names a message the bot signed
    (anyone can send a DSN about anything). A large one is parsed in the sandbox."""
    if triage(mail, ctx.msgid_domain).verdict != Verdict.BOUNCE:
        return []
    reported: list[Bounce] = (parse_bounce(fetched.raw) if small_and_flat(fetched.raw)
                              else ctx.sandbox.run(parse_bounce, fetched.raw))
    return [b for b in reported if read_message_ids(ctx.secret, [b.original_message_id])]


def apply(early: Early, result: IngestResult) -> None:
    """Note an early outcome on the message's result (the receipt and the handlers read it there)."""
    result.outcome, result.reason = early.outcome, early.reason
    result.reply_to, result.command = early.reply_to, early.command
    result.problems.extend(early.problems)
    if early.period is not None:
        result.period = early.period
    result.for_units, result.fiscal_year = early.for_units, early.fiscal_year
