"""One message through intake, in small steps: parse, triage, documents, unit, period, store.

`ingest` writes inside the caller's transaction and returns plain data for the receipt; the caller
(bot) commits it together with the outgoing receipt, then marks the message done on the server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from config.driver import DriverStatement, executemany, with_defaults
from config.msgid import read_message_ids
from config.units import Unit
from intake.bounces import Bounce, parse_bounce
from intake.documents import Documents, FileNote, ScanTexts
from intake.forms import CaseRow
from intake.message import ParsedMail, parse_message
from intake import tables
from intake.models import REFUSED, InboundMessage, Outcome, Submission
from intake.problems import ERROR, Problem
from intake.reading import Reading, finish_reading, start_reading
from intake.state import UnitReport, current_report, fold_in, refresh_fold_states
from intake.commands import command_of, staff_command
from intake.context import Fetched, IntakeContext
from intake.period_rule import date_problems, decide_period
from intake.sender import decide_unit, sender_candidates, sender_doubt
from intake.text import nil_statement
from intake.triage import Triage, Verdict, triage
from scoring.periods import Period, find_periods, find_tag_period


@dataclass
class IngestResult:
    inbound_id: int
    outcome: str  # an Outcome
    reason: str
    arrived_at: datetime
    reply_to: str | None = None  # None: never answer this message
    original_message_id: str = ""
    original_subject: str = ""
    unit: Unit | None = None
    period: Period | None = None
    period_rule: str = ""
    files: list[FileNote] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    report: UnitReport | None = None
    nil: bool = False
    rows: int = 0
    bounces: list[Bounce] = field(default_factory=list)
    command: str | None = None
    scans_pending: bool = False  # scanned memos wait for the OCR queue; answer once they are read


# Asked for every message: built once, run on the connection (every stored message is flushed by then).
_STORED = select(InboundMessage.id).where(InboundMessage.sha256 == bindparam("sha256")).limit(1)


def is_duplicate(session: Session, fetched: Fetched) -> bool:
    return session.connection().execute(_STORED, {"sha256": fetched.sha256}).first() is not None


# Step: store -------------------------------------------------------------------------------------

def _inbound(fetched: Fetched, mail: ParsedMail | None, outcome: str, reason: str) -> InboundMessage:
    return InboundMessage(
        sha256=fetched.sha256, source=fetched.source, uidvalidity=fetched.uidvalidity, uid=fetched.uid,
        arrived_at=fetched.arrived_at, processed_at=datetime.now(UTC),
        from_addr=mail.from_addr[:320] if mail else "", subject=mail.subject if mail else "",
        message_id=mail.message_id if mail else "", size=len(fetched.raw), raw=fetched.raw,
        outcome=outcome, reason=reason, candidates=[], problems=[],
    )


def build_submission(unit: Unit, period: Period, rule: str, fetched: Fetched, doc: Documents,
                nil: bool, problems: list[Problem]) -> Submission | None:
    c01 = next((f for f in doc.forms if f.form == "complaint_01"), None)
    c02 = next((f for f in doc.forms if f.form == "complaint_02" and f.filled), None)
    if not (c01 or c02 or nil):
        return None
    sub = Submission(
        unit_code=unit.code, period=str(period), arrived_at=fetched.arrived_at, channel="email",
        period_rule=rule, has_c01=c01 is not None, c01_rows=len(c01.rows) if c01 else 0,
        has_c02=c02 is not None, c02_total=sum(c02.category_counts().values()) if c02 else 0,
        nil_statement=nil, c01_counts=c01.category_counts() if c01 else {}, c02_counts=c02.counts if c02 else {},
        files=[{"filename": f.filename, "kind": f.kind, "detail": f.detail, "params": f.params} for f in doc.files],
        problems=[p.to_dict() for p in problems],
    )
    return sub


_SUBMISSION_COLUMNS = tuple(c.key for c in tables.submissions.columns if c.key != "id")
_INSERT_SUBMISSION = DriverStatement(insert(tables.submissions).returning(tables.submissions.c.id), _SUBMISSION_COLUMNS)


_CASE_COLUMNS = ("submission_id", *CaseRow._fields)


@functools.lru_cache(maxsize=8)
def _case_insert(dialect: Dialect) -> tuple[str, Callable[[date | None], Any] | None]:
    """The driver's own INSERT for case rows, and how it wants a date (None: as it is)."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(tables.case_rows.name)} ({', '.join(quote(c) for c in _CASE_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_CASE_COLUMNS))})")
    return sql, tables.case_rows.c.received.type.bind_processor(dialect)


