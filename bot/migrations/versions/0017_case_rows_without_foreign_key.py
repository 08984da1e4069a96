"""case rows: no foreign key to their submission; a submission's id never given again

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

SQLite gives a deleted row's id to the next row unless the table is AUTOINCREMENT: without the key, a case row
left behind by a deletion (no path leaves one; a future bug might) would then belong to a later submission.
SQLite's submissions table is rebuilt as AUTOINCREMENT (its next id continues after the highest one in use);
PostgreSQL's sequence never gives an id again.
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
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("submissions", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("submissions", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
    with op.batch_alter_table("case_rows", schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, "submissions", ["submission_id"], ["id"], ondelete="CASCADE")
