"""Plausibility checks: implausibly high days, possible vacancy, sudden drop to zero. Findings carry the
evidence; a rule decides whether flagged households stay ranked."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring.dayblock import DayBlock
from scoring.leaderboard import score_contest
from scoring.plausibility import baseline_quantiles, run_lengths
from scoring.rules import ScoringRules
from scoring.schema import (
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    FINDING_DROP_TO_ZERO,
    FINDING_HIGH_DAY,
    FINDING_POSSIBLE_VACANCY,
    HOUSEHOLD_ID,
    PERSONS,
    PLAUSIBILITY_FLAGS,
    RANK,
    STATUS,
    STATUS_RANKED,
    STATUS_REASON,
    STATUS_UNDER_REVIEW,
    TEAM_ID,
)
from scoring.specs import PlausibilitySpec

TZ = "Europe/Berlin"
D = dt.date
# 28 baseline days (1-28 January), 21 competition days (1-21 February).
RULES = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 28), D(2024, 2, 1), D(2024, 2, 21))
AFTER_END = pd.Timestamp("2024-02-22T12:00", tz="UTC")
# Sorted: 7 × 9, 14 × 10, 7 × 11 kWh. Quantiles interpolate between order statistics (numpy's default):
# median 10, quartiles 9.75 and 10.25 (IQR 0.5), base load (10 % quantile) 9.
BASELINE = [9.0, 10.0, 11.0, 10.0] * 7


def board_for(competition: list[float], **changes: object) -> tuple[pd.Series, list]:
    rows = [(1, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate(BASELINE)]
    rows += [
        (1, pd.Timestamp("2024-02-01") + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate(competition)
    ]
    daily = pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])
    people = pd.DataFrame({HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [2]})
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 28), D(2024, 2, 1), D(2024, 2, 21), **changes)  # type: ignore[arg-type]
    board = score_contest(daily, people, rules, AFTER_END)
    return board.households.iloc[0], list(board.findings)


def test_a_normal_household_raises_nothing() -> None:
    row, findings = board_for([9.0, 10.0, 11.0] * 7)
    assert findings == []
    assert row[PLAUSIBILITY_FLAGS] == ""


def test_a_day_far_above_the_baseline_is_flagged_with_the_evidence() -> None:
    competition = [10.0] * 21
    competition[4] = 40.0  # threshold: median 10 + 3 × IQR 0.5 = 11.5
    row, findings = board_for(competition)
    high = [f for f in findings if f.key == FINDING_HIGH_DAY]
    assert len(high) == 1
    assert high[0].subject == "household:1"
    assert high[0].data["days"] == ["2024-02-05"]
    assert high[0].data["threshold_kwh"] == pytest.approx(11.5)
    assert high[0].data["max_kwh"] == pytest.approx(40.0)
    assert row[PLAUSIBILITY_FLAGS] == FINDING_HIGH_DAY
    assert row[STATUS] == STATUS_RANKED  # by default flagged households stay ranked


def test_a_long_run_below_the_base_load_is_a_possible_vacancy() -> None:
    competition = [10.0] * 5 + [2.0] * 8 + [10.0] * 8  # below 4.5 kWh (half of 9) for 8 days
    _, findings = board_for(competition)
    vacancy = [f for f in findings if f.key == FINDING_POSSIBLE_VACANCY]
    assert len(vacancy) == 1
    assert vacancy[0].data["first_day"] == "2024-02-06"
    assert vacancy[0].data["last_day"] == "2024-02-13"
    assert vacancy[0].data["days"] == 8
    assert vacancy[0].data["base_load_kwh"] == pytest.approx(9.0)
    six_days = [10.0] * 5 + [2.0] * 6 + [10.0] * 10  # shorter than 7 days: nothing
    assert not [f for f in board_for(six_days)[1] if f.key == FINDING_POSSIBLE_VACANCY]


def test_a_sudden_drop_to_zero_is_flagged() -> None:
    competition = [10.0] * 10 + [0.0] * 3 + [10.0] * 8
    row, findings = board_for(competition)
    drops = [f for f in findings if f.key == FINDING_DROP_TO_ZERO]
    assert len(drops) == 1
    assert drops[0].data == {
        "household_id": 1,
        "first_day": "2024-02-11",
        "days": 3,
        "before_kwh": 10.0,
        "base_load_kwh": pytest.approx(9.0),
    }
    assert row[PLAUSIBILITY_FLAGS] == FINDING_DROP_TO_ZERO


def test_flagged_households_can_be_held_back_for_review() -> None:
    competition = [10.0] * 10 + [0.0] * 3 + [10.0] * 8
    row, _ = board_for(competition, plausibility=PlausibilitySpec(rank_flagged=False))
    assert row[STATUS] == STATUS_UNDER_REVIEW
    assert row[STATUS_REASON] == FINDING_DROP_TO_ZERO
    assert pd.isna(row[RANK])


def test_checks_can_be_turned_off() -> None:
    competition = [10.0] * 10 + [0.0] * 3 + [40.0] * 8
    _, findings = board_for(competition, plausibility=PlausibilitySpec(enabled=False))
    assert findings == []


def test_short_baselines_are_not_judged() -> None:
    # The contest tests of the original rules have 3-7 baseline days: far too few for a median and IQR.
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12))
    rows = [(1, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate([9, 10, 11])]
    rows += [(1, pd.Timestamp("2024-01-08") + pd.Timedelta(days=i), 50.0, 1.0) for i in range(5)]
    daily = pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])
    people = pd.DataFrame({HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [2]})
    assert score_contest(daily, people, rules, pd.Timestamp("2024-01-13T12:00", tz="UTC")).findings == ()


def test_quantiles_match_numpy() -> None:
    rng = np.random.default_rng(5)
    energy = rng.gamma(2.0, 3.0, (6, 40))
    energy[rng.random(energy.shape) < 0.3] = np.nan
    energy[5] = np.nan
    block = DayBlock(energy, np.arange(40).astype("datetime64[D]"))
    ours = baseline_quantiles(block, (0.1, 0.25, 0.5, 0.75))
    expected = np.array(
        [
            np.nanquantile(row, [0.1, 0.25, 0.5, 0.75]) if np.isfinite(row).any() else [np.nan] * 4
            for row in energy
        ]
    )
    np.testing.assert_allclose(ours, expected)


def test_run_lengths() -> None:
    flags = np.array([[True, True, False, True, True, True], [False] * 6])
    assert run_lengths(flags).tolist() == [[1, 2, 0, 1, 2, 3], [0] * 6]
