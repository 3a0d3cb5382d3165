"""Baseline models: what each household would have used on the competition days.

Which model a contest uses is a row of :data:`scoring.methods.BASELINE_METHODS`. Every model has the
OpenEEmeter shape ``model.fit(baseline).predict(reporting)`` on :class:`DayBlock`\\ s
(households × days) and works on all households at once:

- :class:`PriorPeriodMeanModel`: the mean of the baseline days (the original rule)
- :class:`PriorYearModel`: weekday and weekend-day means of the same days one year (52 weeks) earlier
- :class:`scoring.degree_day.DegreeDayModel`: CalTRACK-style degree-day regression
- :class:`PeerBenchmarkModel`: the Stromspiegel benchmark of households like this one

After ``fit`` each model has ``fit_days``, ``residual_sd_kwh`` and ``residual_autocorrelation`` (shape
(households,)), ``expected_kwh(reporting)`` (predictions summed over the reporting days with data) and
``describe()`` (its parameters, one row per household).
"""

from __future__ import annotations

from typing import Protocol, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.dayblock import DayBlock, residual_statistics
from scoring.degree_day import DegreeDayFit, DegreeDayModel, DegreeDaySettings
from scoring.schema import (
    ADJUSTED_R2,
    COOLING_BALANCE_POINT_C,
    COOLING_KWH_PER_DEGREE_DAY,
    FIT_DAYS,
    HEATING_BALANCE_POINT_C,
    HEATING_KWH_PER_DEGREE_DAY,
    INTERCEPT_KWH_PER_DAY,
    MODEL,
    PEER_KWH_PER_YEAR,
    RESIDUAL_AUTOCORRELATION,
    RESIDUAL_SD_KWH,
    WEEKDAY_KWH_PER_DAY,
    WEEKEND_KWH_PER_DAY,
)
from scoring.stromspiegel import TYPICAL_KWH_PER_YEAR, StromspiegelTable

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

#: Stromspiegel figures are per year; a day is this share of it.
DAYS_PER_YEAR = 365.0


class FittedBaseline(Protocol):
    """What every fitted baseline model offers (arrays of shape (households,))."""

    fit_days: _I64
    residual_sd_kwh: _F64
    residual_autocorrelation: _F64

    def predict(self, reporting: DayBlock) -> _F64: ...

    def expected_kwh(self, reporting: DayBlock) -> _F64: ...

    def describe(self) -> pd.DataFrame: ...


class BaselineModel(FittedBaseline, Protocol):
    """A model that learns from the household's own baseline days: ``model.fit(baseline)`` fits it."""

    def fit(self, baseline: DayBlock) -> Self: ...


def _empty_description(households: int) -> dict[str, npt.NDArray[np.generic]]:
    nan = np.full(households, np.nan)
    return {
        MODEL: np.full(households, "", dtype=object),
        FIT_DAYS: np.zeros(households, dtype=np.int64),
        INTERCEPT_KWH_PER_DAY: nan,
        WEEKDAY_KWH_PER_DAY: nan,
        WEEKEND_KWH_PER_DAY: nan,
        HEATING_BALANCE_POINT_C: nan,
        HEATING_KWH_PER_DEGREE_DAY: nan,
        COOLING_BALANCE_POINT_C: nan,
        COOLING_KWH_PER_DEGREE_DAY: nan,
        ADJUSTED_R2: nan,
        RESIDUAL_SD_KWH: nan,
        RESIDUAL_AUTOCORRELATION: nan,
        PEER_KWH_PER_YEAR: nan,
    }


class PriorPeriodMeanModel:
    """Baseline = mean consumption per day over the baseline days with data [kWh/day]."""

    def __init__(self) -> None:
        self.mean_kwh_per_day: _F64 = np.empty(0)
        self.fit_days: _I64 = np.empty(0, dtype=np.int64)
        self.residual_sd_kwh: _F64 = np.empty(0)
        self.residual_autocorrelation: _F64 = np.empty(0)

    def fit(self, baseline: DayBlock) -> Self:
        self.fit_days = baseline.days_with_data
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean_kwh_per_day = np.where(
                self.fit_days > 0, baseline.total_kwh / np.maximum(self.fit_days, 1), np.nan
            )
        residual = baseline.energy_kwh - self.mean_kwh_per_day[:, np.newaxis]
        self.residual_sd_kwh, self.residual_autocorrelation = residual_statistics(residual, 1)
        return self

    def predict(self, reporting: DayBlock) -> _F64:
        return np.broadcast_to(self.mean_kwh_per_day[:, np.newaxis], reporting.energy_kwh.shape).copy()

    def expected_kwh(self, reporting: DayBlock) -> _F64:
        # mean × days (not a sum of equal floats), exactly as the original rule computed it
        return np.asarray(self.mean_kwh_per_day * reporting.days_with_data, dtype=np.float64)

    def describe(self) -> pd.DataFrame:
        out = _empty_description(len(self.fit_days))
        out[MODEL] = np.where(self.fit_days > 0, "mean", "").astype(object)
        out[FIT_DAYS] = self.fit_days
        out[INTERCEPT_KWH_PER_DAY] = self.mean_kwh_per_day
        out[RESIDUAL_SD_KWH] = self.residual_sd_kwh
        out[RESIDUAL_AUTOCORRELATION] = self.residual_autocorrelation
        return pd.DataFrame(out)


