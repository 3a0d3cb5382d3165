"""Readings crossing from ingest into storage: their values (a frame's schema, a device's message, a
rejection) and the rules every reading keeps before it is stored, whatever its source: the bounds of
one reading, register rises (scoring.registers) and the meter's validity and register series."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.registers import (
    BACKWARDS,
    TOO_FAST,
    judge_series,
    max_rise_kwh,
    step_verdict,
)
from scoring.schema import (  # re-exported: ingest and web use the names from here
    DURATION_S,
    ENERGY_KWH,
    KIND,
    KIND_INTERVAL,
    KIND_REGISTER,
    LINE_NO,
    MAX_HOUSEHOLD_POWER_KW,
    READING_COLUMNS,
    TS_UTC,
    validate_readings,
)

__all__ = [
    "DIRECTION_EXPORT",
    "DIRECTION_IMPORT",
    "DURATION_S",
    "ENERGY_KWH",
    "KIND",
    "KIND_INTERVAL",
    "KIND_REGISTER",
    "LINE_NO",
    "MAX_HOUSEHOLD_POWER_KW",
    "READING_COLUMNS",
    "TS_UTC",
    "DeviceMessage",
    "DeviceReading",
    "Rejection",
    "StreamRejection",
    "StreamRow",
    "out_of_bounds",
    "reading_problem",
    "register_problem",
    "register_rise_problem",
    "validate_readings",
    "validity_problem",
    "validity_problems",
]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input record that could not be used, kept with why.

    line_no: 1-based line in the source file (None for MQTT)
    raw: the record as it was received (the CSV line, the payload)
    reason: human-readable English reason, e.g. "register went backwards from 1234.5 to 1200.0 kWh"
    key: stable machine-readable key, e.g. "csv.register_backwards"
    """

    line_no: int | None
    raw: str
    reason: str
    key: str = "ingest.rejected"


