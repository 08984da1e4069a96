"""inbound messages: a partial index of those that held no usable report

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:05:00

A unit whose report is incomplete is told in every receipt which of the month's messages held no usable report
(a file that could not be read, a message a person must look at). That question went through (unit_code,
period) and read every message of the unit's month to find the few: linear in the unit's messages, for every
message of a backlog of its corrections. The index holds only those few; the query says its predicate in the
same words (intake/tables.py NO_USABLE_REPORT_SQL), as the waiting messages' does (migration 0015).
"""
from alembic import op
from sqlalchemy import text

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

NO_USABLE_REPORT = text("outcome = 'no_report' OR outcome = 'needs_review'")


def upgrade() -> None:
    op.create_index('ix_inbound_no_usable_report', 'inbound_messages', ['unit_code', 'period'], unique=False,
                    postgresql_where=NO_USABLE_REPORT, sqlite_where=NO_USABLE_REPORT)


def downgrade() -> None:
    op.drop_index('ix_inbound_no_usable_report', table_name='inbound_messages')
