"""Tables owned by intake: every inbound message (with its original bytes), submissions and case rows."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config.db import Base, UTCDateTime


class Outcome(StrEnum):
    """What became of a stored message (the `outcome` column)."""

    REPORT = "report"  # a part of a unit's report, stored as a submission
    NO_REPORT = "no_report"  # from a unit, but no report in it (a question, "will send tomorrow")
    SET_ASIDE = "set_aside"  # never answered: robots, lists, our own mail, unknown senders
    NEEDS_REVIEW = "needs_review"  # a person must decide (shared address, unverified sender, scans, …)
    QUARANTINED = "quarantined"  # it broke the pipeline (or the worker, twice); kept with the error
    COMMAND = "command"  # a secretariat request by mail: the digest, or reply words from STAFF_EMAILS
    DISMISSED = "dismissed"  # a person decided it is not a report


# The reason's prefix of a command mail that may not command, stored set aside (the digest lists them).
REFUSED = "command refused"


class InboundMessage(Base):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(255))  # e.g. "imap:saraban@mail.example.go.th:993/INBOX" or "maildir"
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[str | None] = mapped_column(String(255))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_addr: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[str] = mapped_column(String(20))  # an Outcome
    reason: Mapped[str] = mapped_column(Text, default="")
    unit_code: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7))
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # After the retention period the original bytes are dropped; sha256 stays as the evidence of what was.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Scanned memos wait for the OCR queue (off the intake path); the receipt is sent once they are read.
    scans_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (
        Index("ix_inbound_source_uid", "source", "uidvalidity", "uid"),
        Index("ix_inbound_unit_period", "unit_code", "period"),
        Index("ix_inbound_outcome", "outcome"),
        Index("ix_inbound_scans_pending", "scans_pending"),
    )


class ProcessingAttempt(Base):
    """A message being processed, written (and committed) before its parsers run and deleted with its
    result: a row that outlives its worker means the message crashed it; the second time, it is
    quarantined unread instead of stopping intake for ever."""

    __tablename__ = "processing_attempts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Submission(Base):
    """One message's contribution to a unit's report for a period; every version is kept."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    unit_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default="email")  # email | paper
    period_rule: Mapped[str] = mapped_column(String(32), default="")
    has_c01: Mapped[bool] = mapped_column(Boolean, default=False)
    c01_rows: Mapped[int] = mapped_column(Integer, default=0)
    has_c02: Mapped[bool] = mapped_column(Boolean, default=False)
    c02_total: Mapped[int] = mapped_column(Integer, default=0)
    nil_statement: Mapped[bool] = mapped_column(Boolean, default=False)
    c01_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    c02_counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The unit's fold state for the period after this submission (in arrival order): a cache that lets the
    # next one be folded in at once; rebuilt whenever a submission arrives out of order or is replaced.
    fold_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    rows: Mapped[list[CaseRecord]] = relationship(back_populates="submission", cascade="all, delete-orphan")

    # A unit-month's newest submission is asked for every message (intake.state.fold_in): ordered in the index,
    # it is one entry, not every correction of the month sorted.
    __table_args__ = (Index("ix_submissions_unit_period_order", "unit_code", "period", "arrived_at", "id"),)


class CaseRecord(Base):
    """One Complaint_01 row. `complainant` is personal data: never logged, masked in digests."""

    __tablename__ = "case_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    seq: Mapped[str] = mapped_column(String(32), default="")
    received: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text, default="")
    complainant: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(String(16))
    completed: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="rows")


class Exemption(Base):
    """A unit excused from a period's report by the secretariat."""

    __tablename__ = "exemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("uq_exemptions_unit_period", "unit_code", "period", unique=True),)


class Action(Base):
    """Every secretariat action (exempt, record, resolve, dismiss, reprocess): who, when, why."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7))
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What undoing it needs (the submission it created, the outcome it replaced); None: it cannot be undone.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_actions_period", "period"),)


class ReviewAlert(Base):
    """A review alert mailed to the staff: which messages it listed, so a reply to it (by its signed
    Message-ID) knows what "HPC05" or "ไม่ใช่รายงาน" is about."""

    __tablename__ = "review_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    inbound_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MailboxLease(Base):
    """Only one fetcher per mailbox at a time: a worker holds the lease while it polls."""

    __tablename__ = "mailbox_leases"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
