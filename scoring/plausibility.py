"""Plausibility checks on household days: findings for the staff, with the evidence, never silent fixes.

- implausibly high days: above median + 3 × IQR of the household's baseline days (either period)
- possible vacancy: a long run of competition days below half the household's base load
- sudden drop to zero: consumption falls from at least the base load to zero and stays there
Vectorized over households; the Python loops below run only over flagged households.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.dayblock import DayBlock
from scoring.findings import Finding
from scoring.schema import FINDING_DROP_TO_ZERO, FINDING_HIGH_DAY, FINDING_POSSIBLE_VACANCY
from scoring.specs import PlausibilitySpec

_F64 = npt.NDArray[np.float64]
_B = npt.NDArray[np.bool_]

#: Days listed in a finding's data at most.
MAX_LISTED_DAYS = 20


def baseline_quantiles(baseline: DayBlock, quantiles: tuple[float, ...]) -> _F64:
    """Quantiles of each household's baseline days with data [kWh], shape (households, len(quantiles));
    NaN without data. Linear interpolation between order statistics (numpy's default method)."""
    ordered = np.sort(baseline.energy_kwh, axis=1)  # NaN sort last
    n = baseline.days_with_data
    out = np.full((len(n), len(quantiles)), np.nan)
    has = n > 0
    rows = np.flatnonzero(has)
    for j, q in enumerate(quantiles):
        position = (n[has] - 1) * q
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, n[has] - 1)
        weight = position - low
        out[rows, j] = ordered[rows, low] * (1 - weight) + ordered[rows, high] * weight
    return out


def run_lengths(flags: _B) -> npt.NDArray[np.int64]:
    """Length of the run of True that each position belongs to, counted up to that position (0 where
    False), along axis 1."""
    count = np.cumsum(flags, axis=1, dtype=np.int64)
    reset = np.maximum.accumulate(np.where(~flags, count, 0), axis=1)
    return np.asarray(count - reset, dtype=np.int64)


