"""One message through intake, in small steps: parse, screen, documents, unit, period, store.

`ingest` writes inside the caller's transaction and returns plain data for what follows (its receipt, a bounce's
effect, commands: bot/handlers.py); the caller (bot) commits it together with them, then marks the message done
on the server. Screening's rules are in intake/screening.py, persistence in intake/store.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from config.units import Unit
from intake.context import Fetched, IngestResult, IntakeContext
from intake.documents import Documents, ScanTexts
from intake.message import ParsedMail, parse_message, small_and_flat
from intake.models import InboundMessage, Outcome, Submission
from intake.period_rule import date_problems, decide_period
from intake.problems import Problem
from intake.reading import Reading, finish_reading, start_reading
from intake.screening import Screened, apply, screen
from intake.sender import decide_unit, sender_candidates
from intake.state import Folded, current_report, fold_ahead, fold_in, refresh_fold_states
from intake.store import (build_submission, forget_earlier_reading, inbound_row, reserve_submission_id, store_message,
                          store_submission)
from intake.text import nil_statement
from intake.triage import triage
from scoring.periods import Period, find_tag_period


@dataclass(frozen=True)
class Overrides:
    """A person's decision when resolving or re-processing a stored message."""

    unit: Unit | None = None
    period: Period | None = None


@dataclass
class Prepared:
    """A message parsed and screened ahead of storing it (no database needed): the early outcome, or the
    units its sender may speak for and the reading of its files, already under way in the sandbox."""

    mail: ParsedMail
    result: IngestResult
    screened: Screened
    reading: Reading | None


def _new_result(fetched: Fetched, mail: ParsedMail) -> IngestResult:
    return IngestResult(inbound_id=0, outcome=Outcome.SET_ASIDE, reason="", arrived_at=fetched.arrived_at,
                        original_message_id=mail.message_id, original_subject=mail.subject)


def prepare(fetched: Fetched, ctx: IntakeContext, *, forced: bool = False, scans: ScanTexts | None = None,
            mail: ParsedMail | None = None, documents: Documents | None = None) -> Prepared:
    """Steps 1-2 of `ingest`, and the start of step 3: parse, screen (from headers alone), and only for a
    unit's address hand the files to the sandbox. A batch prepares the next messages while it stores
    this one, so the parsers' processes work while the database does; it has them parse the MIME too
    (`mail`), or parse it and read its files in one task (`documents`, see `reads_at_once`)."""
    mail = mail if mail is not None else parse_for(fetched, ctx, forced=forced)
    result = _new_result(fetched, mail)
    screened = screen(mail, fetched, ctx, forced=forced)
    result.bounces = screened.bounces
    reading: Reading | None = None
    if screened.early is not None:
        apply(screened.early, result)
    else:
        reading = (Reading(mail.attachments, [], documents) if documents is not None
                   else start_reading(mail.attachments, ctx.sandbox, scans))
    return Prepared(mail, result, screened, reading)


def parse_for(fetched: Fetched, ctx: IntakeContext, *, forced: bool = False) -> ParsedMail:
    """The message parsed where it costs only itself: here when it is small and flat; otherwise its header
    block here, and its body only if screening will read it (a unit's or the staff's address, or a person
    decided its unit: `forced`), in the sandbox (SandboxFailure when it kills or overruns a worker). A stranger's
    or a robot's large message is stored unread, its body never parsed; one over the size limit is answered
    "too large" from its headers."""
    raw = fetched.raw
    if len(raw) > ctx.max_message_bytes:
        return parse_message(raw, body=False)
    if small_and_flat(raw):
        return parse_message(raw)
    head = parse_message(raw, body=False)
    if forced or head.from_addr in ctx.staff or (triage(head, ctx.msgid_domain).answerable
                                                 and not head.sender_problem and sender_candidates(head, ctx)):
        return ctx.sandbox.run(parse_message, raw)
    return head


def reads_at_once(head: ParsedMail, fetched: Fetched, ctx: IntakeContext) -> bool:
    """Whether screening lets this message's files be read already from its header block (`head`, parsed
    with body=False): a unit's address, authenticated, not a robot, not a command. Then its MIME parse and
    its files can go to the sandbox as one task (`intake.reading.read_message`), and `prepare` screens
    the whole message again before the reading counts. The staff's mail is screened with its text (reply
    words), so it never qualifies."""
    if head.from_addr in ctx.staff or len(fetched.raw) > ctx.max_message_bytes:
        return False
    if not triage(head, ctx.msgid_domain).answerable:
        return False  # robots and bounces are stored unread (a bounce's report is parsed once, by `prepare`)
    return screen(head, fetched, ctx).early is None


