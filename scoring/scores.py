"""Fiscal-year scores for sub-criterion 4.2: months due, on time, late, missing, exempt; points and level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rubric:
    """Credit per month by status, scaled to `points`; `levels` maps a percentage to the 5-level scale."""

    points: float = 10.0
    credit: Mapping[str, float] = field(default_factory=lambda: {"on_time": 1.0, "late": 0.5, "missing": 0.0})
    levels: Sequence[tuple[float, int]] = ((90.0, 5), (75.0, 4), (60.0, 3), (50.0, 2), (0.0, 1))

    def level(self, percent: float) -> int:
        for threshold, level in sorted(self.levels, reverse=True):
            if percent >= threshold:
                return level
        return 0


@dataclass(frozen=True)
class UnitScore:
    unit: str
    due: int
    on_time: int
    late: int
    missing: int
    exempt: int
    score: float
    level: int
    needs_review: int = 0  # months a person has still to settle: no credit yet, but not "missing" either

    def to_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "due": self.due, "on_time": self.on_time, "late": self.late,
                "missing": self.missing, "needs_review": self.needs_review, "exempt": self.exempt,
                "score": self.score, "level": self.level}


def score_unit(unit: str, statuses: Sequence[str], rubric: Rubric) -> UnitScore:
    """Score the statuses of the months already due. Exempt months are left out of the average; a month waiting
    for a person earns no credit until settled (the rubric's "needs_review", default 0) and is counted as such;
    anything else not complete by now (incomplete, nothing) counts as missing."""
    on_time = statuses.count("on_time")
    late = statuses.count("late")
    exempt = statuses.count("exempt")
    review = statuses.count("needs_review")
    missing = len(statuses) - on_time - late - exempt - review
    counted = len(statuses) - exempt
    if counted == 0:
        return UnitScore(unit, len(statuses), on_time, late, missing, exempt, 0.0, 0, review)
    credit = on_time * rubric.credit.get("on_time", 1.0) + late * rubric.credit.get("late", 0.5) + \
        missing * rubric.credit.get("missing", 0.0) + review * rubric.credit.get("needs_review", 0.0)
    fraction = credit / counted
    return UnitScore(unit, len(statuses), on_time, late, missing, exempt, round(rubric.points * fraction, 2),
                     rubric.level(100.0 * fraction), review)


def rubric_from_dict(data: Mapping[str, object]) -> Rubric:
    """`{"points": 10, "credit": {"on_time": 1, "late": 0.5, "missing": 0}, "levels": [[90, 5], …]}`."""
    default = Rubric()
    credit = data.get("credit") or {}
    levels = data.get("levels") or []
    if not isinstance(credit, Mapping) or not isinstance(levels, Sequence):
        raise ValueError("credit must be an object and levels a list of [percent, level]")
    points = data.get("points", default.points)
    if not isinstance(points, (int, float)):
        raise ValueError("points must be a number")
    return Rubric(points=float(points),
                  credit={str(k): float(v) for k, v in credit.items()} or default.credit,
                  levels=tuple((float(t), int(lv)) for t, lv in levels) or default.levels)
