"""inbound messages: the original bytes compressed with lz4 on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:15:00

PostgreSQL compresses a large value with pglz by default. On the mail units send (base64 of zipped
workbooks) pglz gave up after trying: a 23.9 KB message stored as 25.9 KB, and its insert cost the server
1.0-1.1 ms, more than the rest of the message's statements together. lz4 stores it as 21.3 KB in 0.4-0.5 ms
(measured here on the backlog bench's messages). New rows only; the rows stored before keep their
compression. A server without lz4 (built without it, or before version 14) keeps pglz.
"""
from alembic import op
from sqlalchemy.exc import DBAPIError


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("ALTER TABLE inbound_messages ALTER COLUMN raw SET COMPRESSION lz4")
    except DBAPIError:  # no lz4 in this server: the default stays
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inbound_messages ALTER COLUMN raw SET COMPRESSION default")
