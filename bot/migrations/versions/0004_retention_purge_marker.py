"""retention purge marker

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:55:07.663908
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('purged_at')


