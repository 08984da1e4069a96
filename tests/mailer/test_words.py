"""One catalogue of words (mailer/words.py): every code a person may meet has its Thai words, and the packages that
decide (scoring) or read (intake) hold no words for a person."""

from __future__ import annotations

import re

from intake.reply_words import Verb
from intake.tables import Outcome
from mailer import words
from scoring.status import CATEGORIES, Status
from tests.mailer.test_problem_text import _codes_intake_emits
from tests.paths import ROOT

THAI = re.compile("[\u0e00-\u0e7f]")


def _all_thai(values: object) -> bool:
    items = values.values() if isinstance(values, dict) else values
    return all(isinstance(v, str) and THAI.search(v) for v in items)  # type: ignore[union-attr]


def test_every_status_kind_outcome_category_and_action_has_words() -> None:
    assert set(words.STATUS_THAI) == {s.value for s in Status} | {"pending"}
    assert set(words.KIND_THAI) == set(words.KIND_SHORT) == {"complaints", "nil"}
    assert set(words.OUTCOME_THAI) == {o.value for o in Outcome}
    assert set(words.CATEGORY_THAI) == set(CATEGORIES)
    assert {v.value for v in Verb} <= set(words.ACTION_THAI)
    for table in (words.STATUS_THAI, words.KIND_THAI, words.KIND_SHORT, words.OUTCOME_THAI, words.CATEGORY_THAI,
                  words.ACTION_THAI, words.PERIOD_RULE_THAI, words.RESULT_THAI, words.LINE_ERRORS):
        assert _all_thai(table), table


def test_every_problem_code_and_period_rule_has_words() -> None:
    assert sorted(_codes_intake_emits() - set(words.CATALOGUE)) == []
    rules = set(re.findall(r'"(form|text|reply|arrival[a-z_]*)"', (ROOT / "intake" / "period_rule.py").read_text()))
    assert rules and sorted(rules - set(words.PERIOD_RULE_THAI)) == []


def test_scoring_holds_rules_only() -> None:
    """Scoring decides; its only Thai is the calendar it parses and dates with (month names, the Buddhist Era)."""
    for path in (ROOT / "scoring").glob("*.py"):
        if path.name != "periods.py":
            assert not THAI.search(path.read_text(encoding="utf-8")), path
