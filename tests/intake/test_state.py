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
from intake.models import Submission
from intake.state import current_report, fold_in, period_reports, refresh_fold_states

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
                period_reports(s, "2026-11", as_of, ["U1"])["U1"].state
        # A message read again (or removed): the chain is rebuilt and still agrees.
        subs = list(s.scalars(select(Submission)))
        s.delete(subs[drop % len(subs)])
        s.flush()
        refresh_fold_states(s, "U1", "2026-11")
        as_of = START + timedelta(hours=100)
        assert current_report(s, "U1", "2026-11", as_of).state == period_reports(s, "2026-11", as_of, ["U1"])["U1"].state
    engine.dispose()
