"""What the city reports for the whole contest: computed once per score run, from the households' and
teams' results."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.households import HouseholdFigures
from scoring.schema import STATUS, STATUS_RANKED


@dataclass(frozen=True, slots=True)
class CityFigures:
    """What the city reports for the whole contest as of a result.

    participants: households in the contest
    ranked_households: households ranked
    households_with_enough_data: households whose data meet the sufficiency rules
    enough_data_fraction: households_with_enough_data / participants [0..1]; NaN without participants
    expected_kwh, actual_kwh, savings_kwh: sums over the ranked households [kWh]
    savings_fraction: savings_kwh / expected_kwh [1]
    co2_saved_t: CO2 saved by the ranked households [t]; NaN when the carrier has no emission factor
    teams, ranked_teams: teams in the contest, and ranked
    households_with_baseline_data: households whose baseline days have enough data
        (``min_baseline_coverage_fraction``), before the competition too
    """

    participants: int
    ranked_households: int
    households_with_enough_data: int
    enough_data_fraction: float
    expected_kwh: float
    actual_kwh: float
    savings_kwh: float
    savings_fraction: float
    co2_saved_t: float
    teams: int
    ranked_teams: int
    households_with_baseline_data: int = 0


def city_figures(m: HouseholdFigures, teams: pd.DataFrame) -> CityFigures:
    """The city's figures from the households' figures and the team table."""
    participants = len(m.ranked)
    ranked = m.ranked
    expected = float(np.sum(m.expected[ranked]))
    savings = float(np.sum(m.savings[ranked]))
    co2_kg = float(np.sum(m.co2[ranked])) if m.has_co2_factor else math.nan
    return CityFigures(
        participants=participants,
        ranked_households=int(ranked.sum()),
        households_with_enough_data=int(np.sum(m.enough)),
        enough_data_fraction=float(np.sum(m.enough)) / participants if participants else math.nan,
        expected_kwh=expected,
        actual_kwh=float(np.sum(m.actual[ranked])),
        savings_kwh=savings,
        savings_fraction=savings / expected if expected > 0 else math.nan,
        co2_saved_t=co2_kg / 1000.0,
        teams=len(teams),
        ranked_teams=int((teams[STATUS] == STATUS_RANKED).sum()),
        households_with_baseline_data=int(np.sum(m.baseline_enough)),
    )
