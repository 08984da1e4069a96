"""A unit's status for a period, folded from the parts it sent, in order of arrival."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from scoring.deadlines import is_on_time


class Status(StrEnum):
    PENDING = "pending"
    INCOMPLETE = "incomplete"
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NEEDS_REVIEW = "needs_review"
    EXEMPT = "exempt"


CATEGORIES = ("complaint", "suggestion", "opinion", "compliment")


@dataclass(frozen=True)
class Part:
    """What one message contributed to a unit's report for a period."""

    arrived_at: datetime
    has_c01: bool = False
    c01_rows: int = 0
    has_c02: bool = False
    c02_total: int = 0
    nil_statement: bool = False
    ref: int | None = None  # the submission it came from


@dataclass
class PeriodState:
    completed_at: datetime | None = None
    kind: str | None = None  # "complaints" | "nil" | None
    has_part: bool = False
    missing: list[str] = field(default_factory=list)  # form names still needed
    c01_ref: int | None = None  # latest submission holding Complaint_01
    c02_ref: int | None = None  # latest submission holding Complaint_02
    nil_ref: int | None = None  # latest nil statement


def _kind_now(c01_rows: int | None, c02_total: int | None, nil: bool) -> str | None:
    """Is the report complete with what is known now, and of which kind?

    Cases need their rows (Complaint_01) and the summary (Complaint_02); "none" needs a zero summary
    or a statement, and no rows and no counts that say otherwise."""
    if c01_rows:
        return "complaints" if c02_total is not None else None
    if c02_total == 0 or (nil and not c02_total):
        return "nil"
    return None


@dataclass
class Folder:
    """The fold's running state: parts are added in arrival order, one at a time.

    Its `dump()` is plain data, so the state after each part can be kept beside it and the next part
    folded in without replaying the whole history (a unit sending its thousandth correction costs the
    same as its first).
    """

    state: PeriodState = field(default_factory=PeriodState)
    c01_rows: int | None = None
    c02_total: int | None = None
    nil: bool = False

    def add(self, part: Part) -> None:
        """1. Later data replaces earlier data of the same form (a correction).
        2. Check completeness; remember the first moment it held.
        3. The kind shown is that of the latest complete picture."""
        if not (part.has_c01 or part.has_c02 or part.nil_statement):
            return
        state = self.state
        state.has_part = True
        if part.has_c01:
            self.c01_rows, state.c01_ref = part.c01_rows, part.ref
            if part.c01_rows:
                self.nil = False  # cases reported now outweigh an earlier "none"
        if part.has_c02:
            self.c02_total, state.c02_ref = part.c02_total, part.ref
        if part.nil_statement:
            self.nil, state.nil_ref = True, part.ref
            if not part.has_c01 and self.c01_rows:
                self.c01_rows = 0  # a later "no complaints" supersedes earlier rows
        kind = _kind_now(self.c01_rows, self.c02_total, self.nil)
        if kind:
            state.kind = kind
            if state.completed_at is None:
                state.completed_at = part.arrived_at

    def result(self) -> PeriodState:
        """The state with the forms still needed filled in."""
        state = PeriodState(self.state.completed_at, self.state.kind, self.state.has_part, [],
                            self.state.c01_ref, self.state.c02_ref, self.state.nil_ref)
        if state.has_part and state.kind is None:
            if not self.c01_rows:
                state.missing.append("Complaint_01")
            if self.c02_total is None:
                state.missing.append("Complaint_02")
        return state

    def dump(self) -> dict[str, object]:
        s = self.state
        return {"completed_at": s.completed_at.isoformat() if s.completed_at else None, "kind": s.kind,
                "has_part": s.has_part, "c01_ref": s.c01_ref, "c02_ref": s.c02_ref, "nil_ref": s.nil_ref,
                "c01_rows": self.c01_rows, "c02_total": self.c02_total, "nil": self.nil}

    @classmethod
    def load(cls, data: dict[str, object]) -> Folder:
        completed = data.get("completed_at")
        state = PeriodState(completed_at=datetime.fromisoformat(completed) if isinstance(completed, str) else None,
                            kind=data.get("kind"), has_part=bool(data.get("has_part")),  # type: ignore[arg-type]
                            c01_ref=data.get("c01_ref"), c02_ref=data.get("c02_ref"),  # type: ignore[arg-type]
                            nil_ref=data.get("nil_ref"))  # type: ignore[arg-type]
        return cls(state, data.get("c01_rows"), data.get("c02_total"), bool(data.get("nil")))  # type: ignore[arg-type]


def fold(parts: Iterable[Part]) -> PeriodState:
    """Replay the parts in arrival order; the moment the report first became complete is kept."""
    folder = Folder()
    for part in sorted(parts, key=lambda p: p.arrived_at):
        folder.add(part)
    return folder.result()


def unit_status(state: PeriodState, due: datetime, as_of: datetime, *,
                exempt: bool = False, needs_review: bool = False) -> Status:
    if exempt:
        return Status.EXEMPT
    if state.completed_at is not None:
        return Status.ON_TIME if is_on_time(state.completed_at, due) else Status.LATE
    if needs_review:
        return Status.NEEDS_REVIEW
    if state.has_part:
        return Status.INCOMPLETE
    return Status.MISSING if as_of > due else Status.PENDING
