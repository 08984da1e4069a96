"""case rows: no foreign key to their submission

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00

A submission's Complaint_01 rows (a hundred or more a message in a backlog) are written by one function
(intake.store.write_owed_cases), in the transaction that inserts their submission, and go with it through
the ORM's cascade (models.Submission.rows) when it is deleted. The foreign key checked each row again: on
PostgreSQL a trigger runs a query per row (SELECT ... FOR KEY SHARE), 0.4 ms of the server's time a message
of 110 rows, 40 % of what their COPY costs it (measured here with the bench's rows: 0.96-1.01 against
0.59-0.60 ms). Its ON DELETE CASCADE deleted nothing the ORM had not deleted first. The index on
submission_id stays: rows are read and deleted by their submission.
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_FK = "fk_case_rows_submission_id_submissions"


def upgrade() -> None:
    with op.batch_alter_table("case_rows", schema=None) as batch_op:  # SQLite copies the table; PostgreSQL alters it
        batch_op.drop_constraint(_FK, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("case_rows", schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, "submissions", ["submission_id"], ["id"], ondelete="CASCADE")
