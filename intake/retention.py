"""The retention purge (PDPA): after RETENTION_MONTHS, personal data goes; counts and hashes stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.privacy import mask_text
from intake.forms import CaseRow
from intake.models import CaseSheet, InboundMessage, Submission
from intake.sheets import sheet_rows, sheet_text


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
    for sheet in session.scalars(select(CaseSheet).where(CaseSheet.submission_id.in_(old_subs))):
        rows = sheet_rows(sheet.rows)
        report.cases += len(rows)
        masked = [_masked(case) for case in rows]
        if not dry_run and masked != rows:  # masking is idempotent: a sheet masked already is not written again
            sheet.rows = sheet_text(masked)
    messages = list(session.scalars(select(InboundMessage).where(old_msgs)))
    report.messages = len(messages)
    if not dry_run:
        for msg in messages:
            msg.raw, msg.purged_at, msg.subject = b"", now, mask_text(msg.subject)
    return report


def _first_instant(period: str, like: datetime) -> datetime:
    year, month = (int(x) for x in period.split("-"))
    return datetime(year, month, 1, tzinfo=like.tzinfo)


def _masked(case: CaseRow) -> CaseRow:
    """A case without its complainant's name, and numbers masked in its free text (a name can stand there too)."""
    return case._replace(complainant="", subject=mask_text(case.subject), action=mask_text(case.action),
                         note=mask_text(case.note), channel=mask_text(case.channel))
