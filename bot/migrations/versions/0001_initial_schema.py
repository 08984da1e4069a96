"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 22:15:42.086248
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

def upgrade() -> None:

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uid', sa.String(length=255), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_addr', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('message_id', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('sha256', name=op.f('uq_inbound_messages_sha256'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_outcome', ['outcome'], unique=False)
        batch_op.create_index('ix_inbound_source_uid', ['source', 'uidvalidity', 'uid'], unique=False)
        batch_op.create_index('ix_inbound_unit_period', ['unit_code', 'period'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('primary_to', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_primary_to', ['primary_to', 'created_at'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('period_rule', sa.String(length=32), nullable=False),
    sa.Column('has_c01', sa.Boolean(), nullable=False),
    sa.Column('c01_rows', sa.Integer(), nullable=False),
    sa.Column('has_c02', sa.Boolean(), nullable=False),
    sa.Column('c02_total', sa.Integer(), nullable=False),
    sa.Column('nil_statement', sa.Boolean(), nullable=False),
    sa.Column('c01_counts', sa.JSON(), nullable=False),
    sa.Column('c02_counts', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], name=op.f('fk_submissions_inbound_id_inbound_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_unit_period', ['unit_code', 'period'], unique=False)

    op.create_table('case_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('seq', sa.String(length=32), nullable=False),
    sa.Column('received', sa.Date(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('complainant', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('completed', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_case_rows_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_rows'))
    )
    with op.batch_alter_table('case_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_rows_submission_id'), ['submission_id'], unique=False)

def downgrade() -> None:

    with op.batch_alter_table('case_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_rows_submission_id'))

    op.drop_table('case_rows')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_unit_period')

    op.drop_table('submissions')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_primary_to')
        batch_op.drop_index('ix_outbox_kind_created')
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_unit_period')
        batch_op.drop_index('ix_inbound_source_uid')
        batch_op.drop_index('ix_inbound_outcome')

    op.drop_table('inbound_messages')

