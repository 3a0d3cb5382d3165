"""Benchmark of scoring: full recomputes of a large contest, against OpenDSM fitted one household at a time.

    python bench/scoring.py [--households 10000] [--days 455] [--opendsm-households 200]
                            [--opendsm-python /tmp/opendsm-venv/bin/python]

Builds a synthetic contest (households × days of daily data with temperatures: 365 baseline days, the
rest competition), then measures in one run:

- (a) ``score_contest`` with the prior-period mean, the full recompute (target: <= 1 s at 10,000 × 455);
- (b) ``score_contest`` with the degree-day regression (grid search for every household), full recompute;
- (c) OpenDSM's daily model (``DailyModel()``, and its CalTRACK ``"legacy"`` settings) fitted on the same
  baseline of the first N households, one household at a time (fit + predict of the competition days),
  after one untimed warm-up fit (numba compiles on first use).

Ratio: OpenDSM seconds per household / degree-day seconds per household (target: >= 20). OpenDSM 1.2.7
needs pandas < 3 and the project runs pandas 3, so (c) runs in a separate interpreter that has OpenDSM
(``--opendsm-python``, or ``$OPENDSM_PYTHON``); this file is also that worker (``--opendsm-worker DIR``)
and imports nothing of the project in that role. Without such an interpreter (c) is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OPENDSM_PYTHON = "/tmp/opendsm-venv/bin/python"
BASELINE_DAYS = 365
FIRST_DAY = pd.Timestamp("2023-01-02")


def synthetic_contest(households: int, days: int, seed: int = 7) -> dict[str, Any]:
    """Daily data of ``households`` over ``days`` local days, with a seasonal temperature [°C].

    About 30 % of the households heat with electricity (heating slope 0.2-1.2 kWh/(K·d) below a balance
    point of 12-17 °C); every household has noise, 2 % missing days, 1 % half-covered days, and saves
    0-15 % in the competition.
    """
    rng = np.random.default_rng(seed)
    day_index = pd.date_range(FIRST_DAY, periods=days, freq="D", unit="us")
    doy = day_index.day_of_year.to_numpy()
    temp_c = 9.5 - 9.0 * np.cos(2 * np.pi * (doy - 15) / 365.25) + rng.normal(0, 2.5, days)
    base = rng.lognormal(np.log(6.0), 0.45, households)
    heating = np.where(rng.random(households) < 0.3, rng.uniform(0.2, 1.2, households), 0.0)
    balance = rng.uniform(12, 17, households)
    noise = base * rng.uniform(0.1, 0.25, households)
    saving = rng.uniform(0.0, 0.15, households)
    hdd = np.maximum(balance[:, None] - temp_c[None, :], 0.0)
    energy = base[:, None] + heating[:, None] * hdd + rng.normal(0, 1, (households, days)) * noise[:, None]
    competition = np.arange(days) >= BASELINE_DAYS
    energy = np.where(competition[None, :], energy * (1 - saving[:, None]), energy)
    energy = np.maximum(energy, 0.05)
    coverage = np.where(rng.random((households, days)) < 0.01, 0.5, 1.0)
    present = rng.random((households, days)) >= 0.02
    hh_index, day_pos = np.nonzero(present)
    daily = pd.DataFrame(
        {
            "household_id": hh_index.astype(np.int64) + 1,
            "day": day_index.to_numpy()[day_pos],
            "energy_kwh": energy[hh_index, day_pos],
            "coverage_fraction": coverage[hh_index, day_pos],
        }
    )
    households_frame = pd.DataFrame(
        {
            "household_id": np.arange(1, households + 1, dtype=np.int64),
            "team_id": pd.array(rng.integers(1, max(households // 20, 2) + 1, households), dtype="Int64"),
            "persons": rng.integers(1, 6, households),
            "living_area_m2": rng.uniform(35, 160, households).round(1),
        }
    )
    weather = pd.DataFrame({"day": day_index, "temp_c": temp_c})
    return {"daily": daily, "households": households_frame, "weather": weather, "day_index": day_index}


def best_of(repeat: int, run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_opendsm(python: str, contest: dict[str, Any], board: Any, n: int) -> dict[str, Any] | None:
    """Fit OpenDSM on the first ``n`` households in the worker interpreter; None when it is missing."""
    if not Path(python).exists():
        print(f"(c) skipped: no OpenDSM interpreter at {python} (see the module docstring)")
        return None
    daily, day_index = contest["daily"], contest["day_index"]
    ids = contest["households"]["household_id"].to_numpy()[:n]
    usable = daily[daily["household_id"].isin(ids) & (daily["coverage_fraction"] >= 0.9)]
    with tempfile.TemporaryDirectory() as tmp:
        usable[["household_id", "day", "energy_kwh"]].to_csv(Path(tmp) / "daily.csv", index=False)
        contest["weather"].to_csv(Path(tmp) / "weather.csv", index=False)
        meta = {
            "baseline_last_day": str(day_index[BASELINE_DAYS - 1].date()),
            "households": [int(i) for i in ids],
        }
        (Path(tmp) / "meta.json").write_text(json.dumps(meta))
        done = subprocess.run(
            [python, str(Path(__file__).resolve()), "--opendsm-worker", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print("(c) OpenDSM worker failed:\n" + done.stderr[-3000:])
            return None
        result: dict[str, Any] = json.loads((Path(tmp) / "result.json").read_text())
    return result


def opendsm_worker(directory: str) -> None:
    """In the OpenDSM interpreter: fit every household alone, time it, write result.json."""
    import logging
    import warnings

    from opendsm import eemeter

    warnings.filterwarnings("ignore")
    logging.getLogger("eemeter").setLevel(logging.ERROR)
    logging.getLogger("opendsm").setLevel(logging.ERROR)
    folder = Path(directory)
    meta = json.loads((folder / "meta.json").read_text())
    daily = pd.read_csv(folder / "daily.csv", parse_dates=["day"])
    weather = pd.read_csv(folder / "weather.csv", parse_dates=["day"])
    # OpenDSM takes hourly temperatures in °F: each day's mean repeated for its 24 hours.
    hours = pd.date_range(
        weather["day"].min(), weather["day"].max() + pd.Timedelta(hours=23), freq="h", tz="UTC"
    )
    temp_f = pd.Series(
        np.repeat(weather["temp_c"].to_numpy() * 9 / 5 + 32, 24), index=hours, name="temperature"
    )
    last_base = pd.Timestamp(meta["baseline_last_day"], tz="UTC")
    full_days = pd.date_range(weather["day"].min(), weather["day"].max(), freq="D", tz="UTC")

    def series(household: int) -> tuple[pd.Series, pd.Series]:
        rows = daily[daily["household_id"] == household]
        values = pd.Series(
            rows["energy_kwh"].to_numpy(), index=pd.DatetimeIndex(rows["day"]).tz_localize("UTC")
        )
        values = values.reindex(full_days)  # days without data stay NaN
        meter = values.to_frame("observed")
        return meter[meter.index <= last_base]["observed"], meter[meter.index > last_base]["observed"]

    result: dict[str, Any] = {"households": meta["households"], "models": {}}
    for settings in ("current", "legacy"):
        base0, _ = series(meta["households"][0])
        warm = eemeter.DailyBaselineData.from_series(
            base0.to_frame("observed"), temp_f, is_electricity_data=True
        )
        eemeter.DailyModel(model=settings).fit(warm, ignore_disqualification=True)  # numba warm-up, untimed
        fit_s, total_s, predicted = 0.0, 0.0, []
        for household in meta["households"]:
            base, rep = series(household)
            start = time.perf_counter()
            baseline = eemeter.DailyBaselineData.from_series(
                base.to_frame("observed"), temp_f, is_electricity_data=True
            )
            reporting = eemeter.DailyReportingData.from_series(
                rep.to_frame("observed"), temp_f, is_electricity_data=True
            )
            fit_start = time.perf_counter()
            model = eemeter.DailyModel(model=settings).fit(baseline, ignore_disqualification=True)
            fit_s += time.perf_counter() - fit_start
            frame = model.predict(reporting)
            total_s += time.perf_counter() - start
            observed = frame["observed"].notna()
            predicted.append(float(frame.loc[observed, "predicted"].sum()))
        result["models"][settings] = {"fit_s": fit_s, "total_s": total_s, "predicted_kwh": predicted}
    (folder / "result.json").write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=455)
    parser.add_argument("--opendsm-households", type=int, default=200)
    parser.add_argument("--opendsm-python", default=os.environ.get("OPENDSM_PYTHON", DEFAULT_OPENDSM_PYTHON))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--opendsm-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.opendsm_worker:
        opendsm_worker(args.opendsm_worker)
        return

    sys.path.insert(0, str(ROOT))
    from scoring.leaderboard import score_contest
    from scoring.methods import METHOD_DEGREE_DAY
    from scoring.rules import ScoringRules
    from scoring.specs import BaselineSpec

    contest = synthetic_contest(args.households, args.days)
    day_index = contest["day_index"]
    last = day_index[-1]
    rules = ScoringRules(
        tz="Europe/Berlin",
        baseline_start=day_index[0].date(),
        baseline_end=day_index[BASELINE_DAYS - 1].date(),
        competition_start=day_index[BASELINE_DAYS].date(),
        competition_end=last.date(),
    )
    degree_rules = ScoringRules(
        tz="Europe/Berlin",
        baseline_start=rules.baseline_start,
        baseline_end=rules.baseline_end,
        competition_start=rules.competition_start,
        competition_end=rules.competition_end,
        baseline=BaselineSpec(method=METHOD_DEGREE_DAY, min_baseline_coverage_fraction=0.9),
    )
    as_of = pd.Timestamp(last + pd.Timedelta(days=1, hours=12)).tz_localize("UTC")
    rows = len(contest["daily"])
    print(f"contest: {args.households:,} households × {args.days} days ({rows:,} daily rows), 2 cores")

    prior_s, prior_board = best_of(
        args.repeat, lambda: score_contest(contest["daily"], contest["households"], rules, as_of)
    )
    print(f"(a) prior-period mean, full recompute: {prior_s:.3f} s (best of {args.repeat}; target <= 1 s)")
    degree_s, degree_board = best_of(
        args.repeat,
        lambda: score_contest(
            contest["daily"], contest["households"], degree_rules, as_of, weather=contest["weather"]
        ),
    )
    per_household = degree_s / args.households
    models = degree_board.baseline_models["model"].value_counts().to_dict()
    print(
        f"(b) degree-day regression, full recompute: {degree_s:.3f} s = {per_household * 1e3:.3f} ms per household "
        f"(models: {models})"
    )
    print(
        f"    ranked: prior-period {prior_board.city_figures.ranked_households:,}, degree-day "
        f"{degree_board.city_figures.ranked_households:,}"
    )

    n = min(args.opendsm_households, args.households)
    result = run_opendsm(args.opendsm_python, contest, degree_board, n)
    if result is None:
        return
    ours = (
        degree_board.households.set_index("household_id").loc[result["households"], "expected_kwh"].to_numpy()
    )
    for settings, figures in result["models"].items():
        each = figures["total_s"] / n
        fit_each = figures["fit_s"] / n
        theirs = np.asarray(figures["predicted_kwh"])
        gap = np.abs(ours / theirs - 1)
        print(
            f"(c) OpenDSM DailyModel({settings!r}), {n} households one at a time: {figures['total_s']:.1f} s = "
            f"{each * 1e3:.0f} ms per household ({fit_each * 1e3:.0f} ms of it fitting)"
        )
        print(
            f"    ratio OpenDSM / degree-day per household: {each / per_household:,.0f}× "
            f"(fit only: {fit_each / per_household:,.0f}×; target >= 20×); competition totals vs ours: "
            f"median gap {np.median(gap):.2%}, 90th percentile {np.percentile(gap, 90):.2%}"
        )


if __name__ == "__main__":
    main()
