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
        raise FrameSchemaError(
            f"{what} frame lacks column(s) {', '.join(missing)}; has {list(frame.columns)}"
        )


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

# --- added for baselines, fairness, uncertainty, plausibility and CO2 (issue #5) -----------------
# Optional input columns of the households frame (passed through like any other extra column).
LIVING_AREA_M2 = "living_area_m2"  # heated/living area [m²]; optional, for per-m² figures
BUILDING_TYPE = "building_type"  # "flat" | "house"; for the peer benchmark
ELECTRIC_HOT_WATER = "electric_hot_water"  # True when hot water is made with electricity; peer benchmark
CATEGORY = "category"  # the household's ranking category (given, or derived by a rule)

BUILDING_FLAT = "flat"
BUILDING_HOUSE = "house"
BUILDING_TYPES = (BUILDING_FLAT, BUILDING_HOUSE)

# Weather: one row per local day.
TEMP_C = "temp_c"  # daily mean air temperature [°C]
WEATHER_COLUMNS = (DAY, TEMP_C)

# Declared absences: one row per household and absent day; or ranges of days.
FIRST_DAY = "first_day"
LAST_DAY = "last_day"
ABSENCE_COLUMNS = (HOUSEHOLD_ID, DAY)
ABSENCE_RANGE_COLUMNS = (HOUSEHOLD_ID, FIRST_DAY, LAST_DAY)

# Result columns after HOUSEHOLD_RESULT_COLUMNS (households) and TEAM_RESULT_COLUMNS (teams).
BASELINE_METHOD = "baseline_method"  # the method that scored this household (peer fallback shows here)
STATUS_REASON = "status_reason"  # finding key saying why the household is not ranked; "" when ranked
BASELINE_RESIDUAL_SD_KWH = "baseline_residual_sd_kwh"  # spread of daily baseline residuals [kWh/day]
SAVINGS_FRACTION_LOW = "savings_fraction_low"  # lower end of the interval of savings_fraction [1]
SAVINGS_FRACTION_HIGH = "savings_fraction_high"  # upper end [1]
STATISTICALLY_TIED = "statistically_tied"  # interval overlaps a ranked neighbour's widely
SAVINGS_KWH_PER_M2 = "savings_kwh_per_m2"  # savings per m² of living area [kWh/m²]
CO2_SAVED_KG = "co2_saved_kg"  # savings × the carrier's emission factor [kg CO2]
PLAUSIBILITY_FLAGS = "plausibility_flags"  # finding keys of plausibility checks, comma-separated
CATEGORY_RANK = "category_rank"  # rank among the ranked households of the same category

HOUSEHOLD_DETAIL_COLUMNS = (
    BASELINE_METHOD,
    STATUS_REASON,
    BASELINE_RESIDUAL_SD_KWH,
    SAVINGS_FRACTION_LOW,
    SAVINGS_FRACTION_HIGH,
    STATISTICALLY_TIED,
    SAVINGS_KWH_PER_M2,
    CO2_SAVED_KG,
    PLAUSIBILITY_FLAGS,
    CATEGORY,
    CATEGORY_RANK,
)
TEAM_DETAIL_COLUMNS = (
    SAVINGS_FRACTION_LOW,
    SAVINGS_FRACTION_HIGH,
    STATISTICALLY_TIED,
    SAVINGS_KWH_PER_M2,
    CO2_SAVED_KG,
)

# Fitted baseline models (Leaderboard.baseline_models): one row per household.
MODEL = "model"  # "mean" | "weekday_weekend" | "intercept_only" | "hdd" | "cdd" | "hdd_cdd" | "peer" | ""
FIT_DAYS = "fit_days"  # baseline days the model was fitted on [days]
INTERCEPT_KWH_PER_DAY = "intercept_kwh_per_day"  # [kWh/day]
WEEKDAY_KWH_PER_DAY = "weekday_kwh_per_day"  # prior-year model: mean of Monday-Friday [kWh/day]
WEEKEND_KWH_PER_DAY = "weekend_kwh_per_day"  # prior-year model: mean of Saturday/Sunday [kWh/day]
HEATING_BALANCE_POINT_C = "heating_balance_point_c"  # [°C]
HEATING_KWH_PER_DEGREE_DAY = "heating_kwh_per_degree_day"  # [kWh/(K·d)]
COOLING_BALANCE_POINT_C = "cooling_balance_point_c"  # [°C]
COOLING_KWH_PER_DEGREE_DAY = "cooling_kwh_per_degree_day"  # [kWh/(K·d)]
ADJUSTED_R2 = "adjusted_r2"  # [1]
RESIDUAL_SD_KWH = "residual_sd_kwh"  # standard deviation of daily residuals [kWh/day]
RESIDUAL_AUTOCORRELATION = "residual_autocorrelation"  # lag-1 autocorrelation of residuals [1]
PEER_KWH_PER_YEAR = "peer_kwh_per_year"  # Stromspiegel benchmark [kWh/a]

