"""Bounds every normalized reading keeps before it is stored (contest/readings.py): each one rejects with
a stable key and a reason, the limits themselves are accepted, register rises are judged per series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contest.readings import (
    DURATION_S,
    ENERGY_KWH,
    KIND,
    KIND_INTERVAL,
    KIND_REGISTER,
    MAX_HOUSEHOLD_POWER_KW,
    MAX_INTERVAL_S,
    MAX_REGISTER_KWH,
    MIN_INTERVAL_S,
    TS_UTC,
    out_of_bounds,
    reading_problem,
    register_rise_problem,
)

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 1, 10, 0, 0, tzinfo=dt.UTC)


def frame(rows: list[tuple[dt.datetime, float, str, float]], unit: str = "us") -> pd.DataFrame:
    """A readings frame; microseconds by default, as the CSV parser and storage give them."""
    return pd.DataFrame(
        {
            TS_UTC: pd.to_datetime([r[0] for r in rows], utc=True).as_unit(unit),
            ENERGY_KWH: [r[1] for r in rows],
            KIND: [r[2] for r in rows],
            DURATION_S: [r[3] for r in rows],
        }
    )


def keys(problems: pd.DataFrame) -> dict[int, str]:
    return {int(i): str(k) for i, k in problems["key"].items()}


@pytest.mark.parametrize(
    ("ts", "energy", "kind", "duration", "key"),
    [
        # the two readings
        (T0, 1.0, KIND_INTERVAL, 1e12, "reading.duration_out_of_range"),
        (T0, 1e300, KIND_REGISTER, np.nan, "reading.register_out_of_range"),
        (T0, 1.0, KIND_INTERVAL, 0.0, "reading.duration_out_of_range"),
        (T0, 1.0, KIND_INTERVAL, np.nan, "reading.duration_out_of_range"),
        (T0, 1.0, KIND_INTERVAL, MAX_INTERVAL_S + 1, "reading.duration_out_of_range"),
        (T0, 26.0, KIND_INTERVAL, 900.0, "reading.interval_power_too_high"),  # 104 kW for 15 minutes
        (T0, float("inf"), KIND_INTERVAL, 900.0, "reading.energy_not_finite"),
        (T0, float("nan"), KIND_REGISTER, np.nan, "reading.energy_not_finite"),
        (T0, -0.5, KIND_INTERVAL, 900.0, "reading.energy_negative"),
        (T0, -1.0, KIND_REGISTER, np.nan, "reading.energy_negative"),
        (
            dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.UTC),
            5.0,
            KIND_REGISTER,
            np.nan,
            "reading.time_out_of_range",
        ),
        (NOW + dt.timedelta(days=1, seconds=1), 5.0, KIND_REGISTER, np.nan, "reading.time_out_of_range"),
    ],
)
def test_a_reading_outside_a_bound_is_rejected_with_its_key_and_a_reason(
    ts: dt.datetime, energy: float, kind: str, duration: float, key: str
) -> None:
    problems = out_of_bounds(frame([(ts, energy, kind, duration)]), now=NOW)
    assert keys(problems) == {0: key}
    assert problems["reason"].iloc[0]  # a sentence, shown to the household and the staff
    single = reading_problem(ts, energy, kind, None if np.isnan(duration) else duration, now=NOW)
    assert single is not None and single[0] == key


def test_the_limits_themselves_are_accepted() -> None:
    rows = [
        (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), 0.0, KIND_REGISTER, np.nan),
        (NOW + dt.timedelta(days=1), 0.0, KIND_INTERVAL, MIN_INTERVAL_S),
        # October in Berlin: 31 days and the hour summer time gives back
        (dt.datetime(2025, 9, 30, 22, 0, tzinfo=dt.UTC), 10.0, KIND_INTERVAL, MAX_INTERVAL_S),
        (T0, MAX_HOUSEHOLD_POWER_KW / 4, KIND_INTERVAL, 900.0),
        (T0 + dt.timedelta(hours=1), MAX_REGISTER_KWH, KIND_REGISTER, np.nan),
    ]
    assert out_of_bounds(frame(rows), now=NOW, series=pd.Series([0, 1, 2, 3, 4])).empty


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_spike_costs_one_reading_and_a_rise_too_fast_rejects_the_later_reading(unit: str) -> None:
    hourly = [T0 + dt.timedelta(hours=h) for h in range(6)]
    values = [1000.0, 1001.0, 1_001_001.0, 1002.0, 1003.0, 1_000_000.0]
    problems = out_of_bounds(
        frame([(t, v, KIND_REGISTER, np.nan) for t, v in zip(hourly, values, strict=True)], unit), now=NOW
    )
    assert keys(problems) == {2: "reading.register_rise_too_fast", 5: "reading.register_rise_too_fast"}
    assert "from 1003 kWh" in problems["reason"].loc[5] and "100 kW" in problems["reason"].loc[5]


def test_a_rise_is_judged_from_the_last_stored_reading_and_within_its_series_only() -> None:
    rows = [
        (T0, 5000.0, KIND_REGISTER, np.nan),  # series 0 (the display), stored 4000 kWh an hour before
        (T0 + dt.timedelta(hours=2), 5.0, KIND_REGISTER, np.nan),  # series 1: a device's own register
        (T0 + dt.timedelta(hours=3), 7.0, KIND_REGISTER, np.nan),
    ]
    stored = {0: (T0 - dt.timedelta(hours=1), 1000.0), 1: (T0 + dt.timedelta(hours=1), 0.0)}
    problems = out_of_bounds(frame(rows), now=NOW, series=pd.Series([0, 1, 1]), previous=stored)
    assert keys(problems) == {0: "reading.register_rise_too_fast"}
    # Across series the step from 5000 to 5 kWh (or back up) is no rise at all.
    assert out_of_bounds(frame(rows), now=NOW, series=pd.Series([0, 1, 1])).empty


def test_a_counter_that_shows_whole_units_may_step_once_between_close_readings() -> None:
    assert register_rise_problem(T0, 100.0, T0 + dt.timedelta(seconds=10), 112.0) is None  # 1 m³ of gas
    assert register_rise_problem(T0, 100.0, T0 + dt.timedelta(seconds=10), 150.0) is not None
    assert register_rise_problem(T0, 100.0, T0 + dt.timedelta(days=30), 50.0) is None  # a fall is a reset


readings_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-2 * 86_400, max_value=40 * 86_400),  # seconds from T0 (NOW is T0 + 22.5 d)
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=0, max_value=5000),
        ),
        st.sampled_from([KIND_REGISTER, KIND_INTERVAL]),
        st.one_of(
            st.just(float("nan")), st.floats(min_value=-10, max_value=1e13), st.sampled_from([900.0, 3600.0])
        ),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(readings_strategy)
def test_a_frame_is_judged_like_each_of_its_readings_and_register_rises_never_break_the_limit(
    rows: list[tuple[int, float, str, float]],
) -> None:
    data = frame(
        [(T0 + dt.timedelta(seconds=s), e, k, d if k == KIND_INTERVAL else np.nan) for s, e, k, d in rows]
    )
    problems = out_of_bounds(data, now=NOW)
    for i, row in data.iterrows():
        duration = row[DURATION_S]
        single = reading_problem(
            row[TS_UTC].to_pydatetime(),
            float(row[ENERGY_KWH]),
            str(row[KIND]),
            None if np.isnan(duration) else float(duration),
            now=NOW,
        )
        got = problems["key"].get(i)
        if single is not None:
            assert got == single[0]
        else:
            assert got in (None, "reading.register_rise_too_fast")
    # What is kept of the registers never rises faster than a household can draw.
    kept = data.drop(index=problems.index)
    registers = kept[kept[KIND] == KIND_REGISTER].sort_values([TS_UTC, ENERGY_KWH], kind="stable")
    values, stamps = registers[ENERGY_KWH].to_numpy(), registers[TS_UTC].tolist()
    for a in range(1, len(values)):
        assert register_rise_problem(stamps[a - 1], values[a - 1], stamps[a], values[a]) is None


def test_the_meter_validity_and_register_series_are_judged_once_for_files_and_streams() -> None:
    """One check (contest.readings.validity_problem) for uploads and device messages alike (issue 12:
    the importer and the MQTT worker each had their own)."""
    from contest.domain import SeriesInfo
    from contest.readings import validity_problem, validity_problems

    installed, replaced = T0, T0 + dt.timedelta(days=10)
    bound_at = T0 + dt.timedelta(days=5)
    series = (SeriesInfo(None, bound_at, None), SeriesInfo(bound_at, None, "reader-1"))
    meter = {
        "meter": "M1",
        "valid_from": installed,
        "valid_to": replaced,
        "series": series,
        "tz": "Europe/Berlin",
    }
    early, inside, device_time, late = (
        T0 - dt.timedelta(hours=1),
        T0 + dt.timedelta(days=1),
        bound_at + dt.timedelta(hours=1),
        replaced + dt.timedelta(hours=1),
    )
    assert validity_problem(inside, **meter) is None  # type: ignore[arg-type]
    assert validity_problem(early, **meter)[0] == "reading.outside_meter_validity"  # type: ignore[arg-type,index]
    assert "replaced" in validity_problem(late, **meter)[1]  # type: ignore[arg-type,index]
    upload = validity_problem(device_time, **meter)  # type: ignore[arg-type]
    assert upload is not None and upload[0] == "csv.meter_read_by_device" and "reader-1" in upload[1]
    assert validity_problem(device_time, device="reader-1", **meter) is None  # type: ignore[arg-type]
    before = validity_problem(inside, device="reader-1", **meter)  # type: ignore[arg-type]
    assert before is not None and before[0] == "mqtt.before_binding"
    # A frame is judged as each of its readings.
    stamps = pd.Series(pd.to_datetime([early, inside, device_time, late], utc=True), index=[7, 8, 9, 10])
    frame = validity_problems(stamps, **meter)  # type: ignore[arg-type]
    assert list(frame.index) == [7, 9, 10]
    assert frame["key"].tolist() == [
        "reading.outside_meter_validity",
        "csv.meter_read_by_device",
        "reading.outside_meter_validity",
    ]
