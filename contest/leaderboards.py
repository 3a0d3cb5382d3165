"""Leaderboards: a contest scored from its stored daily consumption (scoring itself is pure pandas),
and the result as the domain's leaderboard view (teams, households, city figures, provenance)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.absences import absence_ranges
from contest.contests import contest_info
from contest.domain import CityFigures, ContestInfo, HouseholdStanding, LeaderboardView, TeamStanding
from contest.lookup import contest_by_slug
from contest.models import DailyConsumption, Household, Meter, WeatherDay
from scoring import schema as S
from scoring.daily import household_daily
from scoring.days import expand_absence_ranges
from scoring.leaderboard import Leaderboard, score_contest
from scoring.ranking import shown_savings_fraction


def _float_or_none(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _fraction(value: Any) -> float:
    """A coverage fraction [0..1]; none measured yet (before the competition starts: NaN) is 0."""
    number = _float_or_none(value)
    return 0.0 if number is None or not math.isfinite(number) else number


def _shown_fraction(value: Any) -> float | None:
    """The savings fraction as ranked and shown (0.1 percentage point), so pages and API agree with ranks."""
    raw = _float_or_none(value)
    return None if raw is None else shown_savings_fraction(raw)


def _int_or_none(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


class LeaderboardService:
    """Scores a contest from its stored daily consumption (scoring itself is pure pandas)."""

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        #: where "now" comes from (tests and replays pass a fixed clock)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def score(
        self, slug: str, as_of: dt.datetime | None = None
    ) -> tuple[ContestInfo, Leaderboard, dict[int, str]]:
        as_of = as_of or self.clock()
        session = self.session
        contest = contest_by_slug(session, slug)
        info = contest_info(contest)
        teams = {t.id: t.name for t in contest.teams}
        weather = pd.DataFrame(
            session.execute(
                select(WeatherDay.day, WeatherDay.temp_c).where(WeatherDay.contest_id == contest.id)
            ).all(),
            columns=[S.DAY, S.TEMP_C],
        )
        weather[S.DAY] = pd.to_datetime(weather[S.DAY])
        hh_rows = session.execute(
            select(
                Household.id,
                Household.team_id,
                Household.persons,
                Household.pseudonym,
                Household.public_listing,
                Household.living_area_m2,
                Household.building_type,
                Household.electric_hot_water,
            ).where(Household.contest_id == contest.id)
        ).all()
        absences = absence_ranges(session, contest.id)
        daily_rows = session.execute(
            select(
                DailyConsumption.meter_id,
                Meter.household_id,
                DailyConsumption.day,
                DailyConsumption.energy_kwh,
                DailyConsumption.coverage_fraction,
            )
            .join(Meter, Meter.id == DailyConsumption.meter_id)
            .join(Household, Household.id == Meter.household_id)
            .where(Household.contest_id == contest.id, Meter.carrier == contest.carrier)
        ).all()
        households = pd.DataFrame(
            hh_rows,
            columns=[
                S.HOUSEHOLD_ID,
                S.TEAM_ID,
                S.PERSONS,
                "pseudonym",
                "public_listing",
                S.LIVING_AREA_M2,
                S.BUILDING_TYPE,
                S.ELECTRIC_HOT_WATER,
            ],
        )
        households[S.TEAM_ID] = households[S.TEAM_ID].astype("Int64")
        meter_daily = pd.DataFrame(
            daily_rows, columns=[S.METER_ID, S.HOUSEHOLD_ID, S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION]
        )
        meter_daily[S.DAY] = pd.to_datetime(meter_daily[S.DAY])
        meter_households = meter_daily[[S.METER_ID, S.HOUSEHOLD_ID]].drop_duplicates()
        daily = household_daily(meter_daily.drop(columns=[S.HOUSEHOLD_ID]), meter_households)
        board = score_contest(
            daily,
            households,
            info.scoring_rules(),
            pd.Timestamp(as_of),
            weather=weather if len(weather) else None,
            absences=expand_absence_ranges(absences) if len(absences) else None,
        )
        return info, board, teams

    def leaderboard(
        self, slug: str, as_of: dt.datetime | None = None, *, public_only: bool = True
    ) -> LeaderboardView:
        """The leaderboard of ``slug``; with ``public_only`` households not opted in are left out of the
        household table (they still count for their team)."""
        info, board, team_names = self.score(slug, as_of)
        hh = board.households
        households = []
        for row in hh.to_dict("records"):
            if public_only and not bool(row["public_listing"]):
                continue
            team_id = _int_or_none(row[S.TEAM_ID])
            households.append(
                HouseholdStanding(
                    household_id=int(row[S.HOUSEHOLD_ID]),
                    pseudonym=str(row["pseudonym"]),
                    team=team_names.get(team_id) if team_id is not None else None,
                    persons=int(row[S.PERSONS]),
                    public_listing=bool(row["public_listing"]),
                    status=str(row[S.STATUS]),
                    rank=_int_or_none(row[S.RANK]),
                    savings_fraction=_shown_fraction(row[S.SAVINGS_FRACTION]),
                    savings_kwh=_float_or_none(row[S.SAVINGS_KWH]),
                    savings_kwh_per_person=_float_or_none(row[S.SAVINGS_KWH_PER_PERSON]),
                    expected_kwh=_float_or_none(row[S.EXPECTED_KWH]),
                    actual_kwh=_float_or_none(row[S.ACTUAL_KWH]),
                    baseline_kwh_per_day=_float_or_none(row[S.BASELINE_KWH_PER_DAY]),
                    coverage_fraction=min(
                        _fraction(row[S.BASELINE_COVERAGE_FRACTION]),
                        _fraction(row[S.COMPETITION_COVERAGE_FRACTION]),
                    ),
                    baseline_coverage_fraction=_fraction(row[S.BASELINE_COVERAGE_FRACTION]),
                    competition_coverage_fraction=_fraction(row[S.COMPETITION_COVERAGE_FRACTION]),
                    co2_saved_kg=_float_or_none(row.get(S.CO2_SAVED_KG)),
                    statistically_tied=bool(row.get(S.STATISTICALLY_TIED) is True),
                    status_reason=_str_or_none(row.get(S.STATUS_REASON)),
                    baseline_method=_str_or_none(row.get(S.BASELINE_METHOD)),
                    category=_str_or_none(row.get(S.CATEGORY)),
                    category_rank=_int_or_none(row.get(S.CATEGORY_RANK)),
                    savings_kwh_per_m2=_float_or_none(row.get(S.SAVINGS_KWH_PER_M2)),
                )
            )
        teams = [
            TeamStanding(
                team_id=int(row[S.TEAM_ID]),
                name=team_names.get(int(row[S.TEAM_ID]), f"Team {row[S.TEAM_ID]}"),
                members=int(row[S.MEMBERS]),
                ranked_members=int(row[S.RANKED_MEMBERS]),
                status=str(row[S.STATUS]),
                rank=_int_or_none(row[S.RANK]),
                savings_fraction=_shown_fraction(row[S.SAVINGS_FRACTION]),
                savings_kwh=_float_or_none(row[S.SAVINGS_KWH]),
                savings_kwh_per_person=_float_or_none(row[S.SAVINGS_KWH_PER_PERSON]),
                expected_kwh=_float_or_none(row[S.EXPECTED_KWH]),
                actual_kwh=_float_or_none(row[S.ACTUAL_KWH]),
                co2_saved_kg=_float_or_none(row.get(S.CO2_SAVED_KG)),
            )
            for row in board.teams.to_dict("records")
        ]
        elapsed = int(hh[S.COMPETITION_DAYS].max()) if len(hh) and hh[S.COMPETITION_DAYS].notna().any() else 0
        figures = board.city_figures
        assert figures is not None  # score_contest always computes them
        city = CityFigures(
            participants=figures.participants,
            ranked=figures.ranked_households,
            teams=len(team_names),
            savings_kwh=figures.savings_kwh,
            expected_kwh=figures.expected_kwh,
            co2_saved_kg=0.0 if math.isnan(figures.co2_saved_t) else figures.co2_saved_t * 1000.0,
            baseline_ready=figures.households_with_baseline_data,
        )
        return LeaderboardView(
            contest=info,
            as_of=board.as_of.to_pydatetime(),
            competition_days_elapsed=elapsed,
            teams=tuple(teams),
            households=tuple(households),
            findings=board.findings,
            city=city,
            provenance={
                "method": board.method,
                "parameters": dict(board.parameters),
                "input_fingerprint": board.input_fingerprint,
                "as_of": board.as_of.isoformat(),
            },
        )
