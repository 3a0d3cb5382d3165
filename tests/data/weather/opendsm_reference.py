"""Regenerate the OpenDSM reference the degree-day cross-check compares against.

OpenDSM 1.2.7 needs pandas < 3 and this project runs pandas 3, so OpenDSM cannot share the project's
environment. Run this once in a separate environment that has only OpenDSM:

    python3.11 -m venv /tmp/opendsm-venv
    /tmp/opendsm-venv/bin/pip install "opendsm==1.2.7" "multimethod<2"
    /tmp/opendsm-venv/bin/python tests/data/weather/opendsm_reference.py

It writes, next to this file:
- ``opendsm_samples_daily.csv``: for each sample meter, its 365 baseline days (before the sample's
  blackout) and 365 reporting days (after it): the observed daily usage and the daily mean temperature
  as OpenDSM itself aggregates it from the hourly data, converted from °F to °C;
- ``opendsm_reference.json``: the totals OpenDSM's daily model (``DailyModel()``, and the CalTRACK
  ``"legacy"`` settings) predicts from the baseline fit, over the baseline and the reporting days.
Only OpenDSM and pandas are imported: the project is not needed here.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pandas as pd
from opendsm import eemeter

SAMPLES = ("il-electricity-cdd-hdd-daily", "il-gas-hdd-only-daily", "il-gas-intercept-only-daily")
HERE = Path(__file__).resolve().parent
#: where the files go: next to this script, or the folder given as the first argument (the live
#: cross-check in tests/unit/test_scoring_opendsm.py runs this in OpenDSM's own environment)
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE


def _frame(data: object, period: str, sample: str) -> pd.DataFrame:
    df = data.df  # type: ignore[attr-defined]
    return pd.DataFrame(
        {
            "sample": sample,
            "period": period,
            "day": df.index.tz_convert("UTC").strftime("%Y-%m-%d"),
            "energy_kwh": df["observed"].to_numpy(),
            "temp_c": ((df["temperature"] - 32.0) * 5.0 / 9.0).round(6).to_numpy(),
        }
    )


def main() -> None:
    logging.getLogger("eemeter").setLevel(logging.ERROR)
    rows = []
    reference: dict[str, object] = {"opendsm": "1.2.7", "samples": {}}
    for sample in SAMPLES:
        meter, temperature, metadata = eemeter.load_sample(sample)
        blackout_start, blackout_end = metadata["blackout_start_date"], metadata["blackout_end_date"]
        baseline_meter = meter[
            (meter.index >= blackout_start - pd.Timedelta(days=365)) & (meter.index < blackout_start)
        ]
        reporting_meter = meter[
            (meter.index >= blackout_end) & (meter.index < blackout_end + pd.Timedelta(days=365))
        ]
        is_electricity = metadata["interpretation"] == "electricity"
        baseline = eemeter.DailyBaselineData.from_series(
            baseline_meter, temperature, is_electricity_data=is_electricity
        )
        reporting = eemeter.DailyReportingData.from_series(
            reporting_meter, temperature, is_electricity_data=is_electricity
        )
        rows += [_frame(baseline, "baseline", sample), _frame(reporting, "reporting", sample)]
        totals = {}
        for settings in ("current", "legacy"):
            model = eemeter.DailyModel(model=settings).fit(baseline, ignore_disqualification=True)
            totals[settings] = {
                "baseline_predicted": float(model.predict(baseline)["predicted"].sum()),
                "reporting_predicted": float(model.predict(reporting)["predicted"].sum()),
            }
        reference["samples"][sample] = totals  # type: ignore[index]
    pd.concat(rows).to_csv(OUT / "opendsm_samples_daily.csv", index=False, float_format="%.6f")
    (OUT / "opendsm_reference.json").write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
