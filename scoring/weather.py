"""Daily mean temperatures as scoring takes them, and degree days. Parsing weather files is ingest's job
(``ingest/weather.py``); this module only checks frames and computes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.daily import as_local_days
from scoring.schema import DAY, TEMP_C, WEATHER_COLUMNS, FrameSchemaError, require_columns

#: Daily means outside this range are input errors, not weather [°C].
PLAUSIBLE_TEMP_C = (-60.0, 60.0)

_F64 = npt.NDArray[np.float64]


def validate_weather(weather: pd.DataFrame) -> pd.DataFrame:
    """Check a weather frame and return it normalized.

    weather: one row per local day with
        day: local calendar day (naive; dates, ISO strings or datetime64)
        temp_c: daily mean air temperature [°C]; NaN for a day without a value

    returns: day (naive ``datetime64[us]`` at midnight), temp_c [°C] as float, sorted by day, without
        rows whose temperature is NaN
    raises: :class:`FrameSchemaError` for a missing column, a repeated day, a value that is not a number
        or a temperature outside -60..60 °C (likely °F or tenths of a degree)
    """
    require_columns(weather, WEATHER_COLUMNS, "weather")
    days = as_local_days(weather[DAY], "weather")
    if days.isna().any():
        raise FrameSchemaError(f"weather.{DAY} has missing days")
    temp = pd.to_numeric(weather[TEMP_C], errors="coerce")
    not_numbers = temp.isna() & weather[TEMP_C].notna()
    if not_numbers.any():
        shown = weather.loc[not_numbers, TEMP_C].iloc[0]
        raise FrameSchemaError(f"weather.{TEMP_C} must hold numbers [°C], got {shown!r}")
    out = pd.DataFrame({DAY: days.to_numpy(), TEMP_C: temp.to_numpy(dtype=np.float64, na_value=np.nan)})
    repeated = out[DAY].duplicated()
    if repeated.any():
        first = pd.Timestamp(out.loc[repeated, DAY].iloc[0]).date()
        raise FrameSchemaError(f"weather has more than one row for the day {first}")
    low, high = PLAUSIBLE_TEMP_C
    outside = (out[TEMP_C] < low) | (out[TEMP_C] > high)
    if outside.any():
        row = out.loc[outside].iloc[0]
        raise FrameSchemaError(
            f"weather.{TEMP_C} = {row[TEMP_C]:g} on {pd.Timestamp(row[DAY]).date()} is not a daily mean in °C "
            f"(allowed {low:g}..{high:g}); °F or tenths of a degree?"
        )
    out = out.dropna(subset=[TEMP_C]).sort_values(DAY, kind="stable").reset_index(drop=True)
    return out


def heating_degree_days(temp_c: npt.ArrayLike, balance_point_c: npt.ArrayLike) -> _F64:
    """Heating degree days: max(balance point − daily mean temperature, 0) [K·d per day].

    temp_c: daily mean temperatures [°C], shape (days,)
    balance_point_c: one or more balance points [°C], shape (points,) or scalar

    returns: shape (days, points) for an array of balance points, (days,) for a scalar
    """
    temp = np.asarray(temp_c, dtype=np.float64)
    points = np.asarray(balance_point_c, dtype=np.float64)
    if points.ndim == 0:
        return np.maximum(points - temp, 0.0)
    return np.maximum(points[np.newaxis, :] - temp[:, np.newaxis], 0.0)


def cooling_degree_days(temp_c: npt.ArrayLike, balance_point_c: npt.ArrayLike) -> _F64:
    """Cooling degree days: max(daily mean temperature − balance point, 0) [K·d per day]; shapes as
    :func:`heating_degree_days`."""
    temp = np.asarray(temp_c, dtype=np.float64)
    points = np.asarray(balance_point_c, dtype=np.float64)
    if points.ndim == 0:
        return np.maximum(temp - points, 0.0)
    return np.maximum(temp[:, np.newaxis] - points[np.newaxis, :], 0.0)


def fahrenheit_to_celsius(temp_f: npt.ArrayLike) -> _F64:
    """Convert temperatures from °F to °C."""
    return (np.asarray(temp_f, dtype=np.float64) - 32.0) * (5.0 / 9.0)
