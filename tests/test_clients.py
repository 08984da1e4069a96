"""Mail written by software other than ours (tests/clients): a real client's messages, the standard library's
generator under each policy, and hand-copied header shapes of common clients, each through the real pipeline
with its stated outcome; a property test over display names and addresses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clients import ADDRESS, LONG_NAMES, neomutt, nil_expected, shapes, stdlib
from tests.golden import check_golden

NEOMUTT = sorted(p.name[: -len(".eml")] for p in neomutt.FOLDER.glob("*.eml"))


def test_neomutt_corpus_is_complete() -> None:
    assert sorted(neomutt.MESSAGES) == NEOMUTT


@pytest.mark.parametrize("name", NEOMUTT)
def test_neomutt_message(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """As NeoMutt wrote it (committed): a From folded before the address, split encoded words, Thai filenames."""
    expected = json.loads((neomutt.FOLDER / f"{name}.expected.json").read_text(encoding="utf-8"))
    check_golden(make_app(db_url), (neomutt.FOLDER / f"{name}.eml").read_bytes(), expected)


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_client_header_shape(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Header blocks as Outlook, Thunderbird, Gmail, Apple Mail and Thai webmail write them."""
    build, expected = shapes.SHAPES[name]
    check_golden(make_app(db_url), build(), expected)


@pytest.mark.parametrize("line_length", stdlib.LINE_LENGTHS)
@pytest.mark.parametrize("policy", stdlib.POLICIES)
@pytest.mark.parametrize("unit", sorted(set(LONG_NAMES) - {"DIV02"}))
def test_stdlib_generator(unit: str, policy: str, line_length: int, make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """The standard library's generator under each policy and line length, with each unit's long name."""
    raw = stdlib.nil_message(LONG_NAMES[unit], ADDRESS[unit], policy, line_length)
    check_golden(make_app(sqlite_only_url), raw, nil_expected(unit))
