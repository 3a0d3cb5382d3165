"""The vectorized degree-day model: exact fits, CalTRACK's qualification rules (positive slopes, p-value,
enough degree days), selection by adjusted R² (checked against a plain per-household least-squares loop),
and fitting all households at once equals fitting each alone."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.dayblock import DayBlock
from scoring.degree_day import (
    CDD_ONLY,
    HDD_CDD,
    HDD_ONLY,
    INTERCEPT_ONLY,
    NO_DATA,
    DegreeDayModel,
    fit_degree_day,
    t_critical,
)
from scoring.methods import METHOD_DEGREE_DAY
from scoring.specs import BaselineSpec
from scoring.weather import cooling_degree_days, heating_degree_days

SPEC = BaselineSpec(method=METHOD_DEGREE_DAY)
RNG_SEED = 20240101


def year_of_temperatures(days: int = 365, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    return 10 - 11 * np.cos(2 * np.pi * (t - 15) / 365) + rng.normal(0, 2.5, days)


def test_exact_heating_and_cooling_terms_are_recovered() -> None:
    temp = year_of_temperatures()
    energy = 3 + 0.4 * heating_degree_days(temp, 14.0) + 0.6 * cooling_degree_days(temp, 22.0)
    fit = fit_degree_day(energy[np.newaxis, :], temp, SPEC)
    assert fit.model[0] == HDD_CDD
    assert fit.heating_balance_point_c[0] == 14
    assert fit.cooling_balance_point_c[0] == 22
    assert fit.heating_kwh_per_degree_day[0] == pytest.approx(0.4)
    assert fit.cooling_kwh_per_degree_day[0] == pytest.approx(0.6)
    assert fit.intercept_kwh_per_day[0] == pytest.approx(3.0)
    assert fit.adjusted_r2[0] == pytest.approx(1.0)


def test_consumption_that_falls_in_the_cold_keeps_no_heating_term() -> None:
    temp = year_of_temperatures()
    energy = 10 - 0.3 * heating_degree_days(temp, 15.0)  # negative heating slope: not physical
    fit = fit_degree_day(
        energy[np.newaxis, :], temp, BaselineSpec(method=METHOD_DEGREE_DAY, cooling_balance_points_c=())
    )
    assert fit.model[0] == INTERCEPT_ONLY
    assert fit.intercept_kwh_per_day[0] == pytest.approx(energy.mean())
    assert np.isnan(fit.heating_balance_point_c[0])


def test_a_heating_term_needs_ten_days_with_degree_days() -> None:
    temp = np.full(60, 20.0)
    temp[:9] = 5.0  # 9 days with HDD(15) > 0, 90 K·d in total
    energy = 2 + 0.5 * heating_degree_days(temp, 15.0)
    spec = BaselineSpec(
        method=METHOD_DEGREE_DAY, heating_balance_points_c=(15.0,), cooling_balance_points_c=()
    )
    assert fit_degree_day(energy[np.newaxis, :], temp, spec).model[0] == INTERCEPT_ONLY
    temp[9] = 5.0  # the tenth day
    energy = 2 + 0.5 * heating_degree_days(temp, 15.0)
    assert fit_degree_day(energy[np.newaxis, :], temp, spec).model[0] == HDD_ONLY


def test_a_heating_term_needs_twenty_degree_days_in_total() -> None:
    temp = np.full(60, 20.0)
    temp[:12] = 13.5  # 12 days with 1.5 K·d each: 18 K·d < 20
    energy = 2 + 0.5 * heating_degree_days(temp, 15.0)
    spec = BaselineSpec(
        method=METHOD_DEGREE_DAY, heating_balance_points_c=(15.0,), cooling_balance_points_c=()
    )
    assert fit_degree_day(energy[np.newaxis, :], temp, spec).model[0] == INTERCEPT_ONLY
    loose = BaselineSpec(
        method=METHOD_DEGREE_DAY,
        heating_balance_points_c=(15.0,),
        cooling_balance_points_c=(),
        min_total_degree_days_k=15,
    )
    assert fit_degree_day(energy[np.newaxis, :], temp, loose).model[0] == HDD_ONLY


def test_a_weak_slope_fails_the_p_value_test_unless_it_is_turned_off() -> None:
    rng = np.random.default_rng(3)
    temp = year_of_temperatures(seed=3)
    hdd = heating_degree_days(temp, 15.0)
    noise = rng.normal(0, 1, len(temp))
    noise -= np.polyval(np.polyfit(hdd, noise, 1), hdd)  # no accidental slope in the noise
    # A slope with t = 1.3: it raises adjusted R² above 0 (t² > 1) but has p ≈ 0.19 > 0.1.
    spread = np.sqrt(np.sum((hdd - hdd.mean()) ** 2))
    energy = 5 + 1.3 * noise.std(ddof=2) / spread * (hdd - hdd.mean()) + noise
    grid = {"heating_balance_points_c": (15.0,), "cooling_balance_points_c": ()}
    strict = BaselineSpec(method=METHOD_DEGREE_DAY, **grid)
    off = BaselineSpec(method=METHOD_DEGREE_DAY, max_slope_p_value=1.0, **grid)
    assert fit_degree_day(energy[np.newaxis, :], temp, strict).model[0] == INTERCEPT_ONLY
    assert fit_degree_day(energy[np.newaxis, :], temp, off).model[0] == HDD_ONLY


@pytest.mark.parametrize(
    ("p_value", "dof", "table"),
    [(0.1, 10, 1.812), (0.1, 30, 1.697), (0.05, 20, 2.086), (0.1, 363, 1.649), (0.01, 60, 2.660)],
)
def test_t_critical_matches_the_t_table(p_value: float, dof: int, table: float) -> None:
    assert float(t_critical(p_value, dof)) == pytest.approx(table, abs=2e-3)


def test_days_without_temperature_or_data_are_left_out() -> None:
    temp = year_of_temperatures()
    energy = 2 + 0.5 * heating_degree_days(temp, 15.0)
    temp_gappy = temp.copy()
    temp_gappy[::7] = np.nan
    energy_gappy = energy.copy()
    energy_gappy[temp_gappy != temp_gappy] = 1e6  # would ruin the fit if used
    energy_gappy[3::11] = np.nan
    fit = fit_degree_day(energy_gappy[np.newaxis, :], temp_gappy, SPEC)
    assert fit.heating_kwh_per_degree_day[0] == pytest.approx(0.5)
    assert fit.fit_days[0] == int(np.sum(np.isfinite(temp_gappy) & np.isfinite(energy_gappy)))


def test_a_household_without_days_has_no_model() -> None:
    temp = year_of_temperatures()
    fit = fit_degree_day(np.full((1, len(temp)), np.nan), temp, SPEC)
    assert fit.model[0] == NO_DATA
    assert np.isnan(fit.intercept_kwh_per_day[0])
    prediction = fit.predict(DayBlock(np.full((1, 3), 1.0), np.arange(3).astype("datetime64[D]"), temp[:3]))
    assert np.isnan(prediction).all()


def random_households(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    temp = year_of_temperatures(seed=seed)
    base = rng.uniform(2, 10, n)[:, None]
    heat = np.where(rng.random(n) < 0.6, rng.uniform(0.05, 1.0, n), 0.0)[:, None]
    cool = np.where(rng.random(n) < 0.3, rng.uniform(0.05, 0.8, n), 0.0)[:, None]
    bp_h = rng.uniform(10, 18, n)[:, None]
    bp_c = rng.uniform(18, 25, n)[:, None]
    energy = (
        base
        + heat * np.maximum(bp_h - temp, 0)
        + cool * np.maximum(temp - bp_c, 0)
        + rng.normal(0, 1, (n, len(temp))) * rng.uniform(0.2, 2.0, n)[:, None]
    )
    energy[rng.random(energy.shape) < 0.05] = np.nan
    return energy, temp


def test_fitting_all_households_at_once_equals_fitting_each_alone() -> None:
    energy, temp = random_households(40, RNG_SEED)
    together = fit_degree_day(energy, temp, SPEC)
    for i in range(len(energy)):
        alone = fit_degree_day(energy[i : i + 1], temp, SPEC)
        assert alone.model[0] == together.model[i]
        for name in (
            "intercept_kwh_per_day",
            "heating_kwh_per_degree_day",
            "cooling_kwh_per_degree_day",
            "residual_sd_kwh",
        ):
            assert getattr(alone, name)[0] == pytest.approx(getattr(together, name)[i], rel=1e-9, abs=1e-12)


def brute_force(energy: np.ndarray, temp: np.ndarray, spec: BaselineSpec) -> tuple[int, float, float]:
    """The CalTRACK selection for one household with plain least squares per candidate:
    (model code, heating balance point, cooling balance point)."""
    keep = np.isfinite(energy) & np.isfinite(temp)
    y, t = energy[keep], temp[keep]
    n = len(y)
    sst = float(np.sum((y - y.mean()) ** 2))
    best = (INTERCEPT_ONLY, np.nan, np.nan, 0.0)

    def enough(x: np.ndarray) -> bool:
        return bool(
            np.sum(x > 0) >= spec.min_nonzero_degree_days and np.sum(x) >= spec.min_total_degree_days_k
        )

    candidates: list[tuple[int, float, float, list[np.ndarray]]] = []
    candidates += [(HDD_ONLY, h, np.nan, [np.maximum(h - t, 0)]) for h in spec.heating_balance_points_c]
    candidates += [(CDD_ONLY, np.nan, c, [np.maximum(t - c, 0)]) for c in spec.cooling_balance_points_c]
    candidates += [
        (HDD_CDD, h, c, [np.maximum(h - t, 0), np.maximum(t - c, 0)])
        for h in spec.heating_balance_points_c
        for c in spec.cooling_balance_points_c
        if c >= h
    ]
    for code, h, c, columns in candidates:
        if not all(enough(x) for x in columns):
            continue
        design = np.column_stack([np.ones(n), *columns])
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        residual = y - design @ beta
        dof = n - design.shape[1]
        sigma2 = float(residual @ residual) / dof
        covariance = sigma2 * np.linalg.inv(design.T @ design)
        t_stats = beta[1:] / np.sqrt(np.diag(covariance)[1:])
        if (beta[1:] <= 0).any() or (t_stats <= float(t_critical(spec.max_slope_p_value, dof))).any():
            continue
        adjusted = 1 - sigma2 / (sst / (n - 1))
        if adjusted > best[3]:
            best = (code, h, c, adjusted)
    return best[0], best[1], best[2]


def test_selection_equals_a_per_household_least_squares_loop() -> None:
    energy, temp = random_households(25, RNG_SEED + 1)
    fit = (
        DegreeDayModel(SPEC).fit(DayBlock(energy, np.arange(len(temp)).astype("datetime64[D]"), temp)).fitted
    )
    assert fit is not None
    for i in range(len(energy)):
        code, heat, cool = brute_force(energy[i], temp, SPEC)
        assert fit.model[i] == code, i
        np.testing.assert_equal(fit.heating_balance_point_c[i], heat)
        np.testing.assert_equal(fit.cooling_balance_point_c[i], cool)
