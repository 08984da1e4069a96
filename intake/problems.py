"""Problems found in a message: a stable code, a severity, and a Thai sentence saying what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    message: str  # formal Thai, for the clerk: what is wrong and how to fix it
    arrived_at: datetime | None = None  # set for a failed attempt: when the message that held it arrived

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


def where(filename: str, sheet: str | None = None, row: int | None = None) -> str:
    text = f"ไฟล์ {filename}"
    if sheet:
        text += f" แผ่นงาน {sheet}"
    if row:
        text += f" แถวที่ {row}"
    return text
