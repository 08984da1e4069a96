"""Problems found in a message: a stable code, a severity, and the parameters that say where and what.
The sentence a person reads is rendered by mailer (mailer/problem_text.py), never here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    params: dict[str, str] = field(default_factory=dict)  # file, sheet, row, value, …: data, no wording
    arrived_at: datetime | None = None  # set for a failed attempt: when the message that held it arrived

    @property
    def identity(self) -> tuple[str, str]:
        """Two problems with the same code and parameters say the same thing (shown once)."""
        return self.code, repr(sorted(self.params.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "params": self.params}

    @classmethod
    def from_dict(cls, stored: dict[str, Any], **extra: Any) -> Problem:
        """A stored problem; one stored before parameters existed keeps its sentence as `message`."""
        params = dict(stored.get("params") or {})
        if not params and stored.get("message"):
            params = {"message": str(stored["message"])}
        return cls(str(stored.get("code", "")), str(stored.get("severity", ERROR)), params, **extra)


def where(filename: str, sheet: str | None = None, row: int | None = None) -> dict[str, str]:
    """Where in the attachments a problem is, as parameters."""
    out = {"file": filename}
    if sheet:
        out["sheet"] = sheet
    if row:
        out["row"] = str(row)
    return out