class PriorYearModel:
    """Baseline = mean of weekdays (Mon-Fri) and of weekend days (Sat, Sun) over the baseline block, which
    the caller cuts to the same competition days 364 days earlier. A competition weekday expects the
    weekday mean, a weekend day the weekend mean, so both periods weigh the two kinds of day alike
    whatever their number. A household without baseline data on one kind of day uses its overall mean
    for that kind."""

    def __init__(self) -> None:
        self.weekday_kwh_per_day: _F64 = np.empty(0)
        self.weekend_kwh_per_day: _F64 = np.empty(0)
        self.fit_days: _I64 = np.empty(0, dtype=np.int64)
        self.n_parameters: _I64 = np.empty(0, dtype=np.int64)
        self.residual_sd_kwh: _F64 = np.empty(0)
        self.residual_autocorrelation: _F64 = np.empty(0)

    def fit(self, baseline: DayBlock) -> Self:
        has = baseline.has_data
        weekend = baseline.is_weekend[np.newaxis, :]
        energy = np.where(has, baseline.energy_kwh, 0.0)
        n_we = (has & weekend).sum(axis=1)
        n_wd = (has & ~weekend).sum(axis=1)
        n = n_we + n_wd
        with np.errstate(invalid="ignore", divide="ignore"):
            overall = np.where(n > 0, energy.sum(axis=1) / np.maximum(n, 1), np.nan)
            we = np.where(n_we > 0, np.where(weekend, energy, 0.0).sum(axis=1) / np.maximum(n_we, 1), overall)
            wd = np.where(
                n_wd > 0, np.where(~weekend, energy, 0.0).sum(axis=1) / np.maximum(n_wd, 1), overall
            )
        self.weekday_kwh_per_day, self.weekend_kwh_per_day = wd, we
        self.fit_days = n.astype(np.int64)
        self.n_parameters = ((n_we > 0).astype(np.int64) + (n_wd > 0).astype(np.int64)).clip(min=1)
        residual = baseline.energy_kwh - self._per_day(baseline)
        self.residual_sd_kwh, self.residual_autocorrelation = residual_statistics(residual, self.n_parameters)
        return self

    def _per_day(self, block: DayBlock) -> _F64:
        weekend = block.is_weekend[np.newaxis, :]
        return np.where(
            weekend, self.weekend_kwh_per_day[:, np.newaxis], self.weekday_kwh_per_day[:, np.newaxis]
        )

    def predict(self, reporting: DayBlock) -> _F64:
        return np.asarray(self._per_day(reporting), dtype=np.float64)

    def expected_kwh(self, reporting: DayBlock) -> _F64:
        has = reporting.has_data
        weekend = reporting.is_weekend[np.newaxis, :]
        m_we = (has & weekend).sum(axis=1)
        m_wd = (has & ~weekend).sum(axis=1)
        return np.asarray(self.weekday_kwh_per_day * m_wd + self.weekend_kwh_per_day * m_we, dtype=np.float64)

    def describe(self) -> pd.DataFrame:
        out = _empty_description(len(self.fit_days))
        out[MODEL] = np.where(self.fit_days > 0, "weekday_weekend", "").astype(object)
        out[FIT_DAYS] = self.fit_days
        out[WEEKDAY_KWH_PER_DAY] = self.weekday_kwh_per_day
        out[WEEKEND_KWH_PER_DAY] = self.weekend_kwh_per_day
        out[RESIDUAL_SD_KWH] = self.residual_sd_kwh
        out[RESIDUAL_AUTOCORRELATION] = self.residual_autocorrelation
        return pd.DataFrame(out)


