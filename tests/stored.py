"""What the database holds, read back for tests' assertions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.forms import CaseRow
from intake.models import CaseSheet
from intake.sheets import sheet_rows


def stored_cases(session: Session) -> list[tuple[int, CaseRow]]:
    """Every stored Complaint_01 row with its submission's id, in submission and row order."""
    sheets = session.execute(select(CaseSheet.submission_id, CaseSheet.rows).order_by(CaseSheet.submission_id))
    return [(sub_id, row) for sub_id, text in sheets for row in sheet_rows(text)]
