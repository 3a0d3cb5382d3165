"""Weather of a contest's area: daily mean temperatures for degree-day baselines, in the caller's
transaction."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from contest.lookup import contest_by_slug
from contest.models import WeatherDay
from scoring import schema as S


class WeatherService:
    """Daily mean temperatures of a contest's area (degree-day baselines)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def store(self, slug: str, weather: pd.DataFrame) -> int:
        """Store (or replace) days of ``weather`` (day, temp_c [°C]); returns the days stored. Days
        without a temperature (the DWD's -999) stay missing: the models leave them out."""
        weather = weather.dropna(subset=[S.TEMP_C])
        contest = contest_by_slug(self.session, slug)
        days = pd.to_datetime(weather[S.DAY]).dt.date.tolist()
        self.session.execute(
            delete(WeatherDay).where(WeatherDay.contest_id == contest.id, WeatherDay.day.in_(days))
        )
        if days:
            self.session.execute(
                insert(WeatherDay),
                [
                    {"contest_id": contest.id, "day": d, "temp_c": float(t)}
                    for d, t in zip(days, weather[S.TEMP_C].tolist(), strict=True)
                ],
            )
        return len(days)
