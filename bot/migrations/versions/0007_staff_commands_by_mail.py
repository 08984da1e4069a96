"""staff commands by mail: undo details on actions, review alerts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'review_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('inbound_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id', name=op.f('uq_review_alerts_message_id')),
    )


def downgrade() -> None:
    op.drop_table('review_alerts')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('undone_at')
        batch_op.drop_column('details')
