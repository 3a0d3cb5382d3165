"""The day matrix of a score run: households × scored local days (baseline days, then competition days).

Which days count for whom: a day has data when readings cover enough of it and its energy is usable;
days excluded for everyone, days without a temperature (for a method that needs one) and declared
absences drop out of both periods. Also the canonical bytes of these inputs for the run's fingerprint.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.daily import as_local_days, plain_value
from scoring.dayblock import DayBlock
from scoring.findings import Finding
from scoring.fingerprint import array_bytes
from scoring.schema import (
    ABSENCE_COLUMNS,
    ABSENCE_RANGE_COLUMNS,
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    FINDING_HOUSEHOLD_UNSCORABLE,
    FINDING_INVALID_DAILY_ENERGY,
    FINDING_MISSING_WEATHER,
    FINDING_UNKNOWN_ABSENCE,
    FINDING_UNKNOWN_HOUSEHOLD,
    FIRST_DAY,
    HOUSEHOLD_ID,
    LAST_DAY,
    MAX_HOUSEHOLD_KWH_PER_DAY,
    TEMP_C,
    FrameSchemaError,
    require_columns,
)

# Thresholds are compared with this slack so a share that is exactly on the line in decimal (e.g. 4/5 of
# the days for 80 %) is not lost to binary rounding.
THRESHOLD_TOLERANCE = 1e-9

_Array = np.ndarray[Any, Any]
_F64 = npt.NDArray[np.float64]
_US_PER_DAY = 86_400_000_000
_NAT_ORDINAL = np.iinfo(np.int64).min // _US_PER_DAY  # far outside any axis


def at_least(values: _Array, threshold: float) -> npt.NDArray[np.bool_]:
    """``values >= threshold`` with :data:`THRESHOLD_TOLERANCE` of slack; NaN is False."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold - THRESHOLD_TOLERANCE, dtype=bool)


def expand_absence_ranges(ranges: pd.DataFrame) -> pd.DataFrame:
    """Declared absences as one row per absent day.

    ranges: household_id, first_day, last_day (local days, inclusive); a range whose last day is before
        its first is an input error (:class:`FrameSchemaError`)

    returns: household_id, day (naive ``datetime64[us]``), sorted, without repeats
    """
    require_columns(ranges, ABSENCE_RANGE_COLUMNS, "absence ranges")
    first = as_local_days(ranges[FIRST_DAY], "absence ranges")
    last = as_local_days(ranges[LAST_DAY], "absence ranges")
    if (first.isna() | last.isna()).any():
        raise FrameSchemaError("absence ranges need both a first_day and a last_day")
    length = ((last - first).dt.days + 1).to_numpy(dtype=np.int64)
    if (length < 1).any():
        bad = int(np.flatnonzero(length < 1)[0])
        raise FrameSchemaError(f"absence range {bad + 1} ends before it starts")
    repeated = np.repeat(np.arange(len(ranges)), length)
    offset = np.arange(len(repeated)) - np.repeat(np.cumsum(length) - length, length)
    days = first.to_numpy()[repeated] + offset.astype("timedelta64[D]")
    out = pd.DataFrame({HOUSEHOLD_ID: ranges[HOUSEHOLD_ID].to_numpy()[repeated], DAY: days})
    out[DAY] = out[DAY].astype("datetime64[us]")
    return out.drop_duplicates().sort_values([HOUSEHOLD_ID, DAY], kind="stable").reset_index(drop=True)


def ordinal(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - dt.date(1970, 1, 1)).days