def store_submission(session: Session, sub: Submission, doc: Documents) -> None:
    """Insert the submission (`sub` gets its id and stays outside the session: `fold_in` writes its fold
    state), then its Complaint_01 rows in one executemany (a form may hold thousands). Core, not the ORM,
    for the submission; the rows go to the driver as the tuples the reader made: SQLAlchemy's handling of
    each row's parameters cost more than the database's writing them."""
    values = with_defaults(tables.submissions, {name: getattr(sub, name) for name in _SUBMISSION_COLUMNS})
    connection = session.connection()
    sub.id = _INSERT_SUBMISSION.scalar(connection, values)
    c01 = next((f for f in doc.forms if f.form == "complaint_01"), None)
    if c01 and sub.has_c01 and c01.rows:
        sql, as_date = _case_insert(connection.dialect)
        if as_date is None:
            rows: list[tuple[Any, ...]] = [(sub.id, *r) for r in c01.rows]
        else:
            rows = [(sub.id, *r[:2], as_date(r.received), *r[3:9], as_date(r.completed), r.note) for r in c01.rows]
        executemany(connection, sql, rows)


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
    early: InboundMessage | None
    candidates: list[Unit]
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
    early, candidates = screen(mail, fetched, ctx, result, forced=forced)
    reading: Reading | None = None
    if early is None:
        reading = (Reading(mail.attachments, [], documents) if documents is not None
                   else start_reading(mail.attachments, ctx.sandbox, scans))
    return Prepared(mail, result, early, candidates, reading)


# A message parsed in the storing process itself (a trickle, one message at a time) must be small and flat: any
# other MIME structure is a stranger's to parse in a sandbox worker, where a million empty parts cost that worker
# (45 s and 1 GB measured here in the storing process) and not intake.
PARSE_HERE_BYTES = 1024 * 1024
PARSE_HERE_BOUNDARIES = 200  # lines starting "--": part boundaries, at most (real mail: a handful)


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


def small_and_flat(raw: bytes) -> bool:
    return len(raw) <= PARSE_HERE_BYTES and raw.count(b"\n--") <= PARSE_HERE_BOUNDARIES


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
    early, _ = screen(head, fetched, ctx, _new_result(fetched, head), forced=False)
    return early is None


