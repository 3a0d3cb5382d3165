"""CalTRACK-style daily degree-day model in °C, fitted for every household at once.

usage per day = intercept + heating slope × HDD(heating balance point) [+ cooling slope × CDD(cooling
balance point)]. For every household the balance points come from a grid search; a candidate is kept only
with positive slopes that pass the p-value test and enough degree days; the best candidate by adjusted R²
wins, the intercept-only model (adjusted R² = 0) when none beats it. Vectorized: sums over days are matrix
products of the (households × days) data with the (days × balance points) degree-day tables, and the
2- and 3-parameter least-squares problems are solved in closed form for all households and candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.dayblock import DayBlock, residual_statistics
from scoring.weather import cooling_degree_days, heating_degree_days

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

# Model codes, in the order candidates are tried; equal adjusted R² keeps the earlier (simpler) one.
NO_DATA, INTERCEPT_ONLY, HDD_ONLY, CDD_ONLY, HDD_CDD = 0, 1, 2, 3, 4
MODEL_NAMES = {
    NO_DATA: "",
    INTERCEPT_ONLY: "intercept_only",
    HDD_ONLY: "hdd",
    CDD_ONLY: "cdd",
    HDD_CDD: "hdd_cdd",
}

#: Households fitted together; bounds memory to a few tens of MB whatever the contest size.
CHUNK_HOUSEHOLDS = 4096


class DegreeDaySettings(Protocol):
    """The parameters the degree-day model reads (:class:`scoring.specs.BaselineSpec` has them)."""

    @property
    def heating_balance_points_c(self) -> tuple[float, ...]: ...  # candidate heating balance points [°C]
    @property
    def cooling_balance_points_c(self) -> tuple[float, ...]: ...  # candidates [°C]; empty: no cooling term
    @property
    def max_slope_p_value(self) -> float: ...  # a slope is kept only below this p-value [0..1]
    @property
    def min_nonzero_degree_days(self) -> int: ...  # days with a degree day above 0 a slope needs [days]
    @property
    def min_total_degree_days_k(self) -> float: ...  # degree days a slope needs in total [K·d]


# A sum of squared centred degree days below this has no usable spread [K²·d²].
_MIN_SPREAD = 1e-9


def t_critical(p_value: float, dof: npt.ArrayLike) -> _F64:
    """Two-sided critical value of Student's t: |t| above it means p below ``p_value``.

    Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5); good to about 1e-3
    from 5 degrees of freedom on, which is far below any baseline we fit. ``p_value`` of 1 gives 0 (no test).
    """
    nu = np.asarray(dof, dtype=np.float64)
    if p_value >= 1:
        return np.zeros_like(nu)
    z = NormalDist().inv_cdf(1 - p_value / 2)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    with np.errstate(divide="ignore", invalid="ignore"):
        t = z + g1 / nu + g2 / nu**2 + g3 / nu**3 + g4 / nu**4
    return np.where(nu >= 1, t, np.inf)


@dataclass(frozen=True, slots=True, eq=False)
class DegreeDayFit:
    """Fitted degree-day models of many households; arrays of shape (households,).

    model: code of the chosen model (``MODEL_NAMES``); ``NO_DATA`` without baseline days
    intercept_kwh_per_day: [kWh/day]
    heating_balance_point_c, cooling_balance_point_c: [°C]; NaN when the model has no such term
    heating_kwh_per_degree_day, cooling_kwh_per_degree_day: slopes [kWh/(K·d)]; 0 without the term
    adjusted_r2: of the chosen model [1]
    residual_sd_kwh: sqrt(SSE / (n − parameters)) [kWh/day]
    residual_autocorrelation: lag-1 autocorrelation of the baseline residuals [1]
    fit_days: baseline days with data and temperature [days]
    n_parameters: parameters of the chosen model (1 to 3)
    """

    model: npt.NDArray[np.int8]
    intercept_kwh_per_day: _F64
    heating_balance_point_c: _F64
    heating_kwh_per_degree_day: _F64
    cooling_balance_point_c: _F64
    cooling_kwh_per_degree_day: _F64
    adjusted_r2: _F64
    residual_sd_kwh: _F64
    residual_autocorrelation: _F64
    fit_days: _I64
    n_parameters: _I64

    def predict(self, reporting: DayBlock) -> _F64:
        """Predicted consumption per household and day of ``reporting`` [kWh], shape (households, days);
        NaN for days without a temperature and households without a model."""
        if reporting.temp_c is None:
            raise ValueError("the degree-day model needs the reporting days' temperatures")
        return _predict(self, reporting.temp_c)

    def describe(self) -> pd.DataFrame:
        """One row per household: model name and parameters (as in ``BASELINE_MODEL_COLUMNS``)."""
        return pd.DataFrame(
            {
                "model": [MODEL_NAMES[int(code)] for code in self.model],
                "intercept_kwh_per_day": self.intercept_kwh_per_day,
                "heating_balance_point_c": self.heating_balance_point_c,
                "heating_kwh_per_degree_day": self.heating_kwh_per_degree_day,
                "cooling_balance_point_c": self.cooling_balance_point_c,
                "cooling_kwh_per_degree_day": self.cooling_kwh_per_degree_day,
                "adjusted_r2": self.adjusted_r2,
                "residual_sd_kwh": self.residual_sd_kwh,
                "residual_autocorrelation": self.residual_autocorrelation,
                "fit_days": self.fit_days,
            }
        )


class DegreeDayModel:
    """``DegreeDayModel(spec).fit(baseline).predict(reporting)``: the degree-day baseline of a contest.

    spec: the contest's :class:`scoring.specs.BaselineSpec` (balance-point grids, p-value, degree-day
        sufficiency)
    """

    def __init__(self, spec: DegreeDaySettings) -> None:
        self.spec = spec
        self.fitted: DegreeDayFit | None = None

    def fit(self, baseline: DayBlock) -> Self:
        """Fit every household of ``baseline`` (days without temperature are left out)."""
        if baseline.temp_c is None:
            raise ValueError("the degree-day model needs the baseline days' temperatures")
        self.fitted = fit_degree_day(baseline.energy_kwh, baseline.temp_c, self.spec)
        return self

    def predict(self, reporting: DayBlock) -> _F64:
        """Predicted consumption per household and day of ``reporting`` [kWh]."""
        if self.fitted is None:
            raise ValueError("fit the model before predicting")
        return self.fitted.predict(reporting)


def fit_degree_day(energy_kwh: _F64, temp_c: _F64, spec: DegreeDaySettings) -> DegreeDayFit:
    """Fit the degree-day model of every household.

    energy_kwh: shape (households, days); daily consumption [kWh], NaN on days without data
    temp_c: shape (days,); daily mean temperature [°C], NaN where unknown (those days are left out)
    spec: balance-point grids, p-value and degree-day sufficiency (:class:`DegreeDaySettings`)

    returns: a :class:`DegreeDayFit`
    """
    temp = np.asarray(temp_c, dtype=np.float64)
    energy = np.where(np.isfinite(temp)[np.newaxis, :], np.asarray(energy_kwh, dtype=np.float64), np.nan)
    temp0 = np.where(np.isfinite(temp), temp, 0.0)
    heat_bp = np.asarray(spec.heating_balance_points_c, dtype=np.float64)
    cool_bp = np.asarray(spec.cooling_balance_points_c, dtype=np.float64)
    known = np.isfinite(temp)[:, np.newaxis]
    hdd = np.where(known, heating_degree_days(temp0, heat_bp), 0.0)  # (days, Kh)
    cdd = np.where(known, cooling_degree_days(temp0, cool_bp), 0.0)  # (days, Kc)
    # Pairs with the cooling balance point at or above the heating one: then no day has both degree days,
    # so the cross sum of HDD × CDD is 0 and the 3-parameter normal equations need no extra product.
    pair_h, pair_c = np.nonzero(cool_bp[np.newaxis, :] >= heat_bp[:, np.newaxis])

    parts = [
        _fit_chunk(energy[start : start + CHUNK_HOUSEHOLDS], hdd, cdd, heat_bp, cool_bp, pair_h, pair_c, spec)
        for start in range(0, max(len(energy), 1), CHUNK_HOUSEHOLDS)
    ]
    fields = DegreeDayFit.__slots__
    return DegreeDayFit(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})


def _fit_chunk(
    energy: _F64,
    hdd: _F64,
    cdd: _F64,
    heat_bp: _F64,
    cool_bp: _F64,
    pair_h: _I64,
    pair_c: _I64,
    spec: DegreeDaySettings,
) -> DegreeDayFit:
    households = len(energy)
    has = np.isfinite(energy)
    w = has.astype(np.float64)
    n = w.sum(axis=1)
    n_safe = np.maximum(n, 1.0)
    y_mean = np.where(has, energy, 0.0).sum(axis=1) / n_safe
    # Centre y first: sums of centred values keep their precision whatever the consumption level.
    yc = np.where(has, energy - y_mean[:, np.newaxis], 0.0)
    sst = (yc * yc).sum(axis=1)

    def sums(dd: _F64) -> tuple[_F64, _F64, _F64, _F64]:
        s = w @ dd  # Σ x over days with data
        sxx = w @ (dd * dd) - s * s / n_safe[:, np.newaxis]  # Σ (x − x̄)²
        sxy = yc @ dd  # Σ (y − ȳ) x = Σ (y − ȳ)(x − x̄)
        nonzero = w @ (dd > 0).astype(np.float64)
        return s, sxx, sxy, nonzero

    sh, shh, shy, nzh = sums(hdd)
    sc, scc, scy, nzc = sums(cdd)
    n_col = n[:, np.newaxis]
    tcrit2 = t_critical(spec.max_slope_p_value, n_col - 2)
    tcrit3 = t_critical(spec.max_slope_p_value, n_col - 3)
    enough_h = (nzh >= spec.min_nonzero_degree_days) & (sh >= spec.min_total_degree_days_k)
    enough_c = (nzc >= spec.min_nonzero_degree_days) & (sc >= spec.min_total_degree_days_k)
    variance_y = sst / np.maximum(n - 1, 1)  # for adjusted R²

    with np.errstate(divide="ignore", invalid="ignore"):
        # One slope: β = Sxy / Sxx; SSE = SST − β Sxy; se(β)² = σ² / Sxx.
        def single(sxx: _F64, sxy: _F64, enough: npt.NDArray[np.bool_]) -> tuple[_F64, _F64]:
            beta = sxy / sxx
            sse = np.maximum(sst[:, np.newaxis] - beta * sxy, 0.0)
            dof = n_col - 2
            sigma2 = sse / dof
            t = beta / np.sqrt(sigma2 / sxx)
            ok = enough & (sxx > _MIN_SPREAD) & (dof >= 1) & (beta > 0) & (t > tcrit2)
            adj = 1 - sigma2 / variance_y[:, np.newaxis]
            return beta, np.where(ok, adj, -np.inf)

        beta_h1, adj_h1 = single(shh, shy, enough_h)
        beta_c1, adj_c1 = single(scc, scy, enough_c)

        # Two slopes, by Cramer's rule on the centred 2×2 normal equations.
        a = shh[:, pair_h]
        c = scc[:, pair_c]
        b = -sh[:, pair_h] * sc[:, pair_c] / n_safe[:, np.newaxis]  # Σ HDD·CDD is 0 (see fit_degree_day)
        u = shy[:, pair_h]
        v = scy[:, pair_c]
        det = a * c - b * b
        beta_h2 = (c * u - b * v) / det
        beta_c2 = (a * v - b * u) / det
        sse_2 = np.maximum(sst[:, np.newaxis] - beta_h2 * u - beta_c2 * v, 0.0)
        dof2 = n_col - 3
        sigma2_2 = sse_2 / dof2
        t_h2 = beta_h2 / np.sqrt(sigma2_2 * c / det)
        t_c2 = beta_c2 / np.sqrt(sigma2_2 * a / det)
        ok2 = (
            enough_h[:, pair_h]
            & enough_c[:, pair_c]
            & (a > _MIN_SPREAD)
            & (c > _MIN_SPREAD)
            & (det > _MIN_SPREAD * np.maximum(a * c, _MIN_SPREAD))
            & (dof2 >= 1)
            & (beta_h2 > 0)
            & (beta_c2 > 0)
            & (t_h2 > tcrit3)
            & (t_c2 > tcrit3)
        )
        adj_2 = np.where(ok2, 1 - sigma2_2 / variance_y[:, np.newaxis], -np.inf)

    kh, kc = hdd.shape[1], cdd.shape[1]
    adj_0 = np.where(n >= 1, 0.0, -np.inf)[:, np.newaxis]
    scores = np.concatenate([adj_0, adj_h1, adj_c1, adj_2], axis=1)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    best = np.argmax(scores, axis=1)  # first maximum: the simpler model wins exact ties
    rows = np.arange(households)

    model = np.full(households, INTERCEPT_ONLY, dtype=np.int8)
    heat_idx = np.zeros(households, dtype=np.int64)
    cool_idx = np.zeros(households, dtype=np.int64)
    beta_h = np.zeros(households)
    beta_c = np.zeros(households)

    is_h = (best >= 1) & (best < 1 + kh)
    if is_h.any():
        k = np.where(is_h, best - 1, 0)
        model[is_h] = HDD_ONLY
        heat_idx[is_h] = k[is_h]
        beta_h[is_h] = beta_h1[rows, k][is_h]
    is_c = (best >= 1 + kh) & (best < 1 + kh + kc)
    if is_c.any():
        j = np.where(is_c, best - 1 - kh, 0)
        model[is_c] = CDD_ONLY
        cool_idx[is_c] = j[is_c]
        beta_c[is_c] = beta_c1[rows, j][is_c]
    is_2 = best >= 1 + kh + kc
    if is_2.any():
        p = np.where(is_2, best - 1 - kh - kc, 0)
        model[is_2] = HDD_CDD
        heat_idx[is_2] = pair_h[p][is_2]
        cool_idx[is_2] = pair_c[p][is_2]
        beta_h[is_2] = beta_h2[rows, p][is_2]
        beta_c[is_2] = beta_c2[rows, p][is_2]

    no_data = n < 1
    model[no_data] = NO_DATA
    uses_h = (model == HDD_ONLY) | (model == HDD_CDD)
    uses_c = (model == CDD_ONLY) | (model == HDD_CDD)
    x_h = np.where(uses_h, sh[rows, heat_idx] / n_safe, 0.0) if kh else np.zeros(households)
    x_c = np.where(uses_c, sc[rows, cool_idx] / n_safe, 0.0) if kc else np.zeros(households)
    intercept = np.where(no_data, np.nan, y_mean - beta_h * x_h - beta_c * x_c)
    n_parameters = (1 + uses_h.astype(np.int64) + uses_c.astype(np.int64)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted = np.where(no_data, np.nan, np.where(model == INTERCEPT_ONLY, 0.0, scores[rows, best]))

    heat_point = np.where(uses_h, heat_bp[heat_idx] if kh else np.nan, np.nan)
    cool_point = np.where(uses_c, cool_bp[cool_idx] if kc else np.nan, np.nan)
    # Residuals of the chosen model on the baseline days, for the spread and the autocorrelation.
    fitted = (
        intercept[:, np.newaxis]
        + beta_h[:, np.newaxis] * (hdd[:, heat_idx].T if kh else 0.0)
        + beta_c[:, np.newaxis] * (cdd[:, cool_idx].T if kc else 0.0)
    )
    residual_sd, rho = residual_statistics(energy - fitted, n_parameters)
    return DegreeDayFit(
        model=model,
        intercept_kwh_per_day=intercept,
        heating_balance_point_c=heat_point,
        heating_kwh_per_degree_day=beta_h,
        cooling_balance_point_c=cool_point,
        cooling_kwh_per_degree_day=beta_c,
        adjusted_r2=adjusted,
        residual_sd_kwh=residual_sd,
        residual_autocorrelation=rho,
        fit_days=n.astype(np.int64),
        n_parameters=n_parameters,
    )


def _predict(fit: DegreeDayFit, temp_c: _F64) -> _F64:
    temp = np.asarray(temp_c, dtype=np.float64)[np.newaxis, :]
    heat_point = np.nan_to_num(fit.heating_balance_point_c)[:, np.newaxis]
    cool_point = np.nan_to_num(fit.cooling_balance_point_c)[:, np.newaxis]
    heating = fit.heating_kwh_per_degree_day[:, np.newaxis] * np.maximum(heat_point - temp, 0.0)
    cooling = fit.cooling_kwh_per_degree_day[:, np.newaxis] * np.maximum(temp - cool_point, 0.0)
    predicted = fit.intercept_kwh_per_day[:, np.newaxis] + heating + cooling
    return np.asarray(predicted, dtype=np.float64)
