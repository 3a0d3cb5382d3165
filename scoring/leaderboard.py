"""Contest scoring: household days against each household's baseline, ranked households and teams.

Pure: frames and rules in, a :class:`Leaderboard` out; the clock is the ``as_of`` parameter. The baseline
method and every parameter are data on :class:`ScoringRules`; the defaults are the original rule (mean of
the prior period).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.baselines import PeerBenchmarkModel, own_history_model
from scoring.daily import as_local_days, plain_value
from scoring.dayblock import DayBlock
from scoring.findings import Finding
from scoring.fingerprint import array_bytes, fingerprint, frame_bytes
from scoring.localtime import aware_utc, local_date, require_tz
from scoring.plausibility import check_plausibility
from scoring.schema import (
    ABSENCE_COLUMNS,
    ABSENCE_RANGE_COLUMNS,
    ACTUAL_KWH,
    BASELINE_COVERAGE_FRACTION,
    BASELINE_DAYS,
    BASELINE_DAYS_WITH_DATA,
    BASELINE_KWH_PER_DAY,
    BASELINE_METHOD,
    BASELINE_MODEL_COLUMNS,
    BASELINE_RESIDUAL_SD_KWH,
    BUILDING_TYPE,
    CATEGORY,
    CATEGORY_RANK,
    CO2_SAVED_KG,
    COMPETITION_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    COVERAGE_FRACTION,
    DAY,
    ELECTRIC_HOT_WATER,
    ENERGY_KWH,
    EXPECTED_KWH,
    FINDING_HOUSEHOLD_UNSCORABLE,
    FINDING_INSUFFICIENT_COVERAGE,
    FINDING_INVALID_DAILY_ENERGY,
    FINDING_INVALID_LIVING_AREA,
    FINDING_INVALID_PERSONS,
    FINDING_MISSING_WEATHER,
    FINDING_PEER_ATTRIBUTES_MISSING,
    FINDING_PEER_TABLE_UNVERIFIED,
    FINDING_TEAM_TOO_FEW_MEMBERS,
    FINDING_UNKNOWN_ABSENCE,
    FINDING_UNKNOWN_HOUSEHOLD,
    FINDING_ZERO_BASELINE,
    FIRST_DAY,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_DETAIL_COLUMNS,
    HOUSEHOLD_ID,
    HOUSEHOLD_RESULT_COLUMNS,
    LAST_DAY,
    LIVING_AREA_M2,
    MAX_HOUSEHOLD_KWH_PER_DAY,
    MEMBERS,
    PERSONS,
    PLAUSIBILITY_FLAGS,
    RANK,
    RANKED_MEMBERS,
    SAVINGS_FRACTION,
    SAVINGS_FRACTION_DECIMALS,
    SAVINGS_FRACTION_HIGH,
    SAVINGS_FRACTION_LOW,
    SAVINGS_KWH,
    SAVINGS_KWH_PER_M2,
    SAVINGS_KWH_PER_PERSON,
    STATISTICALLY_TIED,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_NOT_STARTED,
    STATUS_RANKED,
    STATUS_REASON,
    STATUS_UNDER_REVIEW,
    TEAM_DETAIL_COLUMNS,
    TEAM_ID,
    TEAM_RESULT_COLUMNS,
    TEMP_C,
    FrameSchemaError,
    require_columns,
    validate_daily,
    validate_households,
)
from scoring.specs import (
    CARRIERS,
    CATEGORY_HOUSEHOLD_SIZE,
    CATEGORY_RULES,
    METHOD_PEER_BENCHMARK,
    METHOD_PRIOR_PERIOD_MEAN,
    METHOD_PRIOR_YEAR,
    PRIOR_YEAR_SHIFT_DAYS,
    TEAM_AGGREGATIONS,
    TEAM_MEAN,
    TEAM_MEDIAN,
    TEAM_RATIO,
    BaselineSpec,
    EmissionFactors,
    PlausibilitySpec,
    UncertaintySpec,
)
from scoring.stromspiegel import StromspiegelTable, load_stromspiegel
from scoring.uncertainty import (
    MEDIAN_SE_FACTOR,
    fraction_interval,
    savings_variance_kwh2,
    statistically_tied,
    z_value,
)
from scoring.weather import validate_weather

# Thresholds are compared with this slack so a share that is exactly on the line in decimal (e.g. 4/5 of
# the days for 80 %) is not lost to binary rounding.
_THRESHOLD_TOLERANCE = 1e-9

_INT_COLUMNS = (BASELINE_DAYS, BASELINE_DAYS_WITH_DATA, COMPETITION_DAYS, COMPETITION_DAYS_WITH_DATA)
_TEAM_INT_COLUMNS = (MEMBERS, RANKED_MEMBERS)
_TEAM_FLOAT_COLUMNS = (
    EXPECTED_KWH,
    ACTUAL_KWH,
    SAVINGS_KWH,
    SAVINGS_FRACTION,
    SAVINGS_KWH_PER_PERSON,
    SAVINGS_FRACTION_LOW,
    SAVINGS_FRACTION_HIGH,
    SAVINGS_KWH_PER_M2,
    CO2_SAVED_KG,
)

_Array = np.ndarray[Any, Any]
_F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """How a contest is scored; checked when created (``ValueError`` with the reason).

    tz: the contest's IANA time zone, e.g. ``"Europe/Berlin"``; days are its local calendar days
    baseline_start, baseline_end: first and last local day of the baseline period (inclusive)
    competition_start, competition_end: first and last local day of the competition (inclusive); it
        starts after the baseline ends
    min_coverage_fraction: share of the period's days [0..1] that need data, in both periods, to be ranked
        (the baseline's share can be set apart with ``baseline.min_baseline_coverage_fraction``)
    min_team_members: ranked members a team needs to be ranked
    min_day_coverage_fraction: a day "has data" when readings cover at least this share of it [0..1]
        (CalTRACK counts a day built from interval data when at least 50 % of its intervals exist)
    baseline: the baseline method and its parameters (:class:`BaselineSpec`; default: prior-period mean)
    excluded_days: local days left out of both periods for everyone (holidays, a city-wide outage)
    team_aggregation: ``"ratio"`` (sum of savings / sum of expected, default), ``"mean"`` or
        ``"median"`` of the ranked members' savings fractions
    category_by: None: households are ranked within the ``category`` column when it is given;
        ``"household_size"``: within the classes 1, 2, 3, 4, 5+ persons
    uncertainty: interval level and tie rule (:class:`UncertaintySpec`)
    plausibility: plausibility checks (:class:`PlausibilitySpec`)
    carrier: the energy carrier scored: ``"electricity"``, ``"gas"`` or ``"heat"`` (for CO2)
    emission_factors: CO2 per kWh of each carrier (:class:`EmissionFactors`)
    """

    tz: str
    baseline_start: dt.date
    baseline_end: dt.date
    competition_start: dt.date
    competition_end: dt.date
    min_coverage_fraction: float = 0.8
    min_team_members: int = 3
    min_day_coverage_fraction: float = 0.9
    baseline: BaselineSpec = field(default_factory=BaselineSpec)
    excluded_days: tuple[dt.date, ...] = ()
    team_aggregation: str = TEAM_RATIO
    category_by: str | None = None
    uncertainty: UncertaintySpec = field(default_factory=UncertaintySpec)
    plausibility: PlausibilitySpec = field(default_factory=PlausibilitySpec)
    carrier: str = "electricity"
    emission_factors: EmissionFactors = field(default_factory=EmissionFactors)

    def __post_init__(self) -> None:
        require_tz(self.tz)
        for name in ("baseline_start", "baseline_end", "competition_start", "competition_end"):
            value = getattr(self, name)
            # A datetime is a date too, but comparing it with dates fails; days are plain dates.
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise ValueError(f"{name} must be a datetime.date (a local calendar day), got {value!r}")
        if self.baseline_start > self.baseline_end:
            raise ValueError(
                f"baseline_start {self.baseline_start} is after baseline_end {self.baseline_end}"
            )
        if self.competition_start > self.competition_end:
            raise ValueError(
                f"competition_start {self.competition_start} is after competition_end {self.competition_end}"
            )
        if self.baseline_end >= self.competition_start:
            raise ValueError(
                f"the baseline must end before the competition starts: baseline_end {self.baseline_end}, "
                f"competition_start {self.competition_start}"
            )
        for name in ("min_coverage_fraction", "min_day_coverage_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not 0 < float(value) <= 1:
                raise ValueError(f"{name} must be a fraction in (0, 1], got {value!r}")
        members = self.min_team_members
        if isinstance(members, bool) or not isinstance(members, int) or members < 1:
            raise ValueError(f"min_team_members must be an integer >= 1, got {members!r}")
        self._check_additions()

    def _check_additions(self) -> None:
        for name, kind in (
            ("baseline", BaselineSpec),
            ("uncertainty", UncertaintySpec),
            ("plausibility", PlausibilitySpec),
            ("emission_factors", EmissionFactors),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a {kind.__name__}, got {getattr(self, name)!r}")
        days = self.excluded_days
        if isinstance(days, str | dt.date) or not isinstance(days, Iterable):
            raise ValueError(f"excluded_days must be a collection of datetime.date, got {days!r}")
        days = tuple(days)
        for day in days:
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                raise ValueError(f"excluded_days must hold datetime.date values, got {day!r}")
        # Canonical (sorted, unique) so equal rules compare and fingerprint equal.
        object.__setattr__(self, "excluded_days", tuple(sorted(set(days))))
        if self.team_aggregation not in TEAM_AGGREGATIONS:
            raise ValueError(
                f"team_aggregation must be one of {TEAM_AGGREGATIONS}, got {self.team_aggregation!r}"
            )
        if self.category_by is not None and self.category_by not in CATEGORY_RULES:
            raise ValueError(f"category_by must be None or one of {CATEGORY_RULES}, got {self.category_by!r}")
        if self.carrier not in CARRIERS:
            raise ValueError(f"carrier must be one of {CARRIERS}, got {self.carrier!r}")
        if self.baseline.uses_peer_table and self.carrier != "electricity":
            raise ValueError("the Stromspiegel peer benchmark is for electricity only")
        if self.baseline.method == METHOD_PRIOR_YEAR:
            shift = dt.timedelta(days=PRIOR_YEAR_SHIFT_DAYS)
            if self.competition_days > PRIOR_YEAR_SHIFT_DAYS:
                raise ValueError(
                    f"the prior-year baseline needs a competition of at most {PRIOR_YEAR_SHIFT_DAYS} days"
                )
            if (
                self.competition_start - shift < self.baseline_start
                or self.competition_end - shift > self.baseline_end
            ):
                raise ValueError(
                    "the prior-year baseline compares with the competition days 364 days earlier "
                    f"({self.competition_start - shift} to {self.competition_end - shift}); the baseline "
                    f"period {self.baseline_start} to {self.baseline_end} must contain them"
                )

    @property
    def baseline_days(self) -> int:
        """Number of days in the baseline period."""
        return (self.baseline_end - self.baseline_start).days + 1

    @property
    def competition_days(self) -> int:
        """Number of days in the whole competition."""
        return (self.competition_end - self.competition_start).days + 1

    @property
    def min_baseline_coverage_fraction(self) -> float:
        """Share of the baseline days that need data [0..1]."""
        value = self.baseline.min_baseline_coverage_fraction
        return float(self.min_coverage_fraction if value is None else value)

    def parameters(self) -> dict[str, Any]:
        """Every rule as JSON-able data (dates as ISO strings), for the record of a score run."""
        parameters: dict[str, Any] = _jsonable(dataclasses.asdict(self))
        return parameters


@dataclass(frozen=True, slots=True)
class CityFigures:
    """What the city reports for the whole contest as of a result.

    participants: households in the contest
    ranked_households: households ranked
    households_with_enough_data: households whose data meet the sufficiency rules
    enough_data_fraction: households_with_enough_data / participants [0..1]; NaN without participants
    expected_kwh, actual_kwh, savings_kwh: sums over the ranked households [kWh]
    savings_fraction: savings_kwh / expected_kwh [1]
    co2_saved_t: CO2 saved by the ranked households [t]; NaN when the carrier has no emission factor
    teams, ranked_teams: teams in the contest, and ranked
    """

    participants: int
    ranked_households: int
    households_with_enough_data: int
    enough_data_fraction: float
    expected_kwh: float
    actual_kwh: float
    savings_kwh: float
    savings_fraction: float
    co2_saved_t: float
    teams: int
    ranked_teams: int


@dataclass(frozen=True, slots=True, eq=False)
class Leaderboard:
    """A scored contest as of one instant (``eq=False``: frames do not compare with ``==``).

    as_of: the instant the result is as of [UTC, tz-aware]; only local days completed before it count
    rules: the rules it was scored with
    households: one row per household given, ranked or not (columns: ``HOUSEHOLD_COLUMNS``, pass-through
        columns, ``HOUSEHOLD_RESULT_COLUMNS``, ``HOUSEHOLD_DETAIL_COLUMNS``), sorted by rank, then
        household_id, unranked last
    teams: one row per team (``TEAM_RESULT_COLUMNS``, ``TEAM_DETAIL_COLUMNS``), sorted the same way
    findings: data-quality findings of the scoring
    method: the baseline method (``rules.baseline.method``)
    parameters: every rule and the peer table's edition as JSON-able data
    input_fingerprint: ``"sha256:..."`` over the inputs that can affect this result (see
        :func:`score_contest`); equal inputs give equal fingerprints, whatever their row order
    city_figures: totals for the city (:class:`CityFigures`)
    baseline_models: one row per household (``BASELINE_MODEL_COLUMNS``): the fitted model and its
        parameters
    """

    as_of: pd.Timestamp
    rules: ScoringRules
    households: pd.DataFrame
    teams: pd.DataFrame
    findings: tuple[Finding, ...]
    method: str = METHOD_PRIOR_PERIOD_MEAN
    parameters: Mapping[str, Any] = field(default_factory=dict)
    input_fingerprint: str = ""
    city_figures: CityFigures | None = None
    baseline_models: pd.DataFrame | None = None


def shown_savings_fraction(fraction: float) -> float:
    """The savings fraction as the leaderboard shows it: rounded to 0.1 percentage point.

    Ranks compare these values, so two entries shown with the same percentage share a rank. Show it as
    ``f"{shown_savings_fraction(f) * 100:.1f} %"``. NaN stays NaN.
    """
    if fraction is None or math.isnan(fraction):
        return math.nan
    return round(float(fraction), SAVINGS_FRACTION_DECIMALS)


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


def score_contest(
    daily: pd.DataFrame,
    households: pd.DataFrame,
    rules: ScoringRules,
    as_of: pd.Timestamp | dt.datetime,
    *,
    weather: pd.DataFrame | None = None,
    absences: pd.DataFrame | None = None,
    peer_table: StromspiegelTable | None = None,
) -> Leaderboard:
    """Score households and teams against their baseline, as of an instant.

    daily: household days (household_id, day [local, naive], energy_kwh [kWh], coverage_fraction
        [0..1]), e.g. from :func:`scoring.daily.household_daily`; any order; rows of households not in
        ``households`` are ignored (finding ``scoring.unknown_household``)
    households: household_id (unique), team_id (may be missing: no team), persons (integer >= 1);
        optional: living_area_m2 [m²] (per-m² figures), category (ranking category), building_type
        ("flat"/"house") and electric_hot_water (bool) for the peer benchmark; every further column
        (pseudonym, public, ...) is passed through unchanged
    rules: the contest's :class:`ScoringRules`
    as_of: the instant to score as of [tz-aware]; only local days completed before it count, in both
        periods (a naive value is a ``ValueError``)
    weather: day, temp_c [°C] (daily mean); needed by the degree-day method (:func:`validate_weather`)
    absences: household_id, day: declared absent days (see :func:`expand_absence_ranges`); they drop
        out of both periods for that household, like ``rules.excluded_days`` for everyone
    peer_table: the Stromspiegel edition for the peer benchmark; default: the shipped one

    Per household, over the competition days so far that have data (coverage at least
    ``min_day_coverage_fraction``, not excluded, not absent, and with a temperature for the degree-day
    method): expected_kwh is what the baseline model predicts for them, actual_kwh their sum,
    savings_kwh = expected − actual [kWh], savings_fraction = savings / expected, per person and per m²
    figures, co2_saved_kg = savings × the carrier's factor, and an interval savings_fraction_low/high.
    A day without data is left out of both expected and actual. Ranked when both periods' coverage
    reach their thresholds (days that are excluded or absent do not count against it) and expected > 0;
    otherwise status and status_reason say why. Teams: aggregated over their ranked members
    (``team_aggregation``); ranked with at least ``min_team_members`` ranked members. Ranks: by savings
    fraction rounded to 0.1 percentage point, highest first; equal shown values share the rank
    (1, 2, 2, 4). Same inputs give byte-identical frames, whatever the order of their rows.

    returns: a :class:`Leaderboard`
    """
    as_of_utc = aware_utc(as_of, "as_of")
    validate_daily(daily)
    validate_households(households)
    _check_households(households)
    spec = rules.baseline
    weather_frame = validate_weather(weather) if weather is not None else None
    if spec.needs_weather and weather_frame is None:
        raise FrameSchemaError(
            f"the {spec.method} method needs a weather frame (day, temp_c [°C]); none was given"
        )
    if spec.uses_peer_table and peer_table is None:
        peer_table = load_stromspiegel()
    findings: list[Finding] = []

    last_complete = local_date(as_of_utc, rules.tz) - dt.timedelta(days=1)
    comp_first, comp_last = rules.competition_start, min(rules.competition_end, last_complete)
    base_first, base_last = _baseline_window(rules, comp_first, comp_last, last_complete)
    started = comp_last >= comp_first

    # Work in household_id order so float sums and findings do not depend on the order rows came in.
    hh = households.sort_values(HOUSEHOLD_ID, kind="stable").reset_index(drop=True)
    ids = pd.Index(hh[HOUSEHOLD_ID])
    axis = _DayAxis(base_first, base_last, comp_first, comp_last)
    energy, fingerprint_parts, unscorable = _household_days(daily, ids, axis, rules, findings)
    possible = np.ones(energy.shape, dtype=bool)
    possible[:, axis.columns_of(rules.excluded_days)] = False
    temp = None
    if weather_frame is not None:
        temp = axis.values_of(weather_frame)
        fingerprint_parts.append(("weather", array_bytes(temp)))
        if spec.needs_weather:
            missing = ~np.isfinite(temp) & possible.any(axis=0) if len(ids) else ~np.isfinite(temp)
            possible[:, ~np.isfinite(temp)] = False
            if missing.any():
                findings.append(_missing_weather_finding(axis.days[missing]))
    if absences is not None:
        fingerprint_parts.append(("absences", _mark_absences(absences, ids, axis, possible, findings)))
    energy[~possible] = np.nan

    nb = axis.baseline_columns
    base = DayBlock(energy[:, :nb], axis.days[:nb], None if temp is None else temp[:nb])
    comp = DayBlock(energy[:, nb:], axis.days[nb:], None if temp is None else temp[nb:])
    base_possible = possible[:, :nb].sum(axis=1)
    comp_possible = possible[:, nb:].sum(axis=1)
    base_n, comp_n = base.days_with_data, comp.days_with_data

    own = own_history_model(spec).fit(base) if spec.method != METHOD_PEER_BENCHMARK else None
    peer = None
    if spec.uses_peer_table:
        assert peer_table is not None
        peer = PeerBenchmarkModel(
            peer_table,
            hh[PERSONS].to_numpy(),
            _column_or_none(hh, BUILDING_TYPE),
            _column_or_none(hh, ELECTRIC_HOT_WATER),
        ).fit(base)
        fingerprint_parts.append(("peer_table", peer_table.sha256.encode("ascii")))

    persons, persons_ok = _persons(hh, findings)
    area, area_ok = _living_area(hh, findings)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_cov = np.where(base_possible > 0, base_n / np.maximum(base_possible, 1), np.nan)
        comp_cov = np.where(comp_possible > 0, comp_n / np.maximum(comp_possible, 1), np.nan)
    base_enough = _at_least(base_cov, rules.min_baseline_coverage_fraction)
    comp_enough = _at_least(comp_cov, rules.min_coverage_fraction)
    peer_ok = peer.available if peer is not None else np.zeros(len(hh), dtype=bool)
    if spec.method == METHOD_PEER_BENCHMARK:
        use_peer = np.ones(len(hh), dtype=bool)
    else:
        use_peer = (~base_enough & peer_ok) if spec.peer_fallback else np.zeros(len(hh), dtype=bool)
    if peer is not None and use_peer.any() and peer_table is not None and not peer_table.verified:
        findings.append(_unverified_table_finding(peer_table, int(use_peer.sum())))

    nan = np.full(len(hh), np.nan)
    baseline_per_day = _baseline_mean(base) if own is not None else nan
    if peer is not None:
        baseline_per_day = np.where(use_peer, peer.kwh_per_year / 365.0, baseline_per_day)
    residual_sd = own.residual_sd_kwh if own is not None else nan
    residual_sd = np.where(use_peer, np.nan, residual_sd)

    unc = rules.uncertainty
    z = z_value(unc.interval_level)
    if started:
        expected_own = own.expected_kwh(comp) if own is not None else nan
        expected_peer = peer.expected_kwh(comp) if peer is not None else nan
        expected = np.where(use_peer, expected_peer, expected_own)
        actual = comp.total_kwh
        # over: a tiny baseline (1e-320 kWh) overflows the share; such a household is unscorable below.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            savings = expected - actual
            fraction = np.where(expected > 0, savings / np.where(expected > 0, expected, 1.0), np.nan)
            per_person = np.where(persons_ok, savings / np.where(persons_ok, persons, 1.0), np.nan)
            per_m2 = np.where(area_ok, savings / np.where(area_ok, area, 1.0), np.nan)
            variance = (
                savings_variance_kwh2(
                    own.residual_sd_kwh, own.residual_autocorrelation, own.fit_days, comp_n, unc
                )
                if own is not None
                else nan
            )
            if peer is not None:
                band_low, band_high = peer.band_kwh_per_day
                peer_half = (band_high - band_low) / 2 * comp_n
                variance = np.where(use_peer, (peer_half / z) ** 2, variance)
        half_width = z * np.sqrt(variance)
        low, high = fraction_interval(savings, expected, half_width)
        enough = np.where(use_peer, comp_enough & peer_ok, base_enough & comp_enough)
        # Every day is bounded, but a baseline of 1e-320 kWh/day still divides to an infinite share:
        # such a household is unscorable too, and its figures are left out rather than published.
        broken = (expected > 0) & ~np.isfinite(fraction) & ~unscorable
        if broken.any():
            findings += _infinite_fraction_findings(ids, broken, expected, savings)
            unscorable = unscorable | broken
        if unscorable.any():
            savings, fraction, per_person, per_m2, low, high, variance = (
                np.where(unscorable, np.nan, v)
                for v in (savings, fraction, per_person, per_m2, low, high, variance)
            )
    else:
        comp_cov = nan.copy()
        expected = actual = savings = fraction = per_person = per_m2 = variance = low = high = nan
        enough = np.zeros(len(hh), dtype=bool)
    factor = rules.emission_factors.for_carrier(rules.carrier)
    co2 = savings * factor if factor is not None else nan

    flags, plausibility_findings = check_plausibility(ids, base, comp, rules.plausibility)
    flagged = np.array([bool(f) for f in flags], dtype=bool)
    if started:
        ranked = enough & (expected > 0) & ~unscorable
        reason = _status_reasons(enough, ranked, use_peer, peer_ok, spec)
        under_review = ranked & flagged & (not rules.plausibility.rank_flagged)
        ranked &= ~under_review
        status = np.where(
            ranked, STATUS_RANKED, np.where(under_review, STATUS_UNDER_REVIEW, STATUS_INSUFFICIENT_DATA)
        )
        reason = np.where(under_review, [f[0] if f else "" for f in flags], reason)
        # A household whose own numbers cannot be scored is held back for the staff (its finding came
        # from _household_days); it never stops the others' scoring.
        status = np.where(unscorable, STATUS_UNDER_REVIEW, status)
        reason = np.where(unscorable, FINDING_HOUSEHOLD_UNSCORABLE, reason)
        findings += _household_findings(
            ids, reason, base_cov, comp_cov, base_n, use_peer, baseline_per_day, rules
        )
    else:
        ranked = np.zeros(len(hh), dtype=bool)
        status = np.full(len(hh), STATUS_NOT_STARTED)
        reason = np.full(len(hh), "", dtype=object)
    findings += plausibility_findings

    method_used = np.where(use_peer, METHOD_PEER_BENCHMARK, spec.method)
    category = _categories(hh, rules)
    results = pd.DataFrame(
        {
            BASELINE_KWH_PER_DAY: baseline_per_day,
            BASELINE_DAYS: base_possible.astype(np.int64),
            BASELINE_DAYS_WITH_DATA: base_n,
            BASELINE_COVERAGE_FRACTION: base_cov,
            COMPETITION_DAYS: comp_possible.astype(np.int64),
            COMPETITION_DAYS_WITH_DATA: comp_n,
            COMPETITION_COVERAGE_FRACTION: comp_cov,
            EXPECTED_KWH: expected,
            ACTUAL_KWH: actual,
            SAVINGS_KWH: savings,
            SAVINGS_FRACTION: fraction,
            SAVINGS_KWH_PER_PERSON: per_person,
            STATUS: pd.array(status, dtype="str"),
            RANK: _ranks(pd.Series(fraction), ranked),
            BASELINE_METHOD: pd.array(method_used, dtype="str"),
            STATUS_REASON: pd.array(np.asarray(reason, dtype=object).astype(str), dtype="str"),
            BASELINE_RESIDUAL_SD_KWH: residual_sd,
            SAVINGS_FRACTION_LOW: low,
            SAVINGS_FRACTION_HIGH: high,
            STATISTICALLY_TIED: np.zeros(len(hh), dtype=bool),
            SAVINGS_KWH_PER_M2: per_m2,
            CO2_SAVED_KG: co2,
            PLAUSIBILITY_FLAGS: pd.array([",".join(f) for f in flags], dtype="str"),
            CATEGORY: category,
            CATEGORY_RANK: _category_ranks(pd.Series(fraction), ranked, category),
        }
    )
    for column in _INT_COLUMNS:
        results[column] = results[column].astype(np.int64)
    passthrough = [c for c in hh.columns if c not in HOUSEHOLD_COLUMNS and c != CATEGORY]
    household_out = pd.concat(
        [
            hh[[*HOUSEHOLD_COLUMNS, *passthrough]],
            results[[*HOUSEHOLD_RESULT_COLUMNS, *HOUSEHOLD_DETAIL_COLUMNS]],
        ],
        axis=1,
    ).sort_values([RANK, HOUSEHOLD_ID], na_position="last", kind="stable")
    household_out = household_out.reset_index(drop=True)
    household_out[STATISTICALLY_TIED] = statistically_tied(
        (household_out[STATUS] == STATUS_RANKED).to_numpy(),
        household_out[SAVINGS_FRACTION_LOW].to_numpy(dtype=np.float64),
        household_out[SAVINGS_FRACTION_HIGH].to_numpy(dtype=np.float64),
        unc.tie_overlap_fraction,
    )

    member = _MemberFigures(
        ranked=ranked,
        expected=expected,
        actual=actual,
        savings=savings,
        fraction=fraction,
        variance=variance,
        persons=persons,
        persons_ok=persons_ok,
        area=area,
        area_ok=area_ok,
        co2=co2,
    )
    teams_out = _teams(hh, member, started, rules, z, findings)

    models = _baseline_models(hh, own, peer, use_peer, method_used)
    fingerprint_parts.insert(0, ("households", frame_bytes(hh, [HOUSEHOLD_ID])))
    parameters = rules.parameters()
    if peer is not None and peer_table is not None:
        parameters["peer_table"] = {
            "edition": peer_table.edition,
            "verified": peer_table.verified,
            "sha256": peer_table.sha256,
        }
    return Leaderboard(
        as_of=as_of_utc,
        rules=rules,
        households=household_out,
        teams=teams_out,
        findings=tuple(findings),
        method=spec.method,
        parameters=parameters,
        input_fingerprint=fingerprint(fingerprint_parts),
        city_figures=_city_figures(len(hh), enough, member, teams_out, factor is not None),
        baseline_models=models,
    )


# --- internals ----------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _baseline_window(
    rules: ScoringRules, comp_first: dt.date, comp_last: dt.date, last_complete: dt.date
) -> tuple[dt.date, dt.date]:
    """First and last day of the baseline days scored (last < first: none)."""
    spec = rules.baseline
    if spec.method == METHOD_PEER_BENCHMARK:
        return rules.baseline_start, rules.baseline_start - dt.timedelta(days=1)
    if spec.method == METHOD_PRIOR_YEAR:
        shift = dt.timedelta(days=PRIOR_YEAR_SHIFT_DAYS)
        if comp_last >= comp_first:  # the elapsed competition days, one year (52 weeks) earlier
            return comp_first - shift, comp_last - shift
        return rules.competition_start - shift, min(rules.competition_end - shift, last_complete)
    return rules.baseline_start, min(rules.baseline_end, last_complete)


class _DayAxis:
    """The local days scored: the baseline days, then the competition days (columns of the day matrix)."""

    def __init__(
        self, base_first: dt.date, base_last: dt.date, comp_first: dt.date, comp_last: dt.date
    ) -> None:
        base = np.arange(_ordinal(base_first), _ordinal(base_last) + 1, dtype=np.int64)
        comp = np.arange(_ordinal(comp_first), _ordinal(comp_last) + 1, dtype=np.int64)
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
        ordinals = np.array([_ordinal(d) for d in days], dtype=np.int64)
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


def _ordinal(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


_US_PER_DAY = 86_400_000_000
_NAT_ORDINAL = np.iinfo(np.int64).min // _US_PER_DAY  # far outside any axis


def _day_ordinals(days: pd.Series, what: str) -> npt.NDArray[np.int64]:
    """Local day of each value as days since 1970-01-01 (NaT far outside any axis)."""
    if isinstance(days.dtype, np.dtype) and days.dtype.kind == "M":
        # Naive datetime64 (the usual case): floor division gives the calendar day without normalizing.
        micros = days.to_numpy().astype("datetime64[us]").view(np.int64)
    else:
        micros = as_local_days(days, what).to_numpy().astype("datetime64[us]").view(np.int64)
    nat = micros == np.iinfo(np.int64).min
    return np.where(nat, _NAT_ORDINAL, micros // _US_PER_DAY)


def _household_days(
    daily: pd.DataFrame, ids: pd.Index, axis: _DayAxis, rules: ScoringRules, findings: list[Finding]
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
    column = axis.columns(_day_ordinals(daily[DAY], "daily"))
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
        total = summed[ENERGY_KWH].to_numpy(dtype=np.float64)
        total[summed["energy_missing"].to_numpy() > 0] = np.nan
        where = summed.index.to_numpy(dtype=np.int64)
        raw_energy[where] = total
        raw_coverage[where] = summed[COVERAGE_FRACTION].to_numpy(dtype=np.float64)

    covered = _at_least(raw_coverage, rules.min_day_coverage_fraction)
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


def _infinite_fraction_findings(
    ids: pd.Index, broken: npt.NDArray[np.bool_], expected: _F64, savings: _F64
) -> list[Finding]:
    return [
        Finding(
            key=FINDING_HOUSEHOLD_UNSCORABLE,
            detail=(
                f"Household {plain_value(ids[i])} cannot be scored: its savings of {savings[i]:g} kWh against an "
                f"expected {expected[i]:g} kWh is no finite share. It is held back for review; check its "
                "meter's readings in the baseline period."
            ),
            subject=f"household:{plain_value(ids[i])}",
            data={"reason": "savings_fraction_not_finite", "expected_kwh": float(expected[i])},
        )
        for i in np.flatnonzero(broken)
    ]


def _unscorable_findings(
    ids: pd.Index, impossible: npt.NDArray[np.bool_], raw_energy: _F64, axis: _DayAxis
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


def _mark_absences(
    absences: pd.DataFrame,
    ids: pd.Index,
    axis: _DayAxis,
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
    column = axis.columns(_day_ordinals(absences[DAY], "absences"))
    keep = ~unknown & (column >= 0)
    possible[code[keep], column[keep]] = False
    cells = np.unique(code[keep] * max(len(axis), 1) + column[keep])
    return array_bytes(cells)


def _column_or_none(frame: pd.DataFrame, column: str) -> _Array:
    if column in frame.columns:
        values: _Array = frame[column].to_numpy(dtype=object)
        return values
    return np.full(len(frame), None, dtype=object)


def _baseline_mean(base: DayBlock) -> _F64:
    n = base.days_with_data
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(n > 0, base.total_kwh / np.maximum(n, 1), np.nan), dtype=np.float64)


def _check_households(households: pd.DataFrame) -> None:
    clash = [
        c
        for c in households.columns
        if c in HOUSEHOLD_RESULT_COLUMNS or (c in HOUSEHOLD_DETAIL_COLUMNS and c != CATEGORY)
    ]
    if clash:
        raise FrameSchemaError(
            f"households frame has result column(s) {', '.join(clash)}; remove them before scoring"
        )
    ids = households[HOUSEHOLD_ID]
    if ids.isna().any():
        raise FrameSchemaError(f"households.{HOUSEHOLD_ID} has missing values")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        shown = ", ".join(map(str, duplicated[:10]))
        raise FrameSchemaError(f"households.{HOUSEHOLD_ID} must be unique; repeated: {shown}")


def _at_least(values: _Array, threshold: float) -> _Array:
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold - _THRESHOLD_TOLERANCE, dtype=bool)


def _persons(hh: pd.DataFrame, findings: list[Finding]) -> tuple[_Array, _Array]:
    """Persons per household as floats, and which are usable (an integer >= 1)."""
    persons = pd.to_numeric(hh[PERSONS], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(persons) & (persons >= 1) & (np.floor(persons) == persons)
    for household_id, value in zip(hh.loc[~ok, HOUSEHOLD_ID], hh.loc[~ok, PERSONS], strict=True):
        findings.append(
            Finding(
                key=FINDING_INVALID_PERSONS,
                detail=(
                    f"Household {household_id} has persons = {value!r}, not a whole number >= 1; "
                    "it is scored, but gets no per-person savings."
                ),
                subject=f"household:{household_id}",
                data={"persons": plain_value(value)},
            )
        )
    return persons, ok


def _living_area(hh: pd.DataFrame, findings: list[Finding]) -> tuple[_F64, _Array]:
    """Living area per household [m²] and which is usable (> 0); a missing value is simply not given."""
    if LIVING_AREA_M2 not in hh.columns:
        return np.full(len(hh), np.nan), np.zeros(len(hh), dtype=bool)
    given = hh[LIVING_AREA_M2]
    area = pd.to_numeric(given, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(area) & (area > 0)
    bad = ~ok & given.notna().to_numpy()
    for household_id, value in zip(hh.loc[bad, HOUSEHOLD_ID], given[bad], strict=True):
        findings.append(
            Finding(
                key=FINDING_INVALID_LIVING_AREA,
                detail=f"Household {household_id} has living_area_m2 = {value!r}, not an area > 0; no per-m² figure.",
                subject=f"household:{household_id}",
                data={"living_area_m2": plain_value(value)},
            )
        )
    return area, ok


def _categories(hh: pd.DataFrame, rules: ScoringRules) -> pd.Series:
    if rules.category_by == CATEGORY_HOUSEHOLD_SIZE:
        persons = pd.to_numeric(hh[PERSONS], errors="coerce")
        whole = persons.notna() & (persons >= 1) & (np.floor(persons) == persons)
        labels = [
            (str(int(p)) if p < 5 else "5+") if ok else None
            for p, ok in zip(persons.fillna(0), whole, strict=True)
        ]
        return pd.Series(pd.array(labels, dtype="str"))
    if CATEGORY in hh.columns:
        return hh[CATEGORY].reset_index(drop=True)
    return pd.Series(pd.array([None] * len(hh), dtype="str"))


def _ranks(fraction: pd.Series, ranked: _Array) -> pd.Series:
    """Ranks of the ranked entries by shown savings fraction, highest first; ties share the lowest rank."""
    shown = fraction.where(pd.Series(ranked, index=fraction.index)).map(shown_savings_fraction)
    return shown.rank(method="min", ascending=False).astype("Int64")


def _category_ranks(fraction: pd.Series, ranked: _Array, category: pd.Series) -> pd.Series:
    """Ranks within each category (as :func:`_ranks`); NA without a category or when not ranked."""
    in_category = ranked & category.notna().to_numpy()
    shown = fraction.where(pd.Series(in_category, index=fraction.index)).map(shown_savings_fraction)
    ranks = shown.groupby(category.to_numpy(dtype=object), dropna=True).rank(method="min", ascending=False)
    return ranks.reindex(fraction.index).astype("Int64")


def _status_reasons(
    enough: _Array, ranked: _Array, use_peer: _Array, peer_ok: _Array, spec: BaselineSpec
) -> _Array:
    """Finding key saying why each household is not ranked ("" when it is)."""
    reason = np.full(len(enough), "", dtype=object)
    peer_missing = ~peer_ok & (spec.method == METHOD_PEER_BENCHMARK)
    reason[~enough] = FINDING_INSUFFICIENT_COVERAGE
    reason[~enough & peer_missing] = FINDING_PEER_ATTRIBUTES_MISSING
    reason[enough & ~ranked] = FINDING_ZERO_BASELINE
    return reason


def _household_findings(
    ids: pd.Index,
    reason: _Array,
    base_cov: _Array,
    comp_cov: _Array,
    base_n: _Array,
    use_peer: _Array,
    baseline_per_day: _F64,
    rules: ScoringRules,
) -> list[Finding]:
    findings = []
    for i in np.flatnonzero(reason != ""):
        household_id = plain_value(ids[i])
        subject = f"household:{household_id}"
        if reason[i] == FINDING_INSUFFICIENT_COVERAGE and use_peer[i]:
            findings.append(
                Finding(
                    key=FINDING_INSUFFICIENT_COVERAGE,
                    detail=(
                        f"Household {household_id} is not ranked: data on {comp_cov[i]:.0%} of the competition "
                        f"days so far; {rules.min_coverage_fraction:.0%} are needed."
                    ),
                    subject=subject,
                    data={
                        "baseline_coverage": float(base_cov[i]),
                        "competition_coverage": float(comp_cov[i]),
                        "min_coverage": float(rules.min_coverage_fraction),
                    },
                )
            )
        elif reason[i] == FINDING_INSUFFICIENT_COVERAGE:
            base_min, comp_min = rules.min_baseline_coverage_fraction, rules.min_coverage_fraction
            needed = (
                f"{comp_min:.0%} of each are needed"
                if base_min == comp_min
                else f"{base_min:.0%} of the baseline days and {comp_min:.0%} of the competition days are needed"
            )
            findings.append(
                Finding(
                    key=FINDING_INSUFFICIENT_COVERAGE,
                    detail=(
                        f"Household {household_id} is not ranked: data on {base_cov[i]:.0%} of the baseline "
                        f"days and {comp_cov[i]:.0%} of the competition days so far; {needed}."
                    ),
                    subject=subject,
                    data={
                        "baseline_coverage": float(base_cov[i]),
                        "competition_coverage": float(comp_cov[i]),
                        "min_coverage": float(rules.min_coverage_fraction),
                        **({"min_baseline_coverage": float(base_min)} if base_min != comp_min else {}),
                    },
                )
            )
        elif reason[i] == FINDING_PEER_ATTRIBUTES_MISSING:
            findings.append(
                Finding(
                    key=FINDING_PEER_ATTRIBUTES_MISSING,
                    detail=(
                        f"Household {household_id} is not ranked: the peer benchmark needs its persons, "
                        f"{BUILDING_TYPE} (flat/house) and {ELECTRIC_HOT_WATER} (yes/no)."
                    ),
                    subject=subject,
                    data={"needs": [PERSONS, BUILDING_TYPE, ELECTRIC_HOT_WATER]},
                )
            )
        elif reason[i] == FINDING_ZERO_BASELINE:
            what = (
                "its baseline consumption is 0 kWh per day"
                if baseline_per_day[i] == 0
                else "its baseline expects no consumption (0 kWh or less) on the competition days"
            )
            findings.append(
                Finding(
                    key=FINDING_ZERO_BASELINE,
                    detail=(
                        f"Household {household_id} is not ranked: {what}, so savings cannot be given as a "
                        "share of it."
                    ),
                    subject=subject,
                    data={"baseline_days_with_data": int(base_n[i])},
                )
            )
    return findings


@dataclass(frozen=True, slots=True)
class _MemberFigures:
    """Per-household figures the team table aggregates (arrays in household_id order)."""

    ranked: _Array
    expected: _F64
    actual: _F64
    savings: _F64
    fraction: _F64
    variance: _F64
    persons: _F64
    persons_ok: _Array
    area: _F64
    area_ok: _Array
    co2: _F64


def _teams(
    hh: pd.DataFrame, m: _MemberFigures, started: bool, rules: ScoringRules, z: float, findings: list[Finding]
) -> pd.DataFrame:
    """One row per team: figures over its ranked members, its status, rank and interval."""
    in_team = hh[TEAM_ID].notna().to_numpy()
    code, team_ids = pd.factorize(hh[TEAM_ID].to_numpy()[in_team], sort=True)
    n_teams = len(team_ids)
    ranked = m.ranked[in_team]

    def count(flags: _Array) -> npt.NDArray[np.int64]:
        return np.bincount(code, weights=flags.astype(np.float64), minlength=n_teams).astype(np.int64)

    def total(values: _Array) -> _F64:
        """Sum over ranked members; NaN for a team without any (as pandas' ``sum(min_count=1)``)."""
        picked = np.where(ranked, values[in_team], np.nan)
        present = np.isfinite(picked)
        sums = np.bincount(code, weights=np.where(present, picked, 0.0), minlength=n_teams)
        return np.where(count(present) > 0, sums, np.nan)

    members = count(np.ones(len(code), dtype=bool))
    ranked_members = count(ranked)
    expected, actual, savings = total(m.expected), total(m.actual), total(m.savings)
    persons = np.where(count(ranked & ~m.persons_ok[in_team]) > 0, np.nan, total(m.persons))
    area = np.where(count(ranked & ~m.area_ok[in_team]) > 0, np.nan, total(m.area))
    co2 = total(m.co2)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rules.team_aggregation == TEAM_RATIO:
            fraction = np.where(expected > 0, savings / expected, np.nan)
            half = z * np.sqrt(total(m.variance)) / expected
        else:
            member_fraction = np.where(ranked, m.fraction[in_team], np.nan)
            if rules.team_aggregation == TEAM_MEAN:
                fraction = total(m.fraction) / ranked_members
            else:
                fraction = np.array(
                    [
                        np.median(member_fraction[(code == t) & ranked]) if ranked_members[t] else np.nan
                        for t in range(n_teams)
                    ],
                    dtype=np.float64,
                )
            half = z * np.sqrt(total(m.variance / (m.expected * m.expected))) / ranked_members
            if rules.team_aggregation == TEAM_MEDIAN:
                half = half * MEDIAN_SE_FACTOR
        teams = pd.DataFrame(
            {
                TEAM_ID: pd.Series(team_ids).astype(hh[TEAM_ID].dtype).to_numpy()
                if n_teams
                else hh[TEAM_ID].iloc[:0].to_numpy(),
                MEMBERS: members,
                RANKED_MEMBERS: ranked_members,
                EXPECTED_KWH: expected,
                ACTUAL_KWH: actual,
                SAVINGS_KWH: savings,
                SAVINGS_FRACTION: fraction,
                SAVINGS_KWH_PER_PERSON: savings / persons,
                SAVINGS_FRACTION_LOW: fraction - half,
                SAVINGS_FRACTION_HIGH: fraction + half,
                SAVINGS_KWH_PER_M2: savings / area,
                CO2_SAVED_KG: co2,
            }
        )
    teams[TEAM_ID] = teams[TEAM_ID].astype(hh[TEAM_ID].dtype)
    if started:
        team_ranked = (ranked_members >= rules.min_team_members) & np.isfinite(fraction)
        status = np.where(team_ranked, STATUS_RANKED, STATUS_INSUFFICIENT_DATA)
        for i in np.flatnonzero(~team_ranked):
            team_id = plain_value(teams[TEAM_ID].iloc[i])
            findings.append(
                Finding(
                    key=FINDING_TEAM_TOO_FEW_MEMBERS,
                    detail=(
                        f"Team {team_id} is not ranked: {int(ranked_members[i])} of its {int(members[i])} "
                        f"households are ranked, {rules.min_team_members} are needed."
                    ),
                    subject=f"team:{team_id}",
                    data={
                        "ranked_members": int(ranked_members[i]),
                        "min_team_members": rules.min_team_members,
                    },
                )
            )
    else:
        team_ranked = np.zeros(n_teams, dtype=bool)
        status = np.full(n_teams, STATUS_NOT_STARTED)
        for column in _TEAM_FLOAT_COLUMNS:
            teams[column] = np.nan
    teams[STATUS] = pd.array(status, dtype="str")
    teams[RANK] = _ranks(teams[SAVINGS_FRACTION], team_ranked)
    for column in _TEAM_INT_COLUMNS:
        teams[column] = teams[column].astype(np.int64)
    for column in _TEAM_FLOAT_COLUMNS:
        teams[column] = teams[column].astype(np.float64)
    teams = teams.sort_values([RANK, TEAM_ID], na_position="last", kind="stable").reset_index(drop=True)
    teams[STATISTICALLY_TIED] = statistically_tied(
        (teams[STATUS] == STATUS_RANKED).to_numpy(),
        teams[SAVINGS_FRACTION_LOW].to_numpy(dtype=np.float64),
        teams[SAVINGS_FRACTION_HIGH].to_numpy(dtype=np.float64),
        rules.uncertainty.tie_overlap_fraction,
    )
    return teams[[*TEAM_RESULT_COLUMNS, *TEAM_DETAIL_COLUMNS]]


def _city_figures(
    participants: int, enough: _Array, m: _MemberFigures, teams: pd.DataFrame, has_factor: bool
) -> CityFigures:
    ranked = m.ranked
    expected = float(np.sum(m.expected[ranked]))
    savings = float(np.sum(m.savings[ranked]))
    co2_kg = float(np.sum(m.co2[ranked])) if has_factor else math.nan
    return CityFigures(
        participants=participants,
        ranked_households=int(ranked.sum()),
        households_with_enough_data=int(np.sum(enough)),
        enough_data_fraction=float(np.sum(enough)) / participants if participants else math.nan,
        expected_kwh=expected,
        actual_kwh=float(np.sum(m.actual[ranked])),
        savings_kwh=savings,
        savings_fraction=savings / expected if expected > 0 else math.nan,
        co2_saved_t=co2_kg / 1000.0,
        teams=len(teams),
        ranked_teams=int((teams[STATUS] == STATUS_RANKED).sum()),
    )


def _baseline_models(
    hh: pd.DataFrame, own: Any, peer: PeerBenchmarkModel | None, use_peer: _Array, method_used: _Array
) -> pd.DataFrame:
    if own is not None:
        models = own.describe()
    else:
        assert peer is not None
        models = peer.describe()
    if peer is not None and own is not None and use_peer.any():
        models = models.copy()
        models.loc[use_peer] = peer.describe().loc[use_peer]
    models.insert(0, BASELINE_METHOD, pd.array(method_used, dtype="str"))
    models.insert(0, HOUSEHOLD_ID, hh[HOUSEHOLD_ID].to_numpy())
    return models[list(BASELINE_MODEL_COLUMNS)].reset_index(drop=True)


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


def _unverified_table_finding(table: StromspiegelTable, households: int) -> Finding:
    return Finding(
        key=FINDING_PEER_TABLE_UNVERIFIED,
        detail=(
            f"{households} household(s) are scored against the Stromspiegel {table.edition} table, whose numbers "
            "have not been checked against the publication; check them before publishing results."
        ),
        data={"edition": table.edition, "source": table.source, "households": households},
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
                subject=f"household:{plain_value(household_id)}",
                data={"days": len(rows), "first_day": first},
            )
        )
    return findings


__all__ = [
    "CityFigures",
    "Leaderboard",
    "PlausibilitySpec",
    "ScoringRules",
    "UncertaintySpec",
    "expand_absence_ranges",
    "score_contest",
    "shown_savings_fraction",
]
