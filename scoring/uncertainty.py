"""Intervals around savings, and which ranked neighbours are statistically tied.

The interval of a household's savings over its m competition days with data, from a baseline fitted on n
days whose daily residuals have the standard deviation σ and the lag-1 autocorrelation ρ:

    Var(savings_kwh) ≈ k · σ² · (m + m² / n),      k = (1 + ρ) / (1 − ρ) with ρ in [0, ρ_max] (or k = 1)

m σ² is the day-to-day noise of the competition days, m² σ² / n the uncertainty of the baseline level
(exact for the prior-period mean; for regressions it leaves out the slopes' share). k widens both for
serially correlated days (the AR(1) factor ASHRAE Guideline 14 uses). The interval is
savings_kwh ± z · sqrt(Var), with z the normal quantile of the level, divided by expected_kwh for the
fraction.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from scoring.specs import UncertaintySpec

_F64 = npt.NDArray[np.float64]

#: Median of n normal values has about sqrt(pi/2) times the standard error of their mean.
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)


def z_value(level: float) -> float:
    """Two-sided normal quantile of ``level`` (0.9 → 1.645)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def savings_variance_kwh2(
    residual_sd_kwh: _F64,
    residual_autocorrelation: _F64,
    fit_days: npt.ArrayLike,
    reporting_days: npt.ArrayLike,
    spec: UncertaintySpec,
) -> _F64:
    """Variance of savings_kwh [kWh²] per household (formula in the module docstring); NaN where σ is
    unknown or there are no fit days."""
    sd = np.asarray(residual_sd_kwh, dtype=np.float64)
    n = np.asarray(fit_days, dtype=np.float64)
    m = np.asarray(reporting_days, dtype=np.float64)
    if spec.autocorrelation:
        rho = np.clip(
            np.nan_to_num(np.asarray(residual_autocorrelation, dtype=np.float64)),
            0.0,
            spec.max_autocorrelation,
        )
        k = (1 + rho) / (1 - rho)
    else:
        k = np.ones_like(sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = k * sd * sd * (m + m * m / n)
    return np.asarray(np.where(n > 0, variance, np.nan), dtype=np.float64)


def fraction_interval(savings_kwh: _F64, expected_kwh: _F64, half_width_kwh: _F64) -> tuple[_F64, _F64]:
    """(low, high) of the savings fraction: (savings ∓ half width) / expected; NaN where expected <= 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = expected_kwh > 0
        safe = np.where(ok, expected_kwh, 1.0)
        low = np.where(ok, (savings_kwh - half_width_kwh) / safe, np.nan)
        high = np.where(ok, (savings_kwh + half_width_kwh) / safe, np.nan)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def statistically_tied(
    ranked: npt.NDArray[np.bool_], low: _F64, high: _F64, overlap_fraction: float
) -> npt.NDArray[np.bool_]:
    """Which entries overlap a ranked neighbour widely; arrays in leaderboard order (best first).

    Two ranked entries next to each other in the list are tied when the overlap of their intervals is at
    least ``overlap_fraction`` of the narrower interval's width. An interval of width 0 (no spread) is
    tied only when it lies inside the other. Unranked entries and unknown intervals are never tied.
    """
    tied = np.zeros(len(ranked), dtype=bool)
    order = np.flatnonzero(ranked)
    if len(order) < 2:
        return tied
    lo, hi = low[order], high[order]
    a_lo, a_hi, b_lo, b_hi = lo[:-1], hi[:-1], lo[1:], hi[1:]
    with np.errstate(invalid="ignore"):
        overlap = np.minimum(a_hi, b_hi) - np.maximum(a_lo, b_lo)
        narrower = np.minimum(a_hi - a_lo, b_hi - b_lo)
        pair = np.where(narrower > 0, overlap >= overlap_fraction * narrower, overlap >= 0)
    pair &= np.isfinite(overlap) & np.isfinite(narrower)
    tied[order[:-1]] |= pair
    tied[order[1:]] |= pair
    return tied
