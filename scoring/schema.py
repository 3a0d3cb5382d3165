"""Column names of every frame that crosses a module boundary, and checks where frames enter.

Units live in names (``energy_kwh``); times are tz-aware UTC (``ts_utc``) except ``day``, which is the
contest's local calendar day as a ``datetime.date``-like value (pandas ``datetime64`` at midnight, naive).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class FrameSchemaError(ValueError):
    """A frame given to scoring lacks a column or has the wrong kind of values."""


# --- readings: what ingest produces and storage keeps -----------------------------------------
METER_ID = "meter_id"
TS_UTC = "ts_utc"  # register: time of the reading; interval: start of the interval [UTC, tz-aware]
ENERGY_KWH = "energy_kwh"  # register: counter value [kWh]; interval: energy in the interval [kWh]
KIND = "kind"  # "register" | "interval"
DURATION_S = "duration_s"  # interval length [s]; NaN for register readings
LINE_NO = "line_no"  # 1-based line number in the source file (parsers only)

KIND_REGISTER = "register"
KIND_INTERVAL = "interval"

READING_COLUMNS = (TS_UTC, ENERGY_KWH, KIND, DURATION_S)

# --- daily consumption ------------------------------------------------------------------------
HOUSEHOLD_ID = "household_id"
DAY = "day"  # local calendar day of the contest's time zone (naive datetime64 at midnight)
COVERAGE_FRACTION = "coverage_fraction"  # share of the day covered by readings [0..1]

DAILY_COLUMNS = (DAY, ENERGY_KWH, COVERAGE_FRACTION)

# --- households and teams given to scoring ----------------------------------------------------
TEAM_ID = "team_id"
PERSONS = "persons"

HOUSEHOLD_COLUMNS = (HOUSEHOLD_ID, TEAM_ID, PERSONS)

# --- results ----------------------------------------------------------------------------------
BASELINE_KWH_PER_DAY = "baseline_kwh_per_day"
BASELINE_DAYS = "baseline_days"  # days in the baseline period
BASELINE_DAYS_WITH_DATA = "baseline_days_with_data"
BASELINE_COVERAGE_FRACTION = "baseline_coverage_fraction"
COMPETITION_DAYS = "competition_days"  # competition days elapsed as of the result
COMPETITION_DAYS_WITH_DATA = "competition_days_with_data"
COMPETITION_COVERAGE_FRACTION = "competition_coverage_fraction"
EXPECTED_KWH = "expected_kwh"
ACTUAL_KWH = "actual_kwh"
SAVINGS_KWH = "savings_kwh"
SAVINGS_FRACTION = "savings_fraction"
SAVINGS_KWH_PER_PERSON = "savings_kwh_per_person"
STATUS = "status"
RANK = "rank"
MEMBERS = "members"
RANKED_MEMBERS = "ranked_members"

STATUS_RANKED = "ranked"
STATUS_INSUFFICIENT_DATA = "insufficient_data"
STATUS_NOT_STARTED = "not_started"


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`FrameSchemaError` naming every column of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FrameSchemaError(f"{what} frame lacks column(s) {', '.join(missing)}; has {list(frame.columns)}")


def validate_readings(frame: pd.DataFrame) -> None:
    """Check a readings frame: required columns, tz-aware UTC timestamps, known kinds."""
    require_columns(frame, READING_COLUMNS, "readings")
    ts = frame[TS_UTC]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise FrameSchemaError(f"readings.{TS_UTC} must be tz-aware UTC, got {ts.dtype}")
    bad = set(frame[KIND].unique()) - {KIND_REGISTER, KIND_INTERVAL}
    if bad:
        raise FrameSchemaError(f"readings.{KIND} has unknown kinds {sorted(map(str, bad))}")


def validate_daily(frame: pd.DataFrame) -> None:
    """Check a daily-consumption frame (with a ``household_id`` column)."""
    require_columns(frame, (HOUSEHOLD_ID, *DAILY_COLUMNS), "daily")


def validate_households(frame: pd.DataFrame) -> None:
    """Check a households frame."""
    require_columns(frame, HOUSEHOLD_COLUMNS, "households")


# --- added for daily consumption and leaderboards (scoring/daily.py, scoring/leaderboard.py) ------
METER_READING_COLUMNS = (METER_ID, *READING_COLUMNS)  # readings of many meters, as daily_consumption takes
METER_DAILY_COLUMNS = (METER_ID, *DAILY_COLUMNS)  # what daily_consumption returns
HOUSEHOLD_DAILY_COLUMNS = (HOUSEHOLD_ID, *DAILY_COLUMNS)  # what household_daily returns, score_contest takes
METER_HOUSEHOLD_COLUMNS = (METER_ID, HOUSEHOLD_ID)  # which meter belongs to which household

# Result columns of score_contest after household_id, team_id, persons and any pass-through columns.
HOUSEHOLD_RESULT_COLUMNS = (
    BASELINE_KWH_PER_DAY,
    BASELINE_DAYS,
    BASELINE_DAYS_WITH_DATA,
    BASELINE_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    COMPETITION_COVERAGE_FRACTION,
    EXPECTED_KWH,
    ACTUAL_KWH,
    SAVINGS_KWH,
    SAVINGS_FRACTION,
    SAVINGS_KWH_PER_PERSON,
    STATUS,
    RANK,
)
TEAM_RESULT_COLUMNS = (
    TEAM_ID,
    MEMBERS,
    RANKED_MEMBERS,
    EXPECTED_KWH,
    ACTUAL_KWH,
    SAVINGS_KWH,
    SAVINGS_FRACTION,
    SAVINGS_KWH_PER_PERSON,
    STATUS,
    RANK,
)

# Ranks compare savings fractions rounded to what the leaderboard shows: 0.1 percentage point.
SAVINGS_FRACTION_DECIMALS = 3

# --- stable keys of scoring findings ----------------------------------------------------------
FINDING_REGISTER_RESET = "scoring.register_reset"  # a register counter fell: gap contributes nothing
FINDING_REGISTER_JUMP = "scoring.register_jump"  # two register values at the same instant differ
FINDING_UNUSABLE_READINGS = "scoring.unusable_readings"  # no meter/time/energy, bad interval length
FINDING_OVERLAPPING_READINGS = "scoring.overlapping_readings"  # readings cover a day more than once
FINDING_INSUFFICIENT_COVERAGE = "scoring.insufficient_coverage"  # household not ranked: too few days
FINDING_ZERO_BASELINE = "scoring.zero_baseline"  # enough data but baseline consumption is 0 kWh/day
FINDING_INVALID_PERSONS = "scoring.invalid_persons"  # persons missing or < 1: no per-person value
FINDING_INVALID_DAILY_ENERGY = "scoring.invalid_daily_energy"  # day rows with NaN/negative energy
FINDING_UNKNOWN_HOUSEHOLD = "scoring.unknown_household"  # daily rows of a household not in the contest
FINDING_TEAM_TOO_FEW_MEMBERS = "scoring.team_too_few_ranked_members"  # team not ranked
