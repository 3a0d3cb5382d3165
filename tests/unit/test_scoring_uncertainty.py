"""Intervals around savings fractions from the baseline's residual spread, computed by hand, and the
statistically-tied flag between ranked neighbours."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from scoring.leaderboard import score_contest
from scoring.rules import ScoringRules
from scoring.schema import (
    BASELINE_RESIDUAL_SD_KWH,
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    HOUSEHOLD_ID,
    PERSONS,
    SAVINGS_FRACTION,
    SAVINGS_FRACTION_HIGH,
    SAVINGS_FRACTION_LOW,
    STATISTICALLY_TIED,
    TEAM_ID,
)
from scoring.specs import UncertaintySpec
from scoring.uncertainty import savings_variance_kwh2, statistically_tied, z_value

TZ = "Europe/Berlin"
D = dt.date
AFTER_END = pd.Timestamp("2024-01-13T12:00", tz="UTC")
Z90 = 1.6448536269514722


def rules(**changes: object) -> ScoringRules:
    return ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 9), **changes)  # type: ignore[arg-type]


def board_for(baseline: list[float], competition: list[float], **changes: object) -> pd.Series:
    rows = [(1, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate(baseline)]
    rows += [
        (1, pd.Timestamp("2024-01-08") + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate(competition)
    ]
    daily = pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])
    people = pd.DataFrame({HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [1]})
    return score_contest(daily, people, rules(**changes), AFTER_END).households.iloc[0]


def test_z_of_a_90_percent_interval() -> None:
    assert z_value(0.9) == pytest.approx(Z90)


def test_interval_by_hand_without_autocorrelation() -> None:
    # Baseline 9, 11, 9, 11: mean 10, sd sqrt(4/3); residuals alternate, so rho < 0 counts as 0.
    # Two competition days of 8: savings 4 of 20. Var = 4/3 × (2 + 2²/4) = 4, half width 1.645 × 2.
    row = board_for([9, 11, 9, 11], [8, 8])
    assert row[BASELINE_RESIDUAL_SD_KWH] == pytest.approx(math.sqrt(4 / 3))
    assert row[SAVINGS_FRACTION] == pytest.approx(0.2)
    assert row[SAVINGS_FRACTION_LOW] == pytest.approx((4 - Z90 * 2) / 20)
    assert row[SAVINGS_FRACTION_HIGH] == pytest.approx((4 + Z90 * 2) / 20)


def test_interval_by_hand_with_autocorrelation() -> None:
    # Baseline 9, 9, 11, 11: residuals -1, -1, 1, 1; rho = (1 - 1 + 1) / 4 = 0.25, factor 1.25 / 0.75.
    row = board_for([9, 9, 11, 11], [8, 8])
    half = Z90 * math.sqrt(4 / 3 * 3 * (1.25 / 0.75))
    assert row[SAVINGS_FRACTION_LOW] == pytest.approx((4 - half) / 20)
    ignored = board_for([9, 9, 11, 11], [8, 8], uncertainty=UncertaintySpec(autocorrelation=False))
    assert ignored[SAVINGS_FRACTION_LOW] == pytest.approx((4 - Z90 * 2) / 20)


def test_a_wider_level_gives_a_wider_interval() -> None:
    narrow = board_for([9, 11, 9, 11], [8, 8], uncertainty=UncertaintySpec(interval_level=0.5))
    wide = board_for([9, 11, 9, 11], [8, 8], uncertainty=UncertaintySpec(interval_level=0.99))
    assert narrow[SAVINGS_FRACTION_LOW] > wide[SAVINGS_FRACTION_LOW]
    assert narrow[SAVINGS_FRACTION_HIGH] < wide[SAVINGS_FRACTION_HIGH]


def test_a_flat_baseline_has_no_spread() -> None:
    row = board_for([10, 10, 10, 10], [8, 8])
    assert row[SAVINGS_FRACTION_LOW] == pytest.approx(0.2)
    assert row[SAVINGS_FRACTION_HIGH] == pytest.approx(0.2)


def test_variance_grows_with_competition_days_and_shrinks_with_baseline_days() -> None:
    spec = UncertaintySpec()
    sd, rho = np.array([1.0, 1.0, 1.0]), np.zeros(3)
    variance = savings_variance_kwh2(sd, rho, np.array([10, 10, 100]), np.array([5, 10, 10]), spec)
    assert variance.tolist() == pytest.approx([5 + 25 / 10, 10 + 100 / 10, 10 + 100 / 100])


def test_statistical_ties_between_neighbours() -> None:
    ranked = np.array([True, True, True, True, False])
    low = np.array([0.30, 0.24, 0.10, 0.099, 0.0])
    high = np.array([0.40, 0.34, 0.20, 0.099, 1.0])
    # 1 and 2 overlap by 0.04 of a 0.10 width (40 % < 50 %): not tied.
    # 3 and 4: a zero-width interval outside [0.10, 0.20]: not tied; unranked entries never are.
    assert statistically_tied(ranked, low, high, 0.5).tolist() == [False, False, False, False, False]
    assert statistically_tied(ranked, low, high, 0.4).tolist() == [True, True, False, False, False]
    high[3] = 0.15  # now [0.099, 0.15] overlaps [0.10, 0.20] by 0.05 of a 0.051 width
    assert statistically_tied(ranked, low, high, 0.5).tolist() == [False, False, True, True, False]


def test_leaderboard_flags_close_households_as_tied() -> None:
    rows = []
    noisy = [6, 14, 6, 14]  # mean 10, wide spread
    for household, competition in ((1, [8, 8]), (2, [8.2, 8.2]), (3, [2, 2])):
        rows += [
            (household, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), e, 1.0)
            for i, e in enumerate(noisy)
        ]
        rows += [
            (household, pd.Timestamp("2024-01-08") + pd.Timedelta(days=i), e, 1.0)
            for i, e in enumerate(competition)
        ]
    daily = pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])
    people = pd.DataFrame({HOUSEHOLD_ID: [1, 2, 3], TEAM_ID: [None] * 3, PERSONS: [1] * 3})
    # Household 3 (80 %) is far ahead of 1 (20 %) and 2 (18 %), whose intervals nearly coincide.
    board = score_contest(
        daily, people, rules(uncertainty=UncertaintySpec(tie_overlap_fraction=0.9)), AFTER_END
    )
    flags = dict(zip(board.households[HOUSEHOLD_ID], board.households[STATISTICALLY_TIED], strict=True))
    assert flags == {3: False, 1: True, 2: True}
