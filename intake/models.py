"""Intake's mapped classes (the ORM), on its tables (intake/tables.py): every inbound message (with its original
bytes), submissions and case rows, and the secretariat's records. The attributes are typed here for the code
that works with objects; the columns, their defaults and indexes are the tables' (but two partial indexes, below)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped, relationship

from db.orm import Base
from intake import tables
from intake.tables import NO_USABLE_REPORT_SQL, WAITING_SQL, Outcome

__all__ = ["Action", "CaseSheet", "Exemption", "InboundMessage", "MailboxLease", "Outcome",
           "ProcessingAttempt", "ReviewAlert", "Submission"]


# inbound_messages' partial indexes, declared with the models rather than with the table: SQLAlchemy checks an
# index's postgresql_where and sqlite_where by importing both dialects' packages, 40-50 ms that every command paid
# at start-up, `status` included, which reads through the tables alone. What creates or compares the schema
# (bot.schema.metadata: the migrations' target, `alembic check`) has the models.
# The few messages waiting for a person (see state._WAITING), whatever the statistics say (migration 0015).
Index("ix_inbound_waiting", tables.inbound_messages.c.period,
      postgresql_where=text(WAITING_SQL), sqlite_where=text(WAITING_SQL))
# The few that held no usable report, for the receipts of a unit whose report is incomplete (migration 0018).
Index("ix_inbound_no_usable_report", tables.inbound_messages.c.unit_code, tables.inbound_messages.c.period,
      postgresql_where=text(NO_USABLE_REPORT_SQL), sqlite_where=text(NO_USABLE_REPORT_SQL))


class InboundMessage(Base):
    __table__ = tables.inbound_messages

    id: Mapped[int]
    sha256: Mapped[str]
    source: Mapped[str]
    uidvalidity: Mapped[int | None]
    uid: Mapped[str | None]
    arrived_at: Mapped[datetime]
    processed_at: Mapped[datetime]
    from_addr: Mapped[str]
    subject: Mapped[str]
    message_id: Mapped[str]
    size: Mapped[int]
    raw: Mapped[bytes]
    outcome: Mapped[str]  # an Outcome
    reason: Mapped[str]
    unit_code: Mapped[str | None]
    period: Mapped[str | None]
    candidates: Mapped[list[str]]
    problems: Mapped[list[dict[str, Any]]]
    purged_at: Mapped[datetime | None]
    scans_pending: Mapped[bool]


class ProcessingAttempt(Base):
    """A message being processed (see intake/tables.py): a row that outlives its worker means it crashed it."""

    __table__ = tables.processing_attempts

    sha256: Mapped[str]
    attempts: Mapped[int]
    last_error: Mapped[str]
    updated_at: Mapped[datetime]
    holder: Mapped[str | None]
    kills: Mapped[int]


class Submission(Base):
    """One message's contribution to a unit's report for a period; every version is kept."""

    __table__ = tables.submissions

    id: Mapped[int]
    inbound_id: Mapped[int | None]
    unit_code: Mapped[str]
    period: Mapped[str]
    arrived_at: Mapped[datetime]
    channel: Mapped[str]  # email | paper
    period_rule: Mapped[str]
    has_c01: Mapped[bool]
    c01_rows: Mapped[int]
    has_c02: Mapped[bool]
    c02_total: Mapped[int]
    nil_statement: Mapped[bool]
    c01_counts: Mapped[dict[str, int]]
    c02_counts: Mapped[dict[str, dict[str, int]]]
    files: Mapped[list[dict[str, Any]]]
    problems: Mapped[list[dict[str, Any]]]
    fold_state: Mapped[dict[str, Any] | None]

    # Its case sheet goes with it: the database's ON DELETE CASCADE, not a load by the ORM first.
    sheet: Mapped[CaseSheet | None] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                  passive_deletes=True)


class CaseSheet(Base):
    """A submission's Complaint_01 rows, one document (intake/sheets.py: `sheet_rows` reads it). `complainant` is
    personal data: never logged, masked in digests."""

    __table__ = tables.case_sheets

    submission_id: Mapped[int]
    rows: Mapped[str]

    submission: Mapped[Submission] = relationship(back_populates="sheet")


class Exemption(Base):
    """A unit excused from a period's report by the secretariat."""

    __table__ = tables.exemptions

    id: Mapped[int]
    unit_code: Mapped[str]
    period: Mapped[str]
    reason: Mapped[str]
    actor: Mapped[str]
    created_at: Mapped[datetime]


class Action(Base):
    """Every secretariat action (exempt, record, resolve, dismiss, reprocess): who, when, why."""

    __table__ = tables.actions

    id: Mapped[int]
    kind: Mapped[str]
    unit_code: Mapped[str | None]
    period: Mapped[str | None]
    inbound_id: Mapped[int | None]
    actor: Mapped[str]
    reason: Mapped[str]
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any] | None]  # what undoing it needs; None: it cannot be undone
    undone_at: Mapped[datetime | None]


class ReviewAlert(Base):
    """A review alert mailed to the staff: which messages it listed (see intake/tables.py)."""

    __table__ = tables.review_alerts

    id: Mapped[int]
    message_id: Mapped[str]
    inbound_ids: Mapped[list[int]]
    created_at: Mapped[datetime]


class MailboxLease(Base):
    """Only one fetcher per mailbox at a time: a worker holds the lease while it polls."""

    __table__ = tables.mailbox_leases

    source: Mapped[str]
    holder: Mapped[str]
    expires_at: Mapped[datetime]