class DegreeDayBaseline:
    """Adapter of :class:`DegreeDayModel` to the common baseline interface."""

    def __init__(self, spec: DegreeDaySettings) -> None:
        self.model = DegreeDayModel(spec)
        self.fitted: DegreeDayFit | None = None
        self.fit_days: _I64 = np.empty(0, dtype=np.int64)
        self.residual_sd_kwh: _F64 = np.empty(0)
        self.residual_autocorrelation: _F64 = np.empty(0)

    def fit(self, baseline: DayBlock) -> Self:
        self.fitted = self.model.fit(baseline).fitted
        assert self.fitted is not None
        self.fit_days = self.fitted.fit_days
        self.residual_sd_kwh = self.fitted.residual_sd_kwh
        self.residual_autocorrelation = self.fitted.residual_autocorrelation
        return self

    def predict(self, reporting: DayBlock) -> _F64:
        return self.model.predict(reporting)

    def expected_kwh(self, reporting: DayBlock) -> _F64:
        predicted = self.predict(reporting)
        has = reporting.has_data & np.isfinite(predicted)
        total = np.where(has, predicted, 0.0).sum(axis=1)
        return np.asarray(np.where(self.fit_days > 0, total, np.nan), dtype=np.float64)

    def describe(self) -> pd.DataFrame:
        assert self.fitted is not None
        fit = self.fitted
        out = _empty_description(len(fit.fit_days))
        described = fit.describe()
        for column in described.columns:
            out[column] = described[column].to_numpy()
        out[HEATING_KWH_PER_DEGREE_DAY] = np.where(
            np.isnan(fit.heating_balance_point_c), np.nan, fit.heating_kwh_per_degree_day
        )
        out[COOLING_KWH_PER_DEGREE_DAY] = np.where(
            np.isnan(fit.cooling_balance_point_c), np.nan, fit.cooling_kwh_per_degree_day
        )
        return pd.DataFrame(out)


class PeerBenchmarkModel:
    """Baseline = the Stromspiegel's typical consumption of households of this size, building type and
    hot-water kind, spread evenly over the year [kWh/day] (the middle of class D, divided by 365).

    table: the Stromspiegel edition
    persons, building_type, electric_hot_water: per household, in the order of the blocks' rows

    ``band_kwh_per_day`` holds the upper bounds of classes C and E per day: the middle classes, which
    stand in for an interval (they are not a statistical one).
    """

    def __init__(
        self,
        table: StromspiegelTable,
        persons: npt.ArrayLike,
        building_type: npt.ArrayLike,
        electric_hot_water: npt.ArrayLike,
    ) -> None:
        self.table = table
        rows = table.lookup(persons, building_type, electric_hot_water)
        self.kwh_per_year: _F64 = rows[TYPICAL_KWH_PER_YEAR].to_numpy(dtype=np.float64)
        self.band_kwh_per_day: tuple[_F64, _F64] = (
            rows["class_c_max_kwh"].to_numpy(dtype=np.float64) / DAYS_PER_YEAR,
            rows["class_e_max_kwh"].to_numpy(dtype=np.float64) / DAYS_PER_YEAR,
        )
        households = len(self.kwh_per_year)
        self.fit_days = np.zeros(households, dtype=np.int64)
        self.residual_sd_kwh = np.full(households, np.nan)
        self.residual_autocorrelation = np.full(households, np.nan)

    @property
    def available(self) -> npt.NDArray[np.bool_]:
        """Shape (households,): True where the table has a row for the household."""
        return np.isfinite(self.kwh_per_year)

    def fit(self, baseline: DayBlock) -> Self:  # nothing to learn from the household's days
        return self

    def predict(self, reporting: DayBlock) -> _F64:
        per_day = self.kwh_per_year / DAYS_PER_YEAR
        return np.broadcast_to(per_day[:, np.newaxis], reporting.energy_kwh.shape).copy()

    def expected_kwh(self, reporting: DayBlock) -> _F64:
        return np.asarray(self.kwh_per_year / DAYS_PER_YEAR * reporting.days_with_data, dtype=np.float64)

    def describe(self) -> pd.DataFrame:
        out = _empty_description(len(self.kwh_per_year))
        out[MODEL] = np.where(self.available, "peer", "").astype(object)
        out[PEER_KWH_PER_YEAR] = self.kwh_per_year
        out[INTERCEPT_KWH_PER_DAY] = self.kwh_per_year / DAYS_PER_YEAR
        return pd.DataFrame(out)
