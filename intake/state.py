"""A unit's report for a period as of a moment: submissions folded, counts, cross-checks.

Read with Core statements on intake's tables, so the reading side (`period_reports`, `exempt_units`) runs on a
plain connection as well as in a Session, and a command that only reads never imports the ORM. What it
folds is a stored submission: a mapped `Submission` or a row of the submissions table (`StoredSubmission`)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Union

from sqlalchemy import Integer, Select, bindparam, func, or_, select, text, update
from sqlalchemy.engine import Connection

from db.driver import DriverStatement, read_together
from intake.problems import ERROR, WARNING, Problem
from intake.tables import NO_USABLE_REPORT_SQL, WAITING_SQL, exemptions, inbound_messages, submissions
from scoring.status import CATEGORIES, Folder, Part, PeriodState, fold

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from intake.models import Submission

# What the reading functions run their statements on: the caller's Session, or a plain connection.
Reader = Union["Session", "Connection"]


class StoredSubmission(Protocol):
    """What folding reads of a stored submission (a mapped Submission, or a row of the submissions table)."""

    @property
    def id(self) -> int: ...
    @property
    def arrived_at(self) -> datetime: ...
    @property
    def has_c01(self) -> bool: ...
    @property
    def c01_rows(self) -> int: ...
    @property
    def has_c02(self) -> bool: ...
    @property
    def c02_total(self) -> int: ...
    @property
    def nil_statement(self) -> bool: ...
    @property
    def c01_counts(self) -> dict[str, int]: ...
    @property
    def c02_counts(self) -> dict[str, dict[str, int]]: ...
    @property
    def problems(self) -> list[dict[str, Any]]: ...


@dataclass
class UnitReport:
    unit_code: str
    state: PeriodState
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    problems: list[Problem] = field(default_factory=list)
    needs_review: bool = False
    last_arrival: datetime | None = None


def _part(sub: StoredSubmission) -> Part:
    return Part(arrived_at=sub.arrived_at, has_c01=sub.has_c01, c01_rows=sub.c01_rows, has_c02=sub.has_c02,
                c02_total=sub.c02_total, nil_statement=sub.nil_statement, ref=sub.id)


def cross_check(c01: StoredSubmission | None, c02: StoredSubmission | None) -> list[Problem]:
    """Complaint_02 counts must agree with the rows of Complaint_01, per category."""
    if c01 is None or c02 is None:
        return []
    problems = []
    for cat in CATEGORIES:
        rows = c01.c01_counts.get(cat, 0)
        summary = c02.c02_counts.get(cat, {}).get("received", 0)
        if rows != summary:
            problems.append(Problem("totals_mismatch", WARNING,
                                    {"category": cat, "summary": str(summary), "rows": str(rows)}))
    return problems


def _missing_problems(state: PeriodState) -> list[Problem]:
    out = []
    if "Complaint_01" in state.missing:
        out.append(Problem("missing_complaint_01", ERROR))
    if "Complaint_02" in state.missing:
        out.append(Problem("missing_complaint_02", ERROR))
    return out


def build_report(unit_code: str, subs: Iterable[StoredSubmission], as_of: datetime, needs_review: bool) -> UnitReport:
    """Fold one unit's submissions that arrived by `as_of` into its report."""
    subs = [s for s in subs if s.arrived_at <= as_of]
    report = _report(unit_code, fold(_part(s) for s in subs), {s.id: s for s in subs}, needs_review)
    report.last_arrival = max((s.arrived_at for s in subs), default=None)
    return report


