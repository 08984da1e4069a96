"""Screening's rules, each alone, and in order (intake/screening.py); docs/journey.md names every rule and handler."""

from __future__ import annotations

import re

import pytest

from bot.handlers import AFTER_STORING
from bot.samples import make_mail
from config.msgid import make_message_id
from intake.context import Fetched, IntakeContext
from intake.message import parse_message
from intake.screening import (RULES, Early, digest_request, robots, screen, staff_reply_words, stranger, too_large,
                              unverified_sender)
from intake.tables import Outcome
from tests.conftest import DOMAIN, SECRET, SECRETARIAT, bkk
from tests.paths import ROOT

WHEN = bkk(2026, 11, 10, 10)
UNIT, CLERK = f"hpc01@{DOMAIN}", f"clerk@{DOMAIN}"


@pytest.fixture
def ctx(make_app, tmp_path) -> IntakeContext:  # type: ignore[no-untyped-def]
    return make_app(f"sqlite:///{tmp_path / 'bot.sqlite3'}", STAFF_EMAILS=CLERK, DIGEST_TO=CLERK).intake


def _mail(sender: str = UNIT, subject: str = "รายงาน", body: str = "ไม่มีข้อร้องเรียน", **kw: object) -> Fetched:
    return Fetched(raw=make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=WHEN, **kw),  # type: ignore[arg-type]
                   arrived_at=WHEN)


def _check(rule, fetched: Fetched, ctx: IntakeContext) -> Early | None:  # type: ignore[no-untyped-def]
    return rule(parse_message(fetched.raw), fetched, ctx)


def test_a_units_plain_report_passes_every_rule(ctx: IntakeContext) -> None:
    fetched = _mail()
    assert [r.name for r in RULES if r.check(parse_message(fetched.raw), fetched, ctx)] == []
    screened = screen(parse_message(fetched.raw), fetched, ctx)
    assert screened.early is None and [u.code for u in screened.candidates] == ["HPC01"]


def test_robots(ctx: IntakeContext) -> None:
    early = _check(robots, _mail(headers={"Auto-Submitted": "auto-replied"}), ctx)
    assert early is not None and early.outcome == Outcome.SET_ASIDE and early.reply_to is None
    assert _check(robots, _mail(), ctx) is None


def test_staff_reply_words(ctx: IntakeContext) -> None:
    digest_id = make_message_id(SECRET, DOMAIN, "digest", None, "2026-11", "digest:2026-11")
    reply = {"In-Reply-To": digest_id, "References": digest_id}
    refused = _check(staff_reply_words, _mail(UNIT, "Re: สรุป", "ยกเว้น HPC02 เหตุผล ปิดปรับปรุง", headers=reply), ctx)
    assert refused is not None and refused.outcome == Outcome.COMMAND_REFUSED and refused.reply_to is None
    assert "STAFF_EMAILS" in refused.reason
    # From STAFF_EMAILS, but the department's server vouches for nobody (no TRUSTED_AUTHSERV_ID): refused too.
    unsure = _check(staff_reply_words, _mail(CLERK, "Re: สรุป", "ยกเว้น HPC02 เหตุผล ปิดปรับปรุง", headers=reply), ctx)
    assert unsure is not None and unsure.outcome == Outcome.COMMAND_REFUSED and "TRUSTED_AUTHSERV_ID" in unsure.reason
    assert _check(staff_reply_words, _mail(), ctx) is None  # a unit's report is no command


def test_unverified_sender(ctx: IntakeContext) -> None:
    two = _mail().raw.replace(f"From: {UNIT}".encode(), f"From: {UNIT}, boss@{DOMAIN}".encode(), 1)
    early = _check(unverified_sender, Fetched(raw=two, arrived_at=WHEN), ctx)
    assert early is not None and early.outcome == Outcome.NEEDS_REVIEW and early.reply_to is None
    assert [p.code for p in early.problems] == ["sender_not_verified"]


def test_digest_request(ctx: IntakeContext) -> None:
    early = _check(digest_request, _mail(CLERK, "สถานะ 2569-10"), ctx)
    assert early is not None and early.command == "digest" and early.reply_to == CLERK
    assert _check(digest_request, _mail(UNIT, "สถานะ"), ctx) is None  # not a COMMAND_SENDER


def test_too_large(ctx: IntakeContext) -> None:
    small = _mail()
    big = Fetched(raw=small.raw + b"x" * ctx.max_message_bytes, arrived_at=WHEN)
    early = too_large(parse_message(small.raw), big, ctx)
    assert early is not None and early.reply_to == UNIT and [p.code for p in early.problems] == ["message_too_large"]


def test_stranger(ctx: IntakeContext) -> None:
    inside = _check(stranger, _mail(f"someone@{DOMAIN}"), ctx)
    outside = _check(stranger, _mail("someone@gmail.com"), ctx)
    assert inside is not None and inside.reply_to == f"someone@{DOMAIN}"  # a short notice inside TRUSTED_DOMAINS
    assert outside is not None and outside.reply_to is None and outside.outcome == Outcome.SET_ASIDE


def test_forced_applies_the_size_rule_only(ctx: IntakeContext) -> None:
    fetched = _mail("someone@gmail.com", headers={"Auto-Submitted": "auto-generated"})
    assert screen(parse_message(fetched.raw), fetched, ctx).rule == "robots"
    assert screen(parse_message(fetched.raw), fetched, ctx, forced=True).early is None
    assert [r.name for r in RULES if r.when_forced] == ["too_large"]


def test_journey_names_every_rule_and_handler_in_order() -> None:
    journey = (ROOT / "docs" / "journey.md").read_text(encoding="utf-8")
    for names in ([r.name for r in RULES], [h.name for h in AFTER_STORING]):
        rows = {name: re.search(rf"^\| `{name}` \|", journey, re.M) for name in names}  # a row of its table
        assert all(rows.values()), [n for n, row in rows.items() if row is None]
        places = [row.start() for row in rows.values() if row]
        assert places == sorted(places), names
