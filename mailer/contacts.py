"""What bounces taught us about addresses: permanent failures make a contact unreachable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.models import ContactStatus, OutboxMessage


def record_bounce(session: Session, address: str, status: str, permanent: bool, reason: str, now: datetime) -> None:
    row = session.get(ContactStatus, address)
    if row is None:
        row = ContactStatus(address=address, unreachable=False, last_status="", last_reason="", bounces=0,
                            updated_at=now)
        session.add(row)
    row.bounces += 1
    row.last_status, row.last_reason, row.updated_at = status, reason[:500], now
    row.unreachable = row.unreachable or permanent


def bounced_message_was_ours(session: Session, message_id: str, address: str) -> bool:
    """A bounce counts only for a message the bot sent to that address (forged bounces change nothing)."""
    if not message_id:
        return False
    for recipients in session.scalars(select(OutboxMessage.recipients).where(OutboxMessage.message_id == message_id)):
        if address.lower() in (r.lower() for r in recipients):
            return True
    return False


def clear_unreachable(session: Session, addresses: list[str], reason: str, now: datetime) -> None:
    """The address works again: mail came from it. (An SMTP server accepting our next message proves
    nothing: bounces come later, so a send never clears the flag.)"""
    for address in addresses:
        row = session.get(ContactStatus, address.lower())
        if row is not None and row.unreachable:
            row.unreachable, row.last_reason, row.updated_at = False, reason[:500], now


def unreachable(session: Session) -> list[ContactStatus]:
    return list(session.scalars(select(ContactStatus).where(ContactStatus.unreachable.is_(True))
                                .order_by(ContactStatus.address)))
