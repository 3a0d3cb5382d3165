"""Every score run records its method, parameters, input fingerprint and as_of; the same inputs give
byte-identical results whatever the order of their rows, and a changed input changes the fingerprint."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from scoring.leaderboard import Leaderboard, score_contest
from scoring.methods import METHOD_DEGREE_DAY, METHOD_PRIOR_PERIOD_MEAN
from scoring.rules import ScoringRules
from scoring.schema import (
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    HOUSEHOLD_ID,
    LIVING_AREA_M2,
    PERSONS,
    TEAM_ID,
    TEMP_C,
)
from scoring.specs import BaselineSpec

TZ = "Europe/Berlin"
D = dt.date
AS_OF = pd.Timestamp("2024-03-01T06:00", tz="UTC")


def contest(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-11-01", "2024-02-29")
    temp = 5 + 4 * np.sin(np.arange(len(days)) / 9) + rng.normal(0, 2, len(days))
    rows = []
    for household in range(1, 13):
        energy = (
            4
            + household % 4
            + 0.3 * (household % 3) * np.maximum(15 - temp, 0)
            + rng.normal(0, 0.6, len(days))
        )
        keep = rng.random(len(days)) > 0.05
        rows.append(
            pd.DataFrame(
                {
                    HOUSEHOLD_ID: household,
                    DAY: days[keep],
                    ENERGY_KWH: energy[keep] * np.where(days[keep] >= pd.Timestamp("2024-01-15"), 0.92, 1.0),
                    COVERAGE_FRACTION: np.where(rng.random(int(keep.sum())) < 0.03, 0.5, 1.0),
                }
            )
        )
    daily = pd.concat(rows, ignore_index=True)
    people = pd.DataFrame(
        {
            HOUSEHOLD_ID: range(1, 13),
            TEAM_ID: ["red", "blue", "green"] * 4,
            PERSONS: [1, 2, 3, 4] * 3,
            LIVING_AREA_M2: np.linspace(40, 150, 12),
            "pseudonym": [f"p{i}" for i in range(12)],
        }
    )
    weather = pd.DataFrame({DAY: days, TEMP_C: temp})
    return daily, people, weather


RULES = {
    METHOD_PRIOR_PERIOD_MEAN: ScoringRules(
        TZ, D(2023, 11, 1), D(2024, 1, 14), D(2024, 1, 15), D(2024, 2, 29)
    ),
    METHOD_DEGREE_DAY: ScoringRules(
        TZ,
        D(2023, 11, 1),
        D(2024, 1, 14),
        D(2024, 1, 15),
        D(2024, 2, 29),
        baseline=BaselineSpec(method=METHOD_DEGREE_DAY),
    ),
}


def serialized(board: Leaderboard) -> bytes:
    parts = [
        board.households.to_csv(index=False, float_format="%.17g"),
        board.teams.to_csv(index=False, float_format="%.17g"),
        ""
        if board.baseline_models is None
        else board.baseline_models.to_csv(index=False, float_format="%.17g"),
        repr(board.findings),
        repr(board.city_figures),
        json.dumps(board.parameters, sort_keys=True),
        board.input_fingerprint,
        board.as_of.isoformat(),
    ]
    return "\n".join(parts).encode()


@pytest.mark.parametrize("method", sorted(RULES))
def test_same_inputs_give_byte_identical_results(method: str) -> None:
    daily, people, weather = contest()
    first = score_contest(daily, people, RULES[method], AS_OF, weather=weather)
    again = score_contest(daily.copy(), people.copy(), RULES[method], AS_OF, weather=weather.copy())
    assert serialized(first) == serialized(again)


@pytest.mark.parametrize("method", sorted(RULES))
def test_row_order_does_not_change_a_byte(method: str) -> None:
    daily, people, weather = contest()
    first = score_contest(daily, people, RULES[method], AS_OF, weather=weather)
    shuffled = score_contest(
        daily.sample(frac=1.0, random_state=1),
        people.sample(frac=1.0, random_state=2),
        RULES[method],
        AS_OF,
        weather=weather.sample(frac=1.0, random_state=3),
    )
    assert serialized(first) == serialized(shuffled)


def test_the_run_is_recorded() -> None:
    daily, people, weather = contest()
    board = score_contest(daily, people, RULES[METHOD_DEGREE_DAY], AS_OF, weather=weather)
    assert board.method == METHOD_DEGREE_DAY
    assert board.as_of == AS_OF
    assert board.input_fingerprint.startswith("sha256:") and len(board.input_fingerprint) == 7 + 64
    parameters = json.loads(json.dumps(board.parameters))  # JSON-able
    assert parameters["baseline"]["method"] == METHOD_DEGREE_DAY
    assert parameters["baseline"]["heating_balance_points_c"][0] == 8.0
    assert parameters["competition_start"] == "2024-01-15"
    assert parameters["uncertainty"]["interval_level"] == 0.9


@pytest.mark.parametrize(
    "change",
    ["one_energy", "one_coverage", "a_person", "one_temperature", "a_new_column"],
)
def test_any_input_that_matters_changes_the_fingerprint(change: str) -> None:
    daily, people, weather = contest()
    base = score_contest(daily, people, RULES[METHOD_DEGREE_DAY], AS_OF, weather=weather).input_fingerprint
    if change == "one_energy":
        daily.loc[100, ENERGY_KWH] += 1e-9
    elif change == "one_coverage":
        daily.loc[100, COVERAGE_FRACTION] = 0.95
    elif change == "a_person":
        people.loc[3, PERSONS] = 5
    elif change == "one_temperature":
        weather.loc[80, TEMP_C] += 0.1
    else:
        people["public"] = True
    changed = score_contest(daily, people, RULES[METHOD_DEGREE_DAY], AS_OF, weather=weather).input_fingerprint
    assert changed != base


def test_rows_outside_the_scored_days_do_not_change_the_fingerprint() -> None:
    daily, people, weather = contest()
    base = score_contest(
        daily, people, RULES[METHOD_PRIOR_PERIOD_MEAN], AS_OF, weather=weather
    ).input_fingerprint
    later = pd.DataFrame(
        {HOUSEHOLD_ID: [1], DAY: [pd.Timestamp("2024-03-05")], ENERGY_KWH: [5.0], COVERAGE_FRACTION: [1.0]}
    )
    more = pd.concat([daily, later], ignore_index=True)
    assert (
        score_contest(more, people, RULES[METHOD_PRIOR_PERIOD_MEAN], AS_OF, weather=weather).input_fingerprint
        == base
    )
