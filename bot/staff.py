"""The secretariat's side by mail: a staff member's reply words done through the same functions as the CLI,
each line in its own savepoint, answered with what changed; and the review alert that asks for them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from bot.reporting import unit_score_now, unit_status_now
from bot.reread import reread_in
from config.msgid import read_message_ids
from config.units import Unit
from intake import decisions
from intake.decisions import SecretariatError
from intake.reading import read_documents
from intake.message import ParsedMail, parse_message
from intake.models import Action, InboundMessage, Outcome
from intake.context import Fetched, IngestResult
from intake.reply_words import StaffCommand, Verb, parse_commands
from intake.text import strip_quoted
from mailer.limits import over_limit
from mailer.staff_mail import LineOutcome, ReviewItem, StaffAnswer, enqueue_review_alert, enqueue_staff_answer
from scoring.periods import Period, fiscal_year_of, thai_date

log = logging.getLogger("complaint_bot.staff")

ALERT_EVERY = timedelta(hours=1)  # at most one review alert an hour, grouping what waits


class LineFailed(Exception):
    """A line that cannot be done; `code` and `params` name why for mailer's catalogue."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Replied:
    """What the command mail replies to: the month of a digest, the messages of a review alert."""

    period: Period | None
    alert_items: list[int]


def _replied(app: App, s: Session, mail: ParsedMail) -> Replied:
    headers = [mail.in_reply_to, *mail.references]
    refs = read_message_ids(app.settings.secret_key, headers)
    periods = [Period.parse(r.period) for r in refs if r.kind == "digest" and r.period]
    # The screen checked the signature; the alert's row says which messages it listed.
    return Replied(periods[-1] if periods else None, decisions.alert_items(s, headers))


_DKIM_B = re.compile(r"(?:^|;)\s*b\s*=\s*([A-Za-z0-9+/=\s]{16,4096})")
REPLAY_WINDOW = timedelta(days=400)  # longer than any undo or digest a command can refer to


def _signatures(headers: list[tuple[str, str]]) -> set[str]:
    """The `b=` values of a message's DKIM signatures (whitespace removed): the same signed mail has the same."""
    found = set()
    for name, value in headers:
        if name.lower() == "dkim-signature" and (m := _DKIM_B.search(value[:8192])):
            signature = "".join(m.group(1).split())
            if len(signature) >= 16:  # a real signature is hundreds of characters; blanks are none
                found.add(signature)
    return found


def done_before(s: Session, mail: ParsedMail, sender: str, inbound_id: int) -> int | None:
    """The stored command mail this one repeats (the same Message-ID, or the same DKIM signature), from the same
    sender within REPLAY_WINDOW: its id, or None. The bytes may differ (another hop adds Received lines), so the
    byte hash that stops a duplicate delivery does not stop a replay."""
    signatures = _signatures(mail.all_headers)
    if not mail.message_id and not signatures:
        return None
    since = datetime.now(UTC) - REPLAY_WINDOW
    query = (select(InboundMessage.id, InboundMessage.message_id, InboundMessage.raw)
             .where(InboundMessage.from_addr == sender, InboundMessage.outcome == Outcome.COMMAND,
                    InboundMessage.id != inbound_id, InboundMessage.processed_at >= since)
             .order_by(InboundMessage.id))
    for earlier_id, message_id, raw in s.execute(query):
        if mail.message_id and message_id == mail.message_id:
            return int(earlier_id)
        if signatures and raw and signatures & _signatures(parse_message(raw, body=False).all_headers):
            return int(earlier_id)
    return None