def ingest(session: Session, fetched: Fetched, ctx: IntakeContext, *, existing: InboundMessage | None = None,
           overrides: Overrides = Overrides(), scans: ScanTexts | None = None,
           prepared: Prepared | None = None) -> IngestResult:
    """Read, decide and store one message inside the caller's transaction.

    1. Parse the MIME.
    2. Screen it (`screen`): robots, unverified senders, commands, size and strangers end here, unread.
    3. Attribute it (`attribute`): documents in the sandbox, unit, period, the submission.
    4. Store the message and its submission (`store_message`), fold the unit's report for the receipt.
    Steps 1-2 may have run ahead (`prepared`, see `prepare`). `existing` re-reads a stored message (after
    a registry fix or a person's decision) in place; `scans` gives the OCR queue's text of its scanned memos.
    """
    if prepared is None:
        prepared = prepare(fetched, ctx, forced=overrides.unit is not None, scans=scans)
    result = prepared.result
    replaced = _forget_earlier_reading(session, existing)
    if prepared.reading is None:  # screened out: stored unread
        assert prepared.early is not None  # `prepare` starts reading exactly when screening let it through
        store_message(session, prepared.early, existing, result)
        return result
    inbound, sub, doc = attribute(session, prepared.mail, fetched, ctx, result, prepared.candidates, overrides,
                                  prepared.reading)
    store_message(session, inbound, existing, result)
    newest: Submission | None = None
    if sub is not None and result.unit is not None and result.period is not None:
        sub.inbound_id = result.inbound_id
        store_submission(session, sub, doc)
        result.rows = sub.c01_rows
        if (result.unit.code, str(result.period)) not in replaced and fold_in(session, sub):
            newest = sub  # O(1): the thousandth correction costs what the first did
    if result.unit is not None and result.period is not None:
        for unit_code, period_text in replaced | ({(result.unit.code, str(result.period))} if replaced else set()):
            refresh_fold_states(session, unit_code, period_text)
        result.report = current_report(session, result.unit.code, str(result.period), fetched.arrived_at, newest)
    return result


def _forget_earlier_reading(session: Session, existing: InboundMessage | None) -> set[tuple[str, str]]:
    """A message read again replaces its own earlier submissions; the (unit, period) chains to rebuild."""
    replaced: set[tuple[str, str]] = set()
    if existing is not None:
        for old in session.scalars(select(Submission).where(Submission.inbound_id == existing.id)):
            replaced.add((old.unit_code, old.period))
            session.delete(old)
        session.flush()
    return replaced


_INBOUND_COLUMNS = tuple(c.key for c in tables.inbound_messages.columns if c.key not in ("id", "purged_at"))
_INSERT_INBOUND = DriverStatement(insert(tables.inbound_messages).returning(tables.inbound_messages.c.id), _INBOUND_COLUMNS)


def store_message(session: Session, inbound: InboundMessage, existing: InboundMessage | None,
                  result: IngestResult) -> None:
    """Insert the message (or update the stored one read again) and note its id and outcome."""
    if existing is not None:
        for name in ("outcome", "reason", "unit_code", "period", "candidates", "problems", "processed_at",
                     "scans_pending"):
            setattr(existing, name, getattr(inbound, name))
        session.flush()
        result.inbound_id = existing.id
    else:  # a new message: one Core insert (the ORM's unit of work cost more than the row; nothing edits it later)
        values = with_defaults(tables.inbound_messages, {name: getattr(inbound, name) for name in _INBOUND_COLUMNS})
        values["scans_pending"] = bool(inbound.scans_pending)
        result.inbound_id = _INSERT_INBOUND.scalar(session.connection(), values)
    result.outcome, result.reason = inbound.outcome, inbound.reason


