"""The one rule for energy registers (counters that only rise): which reading continues its series, where
a counter was reset or rolled over, and which reading is a glitch (it went backwards, a spike, a rise
faster than a household can draw). The CSV parser, the MQTT worker, the bounds of stored readings and
the daily consumption all judge registers here, with one set of thresholds. Pure numpy.

A register series (docs/glossary.md) is judged in time order against the *last accepted* reading: a
glitch is left out and the next reading is judged against the reading before it, so a glitch costs one
reading, never the rest of the series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.schema import FINDING_REGISTER_RESET, MAX_HOUSEHOLD_POWER_KW

# --- thresholds (the only ones) -------------------------------------------------------------------
#: A fall to below this share of the last value is a reset (or a new meter), not a misread [1].
RESET_FRACTION = 0.01
#: ... and so is a fall to below this counter value [kWh]: a new meter or a reader starts near zero.
RESET_ABS_KWH = 1.0
#: A register may rise by one display step at once [kWh], whatever the time between two readings: a
#: counter that shows whole units jumps by 1 kWh, or by 1 m³ of gas (about 12 kWh). Added to
#: ``MAX_HOUSEHOLD_POWER_KW`` (100 kW, scoring.schema, where its reason is) times the hours between.
REGISTER_STEP_SLACK_KWH = 20.0
#: A counter rolls over at a power of ten (99,999 -> 0). A fall is a rollover when the last value was in
#: the last 1 % of its decade and the wrapped rise (up to the power of ten, then on from zero) is one a
#: household can draw in the time between: then the wrapped energy counts. Gas counted in m³ rolls over
#: at a power of ten of m³, which is none in kWh: its rollover is a reset (nothing counted in that gap).
ROLLOVER_TOP_FRACTION = 0.99
#: The smallest counter range taken for a rollover [kWh]: a 6-digit Wh counter (999.999 kWh).
ROLLOVER_MIN_MODULUS_KWH = 1_000.0

# --- verdicts -------------------------------------------------------------------------------------
CONTINUES = 0  #: continues the series (a rise, or the same value)
RESET = 1  #: fell to near zero: a new count starts; the step counts no energy
ROLLOVER = 2  #: wrapped at a power of ten; the step counts the wrapped rise
BACKWARDS = 3  #: fell below the last accepted reading without a reset: left out
SPIKE = 4  #: above both neighbours while the next continues from the one before: left out
TOO_FAST = 5  #: rose faster than a household can draw: left out

#: Verdicts of readings that stay in the series.
ACCEPTED = (CONTINUES, RESET, ROLLOVER)

#: Stable keys of the findings of daily consumption (scoring.daily) about a register.
FINDING_KEYS = {
    RESET: FINDING_REGISTER_RESET,
    ROLLOVER: "scoring.register_rollover",
    BACKWARDS: "scoring.register_backwards",
    SPIKE: "scoring.register_spike",
    TOO_FAST: "scoring.register_rise_too_fast",
}

#: ``ref`` of a reading judged against the reading before the frame (``anchor``), or against nothing.
REF_ANCHOR = -1
REF_NONE = -2

_US_PER_HOUR = 3.6e9
#: After this many vectorized restarts (resets, too-fast rises) the rest is judged in a plain loop.
_MAX_RESTARTS = 64

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


def max_rise_kwh(hours: float) -> float:
    """The most a household register can rise in ``hours`` [h]: the power limit plus one display step [kWh]."""
    return MAX_HOUSEHOLD_POWER_KW * max(hours, 0.0) + REGISTER_STEP_SLACK_KWH


def rollover_modulus_kwh(before_kwh: float) -> float | None:
    """The power of ten [kWh] a counter showing ``before_kwh`` rolls over at, when it is in the last
    ``ROLLOVER_TOP_FRACTION`` of that decade (else None)."""
    if not before_kwh > 0 or not math.isfinite(before_kwh):
        return None
    modulus = 10.0 ** (math.floor(math.log10(before_kwh)) + 1)
    if modulus < ROLLOVER_MIN_MODULUS_KWH or before_kwh < ROLLOVER_TOP_FRACTION * modulus:
        return None
    return modulus


def step_verdict(
    before_kwh: float, after_kwh: float, hours: float, *, falls: bool = True, rises: bool = True
) -> int:
    """The verdict on a register reading ``after_kwh`` [kWh] that follows the last accepted reading of
    its series, ``before_kwh`` [kWh], by ``hours`` [h] (a stream judges each new reading so).

    falls: judge falls (False: a fall is taken as it is, CONTINUES); rises: judge the speed of rises.
    From zero any value may follow: readers report 0 while booting, before their first read of the meter.
    """
    if after_kwh >= before_kwh:
        if rises and before_kwh > 0.0 and after_kwh - before_kwh > max_rise_kwh(hours):
            return TOO_FAST
        return CONTINUES
    if not falls:
        return CONTINUES
    modulus = rollover_modulus_kwh(before_kwh)
    if modulus is not None and modulus - before_kwh + after_kwh <= max_rise_kwh(hours):
        return ROLLOVER
    if after_kwh < RESET_FRACTION * before_kwh or after_kwh < RESET_ABS_KWH:
        return RESET
    return BACKWARDS


def step_energy_kwh(before_kwh: float, after_kwh: float, verdict: int) -> float:
    """Energy an accepted step counts [kWh]: the rise; the wrapped rise of a rollover; nothing for a reset."""
    if verdict == ROLLOVER:
        modulus = rollover_modulus_kwh(before_kwh)
        return (modulus or before_kwh) - before_kwh + after_kwh
    if verdict == RESET:
        return 0.0
    return after_kwh - before_kwh


def steps_energy_kwh(before_kwh: _F64, after_kwh: _F64, verdict: npt.NDArray[np.uint8]) -> _F64:
    """:func:`step_energy_kwh` of many steps at once [kWh]."""
    energy = np.where(verdict == RESET, 0.0, after_kwh - before_kwh)
    for i in np.flatnonzero(verdict == ROLLOVER).tolist():
        energy[i] = step_energy_kwh(float(before_kwh[i]), float(after_kwh[i]), ROLLOVER)
    return np.asarray(energy, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict on each reading of a series (positions as given) and what it was judged against.

    verdict: one of CONTINUES .. TOO_FAST per reading
    ref: position of the reading it was compared with: the last accepted one before it (a spike: the
        next one, which continues without it); ``REF_ANCHOR``: the reading before the series given as
        ``anchor``; ``REF_NONE``: the first reading, compared with nothing
    """

    verdict: npt.NDArray[np.uint8]
    ref: _I64

    @property
    def accepted(self) -> npt.NDArray[np.bool_]:
        return np.asarray(np.isin(self.verdict, ACCEPTED), dtype=bool)