def run_staff_commands(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    """Do the reply words of a stored staff command mail and queue the answer (inside the caller's transaction).

    1. Rate limit per staff address: over it, nothing is done and nothing answered (logged).
    2. Read the reply's own lines (quotes stripped) as commands; a digest gives the default month.
    3. Do each command in its own savepoint: one line that fails changes nothing and stops no other line.
    4. Answer with each line's outcome: status before and after, the reference that undoes it, or why not.
    """
    actor = result.reply_to or ""
    mail = parse_message(fetched.raw)
    if earlier := done_before(s, mail, actor, result.inbound_id):
        # The same command mail again (through another hop, or replayed: DMARC passes again), perhaps after
        # its undo: done once only. Set aside as a refused command, listed in the next digest.
        log.warning("command mail #%d from %s not done: the same mail was done as #%d", result.inbound_id, actor,
                    earlier)
        reason = f"the same command mail was done before (#{earlier})"
        stored = s.get(InboundMessage, result.inbound_id)
        if stored is not None:
            stored.outcome, stored.reason = Outcome.COMMAND_REFUSED, reason
        result.outcome, result.reason, result.command, result.reply_to = Outcome.COMMAND_REFUSED, reason, None, None
        return
    if limit := over_limit(s, "staff", actor, now, app.mail.limits):
        log.warning("command mail #%d from %s not done: rate limit (%s)", result.inbound_id, actor, limit)
        stored = s.get(InboundMessage, result.inbound_id)
        if stored is not None:
            stored.reason = f"staff: not done, rate limit ({limit})"
        return
    replied = _replied(app, s, mail)
    parsed = parse_commands(strip_quoted(mail.text), default_period=replied.period,
                            is_unit=lambda code: app.registry.get(code) is not None, has_files=bool(mail.attachments))
    lines = [LineOutcome(e.line_no, e.text, error=e.code, params=e.params) for e in parsed.errors]
    for command in parsed.commands:
        try:
            with s.begin_nested():
                lines.append(_do(app, s, command, replied, mail, actor, result.inbound_id, now))
        except (LineFailed, SecretariatError) as exc:  # the savepoint is rolled back: this line changed nothing
            lines.append(LineOutcome(command.line_no, command.text, command.verb, error=exc.code, params=exc.params))
    lines.sort(key=lambda line: line.line_no)
    log.info("command mail #%d from %s: %d done, %d not", result.inbound_id, actor,
             sum(line.ok for line in lines), sum(not line.ok for line in lines))
    enqueue_staff_answer(s, StaffAnswer(key=f"staff:{result.inbound_id}", to=actor,
                                        original_message_id=result.original_message_id,
                                        original_subject=result.original_subject, lines=lines,
                                        ignored=parsed.ignored, references=tuple(mail.references),
                                        period=replied.period), app.mail, now)


def _unit(app: App, code: str | None) -> Unit:
    unit = app.registry.get(code or "")
    if unit is None:
        raise LineFailed("no_unit", unit=code or "")
    return unit


def _target(s: Session, command: StaffCommand, replied: Replied) -> int:
    """The stored message review words are about: `#57`, or the one message of the alert replied to."""
    if command.target is not None:
        number = command.target
    elif len(replied.alert_items) == 1:
        number = replied.alert_items[0]
    elif replied.alert_items:
        raise LineFailed("target_ambiguous", first=str(replied.alert_items[0]))
    else:
        raise LineFailed("no_target")
    decisions.get_message(s, number)  # "no_message" for a number never stored
    if not decisions.is_waiting(s, number):
        raise LineFailed("not_in_review", number=str(number))
    return number


def _do(app: App, s: Session, command: StaffCommand, replied: Replied, mail: ParsedMail, actor: str,
        inbound_id: int, now: datetime) -> LineOutcome:
    """One command, through the functions the CLI uses; its outcome with the unit's status before and after."""
    if command.verb in (Verb.EXEMPT, Verb.PAPER):
        unit = _unit(app, command.unit)
        assert command.period is not None
        period = command.period
        status_before = unit_status_now(app, s, unit.code, period, now)
        score_before = unit_score_now(app, s, unit.code, period, now)
        if command.verb == Verb.EXEMPT:
            action = decisions.exempt(s, unit, period, command.reason, actor, now)
        else:
            assert command.received is not None
            received = datetime.combine(command.received, datetime.max.time().replace(microsecond=0),
                                        tzinfo=app.settings.tz)
            if command.received > now.astimezone(app.settings.tz).date():
                raise LineFailed("paper_received_future", date=thai_date(command.received))
            doc = read_documents([] if command.nil else mail.attachments, app.parsers)
            _, _, action = decisions.record_paper(s, unit, period, received, nil=command.nil, doc=doc, actor=actor,
                                              reason=command.reason, now=now, original_id=inbound_id)
        outcome = _outcome(app, s, command, action, status_before, now)
        score_after = unit_score_now(app, s, unit.code, period, now)
        if score_before is not None and score_after is not None and command.verb == Verb.EXEMPT:
            # An exemption changes the fiscal year's score only when the month was due: say what it was and becomes.
            outcome = replace(outcome, score=(fiscal_year_of(period), score_before.score, score_after.score))
        return outcome
    if command.verb == Verb.UNDO:
        return _undo(app, s, command, actor, now)
    number = _target(s, command, replied)
    msg = decisions.get_message(s, number)
    before_unit = command.unit if command.verb == Verb.ASSIGN else msg.unit_code
    before_period = str(command.period) if command.period else msg.period
    before = (unit_status_now(app, s, before_unit, Period.parse(before_period), now)
              if before_unit and before_period and app.registry.get(before_unit) else None)
    if command.verb == Verb.DISMISS:
        action = decisions.dismiss(s, number, actor, command.reason or "ไม่ใช่รายงาน (แจ้งทางอีเมล)", now)
    else:
        assigned = _unit(app, command.unit) if command.verb == Verb.ASSIGN else None
        kind = "resolve" if assigned is not None else "reprocess"
        _, action = reread_in(app, s, number, kind, actor, command.reason, assigned, command.period, now)
    code = action.unit_code or before_unit
    period_text = action.period or before_period
    after = None
    if code and period_text:
        after = unit_status_now(app, s, code, Period.parse(period_text), now)
    return LineOutcome(command.line_no, command.text, command.verb, unit=code,
                       unit_name=_name(app, code), period=Period.parse(period_text) if period_text else None,
                       before=before, after=after, reference=f"A-{action.id}" if action.details is not None else None,
                       message_number=number)


def _undo(app: App, s: Session, command: StaffCommand, actor: str, now: datetime) -> LineOutcome:
    assert command.reference is not None
    target = s.get(Action, command.reference)
    if target is None:
        raise LineFailed("no_action", reference=f"A-{command.reference}")
    period = Period.parse(target.period) if target.period else None
    before = unit_status_now(app, s, target.unit_code, period, now) if target.unit_code and period else None
    undone = decisions.undo(s, command.reference, actor, now)
    if target.kind == "resolve" and target.inbound_id is not None:  # read it again without the decision
        reread_in(app, s, target.inbound_id, "reprocess", actor, f"ยกเลิก A-{command.reference}", None, None, now)
    after = unit_status_now(app, s, target.unit_code, period, now) if target.unit_code and period else None
    return LineOutcome(command.line_no, command.text, Verb.UNDO, unit=undone.unit_code,
                       unit_name=_name(app, undone.unit_code), period=period, before=before, after=after,
                       undone=(f"A-{command.reference}", target.kind))


def _outcome(app: App, s: Session, command: StaffCommand, action: Action, before: str, now: datetime) -> LineOutcome:
    period = Period.parse(action.period) if action.period else None
    after = unit_status_now(app, s, action.unit_code, period, now) if action.unit_code and period else None
    return LineOutcome(command.line_no, command.text, command.verb, unit=action.unit_code,
                       unit_name=_name(app, action.unit_code), period=period, before=before, after=after,
                       reference=f"A-{action.id}")


def _name(app: App, code: str | None) -> str | None:
    unit = app.registry.get(code) if code else None
    return unit.name if unit else None


def queue_review_alert(app: App, s: Session, now: datetime) -> bool:
    """Mail the staff what newly waits for a person, at most once an hour; each message is announced once."""
    staff = [a for a in app.settings.staff_emails if a != app.settings.secretariat_email] \
        or list(app.settings.staff_emails)
    last = decisions.last_alert_at(s)
    if last is not None and now - last < ALERT_EVERY:
        return False
    announced = decisions.alerted_ids(s)
    waiting = [m for m in decisions.review_items(s) if m.id not in announced]
    if not waiting:
        return False
    items = [ReviewItem(number=m.id, arrived_at=m.arrived_at, from_addr=m.from_addr, subject=m.subject,
                        outcome=str(m.outcome), reason=m.reason,
                        # The unit, where the bot knew it (a file it could not read), else the sender's units.
                        candidates=[(c, _name(app, c) or "") for c in ([m.unit_code] if m.unit_code
                                                                         else m.candidates or [])],
                        period=Period.parse(m.period) if m.period else None,
                        files=_filenames(app, m)) for m in waiting[:30]]
    key = f"review-alert:{now.astimezone(UTC).isoformat(timespec='seconds')}"
    message_id = enqueue_review_alert(s, items, staff, key, app.mail, now)
    if message_id is None:
        return False
    decisions.note_alert(s, message_id, [i.number for i in items], now)
    return True


def _filenames(app: App, msg: InboundMessage) -> list[str]:
    """The names of a waiting message's files; a large or deeply structured one is parsed in the sandbox, as
    intake parses it (a stranger's MIME structure never costs this process)."""
    if not msg.raw:
        return []
    try:
        parsed = app.parse_stored(msg.raw)
        return [a.filename for a in parsed.attachments][:10]
    except Exception:  # a message that broke the parser is listed without its files
        return []
