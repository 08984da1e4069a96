"""inbound messages: a refused command mail has its own outcome, `command_refused`

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:10:00

It was `set_aside` with a reason starting "command refused: "; the digest found it by that text prefix.
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PREFIX = "command refused: "


def upgrade() -> None:
    op.execute(f"UPDATE inbound_messages SET outcome = 'command_refused', reason = substr(reason, {len(PREFIX) + 1}) "
               f"WHERE outcome = 'set_aside' AND reason LIKE '{PREFIX}%'")


def downgrade() -> None:
    op.execute(f"UPDATE inbound_messages SET outcome = 'set_aside', reason = '{PREFIX}' || reason "
               "WHERE outcome = 'command_refused'")
