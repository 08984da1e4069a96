"""Intake's tables as SQLAlchemy Core tables, on the shared metadata (intake/models.py maps its ORM classes
onto them). Here, not in the mapped classes, so that reading them (a unit's status, `status --json`) needs
no ORM: importing sqlalchemy.orm alone costs a command-line start-up a third of `import sqlalchemy`."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, LargeBinary, Table

# Every text and JSON column holds what a message said, made storable as it is bound (db/storable.py).
from db.engine import StorableJSON as JSON, StorableString as String, StorableText as Text, UTCDateTime, metadata


class Outcome(StrEnum):
    """What became of a stored message (the `outcome` column)."""

    REPORT = "report"  # a part of a unit's report, stored as a submission
    NO_REPORT = "no_report"  # from a unit, but no report in it (a question, "will send tomorrow")
    SET_ASIDE = "set_aside"  # never answered: robots, lists, our own mail, unknown senders
    NEEDS_REVIEW = "needs_review"  # a person must decide (shared address, unverified sender, scans, …)
    QUARANTINED = "quarantined"  # it broke the pipeline (or the worker, twice); kept with the error
    COMMAND = "command"  # a secretariat request by mail: the digest, or reply words from STAFF_EMAILS
    DISMISSED = "dismissed"  # a person decided it is not a report
    COMMAND_REFUSED = "command_refused"  # looked like a staff command but may not command: unread, unanswered


# A message waiting for a person: needs review, or quarantined (a quarantined message waits too). Queries that
# look for them say it in these words (intake/state.py): PostgreSQL uses a partial index only where it can prove
# the query asks within it, which it cannot when the outcomes are parameters of a prepared statement.
WAITING_SQL = "outcome = 'needs_review' OR outcome = 'quarantined'"
WAITING_OUTCOMES = (Outcome.NEEDS_REVIEW, Outcome.QUARANTINED)  # the same, as values
# A message of a unit that held no usable report (a file could not be read, or a person must look): its receipt
# lists them while the unit's report is incomplete (intake/state.py failed_attempts), in these words.
NO_USABLE_REPORT_SQL = "outcome = 'no_report' OR outcome = 'needs_review'"

inbound_messages = Table(
    "inbound_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), unique=True, nullable=False),
    Column("source", String(255), nullable=False),  # e.g. "imap:saraban@mail.example.go.th:993/INBOX" or "maildir"
    Column("uidvalidity", BigInteger),
    Column("uid", String(255)),
    Column("arrived_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=False),
    Column("from_addr", String(320), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("message_id", Text, nullable=False, default=""),
    Column("size", Integer, nullable=False, default=0),
    Column("raw", LargeBinary, nullable=False),
    Column("outcome", String(20), nullable=False),  # an Outcome
    Column("reason", Text, nullable=False, default=""),
    Column("unit_code", String(32)),
    Column("period", String(7)),
    Column("candidates", JSON, nullable=False, default=list),
    Column("problems", JSON, nullable=False, default=list),
    # After the retention period the original bytes are dropped; sha256 stays as the evidence of what was.
    Column("purged_at", UTCDateTime),
    # Scanned memos wait for the OCR queue (off the intake path); the receipt is sent once they are read.
    Column("scans_pending", Boolean, nullable=False, default=False, server_default="0"),
    Index("ix_inbound_source_uid", "source", "uidvalidity", "uid"),
    Index("ix_inbound_unit_period", "unit_code", "period"),
    Index("ix_inbound_outcome", "outcome"),
    Index("ix_inbound_scans_pending", "scans_pending"),
    # Two partial indexes more, ix_inbound_waiting and ix_inbound_no_usable_report: intake/models.py declares them.
)

# A message being processed, written (and committed) before its parsers run and deleted with its result: a
# row that outlives its worker means the message crashed it; the second time, it is quarantined unread
# instead of stopping intake for ever.
processing_attempts = Table(
    "processing_attempts", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("attempts", Integer, nullable=False, default=0),  # failures the worker lived to see (and this one)
    Column("last_error", Text, nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("holder", String(255)),  # the worker (`host:pid:nonce`) making the attempt now
    Column("kills", Integer, nullable=False, server_default="0"),  # workers that died in an attempt
)

# One message's contribution to a unit's report for a period; every version is kept.
submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("inbound_id", Integer, ForeignKey("inbound_messages.id")),
    Column("unit_code", String(32), nullable=False),
    Column("period", String(7), nullable=False),
    Column("arrived_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False, default="email"),  # email | paper
    Column("period_rule", String(32), nullable=False, default=""),
    Column("has_c01", Boolean, nullable=False, default=False),
    Column("c01_rows", Integer, nullable=False, default=0),
    Column("has_c02", Boolean, nullable=False, default=False),
    Column("c02_total", Integer, nullable=False, default=0),
    Column("nil_statement", Boolean, nullable=False, default=False),
    Column("c01_counts", JSON, nullable=False, default=dict),
    Column("c02_counts", JSON, nullable=False, default=dict),
    Column("files", JSON, nullable=False, default=list),
    Column("problems", JSON, nullable=False, default=list),
    # The unit's fold state for the period after this submission (in arrival order): a cache that lets the
    # next one be folded in at once; rebuilt whenever a submission arrives out of order or is replaced.
    Column("fold_state", JSON),
    # A unit-month's newest submission is asked for every message (intake.state.fold_in): ordered in the index,
    # it is one entry, not every correction of the month sorted.
    Index("ix_submissions_unit_period_order", "unit_code", "period", "arrived_at", "id"),
    # A deleted submission's id is never given again (SQLite reuses the highest one without AUTOINCREMENT;
    # PostgreSQL's sequence never does), so nothing written for a deleted submission can become a later one's.
    sqlite_autoincrement=True,
)

# A submission's Complaint_01 rows, one JSON document (intake/sheets.py says its layout and why). `complainant`
# is personal data: never logged, masked in digests. Written with its submission, in its transaction
# (intake.store.store_submission); deleted with it by the database (ON DELETE CASCADE: one check a message).
case_sheets = Table(
    "case_sheets", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("rows", Text, nullable=False),
)

# A unit excused from a period's report by the secretariat.
exemptions = Table(
    "exemptions", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_code", String(32), nullable=False),
    Column("period", String(7), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("uq_exemptions_unit_period", "unit_code", "period", unique=True),
)

# Every secretariat action (exempt, record, resolve, dismiss, reprocess): who, when, why.
actions = Table(
    "actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("unit_code", String(32)),
    Column("period", String(7)),
    Column("inbound_id", Integer),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # What undoing it needs (the submission it created, the outcome it replaced); None: it cannot be undone.
    Column("details", JSON),
    Column("undone_at", UTCDateTime),
    Index("ix_actions_period", "period"),
)

# A review alert mailed to the staff: which messages it listed, so a reply to it (by its signed Message-ID)
# knows what "HPC05" or "ไม่ใช่รายงาน" is about.
review_alerts = Table(
    "review_alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(255), unique=True, nullable=False),
    Column("inbound_ids", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Only one fetcher per mailbox at a time: a worker holds the lease while it polls.
mailbox_leases = Table(
    "mailbox_leases", metadata,
    Column("source", String(255), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
