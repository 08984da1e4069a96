"""processing attempts: which worker made the attempt, and how often a worker died in it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:15:00

A marker left by a worker that is gone (SIGKILL, OOM, a power cut) no longer counts as the message's fault:
it counts as a death (`kills`), which quarantines the message only after MAX_KILLS, while a failure the
worker lived to see counts as before (`attempts`).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('processing_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('kills', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('processing_attempts', schema=None) as batch_op:
        batch_op.drop_column('kills')
        batch_op.drop_column('holder')
