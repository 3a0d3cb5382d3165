"""The households of a score run: their attributes (persons, living area, category), their figures
(expected, actual, savings, intervals, CO2), whether each is ranked and why not, and their table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.daily import plain_value
from scoring.days import DayMatrix, at_least
from scoring.expected import HouseholdBaselines
from scoring.findings import Finding
from scoring.plausibility import check_plausibility
from scoring.ranking import category_ranks, in_rank_order, ranks
from scoring.rules import ScoringRules
from scoring.schema import (
    ACTUAL_KWH,
    BASELINE_COVERAGE_FRACTION,
    BASELINE_DAYS,
    BASELINE_DAYS_WITH_DATA,
    BASELINE_KWH_PER_DAY,
    BASELINE_METHOD,
    BASELINE_RESIDUAL_SD_KWH,
    BUILDING_TYPE,
    CATEGORY,
    CATEGORY_RANK,
    CO2_SAVED_KG,
    COMPETITION_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    ELECTRIC_HOT_WATER,
    EXPECTED_KWH,
    FINDING_HOUSEHOLD_UNSCORABLE,
    FINDING_INSUFFICIENT_COVERAGE,
    FINDING_INVALID_LIVING_AREA,
    FINDING_INVALID_PERSONS,
    FINDING_PEER_ATTRIBUTES_MISSING,
    FINDING_ZERO_BASELINE,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_DETAIL_COLUMNS,
    HOUSEHOLD_ID,
    HOUSEHOLD_RESULT_COLUMNS,
    LIVING_AREA_M2,
    PERSONS,
    PLAUSIBILITY_FLAGS,
    RANK,
    SAVINGS_FRACTION,
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
    FrameSchemaError,
)
from scoring.specs import CATEGORY_HOUSEHOLD_SIZE
from scoring.uncertainty import fraction_interval, z_value

_Array = np.ndarray[Any, Any]
_F64 = npt.NDArray[np.float64]
_INT_COLUMNS = (BASELINE_DAYS, BASELINE_DAYS_WITH_DATA, COMPETITION_DAYS, COMPETITION_DAYS_WITH_DATA)


def check_households(households: pd.DataFrame) -> None:
    """Raise :class:`FrameSchemaError` when the frame holds result columns or its household_id is
    missing or repeated."""
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


@dataclass(frozen=True, slots=True, eq=False)
class HouseholdSizes:
    """Persons and living area of every household, and which are usable.

    persons: persons as floats; persons_ok: an integer >= 1
    area: living area [m²]; area_ok: given and > 0
    """

    persons: _F64
    persons_ok: npt.NDArray[np.bool_]
    area: _F64
    area_ok: npt.NDArray[np.bool_]


def household_sizes(hh: pd.DataFrame, findings: list[Finding]) -> HouseholdSizes:
    """Persons and living area of ``hh``; a finding for each value given but unusable."""
    persons, persons_ok = _persons(hh, findings)
    area, area_ok = _living_area(hh, findings)
    return HouseholdSizes(persons, persons_ok, area, area_ok)


def _persons(hh: pd.DataFrame, findings: list[Finding]) -> tuple[_F64, npt.NDArray[np.bool_]]:
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


def _living_area(hh: pd.DataFrame, findings: list[Finding]) -> tuple[_F64, npt.NDArray[np.bool_]]:
    """A missing value is simply not given (no finding)."""
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


def categories(hh: pd.DataFrame, rules: ScoringRules) -> pd.Series:
    """The category each household is ranked within (``category_by``, else the ``category`` column);
    None: none."""
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


def with_enough_baseline_data(matrix: DayMatrix, rules: ScoringRules) -> npt.NDArray[np.bool_]:
    """Households whose baseline days have enough data (``min_baseline_coverage_fraction``)."""
    return at_least(matrix.baseline_coverage, rules.min_baseline_coverage_fraction)


@dataclass(frozen=True, slots=True, eq=False)
class HouseholdFigures:
    """The figures of every household (arrays in household_id order; NaN before the competition).

    expected, actual, savings: over the competition days with data so far [kWh]
    fraction: savings / expected [1]; per_person [kWh], per_m2 [kWh/m²]
    variance: of savings [kWh²]; low, high: the interval of the fraction [1]; z: its normal quantile
    co2: CO2 saved [kg]; NaN when the carrier has no emission factor
    competition_coverage: share of the possible competition days with data [0..1]
    baseline_enough: the baseline days have enough data (``min_baseline_coverage_fraction``)
    enough: data meet the coverage rules; ranked: ranked; status, reason: status and finding key why not
    flags: plausibility flags of each household
    """

    started: bool
    sizes: HouseholdSizes
    expected: _F64
    actual: _F64
    savings: _F64
    fraction: _F64
    per_person: _F64
    per_m2: _F64
    variance: _F64
    low: _F64
    high: _F64
    z: float
    co2: _F64
    has_co2_factor: bool
    competition_coverage: _F64
    baseline_enough: npt.NDArray[np.bool_]
    enough: npt.NDArray[np.bool_]
    ranked: npt.NDArray[np.bool_]
    status: _Array
    reason: _Array
    flags: list[list[str]]


def score_households(
    ids: pd.Index,
    matrix: DayMatrix,
    baselines: HouseholdBaselines,
    sizes: HouseholdSizes,
    baseline_enough: npt.NDArray[np.bool_],
    rules: ScoringRules,
    started: bool,
    findings: list[Finding],
) -> HouseholdFigures:
    """The figures and status of every household over the competition days so far (see
    :func:`scoring.leaderboard.score_contest` for the rules).

    baseline_enough: households whose baseline days have enough data (:func:`with_enough_baseline_data`)
    """
    n = len(ids)
    base, comp = matrix.baseline, matrix.competition
    base_cov = matrix.baseline_coverage
    comp_enough = at_least(matrix.competition_coverage, rules.min_coverage_fraction)
    use_peer, peer_ok = baselines.use_peer, baselines.peer_ok
    unscorable = matrix.unscorable
    nan = np.full(n, np.nan)
    z = z_value(rules.uncertainty.interval_level)
    if started:
        comp_cov = matrix.competition_coverage
        expected = baselines.expected_kwh(comp)
        actual = comp.total_kwh
        persons, persons_ok, area, area_ok = sizes.persons, sizes.persons_ok, sizes.area, sizes.area_ok
        # over: a tiny baseline (1e-320 kWh) overflows the share; such a household is unscorable below.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            savings = expected - actual
            fraction = np.where(expected > 0, savings / np.where(expected > 0, expected, 1.0), np.nan)
            per_person = np.where(persons_ok, savings / np.where(persons_ok, persons, 1.0), np.nan)
            per_m2 = np.where(area_ok, savings / np.where(area_ok, area, 1.0), np.nan)
        variance = baselines.savings_variance_kwh2(comp, rules.uncertainty, z)
        half_width = z * np.sqrt(variance)
        low, high = fraction_interval(savings, expected, half_width)
        enough = np.where(use_peer, comp_enough & peer_ok, baseline_enough & comp_enough)
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
        enough = np.zeros(n, dtype=bool)
    factor = rules.emission_factors.for_carrier(rules.carrier)
    co2 = savings * factor if factor is not None else nan

    flags, plausibility_findings = check_plausibility(ids, base, comp, rules.plausibility)
    flagged = np.array([bool(f) for f in flags], dtype=bool)
    if started:
        ranked = enough & (expected > 0) & ~unscorable
        reason = _status_reasons(enough, ranked, peer_ok, baselines.peer_only)
        under_review = ranked & flagged & (not rules.plausibility.rank_flagged)
        ranked &= ~under_review
        status = np.where(
            ranked, STATUS_RANKED, np.where(under_review, STATUS_UNDER_REVIEW, STATUS_INSUFFICIENT_DATA)
        )
        reason = np.where(under_review, [f[0] if f else "" for f in flags], reason)
        # A household whose own numbers cannot be scored is held back for the staff (its finding came
        # from the day matrix); it never stops the others' scoring.
        status = np.where(unscorable, STATUS_UNDER_REVIEW, status)
        reason = np.where(unscorable, FINDING_HOUSEHOLD_UNSCORABLE, reason)
        findings += _household_findings(
            ids,
            reason,
            base_cov,
            comp_cov,
            base.days_with_data,
            use_peer,
            baselines.baseline_kwh_per_day,
            rules,
        )
    else:
        ranked = np.zeros(n, dtype=bool)
        status = np.full(n, STATUS_NOT_STARTED)
        reason = np.full(n, "", dtype=object)
    findings += plausibility_findings
    return HouseholdFigures(
        started=started,
        sizes=sizes,
        expected=expected,
        actual=actual,
        savings=savings,
        fraction=fraction,
        per_person=per_person,
        per_m2=per_m2,
        variance=variance,
        low=low,
        high=high,
        z=z,
        co2=co2,
        has_co2_factor=factor is not None,
        competition_coverage=comp_cov,
        baseline_enough=baseline_enough,
        enough=enough,
        ranked=ranked,
        status=status,
        reason=reason,
        flags=flags,
    )


def household_table(
    hh: pd.DataFrame,
    matrix: DayMatrix,
    baselines: HouseholdBaselines,
    figures: HouseholdFigures,
    rules: ScoringRules,
) -> pd.DataFrame:
    """One row per household: its columns, the results and details, in leaderboard order."""
    category = categories(hh, rules)
    fraction = pd.Series(figures.fraction)
    results = pd.DataFrame(
        {
            BASELINE_KWH_PER_DAY: baselines.baseline_kwh_per_day,
            BASELINE_DAYS: matrix.baseline_possible.astype(np.int64),
            BASELINE_DAYS_WITH_DATA: matrix.baseline.days_with_data,
            BASELINE_COVERAGE_FRACTION: matrix.baseline_coverage,
            COMPETITION_DAYS: matrix.competition_possible.astype(np.int64),
            COMPETITION_DAYS_WITH_DATA: matrix.competition.days_with_data,
            COMPETITION_COVERAGE_FRACTION: figures.competition_coverage,
            EXPECTED_KWH: figures.expected,
            ACTUAL_KWH: figures.actual,
            SAVINGS_KWH: figures.savings,
            SAVINGS_FRACTION: figures.fraction,
            SAVINGS_KWH_PER_PERSON: figures.per_person,
            STATUS: pd.array(figures.status, dtype="str"),
            RANK: ranks(fraction, figures.ranked),
            BASELINE_METHOD: pd.array(baselines.method_used, dtype="str"),
            STATUS_REASON: pd.array(np.asarray(figures.reason, dtype=object).astype(str), dtype="str"),
            BASELINE_RESIDUAL_SD_KWH: baselines.residual_sd_kwh,
            SAVINGS_FRACTION_LOW: figures.low,
            SAVINGS_FRACTION_HIGH: figures.high,
            STATISTICALLY_TIED: np.zeros(len(hh), dtype=bool),
            SAVINGS_KWH_PER_M2: figures.per_m2,
            CO2_SAVED_KG: figures.co2,
            PLAUSIBILITY_FLAGS: pd.array([",".join(f) for f in figures.flags], dtype="str"),
            CATEGORY: category,
            CATEGORY_RANK: category_ranks(fraction, figures.ranked, category),
        }
    )
    for column in _INT_COLUMNS:
        results[column] = results[column].astype(np.int64)
    passthrough = [c for c in hh.columns if c not in HOUSEHOLD_COLUMNS and c != CATEGORY]
    table = pd.concat(
        [
            hh[[*HOUSEHOLD_COLUMNS, *passthrough]],
            results[[*HOUSEHOLD_RESULT_COLUMNS, *HOUSEHOLD_DETAIL_COLUMNS]],
        ],
        axis=1,
    )
    return in_rank_order(table, HOUSEHOLD_ID, rules.uncertainty.tie_overlap_fraction)


def _status_reasons(enough: _Array, ranked: _Array, peer_ok: _Array, peer_only: bool) -> _Array:
    """Finding key saying why each household is not ranked ("" when it is)."""
    reason = np.full(len(enough), "", dtype=object)
    peer_missing = ~peer_ok & peer_only
    reason[~enough] = FINDING_INSUFFICIENT_COVERAGE
    reason[~enough & peer_missing] = FINDING_PEER_ATTRIBUTES_MISSING
    reason[enough & ~ranked] = FINDING_ZERO_BASELINE
    return reason


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
        if reason[i] == FINDING_INSUFFICIENT_COVERAGE:
            findings.append(
                _coverage_finding(household_id, subject, base_cov[i], comp_cov[i], bool(use_peer[i]), rules)
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


def _coverage_finding(
    household_id: object, subject: str, base_cov: float, comp_cov: float, peer: bool, rules: ScoringRules
) -> Finding:
    """Why a household is not ranked for lack of data (a peer-benchmarked one has no baseline days)."""
    base_min, comp_min = rules.min_baseline_coverage_fraction, rules.min_coverage_fraction
    if peer:
        seen = f"data on {comp_cov:.0%} of the competition days so far"
        needed = f"{comp_min:.0%} are needed"
    else:
        seen = (
            f"data on {base_cov:.0%} of the baseline days and {comp_cov:.0%} of the competition days so far"
        )
        needed = (
            f"{comp_min:.0%} of each are needed"
            if base_min == comp_min
            else f"{base_min:.0%} of the baseline days and {comp_min:.0%} of the competition days are needed"
        )
    data = {
        "baseline_coverage": float(base_cov),
        "competition_coverage": float(comp_cov),
        "min_coverage": float(comp_min),
    }
    if not peer and base_min != comp_min:
        data["min_baseline_coverage"] = float(base_min)
    return Finding(
        key=FINDING_INSUFFICIENT_COVERAGE,
        detail=f"Household {household_id} is not ranked: {seen}; {needed}.",
        subject=subject,
        data=data,
    )