def judge_series(
    ts_us: _I64,
    energy_kwh: _F64,
    *,
    anchor: tuple[int, float] | None = None,
    spikes: bool = True,
    falls: bool = True,
    rises: bool = True,
) -> Judgement:
    """Judge the readings of ONE register series, in time order (equal times by value).

    ts_us: times [µs since 1970, UTC]; energy_kwh: register values [kWh] (finite)
    anchor: the last accepted reading before these (time [µs], value [kWh]), e.g. the last stored one
    spikes: judge spikes (needs the next reading: files and stored data; a stream cannot)
    falls: judge falls (False: every fall is taken, as the bounds at the edge do); rises: judge rises

    Vectorized: readings between two events (a reset, a rollover, a too-fast rise) are judged at once;
    a series with very many events is finished in a plain loop.
    """
    ts_us = np.asarray(ts_us, dtype=np.int64)
    values = np.asarray(energy_kwh, dtype=np.float64)
    n = values.size
    verdict = np.zeros(n, dtype=np.uint8)
    ref = np.full(n, REF_NONE, dtype=np.int64)
    if n == 0:
        return Judgement(verdict, ref)
    if _continues_throughout(ts_us, values, anchor, falls=falls, rises=rises):
        ref[:] = np.arange(n) - 1
        ref[0] = REF_ANCHOR if anchor is not None else REF_NONE
        return Judgement(verdict, ref)
    spike = np.zeros(n, dtype=bool)
    if spikes and falls and n >= 2:
        left = np.empty(n)
        left[0] = anchor[1] if anchor is not None else np.nan
        left[1:] = values[:-1]
        right = np.empty(n)
        right[:-1] = values[1:]
        right[-1] = np.nan
        with np.errstate(invalid="ignore"):
            spike = (values > right) & (left <= right)
    keep = np.flatnonzero(~spike)
    _judge_kept(keep, ts_us, values, anchor, verdict, ref, falls=falls, rises=rises)
    if spike.any():
        _label_spikes(np.flatnonzero(spike), keep, ts_us, values, anchor, verdict, ref, rises=rises)
    return Judgement(verdict, ref)


