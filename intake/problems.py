"""Problems found in a message: a stable code, a severity, and a Thai sentence saying what to fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    message: str  # formal Thai, for the clerk: what is wrong and how to fix it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def where(filename: str, sheet: str | None = None, row: int | None = None) -> str:
    text = f"ไฟล์ {filename}"
    if sheet:
        text += f" แผ่นงาน {sheet}"
    if row:
        text += f" แถวที่ {row}"
    return text