#: Direction of an energy register: what the household takes from the grid (1.8.x) or feeds in (2.8.x).
DIRECTION_IMPORT = "import"
DIRECTION_EXPORT = "export"


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One energy value parsed from a device message (MQTT), before it is bound to a meter.

    device: device id as the topic names it (``tasmota_DC0386``, ``shellyem3-8CAAB5619A0A``, emonhub node)
    channel: which register of the device (``1.8.0``, ``Total_in``, ``emeter/0/total``, ``em1data:0``);
        a device with several registers publishes several channels
    ts_utc: the device's own time of the value [UTC, aware]; None when the message carries no usable
        time (the worker then stamps the broker's receive time)
    energy_kwh: register value [kWh] (kind "register") or energy in the interval [kWh] ("interval")
    kind: "register" | "interval"
    direction: "import" (consumption, OBIS 1.8.x) | "export" (feed-in, OBIS 2.8.x)
    duration_s: interval length [s] for interval values, else None
    assumed_unit: the unit the parser assumed because the message states none (vzlogger ``kWh``, OBIS
        topics ``Wh``); a device binding's unit replaces it. None: the message stated its unit.
    """

    device: str
    channel: str
    ts_utc: datetime | None
    energy_kwh: float
    kind: str = KIND_REGISTER
    direction: str = DIRECTION_IMPORT
    duration_s: float | None = None
    assumed_unit: str | None = None

    def __post_init__(self) -> None:
        if self.ts_utc is not None and self.ts_utc.tzinfo is None:
            raise ValueError("DeviceReading.ts_utc must be aware (UTC)")
        if self.kind not in (KIND_REGISTER, KIND_INTERVAL):
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.direction not in (DIRECTION_IMPORT, DIRECTION_EXPORT):
            raise ValueError(f"unknown direction {self.direction!r}")


@dataclass(frozen=True, slots=True)
class StreamRow:
    """A streamed reading bound to its meter, ready to store. ts_utc: [UTC, aware]; energy_kwh: register
    value or interval energy [kWh]; duration_s: interval length [s] (None for registers)."""

    meter_id: int
    ts_utc: datetime
    energy_kwh: float
    kind: str
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class StreamRejection:
    """A message kept in the rejected store: topic, payload, reason, key, when it arrived [UTC]."""

    topic: str
    payload: bytes
    reason: str
    key: str
    received_at: datetime
    meter_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """The last message of a device channel the worker parsed: where and when it came, the value, and
    what became of it.

    received_at: broker receive time [UTC]; ts_utc: the reading's time [UTC]; energy_kwh: [kWh]
    meter_id, meter: the meter it was stored for or rejected at (None: no binding took it)
    rejection_key, rejection_reason: why it was not stored (None: stored)
    """

    device: str
    channel: str
    topic: str
    received_at: datetime
    ts_utc: datetime
    energy_kwh: float
    meter_id: int | None = None
    rejection_key: str | None = None
    rejection_reason: str | None = None
    meter: str | None = None


# --- bounds at the edge ------------------------------------------------------------------------
# Every normalized reading keeps these before it is stored (ReadingService.store: files, manual and
# swap readings; the MQTT worker: device messages, one at a time). A reading outside them is
# a Rejection with one of the keys below and its reason, never a crash later in scoring or publishing
# (issue 11: an interval of 1e12 s, a register of 1e300 kWh).

#: Earliest time of a reading [UTC]. No contest here scores data from before it; a reading before it
#: is a misread date (a two-digit year, an epoch of 0, a device clock that never got the time).
EARLIEST_READING_UTC = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of the clock a reading may be. A device clock or a file's zone can be off by hours
#: (zones run from UTC-12 to UTC+14); more than a day ahead is a wrong date. The MQTT worker's
#: ``max_future_s`` setting defaults to the same day.
MAX_FUTURE_SKEW = timedelta(days=1)
#: Shortest interval [s]: the finest resolution of a timestamp we store meaningfully (smart-meter
#: gateways send 1 s values at most); 0 or less is no interval at all.
MIN_INTERVAL_S = 1.0
#: Longest interval [s]: a calendar month, the longest step a household export uses (monthly bills and
#: portal exports), plus the hour October gains when summer time ends. A longer "interval" (1e12 s is
#: 31,700 years) is a unit or parser error.
MAX_INTERVAL_S = 31 * 86_400.0 + 3_600.0
#: Largest register value [kWh]. Household counters show at most 8 digits before the decimal point:
#: 99,999,999 kWh for electricity and heat, and 99,999,999 m³ of gas at up to ~13 kWh/m³ (Brennwert) is
#: 1.3e9 kWh. 1e10 leaves room for all of them and stays far below the 1e300 of a broken value.
MAX_REGISTER_KWH = 1e10
#: Interval energy is limited by ``MAX_HOUSEHOLD_POWER_KW`` (100 kW, from scoring.schema, where its
#: reason is), register rises by the same limit plus one display step (scoring.registers.max_rise_kwh).

KEY_TIME_OUT_OF_RANGE = "reading.time_out_of_range"
KEY_ENERGY_NOT_FINITE = "reading.energy_not_finite"
KEY_ENERGY_NEGATIVE = "reading.energy_negative"
KEY_DURATION_OUT_OF_RANGE = "reading.duration_out_of_range"
KEY_REGISTER_OUT_OF_RANGE = "reading.register_out_of_range"
KEY_INTERVAL_POWER_TOO_HIGH = "reading.interval_power_too_high"
KEY_REGISTER_RISE_TOO_FAST = "reading.register_rise_too_fast"
KEY_OUTSIDE_METER_VALIDITY = "reading.outside_meter_validity"
#: uploads (files, manual) for a time a bound device reads the meter: that register series is the device's
KEY_METER_READ_BY_DEVICE = "csv.meter_read_by_device"
#: a device's reading from before its binding: that register series is another counter's (the display's)
KEY_BEFORE_BINDING = "mqtt.before_binding"

_US_PER_HOUR = 3.6e9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Columns of what :func:`out_of_bounds` returns.
BOUND_KEY = "key"
BOUND_REASON = "reason"


def register_rise_problem(
    previous_ts: datetime, previous_kwh: float, ts: datetime, energy_kwh: float
) -> str | None:
    """Why a register reading cannot follow the previous reading of the same series (a rise faster
    than a household connection can draw, scoring.registers), or None. Falls are not judged here:
    :func:`register_problem` judges both.

    previous_ts, ts: [UTC, aware]; previous_kwh, energy_kwh: register values [kWh]
    """
    hours = (ts - previous_ts).total_seconds() / 3600.0
    if step_verdict(previous_kwh, energy_kwh, hours, falls=False) != TOO_FAST:
        return None
    return _rise_reason(previous_ts, previous_kwh, energy_kwh, hours)


def register_problem(
    previous_ts: datetime, previous_kwh: float, ts: datetime, energy_kwh: float, *, backwards_key: str
) -> tuple[str, str] | None:
    """Why a register reading that follows the last accepted reading of its series cannot be stored,
    by the one register rule (scoring.registers): (key, reason) of a reading that went backwards or
    rose too fast, or None (it continues, or the counter was reset or rolled over). A stream judges
    each new reading so; it cannot see spikes (they need the next reading).

    previous_ts, ts: [UTC, aware]; previous_kwh, energy_kwh: register values [kWh]
    backwards_key: the key of a reading that went backwards, its source's (``mqtt.register_backwards``,
        ``csv.register_backwards``); a rise too fast has the bounds' key, the same for every source
    """
    hours = (ts - previous_ts).total_seconds() / 3600.0
    verdict = step_verdict(previous_kwh, energy_kwh, hours)
    if verdict == TOO_FAST:
        return KEY_REGISTER_RISE_TOO_FAST, _rise_reason(previous_ts, previous_kwh, energy_kwh, hours)
    if verdict == BACKWARDS:
        return (
            backwards_key,
            f"register went backwards from {previous_kwh:.3f} kWh ({previous_ts.isoformat()}) to "
            f"{energy_kwh:.3f} kWh",
        )
    return None


def _rise_reason(previous_ts: datetime, previous_kwh: float, energy_kwh: float, hours: float) -> str:
    return (
        f"register rose from {previous_kwh:g} kWh ({previous_ts.isoformat()}) to {energy_kwh:g} kWh in "
        f"{hours:.4g} h: more than a household connection can draw ({MAX_HOUSEHOLD_POWER_KW:g} kW, i.e. at "
        f"most {max_rise_kwh(hours):.6g} kWh)"
    )


def reading_problem(
    ts: datetime | None, energy_kwh: float, kind: str, duration_s: float | None, *, now: datetime
) -> tuple[str, str] | None:
    """Why one reading breaks a bound of its own (key, reason), or None; the rules every reading
    keeps, one reading at a time (the MQTT worker checks each message with it; :func:`out_of_bounds`
    gives the same answers for a frame). Register rises need the series: :func:`register_rise_problem`.

    ts: register: time of the reading; interval: its start [UTC, aware]
    energy_kwh: register value or interval energy [kWh] (after any unit conversion)
    kind: "register" | "interval"; duration_s: interval length [s] (None/NaN for registers)
    now: the clock [UTC, aware]
    """
    latest = now + MAX_FUTURE_SKEW
    if ts is None or pd.isna(ts) or not (EARLIEST_READING_UTC <= ts <= latest):
        return (
            KEY_TIME_OUT_OF_RANGE,
            f"time {'none' if ts is None or pd.isna(ts) else ts.isoformat()} is outside {EARLIEST_READING_UTC:%Y-%m-%d} .. {latest:%Y-%m-%d %H:%M} UTC (the clock "
            f"plus {MAX_FUTURE_SKEW.days} day)",
        )
    if not math.isfinite(energy_kwh):
        return KEY_ENERGY_NOT_FINITE, f"energy {energy_kwh} is not a finite number"
    if energy_kwh < 0:
        return KEY_ENERGY_NEGATIVE, f"negative energy {energy_kwh:g} kWh"
    if kind != KIND_INTERVAL:
        if energy_kwh > MAX_REGISTER_KWH:
            return (
                KEY_REGISTER_OUT_OF_RANGE,
                f"register {energy_kwh:g} kWh is above {MAX_REGISTER_KWH:g} kWh (no household counter "
                "shows more than 8 digits)",
            )
        return None
    if duration_s is None or not (MIN_INTERVAL_S <= duration_s <= MAX_INTERVAL_S):  # NaN fails too
        return (
            KEY_DURATION_OUT_OF_RANGE,
            f"interval length {'none' if duration_s is None else f'{duration_s:g}'} s is outside {MIN_INTERVAL_S:g} .. {MAX_INTERVAL_S:g} s (one "
            "second to a calendar month)",
        )
    limit_kwh = MAX_HOUSEHOLD_POWER_KW * duration_s / 3600.0
    if energy_kwh > limit_kwh * (1 + 1e-9):
        return (
            KEY_INTERVAL_POWER_TOO_HIGH,
            f"{energy_kwh:g} kWh in {duration_s:g} s is more than a household connection can draw "
            f"({MAX_HOUSEHOLD_POWER_KW:g} kW, i.e. at most {limit_kwh:.6g} kWh)",
        )
    return None


def out_of_bounds(
    readings: pd.DataFrame,
    *,
    now: datetime,
    series: pd.Series | None = None,
    previous: Mapping[Hashable, tuple[datetime, float]] | None = None,
) -> pd.DataFrame:
    """The readings that break a bound, with why: one row per rejected reading, indexed like
    ``readings``, columns ``key`` and ``reason`` (empty: every reading may be stored).

    readings: ts_utc [UTC, aware], energy_kwh [kWh], kind, duration_s [s] (a readings frame)
    now: the clock [UTC, aware]; readings more than ``MAX_FUTURE_SKEW`` ahead of it are rejected
    series: the register series of each reading (docs/glossary.md), aligned with ``readings``; None: one
        series. Rises are only judged within a series: each counts from its own zero.
    previous: per series, the last stored register reading before the new ones (time [UTC], value
        [kWh]); the first new reading of the series is judged against it. With ``series`` None, the
        key is None.

    Each reading is judged by :func:`reading_problem` (time, energy, interval length and power,
    register size); then the register readings of each series in time order by
    :func:`register_rise_problem` against the last accepted one (the stored one before them first). A
    too-fast rise rejects the later reading and the next is judged against the last accepted one, so
    a spike costs one reading. Vectorized: only suspicious readings are judged one by one.
    """
    problems: dict[int, tuple[str, str]] = {}  # position -> (key, reason); few, usually none
    # Microseconds, as parsers and storage give them: they hold any year (nanoseconds end in 2262).
    ts = pd.DatetimeIndex(readings[TS_UTC]).tz_convert(UTC).as_unit("us")
    energy = pd.to_numeric(readings[ENERGY_KWH], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    duration = pd.to_numeric(readings[DURATION_S], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    kinds = readings[KIND].to_numpy()
    is_interval = np.asarray(kinds == KIND_INTERVAL, dtype=bool)
    # A superset of what reading_problem rejects (NaN fails every comparison, so it is suspicious).
    with np.errstate(invalid="ignore"):
        suspicious = (
            np.asarray(ts.isna(), dtype=bool)
            | np.asarray(ts < pd.Timestamp(EARLIEST_READING_UTC), dtype=bool)
            | np.asarray(ts > pd.Timestamp(now).tz_convert(UTC) + MAX_FUTURE_SKEW, dtype=bool)
            | ~(energy >= 0)
            | ~np.isfinite(energy)
            | (~is_interval & (energy > MAX_REGISTER_KWH))
            | (is_interval & ~((duration >= MIN_INTERVAL_S) & (duration <= MAX_INTERVAL_S)))
            | (is_interval & (energy > MAX_HOUSEHOLD_POWER_KW * duration / 3600.0 * (1 + 1e-9)))
        )
    for i in np.flatnonzero(suspicious).tolist():
        stamp = ts[i]
        problem = reading_problem(
            None if pd.isna(stamp) else stamp.to_pydatetime(),
            float(energy[i]),
            str(kinds[i]),
            None if math.isnan(duration[i]) else float(duration[i]),
            now=now,
        )
        if problem is not None:
            problems[i] = problem
    usable_register = ~is_interval
    usable_register[list(problems)] = False
    registers = np.flatnonzero(usable_register)
    if len(registers):
        names = None if series is None else np.asarray(series)[registers]
        if names is None or (names == names[0]).all():
            groups: dict[Any, npt.NDArray[np.intp]] = {
                None if names is None else names[0]: np.arange(len(registers))
            }
        else:
            groups = pd.Series(names).groupby(names, sort=False).indices
        for name, members in groups.items():
            anchor = (previous or {}).get(name)
            problems.update(_fast_rises(registers[members], ts, energy, anchor))
    at = sorted(problems)
    return pd.DataFrame(
        {BOUND_KEY: [problems[i][0] for i in at], BOUND_REASON: [problems[i][1] for i in at]},
        index=readings.index[at],
        dtype=object,
    )


def _fast_rises(
    rows: npt.NDArray[np.intp],
    ts: pd.DatetimeIndex,
    energy: npt.NDArray[np.float64],
    anchor: tuple[datetime, float] | None,
) -> dict[int, tuple[str, str]]:
    """Register readings of ONE series that rise faster than a household can draw from the last
    accepted reading before them (``anchor``: the last stored one), with why: the register rule's rise
    part (scoring.registers; falls are taken here, the parsers and daily consumption judge them)."""
    ts_us = np.asarray(ts[rows].asi8, dtype=np.int64)  # ts is in microseconds (out_of_bounds)
    if len(ts_us) > 1 and not (np.diff(ts_us) > 0).all():
        order = np.lexsort((energy[rows], ts_us))  # by time; a repeated instant by value
        rows, ts_us = rows[order], ts_us[order]
    before: tuple[int, float] | None = None
    if anchor is not None:
        anchor_us = (pd.Timestamp(anchor[0]).to_pydatetime() - _EPOCH) // timedelta(microseconds=1)
        before = (anchor_us, float(anchor[1]))
    judged = judge_series(ts_us, energy[rows], anchor=before, spikes=False, falls=False)
    found: dict[int, tuple[str, str]] = {}
    for k in np.flatnonzero(judged.verdict == TOO_FAST).tolist():
        p = int(judged.ref[k])
        since_us, since_kwh = (int(ts_us[p]), float(energy[rows[p]])) if p >= 0 or before is None else before
        hours = (int(ts_us[k]) - since_us) / _US_PER_HOUR
        since = pd.Timestamp(since_us, unit="us", tz=UTC).to_pydatetime()
        found[int(rows[k])] = (
            KEY_REGISTER_RISE_TOO_FAST,
            _rise_reason(since, since_kwh, float(energy[rows[k]]), hours),
        )
    return found


# --- the meter's validity and register series ----------------------------------------------------


class SeriesSpan(Protocol):
    """A register series of a meter (contest.domain.SeriesInfo): after ``starts_at`` up to and including
    ``ends_at`` [UTC] (None: open); ``device``: whose register it is (None: the display, uploads)."""

    @property
    def starts_at(self) -> datetime | None: ...

    @property
    def ends_at(self) -> datetime | None: ...

    @property
    def device(self) -> str | None: ...


def validity_problem(
    ts: datetime,
    *,
    meter: str,
    valid_from: datetime | None,
    valid_to: datetime | None,
    series: tuple[SeriesSpan, ...] = (),
    device: str | None = None,
    tz: str = "UTC",
) -> tuple[str, str] | None:
    """Why a reading at ``ts`` [UTC, aware] does not belong to the meter ``meter`` (key, reason), or None:
    outside the meter's validity (before it was installed, after it was replaced: a meter swap), or in
    a register series that is not its source's (docs/glossary.md): an upload (``device`` None) for a
    time a bound device reads the meter, a device's reading outside that device's own series.
    tz: the contest's zone, to name times in reasons."""
    zone = ZoneInfo(tz)
    if valid_from is not None and ts < valid_from:
        return (
            KEY_OUTSIDE_METER_VALIDITY,
            f"before meter {meter} was installed ({valid_from.astimezone(zone):%d.%m.%Y %H:%M})",
        )
    if valid_to is not None and ts > valid_to:
        return (
            KEY_OUTSIDE_METER_VALIDITY,
            f"after meter {meter} was replaced ({valid_to.astimezone(zone):%d.%m.%Y %H:%M})",
        )
    holding = next(
        (
            s
            for s in series
            if (s.starts_at is None or ts > s.starts_at) and (s.ends_at is None or ts <= s.ends_at)
        ),
        None,
    )
    if device is None:
        if holding is None or holding.device is None:
            return None
        since = (
            f"after {holding.starts_at.astimezone(zone):%d.%m.%Y %H:%M}"
            if holding.starts_at is not None
            else "from its start"
        )
        until = (
            f" until {holding.ends_at.astimezone(zone):%d.%m.%Y %H:%M}" if holding.ends_at is not None else ""
        )
        return (
            KEY_METER_READ_BY_DEVICE,
            f"meter {meter} is read by the device {holding.device} {since}{until}: readings of that time "
            "come from the device, not from uploads",
        )
    own = [s for s in series if s.device == device]
    if not own or (holding is not None and holding.device == device):
        return None
    start = own[-1].starts_at
    return (
        KEY_BEFORE_BINDING,
        f"reading at {ts.isoformat()} is from before device {device!r} was bound to meter {meter} "
        f"({start.isoformat() if start is not None else 'its start'})",
    )