BASELINE_MODEL_COLUMNS = (
    HOUSEHOLD_ID,
    BASELINE_METHOD,
    MODEL,
    FIT_DAYS,
    INTERCEPT_KWH_PER_DAY,
    WEEKDAY_KWH_PER_DAY,
    WEEKEND_KWH_PER_DAY,
    HEATING_BALANCE_POINT_C,
    HEATING_KWH_PER_DEGREE_DAY,
    COOLING_BALANCE_POINT_C,
    COOLING_KWH_PER_DEGREE_DAY,
    ADJUSTED_R2,
    RESIDUAL_SD_KWH,
    RESIDUAL_AUTOCORRELATION,
    PEER_KWH_PER_YEAR,
)

# A status beside ranked / insufficient_data / not_started, only when plausibility flags unrank.
STATUS_UNDER_REVIEW = "under_review"

FINDING_MISSING_WEATHER = "scoring.missing_weather"  # days without a temperature: dropped from both periods
FINDING_PEER_ATTRIBUTES_MISSING = "scoring.peer_attributes_missing"  # no size/building/hot water for peer
FINDING_PEER_TABLE_UNVERIFIED = "scoring.peer_table_unverified"  # the Stromspiegel numbers are unchecked
FINDING_HIGH_DAY = "scoring.implausible_high_day"  # days above median + 3 × IQR of the baseline
FINDING_POSSIBLE_VACANCY = "scoring.possible_vacancy"  # a long run below the household's base load
FINDING_DROP_TO_ZERO = "scoring.drop_to_zero"  # consumption fell from normal to zero and stayed there
FINDING_INVALID_LIVING_AREA = "scoring.invalid_living_area"  # living area missing or <= 0: no per-m² value
FINDING_UNKNOWN_ABSENCE = "scoring.unknown_absence_household"  # absences of households not in the contest
PLAUSIBILITY_FINDINGS = (FINDING_HIGH_DAY, FINDING_POSSIBLE_VACANCY, FINDING_DROP_TO_ZERO)

# --- physical bounds: scoring survives any stored data (issue 11) --------------------------------
#: The most power one household can draw [kW]. The largest house connection of a German home is
#: 3 × 63 A at 230 V ≈ 43.5 kW (heat pump and wallbox included); a home's gas boiler or heat-network
#: station stays below ~50 kW. 100 kW is more than twice that: only broken data is above it. The edge
#: (``contest.readings``) rejects readings beyond it; scoring checks it again for data stored before.
MAX_HOUSEHOLD_POWER_KW = 100.0
#: The most energy one household day can hold [kWh]: the longest local day (25 h, when summer time
#: ends) at ``MAX_HOUSEHOLD_POWER_KW``. A day above it makes its household unscorable.
MAX_HOUSEHOLD_KWH_PER_DAY = MAX_HOUSEHOLD_POWER_KW * 25.0
#: The longest interval daily consumption spreads over days [s]: a yearly bill (366 days). A longer
#: one (or a length beyond what a timestamp can hold, e.g. 1e12 s) is an unusable reading, not a crash.
MAX_SPREAD_INTERVAL_S = 366 * 86_400.0
#: Times daily consumption can place a reading at [UTC]: pandas' nanosecond timestamps end in April
#: 2262, and an interval of up to MAX_SPREAD_INTERVAL_S must still end before that. A reading outside
#: (a year-3000 device clock stored before the bounds existed) is an unusable reading, not an overflow.
SCORABLE_TIME_MIN_UTC = pd.Timestamp("1700-01-01", tz="UTC")
SCORABLE_TIME_MAX_UTC = pd.Timestamp("2260-01-01", tz="UTC")
#: A household whose days cannot be scored (a day above MAX_HOUSEHOLD_KWH_PER_DAY, or not a finite
#: number): it is listed under review with this key as reason; the others are scored as usual.
FINDING_HOUSEHOLD_UNSCORABLE = "scoring.household_unscorable"