def day_ordinals(days: pd.Series, what: str) -> npt.NDArray[np.int64]:
    """Local day of each value as days since 1970-01-01 (NaT far outside any axis)."""
    if isinstance(days.dtype, np.dtype) and days.dtype.kind == "M":
        # Naive datetime64 (the usual case): floor division gives the calendar day without normalizing.
        micros = days.to_numpy().astype("datetime64[us]").view(np.int64)
    else:
        micros = as_local_days(days, what).to_numpy().astype("datetime64[us]").view(np.int64)
    nat = micros == np.iinfo(np.int64).min
    return np.where(nat, _NAT_ORDINAL, micros // _US_PER_DAY)


class DayAxis:
    """The local days scored: the baseline days, then the competition days (columns of the day matrix)."""

    def __init__(
        self, base_first: dt.date, base_last: dt.date, comp_first: dt.date, comp_last: dt.date
    ) -> None:
        base = np.arange(ordinal(base_first), ordinal(base_last) + 1, dtype=np.int64)
        comp = np.arange(ordinal(comp_first), ordinal(comp_last) + 1, dtype=np.int64)
        self.ordinals = np.concatenate([base, comp])
        self.baseline_columns = len(base)
        self.days = self.ordinals.astype("datetime64[D]")
        self.offset = int(self.ordinals.min()) if len(self.ordinals) else 0
        span = int(self.ordinals.max()) - self.offset + 1 if len(self.ordinals) else 0
        self.lookup = np.full(span, -1, dtype=np.int64)
        self.lookup[self.ordinals - self.offset] = np.arange(len(self.ordinals))

    def __len__(self) -> int:
        return len(self.ordinals)

    def columns(self, ordinals: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Column of each day ordinal (days since 1970-01-01); -1 for days not scored."""
        # One clip and one gather: positions outside the axis land on the -1 sentinels at either end.
        padded = np.concatenate([[-1], self.lookup, [-1]])
        index = np.clip(ordinals - (self.offset - 1), 0, len(padded) - 1)
        return np.asarray(padded[index], dtype=np.int64)

    def columns_of(self, days: Iterable[dt.date]) -> npt.NDArray[np.int64]:
        """Columns of the scored days among ``days``."""
        ordinals = np.array([ordinal(d) for d in days], dtype=np.int64)
        columns = self.columns(ordinals)
        return columns[columns >= 0]

    def values_of(self, weather: pd.DataFrame) -> _F64:
        """Temperature of every scored day [°C]; NaN where the weather frame has none."""
        ordinals = weather[DAY].to_numpy().astype("datetime64[D]").astype(np.int64)
        columns = self.columns(ordinals)
        temp = np.full(len(self), np.nan)
        keep = columns >= 0
        temp[columns[keep]] = weather[TEMP_C].to_numpy(dtype=np.float64)[keep]
        return temp


@dataclass(frozen=True, slots=True, eq=False)
class DayMatrix:
    """The scored days of every household (rows in household_id order).

    baseline, competition: energy per household and day [kWh], NaN where a day has no data or cannot
        count (excluded, absent, no temperature)
    baseline_possible, competition_possible: days per household that could count [days]
    unscorable: households whose own numbers cannot be scored (a day above the physical limit)
    fingerprint_parts: canonical bytes of the days, daily values, weather and absences used
    """

    baseline: DayBlock
    competition: DayBlock
    baseline_possible: npt.NDArray[np.int64]
    competition_possible: npt.NDArray[np.int64]
    unscorable: npt.NDArray[np.bool_]
    fingerprint_parts: list[tuple[str, bytes]]

    @property
    def baseline_coverage(self) -> _F64:
        """Share of the possible baseline days with data [0..1]; NaN without possible days."""
        return _share(self.baseline.days_with_data, self.baseline_possible)

    @property
    def competition_coverage(self) -> _F64:
        """Share of the possible competition days with data [0..1]; NaN without possible days."""
        return _share(self.competition.days_with_data, self.competition_possible)


def _share(days_with_data: npt.NDArray[np.int64], possible: npt.NDArray[np.int64]) -> _F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(possible > 0, days_with_data / np.maximum(possible, 1), np.nan)
    return np.asarray(share, dtype=np.float64)


def day_matrix(
    daily: pd.DataFrame,
    ids: pd.Index,
    axis: DayAxis,
    *,
    min_day_coverage_fraction: float,
    excluded_days: Iterable[dt.date],
    weather: pd.DataFrame | None,
    needs_weather: bool,
    absences: pd.DataFrame | None,
    findings: list[Finding],
) -> DayMatrix:
    """The day matrix of ``daily`` for the households ``ids`` on the days of ``axis``.

    A day counts for nobody when it is excluded or (``needs_weather``) has no temperature in ``weather``;
    for one household when it is a declared absence. Findings go to ``findings``.
    """
    energy, parts, unscorable = _household_days(daily, ids, axis, min_day_coverage_fraction, findings)
    possible = np.ones(energy.shape, dtype=bool)
    possible[:, axis.columns_of(excluded_days)] = False
    temp = None
    if weather is not None:
        temp = axis.values_of(weather)
        parts.append(("weather", array_bytes(temp)))
        if needs_weather:
            missing = ~np.isfinite(temp) & possible.any(axis=0) if len(ids) else ~np.isfinite(temp)
            possible[:, ~np.isfinite(temp)] = False
            if missing.any():
                findings.append(_missing_weather_finding(axis.days[missing]))
    if absences is not None:
        parts.append(("absences", _mark_absences(absences, ids, axis, possible, findings)))
    energy[~possible] = np.nan

    nb = axis.baseline_columns
    return DayMatrix(
        baseline=DayBlock(energy[:, :nb], axis.days[:nb], None if temp is None else temp[:nb]),
        competition=DayBlock(energy[:, nb:], axis.days[nb:], None if temp is None else temp[nb:]),
        baseline_possible=possible[:, :nb].sum(axis=1),
        competition_possible=possible[:, nb:].sum(axis=1),
        unscorable=unscorable,
        fingerprint_parts=parts,
    )


def _household_days(
    daily: pd.DataFrame,
    ids: pd.Index,
    axis: DayAxis,
    min_day_coverage_fraction: float,
    findings: list[Finding],
) -> tuple[_F64, list[tuple[str, bytes]], npt.NDArray[np.bool_]]:
    """The day matrix (households × scored days) of usable energy [kWh], NaN where a day has no data;
    the canonical bytes of the daily input it was built from (for the fingerprint); and which
    households are unscorable: a covered day above ``MAX_HOUSEHOLD_KWH_PER_DAY`` (1e300 from a broken
    register, +inf) is no household's consumption, so all their days count as no data and the
    household gets a ``scoring.household_unscorable`` finding. Every later sum then stays finite."""
    households, days = len(ids), len(axis)
    code = (
        np.asarray(ids.get_indexer(daily[HOUSEHOLD_ID]), dtype=np.int64)
        if households
        else np.full(len(daily), -1)
    )
    known = code >= 0
    if not known.all():
        findings.append(_unknown_households_finding(daily.loc[~known, HOUSEHOLD_ID]))
    column = axis.columns(day_ordinals(daily[DAY], "daily"))
    keep = known & (column >= 0)
    energy = pd.to_numeric(daily[ENERGY_KWH], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)[
        keep
    ]
    coverage = pd.to_numeric(daily[COVERAGE_FRACTION], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )[keep]
    key = code[keep] * days + column[keep]

    raw_energy = np.full(households * days, np.nan)
    raw_coverage = np.full(households * days, np.nan)
    counts = (
        np.bincount(key, minlength=households * days) if len(key) else np.zeros(households * days, np.int64)
    )
    repeats = len(counts) > 0 and int(counts.max()) > 1
    single = counts[key] == 1 if repeats else np.ones(len(key), dtype=bool)
    raw_energy[key[single]] = energy[single]
    raw_coverage[key[single]] = coverage[single]
    if repeats:
        # Several rows for one household day (e.g. given per meter) add up like household_daily does;
        # sorting first keeps float sums independent of the order rows came in.
        repeated = pd.DataFrame(
            {"key": key[~single], ENERGY_KWH: energy[~single], COVERAGE_FRACTION: coverage[~single]}
        )
        repeated = repeated.sort_values(["key", ENERGY_KWH, COVERAGE_FRACTION], kind="stable")
        repeated["energy_missing"] = repeated[ENERGY_KWH].isna().astype(np.int64)
        summed = repeated.groupby("key", sort=True)[[ENERGY_KWH, COVERAGE_FRACTION, "energy_missing"]].sum()
        # A copy: under copy-on-write the column's array is a read-only view.
        total = summed[ENERGY_KWH].to_numpy(dtype=np.float64, copy=True)
        total[summed["energy_missing"].to_numpy() > 0] = np.nan
        where = summed.index.to_numpy(dtype=np.int64)
        raw_energy[where] = total
        raw_coverage[where] = summed[COVERAGE_FRACTION].to_numpy(dtype=np.float64)

    covered = at_least(raw_coverage, min_day_coverage_fraction)
    energy_ok = np.isfinite(raw_energy) & (raw_energy >= 0) & (raw_energy <= MAX_HOUSEHOLD_KWH_PER_DAY)
    impossible = covered & (raw_energy > MAX_HOUSEHOLD_KWH_PER_DAY)  # +inf too
    unscorable: npt.NDArray[np.bool_] = np.asarray(impossible.reshape(households, days).any(axis=1))
    if unscorable.any():
        findings += _unscorable_findings(ids, impossible.reshape(households, days), raw_energy, axis)
    bad = np.flatnonzero(covered & ~energy_ok & ~impossible)
    if len(bad):
        bad_days = pd.DataFrame(
            {HOUSEHOLD_ID: ids.take(bad // days), DAY: axis.days[bad % days].astype("datetime64[us]")}
        )
        findings += _invalid_energy_findings(bad_days)
    usable = np.where(covered & energy_ok, raw_energy, np.nan).reshape(households, days)
    usable[unscorable, :] = np.nan
    unknown = pd.Series(daily.loc[~known, HOUSEHOLD_ID].astype(str).unique()).sort_values().to_numpy()
    parts = [
        ("days", array_bytes(axis.ordinals)),
        ("daily_energy_kwh", array_bytes(raw_energy)),
        ("daily_coverage_fraction", array_bytes(raw_coverage)),
        ("unknown_households", f"{int((~known).sum())}:{'|'.join(unknown)}".encode()),
    ]
    return usable, parts, unscorable


def _mark_absences(
    absences: pd.DataFrame,
    ids: pd.Index,
    axis: DayAxis,
    possible: npt.NDArray[np.bool_],
    findings: list[Finding],
) -> bytes:
    """Clear ``possible`` on declared absent days; return the canonical bytes of the absences used."""
    require_columns(absences, ABSENCE_COLUMNS, "absences")
    code = (
        np.asarray(ids.get_indexer(absences[HOUSEHOLD_ID]), dtype=np.int64)
        if len(ids)
        else np.full(len(absences), -1)
    )
    unknown = code < 0
    if unknown.any():
        names = sorted({str(plain_value(v)) for v in absences.loc[unknown, HOUSEHOLD_ID]})
        findings.append(
            Finding(
                key=FINDING_UNKNOWN_ABSENCE,
                detail=f"{int(unknown.sum())} absence day(s) of {len(names)} household(s) not in this contest were ignored.",
                data={"rows": int(unknown.sum()), "households": names[:50]},
            )
        )
    column = axis.columns(day_ordinals(absences[DAY], "absences"))
    keep = ~unknown & (column >= 0)
    possible[code[keep], column[keep]] = False
    cells = np.unique(code[keep] * max(len(axis), 1) + column[keep])
    return array_bytes(cells)


def _unscorable_findings(
    ids: pd.Index, impossible: npt.NDArray[np.bool_], raw_energy: _F64, axis: DayAxis
) -> list[Finding]:
    energy = raw_energy.reshape(impossible.shape)
    findings = []
    for i in np.flatnonzero(impossible.any(axis=1)):
        household_id = plain_value(ids[i])
        cols = np.flatnonzero(impossible[i])
        first = pd.Timestamp(axis.days[cols[0]]).date().isoformat()
        highest = float(energy[i, cols].max())
        findings.append(
            Finding(
                key=FINDING_HOUSEHOLD_UNSCORABLE,
                detail=(
                    f"Household {household_id} cannot be scored: {len(cols)} day(s) with more energy than a "
                    f"household connection can draw (up to {highest:g} kWh on one day, first {first}; at most "
                    f"{MAX_HOUSEHOLD_KWH_PER_DAY:g} kWh per day are possible). It is held back for review; "
                    "check its meter's readings."
                ),
                subject=f"household:{household_id}",
                data={
                    "reason": "daily_energy_above_physical_limit",
                    "days": len(cols),
                    "first_day": first,
                    "max_kwh": highest if math.isfinite(highest) else str(highest),
                    "limit_kwh_per_day": MAX_HOUSEHOLD_KWH_PER_DAY,
                },
            )
        )
    return findings


def _missing_weather_finding(days: npt.NDArray[np.datetime64]) -> Finding:
    listed = [str(d) for d in days[:20]]
    return Finding(
        key=FINDING_MISSING_WEATHER,
        detail=(
            f"{len(days)} scored day(s) have no temperature (first {listed[0]}); they are left out of both "
            "periods for every household, like excluded days."
        ),
        data={"days": len(days), "first_days": listed},
    )


def _unknown_households_finding(unknown: pd.Series) -> Finding:
    distinct = [plain_value(v) for v in pd.unique(unknown)]
    try:
        distinct = sorted(distinct)
    except TypeError:
        distinct = sorted(distinct, key=str)
    return Finding(
        key=FINDING_UNKNOWN_HOUSEHOLD,
        detail=(
            f"{len(unknown)} daily row(s) belong to {len(distinct)} household(s) not in this contest "
            "and were ignored."
        ),
        data={"rows": len(unknown), "households": distinct[:50]},
    )


def _invalid_energy_findings(bad: pd.DataFrame) -> list[Finding]:
    findings = []
    for household_id, rows in bad.groupby(HOUSEHOLD_ID, sort=True):
        first = pd.Timestamp(rows[DAY].min()).date().isoformat()
        findings.append(
            Finding(
                key=FINDING_INVALID_DAILY_ENERGY,
                detail=(
                    f"Household {household_id} has {len(rows)} covered day(s) without a usable energy value "
                    f"(missing or negative, first {first}); they count as days without data."
                ),
                subject=f"household:{household_id}",
                data={"days": len(rows), "first_day": first},
            )
        )
    return findings
