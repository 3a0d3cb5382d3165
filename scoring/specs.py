"""How a contest chooses its scoring method and parameters, as data: frozen dataclasses checked when created.

:class:`scoring.rules.ScoringRules` holds one of each; every default keeps the original scoring
(prior-period mean, no intervals beyond the record, plausibility findings that never unrank anyone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

from scoring.methods import METHOD_PRIOR_PERIOD_MEAN, BaselineMethod, baseline_method

# --- team aggregation -------------------------------------------------------------------------
TEAM_RATIO = "ratio"  # sum of members' savings / sum of members' expected consumption
TEAM_MEAN = "mean"  # mean of members' savings fractions
TEAM_MEDIAN = "median"  # median of members' savings fractions
TEAM_AGGREGATIONS = (TEAM_RATIO, TEAM_MEAN, TEAM_MEDIAN)

# --- categories -------------------------------------------------------------------------------
CATEGORY_HOUSEHOLD_SIZE = "household_size"  # "1", "2", "3", "4", "5+" persons
CATEGORY_RULES = (CATEGORY_HOUSEHOLD_SIZE,)

# --- energy carriers --------------------------------------------------------------------------
CARRIERS = ("electricity", "gas", "heat")


def _fraction(name: str, value: Any, *, closed_low: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    low_ok = float(value) >= 0 if closed_low else float(value) > 0
    if not (low_ok and float(value) <= 1):
        interval = "[0, 1]" if closed_low else "(0, 1]"
        raise ValueError(f"{name} must be a fraction in {interval}, got {value!r}")


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if float(value) < 0 or (not allow_zero and float(value) == 0):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def _whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def _balance_points(name: str, value: Any) -> None:
    if not isinstance(value, tuple) or not all(
        isinstance(v, Real) and not isinstance(v, bool) and -30 <= float(v) <= 40 for v in value
    ):
        raise ValueError(f"{name} must be a tuple of temperatures in [-30, 40] °C, got {value!r}")
    if len(set(value)) != len(value) or list(value) != sorted(value):
        raise ValueError(f"{name} must be sorted and without repeats, got {value!r}")


@dataclass(frozen=True, slots=True)
class BaselineSpec:
    """Which baseline a contest uses and its parameters.

    method: one of ``scoring.methods.METHODS`` (the rows of ``BASELINE_METHODS``):
        ``"prior_period_mean"``: mean consumption per day over the baseline period (the original rule)
        ``"prior_year_same_period"``: the same competition days 52 weeks (364 days) earlier, compared as
            weekday and weekend-day means so both periods weigh weekdays and weekend days alike
        ``"degree_day_regression"``: CalTRACK-style daily model in °C fitted on the baseline period:
            usage/day = intercept + heating slope × HDD(balance point) [+ cooling slope × CDD]; needs
            weather (daily mean temperature)
        ``"peer_benchmark"``: expected consumption from a Stromspiegel table (household size, building
            type, electric hot water); for households without history (electricity only)
    min_baseline_coverage_fraction: share of the baseline days [0..1] that need data; None uses the
        rules' ``min_coverage_fraction`` (CalTRACK asks 0.9 of a 365-day regression baseline)
    heating_balance_points_c: candidate heating balance points of the grid search [°C]
    cooling_balance_points_c: candidate cooling balance points [°C]; empty: no cooling term
    max_slope_p_value: a heating/cooling slope is kept only below this two-sided p-value [0..1];
        1 turns the test off (eemeter 2, the CalTRACK 2 reference code, defaults to off)
    min_nonzero_degree_days: a slope needs at least this many baseline days with data and a degree
        day above 0 [days] (CalTRACK: 10)
    min_total_degree_days_k: ... and at least this many degree days in total over those days [K·d]
        (CalTRACK: 20 °F·d ≈ 11 K·d; we ask 20 K·d, a little stricter)
    peer_fallback: households whose own baseline lacks data get the peer benchmark (electricity only)
    """

    method: str = METHOD_PRIOR_PERIOD_MEAN
    min_baseline_coverage_fraction: float | None = None
    heating_balance_points_c: tuple[float, ...] = tuple(float(t) for t in range(8, 21))
    cooling_balance_points_c: tuple[float, ...] = tuple(float(t) for t in range(16, 29))
    max_slope_p_value: float = 0.1
    min_nonzero_degree_days: int = 10
    min_total_degree_days_k: float = 20.0
    peer_fallback: bool = False

    def __post_init__(self) -> None:
        method = baseline_method(self.method)
        if self.min_baseline_coverage_fraction is not None:
            _fraction("min_baseline_coverage_fraction", self.min_baseline_coverage_fraction)
        _balance_points("heating_balance_points_c", self.heating_balance_points_c)
        _balance_points("cooling_balance_points_c", self.cooling_balance_points_c)
        method.check_spec(self)
        _fraction("max_slope_p_value", self.max_slope_p_value)
        _whole("min_nonzero_degree_days", self.min_nonzero_degree_days, 1)
        _positive("min_total_degree_days_k", self.min_total_degree_days_k, allow_zero=True)
        if not isinstance(self.peer_fallback, bool):
            raise ValueError(f"peer_fallback must be True or False, got {self.peer_fallback!r}")

    @property
    def baseline_method(self) -> BaselineMethod:
        """The method's row: what it needs and how it fits."""
        return baseline_method(self.method)

    @property
    def needs_weather(self) -> bool:
        """True when the method needs daily mean temperatures."""
        return self.baseline_method.needs_weather

    @property
    def uses_peer_table(self) -> bool:
        """True when some households may be scored against the Stromspiegel table."""
        return self.baseline_method.needs_peer_table or self.peer_fallback


