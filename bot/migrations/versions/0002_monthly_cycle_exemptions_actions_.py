"""monthly cycle: exemptions, actions, contact status, digest snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:37:25.667579
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_period', ['period'], unique=False)

    op.create_table('contact_status',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('unreachable', sa.Boolean(), nullable=False),
    sa.Column('last_status', sa.String(length=32), nullable=False),
    sa.Column('last_reason', sa.Text(), nullable=False),
    sa.Column('bounces', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_contact_status'))
    )
    op.create_table('digest_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('statuses', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_snapshots'))
    )
    with op.batch_alter_table('digest_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_snapshots_period'), ['period'], unique=False)

    op.create_table('exemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exemptions'))
    )
    with op.batch_alter_table('exemptions', schema=None) as batch_op:
        batch_op.create_index('uq_exemptions_unit_period', ['unit_code', 'period'], unique=True)




def downgrade() -> None:

    with op.batch_alter_table('exemptions', schema=None) as batch_op:
        batch_op.drop_index('uq_exemptions_unit_period')

    op.drop_table('exemptions')
    with op.batch_alter_table('digest_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_snapshots_period'))

    op.drop_table('digest_snapshots')
    op.drop_table('contact_status')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_period')

    op.drop_table('actions')

