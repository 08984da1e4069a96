"""The retention purge (PDPA): after RETENTION_MONTHS, personal data goes; counts and hashes stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.privacy import mask_text
from intake.models import CaseRecord, InboundMessage, Submission


@dataclass
class PurgeReport:
    messages: int = 0
    cases: int = 0


def purge(session: Session, before_period: str, now: datetime, dry_run: bool = False) -> PurgeReport:
    """For periods before `before_period` (YYYY-MM): drop original message bytes (their SHA-256 stays,
    as in the evidence manifest), blank complainants' names and mask numbers in case text."""
    report = PurgeReport()
    old_msgs = (InboundMessage.purged_at.is_(None)) & (
        (InboundMessage.period < before_period)
        | (InboundMessage.period.is_(None) & (InboundMessage.arrived_at < _first_instant(before_period, now))))
    # Cases of submissions not purged yet (e-mailed ones until their message is purged; paper ones each
    # time, masking is idempotent): names can stand in any free-text column, not only `complainant`.
    purged = select(InboundMessage.id).where(InboundMessage.purged_at.is_not(None))
    old_subs = select(Submission.id).where(Submission.period < before_period,
                                           Submission.inbound_id.is_(None) | Submission.inbound_id.not_in(purged))
    for case in session.scalars(select(CaseRecord).where(CaseRecord.submission_id.in_(old_subs))):
        report.cases += 1
        if not dry_run:
            case.complainant = ""
            case.subject, case.action = mask_text(case.subject), mask_text(case.action)
            case.note, case.channel = mask_text(case.note), mask_text(case.channel)
    messages = list(session.scalars(select(InboundMessage).where(old_msgs)))
    report.messages = len(messages)
    if not dry_run:
        for msg in messages:
            msg.raw, msg.purged_at, msg.subject = b"", now, mask_text(msg.subject)
    return report


def _first_instant(period: str, like: datetime) -> datetime:
    year, month = (int(x) for x in period.split("-"))
    return datetime(year, month, 1, tzinfo=like.tzinfo)
