"""The golden corpus: each tests/data/NAME.eml read as its NAME.expected.json says (see tests/corpus.py)."""

from __future__ import annotations

import json

import pytest

from tests.golden import check_golden
from tests.paths import DATA

CASES = sorted(p.name[: -len(".eml")] for p in DATA.glob("*.eml"))


def test_corpus_is_present() -> None:
    assert len(CASES) >= 35
    for name in CASES:
        assert (DATA / f"{name}.expected.json").exists(), name


# A scanned memo is read by Tesseract (seconds each): those cases are in the slow tier.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("scanned_") else n
                                  for n in CASES])
def test_golden_message(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))
    check_golden(make_app(db_url), (DATA / f"{name}.eml").read_bytes(), expected)


