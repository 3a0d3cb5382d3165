"""Declared absences: days a household was away (a holiday). They drop out of both periods of its score,
so a fortnight away neither wins the contest nor spoils the baseline."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.db import Database
from contest.domain import AbsenceInfo
from contest.errors import ConfigError, HouseholdNotFound, NotFoundError
from contest.models import Absence, Contest, Household
from contest.season import FROZEN
from scoring import schema as S

#: The longest single absence a household can declare [days]; longer stays show up as missing data.
MAX_ABSENCE_DAYS = 92
#: How far before the competition absences may lie (the prior-year baseline reaches back a year) [days].
_REACH_BACK_DAYS = 371


def _fmt(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _info(a: Absence) -> AbsenceInfo:
    return AbsenceInfo(a.id, a.first_day, a.last_day, a.note)


def _allowed_days(contest: Contest) -> tuple[dt.date, dt.date]:
    first = min(contest.baseline_start, contest.competition_start - dt.timedelta(days=_REACH_BACK_DAYS))
    return first, contest.competition_end


class AbsenceService:
    """A household's declared absences: listed, added and removed by the household itself."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def of_household(self, household_id: int) -> list[AbsenceInfo]:
        with self.db.session() as session:
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
            raise ConfigError(
                "Das Ende liegt vor dem Beginn. / The end is before the start.", key="absence.reversed"
            )
        length = (last_day - first_day).days + 1
        if length > MAX_ABSENCE_DAYS:
            raise ConfigError(
                f"Eine Abwesenheit kann höchstens {MAX_ABSENCE_DAYS} Tage lang sein ({length} angegeben). / "
                f"An absence can be at most {MAX_ABSENCE_DAYS} days long ({length} given).",
                key="absence.too_long",
            )
        note = (note or "").strip() or None
        if note is not None and (len(note) > 200 or any(not ch.isprintable() for ch in note)):
            raise ConfigError(
                "Die Notiz ist zu lang oder enthält Steuerzeichen (höchstens 200 Zeichen). / "
                "The note is too long or contains control characters (at most 200 characters).",
                key="absence.note",
            )
        with self.db.session() as session:
            household = session.get(Household, household_id)
            if household is None:
                raise HouseholdNotFound(f"no household with id {household_id}")
            contest = household.contest
            self._require_open(contest)
            earliest, latest = _allowed_days(contest)
            if first_day < earliest or last_day > latest:
                raise ConfigError(
                    f"Abwesenheiten müssen zwischen {_fmt(earliest)} und {_fmt(latest)} liegen. / "
                    f"Absences must lie between {earliest} and {latest}.",
                    key="absence.outside_contest",
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
                    f"Überschneidet sich mit Ihrer Abwesenheit {_fmt(clash.first_day)}–{_fmt(clash.last_day)}. / "
                    f"Overlaps your absence {clash.first_day} – {clash.last_day}.",
                    key="absence.overlap",
                )
            absence = Absence(household_id=household_id, first_day=first_day, last_day=last_day, note=note)
            session.add(absence)
            session.flush()
            return _info(absence)

    def remove(self, household_id: int, absence_id: int) -> None:
        """Remove one of the household's own absences (another household's is "not found")."""
        with self.db.session() as session:
            absence = session.get(Absence, absence_id)
            if absence is None or absence.household_id != household_id:
                raise NotFoundError(f"no absence {absence_id} of this household", key="absence.not_found")
            self._require_open(absence.household.contest)
            session.delete(absence)

    @staticmethod
    def _require_open(contest: Contest) -> None:
        if contest.state in FROZEN:  # final or archived (a reopened result takes changes again)
            raise ConfigError(
                "Der Wettbewerb ist abgeschlossen; Abwesenheiten können nicht mehr geändert werden. / "
                "The contest is closed; absences can no longer be changed.",
                key="absence.contest_closed",
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
