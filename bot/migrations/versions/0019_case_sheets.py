"""case rows become case sheets: a submission's Complaint_01 rows as one JSON document

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:20:00

A sheet is written once, with its submission, and read whole (the digest's case list, its channel totals,
retention's masking); nothing asks for one case by its fields. Stored a row a case, every message of a backlog
cost PostgreSQL's server ~110 heap tuples and two index entries each: their COPY was 0.55-1.2 ms of the server's
time a message, two thirds of all it spent on intake. One document a submission is one insert, 0.04-0.2 ms
(issue #27). The layout, in intake/sheets.py's words: an array of rows, each an array of row, seq, received,
channel, category, subject, complainant, action, result, completed, note; dates as YYYY-MM-DD; absent values as
null. The key is the submission's id, with ON DELETE CASCADE (one check a message, where a key on every case row
was one a row: migration 0017). On PostgreSQL the document is compressed with lz4 where the server has it.

The rows are carried over as they are, in row order, and back again on downgrade (their ids then new).
"""
from __future__ import annotations

import json
from datetime import date
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_FIELDS = ("row", "seq", "received", "channel", "category", "subject", "complainant", "action", "result",
           "completed", "note")
_DATES = (_FIELDS.index("received"), _FIELDS.index("completed"))
_CHUNK = 500  # submissions a statement


def _as_date(value: Any) -> date | None:  # SQLite's driver gives a DATE column's text back as it is
    return date.fromisoformat(value) if isinstance(value, str) else value


def upgrade() -> None:
    bind = op.get_bind()
    sheets = op.create_table(
        'case_sheets',
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'],
                                name=op.f('fk_case_sheets_submission_id_submissions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_case_sheets')))
    if bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("ALTER TABLE case_sheets ALTER COLUMN rows SET COMPRESSION lz4")
        except DBAPIError:  # no lz4 in this server: the default stays
            pass
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=date.isoformat).encode
    cases = sa.table("case_rows", sa.column("submission_id"), *(sa.column(name) for name in _FIELDS))
    ids = [r[0] for r in bind.execute(sa.select(cases.c.submission_id).distinct().order_by(cases.c.submission_id))]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = bind.execute(sa.select(cases.c.submission_id, *(cases.c[name] for name in _FIELDS))
                            .where(cases.c.submission_id.in_(chunk)).order_by(cases.c.submission_id, cases.c.row))
        documents = []
        for sub_id, group in groupby(rows, key=lambda r: r[0]):
            values = [list(r[1:]) for r in group]
            for case in values:
                for i in _DATES:
                    case[i] = _as_date(case[i])
            documents.append({"submission_id": sub_id, "rows": encode(values)})
        bind.execute(sheets.insert(), documents)
    with op.batch_alter_table('case_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_rows_submission_id'))
    op.drop_table('case_rows')


def downgrade() -> None:
    bind = op.get_bind()
    cases = op.create_table(
        'case_rows',
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
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_rows')))
    with op.batch_alter_table('case_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_rows_submission_id'), ['submission_id'], unique=False)
    sheets = sa.table("case_sheets", sa.column("submission_id"), sa.column("rows"))
    last = 0
    while True:  # a chunk of sheets at a time: a year's documents need not all be held at once
        chunk = bind.execute(sa.select(sheets.c.submission_id, sheets.c.rows).where(sheets.c.submission_id > last)
                             .order_by(sheets.c.submission_id).limit(_CHUNK)).all()
        if not chunk:
            break
        values = []
        for sub_id, text in chunk:
            for case in json.loads(text):
                for i in _DATES:
                    case[i] = _as_date(case[i])
                values.append({"submission_id": sub_id, **dict(zip(_FIELDS, case))})
        if values:
            bind.execute(cases.insert(), values)
        last = chunk[-1][0]
    op.drop_table('case_sheets')
