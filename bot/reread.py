"""Secretariat decisions that re-read a stored message: resolve (a person names unit/period), reprocess."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import App
from bot.answer import receipt_for
from config.units import Unit
from intake.decisions import get_message, log_action
from intake.models import Action
from intake.context import Fetched, IngestResult
from intake.pipeline import Overrides, ingest
from mailer.receipts import enqueue_receipt
from scoring.periods import Period


def reread(app: App, inbound_id: int, kind: str, actor: str, reason: str,
           unit: Unit | None = None, period: Period | None = None) -> IngestResult:
    """Read a stored message again (with a person's decision, if any) and answer the sender anew."""
    with app.sessions.begin() as s:
        result, _ = reread_in(app, s, inbound_id, kind, actor, reason, unit, period, datetime.now(UTC))
    return result


def reread_in(app: App, s: Session, inbound_id: int, kind: str, actor: str, reason: str, unit: Unit | None,
              period: Period | None, now: datetime) -> tuple[IngestResult, Action]:
    """`reread` inside the caller's transaction (a staff member's mail runs several in one); the logged action."""
    msg = get_message(s, inbound_id)
    before = {"outcome": str(msg.outcome), "unit": msg.unit_code, "period": msg.period}
    fetched = Fetched(raw=msg.raw, arrived_at=msg.arrived_at, source=msg.source, uidvalidity=msg.uidvalidity,
                      uid=msg.uid)
    result = ingest(s, fetched, app.intake, existing=msg, overrides=Overrides(unit, period))
    earlier = s.scalar(select(func.count()).select_from(Action).where(Action.inbound_id == inbound_id)) or 0
    # A resolve is undone by reading the message again without the decision; a reprocess has nothing to undo.
    action = log_action(s, kind, actor, reason, now, unit=result.unit.code if result.unit else None,
                        period=str(result.period) if result.period else None, inbound_id=inbound_id,
                        details=before if kind == "resolve" else None)
    info = receipt_for(app, result)
    if info is not None:
        enqueue_receipt(s, replace(info, key=f"{info.key}:{kind}{earlier + 1}"), app.mail, now)
    return result, action
