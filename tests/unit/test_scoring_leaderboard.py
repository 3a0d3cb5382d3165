"""Rules of scoring.leaderboard: baselines, expected and actual energy, coverage, statuses, ranks, teams."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring.daily import daily_consumption, household_daily
from scoring.leaderboard import Leaderboard, score_contest
from scoring.ranking import shown_savings_fraction
from scoring.rules import ScoringRules
from scoring.schema import (
    ACTUAL_KWH,
    BASELINE_COVERAGE_FRACTION,
    BASELINE_DAYS,
    BASELINE_DAYS_WITH_DATA,
    BASELINE_KWH_PER_DAY,
    COMPETITION_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    COVERAGE_FRACTION,
    DAY,
    DURATION_S,
    ENERGY_KWH,
    EXPECTED_KWH,
    FINDING_INSUFFICIENT_COVERAGE,
    FINDING_INVALID_PERSONS,
    FINDING_TEAM_TOO_FEW_MEMBERS,
    FINDING_UNKNOWN_HOUSEHOLD,
    FINDING_ZERO_BASELINE,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_DAILY_COLUMNS,
    HOUSEHOLD_DETAIL_COLUMNS,
    HOUSEHOLD_ID,
    HOUSEHOLD_RESULT_COLUMNS,
    KIND,
    KIND_REGISTER,
    MEMBERS,
    METER_ID,
    PERSONS,
    RANK,
    RANKED_MEMBERS,
    SAVINGS_FRACTION,
    SAVINGS_KWH,
    SAVINGS_KWH_PER_PERSON,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_NOT_STARTED,
    STATUS_RANKED,
    TEAM_DETAIL_COLUMNS,
    TEAM_ID,
    TEAM_RESULT_COLUMNS,
    TS_UTC,
    FrameSchemaError,
)

TZ = "Europe/Berlin"
D = dt.date

# Baseline 1-3 January (3 days), competition 8-12 January (5 days).
RULES = ScoringRules(
    tz=TZ,
    baseline_start=D(2024, 1, 1),
    baseline_end=D(2024, 1, 3),
    competition_start=D(2024, 1, 8),
    competition_end=D(2024, 1, 12),
)
# 00:30 on 13 January in Berlin is 23:30 UTC on the 12th: every competition day is complete.
AFTER_END = pd.Timestamp("2024-01-12T23:30", tz="UTC")


def rows(household: object, first: str, energies: list[float | None], coverage: float = 1.0) -> list[tuple]:
    """Daily rows from ``first`` on; None leaves the day out (no data at all)."""
    start = pd.Timestamp(first)
    return [
        (household, start + pd.Timedelta(days=i), e, coverage)
        for i, e in enumerate(energies)
        if e is not None
    ]


def daily(*groups: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame([r for g in groups for r in g], columns=list(HOUSEHOLD_DAILY_COLUMNS))
    frame[DAY] = pd.to_datetime(frame[DAY])
    return frame


def households(spec: dict[object, tuple[object, int]]) -> pd.DataFrame:
    """{household_id: (team_id, persons)}."""
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: list(spec),
            TEAM_ID: [team for team, _ in spec.values()],
            PERSONS: [persons for _, persons in spec.values()],
        }
    )


def row(board: Leaderboard, household: object) -> pd.Series:
    frame = board.households
    return frame.loc[frame[HOUSEHOLD_ID] == household].iloc[0]


def team_row(board: Leaderboard, team: object) -> pd.Series:
    return board.teams.loc[board.teams[TEAM_ID] == team].iloc[0]


# --- the hand-computed example ----------------------------------------------------------------


def example_board() -> Leaderboard:
    data = daily(
        rows(1, "2024-01-01", [10, 12, 11]),
        rows(1, "2024-01-08", [9, 10, None, 8, 9]),
        rows(2, "2024-01-01", [6, 6, 6]),
        rows(2, "2024-01-08", [6, 6, 6, 6]),
        rows(2, "2024-01-12", [3], coverage=0.5),  # half-covered day: not a day with data
        rows(3, "2024-01-01", [20, 20, None]),
        rows(3, "2024-01-08", [15, 15, 15, 15, 15]),
        rows(4, "2024-01-01", [8, 9, 10]),
        rows(4, "2024-01-08", [7, 7, 7, 7, 7]),
    )
    people = households({1: ("A", 2), 2: ("A", 1), 3: ("B", 3), 4: ("A", 4)})
    return score_contest(data, people, RULES, AFTER_END)


def test_hand_computed_example_households() -> None:
    board = example_board()
    one = row(board, 1)
    assert one[BASELINE_KWH_PER_DAY] == pytest.approx((10 + 12 + 11) / 3)  # = 11
    assert one[COMPETITION_DAYS] == 5
    assert one[COMPETITION_DAYS_WITH_DATA] == 4  # 10 January has no data
    assert one[COMPETITION_COVERAGE_FRACTION] == pytest.approx(4 / 5)  # exactly 80 %: still ranked
    assert one[EXPECTED_KWH] == pytest.approx(11 * 4)  # = 44: the missing day is not expected either
    assert one[ACTUAL_KWH] == pytest.approx(9 + 10 + 8 + 9)  # = 36
    assert one[SAVINGS_KWH] == pytest.approx(44 - 36)  # = 8
    assert one[SAVINGS_FRACTION] == pytest.approx(8 / 44)  # 18.2 %
    assert one[SAVINGS_KWH_PER_PERSON] == pytest.approx(8 / 2)

    two = row(board, 2)  # the half-covered 12 January counts neither as expected nor as actual
    assert two[COMPETITION_DAYS_WITH_DATA] == 4
    assert two[EXPECTED_KWH] == pytest.approx(6 * 4)
    assert two[ACTUAL_KWH] == pytest.approx(6 * 4)
    assert two[SAVINGS_FRACTION] == pytest.approx(0.0)

    three = row(board, 3)  # 2 of 3 baseline days = 67 % < 80 %
    assert three[BASELINE_DAYS] == 3
    assert three[BASELINE_DAYS_WITH_DATA] == 2
    assert three[BASELINE_COVERAGE_FRACTION] == pytest.approx(2 / 3)
    assert three[STATUS] == STATUS_INSUFFICIENT_DATA
    assert pd.isna(three[RANK])

    four = row(board, 4)
    assert four[BASELINE_KWH_PER_DAY] == pytest.approx((8 + 9 + 10) / 3)  # = 9
    assert four[EXPECTED_KWH] == pytest.approx(9 * 5)  # = 45
    assert four[ACTUAL_KWH] == pytest.approx(7 * 5)  # = 35
    assert four[SAVINGS_FRACTION] == pytest.approx(10 / 45)  # 22.2 %
    assert four[SAVINGS_KWH_PER_PERSON] == pytest.approx(10 / 4)

    # 22.2 % > 18.2 % > 0 %; household 3 is unranked and listed last.
    assert list(board.households[HOUSEHOLD_ID]) == [4, 1, 2, 3]
    assert list(board.households[RANK]) == [1, 2, 3, pd.NA]
    assert list(board.households[STATUS]) == [STATUS_RANKED] * 3 + [STATUS_INSUFFICIENT_DATA]


def test_hand_computed_example_teams() -> None:
    board = example_board()
    team_a = team_row(board, "A")  # households 1, 2, 4: all ranked
    assert team_a[MEMBERS] == 3
    assert team_a[RANKED_MEMBERS] == 3
    assert team_a[EXPECTED_KWH] == pytest.approx(44 + 24 + 45)  # = 113
    assert team_a[ACTUAL_KWH] == pytest.approx(36 + 24 + 35)  # = 95
    assert team_a[SAVINGS_FRACTION] == pytest.approx((8 + 0 + 10) / 113)
    assert team_a[SAVINGS_KWH_PER_PERSON] == pytest.approx(18 / (2 + 1 + 4))
    assert team_a[STATUS] == STATUS_RANKED
    assert team_a[RANK] == 1
    team_b = team_row(board, "B")  # household 3 alone, unranked
    assert team_b[STATUS] == STATUS_INSUFFICIENT_DATA
    assert pd.isna(team_b[RANK])
    assert list(board.teams.columns) == [*TEAM_RESULT_COLUMNS, *TEAM_DETAIL_COLUMNS]


def test_unranked_household_gets_a_coverage_finding() -> None:
    board = example_board()
    coverage = [f for f in board.findings if f.key == FINDING_INSUFFICIENT_COVERAGE]
    assert [f.subject for f in coverage] == ["household:3"]
    assert coverage[0].data["baseline_coverage"] == pytest.approx(2 / 3)
    assert coverage[0].data["competition_coverage"] == pytest.approx(1.0)


# --- coverage thresholds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("competition_energies", "status"),
    [
        ([9, 9, 9, 9, None], STATUS_RANKED),  # 4 / 5 = 80 %: exactly the threshold is enough
        ([9, 9, 9, None, None], STATUS_INSUFFICIENT_DATA),  # 3 / 5 = 60 %
    ],
)
def test_competition_coverage_threshold_is_inclusive(competition_energies: list, status: str) -> None:
    data = daily(rows(1, "2024-01-01", [10, 10, 10]), rows(1, "2024-01-08", competition_energies))
    board = score_contest(data, households({1: (None, 1)}), RULES, AFTER_END)
    assert row(board, 1)[STATUS] == status


def test_baseline_coverage_threshold_is_inclusive_with_ten_days() -> None:
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 10), D(2024, 1, 15), D(2024, 1, 15))
    after = pd.Timestamp("2024-01-16T12:00", tz="UTC")
    people = households({"eight": (None, 1), "seven": (None, 1)})
    data = daily(
        rows("eight", "2024-01-01", [10] * 8 + [None, None]),  # 8 / 10 = 80 %
        rows("seven", "2024-01-01", [10] * 7 + [None, None, None]),  # 7 / 10 = 70 %
        rows("eight", "2024-01-15", [9]),
        rows("seven", "2024-01-15", [9]),
    )
    board = score_contest(data, people, rules, after)
    assert row(board, "eight")[STATUS] == STATUS_RANKED
    assert row(board, "seven")[STATUS] == STATUS_INSUFFICIENT_DATA


@pytest.mark.parametrize(("coverage", "counts"), [(0.9, True), (0.89, False)])
def test_a_day_has_data_from_the_day_coverage_threshold_on(coverage: float, counts: bool) -> None:
    data = daily(rows(1, "2024-01-01", [10, 10, 10], coverage=coverage))
    board = score_contest(data, households({1: (None, 1)}), RULES, AFTER_END)
    assert row(board, 1)[BASELINE_DAYS_WITH_DATA] == (3 if counts else 0)


def test_a_partially_covered_low_day_is_never_a_saving() -> None:
    # Baseline 10 kWh/day. Day 8: full (10 kWh). Day 9: half covered, 2 kWh. Counting day 9 would
    # invent 8 kWh of savings; excluding it from expected and actual leaves 10 - 10 = 0.
    data = daily(
        rows(1, "2024-01-01", [10, 10, 10]),
        rows(1, "2024-01-08", [10]),
        rows(1, "2024-01-09", [2], coverage=0.5),
    )
    rules = ScoringRules(
        TZ, D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 9), min_coverage_fraction=0.5
    )
    board = score_contest(data, households({1: (None, 1)}), rules, AFTER_END)
    one = row(board, 1)
    assert one[EXPECTED_KWH] == pytest.approx(10 * 1)
    assert one[ACTUAL_KWH] == pytest.approx(10)
    assert one[SAVINGS_KWH] == pytest.approx(0.0)


# --- ranks and ties ---------------------------------------------------------------------------


def one_day_board(actual_by_household: dict[object, float]) -> Leaderboard:
    """Everyone has a baseline of 10 kWh/day and one competition day with the given consumption."""
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 2))
    data = daily(*[rows(h, "2024-01-01", [10, actual]) for h, actual in actual_by_household.items()])
    people = households({h: (None, 1) for h in actual_by_household})
    return score_contest(data, people, rules, pd.Timestamp("2024-01-03T12:00", tz="UTC"))


def test_equal_savings_share_a_rank_and_the_next_rank_is_skipped() -> None:
    # Savings 30 %, 20 %, 20 %, 10 % -> ranks 1, 2, 2, 4.
    board = one_day_board({"a": 7.0, "b": 8.0, "c": 8.0, "d": 9.0})
    assert list(board.households[HOUSEHOLD_ID]) == ["a", "b", "c", "d"]
    assert list(board.households[RANK]) == [1, 2, 2, 4]


def test_households_shown_with_the_same_percentage_share_a_rank() -> None:
    # 20.04 % and 20.00 % are both shown as 20.0 %: same rank. 20.06 % is shown as 20.1 %: ahead.
    board = one_day_board({"shown_20_0_a": 7.996, "shown_20_0_b": 8.0, "shown_20_1": 7.994})
    ranks = dict(zip(board.households[HOUSEHOLD_ID], board.households[RANK], strict=True))
    assert ranks == {"shown_20_1": 1, "shown_20_0_a": 2, "shown_20_0_b": 2}
    assert shown_savings_fraction(0.2004) == 0.2
    assert shown_savings_fraction(0.2006) == 0.201
    assert np.isnan(shown_savings_fraction(float("nan")))


def test_negative_savings_rank_below_positive_ones() -> None:
    board = one_day_board({"used_more": 12.0, "saved": 9.0})
    assert list(board.households[HOUSEHOLD_ID]) == ["saved", "used_more"]
    assert row(board, "used_more")[SAVINGS_FRACTION] == pytest.approx(-0.2)


# --- teams ------------------------------------------------------------------------------------


def test_team_with_two_ranked_members_is_not_ranked_with_three_it_is() -> None:
    baseline = [10, 10, 10]
    competition = [9, 9, 9, 9, 9]
    data = daily(
        *[
            rows(h, "2024-01-01", baseline) + rows(h, "2024-01-08", competition)
            for h in ["p1", "p2", "q1", "q2", "q3"]
        ],
        rows("p3", "2024-01-01", baseline),  # member of "pair" without competition data: unranked
    )
    people = households(
        {
            "p1": ("pair", 1),
            "p2": ("pair", 1),
            "p3": ("pair", 1),
            "q1": ("trio", 1),
            "q2": ("trio", 1),
            "q3": ("trio", 1),
        }
    )
    board = score_contest(data, people, RULES, AFTER_END)
    pair, trio = team_row(board, "pair"), team_row(board, "trio")
    assert (pair[MEMBERS], pair[RANKED_MEMBERS], pair[STATUS]) == (3, 2, STATUS_INSUFFICIENT_DATA)
    assert pd.isna(pair[RANK])
    assert (trio[MEMBERS], trio[RANKED_MEMBERS], trio[STATUS], trio[RANK]) == (3, 3, STATUS_RANKED, 1)
    too_few = [f for f in board.findings if f.key == FINDING_TEAM_TOO_FEW_MEMBERS]
    assert [f.subject for f in too_few] == ["team:pair"]
    assert too_few[0].data == {"ranked_members": 2, "min_team_members": 3}
    assert list(board.teams[TEAM_ID]) == ["trio", "pair"]  # ranked first


def test_team_score_uses_only_ranked_members() -> None:
    # Ranked members save 10 % and 20 % of 50 kWh each; the unranked member's 90 % does not count.
    data = daily(
        rows(1, "2024-01-01", [10, 10, 10]),
        rows(1, "2024-01-08", [9] * 5),
        rows(2, "2024-01-01", [10, 10, 10]),
        rows(2, "2024-01-08", [8] * 5),
        rows(3, "2024-01-01", [10, None, None]),
        rows(3, "2024-01-08", [1] * 5),
    )
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12), min_team_members=2)
    board = score_contest(data, households({1: ("t", 2), 2: ("t", 3), 3: ("t", 5)}), rules, AFTER_END)
    team = team_row(board, "t")
    assert team[EXPECTED_KWH] == pytest.approx(50 + 50)
    assert team[SAVINGS_KWH] == pytest.approx(5 + 10)
    assert team[SAVINGS_FRACTION] == pytest.approx(15 / 100)
    assert team[SAVINGS_KWH_PER_PERSON] == pytest.approx(15 / (2 + 3))


def test_households_without_a_team_are_in_no_team_row() -> None:
    data = daily(rows(9, "2024-01-01", [1, 1, 1]))
    board = score_contest(data, households({9: (None, 1)}), RULES, AFTER_END)
    assert board.teams.empty
    assert list(board.teams.columns) == [*TEAM_RESULT_COLUMNS, *TEAM_DETAIL_COLUMNS]


# --- time: as_of ------------------------------------------------------------------------------


def test_before_the_first_competition_day_is_complete_nothing_is_ranked() -> None:
    # 23:30 Berlin on 8 January: the first competition day is not over yet.
    as_of = pd.Timestamp("2024-01-08T23:30", tz=TZ)
    board = example_board_at(as_of)
    assert set(board.households[STATUS]) == {STATUS_NOT_STARTED}
    assert board.households[RANK].isna().all()
    assert set(board.teams[STATUS]) == {STATUS_NOT_STARTED}
    assert (board.households[COMPETITION_DAYS] == 0).all()
    assert row(board, 1)[BASELINE_KWH_PER_DAY] == pytest.approx(11.0)  # the baseline is already known
    assert board.as_of == as_of.tz_convert("UTC")


def test_only_days_completed_before_as_of_count() -> None:
    # Midnight Berlin at the start of 10 January: 8 and 9 January are complete, later rows are ignored.
    board = example_board_at(pd.Timestamp("2024-01-10T00:00", tz=TZ))
    one = row(board, 1)
    assert one[COMPETITION_DAYS] == 2
    assert one[ACTUAL_KWH] == pytest.approx(9 + 10)
    assert one[EXPECTED_KWH] == pytest.approx(11 * 2)


def example_board_at(as_of: pd.Timestamp) -> Leaderboard:
    data = daily(rows(1, "2024-01-01", [10, 12, 11]), rows(1, "2024-01-08", [9, 10, 99, 99, 99]))
    return score_contest(data, households({1: ("A", 2)}), RULES, as_of)


def test_a_naive_as_of_is_an_error() -> None:
    with pytest.raises(ValueError, match="as_of"):
        score_contest(daily(), households({}), RULES, dt.datetime(2024, 1, 13, 12, 0))


def test_as_of_may_be_an_aware_datetime() -> None:
    as_of = dt.datetime(2024, 1, 13, 12, 0, tzinfo=dt.UTC)
    assert score_contest(daily(), households({}), RULES, as_of).as_of == pd.Timestamp(as_of)


# --- inputs and outputs -----------------------------------------------------------------------


@pytest.mark.parametrize("column", [HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION])
def test_a_daily_frame_without_a_column_is_an_error_naming_it(column: str) -> None:
    data = daily(rows(1, "2024-01-01", [10])).drop(columns=[column])
    with pytest.raises(FrameSchemaError, match=column):
        score_contest(data, households({1: (None, 1)}), RULES, AFTER_END)


@pytest.mark.parametrize("column", [HOUSEHOLD_ID, TEAM_ID, PERSONS])
def test_a_households_frame_without_a_column_is_an_error_naming_it(column: str) -> None:
    with pytest.raises(FrameSchemaError, match=column):
        score_contest(daily(), households({1: (None, 1)}).drop(columns=[column]), RULES, AFTER_END)


def test_repeated_household_ids_are_an_error() -> None:
    people = pd.concat([households({1: (None, 1)})] * 2)
    with pytest.raises(FrameSchemaError, match="unique"):
        score_contest(daily(), people, RULES, AFTER_END)


def test_no_households_and_no_days_give_empty_frames_with_the_columns() -> None:
    board = score_contest(daily(), households({}), RULES, AFTER_END)
    assert board.households.empty
    assert list(board.households.columns) == [
        *HOUSEHOLD_COLUMNS,
        *HOUSEHOLD_RESULT_COLUMNS,
        *HOUSEHOLD_DETAIL_COLUMNS,
    ]
    assert board.teams.empty
    assert list(board.teams.columns) == [*TEAM_RESULT_COLUMNS, *TEAM_DETAIL_COLUMNS]
    assert board.findings == ()


def test_households_without_any_days_are_listed_as_insufficient_data() -> None:
    board = score_contest(daily(), households({1: ("A", 1), 2: (None, 2)}), RULES, AFTER_END)
    assert list(board.households[STATUS]) == [STATUS_INSUFFICIENT_DATA] * 2
    assert list(board.households[HOUSEHOLD_ID]) == [1, 2]


def test_extra_household_columns_pass_through_unchanged() -> None:
    people = households({1: ("A", 2), 2: ("A", 1), 3: ("B", 3), 4: ("A", 4)})
    people["pseudonym"] = ["Fuchs", "Igel", "Dachs", "Eule"]
    people["public"] = [True, False, True, True]
    board = score_contest(example_board_data(), people, RULES, AFTER_END)
    out = board.households
    assert list(out.columns) == [
        *HOUSEHOLD_COLUMNS,
        "pseudonym",
        "public",
        *HOUSEHOLD_RESULT_COLUMNS,
        *HOUSEHOLD_DETAIL_COLUMNS,
    ]
    merged = out.merge(people, on=HOUSEHOLD_ID, suffixes=("", "_given"))
    assert (merged["pseudonym"] == merged["pseudonym_given"]).all()
    assert (merged["public"] == merged["public_given"]).all()
    assert out["public"].dtype == bool


def example_board_data() -> pd.DataFrame:
    return daily(
        rows(1, "2024-01-01", [10, 12, 11]),
        rows(1, "2024-01-08", [9, 10, None, 8, 9]),
        rows(4, "2024-01-01", [8, 9, 10]),
        rows(4, "2024-01-08", [7, 7, 7, 7, 7]),
    )


def test_invalid_persons_give_a_finding_and_no_per_person_value() -> None:
    data = daily(rows(1, "2024-01-01", [10, 10, 10]), rows(1, "2024-01-08", [9] * 5))
    board = score_contest(data, households({1: (None, 0)}), RULES, AFTER_END)
    one = row(board, 1)
    assert one[STATUS] == STATUS_RANKED  # ranks use the fraction, which persons do not change
    assert np.isnan(one[SAVINGS_KWH_PER_PERSON])
    assert [f.key for f in board.findings] == [FINDING_INVALID_PERSONS]


def test_a_zero_baseline_is_not_ranked_and_says_why() -> None:
    data = daily(rows(1, "2024-01-01", [0, 0, 0]), rows(1, "2024-01-08", [1] * 5))
    board = score_contest(data, households({1: (None, 1)}), RULES, AFTER_END)
    assert row(board, 1)[STATUS] == STATUS_INSUFFICIENT_DATA
    assert [f.key for f in board.findings] == [FINDING_ZERO_BASELINE]


def test_several_rows_for_one_household_day_add_up_like_household_daily() -> None:
    """Daily rows given per meter (two rows for a household day) are summed, energy and coverage, before
    the day is judged; a missing energy in one of them leaves the day without data."""
    one_row = daily(rows(1, "2024-01-01", [10, 10, 10]), rows(1, "2024-01-08", [8, 8, 8, 8, 8]))
    per_meter = daily(
        rows(1, "2024-01-01", [6, 6, 6], coverage=0.5),
        rows(1, "2024-01-01", [4, 4, 4], coverage=0.5),
        rows(1, "2024-01-08", [5, 5, 5, 5, 5], coverage=0.5),
        rows(1, "2024-01-08", [3, 3, 3, 3, 3], coverage=0.5),
    )
    people = households({1: ("A", 1)})
    summed = row(score_contest(per_meter, people, RULES, AFTER_END), 1)
    single = row(score_contest(one_row, people, RULES, AFTER_END), 1)
    assert summed[BASELINE_KWH_PER_DAY] == single[BASELINE_KWH_PER_DAY] == 10
    assert summed[ACTUAL_KWH] == single[ACTUAL_KWH] == 40
    assert summed[SAVINGS_FRACTION] == single[SAVINGS_FRACTION] == pytest.approx(0.2)
    with_gap = per_meter.copy()
    with_gap.loc[len(with_gap) - 1, ENERGY_KWH] = np.nan  # 12 January: one meter's energy is missing
    gap = row(score_contest(with_gap, people, RULES, AFTER_END), 1)
    assert gap[COMPETITION_DAYS_WITH_DATA] == 4
    assert gap[ACTUAL_KWH] == 32


def test_days_of_unknown_households_are_ignored_with_a_finding() -> None:
    data = daily(
        rows(1, "2024-01-01", [10, 10, 10]), rows(1, "2024-01-08", [9] * 5), rows(77, "2024-01-01", [1])
    )
    board = score_contest(data, households({1: (None, 1)}), RULES, AFTER_END)
    assert list(board.households[HOUSEHOLD_ID]) == [1]
    unknown = [f for f in board.findings if f.key == FINDING_UNKNOWN_HOUSEHOLD]
    assert unknown[0].data == {"rows": 1, "households": [77]}


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"baseline_start": D(2024, 1, 4)}, "baseline_start"),
        ({"competition_end": D(2024, 1, 7)}, "competition_start"),
        ({"competition_start": D(2024, 1, 3)}, "baseline must end before"),
        ({"min_coverage_fraction": 0.0}, "min_coverage_fraction"),
        ({"min_coverage_fraction": 1.5}, "min_coverage_fraction"),
        ({"min_day_coverage_fraction": float("nan")}, "min_day_coverage_fraction"),
        ({"min_team_members": 0}, "min_team_members"),
        ({"tz": "Europe/Gotham"}, "Europe/Gotham"),
        ({"baseline_start": dt.datetime(2024, 1, 1)}, "datetime.date"),
    ],
)
def test_inconsistent_rules_are_refused_with_the_reason(changes: dict, message: str) -> None:
    fields = {
        "tz": TZ,
        "baseline_start": D(2024, 1, 1),
        "baseline_end": D(2024, 1, 3),
        "competition_start": D(2024, 1, 8),
        "competition_end": D(2024, 1, 12),
    }
    with pytest.raises(ValueError, match=message):
        ScoringRules(**{**fields, **changes})


def test_fractions_of_one_are_allowed() -> None:
    rules = ScoringRules(TZ, D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12), 1.0, 1, 1.0)
    assert (rules.baseline_days, rules.competition_days) == (3, 5)


# --- the whole path ---------------------------------------------------------------------------


def test_from_register_readings_to_a_ranked_household() -> None:
    # Monthly-style register readings at local midnights: 3 days at 10 kWh, then 5 days at 8 kWh.
    # Baseline 10 kWh/day, expected 10 x 5 = 50, actual 8 x 5 = 40, saving 20 %.
    def reading(day: str, kwh: float) -> dict:
        ts = pd.Timestamp(f"{day} 00:00", tz=TZ).tz_convert("UTC")
        return {METER_ID: "m", TS_UTC: ts, ENERGY_KWH: kwh, KIND: KIND_REGISTER, DURATION_S: np.nan}

    readings = pd.DataFrame(
        [
            reading("2024-01-01", 0),
            reading("2024-01-04", 30),
            reading("2024-01-08", 70),
            reading("2024-01-13", 110),
        ]
    )
    meter_days, findings = daily_consumption(readings, TZ)
    assert findings == []
    days = household_daily(meter_days, pd.DataFrame({METER_ID: ["m"], HOUSEHOLD_ID: [1]}))
    board = score_contest(days, households({1: (None, 2)}), RULES, AFTER_END)
    one = row(board, 1)
    assert one[STATUS] == STATUS_RANKED
    assert one[BASELINE_KWH_PER_DAY] == pytest.approx(10.0)
    assert one[EXPECTED_KWH] == pytest.approx(50.0)
    assert one[ACTUAL_KWH] == pytest.approx(40.0)
    assert one[SAVINGS_FRACTION] == pytest.approx(0.2)


def test_nullable_integer_team_ids_keep_their_type_in_the_team_table() -> None:
    people = households({1: (7, 1), 2: (None, 1)})
    people[TEAM_ID] = people[TEAM_ID].astype("Int64")
    board = score_contest(daily(rows(1, "2024-01-01", [10, 10, 10])), people, RULES, AFTER_END)
    assert board.teams[TEAM_ID].dtype == "Int64"
    assert list(board.teams[TEAM_ID]) == [7]