def ingest(session: Session, fetched: Fetched, ctx: IntakeContext, *, existing: InboundMessage | None = None,
           overrides: Overrides = Overrides(), scans: ScanTexts | None = None,
           prepared: Prepared | None = None) -> IngestResult:
    """Read, decide and store one message inside the caller's transaction.

    1. Parse the MIME.
    2. Screen it (intake/screening.py `RULES`): robots, staff reply words, unverified senders, digest requests,
       size and strangers end here, unread.
    3. Attribute it (`attribute`): documents in the sandbox, unit, period, the submission.
    4. Store the message and its submission (`store_message`), fold the unit's report for the receipt.
    Steps 1-2 may have run ahead (`prepared`, see `prepare`). `existing` re-reads a stored message (after
    a registry fix or a person's decision) in place; `scans` gives the OCR queue's text of its scanned memos.
    """
    if prepared is None:
        prepared = prepare(fetched, ctx, forced=overrides.unit is not None, scans=scans)
    result = prepared.result
    replaced = forget_earlier_reading(session, existing)
    early = prepared.screened.early
    if early is not None:  # screened out: stored unread
        store_message(session, inbound_row(fetched, prepared.mail, early.outcome, early.reason), existing, result)
        return result
    assert prepared.reading is not None  # `prepare` starts reading exactly when screening let it through
    inbound, sub, doc = attribute(session, prepared.mail, fetched, ctx, result, prepared.screened.candidates,
                                  overrides, prepared.reading)
    store_message(session, inbound, existing, result)
    newest: Submission | None = None
    waiting = None  # the unit's messages waiting for a person, when fold_in read them
    if sub is not None and result.unit is not None and result.period is not None:
        sub.inbound_id = result.inbound_id
        folded = _store_folded(session, sub, doc, fold=(result.unit.code, str(result.period)) not in replaced)
        result.rows = sub.c01_rows
        if folded is not None:
            newest, waiting = (sub if folded.newest else None), folded.waiting
    if result.unit is not None and result.period is not None:
        for unit_code, period_text in replaced | ({(result.unit.code, str(result.period))} if replaced else set()):
            refresh_fold_states(session, unit_code, period_text)
        result.report = current_report(session, result.unit.code, str(result.period), fetched.arrived_at, newest,
                                       waiting)
    return result


def _store_folded(session: Session, sub: Submission, doc: Documents, fold: bool) -> Folded | None:
    """Store the submission and, unless the caller rebuilds its chain (`fold` False: a message read again), fold
    it into its unit's report: O(1), the thousandth correction costs what the first did. Where its id can be had
    before its insert (PostgreSQL) it is folded first and the insert carries its state; elsewhere the insert
    gives the id and an UPDATE the state."""
    if not fold:
        store_submission(session, sub, doc)
        return None
    if not reserve_submission_id(session, sub):
        store_submission(session, sub, doc)
        return fold_in(session, sub)
    folded = fold_ahead(session, sub)
    store_submission(session, sub, doc)
    if not folded.newest:  # it arrived out of order: the chain is rebuilt with it
        refresh_fold_states(session, sub.unit_code, sub.period)
    return folded


def _nil_stated(mail: ParsedMail, doc: Documents, ctx: IntakeContext) -> bool:
    """A "no complaints" statement in the sender's own text, the subject (unless it quotes ours), a memo,
    or a forwarded message that is not the bot's own."""
    return (nil_statement(mail.text) or (not find_tag_period(mail.subject) and nil_statement(mail.subject))
            or bool(doc.memo_nil)
            or any(nil_statement(f.text) for f in mail.forwarded
                   if f.from_addr not in ctx.own_addresses and not f.message_id.startswith("<cr."))
            or any(nil_statement(t) for t in doc.forwarded_text))


def attribute(session: Session, mail: ParsedMail, fetched: Fetched, ctx: IntakeContext, result: IngestResult,
              candidates: list[Unit], overrides: Overrides,
              reading: Reading) -> tuple[InboundMessage, Submission | None, Documents]:
    """Documents (read in the sandbox; scans wait for the OCR queue), unit, period and the submission, for a
    message from a unit's address: what to store, and the submission if it holds a report part."""
    doc = finish_reading(reading)
    unit_problems: list[Problem] = []
    if overrides.unit is not None:
        unit: Unit | None = overrides.unit
        candidates = [overrides.unit]
    else:
        unit, unit_problems = decide_unit(candidates, doc, ctx.registry)
    result.files, result.problems = doc.files, list(doc.problems) + unit_problems
    result.scans_pending = bool(doc.scans)
    result.reply_to = mail.from_addr
    result.nil = _nil_stated(mail, doc, ctx)
    if unit is None:
        inbound = inbound_row(fetched, mail, Outcome.NEEDS_REVIEW, "sender serves several units; the form names none")
        inbound.candidates = [u.code for u in candidates]
        inbound.scans_pending = result.scans_pending
        period, rule, _ = decide_period(mail, doc, candidates[0], fetched, ctx, lambda p: False)
        inbound.period, result.period, result.period_rule = str(period), period, rule
        return inbound, None, doc
    result.unit = unit
    the_unit = unit

    def completed(p: Period) -> bool:
        return current_report(session, the_unit.code, str(p), fetched.arrived_at).state.completed_at is not None

    period_problems: list[Problem] = []
    if overrides.period is not None:
        period, rule = overrides.period, "secretariat"
    else:
        period, rule, period_problems = decide_period(mail, doc, unit, fetched, ctx, completed)
    result.period, result.period_rule = period, rule
    result.problems += period_problems + date_problems(doc, period)
    inbound = inbound_row(fetched, mail, Outcome.REPORT, "")
    inbound.unit_code, inbound.period = unit.code, str(period)
    inbound.scans_pending = result.scans_pending
    sub = build_submission(unit, period, rule, fetched, doc, result.nil, result.problems)
    if sub is None:
        inbound.outcome = Outcome.NEEDS_REVIEW if doc.review_reasons else Outcome.NO_REPORT
        inbound.reason = "; ".join(doc.review_reasons) or "no report found"
    inbound.problems = [p.to_dict() for p in result.problems]
    return inbound, sub, doc
