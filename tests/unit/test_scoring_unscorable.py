"""Scoring survives any stored data (issue 11): a household whose days no household can have used
(1e300 kWh from a broken register, +inf) is listed under review with a finding and never changes the
others' results; an interval of 1e12 s is an unusable reading, not an overflow."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.daily import daily_consumption
from scoring.leaderboard import Leaderboard, score_contest
from scoring.rules import ScoringRules
from scoring.schema import (
    COVERAGE_FRACTION,
    DAY,
    DURATION_S,
    ENERGY_KWH,
    FINDING_HOUSEHOLD_UNSCORABLE,
    FINDING_UNUSABLE_READINGS,
    HOUSEHOLD_ID,
    KIND,
    KIND_INTERVAL,
    MAX_HOUSEHOLD_KWH_PER_DAY,
    METER_ID,
    PERSONS,
    RANK,
    SAVINGS_FRACTION,
    STATUS,
    STATUS_RANKED,
    STATUS_REASON,
    STATUS_UNDER_REVIEW,
    TEAM_ID,
    TS_UTC,
)

TZ = "Europe/Berlin"
D = dt.date
RULES = ScoringRules(
    tz=TZ,
    baseline_start=D(2024, 1, 1),
    baseline_end=D(2024, 1, 7),
    competition_start=D(2024, 1, 8),
    competition_end=D(2024, 1, 14),
    min_team_members=1,
)
AFTER_END = pd.Timestamp("2024-01-15T12:00", tz="UTC")
DAYS = pd.date_range("2024-01-01", "2024-01-14", freq="D")


def daily(per_household: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        (h, day, e, 1.0) for h, values in per_household.items() for day, e in zip(DAYS, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])


def households(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({HOUSEHOLD_ID: ids, TEAM_ID: ["t"] * len(ids), PERSONS: [2] * len(ids)})


GOOD = {
    "a": [10.0] * 7 + [8.0] * 7,
    "b": [12.0] * 7 + [12.0] * 7,
    "c": [11.0] * 7 + [9.9] * 7,
}


def by_household(board: Leaderboard) -> pd.DataFrame:
    return board.households.set_index(HOUSEHOLD_ID).sort_index()


@pytest.mark.parametrize("absurd", [1e300, float("inf"), MAX_HOUSEHOLD_KWH_PER_DAY * 1.01])
def test_a_household_with_an_impossible_day_is_held_back_and_the_others_are_ranked(absurd: float) -> None:
    poisoned = [10.0] * 7 + [8.0] * 7
    poisoned[9] = absurd
    board = score_contest(daily({**GOOD, "x": poisoned}), households([*GOOD, "x"]), RULES, AFTER_END)
    hh = by_household(board)
    assert hh.loc["x", STATUS] == STATUS_UNDER_REVIEW
    assert hh.loc["x", STATUS_REASON] == FINDING_HOUSEHOLD_UNSCORABLE
    assert pd.isna(hh.loc["x", RANK]) and pd.isna(hh.loc["x", SAVINGS_FRACTION])
    (finding,) = [f for f in board.findings if f.key == FINDING_HOUSEHOLD_UNSCORABLE]
    assert finding.subject == "household:x" and finding.data["first_day"] == "2024-01-10"
    assert "cannot be scored" in finding.detail
    # The others are scored exactly as without the broken household; team and city figures stay finite.
    alone = by_household(score_contest(daily(GOOD), households(list(GOOD)), RULES, AFTER_END))
    assert list(hh.loc[list(GOOD), STATUS]) == [STATUS_RANKED] * 3
    assert hh.loc[list(GOOD), SAVINGS_FRACTION].tolist() == alone[SAVINGS_FRACTION].tolist()
    assert hh.loc[list(GOOD), RANK].tolist() == alone[RANK].tolist()
    assert np.isfinite(board.teams[SAVINGS_FRACTION].astype(float)).all()
    assert all(
        np.isfinite(v) for v in dataclasses.asdict(board.city_figures).values() if isinstance(v, float)
    )


def test_a_day_at_the_physical_limit_still_counts() -> None:
    heavy = [MAX_HOUSEHOLD_KWH_PER_DAY] * 14
    board = score_contest(daily({**GOOD, "h": heavy}), households([*GOOD, "h"]), RULES, AFTER_END)
    assert by_household(board).loc["h", STATUS] == STATUS_RANKED


@pytest.mark.parametrize("duration_s", [1e12, float("inf"), 367 * 86_400.0])
def test_an_interval_longer_than_a_year_is_an_unusable_reading_not_an_overflow(duration_s: float) -> None:
    readings = pd.DataFrame(
        {
            METER_ID: ["m", "m"],
            TS_UTC: pd.to_datetime(["2024-01-05T00:00Z", "2024-01-05T01:00Z"], utc=True),
            ENERGY_KWH: [1.0, 0.5],
            KIND: [KIND_INTERVAL, KIND_INTERVAL],
            DURATION_S: [duration_s, 3600.0],
        }
    )
    frame, findings = daily_consumption(readings, TZ)
    assert frame[ENERGY_KWH].sum() == pytest.approx(0.5)
    (finding,) = [f for f in findings if f.key == FINDING_UNUSABLE_READINGS]
    assert finding.data["reasons"] == {"bad_interval_duration": 1}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=0, max_value=100)),
        min_size=14,
        max_size=14,
    ),
    st.lists(st.floats(min_value=0, max_value=1.0), min_size=14, max_size=14),
)
def test_no_numbers_of_one_household_stop_scoring_or_change_the_others(
    energies: list[float], coverages: list[float]
) -> None:
    frame = daily({**GOOD, "x": energies})
    frame.loc[frame[HOUSEHOLD_ID] == "x", COVERAGE_FRACTION] = coverages
    board = score_contest(frame, households([*GOOD, "x"]), RULES, AFTER_END)
    alone = by_household(score_contest(daily(GOOD), households(list(GOOD)), RULES, AFTER_END))
    hh = by_household(board)
    assert hh.loc[list(GOOD), SAVINGS_FRACTION].tolist() == alone[SAVINGS_FRACTION].tolist()
    fraction = hh.loc["x", SAVINGS_FRACTION]
    assert pd.isna(fraction) or np.isfinite(fraction)


def test_a_reading_in_the_year_3000_is_unusable_not_an_overflow() -> None:
    readings = pd.DataFrame(
        {
            METER_ID: ["m", "m", "m"],
            TS_UTC: pd.Series(
                [
                    pd.Timestamp("2024-01-05T00:00Z"),
                    pd.Timestamp("3000-01-05T00:00Z"),
                    pd.Timestamp("2024-01-05T01:00Z"),
                ]
            ).dt.as_unit("us"),
            ENERGY_KWH: [0.5, 1.0, 0.5],
            KIND: [KIND_INTERVAL] * 3,
            DURATION_S: [3600.0] * 3,
        }
    )
    frame, findings = daily_consumption(readings, TZ)
    assert frame[ENERGY_KWH].sum() == pytest.approx(1.0)
    (finding,) = [f for f in findings if f.key == FINDING_UNUSABLE_READINGS]
    assert finding.data["reasons"] == {"time_out_of_range": 1}


def test_a_baseline_too_small_for_a_finite_share_is_held_back_too() -> None:
    tiny = [1e-320] * 7 + [8.0] * 7  # 8 kWh against 1e-320 kWh expected: a share of -inf
    board = score_contest(daily({**GOOD, "t": tiny}), households([*GOOD, "t"]), RULES, AFTER_END)
    hh = by_household(board)
    assert hh.loc["t", STATUS] == STATUS_UNDER_REVIEW and pd.isna(hh.loc["t", SAVINGS_FRACTION])
    (finding,) = [f for f in board.findings if f.key == FINDING_HOUSEHOLD_UNSCORABLE]
    assert finding.data["reason"] == "savings_fraction_not_finite"
    assert list(hh.loc[list(GOOD), STATUS]) == [STATUS_RANKED] * 3