def check_plausibility(
    ids: pd.Index, baseline: DayBlock, competition: DayBlock, spec: PlausibilitySpec
) -> tuple[list[list[str]], list[Finding]]:
    """Run the checks of ``spec`` on every household.

    ids: household ids, in the order of the blocks' rows
    baseline, competition: the household days of both periods (NaN where no data)

    returns: (the finding keys raised per household, in ``ids`` order; the findings)
    """
    households = len(ids)
    flags: list[list[str]] = [[] for _ in range(households)]
    found: list[tuple[int, Finding]] = []  # (household row, finding), sorted by row at the end
    if not spec.enabled or households == 0:
        return flags, []
    quantiles = baseline_quantiles(baseline, (0.25, 0.5, 0.75, spec.base_load_quantile))
    judged = baseline.days_with_data >= spec.min_baseline_days
    q25, median, q75, base_load = (quantiles[:, j] for j in range(4))
    iqr = q75 - q25

    # High days: needs spread (IQR > 0), or every day above a flat median would count.
    threshold = median + spec.high_day_iqr_factor * iqr
    high_ok = judged & (iqr > 0)
    both = np.concatenate([baseline.energy_kwh, competition.energy_kwh], axis=1)
    all_days = np.concatenate([baseline.days, competition.days])
    with np.errstate(invalid="ignore"):
        high = high_ok[:, np.newaxis] & (both > threshold[:, np.newaxis])
    for i in np.flatnonzero(high.any(axis=1)):
        columns = np.flatnonzero(high[i])
        found.append(
            (
                int(i),
                _finding(
                    ids[i],
                    FINDING_HIGH_DAY,
                    f"{len(columns)} day(s) above median + {spec.high_day_iqr_factor:g} × IQR of the baseline "
                    f"({threshold[i]:.2f} kWh), up to {np.max(both[i, columns]):.2f} kWh; a meter fault, a "
                    "reading in the wrong unit, or a real event?",
                    {
                        "days": [_iso(all_days[c]) for c in columns[:MAX_LISTED_DAYS]],
                        "count": len(columns),
                        "max_kwh": float(np.max(both[i, columns])),
                        "threshold_kwh": float(threshold[i]),
                        "median_kwh": float(median[i]),
                        "iqr_kwh": float(iqr[i]),
                    },
                ),
            )
        )
        flags[i].append(FINDING_HIGH_DAY)

    energy = competition.energy_kwh
    active = judged & (base_load > spec.zero_kwh_per_day)
    # Possible vacancy: a run of days with data below a share of the base load.
    low_line = spec.vacancy_base_load_fraction * base_load
    with np.errstate(invalid="ignore"):
        below = active[:, np.newaxis] & (energy < low_line[:, np.newaxis])
    runs = run_lengths(below)
    for i in np.flatnonzero((runs >= spec.vacancy_min_days).any(axis=1)):
        for first, last in _runs(below[i], spec.vacancy_min_days):
            days = energy[i, first : last + 1]
            found.append(
                (
                    int(i),
                    _finding(
                        ids[i],
                        FINDING_POSSIBLE_VACANCY,
                        f"{last - first + 1} days in a row ({_iso(competition.days[first])} to "
                        f"{_iso(competition.days[last])}) below {spec.vacancy_base_load_fraction:.0%} of the "
                        f"household's base load ({base_load[i]:.2f} kWh/day): an undeclared absence?",
                        {
                            "first_day": _iso(competition.days[first]),
                            "last_day": _iso(competition.days[last]),
                            "days": int(last - first + 1),
                            "mean_kwh": float(np.mean(days)),
                            "base_load_kwh": float(base_load[i]),
                            "threshold_kwh": float(low_line[i]),
                        },
                    ),
                )
            )
        flags[i].append(FINDING_POSSIBLE_VACANCY)

    # Sudden drop to zero: zero days in a row right after a day at or above the base load.
    with np.errstate(invalid="ignore"):
        zero = active[:, np.newaxis] & (energy <= spec.zero_kwh_per_day)
        normal_before = np.zeros_like(zero)
        normal_before[:, 1:] = energy[:, :-1] >= base_load[:, np.newaxis]
    starts = zero & normal_before
    zero_runs = run_lengths(zero)
    candidates = np.flatnonzero(starts.any(axis=1) & (zero_runs >= spec.zero_min_days).any(axis=1))
    for i in candidates:
        hit = False
        for first, last in _runs(zero[i], spec.zero_min_days):
            if not starts[i, first]:
                continue
            hit = True
            found.append(
                (
                    int(i),
                    _finding(
                        ids[i],
                        FINDING_DROP_TO_ZERO,
                        f"Consumption fell from {energy[i, first - 1]:.2f} kWh on {_iso(competition.days[first - 1])} "
                        f"to zero for {last - first + 1} day(s) from {_iso(competition.days[first])}: a stuck "
                        "or disconnected meter, or an empty home?",
                        {
                            "first_day": _iso(competition.days[first]),
                            "days": int(last - first + 1),
                            "before_kwh": float(energy[i, first - 1]),
                            "base_load_kwh": float(base_load[i]),
                        },
                    ),
                )
            )
        if hit:
            flags[i].append(FINDING_DROP_TO_ZERO)
    # Grouped per household (in ids order), so staff read one household's findings together.
    found.sort(key=lambda pair: pair[0])
    return flags, [finding for _, finding in found]


def _runs(flags: _B, min_length: int) -> list[tuple[int, int]]:
    """(first, last) column of each run of True at least ``min_length`` long."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[0::2], edges[1::2] - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s + 1 >= min_length]


def _finding(household_id: Any, key: str, detail: str, data: dict[str, Any]) -> Finding:
    value = household_id.item() if isinstance(household_id, np.generic) else household_id
    return Finding(
        key=key,
        detail=f"Household {value}: {detail}",
        subject=f"household:{value}",
        data={"household_id": value, **data},
    )


def _iso(day: np.datetime64) -> str:
    return str(np.asarray(day).astype("datetime64[D]"))
