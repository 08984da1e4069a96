"""What a stored message's sender is told: the receipt's data decided from the result (`receipt_for`) and queued
in the caller's transaction (`queue_receipt`). Below bot/storing.py, so that re-reading a message (bot/reread.py)
answers the same way without reaching back up to storing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.app import App
from intake.models import Outcome
from intake.context import IngestResult
from mailer.receipts import ReceiptInfo, enqueue_receipt
from scoring.status import unit_status


def receipt_for(app: App, result: IngestResult) -> ReceiptInfo | None:
    """What to tell the sender, or None when this message must not be answered."""
    if not result.reply_to or result.outcome == Outcome.COMMAND:
        return None
    situation = {"report": "report", "no_report": "no_report", "needs_review": "needs_review",
                 "quarantined": "quarantined"}.get(result.outcome, "unknown_sender")
    period = result.period
    reference = f"{period.tag if period else 'CR'}-{result.inbound_id:06d}"
    status = report_kind = completed = None
    due = app.deadline(period) if period else None
    if result.report is not None and due is not None:
        status = unit_status(result.report.state, due, result.arrived_at).value
        report_kind, completed = result.report.state.kind, result.report.state.completed_at
    shown = list(result.problems)
    if result.report is not None:
        known = {p.identity for p in shown}
        shown += [p for p in result.report.problems if p.identity not in known]
    problems = [(p.severity, p.code, app.problem_params(p)) for p in shown]
    return ReceiptInfo(
        key=f"receipt:{result.inbound_id}", situation=situation, reference=reference, to=result.reply_to,
        arrived_at=result.arrived_at, unit_code=result.unit.code if result.unit else None,
        unit_name=result.unit.name if result.unit else None, period=period, period_rule=result.period_rule,
        deadline=due, status=status, report_kind=report_kind, completed_at=completed,
        files=[(f.filename, f.kind, f.detail, f.params) for f in result.files],
        counts=dict(result.report.counts) if result.report else {}, problems=problems,
        original_message_id=result.original_message_id, original_subject=result.original_subject,
    )


def queue_receipt(app: App, session: Session, result: IngestResult, now: datetime) -> None:
    """The receipt for this result, queued in the caller's transaction (unless it must not be answered)."""
    info = receipt_for(app, result)
    if info is not None:
        enqueue_receipt(session, info, app.mail, now)  # rate-limited per sender in the outbox
