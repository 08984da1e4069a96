"""Secretariat decisions that re-read a stored message: resolve (a person names unit/period), reprocess."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.app import App
from bot.service import receipt_for
from config.units import Unit
from intake.admin import get_message, log_action
from intake.models import Action
from intake.pipeline import Fetched, IngestResult, Overrides, ingest
from mailer.receipts import enqueue_receipt
from scoring.periods import Period


def reread(app: App, inbound_id: int, kind: str, actor: str, reason: str,
           unit: Unit | None = None, period: Period | None = None) -> IngestResult:
    """Read a stored message again (with a person's decision, if any) and answer the sender anew."""
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        msg = get_message(s, inbound_id)
        fetched = Fetched(raw=msg.raw, arrived_at=msg.arrived_at, source=msg.source, uidvalidity=msg.uidvalidity,
                          uid=msg.uid)
        result = ingest(s, fetched, app.intake, existing=msg, overrides=Overrides(unit, period))
        earlier = s.scalar(select(func.count()).select_from(Action).where(Action.inbound_id == inbound_id)) or 0
        log_action(s, kind, actor, reason, now, unit=result.unit.code if result.unit else None,
                   period=str(result.period) if result.period else None, inbound_id=inbound_id)
        info = receipt_for(app, result)
        if info is not None:
            enqueue_receipt(s, replace(info, key=f"{info.key}:{kind}{earlier + 1}"), app.mail, now)
    return result
