"""Mail written by software other than ours (tests/clients): a real client's messages, the standard library's
generator under each policy, and hand-copied header shapes of common clients, each through the real pipeline
with its stated outcome; a property test over display names and addresses."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.app import App
from bot.storing import process_one
from intake.message import parse_message
from intake.pipeline import Fetched
from scoring.periods import Period
from tests.clients import ADDRESS, LONG_NAMES, NOV_ARRIVAL, neomutt, nil_expected, shapes, stdlib
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


# --- Property: any display name, any registered address, every generator -----------------------------------------

THAI = "".join(chr(c) for c in range(0x0E01, 0x0E3B)) + "".join(chr(c) for c in range(0x0E40, 0x0E5C))
NAME_CHARS = THAI + "abcxyzABCXYZ0129 ,\"'().;:<>\\-_/&"  # no "@": a name holding an address is held on purpose
names = st.text(alphabet=NAME_CHARS, max_size=120)
atoms = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_+-", min_size=1, max_size=12)
local_parts = st.lists(atoms, min_size=1, max_size=3).map(".".join)
domains = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10),
                   min_size=2, max_size=4).map(".".join)
GENERATORS = [(p, n) for p in stdlib.POLICIES for n in stdlib.LINE_LENGTHS]


@settings(max_examples=400, deadline=None)
@given(name=names, local=local_parts, domain=domains, generator=st.sampled_from(GENERATORS))
def test_any_display_name_yields_exactly_the_address(name: str, local: str, domain: str,
                                                     generator: tuple[str, int]) -> None:
    address = f"{local}@{domain}"
    parsed = parse_message(stdlib.nil_message(name, address, *generator))
    assert (parsed.from_addr, parsed.sender_problem) == (address, None)
    assert parsed.from_name == " ".join(name.split()) or not name.strip()


# Registered addresses of several shapes (dots, plus, hyphen, digits, a subdomain); each its own unit.
PROPERTY_UNITS = {"PRP01": "saraban.hpc01@anamai.example.go.th", "PRP02": "hpc-02+report@anamai.example.go.th",
                  "PRP03": "s.k.2569@mail.hpc3.anamai.example.go.th", "PRP04": "a@b.example.go.th"}


_APPS: dict[Path, App] = {}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, unit=st.sampled_from(sorted(PROPERTY_UNITS)), generator=st.sampled_from(GENERATORS),
       upper=st.booleans())
def test_a_nil_statement_from_any_display_name_counts_for_its_unit(
        name: str, unit: str, generator: tuple[str, int], upper: bool, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if tmp_path not in _APPS:  # one app for all examples (hypothesis calls the test body many times)
        (tmp_path / "units.csv").write_text("code,name,senders,contacts,active\n" + "".join(
            f"{code},หน่วยงาน {code},{address},,yes\n" for code, address in PROPERTY_UNITS.items()), encoding="utf-8")
        _APPS.clear()
        _APPS[tmp_path] = make_app(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    app = _APPS[tmp_path]
    address = PROPERTY_UNITS[unit]
    written = address.upper() if upper else address  # clients keep the case the clerk typed
    raw = stdlib.nil_message(name, written, *generator, message_id=f"<{uuid.uuid4()}@anamai.example.go.th>")
    result = process_one(app, Fetched(raw=raw, arrived_at=NOV_ARRIVAL))
    assert result is not None and result.outcome == "report", result and result.reason
    assert result.unit is not None and result.unit.code == unit and result.period == Period(2026, 11)
    assert result.report is not None and result.report.state.kind == "nil"
