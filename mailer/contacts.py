"""What bounces taught us about addresses: permanent failures make a contact unreachable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.models import ContactStatus


def record_bounce(session: Session, address: str, status: str, permanent: bool, reason: str, now: datetime) -> None:
    row = session.get(ContactStatus, address)
    if row is None:
        row = ContactStatus(address=address, unreachable=False, last_status="", last_reason="", bounces=0,
                            updated_at=now)
        session.add(row)
    row.bounces += 1
    row.last_status, row.last_reason, row.updated_at = status, reason[:500], now
    row.unreachable = row.unreachable or permanent


def unreachable(session: Session) -> list[ContactStatus]:
    return list(session.scalars(select(ContactStatus).where(ContactStatus.unreachable.is_(True))
                                .order_by(ContactStatus.address)))
