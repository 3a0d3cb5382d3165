"""Rules of scoring.daily: readings become local-day consumption and coverage; meters become households."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.daily import daily_consumption, household_daily
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
    KIND_REGISTER,
    METER_DAILY_COLUMNS,
    METER_ID,
    METER_READING_COLUMNS,
    TS_UTC,
    FrameSchemaError,
)

TZ = "Europe/Berlin"
HOUR_S = 3600.0


def local(text: str) -> pd.Timestamp:
    """A Berlin wall-clock time as the UTC instant readings carry."""
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def register(meter: object, when: str, kwh: float) -> tuple[object, pd.Timestamp, float, str, float]:
    return (meter, local(when), kwh, KIND_REGISTER, np.nan)


def interval(
    meter: object, start: pd.Timestamp | str, kwh: float, duration_s: float = HOUR_S
) -> tuple[object, pd.Timestamp, float, str, float]:
    start_utc = local(start) if isinstance(start, str) else start
    return (meter, start_utc, kwh, KIND_INTERVAL, duration_s)


def readings(rows: list[tuple[object, pd.Timestamp, float, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(METER_READING_COLUMNS))
    frame[TS_UTC] = pd.to_datetime(frame[TS_UTC], utc=True)
    return frame


def by_day(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {
        d.date().isoformat(): (e, c)
        for d, e, c in zip(frame[DAY], frame[ENERGY_KWH], frame[COVERAGE_FRACTION], strict=True)
    }


# --- register readings ------------------------------------------------------------------------


def test_monthly_register_reading_gives_each_day_its_proportional_share_and_full_coverage() -> None:
    # 310 kWh between local midnights of 1 January and 1 February: 31 days of 24 h -> 310 / 31 = 10 each.
    frame, findings = daily_consumption(
        readings([register("m1", "2024-01-01 00:00", 1000.0), register("m1", "2024-02-01 00:00", 1310.0)]), TZ
    )
    assert findings == []
    assert len(frame) == 31
    assert frame[DAY].iloc[0] == pd.Timestamp("2024-01-01")
    assert frame[DAY].iloc[-1] == pd.Timestamp("2024-01-31")
    assert frame[ENERGY_KWH].to_numpy() == pytest.approx(np.full(31, 10.0))
    assert (frame[COVERAGE_FRACTION] == 1.0).all()
    assert frame[ENERGY_KWH].sum() == pytest.approx(310.0)  # sum preserved


def test_register_gap_not_at_midnight_is_split_in_proportion_to_time() -> None:
    # 48 kWh over 48 h from noon to noon: 12 h (12 kWh, half a day), 24 h (24 kWh), 12 h (12 kWh, half).
    frame, _ = daily_consumption(
        readings([register(7, "2024-01-01 12:00", 0.0), register(7, "2024-01-03 12:00", 48.0)]), TZ
    )
    assert by_day(frame) == {
        "2024-01-01": (pytest.approx(12.0), 0.5),
        "2024-01-02": (pytest.approx(24.0), 1.0),
        "2024-01-03": (pytest.approx(12.0), 0.5),
    }


def test_register_across_spring_dst_day_weights_the_23_hour_day_by_its_real_length() -> None:
    # 47 kWh from 30 March 00:00 to 1 April 00:00 (Berlin): 24 h + 23 h = 47 h -> 24 kWh and 23 kWh.
    frame, _ = daily_consumption(
        readings([register("m", "2024-03-30 00:00", 0.0), register("m", "2024-04-01 00:00", 47.0)]), TZ
    )
    assert by_day(frame) == {
        "2024-03-30": (pytest.approx(24.0), 1.0),
        "2024-03-31": (pytest.approx(23.0), 1.0),
    }


def test_register_that_falls_is_a_reset_with_no_negative_consumption_and_a_finding() -> None:
    # 100 -> 110 (+10 kWh, 1 h), 110 -> 0.5 (reset: nothing), 0.5 -> 10.5 (+10 kWh, 1 h): 20 kWh over 2 h of
    # 24 h. A reset is a fall to near zero (below 1 % or 1 kWh, scoring.registers); 110 -> 5 went backwards
    # (next test).
    frame, findings = daily_consumption(
        readings(
            [
                register("m9", "2024-01-10 10:00", 100.0),
                register("m9", "2024-01-10 11:00", 110.0),
                register("m9", "2024-01-10 12:00", 0.5),
                register("m9", "2024-01-10 13:00", 10.5),
            ]
        ),
        TZ,
    )
    assert (frame[ENERGY_KWH] >= 0).all()
    assert by_day(frame) == {"2024-01-10": (pytest.approx(20.0), pytest.approx(2 / 24))}
    resets = [f for f in findings if f.key == FINDING_REGISTER_RESET]
    assert len(resets) == 1
    assert resets[0].subject == "meter:m9"
    assert resets[0].data["before_kwh"] == 110.0
    assert resets[0].data["after_kwh"] == 0.5
    assert resets[0].data["after_ts_utc"] == local("2024-01-10 12:00").isoformat()


def test_a_register_that_falls_without_a_reset_is_left_out_as_the_csv_and_mqtt_paths_reject_it() -> None:
    # Issue 12: daily consumption took any fall for a reset (110 -> 5 counted nothing for that hour, then
    # 5 -> 15 as 10 kWh), while files and MQTT reject such a reading as gone backwards. Now the one
    # register rule (scoring.registers) decides: 5 and 15 are below 110 without a reset, so both are left
    # out and 110 -> 111 counts from 110.
    frame, findings = daily_consumption(
        readings(
            [
                register("m9", "2024-01-10 10:00", 100.0),
                register("m9", "2024-01-10 11:00", 110.0),
                register("m9", "2024-01-10 12:00", 5.0),
                register("m9", "2024-01-10 13:00", 15.0),
                register("m9", "2024-01-10 14:00", 111.0),
                register("m9", "2024-01-10 15:00", 112.0),
            ]
        ),
        TZ,
    )
    # Before: 10 + 0 (the "reset") + 10 + 96 + 1 = 117 kWh, of which 106 kWh never flowed.
    assert by_day(frame) == {"2024-01-10": (pytest.approx(12.0), pytest.approx(5 / 24))}
    assert not [f for f in findings if f.key == FINDING_REGISTER_RESET]
    (backwards,) = [f for f in findings if f.key == "scoring.register_backwards"]
    assert backwards.data["count"] == 2 and backwards.data["first_kwh"] == 5.0


def test_a_register_that_rolls_over_at_a_power_of_ten_counts_the_wrapped_rise() -> None:
    # A 5-digit counter: 99,998 kWh at 10:00, 2 kWh at 12:00 is 4 kWh in two hours, not a reset.
    frame, findings = daily_consumption(
        readings(
            [
                register("m", "2024-01-10 10:00", 99_998.0),
                register("m", "2024-01-10 12:00", 2.0),
                register("m", "2024-01-10 13:00", 3.0),
            ]
        ),
        TZ,
    )
    assert by_day(frame) == {"2024-01-10": (pytest.approx(5.0), pytest.approx(3 / 24))}
    assert [f.key for f in findings] == ["scoring.register_rollover"]


def test_two_register_values_at_one_instant_are_a_jump_not_a_reset() -> None:
    frame, findings = daily_consumption(
        readings(
            [
                register("m", "2024-01-10 10:00", 100.0),
                register("m", "2024-01-10 11:00", 104.0),
                register("m", "2024-01-10 11:00", 101.0),
                register("m", "2024-01-10 12:00", 105.0),
            ]
        ),
        TZ,
    )
    # Sorted as 100, 101, 104, 105: +1 kWh and +1 kWh are placed in time; the 3 kWh at 11:00 cannot be.
    assert frame[ENERGY_KWH].sum() == pytest.approx(2.0)
    assert [f.key for f in findings] == [FINDING_REGISTER_JUMP]


def test_register_readings_in_any_order_give_the_same_days() -> None:
    rows = [register("m", f"2024-01-{d:02d} 06:00", 10.0 * d) for d in range(1, 8)]
    ordered, _ = daily_consumption(readings(rows), TZ)
    shuffled, _ = daily_consumption(readings(rows[::-1]), TZ)
    pd.testing.assert_frame_equal(ordered, shuffled)


# --- interval readings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2024-03-31", 23), ("2024-10-27", 25), ("2024-06-01", 24)],
    ids=["spring-23h", "autumn-25h", "summer-24h"],
)
def test_hourly_intervals_cover_dst_days_fully_with_the_right_sum(day: str, hours: int) -> None:
    # One 1-kWh interval per real hour of the local day: the day's energy equals its length in hours.
    start = local(f"{day} 00:00")
    rows = [interval("m", start + pd.Timedelta(hours=h), 1.0) for h in range(hours)]
    frame, findings = daily_consumption(readings(rows), TZ)
    assert findings == []
    assert by_day(frame) == {day: (pytest.approx(float(hours)), 1.0)}


def test_interval_across_midnight_is_split_in_proportion_to_time() -> None:
    # 2 h from 23:00 to 01:00 with 3 kWh: 1.5 kWh in each day, each 1/24 covered.
    frame, _ = daily_consumption(readings([interval("m", "2024-01-10 23:00", 3.0, 2 * HOUR_S)]), TZ)
    assert by_day(frame) == {
        "2024-01-10": (pytest.approx(1.5), pytest.approx(1 / 24)),
        "2024-01-11": (pytest.approx(1.5), pytest.approx(1 / 24)),
    }


def test_register_and_interval_readings_of_one_meter_add_up() -> None:
    rows = [
        register("m", "2024-01-10 00:00", 0.0),
        register("m", "2024-01-10 12:00", 6.0),  # 6 kWh, 00:00-12:00
        interval("m", "2024-01-10 12:00", 4.0, 12 * HOUR_S),  # 4 kWh, 12:00-24:00
    ]
    frame, _ = daily_consumption(readings(rows), TZ)
    assert by_day(frame) == {"2024-01-10": (pytest.approx(10.0), 1.0)}


def test_overlapping_intervals_count_their_energy_clip_coverage_and_say_so() -> None:
    rows = [
        interval("m", "2024-01-10 00:00", 1.0, 24 * HOUR_S),
        interval("m", "2024-01-10 00:00", 1.0, 24 * HOUR_S),
    ]
    frame, findings = daily_consumption(readings(rows), TZ)
    assert by_day(frame) == {"2024-01-10": (pytest.approx(2.0), 1.0)}
    assert [f.key for f in findings] == [FINDING_OVERLAPPING_READINGS]
    assert findings[0].data["max_coverage"] == pytest.approx(2.0)


def test_unusable_intervals_are_left_out_and_counted_per_meter() -> None:
    rows = [
        interval("m", "2024-01-10 00:00", 1.0),
        interval("m", "2024-01-10 01:00", 1.0, np.nan),  # no length
        interval("m", "2024-01-10 02:00", -1.0),  # negative energy
        interval("m", "2024-01-10 03:00", np.nan),  # no energy
    ]
    frame, findings = daily_consumption(readings(rows), TZ)
    assert by_day(frame) == {"2024-01-10": (pytest.approx(1.0), pytest.approx(1 / 24))}
    assert [f.key for f in findings] == [FINDING_UNUSABLE_READINGS]
    assert findings[0].data["count"] == 3
    assert findings[0].data["reasons"] == {
        "missing_energy": 1,
        "bad_interval_duration": 1,
        "negative_interval_energy": 1,
    }


# --- shape of the result, inputs --------------------------------------------------------------


def test_result_is_sorted_by_meter_then_day_with_the_schema_columns() -> None:
    rows = [
        interval("b", "2024-01-11 05:00", 1.0),
        interval("a", "2024-01-11 05:00", 1.0),
        interval("b", "2024-01-10 05:00", 1.0),
        interval("a", "2024-01-10 05:00", 1.0),
    ]
    frame, _ = daily_consumption(readings(rows), TZ)
    assert list(frame.columns) == list(METER_DAILY_COLUMNS)
    assert list(frame[METER_ID]) == ["a", "a", "b", "b"]
    assert list(frame[DAY].dt.day) == [10, 11, 10, 11]
    assert frame[DAY].dt.tz is None  # naive local days


def test_no_readings_give_an_empty_frame_with_the_columns() -> None:
    frame, findings = daily_consumption(readings([]), TZ)
    assert frame.empty
    assert list(frame.columns) == list(METER_DAILY_COLUMNS)
    assert findings == []


@pytest.mark.parametrize("column", [METER_ID, TS_UTC, DURATION_S, KIND])
def test_a_missing_column_is_an_error_naming_it(column: str) -> None:
    frame = readings([interval("m", "2024-01-10 00:00", 1.0)]).drop(columns=[column])
    with pytest.raises(FrameSchemaError, match=column):
        daily_consumption(frame, TZ)


def test_naive_reading_times_are_an_error() -> None:
    frame = readings([interval("m", "2024-01-10 00:00", 1.0)])
    frame[TS_UTC] = frame[TS_UTC].dt.tz_localize(None)
    with pytest.raises(FrameSchemaError, match=TS_UTC):
        daily_consumption(frame, TZ)


def test_an_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        daily_consumption(readings([]), "Mars/Olympus")


# --- household days ---------------------------------------------------------------------------


def meter_days(rows: list[tuple[object, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(METER_DAILY_COLUMNS))
    frame[DAY] = pd.to_datetime(frame[DAY])
    return frame


def test_meter_swap_mid_day_gives_one_fully_covered_household_day() -> None:
    # Old meter until 12:00 (4 kWh, half a day), new meter from 12:00 (5 kWh, half): 9 kWh, coverage 1.
    days = meter_days([("old", "2024-01-10", 4.0, 0.5), ("new", "2024-01-10", 5.0, 0.5)])
    assignment = pd.DataFrame({METER_ID: ["old", "new"], HOUSEHOLD_ID: [1, 1]})
    result = household_daily(days, assignment)
    assert list(result.columns) == list(HOUSEHOLD_DAILY_COLUMNS)
    assert result.to_dict("records") == [
        {HOUSEHOLD_ID: 1, DAY: pd.Timestamp("2024-01-10"), ENERGY_KWH: 9.0, COVERAGE_FRACTION: 1.0}
    ]


def test_household_coverage_is_clipped_to_one_and_unassigned_meters_are_left_out() -> None:
    days = meter_days(
        [("a", "2024-01-10", 4.0, 0.8), ("b", "2024-01-10", 5.0, 0.7), ("stray", "2024-01-10", 99.0, 1.0)]
    )
    assignment = pd.DataFrame({METER_ID: ["a", "b"], HOUSEHOLD_ID: [1, 1]})
    result = household_daily(days, assignment)
    assert list(result[ENERGY_KWH]) == [9.0]
    assert list(result[COVERAGE_FRACTION]) == [1.0]


def test_household_days_are_sorted_and_empty_inputs_give_empty_frames() -> None:
    days = meter_days(
        [("b", "2024-01-11", 1.0, 1.0), ("a", "2024-01-10", 1.0, 1.0), ("b", "2024-01-10", 1.0, 1.0)]
    )
    assignment = pd.DataFrame({METER_ID: ["a", "b"], HOUSEHOLD_ID: [2, 1]})
    result = household_daily(days, assignment)
    assert list(zip(result[HOUSEHOLD_ID], result[DAY].dt.day, strict=True)) == [(1, 10), (1, 11), (2, 10)]
    empty = household_daily(days.iloc[:0], assignment)
    assert empty.empty
    assert list(empty.columns) == list(HOUSEHOLD_DAILY_COLUMNS)


def test_household_daily_names_a_missing_column() -> None:
    days = meter_days([("a", "2024-01-10", 1.0, 1.0)])
    with pytest.raises(FrameSchemaError, match=HOUSEHOLD_ID):
        household_daily(days, pd.DataFrame({METER_ID: ["a"]}))
    with pytest.raises(FrameSchemaError, match=COVERAGE_FRACTION):
        household_daily(
            days.drop(columns=[COVERAGE_FRACTION]), pd.DataFrame({METER_ID: ["a"], HOUSEHOLD_ID: [1]})
        )
