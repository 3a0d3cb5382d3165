"""A household's rank history: its line in every published revision of the leaderboard, and why it moved
between two revisions (its own savings, late data, a changed baseline, or other households)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.models import LeaderboardSnapshot, StandingRevision

#: Changes smaller than these are not worth a line in the history.
_FRACTION_EPS = 0.0005  # 0.05 percentage points (the leaderboard shows 0.1)
_BASELINE_EPS = 0.005  # kWh/day
_COVERAGE_EPS = 0.005


@dataclass(frozen=True, slots=True)
class Change:
    """One reason a household's standing moved: a stable key (texts come from the web layer) and the
    values before and after."""

    key: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class RankStep:
    """The household's line in one revision, with what changed since the previous revision."""

    snapshot_id: int
    as_of: dt.datetime
    reason: str
    status: str
    rank: int | None
    savings_fraction: float | None
    ranked_households: int | None
    changes: tuple[Change, ...]

    @property
    def moved(self) -> int | None:
        """Places gained (positive) or lost (negative) since the previous revision; None if unranked."""
        for change in self.changes:
            if change.key == "rank" and change.before is not None and change.after is not None:
                return int(change.before) - int(change.after)
        return None


@dataclass(frozen=True, slots=True)
class _Line:
    snapshot_id: int
    as_of: dt.datetime
    reason: str
    ranked_households: int | None
    status: str
    rank: int | None
    savings_fraction: float | None
    baseline_kwh_per_day: float | None
    competition_coverage_fraction: float


def _differs(a: float | None, b: float | None, eps: float) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) >= eps


def explain(previous: _Line | None, current: _Line) -> tuple[Change, ...]:
    """Why ``current`` differs from ``previous`` (pure): the household's own causes first, then the
    field around it. An empty tuple means nothing changed for this household."""
    if previous is None:
        return (Change("first", None, current.rank),)
    changes: list[Change] = []
    if previous.status != current.status:
        changes.append(Change("status", previous.status, current.status))
    if previous.rank != current.rank:
        changes.append(Change("rank", previous.rank, current.rank))
    if _differs(previous.competition_coverage_fraction, current.competition_coverage_fraction, _COVERAGE_EPS):
        changes.append(
            Change("coverage", previous.competition_coverage_fraction, current.competition_coverage_fraction)
        )
    if _differs(previous.baseline_kwh_per_day, current.baseline_kwh_per_day, _BASELINE_EPS):
        changes.append(Change("baseline", previous.baseline_kwh_per_day, current.baseline_kwh_per_day))
    own_savings_moved = _differs(previous.savings_fraction, current.savings_fraction, _FRACTION_EPS)
    if own_savings_moved:
        changes.append(Change("savings", previous.savings_fraction, current.savings_fraction))
    if previous.ranked_households != current.ranked_households:
        changes.append(Change("field_size", previous.ranked_households, current.ranked_households))
    if previous.rank != current.rank and not own_savings_moved and previous.status == current.status:
        # Its own result stayed: others moved past it, or fell behind.
        changes.append(Change("others", previous.rank, current.rank))
    return tuple(changes)


class RankHistoryService:
    """Reads a household's standing revisions (kept at each publication)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def household(self, household_id: int, limit: int = 30) -> list[RankStep]:
        """The revisions in which the household's standing changed, newest first (at most ``limit``)."""
        session = self.session
        rows = session.execute(
            select(
                StandingRevision.snapshot_id,
                LeaderboardSnapshot.as_of,
                LeaderboardSnapshot.reason,
                LeaderboardSnapshot.ranked_households,
                StandingRevision.status,
                StandingRevision.rank,
                StandingRevision.savings_fraction,
                StandingRevision.baseline_kwh_per_day,
                StandingRevision.competition_coverage_fraction,
            )
            .join(LeaderboardSnapshot, LeaderboardSnapshot.id == StandingRevision.snapshot_id)
            .where(StandingRevision.household_id == household_id)
            .order_by(StandingRevision.snapshot_id)
        ).all()
        steps: list[RankStep] = []
        previous: _Line | None = None
        for row in rows:
            line = _Line(*row)
            changes = explain(previous, line)
            if changes:
                steps.append(
                    RankStep(
                        line.snapshot_id,
                        line.as_of,
                        line.reason,
                        line.status,
                        line.rank,
                        line.savings_fraction,
                        line.ranked_households,
                        changes,
                    )
                )
            previous = line
        return steps[::-1][:limit]