def _report(unit_code: str, state: PeriodState, by_id: dict[int, StoredSubmission], needs_review: bool) -> UnitReport:
    """Counts from the latest data, the forms' own problems, the cross-check and what is still missing."""
    report = UnitReport(unit_code, state, needs_review=needs_review)
    c01 = by_id.get(state.c01_ref) if state.c01_ref else None
    c02 = by_id.get(state.c02_ref) if state.c02_ref else None
    if state.kind == "complaints" and c01 is not None:
        report.counts = {c: c01.c01_counts.get(c, 0) for c in CATEGORIES}
    elif state.kind == "complaints" and c02 is not None:
        report.counts = {c: c02.c02_counts.get(c, {}).get("received", 0) for c in CATEGORIES}
    seen: set[tuple[str, str]] = set()
    for sub in (c01, c02):
        for p in (sub.problems if sub else []):
            problem = Problem.from_dict(p)
            if problem.identity not in seen and problem.code != "totals_mismatch":
                seen.add(problem.identity)
                report.problems.append(problem)
    if state.kind == "complaints":
        report.problems.extend(cross_check(c01, c02))
    report.problems.extend(_missing_problems(state))
    return report


def _order(sub: StoredSubmission) -> tuple[datetime, int]:
    return sub.arrived_at, sub.id


def refresh_fold_states(session: Session, unit_code: str, period: str) -> None:
    """Rebuild the cached fold state of every submission of a unit and period (after one arrived out of
    order, or a message was read again): O(n), and rare."""
    from intake.models import Submission  # the intake path's objects (the reading side needs no ORM)

    connection = session.connection()
    _Memo.of(session.info, session.get_transaction()).heads.pop((unit_code, period), None)
    if connection.dialect.name == "postgresql":
        _FOLD_LOCK.all(connection, _fold_lock_key(unit_code, period))
    folder = Folder()
    for sub in session.scalars(select(Submission).where(Submission.unit_code == unit_code, Submission.period == period)
                               .order_by(Submission.arrived_at, Submission.id)):
        folder.add(_part(sub))
        sub.fold_state = folder.dump()


# The unit-month's newest other submission: its order and cached state only (asked for every message).
_S = submissions.c
_M = inbound_messages.c
_LATEST_OTHER = DriverStatement(
    select(_S.id, _S.arrived_at, _S.fold_state)
    .where(_S.unit_code == bindparam("unit_code"), _S.period == bindparam("period"), _S.id != bindparam("sub_id"))
    .order_by(_S.arrived_at.desc(), _S.id.desc()).limit(1))


# A unit-month's fold is taken under a lock held to the end of the transaction (PostgreSQL; SQLite's writers take
# turns already): two workers storing one unit's reports for a month at the same moment would each fold from what
# was committed and miss the other's part, in that receipt and in every later one's (the state is carried on). The
# second waits for the first's transaction; two that wait for each other are a deadlock the server ends by failing
# one transaction, whose messages are stored again later (bot/storing.py), none lost or quarantined.
_FOLD_LOCK = DriverStatement(select(func.pg_advisory_xact_lock(bindparam("space", type_=Integer),
                                                               bindparam("key", type_=Integer))))
_FOLD_LOCK_SPACE = int.from_bytes(b"fold", "big")  # the two-key form's first key: locks of the unit-months' folds


def _fold_lock_key(unit_code: str, period: str) -> dict[str, int]:
    """The lock's keys (two 32-bit integers) for a unit-month; two unit-months that share a key only wait longer."""
    digest = hashlib.blake2b(f"{unit_code}\0{period}".encode(), digest_size=4).digest()
    return {"space": _FOLD_LOCK_SPACE, "key": int.from_bytes(digest, "big", signed=True)}


class Folded(NamedTuple):
    """What folding a submission in found: whether it is the period's newest part (its fold state is then the
    period's), and the period's messages waiting for a person (`review_units`' rows, asked in the same wait for
    the server, or known from earlier in the transaction: the receipt's report needs them next)."""

    newest: bool
    waiting: list[tuple[Any, ...]]


def fold_in(session: Session, sub: Submission) -> Folded:
    """Fold a stored submission into its unit's state for the period: from the latest cached state when it is
    the newest part (the usual case: O(1)), else by rebuilding the chain. Its fold state is written by an
    UPDATE; `fold_ahead` folds one before its insert, which then carries its state."""
    folded = fold_ahead(session, sub)
    if not folded.newest:
        refresh_fold_states(session, sub.unit_code, sub.period)
    else:
        # Owed: on PostgreSQL it goes with the next statement (the receipt's look-up), no round trip of its own.
        _SET_FOLD_STATE.owe(session.connection(), {"sub_id": sub.id, "fold_state": sub.fold_state})
    return folded


