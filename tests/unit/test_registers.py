"""The one register rule (scoring/registers.py): resets, rollovers, readings that went backwards, spikes
and rises too fast, with one set of thresholds for files, streams and daily consumption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring.registers as R
from scoring.daily import daily_consumption
from scoring.registers import (
    BACKWARDS,
    CONTINUES,
    REF_ANCHOR,
    REF_NONE,
    RESET,
    ROLLOVER,
    SPIKE,
    TOO_FAST,
    judge_groups,
    judge_series,
    max_rise_kwh,
    rollover_modulus_kwh,
    step_energy_kwh,
    step_verdict,
)
from scoring.schema import DURATION_S, ENERGY_KWH, KIND, KIND_REGISTER, METER_ID, TS_UTC

HOUR_US = 3_600_000_000


def hourly(values: list[float], **kwargs: object) -> tuple[list[int], list[int]]:
    judged = judge_series(np.arange(len(values)) * HOUR_US, np.asarray(values, dtype=float), **kwargs)  # type: ignore[arg-type]
    return judged.verdict.tolist(), judged.ref.tolist()


@pytest.mark.parametrize(
    ("before", "after", "hours", "verdict"),
    [
        (100.0, 101.0, 1.0, CONTINUES),
        (100.0, 100.0, 0.0, CONTINUES),
        (100.0, 221.0, 1.0, TOO_FAST),  # 121 kWh in an hour: more than 100 kW plus one display step
        (100.0, 220.0, 1.0, CONTINUES),  # the limit itself
        (0.0, 5000.0, 0.1, CONTINUES),  # from zero any value may follow (a reader booting)
        (110.0, 5.0, 1.0, BACKWARDS),
        (110.0, 1.0, 1.0, RESET),  # below 1 %
        (50.0, 0.8, 1.0, RESET),  # below 1 kWh (the MQTT path took this for "backwards" before)
        (99_998.0, 2.0, 2.0, ROLLOVER),  # a 5-digit counter wraps: 4 kWh in two hours
        (99_998.0, 1500.0, 2.0, BACKWARDS),  # 1502 kWh in two hours: no rollover, and no reset either
        (99_998.0, 500.0, 2.0, RESET),  # no rollover (502 kWh in two hours), but below 1 %
        (99_000.0, 2.0, 2.0, RESET),  # not in the last 1 % of its decade: a reset
    ],
)
def test_one_step_is_judged_against_the_last_accepted_reading(
    before: float, after: float, hours: float, verdict: int
) -> None:
    assert step_verdict(before, after, hours) == verdict


def test_the_thresholds_are_the_ones_the_issue_names() -> None:
    assert (R.RESET_FRACTION, R.RESET_ABS_KWH) == (0.01, 1.0)
    assert max_rise_kwh(1.0) == pytest.approx(120.0)
    assert rollover_modulus_kwh(99_990.0) == 100_000.0 and rollover_modulus_kwh(100_000.0) is None
    assert rollover_modulus_kwh(99.95) is None  # below the smallest counter range taken for a rollover
    assert step_energy_kwh(99_998.0, 2.0, ROLLOVER) == pytest.approx(4.0)
    assert step_energy_kwh(110.0, 0.5, RESET) == 0.0


def test_a_glitch_costs_one_reading_not_the_rest_of_the_series() -> None:
    # Issue 12 drift: the CSV parser judged falls first (5000 and 5001 kept, so 101 and 102 "went
    # backwards") and rises after (5000 and 5001 too fast): four rows lost for one glitch of two.
    assert hourly([100.0, 5000.0, 5001.0, 101.0, 102.0]) == ([0, 5, 5, 0, 0], [REF_NONE, 0, 0, 0, 3])
    # A spike: above both neighbours while the next continues from the one before.
    assert hourly([100.0, 110.0, 101.0, 102.0]) == ([0, SPIKE, 0, 0], [REF_NONE, 2, 0, 2])
    # Too fast beats spike (the stronger statement); named against the last accepted reading.
    assert hourly([1000.0, 1001.0, 1_001_001.0, 1002.0])[0] == [0, 0, TOO_FAST, 0]


def test_a_stream_sees_no_spike_and_the_bounds_take_every_fall() -> None:
    assert hourly([100.0, 110.0, 101.0, 102.0], spikes=False)[0] == [0, 0, BACKWARDS, BACKWARDS]
    assert hourly([100.0, 110.0, 101.0, 102.0], spikes=False, falls=False)[0] == [0, 0, 0, 0]
    assert hourly([100.0, 50.0], anchor=(-HOUR_US, 120.0), spikes=False) == (
        [BACKWARDS, BACKWARDS],
        [REF_ANCHOR] * 2,
    )


def _loop(values: np.ndarray, ts: np.ndarray, anchor: tuple[int, float] | None, **flags: bool) -> list[int]:
    """The rule as a plain loop: spikes on raw neighbours, then each reading against the last accepted."""
    n = values.size
    verdict = np.zeros(n, dtype=np.uint8)
    spike = np.zeros(n, dtype=bool)
    if flags["spikes"] and flags["falls"] and n >= 2:
        left = np.r_[anchor[1] if anchor else np.nan, values[:-1]]
        right = np.r_[values[1:], np.nan]
        with np.errstate(invalid="ignore"):
            spike = (values > right) & (left <= right)
    last = (anchor[0], anchor[1], REF_ANCHOR) if anchor else None
    for k in np.flatnonzero(~spike).tolist():
        if last is None:
            last = (int(ts[k]), float(values[k]), k)
            continue
        code = step_verdict(
            last[1],
            float(values[k]),
            (int(ts[k]) - last[0]) / HOUR_US,
            falls=flags["falls"],
            rises=flags["rises"],
        )
        verdict[k] = code
        if code in R.ACCEPTED:
            last = (int(ts[k]), float(values[k]), k)
    for k in np.flatnonzero(spike).tolist():
        verdict[k] = SPIKE
        accepted = [p for p in range(k) if not spike[p] and verdict[p] in R.ACCEPTED]
        before = (int(ts[accepted[-1]]), float(values[accepted[-1]])) if accepted else anchor
        hours = None if before is None else (int(ts[k]) - before[0]) / HOUR_US
        if flags["rises"] and before is not None and hours is not None:
            verdict[k] = TOO_FAST if step_verdict(before[1], float(values[k]), hours) == TOO_FAST else SPIKE
    return verdict.tolist()


steps = st.lists(
    st.sampled_from([-300.0, -60.0, -5.0, -0.2, 0.0, 0.3, 1.0, 5.0, 50.0, 200.0, 5000.0, None]),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    steps,
    st.sampled_from([0.0, 99_000.0]),
    st.lists(st.integers(min_value=0, max_value=4), min_size=60, max_size=60),
    st.sampled_from([None, 0.0, 100.0, 99_950.0]),
    st.fixed_dictionaries({"spikes": st.booleans(), "falls": st.booleans(), "rises": st.booleans()}),
)
def test_the_vectorized_rule_judges_like_one_reading_at_a_time(
    moves: list[float | None],
    offset: float,
    gaps: list[int],
    anchor_kwh: float | None,
    flags: dict[str, bool],
) -> None:
    values, counter = [], 1000.0
    for move in moves:
        counter = 0.4 if move is None else abs(counter + move)  # None: a restart near zero
        values.append(counter + offset)
    ts = np.cumsum(np.asarray(gaps[: len(values)]) * (HOUR_US // 4))
    order = np.lexsort((values, ts))
    v, t = np.asarray(values)[order], ts[order]
    anchor = None if anchor_kwh is None else (int(t[0]) - HOUR_US, anchor_kwh)
    assert judge_series(t, v, anchor=anchor, **flags).verdict.tolist() == _loop(v, t, anchor, **flags)


def test_many_resets_finish_in_a_loop_with_the_same_answers() -> None:
    values = np.tile([500.0, 600.0, 0.5, 0.7, 550.0, 560.0], 40)  # 80 resets, 40 backwards
    ts = np.arange(values.size) * HOUR_US
    flags = {"spikes": True, "falls": True, "rises": True}
    assert judge_series(ts, values).verdict.tolist() == _loop(values, ts, None, **flags)


def test_groups_are_judged_each_on_its_own() -> None:
    group = np.array([0, 0, 0, 1, 1, 1])
    ts = np.array([0, 1, 2, 0, 1, 2]) * HOUR_US
    values = np.array([100.0, 90.0, 101.0, 5.0, 6.0, 7.0])
    judged = judge_groups(group, ts, values)
    assert judged.verdict.tolist() == [0, BACKWARDS, 0, 0, 0, 0]
    assert judged.ref.tolist() == [REF_NONE, 0, 0, REF_NONE, 3, 4]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=3, max_size=25), st.data())
def test_a_reading_that_went_backwards_changes_no_day(rises: list[float], data: st.DataObject) -> None:
    # Hourly readings of a rising counter; one more reading below its predecessor but far from zero is
    # left out by daily consumption: the days are those of the series without it.
    values = list(1000.0 + np.cumsum(rises))
    at = data.draw(st.integers(min_value=1, max_value=len(values) - 1))
    drop = data.draw(st.floats(min_value=0.5, max_value=50.0))
    stamps = list(pd.Timestamp("2024-01-10", tz="UTC") + pd.to_timedelta(np.arange(len(values)), unit="h"))
    odd_time = stamps[at - 1] + pd.Timedelta(minutes=30)
    # Below the two readings before it too: otherwise the one before would look like a spike instead.
    odd_value = min(values[max(at - 2, 0) : at]) - drop

    def frame(rows: list[tuple[pd.Timestamp, float]]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                METER_ID: "m",
                TS_UTC: pd.to_datetime([r[0] for r in rows], utc=True),
                ENERGY_KWH: [r[1] for r in rows],
                KIND: KIND_REGISTER,
                DURATION_S: np.nan,
            }
        )

    plain, _ = daily_consumption(frame(list(zip(stamps, values, strict=True))), "Europe/Berlin")
    with_odd, findings = daily_consumption(
        frame([*zip(stamps, values, strict=True), (odd_time, odd_value)]), "Europe/Berlin"
    )
    pd.testing.assert_frame_equal(plain, with_odd)
    assert {f.key for f in findings} & {"scoring.register_backwards", "scoring.register_spike"}
