"""Declared absences: days a household was away (a holiday). They drop out of both periods of its score,
so a fortnight away neither wins the contest nor spoils the baseline."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.domain import AbsenceInfo
from contest.errors import ConfigError
from contest.lookup import absence_of_household, household_by_id
from contest.models import Absence, Contest, Household
from contest.season import FROZEN
from scoring import schema as S

#: The longest single absence a household can declare [days]; longer stays show up as missing data.
MAX_ABSENCE_DAYS = 92
#: The longest note with an absence [characters].
NOTE_MAX_CHARS = 200
#: How far before the competition absences may lie (the prior-year baseline reaches back a year) [days].
_REACH_BACK_DAYS = 371


def _info(a: Absence) -> AbsenceInfo:
    return AbsenceInfo(a.id, a.first_day, a.last_day, a.note)


def _allowed_days(contest: Contest) -> tuple[dt.date, dt.date]:
    first = min(contest.baseline_start, contest.competition_start - dt.timedelta(days=_REACH_BACK_DAYS))
    return first, contest.competition_end


class AbsenceService:
    """A household's declared absences: listed, added and removed by the household itself."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_household(self, household_id: int) -> list[AbsenceInfo]:
        session = self.session
        rows = session.scalars(
            select(Absence).where(Absence.household_id == household_id).order_by(Absence.first_day)
        ).all()
        return [_info(a) for a in rows]

    def add(
        self, household_id: int, first_day: dt.date, last_day: dt.date, note: str | None = None
    ) -> AbsenceInfo:
        """Declare ``first_day`` .. ``last_day`` (local days, both included) as away. Refused with a
        message for the household when the range is reversed, too long, outside the contest, overlaps
        an absence already declared, or the contest is closed."""
        if last_day < first_day:
            raise ConfigError("the end is before the start", key="absence.reversed")
        length = (last_day - first_day).days + 1
        if length > MAX_ABSENCE_DAYS:
            raise ConfigError(
                f"an absence can be at most {MAX_ABSENCE_DAYS} days long ({length} given)",
                key="absence.too_long",
                params={"max_days": MAX_ABSENCE_DAYS, "days": length},
            )
        note = (note or "").strip() or None
        if note is not None and (len(note) > NOTE_MAX_CHARS or any(not ch.isprintable() for ch in note)):
            raise ConfigError(
                f"the note is too long or contains control characters (at most {NOTE_MAX_CHARS} characters)",
                key="absence.note",
                params={"max_chars": NOTE_MAX_CHARS},
            )
        session = self.session
        contest = household_by_id(session, household_id).contest
        self._require_open(contest)
        earliest, latest = _allowed_days(contest)
        if first_day < earliest or last_day > latest:
            raise ConfigError(
                f"absences must lie between {earliest} and {latest}",
                key="absence.outside_contest",
                params={"earliest": earliest, "latest": latest},
            )
        clash = session.scalars(
            select(Absence).where(
                Absence.household_id == household_id,
                Absence.first_day <= last_day,
                Absence.last_day >= first_day,
            )
        ).first()
        if clash is not None:
            raise ConfigError(
                f"overlaps the absence {clash.first_day} to {clash.last_day}",
                key="absence.overlap",
                params={"first_day": clash.first_day, "last_day": clash.last_day},
            )
        absence = Absence(household_id=household_id, first_day=first_day, last_day=last_day, note=note)
        session.add(absence)
        session.flush()
        return _info(absence)

    def remove(self, household_id: int, absence_id: int) -> None:
        """Remove one of the household's own absences (another household's is "not found")."""
        session = self.session
        absence = absence_of_household(session, household_id, absence_id)
        self._require_open(absence.household.contest)
        session.delete(absence)

    @staticmethod
    def _require_open(contest: Contest) -> None:
        if contest.state in FROZEN:  # final or archived (a reopened result takes changes again)
            raise ConfigError(
                "the contest is closed; absences can no longer be changed", key="absence.contest_closed"
            )


def absence_ranges(session: Session, contest_id: int) -> pd.DataFrame:
    """The declared absences of a contest's households: household_id, first_day, last_day (for scoring)."""
    rows = session.execute(
        select(Absence.household_id, Absence.first_day, Absence.last_day)
        .join(Household, Household.id == Absence.household_id)
        .where(Household.contest_id == contest_id)
        .order_by(Absence.household_id, Absence.first_day)
    ).all()
    return pd.DataFrame(rows, columns=[S.HOUSEHOLD_ID, S.FIRST_DAY, S.LAST_DAY])
