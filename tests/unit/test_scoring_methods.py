"""The registry of baseline methods: each method is one row that says what it needs; scoring asks the row,
so a new method is a new row (and its model), nothing else."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring.baselines import PriorPeriodMeanModel
from scoring.leaderboard import score_contest
from scoring.methods import (
    BASELINE_METHODS,
    METHOD_DEGREE_DAY,
    METHOD_PEER_BENCHMARK,
    METHOD_PRIOR_PERIOD_MEAN,
    METHOD_PRIOR_YEAR,
    METHODS,
    BaselineMethod,
    baseline_method,
    baseline_period,
)
from scoring.rules import ScoringRules
from scoring.schema import (
    BASELINE_METHOD,
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    EXPECTED_KWH,
    HOUSEHOLD_ID,
    PERSONS,
    TEAM_ID,
    FrameSchemaError,
)
from scoring.specs import BaselineSpec

D = dt.date
AS_OF = pd.Timestamp("2024-01-13T12:00", tz="UTC")


def test_every_method_has_a_row_and_the_rows_declare_what_they_need() -> None:
    assert METHODS == (METHOD_PRIOR_PERIOD_MEAN, METHOD_PRIOR_YEAR, METHOD_DEGREE_DAY, METHOD_PEER_BENCHMARK)
    assert [name for name in METHODS if baseline_method(name).needs_weather] == [METHOD_DEGREE_DAY]
    assert [name for name in METHODS if baseline_method(name).needs_peer_table] == [METHOD_PEER_BENCHMARK]
    assert [name for name in METHODS if not baseline_method(name).learns_from_history] == [
        METHOD_PEER_BENCHMARK
    ]
    for name in METHODS:
        assert BaselineSpec(method=name).baseline_method is BASELINE_METHODS[name]
    with pytest.raises(ValueError, match="baseline method must be one of"):
        baseline_method("astrology")


def test_the_windows_are_the_baseline_period_the_prior_year_or_nothing() -> None:
    rules = ScoringRules("Europe/Berlin", D(2023, 1, 1), D(2023, 12, 31), D(2024, 1, 8), D(2024, 1, 12))
    first, last = D(2024, 1, 8), D(2024, 1, 10)
    assert baseline_method(METHOD_PRIOR_PERIOD_MEAN).window(rules, first, last, last) == (
        D(2023, 1, 1),
        D(2023, 12, 31),
    )
    assert baseline_method(METHOD_PRIOR_YEAR).window(rules, first, last, last) == (
        D(2023, 1, 9),
        D(2023, 1, 11),
    )
    start, end = baseline_method(METHOD_PEER_BENCHMARK).window(rules, first, last, last)
    assert end < start  # no baseline days at all


def _contest() -> tuple[pd.DataFrame, pd.DataFrame, ScoringRules]:
    days = pd.date_range("2024-01-01", "2024-01-12", unit="us")
    energy = np.where(days < pd.Timestamp("2024-01-08"), 10.0, 8.0)
    daily = pd.DataFrame({HOUSEHOLD_ID: 1, DAY: days, ENERGY_KWH: energy, COVERAGE_FRACTION: 1.0})
    households = pd.DataFrame({HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [2]})
    return (
        daily,
        households,
        ScoringRules("Europe/Berlin", D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12)),
    )


def test_a_new_method_is_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up method that needs weather and fits the prior-period mean: adding its row is enough for the
    rules to accept it, for scoring to ask for weather, and for the results to name it."""
    row = BaselineMethod(
        name="mean_with_weather",
        window=baseline_period,
        model=lambda spec: PriorPeriodMeanModel(),
        needs_weather=True,
    )
    monkeypatch.setitem(BASELINE_METHODS, row.name, row)
    daily, households, rules = _contest()
    rules = ScoringRules(
        rules.tz,
        rules.baseline_start,
        rules.baseline_end,
        rules.competition_start,
        rules.competition_end,
        baseline=BaselineSpec(method=row.name),
    )
    with pytest.raises(FrameSchemaError, match="needs a weather frame"):
        score_contest(daily, households, rules, AS_OF)
    weather = pd.DataFrame({DAY: pd.date_range("2024-01-01", "2024-01-12", unit="us"), "temp_c": 5.0})
    board = score_contest(daily, households, rules, AS_OF, weather=weather)
    assert board.method == row.name
    assert board.households[BASELINE_METHOD].tolist() == [row.name]
    assert board.households[EXPECTED_KWH].tolist() == [50.0]  # 10 kWh/day x 5 competition days
