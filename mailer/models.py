"""The outbox: every outgoing message is a row, written in the same transaction as its cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

# Text and JSON columns quote what messages said, made storable as they are bound (db/storable.py).
from db.engine import StorableJSON as JSON, StorableString as String, StorableText as Text, UTCDateTime
from db.orm import Base


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Writing the same key twice is a no-op: a job that runs again, or a re-processed message, sends nothing new.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # receipt | reminder | overdue | digest | alert
    unit_code: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    primary_to: Mapped[str] = mapped_column(String(320), default="")  # for per-sender rate limits
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255))
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # empty until composed, for a row queued as `payload`
    # A receipt's data: rendered into `raw` (and `subject`) by the sender, so intake does not pay for rendering.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender that claimed it (a worker's `host:pid:nonce`): a claim of a process that is gone is taken over
    # at once, not after `claimed_until`.
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_kind_created", "kind", "created_at"),
        # The hourly limit per recipient and kind, asked for every message queued. With (primary_to, created_at)
        # SQLite chose (kind, created_at) and counted every receipt of the hour: O(backlog) per message.
        Index("ix_outbox_recipient_kind", "primary_to", "kind", "created_at"),
        # The hourly limit on all automatic mail counts rows by creation time for every message queued.
        Index("ix_outbox_created", "created_at"),
    )


class ContactStatus(Base):
    """What bounces say about an address: a permanent failure makes it unreachable."""

    __tablename__ = "contact_status"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    last_status: Mapped[str] = mapped_column(String(32), default="")
    last_reason: Mapped[str] = mapped_column(Text, default="")
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestSnapshot(Base):
    """Unit statuses as the last digest showed them, so the next one can say what changed."""

    __tablename__ = "digest_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    statuses: Mapped[dict[str, str]] = mapped_column(JSON)
