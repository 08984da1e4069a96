"""One message through the real pipeline, checked against its expected reading (the golden format: see
tests/corpus.py for the fields). Used by the golden corpus and by the corpus of mail written by other software."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.reporting import status_report
from bot.service import read_pending_scans
from bot.answer import receipt_for
from bot.storing import process_one
from intake.models import InboundMessage, Submission
from intake.context import Fetched
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests import servers
from tests.conftest import compose_queued_receipts


def check_golden(app: App, raw: bytes, expected: dict[str, Any]) -> None:
    """Process `raw` as arrived at `expected["arrived_at"]` and assert every field `expected` states.
    `sender`, where given, is the address the receipt must go to (as written in the From header)."""
    expected = dict(expected)
    if expected["needs_ocr"] and not servers.ensure_ocr():
        if servers.IN_CI:
            pytest.fail("Tesseract with Thai is required under CI=true")
        # Without OCR a scan is never passed silently: a person must read it.
        expected.update(outcome="needs_review", reply="needs_review", period_rule="arrival", nil=False)
    arrived = datetime.fromisoformat(expected["arrived_at"])
    result = process_one(app, Fetched(raw=raw, arrived_at=arrived))
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
    if "sender" in expected:
        assert sub_sender(app, result.inbound_id) == expected["sender"]
        if expected["reply"]:
            assert outbox[0].recipients == [expected["sender"]]
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
    raw_receipt = outbox[0].raw.decode("utf-8", "replace")
    assert "Auto-Submitted: auto-replied" in raw_receipt and f"[{Period.parse(expected['period']).tag}]" in outbox[0].subject


def receipt_outbox(app: App) -> list[OutboxMessage]:
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage)))


def sub_sender(app: App, inbound_id: int) -> str:
    with app.sessions() as s:
        row = s.get(InboundMessage, inbound_id)
        assert row is not None
        return row.from_addr
