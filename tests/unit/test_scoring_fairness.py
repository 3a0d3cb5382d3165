"""Fairness and reporting rules: per-m² figures, categories with their own ranks, team aggregation
(ratio, mean, median), declared absences and excluded days, CO2 and the city's figures."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from scoring.days import expand_absence_ranges
from scoring.leaderboard import Leaderboard, score_contest
from scoring.rules import ScoringRules
from scoring.schema import (
    ACTUAL_KWH,
    BASELINE_DAYS,
    CATEGORY,
    CATEGORY_RANK,
    CO2_SAVED_KG,
    COMPETITION_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    EXPECTED_KWH,
    FINDING_INVALID_LIVING_AREA,
    FINDING_UNKNOWN_ABSENCE,
    FIRST_DAY,
    HOUSEHOLD_ID,
    LAST_DAY,
    LIVING_AREA_M2,
    PERSONS,
    RANK,
    SAVINGS_FRACTION,
    SAVINGS_KWH,
    SAVINGS_KWH_PER_M2,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_RANKED,
    TEAM_ID,
    FrameSchemaError,
)
from scoring.specs import TEAM_MEAN, TEAM_MEDIAN, EmissionFactors

TZ = "Europe/Berlin"
D = dt.date
RULES = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 12), min_team_members=2)
AFTER_END = pd.Timestamp("2024-01-13T12:00", tz="UTC")


def household_days(spec: dict[object, tuple[float, list[float | None]]]) -> pd.DataFrame:
    """{household: (baseline kWh on each of 4 days, competition kWh on 8.-12. January)}."""
    rows = []
    for household, (base, competition) in spec.items():
        rows += [(household, pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), base, 1.0) for i in range(4)]
        rows += [
            (household, pd.Timestamp("2024-01-08") + pd.Timedelta(days=i), e, 1.0)
            for i, e in enumerate(competition)
            if e is not None
        ]
    return pd.DataFrame(rows, columns=[HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])


# Savings fractions: 1: 20 %, 2: 10 %, 3: 0 %, 4: 40 %.
DATA = household_days(
    {
        1: (10.0, [8.0] * 5),
        2: (20.0, [18.0] * 5),
        3: (5.0, [5.0] * 5),
        4: (10.0, [6.0] * 5),
    }
)
PEOPLE = pd.DataFrame(
    {
        HOUSEHOLD_ID: [1, 2, 3, 4],
        TEAM_ID: ["A", "A", "A", "B"],
        PERSONS: [1, 2, 6, 1],
        LIVING_AREA_M2: [50.0, 100.0, None, 40.0],
    }
)


def by_id(board: Leaderboard) -> pd.DataFrame:
    return board.households.set_index(HOUSEHOLD_ID)


def team(board: Leaderboard, team_id: str) -> pd.Series:
    return board.teams.set_index(TEAM_ID).loc[team_id]


def test_per_m2_savings_and_a_missing_area_is_simply_not_given() -> None:
    board = score_contest(DATA, PEOPLE, RULES, AFTER_END)
    rows = by_id(board)
    assert rows.loc[1, SAVINGS_KWH_PER_M2] == pytest.approx(10 / 50)  # 50 expected − 40 used
    assert rows.loc[2, SAVINGS_KWH_PER_M2] == pytest.approx(10 / 100)
    assert np.isnan(rows.loc[3, SAVINGS_KWH_PER_M2])
    assert not [f for f in board.findings if f.key == FINDING_INVALID_LIVING_AREA]
    # Team A: household 3 (ranked, 0 kWh saved) has no area, so the team has no per-m² figure.
    assert np.isnan(team(board, "A")[SAVINGS_KWH_PER_M2])
    assert team(board, "B")[SAVINGS_KWH_PER_M2] == pytest.approx(20 / 40)


def test_an_invalid_area_gives_a_finding() -> None:
    people = PEOPLE.assign(**{LIVING_AREA_M2: [50.0, 0.0, "big", 40.0]})
    board = score_contest(DATA, people, RULES, AFTER_END)
    bad = [f for f in board.findings if f.key == FINDING_INVALID_LIVING_AREA]
    assert [f.subject for f in bad] == ["household:2", "household:3"]
    assert np.isnan(by_id(board).loc[2, SAVINGS_KWH_PER_M2])


def test_categories_from_a_column_have_their_own_ranks() -> None:
    people = PEOPLE.assign(**{CATEGORY: ["flat", "house", "flat", "flat"]})
    rows = by_id(score_contest(DATA, people, RULES, AFTER_END))
    assert list(rows.loc[[4, 1, 2, 3], RANK]) == [1, 2, 3, 4]
    assert rows.loc[4, CATEGORY_RANK] == 1  # flat: 40 %, 20 %, 0 %
    assert rows.loc[1, CATEGORY_RANK] == 2
    assert rows.loc[3, CATEGORY_RANK] == 3
    assert rows.loc[2, CATEGORY_RANK] == 1  # the only house
    assert rows.loc[2, CATEGORY] == "house"


def test_household_size_classes_as_a_rule() -> None:
    rules = ScoringRules(
        TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 12), category_by="household_size"
    )
    rows = by_id(score_contest(DATA, PEOPLE, rules, AFTER_END))
    assert list(rows.loc[[1, 2, 3, 4], CATEGORY]) == ["1", "2", "5+", "1"]
    assert rows.loc[4, CATEGORY_RANK] == 1 and rows.loc[1, CATEGORY_RANK] == 2  # 1 person: 40 % before 20 %
    assert rows.loc[2, CATEGORY_RANK] == 1 and rows.loc[3, CATEGORY_RANK] == 1


def test_unranked_households_have_no_category_rank() -> None:
    data = DATA[~((DATA[HOUSEHOLD_ID] == 1) & (DATA[DAY] >= pd.Timestamp("2024-01-08")))]
    people = PEOPLE.assign(**{CATEGORY: "all"})
    rows = by_id(score_contest(data, people, RULES, AFTER_END))
    assert rows.loc[1, STATUS] == STATUS_INSUFFICIENT_DATA
    assert pd.isna(rows.loc[1, CATEGORY_RANK])
    assert list(rows.loc[[4, 2, 3], CATEGORY_RANK]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("aggregation", "fraction"),
    [
        ("ratio", (10 + 10 + 0) / (50 + 100 + 25)),  # sum of savings / sum of expected
        (TEAM_MEAN, (0.2 + 0.1 + 0.0) / 3),
        (TEAM_MEDIAN, 0.1),
    ],
)
def test_team_aggregation(aggregation: str, fraction: float) -> None:
    rules = ScoringRules(
        TZ,
        D(2024, 1, 1),
        D(2024, 1, 4),
        D(2024, 1, 8),
        D(2024, 1, 12),
        min_team_members=2,
        team_aggregation=aggregation,
    )
    board = score_contest(DATA, PEOPLE, rules, AFTER_END)
    assert team(board, "A")[SAVINGS_FRACTION] == pytest.approx(fraction)
    assert team(board, "A")[SAVINGS_KWH] == pytest.approx(20)  # sums stay sums
    assert team(board, "B")[STATUS] == STATUS_INSUFFICIENT_DATA  # one ranked member, two needed


def test_unknown_team_aggregation_is_refused() -> None:
    with pytest.raises(ValueError, match="team_aggregation"):
        ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 12), team_aggregation="best")


def test_declared_absences_drop_out_of_both_periods() -> None:
    # Household 1 is away 9-11 January and used little; household 2 was away on 2 January.
    data = household_days({1: (10.0, [8.0, 1.0, 1.0, 1.0, 8.0]), 2: (20.0, [18.0] * 5)})
    absences = expand_absence_ranges(
        pd.DataFrame(
            {
                HOUSEHOLD_ID: [1, 2, 99],
                FIRST_DAY: [D(2024, 1, 9), D(2024, 1, 2), D(2024, 1, 9)],
                LAST_DAY: [D(2024, 1, 11), D(2024, 1, 2), D(2024, 1, 9)],
            }
        )
    )
    assert len(absences) == 5
    board = score_contest(data, PEOPLE.iloc[:2], RULES, AFTER_END, absences=absences)
    rows = by_id(board)
    assert rows.loc[1, COMPETITION_DAYS] == 2  # 5 days − 3 absent
    assert rows.loc[1, COMPETITION_DAYS_WITH_DATA] == 2
    assert rows.loc[1, COMPETITION_COVERAGE_FRACTION] == pytest.approx(1.0)  # absence costs no coverage
    assert rows.loc[1, EXPECTED_KWH] == pytest.approx(20)
    assert rows.loc[1, ACTUAL_KWH] == pytest.approx(16)  # the empty-house days do not count as savings
    assert rows.loc[2, BASELINE_DAYS] == 3
    unknown = [f for f in board.findings if f.key == FINDING_UNKNOWN_ABSENCE]
    assert unknown[0].data == {"rows": 1, "households": ["99"]}


def test_excluded_days_drop_out_for_everyone() -> None:
    rules = ScoringRules(
        TZ,
        D(2024, 1, 1),
        D(2024, 1, 4),
        D(2024, 1, 8),
        D(2024, 1, 12),
        excluded_days=[D(2024, 1, 10), D(2024, 1, 1)],
    )
    assert rules.excluded_days == (D(2024, 1, 1), D(2024, 1, 10))
    data = household_days({1: (10.0, [8.0, 8.0, 100.0, 8.0, 8.0])})
    data.loc[data[DAY] == pd.Timestamp("2024-01-01"), ENERGY_KWH] = 1000.0
    row = by_id(score_contest(data, PEOPLE.iloc[:1], rules, AFTER_END)).loc[1]
    assert row[BASELINE_DAYS] == 3 and row[COMPETITION_DAYS] == 4
    assert row[EXPECTED_KWH] == pytest.approx(40)
    assert row[ACTUAL_KWH] == pytest.approx(32)


def test_absence_ranges_must_not_end_before_they_start() -> None:
    with pytest.raises(FrameSchemaError, match="ends before it starts"):
        expand_absence_ranges(
            pd.DataFrame({HOUSEHOLD_ID: [1], FIRST_DAY: [D(2024, 1, 9)], LAST_DAY: [D(2024, 1, 8)]})
        )


def test_co2_per_household_team_and_city() -> None:
    board = score_contest(DATA, PEOPLE, RULES, AFTER_END)
    rows = by_id(board)
    assert rows.loc[1, CO2_SAVED_KG] == pytest.approx(10 * 0.380)  # UBA electricity mix 2023, 380 g/kWh
    assert team(board, "A")[CO2_SAVED_KG] == pytest.approx(20 * 0.380)
    city = board.city_figures
    assert city is not None
    assert city.participants == 4
    assert city.ranked_households == 4
    assert city.enough_data_fraction == pytest.approx(1.0)
    assert city.savings_kwh == pytest.approx(10 + 10 + 0 + 20)
    assert city.expected_kwh == pytest.approx(50 + 100 + 25 + 50)
    assert city.co2_saved_t == pytest.approx(40 * 0.380 / 1000)
    assert city.teams == 2 and city.ranked_teams == 1


def test_gas_uses_the_gas_factor_and_heat_without_factor_has_no_co2() -> None:
    gas = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 12), carrier="gas")
    assert by_id(score_contest(DATA, PEOPLE, gas, AFTER_END)).loc[1, CO2_SAVED_KG] == pytest.approx(
        10 * 0.182  # per kWh of Brennwert (H_s)
    )
    heat = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 8), D(2024, 1, 12), carrier="heat")
    board = score_contest(DATA, PEOPLE, heat, AFTER_END)
    assert np.isnan(by_id(board).loc[1, CO2_SAVED_KG])
    assert board.city_figures is not None and math.isnan(board.city_figures.co2_saved_t)
    own = ScoringRules(
        TZ,
        D(2024, 1, 1),
        D(2024, 1, 4),
        D(2024, 1, 8),
        D(2024, 1, 12),
        carrier="heat",
        emission_factors=EmissionFactors(heat_kg_per_kwh=0.15),
    )
    assert by_id(score_contest(DATA, PEOPLE, own, AFTER_END)).loc[1, CO2_SAVED_KG] == pytest.approx(1.5)


def test_city_figures_count_households_without_enough_data() -> None:
    data = DATA[DATA[HOUSEHOLD_ID] != 3]
    board = score_contest(data, PEOPLE, RULES, AFTER_END)
    city = board.city_figures
    assert city is not None
    assert city.ranked_households == 3
    assert city.households_with_enough_data == 3
    assert city.enough_data_fraction == pytest.approx(3 / 4)
    assert by_id(board).loc[3, STATUS] == STATUS_INSUFFICIENT_DATA
    assert (board.households[STATUS] == STATUS_RANKED).sum() == 3
