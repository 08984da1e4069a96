"""What bounces taught us about addresses: permanent failures make a contact unreachable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.models import ContactStatus, OutboxMessage


_FLAGGED = "complaint_bot.contacts.unreachable"  # session.info: the addresses flagged, read once per transaction


def _flagged(session: Session) -> set[str]:
    """The addresses marked unreachable (a handful, usually none), read once per session: clearing is asked
    for every unit message, and a lookup each cost more than the rest of that step. A flag set by another
    worker meanwhile is cleared by that address's next message."""
    flagged = session.info.get(_FLAGGED)
    if flagged is None:
        flagged = session.info[_FLAGGED] = set(session.scalars(
            select(ContactStatus.address).where(ContactStatus.unreachable.is_(True))))
    return flagged  # type: ignore[no-any-return]


def record_bounce(session: Session, address: str, status: str, permanent: bool, reason: str, now: datetime) -> None:
    row = session.get(ContactStatus, address)
    if row is None:
        row = ContactStatus(address=address, unreachable=False, last_status="", last_reason="", bounces=0,
                            updated_at=now)
        session.add(row)
    row.bounces += 1
    row.last_status, row.last_reason, row.updated_at = status, reason[:500], now
    row.unreachable = row.unreachable or permanent
    if row.unreachable and _FLAGGED in session.info:
        session.info[_FLAGGED].add(address)


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
    flagged = _flagged(session)
    for address in addresses:
        if address.lower() not in flagged:
            continue
        row = session.get(ContactStatus, address.lower())
        if row is not None and row.unreachable:
            row.unreachable, row.last_reason, row.updated_at = False, reason[:500], now
        flagged.discard(address.lower())


def unreachable(session: Session) -> list[ContactStatus]:
    return list(session.scalars(select(ContactStatus).where(ContactStatus.unreachable.is_(True))
                                .order_by(ContactStatus.address)))
