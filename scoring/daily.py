"""Daily consumption: meter readings (registers and intervals) spread onto local calendar days, per meter
and per household. Vectorized; no loop per reading."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.findings import Finding
from scoring.localtime import NS_PER_S, day_starts_utc_ns, local_date, require_tz
from scoring.registers import (
    BACKWARDS,
    CONTINUES,
    FINDING_KEYS,
    RESET,
    ROLLOVER,
    SPIKE,
    judge_groups,
    steps_energy_kwh,
)
from scoring.schema import (
    COVERAGE_FRACTION,
    DAY,
    DURATION_S,
    ENERGY_KWH,
    FINDING_OVERLAPPING_READINGS,
    FINDING_REGISTER_JUMP,
    FINDING_REGISTER_RESET,
    FINDING_UNUSABLE_READINGS,
    HOUSEHOLD_DAILY_COLUMNS,
    HOUSEHOLD_ID,
    KIND,
    KIND_INTERVAL,
    MAX_SPREAD_INTERVAL_S,
    METER_DAILY_COLUMNS,
    METER_HOUSEHOLD_COLUMNS,
    METER_ID,
    METER_READING_COLUMNS,
    SCORABLE_TIME_MAX_UTC,
    SCORABLE_TIME_MIN_UTC,
    TS_UTC,
    FrameSchemaError,
    require_columns,
    validate_readings,
)

DAY_UNIT = "us"  # resolution of the ``day`` column we return (pandas 3's default resolution)

# Coverage above 1 by more than this means readings overlap (float noise stays far below it).
_OVERLAP_TOLERANCE = 1e-9

# Why a reading cannot be used (codes of _unusable_reason; 0 = usable).
_REASONS = {
    1: "missing_meter_id",
    2: "missing_time",
    3: "missing_energy",
    4: "bad_interval_duration",
    5: "negative_interval_energy",
    6: "time_out_of_range",
}

_I64 = npt.NDArray[np.int64]
_F64 = npt.NDArray[np.float64]


def daily_consumption(readings: pd.DataFrame, tz: str) -> tuple[pd.DataFrame, list[Finding]]:
    """Per-day consumption of meters from their readings.

    readings: one row per reading, any order, with
        meter_id: meter identifier
        ts_utc: register: time of the reading; interval: start of the interval [UTC, tz-aware]
        energy_kwh: register: counter value [kWh]; interval: energy in the interval [kWh]
        kind: ``"register"`` or ``"interval"``
        duration_s: interval length [s]; NaN (ignored) for registers
    tz: the contest's IANA time zone, e.g. ``"Europe/Berlin"``; days are its local calendar days

    Register readings are judged by the one register rule (scoring.registers), each against the last
    one kept: a reading that went backwards is left out (``scoring.register_backwards``). The
    consumption between two consecutive readings kept (later minus earlier) is spread over the time
    between them in proportion to time. A fall to near zero is a reset or a meter swap: that gap counts
    neither consumption nor coverage (``scoring.register_reset``); a rollover at a power of ten counts
    the wrapped rise (``scoring.register_rollover``).
    Interval readings: the energy of ``[ts_utc, ts_utc + duration_s)`` is spread in proportion to time.
    A meter with both kinds gets both added. Days are cut at local midnights, so DST days last 23 h/25 h.

    returns: (frame, findings). The frame has one row per meter and local day touched by a usable
    segment, sorted by meter_id, day:
        meter_id: as given
        day: local calendar day (naive ``datetime64[us]`` at local midnight)
        energy_kwh: consumption on that day [kWh]
        coverage_fraction: share of the real length of the day covered by readings [0..1]; overlapping
            readings are clipped to 1 and reported (``scoring.overlapping_readings``)
    Unusable readings (no meter, time or finite energy; interval with NaN/non-positive duration or one
    longer than ``MAX_SPREAD_INTERVAL_S``, or negative energy) are left out and counted per meter
    (``scoring.unusable_readings``).
    """
    require_tz(tz)
    require_columns(readings, METER_READING_COLUMNS, "readings")
    validate_readings(readings)
    findings: list[Finding] = []
    if len(readings) == 0:
        return _empty_meter_daily(readings), findings

    meter_code, meter_ids = pd.factorize(readings[METER_ID], sort=True)
    meter_code = meter_code.astype(np.int64)
    ts_utc = readings[TS_UTC].dt.tz_convert("UTC")
    # Compared before the nanosecond conversion, which a year-3000 timestamp would overflow.
    scorable_time = ts_utc.isna() | ((ts_utc >= SCORABLE_TIME_MIN_UTC) & (ts_utc < SCORABLE_TIME_MAX_UTC))
    ts = ts_utc.where(scorable_time).dt.as_unit("ns")
    ts_ns = np.asarray(ts.array.asi8, dtype=np.int64)
    ts_missing = np.asarray(ts.isna().to_numpy(), dtype=bool)
    ts_out_of_range = ~np.asarray(scorable_time.to_numpy(), dtype=bool)
    energy = readings[ENERGY_KWH].to_numpy(dtype=np.float64, na_value=np.nan)
    duration_s = pd.to_numeric(readings[DURATION_S], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    is_interval = np.asarray((readings[KIND] == KIND_INTERVAL).to_numpy(), dtype=bool)

    reason = _unusable_reason(meter_code, ts_missing, energy, duration_s, is_interval)
    reason[ts_out_of_range & (meter_code >= 0)] = 6
    findings += _unusable_findings(reason, meter_code, meter_ids)
    usable = reason == 0

    use_iv = usable & is_interval
    iv_start = ts_ns[use_iv]
    iv_end = iv_start + np.rint(duration_s[use_iv] * NS_PER_S).astype(np.int64)
    iv_meter = meter_code[use_iv]
    iv_energy = energy[use_iv]

    rg_meter, rg_start, rg_end, rg_energy, rg_findings = _register_segments(
        meter_code[usable & ~is_interval],
        ts_ns[usable & ~is_interval],
        energy[usable & ~is_interval],
        meter_ids,
        tz,
    )
    findings += rg_findings

    seg_meter = np.concatenate([iv_meter, rg_meter])
    seg_start = np.concatenate([iv_start, rg_start])
    seg_end = np.concatenate([iv_end, rg_end])
    seg_energy = np.concatenate([iv_energy, rg_energy])
    if len(seg_meter) == 0:
        return _empty_meter_daily(readings), findings

    frame, overlap_findings = _spread_over_days(seg_meter, seg_start, seg_end, seg_energy, meter_ids, tz)
    findings += overlap_findings
    return frame, findings


def household_daily(meter_daily: pd.DataFrame, meter_households: pd.DataFrame) -> pd.DataFrame:
    """Sum the days of a household's meters into household days.

    meter_daily: as returned by :func:`daily_consumption` (meter_id, day, energy_kwh [kWh],
        coverage_fraction [0..1])
    meter_households: meter_id, household_id: which meter measures which household

    Energy is summed; coverage is summed and clipped to 1, because a meter swap in the middle of a day
    leaves two partially covering meters. (So all meters of a household are taken to measure the same
    supply one after the other, not different supplies side by side.) Days of meters not assigned to
    any household are left out.

    returns: household_id, day, energy_kwh [kWh], coverage_fraction [0..1], sorted by household_id, day
    """
    require_columns(meter_daily, METER_DAILY_COLUMNS, "meter daily")
    require_columns(meter_households, METER_HOUSEHOLD_COLUMNS, "meter households")
    assignment = meter_households[list(METER_HOUSEHOLD_COLUMNS)].dropna().drop_duplicates()
    days = meter_daily[list(METER_DAILY_COLUMNS)].copy()
    days[DAY] = as_local_days(days[DAY], "meter daily")
    merged = days.merge(assignment, on=METER_ID, how="inner")
    if len(merged) == 0:
        out = pd.DataFrame(
            {
                HOUSEHOLD_ID: pd.Series([], dtype=meter_households[HOUSEHOLD_ID].dtype),
                DAY: pd.Series([], dtype=f"datetime64[{DAY_UNIT}]"),
                ENERGY_KWH: pd.Series([], dtype=np.float64),
                COVERAGE_FRACTION: pd.Series([], dtype=np.float64),
            }
        )
        return out[list(HOUSEHOLD_DAILY_COLUMNS)]
    # Sort first so float sums do not depend on the order rows came in.
    merged = merged.sort_values([HOUSEHOLD_ID, DAY, METER_ID], kind="stable")
    out = merged.groupby([HOUSEHOLD_ID, DAY], sort=True, as_index=False)[
        [ENERGY_KWH, COVERAGE_FRACTION]
    ].sum()
    out[ENERGY_KWH] = out[ENERGY_KWH].astype(np.float64)
    out[COVERAGE_FRACTION] = out[COVERAGE_FRACTION].astype(np.float64).clip(upper=1.0)
    return out[list(HOUSEHOLD_DAILY_COLUMNS)].reset_index(drop=True)


def as_local_days(days: pd.Series, what: str) -> pd.Series:
    """Return a ``day`` column as naive ``datetime64[us]`` at midnight.

    Accepts ``datetime.date`` objects, ISO strings or naive datetime64 of any resolution; a tz-aware
    column is an input error (:class:`FrameSchemaError`): a day is a local calendar day, not an instant.
    """
    if isinstance(days.dtype, pd.DatetimeTZDtype):
        raise FrameSchemaError(f"{what}.{DAY} must be naive local days, got tz-aware {days.dtype}")
    try:
        converted = pd.to_datetime(days)
    except (TypeError, ValueError) as exc:
        raise FrameSchemaError(f"{what}.{DAY} must hold calendar days: {exc}") from exc
    if isinstance(converted.dtype, pd.DatetimeTZDtype):
        raise FrameSchemaError(f"{what}.{DAY} must be naive local days, got tz-aware values")
    return converted.dt.as_unit(DAY_UNIT).dt.normalize()


# --- internals ----------------------------------------------------------------------------------


def _empty_meter_daily(readings: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            METER_ID: pd.Series([], dtype=readings[METER_ID].dtype),
            DAY: pd.Series([], dtype=f"datetime64[{DAY_UNIT}]"),
            ENERGY_KWH: pd.Series([], dtype=np.float64),
            COVERAGE_FRACTION: pd.Series([], dtype=np.float64),
        }
    )


def _unusable_reason(
    meter_code: _I64,
    ts_missing: npt.NDArray[np.bool_],
    energy: _F64,
    duration_s: _F64,
    is_interval: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int8]:
    """Code of the first reason a reading cannot be used (0 = usable); see ``_REASONS``."""
    reason = np.zeros(len(meter_code), dtype=np.int8)
    # Assigned from the least to the most basic reason, so the most basic one wins.
    reason[is_interval & (energy < 0)] = 5
    # NaN fails both comparisons too; an interval longer than a year (1e12 s, inf) cannot be spread
    # and would overflow the nanosecond timestamps of its end.
    reason[is_interval & ~((duration_s > 0) & (duration_s <= MAX_SPREAD_INTERVAL_S))] = 4
    reason[~np.isfinite(energy)] = 3
    reason[ts_missing] = 2
    reason[meter_code < 0] = 1
    return reason


def _unusable_findings(reason: npt.NDArray[np.int8], meter_code: _I64, meter_ids: pd.Index) -> list[Finding]:
    bad = reason > 0
    if not bad.any():
        return []
    counts = (
        pd.DataFrame({"meter": meter_code[bad], "reason": reason[bad]})
        .groupby(["meter", "reason"], sort=True)
        .size()
    )
    findings = []
    for meter in counts.index.get_level_values("meter").unique():
        per_reason = {_REASONS[int(r)]: int(n) for r, n in counts.loc[meter].items()}
        total = sum(per_reason.values())
        meter_id = plain_value(meter_ids[meter]) if meter >= 0 else None
        subject = f"meter:{meter_id}" if meter_id is not None else ""
        whose = f"meter {meter_id}" if meter_id is not None else "no meter"
        findings.append(
            Finding(
                key=FINDING_UNUSABLE_READINGS,
                detail=(
                    f"{total} reading(s) of {whose} "
                    f"could not be used and were left out ({', '.join(per_reason)})."
                ),
                subject=subject,
                data={"meter_id": meter_id, "count": total, "reasons": per_reason},
            )
        )
    return findings


def _register_segments(
    meter: _I64, ts_ns: _I64, energy: _F64, meter_ids: pd.Index, tz: str
) -> tuple[_I64, _I64, _I64, _F64, list[Finding]]:
    """Segments between consecutive register readings of each meter that the register rule keeps
    (scoring.registers), and findings on resets, rollovers, jumps and the readings it leaves out.

    Stored readings are judged as a stream judges them on arrival (the MQTT worker): each against the
    last one kept, without looking ahead, so the same readings give the same days whichever way they
    came. Spikes need the next reading: a file's are rejected when it is parsed. Rises are not judged
    here: a rise faster than a household can draw was refused before it was stored
    (contest.readings.out_of_bounds), and scoring holds an implausible day for review; daily
    consumption counts what it is given, so scaling every reading scales every day."""
    # By meter, then time; equal times by value, so a repeated instant never looks like a fall.
    order = np.lexsort((energy, ts_ns, meter))
    meter, ts_ns, energy = meter[order], ts_ns[order], energy[order]
    judged = judge_groups(meter, ts_ns // 1000, energy, spikes=False, rises=False)
    findings = _left_out_findings(judged.verdict, meter, ts_ns, energy, meter_ids, tz)
    kept = judged.accepted
    meter, ts_ns, energy, verdict = meter[kept], ts_ns[kept], energy[kept], judged.verdict[kept]
    same_meter = meter[1:] == meter[:-1]
    gap_ns = ts_ns[1:] - ts_ns[:-1]
    after = verdict[1:]
    delta_kwh = steps_energy_kwh(energy[:-1], energy[1:], after)
    reset = same_meter & (after == RESET)
    rollover = same_meter & (after == ROLLOVER)
    jump = same_meter & (gap_ns == 0) & (after == CONTINUES) & (delta_kwh > 0)
    keep = same_meter & (gap_ns > 0) & ((after == CONTINUES) | (after == ROLLOVER))

    for i in np.flatnonzero(reset | rollover):
        meter_id = plain_value(meter_ids[meter[i]])
        before, at = _iso(ts_ns[i]), _iso(ts_ns[i + 1])
        is_reset = bool(reset[i])
        findings.append(
            Finding(
                key=FINDING_REGISTER_RESET if is_reset else FINDING_KEYS[ROLLOVER],
                detail=(
                    f"The register of meter {meter_id} fell from {energy[i]:g} kWh ({before}) to "
                    f"{energy[i + 1]:g} kWh ({at}); taken as a meter reset or swap, so this gap counts "
                    "no consumption and no coverage."
                    if is_reset
                    else f"The register of meter {meter_id} rolled over from {energy[i]:g} kWh ({before}) "
                    f"to {energy[i + 1]:g} kWh ({at}); the gap counts the {delta_kwh[i]:g} kWh wrapped."
                ),
                subject=f"meter:{meter_id}",
                data={
                    "meter_id": meter_id,
                    "before_ts_utc": before,
                    "after_ts_utc": at,
                    "before_kwh": float(energy[i]),
                    "after_kwh": float(energy[i + 1]),
                    "day": _local_day(ts_ns[i + 1], tz),
                    **({} if is_reset else {"counted_kwh": float(delta_kwh[i])}),
                },
            )
        )
    for i in np.flatnonzero(jump):
        meter_id = plain_value(meter_ids[meter[i]])
        at = _iso(ts_ns[i])
        findings.append(
            Finding(
                key=FINDING_REGISTER_JUMP,
                detail=(
                    f"Meter {meter_id} has two register values at {at}: {energy[i]:g} and "
                    f"{energy[i + 1]:g} kWh; the difference cannot be placed in time and is not counted."
                ),
                subject=f"meter:{meter_id}",
                data={
                    "meter_id": meter_id,
                    "ts_utc": at,
                    "day": _local_day(ts_ns[i], tz),
                    "lower_kwh": float(energy[i]),
                    "higher_kwh": float(energy[i + 1]),
                },
            )
        )
    idx = np.flatnonzero(keep)
    return meter[idx], ts_ns[idx], ts_ns[idx + 1], delta_kwh[idx], findings


def _left_out_findings(
    verdict: npt.NDArray[np.uint8], meter: _I64, ts_ns: _I64, energy: _F64, meter_ids: pd.Index, tz: str
) -> list[Finding]:
    """One finding per meter, local day and kind of register reading the rule leaves out, with how
    many and the first of them."""
    findings: list[Finding] = []
    out = np.flatnonzero((verdict == BACKWARDS) | (verdict == SPIKE))
    if out.size == 0:
        return findings
    days = pd.DatetimeIndex(ts_ns[out]).tz_localize("UTC").tz_convert(tz).date
    frame = pd.DataFrame({"meter": meter[out], "verdict": verdict[out], "day": days, "at": out})
    for (code, kind, day), rows in frame.groupby(["meter", "verdict", "day"], sort=True):
        first = int(rows["at"].iloc[0])
        meter_id = plain_value(meter_ids[int(code)])
        what = "went backwards" if int(kind) == BACKWARDS else "were spikes above both neighbours"
        findings.append(
            Finding(
                key=FINDING_KEYS[int(kind)],
                detail=(
                    f"{len(rows)} register reading(s) of meter {meter_id} on {day} {what} and were left "
                    f"out (first {energy[first]:g} kWh at {_iso(ts_ns[first])})."
                ),
                subject=f"meter:{meter_id}",
                data={
                    "meter_id": meter_id,
                    "day": str(day),
                    "count": len(rows),
                    "first_ts_utc": _iso(ts_ns[first]),
                    "first_kwh": float(energy[first]),
                },
            )
        )
    return findings


def _spread_over_days(
    seg_meter: _I64, seg_start: _I64, seg_end: _I64, seg_energy: _F64, meter_ids: pd.Index, tz: str
) -> tuple[pd.DataFrame, list[Finding]]:
    """Split segments ``[start, end)`` at local midnights and sum energy and covered time per meter day."""
    first_day = local_date(pd.Timestamp(int(seg_start.min()), unit="ns", tz="UTC"), tz)
    last_day = local_date(pd.Timestamp(int(seg_end.max()) - 1, unit="ns", tz="UTC"), tz)
    n_days = (last_day - first_day).days + 1
    # Starts of every local day from first_day to the day after last_day (the end of the last day).
    bounds = day_starts_utc_ns(first_day, n_days + 1, tz)

    first_idx = np.searchsorted(bounds, seg_start, side="right") - 1
    seg_len = seg_end - seg_start
    crosses = seg_end > bounds[first_idx + 1]

    if not crosses.any():  # common case (15-min data): no segment crosses midnight
        day_idx, meter, covered_ns, energy = first_idx, seg_meter, seg_len, seg_energy
    else:
        days_touched = np.ones(len(seg_start), dtype=np.int64)
        last_idx = np.searchsorted(bounds, seg_end[crosses], side="left") - 1
        days_touched[crosses] = last_idx - first_idx[crosses] + 1
        # Repeat each crossing segment once per day it touches, then cut it to that day.
        seg = np.repeat(np.arange(len(seg_start)), days_touched)
        run_start = np.repeat(np.cumsum(days_touched) - days_touched, days_touched)
        day_idx = first_idx[seg] + (np.arange(len(seg)) - run_start)
        covered_ns = np.minimum(seg_end[seg], bounds[day_idx + 1]) - np.maximum(
            seg_start[seg], bounds[day_idx]
        )
        # energy x (share of time): a segment wholly inside one day keeps its energy exactly.
        energy = seg_energy[seg] * (covered_ns / seg_len[seg])
        meter = seg_meter[seg]

    key = meter * np.int64(n_days) + day_idx
    key_space = (int(seg_meter.max()) + 1) * n_days
    # Nanosecond sums stay below 2**53 per day, so float64 adds them exactly: full days give exactly 1.
    covered_ns_f = covered_ns.astype(np.float64)
    if key_space <= max(4 * len(key), 1 << 20):  # dense enough: count straight into every meter day
        keys = np.flatnonzero(np.bincount(key, minlength=key_space))
        energy_kwh = np.bincount(key, weights=energy, minlength=key_space)[keys]
        covered = np.bincount(key, weights=covered_ns_f, minlength=key_space)[keys]
    else:  # sparse (long spans, many meters): number only the meter days that occur
        keys, group = np.unique(key, return_inverse=True)
        energy_kwh = np.bincount(group, weights=energy, minlength=len(keys))
        covered = np.bincount(group, weights=covered_ns_f, minlength=len(keys))
    out_day = keys % n_days
    day_len_ns = (bounds[1:] - bounds[:-1])[out_day]
    coverage = covered / day_len_ns
    out_meter = keys // n_days

    findings = _overlap_findings(coverage, out_meter, out_day, first_day, meter_ids)
    dates = pd.date_range(pd.Timestamp(first_day), periods=n_days, freq="D", unit=DAY_UNIT)
    frame = pd.DataFrame(
        {
            METER_ID: meter_ids.take(out_meter),
            DAY: dates.take(out_day),
            ENERGY_KWH: energy_kwh,
            COVERAGE_FRACTION: np.minimum(coverage, 1.0),
        }
    )
    return frame, findings


def _overlap_findings(
    coverage: _F64, meter: _I64, day_idx: _I64, first_day: dt.date, meter_ids: pd.Index
) -> list[Finding]:
    over = coverage > 1.0 + _OVERLAP_TOLERANCE
    if not over.any():
        return []
    per_meter = pd.DataFrame({"meter": meter[over], "day": day_idx[over], "coverage": coverage[over]})
    findings = []
    for code, rows in per_meter.groupby("meter", sort=True):
        meter_id = plain_value(meter_ids[int(code)])
        first = (first_day + dt.timedelta(days=int(rows["day"].min()))).isoformat()
        findings.append(
            Finding(
                key=FINDING_OVERLAPPING_READINGS,
                detail=(
                    f"Readings of meter {meter_id} cover {len(rows)} day(s) more than once (first {first}); "
                    "their energy is all counted, their coverage is clipped to the whole day."
                ),
                subject=f"meter:{meter_id}",
                data={
                    "meter_id": meter_id,
                    "days": len(rows),
                    "first_day": first,
                    "max_coverage": float(rows["coverage"].max()),
                },
            )
        )
    return findings


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python value, so finding data stays JSON-able."""
    return value.item() if isinstance(value, np.generic) else value


def _local_day(ts_ns: np.int64, tz: str) -> str:
    return local_date(pd.Timestamp(int(ts_ns), unit="ns", tz="UTC"), tz).isoformat()


def _iso(ts_ns: np.int64) -> str:
    iso: str = pd.Timestamp(int(ts_ns), unit="ns", tz="UTC").isoformat()
    return iso