def fold_ahead(session: Session, sub: Submission) -> Folded:
    """Set the fold state of a submission (its id known, stored or not) from the unit-month's newest other one,
    when it is newer than that one (O(1): the thousandth correction costs what the first did). Not newest
    (`Folded.newest` False): it arrived out of order, and the caller rebuilds the chain once it is stored.

    What a transaction read here it keeps to its end (`_Memo`): a unit-month's newest part, read under the
    unit-month's lock the first time and written by the transaction itself after that, and the period's messages
    waiting for a person. A backlog of one unit's corrections then asks the database nothing per message."""
    session.flush()  # a chain rebuilt earlier in this transaction must be visible to the Core query below
    connection = session.connection()
    memo = _Memo.of(session.info, session.get_transaction())
    key = (sub.unit_code, sub.period)
    if memo.heads.get(key, (None,))[0] == sub.id:  # folded before in this transaction: from the one before it
        del memo.heads[key]
    reads: list[tuple[DriverStatement, Mapping[str, Any]]] = []
    if key not in memo.heads:
        reads.append((_LATEST_OTHER, {"unit_code": sub.unit_code, "period": sub.period, "sub_id": sub.id}))
        if connection.dialect.name == "postgresql":  # the lock first, in the same wait: the reads see what it waited for
            reads.insert(0, (_FOLD_LOCK, _fold_lock_key(sub.unit_code, sub.period)))
    waiting_known = sub.period in memo.waiting
    if not waiting_known:
        reads.append((_WAITING_IN_PERIOD, {"period": sub.period}))
    found = read_together(connection, reads) if reads else []
    if not waiting_known:
        memo.waiting[sub.period] = found.pop()
    latest_rows = [memo.heads[key]] if key in memo.heads else found[-1]
    waiting = memo.waiting[sub.period]
    state = None
    if latest_rows:
        latest_id, latest_arrived, state = latest_rows[0]
        if state is None or (latest_arrived, latest_id) > _order(sub):
            memo.heads.pop(key, None)  # the caller rebuilds the chain
            return Folded(False, waiting)
    folder = Folder.load(state) if state else Folder()
    folder.add(_part(sub))
    sub.fold_state = folder.dump()
    memo.heads[key] = (sub.id, sub.arrived_at, sub.fold_state)
    return Folded(True, waiting)


@dataclass
class _Memo:
    """What a transaction read in `fold_ahead` and still knows, in its session's info: each unit-month's newest
    part it folded ({(unit_code, period): (id, arrived_at, fold_state)}: no other writer adds one while the
    transaction holds the unit-month's lock), and each period's messages waiting for a person (`_WAITING`'s rows).
    Forgotten (`forget`, by intake/store.py's session events) when the transaction ends or anything in it is
    rolled back (a savepoint's rollback undoes its rows and releases the locks taken in it); the waiting messages
    also when a message is stored waiting or a stored one changes; a unit-month when its chain is rebuilt. A memo
    is its transaction's alone, whatever the events: another transaction of the session starts a new one."""

    transaction: object  # the session's root transaction
    heads: dict[tuple[str, str], tuple[int, datetime, Any]] = field(default_factory=dict)
    waiting: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    KEY = "complaint_bot.intake.memo"

    @classmethod
    def of(cls, info: dict[str, Any], transaction: object) -> _Memo:
        memo = info.get(cls.KEY)
        if memo is None or memo.transaction is not transaction:
            memo = info[cls.KEY] = cls(transaction)
        return memo


