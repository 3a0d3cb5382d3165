"""Each baseline method on a small example computed by hand: prior period (the original rule), prior year
aligned by weekday and weekend day, the degree-day regression, and the Stromspiegel peer benchmark."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.baselines import PeerBenchmarkModel, PriorPeriodMeanModel, PriorYearModel
from scoring.dayblock import DayBlock
from scoring.leaderboard import score_contest
from scoring.methods import (
    METHOD_DEGREE_DAY,
    METHOD_PEER_BENCHMARK,
    METHOD_PRIOR_PERIOD_MEAN,
    METHOD_PRIOR_YEAR,
)
from scoring.rules import ScoringRules
from scoring.schema import (
    ACTUAL_KWH,
    BASELINE_DAYS,
    BASELINE_KWH_PER_DAY,
    BASELINE_METHOD,
    BUILDING_TYPE,
    COMPETITION_DAYS_WITH_DATA,
    COVERAGE_FRACTION,
    DAY,
    ELECTRIC_HOT_WATER,
    ENERGY_KWH,
    EXPECTED_KWH,
    FINDING_INSUFFICIENT_COVERAGE,
    FINDING_PEER_ATTRIBUTES_MISSING,
    FINDING_PEER_TABLE_UNVERIFIED,
    HEATING_BALANCE_POINT_C,
    HEATING_KWH_PER_DEGREE_DAY,
    HOUSEHOLD_ID,
    INTERCEPT_KWH_PER_DAY,
    MODEL,
    PERSONS,
    SAVINGS_FRACTION,
    SAVINGS_KWH,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_RANKED,
    STATUS_REASON,
    TEAM_ID,
    TEMP_C,
    WEEKDAY_KWH_PER_DAY,
    WEEKEND_KWH_PER_DAY,
    FrameSchemaError,
)
from scoring.specs import BaselineSpec
from scoring.stromspiegel import load_stromspiegel, parse_stromspiegel_csv

TZ = "Europe/Berlin"
D = dt.date
TEST_TABLE = parse_stromspiegel_csv(
    (Path(__file__).resolve().parents[1] / "data" / "stromspiegel" / "stromspiegel_test.csv").read_text()
)


def daily(household: object, first: str, energies: list[float | None]) -> pd.DataFrame:
    start = pd.Timestamp(first)
    rows = [
        (household, start + pd.Timedelta(days=i), e, 1.0) for i, e in enumerate(energies) if e is not None
    ]
    return pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])


def one_household(**extra: object) -> pd.DataFrame:
    return pd.DataFrame(
        {HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [2], **{k: [v] for k, v in extra.items()}}
    )


def after(day: str) -> pd.Timestamp:
    """Noon UTC on ``day``: every earlier day is complete in Berlin."""
    return pd.Timestamp(f"{day}T12:00", tz="UTC")


# --- prior period -----------------------------------------------------------------------------


def test_prior_period_mean_by_hand() -> None:
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 10))
    data = pd.concat([daily(1, "2024-01-01", [8, 10, 12, 10]), daily(1, "2024-01-08", [9, 9, 6])])
    row = score_contest(data, one_household(), rules, after("2024-01-11")).households.iloc[0]
    assert row[BASELINE_METHOD] == METHOD_PRIOR_PERIOD_MEAN
    assert row[BASELINE_KWH_PER_DAY] == pytest.approx(10.0)  # (8 + 10 + 12 + 10) / 4
    assert row[EXPECTED_KWH] == pytest.approx(30.0)  # 10 × 3 days
    assert row[ACTUAL_KWH] == pytest.approx(24.0)
    assert row[SAVINGS_FRACTION] == pytest.approx(6 / 30)


def test_prior_period_model_fit_predict_shape() -> None:
    block = DayBlock(np.array([[8.0, 10.0, np.nan, 12.0]]), np.arange(4).astype("datetime64[D]"))
    model = PriorPeriodMeanModel().fit(block)
    reporting = DayBlock(np.array([[1.0, np.nan]]), np.arange(10, 12).astype("datetime64[D]"))
    assert model.predict(reporting).tolist() == [[10.0, 10.0]]
    assert model.expected_kwh(reporting).tolist() == [10.0]  # one reporting day has data
    assert model.describe()[MODEL].tolist() == ["mean"]


# --- prior year, same period ------------------------------------------------------------------

# Competition Monday 8 to Sunday 14 January 2024; 364 days earlier: Monday 9 to Sunday 15 January 2023.
PRIOR_YEAR_RULES = ScoringRules(
    TZ,
    D(2023, 1, 1),
    D(2023, 12, 31),
    D(2024, 1, 8),
    D(2024, 1, 14),
    baseline=BaselineSpec(method=METHOD_PRIOR_YEAR),
)


def prior_year_data() -> pd.DataFrame:
    return pd.concat(
        [
            daily(1, "2023-01-02", [50.0] * 7),  # a week before the aligned window: never used
            daily(1, "2023-01-09", [10, 12, 10, 12, 11, 20, 22]),  # Mon-Fri mean 11, Sat/Sun mean 21
            daily(1, "2024-01-08", [10, 10, None, 10, 10, 18, 18]),  # Wednesday without data
        ]
    )


def test_prior_year_compares_weekdays_with_weekdays_and_weekends_with_weekends() -> None:
    board = score_contest(prior_year_data(), one_household(), PRIOR_YEAR_RULES, after("2024-01-15"))
    row = board.households.iloc[0]
    assert row[BASELINE_METHOD] == METHOD_PRIOR_YEAR
    assert row[BASELINE_DAYS] == 7  # the aligned window only
    assert row[COMPETITION_DAYS_WITH_DATA] == 6
    # 4 weekdays × 11 + 2 weekend days × 21 = 86; a plain mean would expect 6 × 97/7 = 83.1.
    assert row[EXPECTED_KWH] == pytest.approx(4 * 11 + 2 * 21)
    assert row[ACTUAL_KWH] == pytest.approx(76)
    assert row[SAVINGS_FRACTION] == pytest.approx(10 / 86)
    models = board.baseline_models.iloc[0]
    assert models[WEEKDAY_KWH_PER_DAY] == pytest.approx(11)
    assert models[WEEKEND_KWH_PER_DAY] == pytest.approx(21)


def test_prior_year_window_follows_the_elapsed_competition_days() -> None:
    # As of Thursday 11 January: Mon-Wed have ended, compared with Mon-Wed a year (52 weeks) before.
    board = score_contest(prior_year_data(), one_household(), PRIOR_YEAR_RULES, after("2024-01-11"))
    row = board.households.iloc[0]
    assert row[BASELINE_DAYS] == 3
    assert row[BASELINE_KWH_PER_DAY] == pytest.approx((10 + 12 + 10) / 3)
    assert row[EXPECTED_KWH] == pytest.approx(2 * (32 / 3))  # Wednesday has no data
    assert row[ACTUAL_KWH] == pytest.approx(20)


def test_prior_year_without_weekend_data_uses_the_overall_mean() -> None:
    block = DayBlock(
        np.array([[10.0, 12.0, np.nan]]),
        np.array(["2024-01-08", "2024-01-09", "2024-01-13"], dtype="datetime64[D]"),
    )
    model = PriorYearModel().fit(block)
    assert model.weekend_kwh_per_day.tolist() == [11.0]


def test_prior_year_rules_need_the_shifted_window_inside_the_baseline() -> None:
    with pytest.raises(ValueError, match="364 days earlier"):
        ScoringRules(
            TZ,
            D(2023, 6, 1),
            D(2023, 12, 31),
            D(2024, 1, 8),
            D(2024, 1, 14),
            baseline=BaselineSpec(method=METHOD_PRIOR_YEAR),
        )


# --- degree days ------------------------------------------------------------------------------

# 20 baseline days whose temperatures straddle 15 °C; consumption exactly 2 + 0.5 × HDD(15 °C).
BASELINE_TEMPS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 1, 3, 5, 7, 9, 11, 13, 17]
COMPETITION_TEMPS = [5, 15, 25]
DEGREE_RULES = ScoringRules(
    TZ,
    D(2024, 1, 1),
    D(2024, 1, 20),
    D(2024, 1, 22),
    D(2024, 1, 24),
    baseline=BaselineSpec(method=METHOD_DEGREE_DAY),
)


def degree_day_weather() -> pd.DataFrame:
    days = [*pd.date_range("2024-01-01", periods=20), *pd.date_range("2024-01-22", periods=3)]
    return pd.DataFrame({DAY: days, TEMP_C: [*BASELINE_TEMPS, *COMPETITION_TEMPS]})


def test_degree_day_regression_by_hand() -> None:
    baseline = [2 + 0.5 * max(15 - t, 0) for t in BASELINE_TEMPS]
    data = pd.concat([daily(1, "2024-01-01", baseline), daily(1, "2024-01-22", [6, 2, 1])])
    board = score_contest(
        data, one_household(), DEGREE_RULES, after("2024-01-25"), weather=degree_day_weather()
    )
    model = board.baseline_models.iloc[0]
    assert model[MODEL] == "hdd"
    assert model[HEATING_BALANCE_POINT_C] == 15
    assert model[HEATING_KWH_PER_DEGREE_DAY] == pytest.approx(0.5)
    assert model[INTERCEPT_KWH_PER_DAY] == pytest.approx(2.0)
    row = board.households.iloc[0]
    # 5 °C: 2 + 0.5 × 10 = 7; 15 °C: 2; 25 °C: 2 → 11 kWh expected, 9 used.
    assert row[EXPECTED_KWH] == pytest.approx(11.0)
    assert row[SAVINGS_KWH] == pytest.approx(2.0)
    assert row[SAVINGS_FRACTION] == pytest.approx(2 / 11)
    assert row[STATUS] == STATUS_RANKED


def test_degree_day_needs_weather() -> None:
    data = daily(1, "2024-01-01", [1.0] * 20)
    with pytest.raises(FrameSchemaError, match="weather"):
        score_contest(data, one_household(), DEGREE_RULES, after("2024-01-25"))


def test_a_summer_baseline_falls_back_to_the_intercept() -> None:
    weather = degree_day_weather().assign(**{TEMP_C: 24.0})  # no heating degree days at all
    data = pd.concat([daily(1, "2024-01-01", [5.0, 7.0] * 10), daily(1, "2024-01-22", [5, 5, 5])])
    board = score_contest(data, one_household(), DEGREE_RULES, after("2024-01-25"), weather=weather)
    assert board.baseline_models.iloc[0][MODEL] == "intercept_only"
    assert board.households.iloc[0][EXPECTED_KWH] == pytest.approx(3 * 6.0)


# --- peer benchmark ---------------------------------------------------------------------------

PEER_RULES = ScoringRules(
    TZ,
    D(2024, 1, 1),
    D(2024, 1, 4),
    D(2024, 1, 8),
    D(2024, 1, 17),
    baseline=BaselineSpec(method=METHOD_PEER_BENCHMARK),
)


def test_peer_benchmark_by_hand() -> None:
    # Test table: a 2-person flat without electric hot water typically uses 3650 kWh/a = 10 kWh/day.
    data = daily(1, "2024-01-08", [8.0] * 10)
    people = one_household(**{BUILDING_TYPE: "flat", ELECTRIC_HOT_WATER: False})
    board = score_contest(data, people, PEER_RULES, after("2024-01-18"), peer_table=TEST_TABLE)
    row = board.households.iloc[0]
    assert row[BASELINE_METHOD] == METHOD_PEER_BENCHMARK
    assert row[BASELINE_KWH_PER_DAY] == pytest.approx(10.0)
    assert row[EXPECTED_KWH] == pytest.approx(100.0)
    assert row[SAVINGS_FRACTION] == pytest.approx(0.2)
    assert row[STATUS] == STATUS_RANKED
    assert board.parameters["peer_table"]["edition"] == "test"
    assert not [
        f for f in board.findings if f.key == FINDING_PEER_TABLE_UNVERIFIED
    ]  # the test table says verified


def test_peer_benchmark_without_attributes_is_not_ranked_and_says_why() -> None:
    data = daily(1, "2024-01-08", [8.0] * 10)
    board = score_contest(data, one_household(), PEER_RULES, after("2024-01-18"), peer_table=TEST_TABLE)
    row = board.households.iloc[0]
    assert row[STATUS] == STATUS_INSUFFICIENT_DATA
    assert row[STATUS_REASON] == FINDING_PEER_ATTRIBUTES_MISSING
    assert [f.key for f in board.findings] == [FINDING_PEER_ATTRIBUTES_MISSING]


def test_peer_fallback_scores_households_without_history_and_flags_an_unverified_table() -> None:
    rules = ScoringRules(
        TZ,
        D(2024, 1, 1),
        D(2024, 1, 4),
        D(2024, 1, 8),
        D(2024, 1, 17),
        baseline=BaselineSpec(peer_fallback=True),
    )
    people = pd.DataFrame(
        {
            HOUSEHOLD_ID: [1, 2, 3],
            TEAM_ID: [None] * 3,
            PERSONS: [2, 2, 1],
            BUILDING_TYPE: ["flat", "flat", None],
            ELECTRIC_HOT_WATER: ["no", "no", "no"],
        }
    )
    data = pd.concat(
        [
            daily(1, "2024-01-01", [10.0] * 4),  # history: scored against itself
            daily(1, "2024-01-08", [9.0] * 10),
            daily(2, "2024-01-08", [9.0] * 10),  # new household: the peer benchmark
            daily(3, "2024-01-08", [9.0] * 10),  # new, building type unknown: not ranked
        ]
    )
    board = score_contest(data, people, rules, after("2024-01-18"))  # the shipped (unverified) table
    by_id = board.households.set_index(HOUSEHOLD_ID)
    assert by_id.loc[1, BASELINE_METHOD] == METHOD_PRIOR_PERIOD_MEAN
    assert by_id.loc[2, BASELINE_METHOD] == METHOD_PEER_BENCHMARK
    shipped = load_stromspiegel().lookup([2], ["flat"], [False])["typical_kwh_per_year"].iloc[0]
    assert by_id.loc[2, EXPECTED_KWH] == pytest.approx(shipped / 365 * 10)
    assert by_id.loc[3, STATUS] == STATUS_INSUFFICIENT_DATA
    assert by_id.loc[3, STATUS_REASON] == FINDING_INSUFFICIENT_COVERAGE
    unverified = [f for f in board.findings if f.key == FINDING_PEER_TABLE_UNVERIFIED]
    assert unverified[0].data["households"] == 1


def test_peer_benchmark_model_band_is_classes_c_to_e() -> None:
    model = PeerBenchmarkModel(TEST_TABLE, [2], ["flat"], [False])
    low, high = model.band_kwh_per_day
    assert low[0] == pytest.approx(3300 / 365)
    assert high[0] == pytest.approx(4500 / 365)


def test_peer_benchmark_is_for_electricity_only() -> None:
    with pytest.raises(ValueError, match="electricity only"):
        ScoringRules(
            TZ,
            D(2024, 1, 1),
            D(2024, 1, 4),
            D(2024, 1, 8),
            D(2024, 1, 17),
            baseline=BaselineSpec(method=METHOD_PEER_BENCHMARK),
            carrier="gas",
        )
