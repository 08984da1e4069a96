"""The cached fold state (one step per new part) always equals the full replay (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import intake.models  # noqa: F401  (the tables)
import mailer.models  # noqa: F401
from db.engine import metadata
from intake.context import IngestResult
from intake.models import InboundMessage, Outcome, Submission
from intake.state import current_report, fold_in, period_reports, period_states, refresh_fold_states
from intake.store import store_message

START = datetime(2026, 11, 1, tzinfo=UTC)

parts = st.lists(st.tuples(
    st.integers(0, 40),  # arrival: hours after the start (out of order when smaller than an earlier one)
    st.booleans(), st.integers(0, 3),  # Complaint_01 and its rows
    st.booleans(), st.integers(0, 3),  # Complaint_02 and its total
    st.booleans(),  # a "no complaints" statement
), min_size=1, max_size=12)


@pytest.mark.slow  # 150 examples against a real database: ~12 s, CI runs it
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts, st.integers(0, 11))
def test_cached_state_equals_the_full_fold(sequence: list[tuple[int, bool, int, bool, int, bool]], drop: int) -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as s:
        for hours, has_c01, rows, has_c02, total, nil in sequence:
            sub = Submission(unit_code="U1", period="2026-11", arrived_at=START + timedelta(hours=hours),
                             has_c01=has_c01, c01_rows=rows if has_c01 else 0, has_c02=has_c02,
                             c02_total=total if has_c02 else 0, nil_statement=nil, c01_counts={}, c02_counts={},
                             files=[], problems=[])
            s.add(sub)
            s.flush()
            fold_in(s, sub)  # as intake does, one message at a time, in the order they are stored
            as_of = START + timedelta(hours=100)
            assert current_report(s, "U1", "2026-11", as_of).state == \
                period_reports(s, "2026-11", as_of, ["U1"])["U1"].state == \
                period_states(s, "2026-11", as_of, ["U1"])["U1"][0]
        # A message read again (or removed): the chain is rebuilt and still agrees.
        subs = list(s.scalars(select(Submission)))
        s.delete(subs[drop % len(subs)])
        s.flush()
        refresh_fold_states(s, "U1", "2026-11")
        as_of = START + timedelta(hours=100)
        assert current_report(s, "U1", "2026-11", as_of).state == period_reports(s, "2026-11", as_of, ["U1"])["U1"].state
    engine.dispose()


def _part(hours: int, **counts: object) -> Submission:
    values: dict[str, object] = dict(has_c01=False, c01_rows=0, has_c02=False, c02_total=0, nil_statement=False)
    values.update(counts)
    return Submission(unit_code="U1", period="2026-11", arrived_at=START + timedelta(hours=hours), c01_counts={},
                      c02_counts={}, files=[], problems=[], **values)


def _message(hours: int, outcome: str, unit_code: str | None = "U1") -> InboundMessage:
    return InboundMessage(sha256=f"{hours:064d}", source="test", arrived_at=START + timedelta(hours=hours),
                          processed_at=START + timedelta(hours=hours), from_addr="u1@example.go.th", subject="",
                          message_id="", size=1, raw=b"x", outcome=outcome, reason="", unit_code=unit_code,
                          period="2026-11", candidates=[], problems=[], scans_pending=False)


def test_a_part_rolled_back_with_its_savepoint_is_not_folded_into_the_next() -> None:
    """A transaction folds each unit-month's parts from the newest it wrote itself (no read); a savepoint rolled
    back undoes the part stored in it, and the next part is folded from the one before."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as s:
        first = _part(1, has_c01=True, c01_rows=3)
        s.add(first)
        s.flush()
        fold_in(s, first)
        undone = s.begin_nested()
        second = _part(2, has_c02=True, c02_total=3)
        s.add(second)
        s.flush()
        fold_in(s, second)
        undone.rollback()
        third = _part(3, nil_statement=True)
        s.add(third)
        s.flush()
        fold_in(s, third)
        as_of = START + timedelta(hours=100)
        state = current_report(s, "U1", "2026-11", as_of).state
        assert state == period_reports(s, "2026-11", as_of, ["U1"])["U1"].state
        assert state.c02_ref is None and state.c01_ref == first.id, state  # the rolled-back Complaint_02 is not in
    engine.dispose()


def test_a_message_that_waits_for_a_person_shows_in_the_next_receipt_of_the_transaction() -> None:
    """Which of the month's messages wait for a person is read once a transaction, and again after a message is
    stored waiting (a Core insert) or a stored one changes (the ORM): the next receipt's review flag follows."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    as_of = START + timedelta(hours=100)

    def review_after(hours: int) -> bool:
        sub = _part(hours, nil_statement=True)
        s.add(sub)
        s.flush()
        folded = fold_in(s, sub)
        return current_report(s, "U1", "2026-11", as_of, sub, folded.waiting).needs_review

    with Session(engine) as s:
        assert not review_after(1)
        waiting = _message(2, Outcome.NEEDS_REVIEW)
        store_message(s, waiting, None, IngestResult(0, Outcome.NEEDS_REVIEW, "", waiting.arrived_at))
        assert review_after(3)
        stored = s.get(InboundMessage, 1)
        assert stored is not None
        stored.outcome = Outcome.DISMISSED  # a person's decision, through the ORM
        assert not review_after(4)
        shared = _message(5, Outcome.NEEDS_REVIEW, unit_code=None)  # a shared address: the unit not decided
        shared.candidates = ["U1", "U2"]
        s.add(shared)
        assert review_after(6)
    engine.dispose()


def test_a_months_states_are_its_reports_states_without_reading_their_json() -> None:
    """`period_states` (a fiscal year's statuses) finds each unit's state and review flag as `period_reports` does:
    parts after the moment left out, a unit with nothing, a unit whose message waits for a person."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as s:
        for part in (_part(1, has_c01=True, c01_rows=2), _part(2, has_c02=True, c02_total=2), _part(50, nil_statement=True)):
            s.add(part)
        other = _part(3, nil_statement=True)
        other.unit_code = "U2"
        s.add(other)
        s.add(_message(4, Outcome.NEEDS_REVIEW, unit_code="U2"))
        s.flush()
        for hours in (0, 1, 2, 10, 60):
            as_of = START + timedelta(hours=hours)
            reports = period_reports(s, "2026-11", as_of, ["U1", "U2", "U3"])
            states = period_states(s, "2026-11", as_of, ["U1", "U2", "U3"])
            assert states == {code: (r.state, r.needs_review) for code, r in reports.items()}, hours
        assert states["U2"][1] and not states["U1"][1] and states["U1"][0].kind == "complaints"
    engine.dispose()