def forget(info: dict[str, Any], *, waiting_only: bool = False) -> None:
    """Forget what the session's transaction read in `fold_ahead`: all of it, or the waiting messages only."""
    if not waiting_only:
        info.pop(_Memo.KEY, None)
    elif (memo := info.get(_Memo.KEY)) is not None:
        memo.waiting.clear()


_SET_FOLD_STATE = DriverStatement(update(submissions).where(_S.id == bindparam("sub_id")).values(
    fold_state=bindparam("fold_state")))


def current_report(session: Session, unit_code: str, period: str, as_of: datetime,
                   newest: Submission | None = None, waiting: list[tuple[Any, ...]] | None = None) -> UnitReport:
    """The unit's report as of its newest part (what a receipt shows), from the cached fold state: the
    latest Complaint_01 and Complaint_02 are loaded by id instead of every submission of the period.
    `newest`: the submission just folded in as the newest, when the caller knows it (saves the lookup);
    `waiting`: the period's messages waiting for a person as `fold_in` found them (saves another)."""
    from intake.models import Submission  # the intake path's objects (the reading side needs no ORM)

    latest = newest or session.scalars(
        select(Submission).where(Submission.unit_code == unit_code, Submission.period == period,
                                 Submission.arrived_at <= as_of)
        .order_by(Submission.arrived_at.desc(), Submission.id.desc()).limit(1)).first()
    if latest is None or latest.fold_state is None:
        return period_reports(session, period, as_of, [unit_code])[unit_code]
    folder = Folder.load(latest.fold_state)
    refs = dict.fromkeys(r for r in (folder.state.c01_ref, folder.state.c02_ref) if r)
    subs = [sub for ref in refs if (sub := (newest if newest is not None and newest.id == ref
                                            else session.get(Submission, ref))) is not None]
    review = unit_code in (review_units(session, period, as_of, unit_code) if waiting is None
                           else _waiting_units(waiting, as_of))
    report = _report(unit_code, folder.result(), {s.id: s for s in subs}, review)
    report.last_arrival = latest.arrived_at
    if report.state.completed_at is None:
        report.problems.extend(failed_attempts(session, period, as_of, [unit_code]).get(unit_code, []))
    return report


def period_reports(session: Reader, period: str, as_of: datetime,
                   unit_codes: Iterable[str] | None = None) -> dict[str, UnitReport]:
    """Every unit's report for the period as of `as_of` (units with nothing get an empty report)."""
    query = select(submissions).where(_S.period == period).order_by(_S.arrived_at, _S.id)
    codes = list(unit_codes) if unit_codes is not None else None
    if codes is not None:
        query = query.where(_S.unit_code.in_(codes))
    grouped: dict[str, list[StoredSubmission]] = defaultdict(list)
    for sub in session.execute(query):
        grouped[sub.unit_code].append(sub)
    review = review_units(session, period, as_of)
    attempts = failed_attempts(session, period, as_of, codes)
    out = {}
    for code in (codes if codes is not None else sorted(set(grouped) | review)):
        out[code] = report = build_report(code, grouped.get(code, []), as_of, code in review)
        if report.state.completed_at is None:  # not complete: show what was tried and why it failed
            report.problems.extend(attempts.get(code, []))
    return out


# A part's fields only (no JSON column: counts, files, problems and fold states cost most of reading a month).
_PARTS = select(_S.unit_code, _S.id, _S.arrived_at, _S.has_c01, _S.c01_rows, _S.has_c02, _S.c02_total,
                _S.nil_statement).where(_S.period == bindparam("period")).order_by(_S.arrived_at, _S.id)


def period_states(session: Reader, period: str, as_of: datetime,
                  unit_codes: Iterable[str]) -> dict[str, tuple[PeriodState, bool]]:
    """Each unit's state for the period as of `as_of` and whether a person must still look at one of its messages:
    what its status needs, as `period_reports` finds it, without the counts and problems of its report (a
    fiscal year's statuses read twelve months of every unit)."""
    parts: dict[str, list[Part]] = defaultdict(list)
    for row in session.execute(_PARTS, {"period": period}):
        if row.arrived_at <= as_of:
            parts[row.unit_code].append(_part(row))
    review = review_units(session, period, as_of)
    return {code: (fold(parts.get(code, [])), code in review) for code in unit_codes}


