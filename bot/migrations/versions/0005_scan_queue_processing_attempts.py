"""scan queue marker and processing attempts (poisoned messages)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processing_attempts',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_processing_attempts'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scans_pending', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index('ix_inbound_scans_pending', ['scans_pending'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_scans_pending')
        batch_op.drop_column('scans_pending')
    op.drop_table('processing_attempts')