def judge_groups(
    group: _I64,
    ts_us: _I64,
    energy_kwh: _F64,
    *,
    spikes: bool = True,
    falls: bool = True,
    rises: bool = True,
) -> Judgement:
    """:func:`judge_series` of many series at once: rows sorted by (group, time, value). Only the
    series with a fall or a fast rise somewhere are judged one by one; the rest continue throughout."""
    group = np.asarray(group, dtype=np.int64)
    ts_us = np.asarray(ts_us, dtype=np.int64)
    values = np.asarray(energy_kwh, dtype=np.float64)
    n = values.size
    verdict = np.zeros(n, dtype=np.uint8)
    ref = np.arange(n, dtype=np.int64) - 1
    if n == 0:
        return Judgement(verdict, ref)
    same = group[1:] == group[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = ~same
    ref[first] = REF_NONE
    suspicious = same & (values[1:] < values[:-1])
    if rises:
        hours = (ts_us[1:] - ts_us[:-1]) / _US_PER_HOUR
        rise_limit = MAX_HOUSEHOLD_POWER_KW * np.maximum(hours, 0.0) + REGISTER_STEP_SLACK_KWH
        suspicious |= same & (values[:-1] > 0.0) & (values[1:] - values[:-1] > rise_limit)
    if not suspicious.any():
        return Judgement(verdict, ref)
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    for at in np.unique(np.searchsorted(starts, np.flatnonzero(suspicious) + 1, side="right") - 1).tolist():
        lo, hi = int(starts[at]), int(ends[at])
        part = judge_series(ts_us[lo:hi], values[lo:hi], spikes=spikes, falls=falls, rises=rises)
        verdict[lo:hi] = part.verdict
        ref[lo:hi] = np.where(part.ref >= 0, part.ref + lo, part.ref)
    return Judgement(verdict, ref)


# --- internals --------------------------------------------------------------------------------------


def _continues_throughout(
    ts_us: _I64, values: _F64, anchor: tuple[int, float] | None, *, falls: bool, rises: bool
) -> bool:
    """Whether every reading continues from the one before (the usual series): no fall to judge and no
    rise too fast, so each reading's last accepted one is simply its predecessor (a spike needs a fall)."""
    if anchor is not None:
        ts_us = np.concatenate([[anchor[0]], ts_us])
        values = np.concatenate([[anchor[1]], values])
    step = values[1:] - values[:-1]
    if falls and (step < 0).any():
        return False
    if rises:
        hours = (ts_us[1:] - ts_us[:-1]) / _US_PER_HOUR
        limit = MAX_HOUSEHOLD_POWER_KW * np.maximum(hours, 0.0) + REGISTER_STEP_SLACK_KWH
        if ((values[:-1] > 0.0) & (step > limit)).any():
            return False
    return True


def _judge_kept(
    keep: _I64,
    ts_us: _I64,
    values: _F64,
    anchor: tuple[int, float] | None,
    verdict: npt.NDArray[np.uint8],
    ref: _I64,
    *,
    falls: bool,
    rises: bool,
) -> None:
    """The sequential pass over the readings at ``keep``: each judged against the last accepted one."""
    v, t = values[keep], ts_us[keep]
    last = (int(anchor[0]), float(anchor[1]), REF_ANCHOR) if anchor is not None else None
    start = 0
    for _ in range(_MAX_RESTARTS):
        if start >= v.size:
            return
        event, last = _judge_segment(keep, v, t, start, last, verdict, ref, falls=falls, rises=rises)
        start = event + 1
    _judge_loop(keep, v, t, start, last, verdict, ref, falls=falls, rises=rises)


def _judge_segment(
    keep: _I64,
    v: _F64,
    t: _I64,
    start: int,
    last: tuple[int, float, int] | None,
    verdict: npt.NDArray[np.uint8],
    ref: _I64,
    *,
    falls: bool,
    rises: bool,
) -> tuple[int, tuple[int, float, int] | None]:
    """Judge ``v[start:]`` up to and including its first event; returns (that position, the last
    accepted reading after it as (time, value, position))."""
    seg, seg_t = v[start:], t[start:]
    m = seg.size
    positions = np.arange(m)
    if falls:
        # Until the next event every reading that does not fall below the highest so far is accepted, so
        # the last accepted reading before j is the last one that did not fall.
        base = last[1] if last is not None else -np.inf
        running = np.maximum.accumulate(seg)
        before_max = np.empty(m)
        before_max[0] = base
        before_max[1:] = np.maximum(running[:-1], base)
        down = seg < before_max
        prev = np.empty(m, dtype=np.int64)
        prev[0] = -1
        prev[1:] = np.maximum.accumulate(np.where(~down, positions, -1))[:-1]
    else:
        down = np.zeros(m, dtype=bool)
        prev = positions - 1
    has_prev = (prev >= 0) | (last is not None)
    prev_v = np.where(prev >= 0, seg[np.maximum(prev, 0)], last[1] if last is not None else np.nan)
    prev_t = np.where(prev >= 0, seg_t[np.maximum(prev, 0)], last[0] if last is not None else 0)
    hours = (seg_t - prev_t) / _US_PER_HOUR
    limit = MAX_HOUSEHOLD_POWER_KW * np.maximum(hours, 0.0) + REGISTER_STEP_SLACK_KWH
    with np.errstate(invalid="ignore", divide="ignore"):
        too_fast = (
            has_prev & ~down & (prev_v > 0.0) & (seg - prev_v > limit) if rises else np.zeros(m, dtype=bool)
        )
        if falls:
            modulus = 10.0 ** (np.floor(np.log10(np.where(prev_v > 0, prev_v, 1.0))) + 1)
            wraps = (
                (modulus >= ROLLOVER_MIN_MODULUS_KWH)
                & (prev_v >= ROLLOVER_TOP_FRACTION * modulus)
                & (modulus - prev_v + seg <= limit)
            )
            restarts = down & (wraps | (seg < RESET_FRACTION * prev_v) | (seg < RESET_ABS_KWH))
        else:
            restarts = np.zeros(m, dtype=bool)
    events = np.flatnonzero(too_fast | restarts)
    end = int(events[0]) if events.size else m
    refs = np.where(prev >= 0, keep[start + np.maximum(prev, 0)], last[2] if last is not None else REF_NONE)
    verdict[keep[start : start + end]] = np.where(down[:end], BACKWARDS, CONTINUES)
    ref[keep[start : start + end]] = refs[:end]
    if end < m:
        pos = int(keep[start + end])
        ref[pos] = refs[end]
        before = (int(prev_t[end]), float(prev_v[end]), int(refs[end]))
        code = step_verdict(before[1], float(seg[end]), float(hours[end]), falls=falls, rises=rises)
        verdict[pos] = code
        if code in ACCEPTED:
            return start + end, (int(seg_t[end]), float(seg[end]), pos)
        return start + end, before
    # No event: the last accepted reading is the last one that did not fall.
    tail = np.flatnonzero(verdict[keep[start:]] != BACKWARDS)
    if tail.size:
        k = start + int(tail[-1])
        last = (int(t[k]), float(v[k]), int(keep[k]))
    return m + start - 1, last


def _judge_loop(
    keep: _I64,
    v: _F64,
    t: _I64,
    start: int,
    last: tuple[int, float, int] | None,
    verdict: npt.NDArray[np.uint8],
    ref: _I64,
    *,
    falls: bool,
    rises: bool,
) -> None:
    """The pass of :func:`_judge_kept` as a plain loop (a series with very many resets)."""
    for k in range(start, v.size):
        pos = int(keep[k])
        if last is None:
            verdict[pos], ref[pos] = CONTINUES, REF_NONE
            last = (int(t[k]), float(v[k]), pos)
            continue
        code = step_verdict(
            last[1], float(v[k]), (int(t[k]) - last[0]) / _US_PER_HOUR, falls=falls, rises=rises
        )
        verdict[pos], ref[pos] = code, last[2]
        if code in ACCEPTED:
            last = (int(t[k]), float(v[k]), pos)


def _label_spikes(
    spikes: _I64,
    keep: _I64,
    ts_us: _I64,
    values: _F64,
    anchor: tuple[int, float] | None,
    verdict: npt.NDArray[np.uint8],
    ref: _I64,
    *,
    rises: bool,
) -> None:
    """A spike that also rose faster than a household can draw from the last accepted reading is a
    too-fast rise (the stronger statement); otherwise a spike, named against the next reading."""
    accepted = keep[np.isin(verdict[keep], ACCEPTED)]
    for k in spikes.tolist():
        i = int(np.searchsorted(accepted, k)) - 1
        before: tuple[int, float, int] | None = None
        if i >= 0:
            p = int(accepted[i])
            before = (int(ts_us[p]), float(values[p]), p)
        elif anchor is not None:
            before = (int(anchor[0]), float(anchor[1]), REF_ANCHOR)
        if rises and before is not None:
            hours = (int(ts_us[k]) - before[0]) / _US_PER_HOUR
            if step_verdict(before[1], float(values[k]), hours) == TOO_FAST:
                verdict[k], ref[k] = TOO_FAST, before[2]
                continue
        verdict[k], ref[k] = SPIKE, k + 1
