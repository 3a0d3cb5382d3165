"""Cross-check: our degree-day model predicts the same baseline totals as OpenDSM's daily model (within
2 %) on sample meters OpenDSM ships, over their baseline year and over the year after it.

OpenDSM 1.2.7 needs pandas < 3 and this project runs pandas 3, so the two cannot share one environment.
``test_agrees_with_recorded_opendsm_predictions`` therefore compares with OpenDSM's predictions recorded by
``tests/data/weather/opendsm_reference.py`` (run in an environment with OpenDSM; it stores the samples'
daily usage and temperatures next to the totals) and runs in every test run. When OpenDSM does import
here (a pandas-2 environment), ``test_agrees_with_opendsm_live`` also refits OpenDSM on the spot.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scoring.dayblock import DayBlock
from scoring.degree_day import DegreeDayModel
from scoring.leaderboard import score_contest
from scoring.methods import METHOD_DEGREE_DAY
from scoring.rules import ScoringRules
from scoring.schema import (
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    EXPECTED_KWH,
    HOUSEHOLD_ID,
    PERSONS,
    TEAM_ID,
    TEMP_C,
)
from scoring.specs import BaselineSpec

DATA = Path(__file__).resolve().parents[1] / "data" / "weather"
SAMPLES = pd.read_csv(DATA / "opendsm_samples_daily.csv", parse_dates=["day"])
REFERENCE = json.loads((DATA / "opendsm_reference.json").read_text())
SPEC = BaselineSpec(method=METHOD_DEGREE_DAY, min_baseline_coverage_fraction=0.9)
TOLERANCE = 0.02


def our_totals(sample: str, samples: pd.DataFrame | None = None) -> dict[str, float]:
    """Our model fitted on the sample's baseline: predicted totals over its baseline and reporting days."""
    frame = SAMPLES if samples is None else samples
    rows = frame[frame["sample"] == sample]
    blocks = {}
    for period in ("baseline", "reporting"):
        part = rows[rows["period"] == period]
        blocks[period] = DayBlock(
            part["energy_kwh"].to_numpy(dtype=np.float64)[np.newaxis, :],
            part["day"].to_numpy().astype("datetime64[D]"),
            part["temp_c"].to_numpy(dtype=np.float64),
        )
    model = DegreeDayModel(SPEC).fit(blocks["baseline"])
    totals = {}
    for period, block in blocks.items():
        predicted = model.predict(block)
        totals[f"{period}_predicted"] = float(np.sum(predicted[block.has_data]))
    return totals


@pytest.mark.parametrize("sample", sorted(REFERENCE["samples"]))
@pytest.mark.parametrize("settings", ["current", "legacy"])
def test_agrees_with_recorded_opendsm_predictions(sample: str, settings: str) -> None:
    ours = our_totals(sample)
    theirs = REFERENCE["samples"][sample][settings]
    for key in ("baseline_predicted", "reporting_predicted"):
        assert ours[key] == pytest.approx(theirs[key], rel=TOLERANCE), (sample, settings, key)


@pytest.mark.parametrize("sample", sorted(REFERENCE["samples"]))
def test_score_contest_expects_what_the_model_predicts(sample: str) -> None:
    """The same cross-check through the whole scoring path: daily frame, weather frame, rules, as_of."""
    rows = SAMPLES[SAMPLES["sample"] == sample]
    baseline, reporting = rows[rows["period"] == "baseline"], rows[rows["period"] == "reporting"]
    rules = ScoringRules(
        tz="Europe/Berlin",
        baseline_start=baseline["day"].min().date(),
        baseline_end=baseline["day"].max().date(),
        competition_start=reporting["day"].min().date(),
        competition_end=reporting["day"].max().date(),
        baseline=SPEC,
    )
    daily = pd.DataFrame(
        {
            HOUSEHOLD_ID: 1,
            DAY: rows["day"].to_numpy(),
            ENERGY_KWH: rows["energy_kwh"].to_numpy(),
            COVERAGE_FRACTION: 1.0,
        }
    )
    weather = pd.DataFrame({DAY: rows["day"].to_numpy(), TEMP_C: rows["temp_c"].to_numpy()})
    households = pd.DataFrame({HOUSEHOLD_ID: [1], TEAM_ID: [None], PERSONS: [1]})
    as_of = pd.Timestamp(reporting["day"].max() + dt.timedelta(days=2)).tz_localize("UTC")
    board = score_contest(daily, households, rules, as_of, weather=weather)
    expected = board.households[EXPECTED_KWH].iloc[0]
    assert expected == pytest.approx(our_totals(sample)["reporting_predicted"], rel=1e-9)
    assert expected == pytest.approx(
        REFERENCE["samples"][sample]["current"]["reporting_predicted"], rel=TOLERANCE
    )


@pytest.fixture(scope="module")
def live_opendsm(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, object]]:
    """OpenDSM itself, run now in its own environment (it needs pandas < 3; this project runs pandas 3):
    ``scripts/test.sh`` builds ``.venv-opendsm`` and sets ``CONTEST_OPENDSM_PYTHON``. The reference
    script fits OpenDSM's daily model on the sample meters OpenDSM ships and writes its predictions."""
    python = os.environ.get("CONTEST_OPENDSM_PYTHON")
    if not python:
        pytest.skip("CONTEST_OPENDSM_PYTHON is not set: run the tests with scripts/test.sh")
    out = tmp_path_factory.mktemp("opendsm")
    subprocess.run(
        [python, str(DATA / "opendsm_reference.py"), str(out)], check=True, timeout=1200, capture_output=True
    )
    samples = pd.read_csv(out / "opendsm_samples_daily.csv", parse_dates=["day"])
    return samples, json.loads((out / "opendsm_reference.json").read_text())


@pytest.mark.parametrize("sample", sorted(REFERENCE["samples"]))
@pytest.mark.parametrize("settings", ["current", "legacy"])
def test_agrees_with_opendsm_live(
    live_opendsm: tuple[pd.DataFrame, dict[str, Any]], sample: str, settings: str
) -> None:
    samples, reference = live_opendsm
    ours = our_totals(sample, samples)
    theirs = reference["samples"][sample][settings]
    for key in ("baseline_predicted", "reporting_predicted"):
        assert ours[key] == pytest.approx(theirs[key], rel=TOLERANCE), (sample, settings, key)