ATTEMPT_CODES = ("unreadable_attachment", "encrypted_attachment", "archive_too_large", "sheet_too_large",
                 "parser_limit", "unsupported_format", "unknown_template", "empty_form", "empty_attachment",
                 "message_too_large", "too_many_files")


def attempts_query(period: str, as_of: datetime, unit_codes: list[str] | None) -> Select[Any]:
    """The period's messages that held no usable report, by arrival. The outcomes in the partial index's own words
    (tables.NO_USABLE_REPORT_SQL): a receipt asks this for every message of a unit whose report is incomplete, and
    through (unit_code, period) it read all of the unit's month to find the few."""
    query = select(_M.unit_code, _M.arrived_at, _M.problems).where(
        text(f"({NO_USABLE_REPORT_SQL})"), _M.period == period, _M.arrived_at <= as_of, _M.unit_code.is_not(None))
    if unit_codes is not None:
        query = query.where(_M.unit_code.in_(unit_codes))
    return query.order_by(_M.arrived_at)


def failed_attempts(session: Reader, period: str, as_of: datetime,
                    unit_codes: list[str] | None) -> dict[str, list[Problem]]:
    """Messages of the period that held no usable report because a file could not be read: the
    secretariat sees the attempt (when, which file, why) instead of a silent `missing`."""
    out: dict[str, list[Problem]] = defaultdict(list)
    for unit_code, arrived, problems in session.execute(attempts_query(period, as_of, unit_codes)):
        for p in problems or []:
            if p.get("code") in ATTEMPT_CODES:
                stored = Problem.from_dict(p)  # when it arrived is written out in the deployment's TIMEZONE by bot
                out[unit_code].append(Problem(stored.code, ERROR, dict(stored.params), arrived_at=arrived))
    return out


# In the partial index's own words (tables.WAITING_SQL), not as parameters: psycopg prepares a statement run five
# times, and PostgreSQL's generic plan for `outcome = $1 OR outcome = $2` could not use the index: it read every
# message of the unit's month to find the few waiting (0.4 ms a message in a backlog of one unit's corrections).
_WAITING = select(_M.unit_code, _M.candidates, _M.arrived_at).where(text(f"({WAITING_SQL})"),
                                                                   _M.period == bindparam("period"))
# Read once a transaction as it stores (`fold_ahead`), run on the connection (the message just stored is flushed or
# owed by then, and goes first).
_WAITING_IN_PERIOD = DriverStatement(_WAITING)
# One unit's question: its own messages, or one whose sender serves several units (unit not decided).
_WAITING_FOR_UNIT = DriverStatement(_WAITING.where(or_(_M.unit_code == bindparam("unit_code"), _M.unit_code.is_(None))))


def review_units(session: Reader, period: str, as_of: datetime, unit_code: str | None = None) -> set[str]:
    """Units with a message for this period that a person must still look at (only whether `unit_code` is
    one, when given: then the messages of other units are not loaded)."""
    rows: Iterable[Any]
    if unit_code is None:
        rows = session.execute(_WAITING, {"period": period})
    else:
        connection = session if isinstance(session, Connection) else session.connection()
        rows = _WAITING_FOR_UNIT.all(connection, {"period": period, "unit_code": unit_code})
    return _waiting_units(rows, as_of)


def _waiting_units(rows: Iterable[Any], as_of: datetime) -> set[str]:
    units: set[str] = set()
    for code, candidates, arrived in rows:
        if arrived > as_of:
            continue
        if code:
            units.add(code)
        units.update(candidates or [])
    return units


def exempt_units(session: Reader, period: str) -> set[str]:
    """Units the secretariat excused from the period's report."""
    return set(session.execute(select(exemptions.c.unit_code).where(exemptions.c.period == period)).scalars())
