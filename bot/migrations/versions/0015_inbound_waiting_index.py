"""inbound messages: the few waiting for a person indexed by period

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:00:00

A receipt asks whether its unit has a message of the month waiting for a person (needs review, or
quarantined). Until PostgreSQL has statistics (a new database in its first backlog) it answered that through
(unit_code, period) and read every message of the unit's month: one unit's 1,500 corrections read 3,000
rows for every message. A partial index holds only the waiting messages, a handful, whatever the backlog.
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

WAITING = sa.text("outcome = 'needs_review' OR outcome = 'quarantined'")


def upgrade() -> None:
    op.create_index('ix_inbound_waiting', 'inbound_messages', ['period'], unique=False,
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    op.drop_index('ix_inbound_waiting', table_name='inbound_messages')