@dataclass(frozen=True, slots=True)
class UncertaintySpec:
    """How wide the interval around a savings fraction is, and when neighbours count as tied.

    interval_level: two-sided level of the interval [0..1], e.g. 0.9 for 90 %
    autocorrelation: widen intervals by the lag-1 autocorrelation ρ of the baseline residuals, with the
        factor (1 + ρ) / (1 − ρ) on the variance (ρ < 0 counts as 0, ρ is capped at ``max_autocorrelation``)
    max_autocorrelation: cap of ρ [0..1)
    tie_overlap_fraction: two adjacent ranked entries are ``statistically_tied`` when their intervals
        overlap by at least this share of the narrower interval's width [0..1]
    """

    interval_level: float = 0.9
    autocorrelation: bool = True
    max_autocorrelation: float = 0.9
    tie_overlap_fraction: float = 0.5

    def __post_init__(self) -> None:
        _fraction("interval_level", self.interval_level)
        if float(self.interval_level) >= 1:
            raise ValueError(f"interval_level must be below 1, got {self.interval_level!r}")
        if not isinstance(self.autocorrelation, bool):
            raise ValueError(f"autocorrelation must be True or False, got {self.autocorrelation!r}")
        _fraction("max_autocorrelation", self.max_autocorrelation, closed_low=True)
        if float(self.max_autocorrelation) >= 1:
            raise ValueError(f"max_autocorrelation must be below 1, got {self.max_autocorrelation!r}")
        _fraction("tie_overlap_fraction", self.tie_overlap_fraction)


@dataclass(frozen=True, slots=True)
class PlausibilitySpec:
    """Checks that flag days for the staff (findings with the evidence), and whether flagged households
    stay ranked.

    enabled: run the checks at all
    min_baseline_days: a household needs this many baseline days with data before its days are judged
        (median, spread and base load mean little on fewer) [days]
    high_day_iqr_factor: a day above median + factor × IQR of the household's baseline days is flagged
    base_load_quantile: the household's base load is this quantile of its baseline days [0..1]
    vacancy_base_load_fraction: competition days below this share of the base load count as "below base
        load" [0..1]
    vacancy_min_days: a run of at least this many such days in a row is a possible vacancy [days]
    zero_kwh_per_day: a day at or below this counts as zero [kWh]
    zero_min_days: at least this many zero days in a row, right after a day at or above the base load,
        are a sudden drop to zero (a stuck or disconnected meter?) [days]
    rank_flagged: flagged households stay ranked (True) or get the status ``under_review`` (False)
    """

    enabled: bool = True
    min_baseline_days: int = 14
    high_day_iqr_factor: float = 3.0
    base_load_quantile: float = 0.1
    vacancy_base_load_fraction: float = 0.5
    vacancy_min_days: int = 7
    zero_kwh_per_day: float = 0.01
    zero_min_days: int = 2
    rank_flagged: bool = True

    def __post_init__(self) -> None:
        for name in ("enabled", "rank_flagged"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        _whole("min_baseline_days", self.min_baseline_days, 2)
        _positive("high_day_iqr_factor", self.high_day_iqr_factor)
        _fraction("base_load_quantile", self.base_load_quantile, closed_low=True)
        _fraction("vacancy_base_load_fraction", self.vacancy_base_load_fraction)
        _whole("vacancy_min_days", self.vacancy_min_days, 1)
        _positive("zero_kwh_per_day", self.zero_kwh_per_day, allow_zero=True)
        _whole("zero_min_days", self.zero_min_days, 1)


@dataclass(frozen=True, slots=True)
class EmissionFactors:
    """CO2 emitted per kWh of final energy, per carrier [kg CO2/kWh]; None: unknown (no CO2 figure).

    Defaults (check them for the contest year; sources in docs/scoring.md):
    electricity_kg_per_kwh: Umweltbundesamt, CO2 emission factor of the German electricity mix 2023
        (electricity consumption, direct emissions; estimate published 2024): 380 g/kWh
    gas_kg_per_kwh: natural gas per kWh of *gross* calorific value (Brennwert, H_s), the basis of German
        gas bills and of this project's gas kWh: 0.2016 kg CO2/kWh H_i (standard value of the EBeV 2030;
        BAFA "Informationsblatt CO2-Faktoren": 0.201) × H_i/H_s ≈ 0.903 = 0.182 kg CO2/kWh H_s
        (GEG Anlage 9 gives 0.240 kg CO2-eq/kWh H_i including upstream chains)
    heat_kg_per_kwh: district heat depends on the local network; the city must give its supplier's
        factor (None: no CO2 figure)
    """

    electricity_kg_per_kwh: float | None = 0.380
    gas_kg_per_kwh: float | None = 0.182
    heat_kg_per_kwh: float | None = None

    def __post_init__(self) -> None:
        for name in ("electricity_kg_per_kwh", "gas_kg_per_kwh", "heat_kg_per_kwh"):
            value = getattr(self, name)
            if value is not None:
                _positive(name, value, allow_zero=True)

    def for_carrier(self, carrier: str) -> float | None:
        """The factor of ``carrier`` (``"electricity"``, ``"gas"`` or ``"heat"``) [kg CO2/kWh]."""
        if carrier not in CARRIERS:
            raise ValueError(f"carrier must be one of {CARRIERS}, got {carrier!r}")
        value: float | None = getattr(self, f"{carrier}_kg_per_kwh")
        return value
