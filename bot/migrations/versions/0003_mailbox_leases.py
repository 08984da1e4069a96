"""mailbox leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:49:18.268700
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('mailbox_leases',
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_mailbox_leases'))
    )



def downgrade() -> None:

    op.drop_table('mailbox_leases')

