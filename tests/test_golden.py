"""The golden corpus: each tests/data/NAME.eml read as its NAME.expected.json says (see tests/corpus.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.service import read_pending_scans

from bot.storing import process_one, receipt_for
from bot.reporting import status_report
from intake.models import Submission
from intake.pipeline import Fetched
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests import servers
from tests.conftest import compose_queued_receipts

DATA = Path(__file__).parent / "data"
CASES = sorted(p.name[: -len(".eml")] for p in DATA.glob("*.eml"))


def test_corpus_is_present() -> None:
    assert len(CASES) >= 35
    for name in CASES:
        assert (DATA / f"{name}.expected.json").exists(), name


@pytest.mark.parametrize("name", CASES)
def test_golden_message(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))
    if expected["needs_ocr"] and not servers.ensure_ocr():
        if servers.IN_CI:
            pytest.fail("Tesseract with Thai is required under CI=true")
        # Without OCR a scan is never passed silently: a person must read it.
        expected.update(outcome="needs_review", reply="needs_review", period_rule="arrival", nil=False)
    app = make_app(db_url)
    arrived = datetime.fromisoformat(expected["arrived_at"])
    result = process_one(app, Fetched(raw=(DATA / f"{name}.eml").read_bytes(), arrived_at=arrived))
    assert result is not None
    if expected["needs_ocr"]:  # scans are read by the OCR queue, after the mailbox; the receipt waits for it
        assert result.scans_pending and receipt_outbox(app) == []
        [result] = read_pending_scans(app)

    assert result.outcome == expected["outcome"], result.reason
    assert (result.unit.code if result.unit else None) == expected["unit"]
    info = receipt_for(app, result)
    assert (info.situation if info else None) == expected["reply"]
    with app.sessions() as s:
        compose_queued_receipts(app)
        outbox = s.scalars(select(OutboxMessage)).all()
        subs = s.scalars(select(Submission)).all()
    assert len(outbox) == (1 if expected["reply"] else 0)
    if expected["outcome"] == "set_aside" or expected.get("held"):
        assert subs == [] and result.files == [] and result.unit is None
        return

    assert str(result.period) == expected["period"]
    assert result.period_rule == expected["period_rule"]
    codes = sorted({p.code for p in result.problems} | {p.code for p in (result.report.problems if result.report else [])})
    assert codes == expected["problems"]
    if expected["outcome"] != "report":
        assert subs == []
        return
    [sub] = subs
    assert not any(f.filename == "unnamed.bin" for f in result.files)  # never a part the sender did not attach
    assert (sub.c01_rows if sub.has_c01 else None) == expected["c01_rows"]
    assert (sub.c02_total if sub.has_c02 else None) == expected["c02_total"]
    assert sub.nil_statement == expected["nil"]
    [row] = [u for u in status_report(app, Period.parse(expected["period"]), arrived)["units"] if u["unit"] == sub.unit_code]
    assert row["status"] == expected["status"]
    assert row["kind"] == expected["kind"]
    # The receipt goes back to the sender, threaded on the original, marked as automatic.
    assert outbox[0].recipients == [sub_sender(app, result.inbound_id)]
    raw = outbox[0].raw.decode("utf-8", "replace")
    assert "Auto-Submitted: auto-replied" in raw and f"[{Period.parse(expected['period']).tag}]" in outbox[0].subject


def receipt_outbox(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage)))


def sub_sender(app, inbound_id: int) -> str:  # type: ignore[no-untyped-def]
    from intake.models import InboundMessage

    with app.sessions() as s:
        return s.get(InboundMessage, inbound_id).from_addr