def validity_problems(
    ts: pd.Series,
    *,
    meter: str,
    valid_from: datetime | None,
    valid_to: datetime | None,
    series: tuple[SeriesSpan, ...] = (),
    device: str | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """:func:`validity_problem` of a frame's times (``ts`` [UTC, aware]): one row per reading that does
    not belong to the meter, indexed like ``ts``, columns ``key`` and ``reason`` (empty: all do).
    Vectorized: only readings that may break it are judged one by one."""
    stamps = pd.DatetimeIndex(ts)
    suspicious = np.zeros(len(stamps), dtype=bool)
    if valid_from is not None:
        suspicious |= np.asarray(stamps < pd.Timestamp(valid_from), dtype=bool)
    if valid_to is not None:
        suspicious |= np.asarray(stamps > pd.Timestamp(valid_to), dtype=bool)
    if device is not None:  # a device's own series is given by its start only: judge each reading
        suspicious[:] = True
    for s in series:
        if s.device == device:
            continue
        held = np.ones(len(stamps), dtype=bool)
        if s.starts_at is not None:
            held &= np.asarray(stamps > pd.Timestamp(s.starts_at), dtype=bool)
        if s.ends_at is not None:
            held &= np.asarray(stamps <= pd.Timestamp(s.ends_at), dtype=bool)
        suspicious |= held
    problems: dict[int, tuple[str, str]] = {}
    for i in np.flatnonzero(suspicious).tolist():
        problem = validity_problem(
            stamps[i].to_pydatetime(),
            meter=meter,
            valid_from=valid_from,
            valid_to=valid_to,
            series=series,
            device=device,
            tz=tz,
        )
        if problem is not None:
            problems[i] = problem
    at = sorted(problems)
    return pd.DataFrame(
        {BOUND_KEY: [problems[i][0] for i in at], BOUND_REASON: [problems[i][1] for i in at]},
        index=ts.index[at],
        dtype=object,
    )