def screen(mail: ParsedMail, fetched: Fetched, ctx: IntakeContext, result: IngestResult, *,
           forced: bool) -> tuple[InboundMessage | None, list[Unit]]:
    """The early outcomes, decided from headers alone (no attachment is read): robots and lists set
    aside; a From that cannot be trusted held; a secretariat command; an oversized message; a stranger.
    Returns the message to store now, or None and the units its sender may speak for. `forced`: a person
    decided the unit (review resolve), so only the size rule applies."""
    verdict: Triage = triage(mail, ctx.msgid_domain)
    if verdict.verdict == Verdict.BOUNCE:
        # Only bounces naming a message the bot signed count (anyone can send a DSN about anything).
        reported: list[Bounce] = (parse_bounce(fetched.raw) if small_and_flat(fetched.raw)
                                  else ctx.sandbox.run(parse_bounce, fetched.raw))
        result.bounces = [b for b in reported if read_message_ids(ctx.secret, [b.original_message_id])]
    if not verdict.answerable and not forced:
        return _inbound(fetched, mail, Outcome.SET_ASIDE, f"{verdict.verdict}: {verdict.reason}"), []
    if not forced and (staff := staff_command(mail, ctx)) is not None:
        allowed, why = staff
        if not allowed:  # set aside unanswered, unread; the next digest lists it
            return _inbound(fetched, mail, Outcome.SET_ASIDE, f"{REFUSED}: {why}"), []
        result.command, result.reply_to = "staff", mail.from_addr
        return _inbound(fetched, mail, Outcome.COMMAND, "staff"), []
    if not forced and (problem := sender_doubt(mail, ctx)):
        # The From header cannot name a unit, or our server did not vouch for its domain: someone may be
        # posing as a unit or the secretariat. Nothing counts, nobody is answered; a person decides.
        result.problems.append(Problem("sender_not_verified", ERROR))
        return _inbound(fetched, mail, Outcome.NEEDS_REVIEW, problem), []
    result.command = None if forced else command_of(mail, ctx)
    if result.command:
        result.reply_to = mail.from_addr
        found = find_periods(mail.subject)
        result.period = found[0] if found else None
        return _inbound(fetched, mail, Outcome.COMMAND, result.command), []
    if len(fetched.raw) > ctx.max_message_bytes:
        result.reply_to = mail.from_addr if ctx.registry.for_sender(mail.from_addr) else None
        result.problems.append(Problem("message_too_large", ERROR,
                                       {"max_mb": str(ctx.max_message_bytes // (1024 * 1024))}))
        return _inbound(fetched, mail, Outcome.NEEDS_REVIEW, "message too large"), []
    candidates = sender_candidates(mail, ctx)
    if not candidates and not forced:
        # A stranger: stored as bytes, its files never parsed; a short notice only inside TRUSTED_DOMAINS.
        domain = mail.from_addr.rpartition("@")[2]
        # Never its own address (the staff may write from the mailbox the bot reads): no mail to itself.
        result.reply_to = mail.from_addr if domain in ctx.trusted_domains and \
            mail.from_addr not in ctx.own_addresses else None
        return _inbound(fetched, mail, Outcome.SET_ASIDE, "unknown sender"), []
    return None, candidates


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
        inbound = _inbound(fetched, mail, Outcome.NEEDS_REVIEW, "sender serves several units; the form names none")
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
    inbound = _inbound(fetched, mail, Outcome.REPORT, "")
    inbound.unit_code, inbound.period = unit.code, str(period)
    inbound.scans_pending = result.scans_pending
    sub = build_submission(unit, period, rule, fetched, doc, result.nil, result.problems)
    if sub is None:
        inbound.outcome = Outcome.NEEDS_REVIEW if doc.review_reasons else Outcome.NO_REPORT
        inbound.reason = "; ".join(doc.review_reasons) or "no report found"
    inbound.problems = [p.to_dict() for p in result.problems]
    return inbound, sub, doc


def quarantine(session: Session, fetched: Fetched, error: str) -> IngestResult:
    """Keep a message that broke the pipeline, with its error, so the loop can move on. Only its header block is
    read (its body may be what broke it, and is not parsed in the storing process again). Should even that row
    fail to store, the message is kept with what cannot fail: its bytes, hash and arrival, and the error."""
    try:
        mail: ParsedMail | None = parse_message(fetched.raw, body=False)
    except Exception:
        mail = None
    try:
        with session.begin_nested():
            inbound = _inbound(fetched, mail, Outcome.QUARANTINED, error[:4000])
            session.add(inbound)
    except Exception as exc:  # its headers cannot be stored: keep it bare rather than lose it
        mail = None
        with session.begin_nested():
            inbound = _inbound(fetched, None, Outcome.QUARANTINED,
                               f"{error[:2000]} (its headers could not be stored: {type(exc).__name__})")
            session.add(inbound)
    return IngestResult(inbound_id=inbound.id, outcome=Outcome.QUARANTINED, reason=error, arrived_at=fetched.arrived_at,
                        original_message_id=mail.message_id if mail else "",
                        original_subject=mail.subject if mail else "")
