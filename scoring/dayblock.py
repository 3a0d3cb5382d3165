"""Household days as a dense block: one row per household, one column per local day, NaN where a day has
no usable data. Baseline models fit on one block and predict another (``model.fit(b).predict(r)``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]

#: Monday = 0 ... Sunday = 6 (``datetime.date.weekday``); Saturday and Sunday are weekend days.
WEEKEND_DAYS = (5, 6)


@dataclass(frozen=True, slots=True, eq=False)
class DayBlock:
    """Energy of households on a run of local days.

    energy_kwh: shape (households, days); consumption of the household on the day [kWh]; NaN when the
        day has no usable data (or is excluded, an absence, or lacks weather)
    days: shape (days,); the local days as ``datetime64[D]``
    temp_c: shape (days,); daily mean temperature [°C], NaN where unknown; None without weather
    """

    energy_kwh: _F64
    days: npt.NDArray[np.datetime64]
    temp_c: _F64 | None = None
    #: shape (households, days): True where the day has usable data (derived)
    has_data: npt.NDArray[np.bool_] = field(init=False)
    #: shape (households,): number of days with data [days] (derived)
    days_with_data: npt.NDArray[np.int64] = field(init=False)
    #: shape (households,): energy summed over the days with data [kWh] (derived)
    total_kwh: _F64 = field(init=False)

    def __post_init__(self) -> None:
        if self.energy_kwh.ndim != 2 or self.energy_kwh.shape[1] != len(self.days):
            raise ValueError(
                f"energy_kwh must have shape (households, {len(self.days)}), got {self.energy_kwh.shape}"
            )
        if self.temp_c is not None and self.temp_c.shape != (len(self.days),):
            raise ValueError(f"temp_c must have shape ({len(self.days)},), got {self.temp_c.shape}")
        # Derived once: every model and check asks for them.
        has = np.isfinite(self.energy_kwh)
        object.__setattr__(self, "has_data", has)
        object.__setattr__(self, "days_with_data", np.asarray(has.sum(axis=1), dtype=np.int64))
        total = np.where(has, self.energy_kwh, 0.0).sum(axis=1)
        object.__setattr__(self, "total_kwh", np.asarray(total, dtype=np.float64))

    @property
    def is_weekend(self) -> npt.NDArray[np.bool_]:
        """Shape (days,): True on Saturdays and Sundays."""
        # 1970-01-01 was a Thursday (weekday 3).
        weekday = (self.days.astype("datetime64[D]").astype(np.int64) + 3) % 7
        return np.isin(weekday, WEEKEND_DAYS)

    def rows(self, index: npt.NDArray[np.int64] | slice) -> DayBlock:
        """The block of some households (same days)."""
        return DayBlock(self.energy_kwh[index], self.days, self.temp_c)


def residual_statistics(residual_kwh: _F64, n_parameters: npt.NDArray[np.int64] | int) -> tuple[_F64, _F64]:
    """Spread and lag-1 autocorrelation of daily residuals, per household.

    residual_kwh: shape (households, days); observed − fitted [kWh], NaN on days without data
    n_parameters: parameters the model fitted per household (1 for a mean), for the degrees of freedom

    returns: (residual_sd_kwh: sqrt(SSE / (n − parameters)) [kWh/day], NaN when n <= parameters;
        residual_autocorrelation: Σ r_t r_(t−1) / Σ r_t² over pairs of consecutive days that both have
        data [1], NaN without such pairs or when every residual is 0)
    """
    finite = np.isfinite(residual_kwh)
    r = np.where(finite, residual_kwh, 0.0)
    n = finite.sum(axis=1)
    sse = (r * r).sum(axis=1)
    dof = n - np.asarray(n_parameters)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(dof > 0, np.sqrt(sse / np.maximum(dof, 1)), np.nan)
        pairs = finite[:, 1:] & finite[:, :-1]
        lagged = np.where(pairs, r[:, 1:] * r[:, :-1], 0.0).sum(axis=1)
        rho = np.where((pairs.sum(axis=1) > 0) & (sse > 0), lagged / np.where(sse > 0, sse, 1.0), np.nan)
    return np.asarray(sd, dtype=np.float64), np.asarray(rho, dtype=np.float64)
