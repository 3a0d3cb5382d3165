"""Contest scoring: household days against each household's own baseline, ranked households and teams.

Pure: frames and rules in, a :class:`Leaderboard` out; the clock is the ``as_of`` parameter.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from scoring.daily import as_local_days, plain_value
from scoring.findings import Finding
from scoring.localtime import aware_utc, local_date, require_tz
from scoring.schema import (
    ACTUAL_KWH,
    BASELINE_COVERAGE_FRACTION,
    BASELINE_DAYS,
    BASELINE_DAYS_WITH_DATA,
    BASELINE_KWH_PER_DAY,
    COMPETITION_COVERAGE_FRACTION,
    COMPETITION_DAYS,
    COMPETITION_DAYS_WITH_DATA,
    COVERAGE_FRACTION,
    DAY,
    ENERGY_KWH,
    EXPECTED_KWH,
    FINDING_INSUFFICIENT_COVERAGE,
    FINDING_INVALID_DAILY_ENERGY,
    FINDING_INVALID_PERSONS,
    FINDING_TEAM_TOO_FEW_MEMBERS,
    FINDING_UNKNOWN_HOUSEHOLD,
    FINDING_ZERO_BASELINE,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_ID,
    HOUSEHOLD_RESULT_COLUMNS,
    MEMBERS,
    PERSONS,
    RANK,
    RANKED_MEMBERS,
    SAVINGS_FRACTION,
    SAVINGS_FRACTION_DECIMALS,
    SAVINGS_KWH,
    SAVINGS_KWH_PER_PERSON,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_NOT_STARTED,
    STATUS_RANKED,
    TEAM_ID,
    TEAM_RESULT_COLUMNS,
    FrameSchemaError,
    validate_daily,
    validate_households,
)

# Thresholds are compared with this slack so a share that is exactly on the line in decimal (e.g. 4/5 of
# the days for 80 %) is not lost to binary rounding.
_THRESHOLD_TOLERANCE = 1e-9

_INT_COLUMNS = (BASELINE_DAYS, BASELINE_DAYS_WITH_DATA, COMPETITION_DAYS, COMPETITION_DAYS_WITH_DATA)
_TEAM_INT_COLUMNS = (MEMBERS, RANKED_MEMBERS)


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """How a contest is scored; checked when created (``ValueError`` with the reason).

    tz: the contest's IANA time zone, e.g. ``"Europe/Berlin"``; days are its local calendar days
    baseline_start, baseline_end: first and last local day of the baseline period (inclusive)
    competition_start, competition_end: first and last local day of the competition (inclusive); it
        starts after the baseline ends
    min_coverage_fraction: share of the period's days [0..1] that need data, in both periods, to be ranked
    min_team_members: ranked members a team needs to be ranked
    min_day_coverage_fraction: a day "has data" when readings cover at least this share of it [0..1]
    """

    tz: str
    baseline_start: dt.date
    baseline_end: dt.date
    competition_start: dt.date
    competition_end: dt.date
    min_coverage_fraction: float = 0.8
    min_team_members: int = 3
    min_day_coverage_fraction: float = 0.9

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

    @property
    def baseline_days(self) -> int:
        """Number of days in the baseline period."""
        return (self.baseline_end - self.baseline_start).days + 1

    @property
    def competition_days(self) -> int:
        """Number of days in the whole competition."""
        return (self.competition_end - self.competition_start).days + 1


@dataclass(frozen=True, slots=True, eq=False)
class Leaderboard:
    """A scored contest as of one instant (``eq=False``: frames do not compare with ``==``).

    as_of: the instant the result is as of [UTC, tz-aware]; only local days completed before it count
    rules: the rules it was scored with
    households: one row per household given, ranked or not (columns: ``HOUSEHOLD_*`` in schema),
        sorted by rank, then household_id, unranked last
    teams: one row per team (``TEAM_RESULT_COLUMNS``), sorted the same way
    findings: data-quality findings of the scoring
    """

    as_of: pd.Timestamp
    rules: ScoringRules
    households: pd.DataFrame
    teams: pd.DataFrame
    findings: tuple[Finding, ...]


def shown_savings_fraction(fraction: float) -> float:
    """The savings fraction as the leaderboard shows it: rounded to 0.1 percentage point.

    Ranks compare these values, so two entries shown with the same percentage share a rank. Show it as
    ``f"{shown_savings_fraction(f) * 100:.1f} %"``. NaN stays NaN.
    """
    if fraction is None or math.isnan(fraction):
        return math.nan
    return round(float(fraction), SAVINGS_FRACTION_DECIMALS)


def score_contest(
    daily: pd.DataFrame, households: pd.DataFrame, rules: ScoringRules, as_of: pd.Timestamp | dt.datetime
) -> Leaderboard:
    """Score households and teams against their own baseline, as of an instant.

    daily: household days (household_id, day [local, naive], energy_kwh [kWh], coverage_fraction
        [0..1]), e.g. from :func:`scoring.daily.household_daily`; any order; rows of households not in
        ``households`` are ignored (finding ``scoring.unknown_household``)
    households: household_id (unique), team_id (may be missing: no team), persons (integer >= 1);
        any further columns (pseudonym, public, ...) are passed through unchanged
    rules: the contest's :class:`ScoringRules`
    as_of: the instant to score as of [tz-aware]; only local days completed before it count, in both
        periods (a naive value is a ``ValueError``)

    Per household: baseline_kwh_per_day [kWh/day] is the mean over baseline days with data; over the
    competition days so far that have data, expected_kwh = baseline_kwh_per_day x their number,
    actual_kwh their sum, savings_kwh = expected - actual [kWh], savings_fraction = savings / expected,
    savings_kwh_per_person = savings / persons [kWh]. A day without data is left out of both expected
    and actual. Ranked when both coverages reach ``min_coverage_fraction`` and expected > 0.
    Teams: sums over their ranked members; ranked with at least ``min_team_members`` ranked members.
    Ranks: by savings fraction rounded to 0.1 percentage point, highest first; equal shown values share
    the rank (1, 2, 2, 4).

    returns: a :class:`Leaderboard`
    """
    as_of_utc = aware_utc(as_of, "as_of")
    validate_daily(daily)
    validate_households(households)
    _check_households(households)
    findings: list[Finding] = []

    last_complete = local_date(as_of_utc, rules.tz) - dt.timedelta(days=1)
    base_first, base_last = rules.baseline_start, min(rules.baseline_end, last_complete)
    comp_first, comp_last = rules.competition_start, min(rules.competition_end, last_complete)
    base_days = max(0, (base_last - base_first).days + 1)
    comp_days = max(0, (comp_last - comp_first).days + 1)
    started = comp_days > 0

    # Work in household_id order so float sums and findings do not depend on the order rows came in.
    hh = households.sort_values(HOUSEHOLD_ID, kind="stable").reset_index(drop=True)
    ids = pd.Index(hh[HOUSEHOLD_ID])
    totals = _period_totals(daily, ids, rules, (base_first, base_last), (comp_first, comp_last), findings)

    base_n = totals["base_n"].to_numpy(dtype=np.int64)
    base_kwh = totals["base_kwh"].to_numpy(dtype=np.float64)
    comp_n = totals["comp_n"].to_numpy(dtype=np.int64)
    comp_kwh = totals["comp_kwh"].to_numpy(dtype=np.float64)
    persons, persons_ok = _persons(hh, findings)

    with np.errstate(invalid="ignore", divide="ignore"):
        baseline = np.where(base_n > 0, base_kwh / np.maximum(base_n, 1), np.nan)
        base_cov = base_n / base_days if base_days else np.full(len(hh), np.nan)
        if started:
            comp_cov = comp_n / comp_days
            expected = baseline * comp_n
            actual = comp_kwh
            savings = expected - actual
            fraction = np.where(expected > 0, savings / np.where(expected > 0, expected, 1.0), np.nan)
            per_person = np.where(persons_ok, savings / np.where(persons_ok, persons, 1.0), np.nan)
        else:
            comp_cov = np.full(len(hh), np.nan)
            expected = actual = savings = fraction = per_person = np.full(len(hh), np.nan)

    if started:
        enough = _at_least(base_cov, rules.min_coverage_fraction) & _at_least(
            comp_cov, rules.min_coverage_fraction
        )
        ranked = enough & (expected > 0)
        status = np.where(ranked, STATUS_RANKED, STATUS_INSUFFICIENT_DATA)
        findings += _household_findings(ids, enough, ranked, base_cov, comp_cov, base_n, rules)
    else:
        ranked = np.zeros(len(hh), dtype=bool)
        status = np.full(len(hh), STATUS_NOT_STARTED)

    results = pd.DataFrame(
        {
            BASELINE_KWH_PER_DAY: baseline,
            BASELINE_DAYS: np.full(len(hh), base_days, dtype=np.int64),
            BASELINE_DAYS_WITH_DATA: base_n,
            BASELINE_COVERAGE_FRACTION: base_cov,
            COMPETITION_DAYS: np.full(len(hh), comp_days, dtype=np.int64),
            COMPETITION_DAYS_WITH_DATA: comp_n,
            COMPETITION_COVERAGE_FRACTION: comp_cov,
            EXPECTED_KWH: expected,
            ACTUAL_KWH: actual,
            SAVINGS_KWH: savings,
            SAVINGS_FRACTION: fraction,
            SAVINGS_KWH_PER_PERSON: per_person,
            STATUS: pd.array(status, dtype="str"),
            RANK: _ranks(pd.Series(fraction), ranked),
        }
    )
    passthrough = [c for c in hh.columns if c not in HOUSEHOLD_COLUMNS]
    household_out = pd.concat([hh[[*HOUSEHOLD_COLUMNS, *passthrough]], results], axis=1).sort_values(
        [RANK, HOUSEHOLD_ID], na_position="last", kind="stable"
    )

    teams_out = _teams(hh, results, ranked, persons, persons_ok, started, rules, findings)
    return Leaderboard(
        as_of=as_of_utc,
        rules=rules,
        households=household_out.reset_index(drop=True),
        teams=teams_out,
        findings=tuple(findings),
    )


# --- internals ----------------------------------------------------------------------------------


def _check_households(households: pd.DataFrame) -> None:
    clash = [c for c in households.columns if c in HOUSEHOLD_RESULT_COLUMNS]
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


def _at_least(values: np.ndarray[Any, Any], threshold: float) -> np.ndarray[Any, Any]:
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold - _THRESHOLD_TOLERANCE, dtype=bool)


def _period_totals(
    daily: pd.DataFrame,
    ids: pd.Index,
    rules: ScoringRules,
    baseline: tuple[dt.date, dt.date],
    competition: tuple[dt.date, dt.date],
    findings: list[Finding],
) -> pd.DataFrame:
    """Per household (in ``ids`` order): days with data and their energy, in each period so far."""
    days = pd.DataFrame(
        {
            HOUSEHOLD_ID: daily[HOUSEHOLD_ID].to_numpy(),
            DAY: as_local_days(daily[DAY], "daily").to_numpy(),
            ENERGY_KWH: pd.to_numeric(daily[ENERGY_KWH], errors="coerce").to_numpy(dtype=np.float64),
            COVERAGE_FRACTION: pd.to_numeric(daily[COVERAGE_FRACTION], errors="coerce").to_numpy(
                dtype=np.float64
            ),
        }
    )
    known = days[HOUSEHOLD_ID].isin(ids)
    if not known.all():
        findings.append(_unknown_households_finding(days.loc[~known, HOUSEHOLD_ID]))
    days = days[known]

    in_baseline = _between(days[DAY], baseline)
    in_competition = _between(days[DAY], competition)
    days = days[in_baseline | in_competition]
    # Several rows for one household day (e.g. given per meter) add up like household_daily does;
    # sorting first keeps float sums independent of the order rows came in.
    days = days.sort_values([HOUSEHOLD_ID, DAY, ENERGY_KWH, COVERAGE_FRACTION], kind="stable")
    if days[[HOUSEHOLD_ID, DAY]].duplicated().any():
        days = days.assign(energy_missing=days[ENERGY_KWH].isna().astype(np.int64))
        days = days.groupby([HOUSEHOLD_ID, DAY], sort=True, as_index=False)[
            [ENERGY_KWH, COVERAGE_FRACTION, "energy_missing"]
        ].sum()
        days.loc[days["energy_missing"] > 0, ENERGY_KWH] = np.nan

    covered = _at_least(days[COVERAGE_FRACTION].to_numpy(), rules.min_day_coverage_fraction)
    energy = days[ENERGY_KWH].to_numpy(dtype=np.float64)
    energy_ok = np.isfinite(energy) & (energy >= 0)
    bad_energy = covered & ~energy_ok
    if bad_energy.any():
        findings += _invalid_energy_findings(days.loc[bad_energy])
    has_data = covered & energy_ok
    in_base = has_data & _between(days[DAY], baseline).to_numpy()
    in_comp = has_data & _between(days[DAY], competition).to_numpy()
    per_day = pd.DataFrame(
        {
            HOUSEHOLD_ID: days[HOUSEHOLD_ID].to_numpy(),
            "base_n": in_base.astype(np.int64),
            "base_kwh": np.where(in_base, energy, 0.0),
            "comp_n": in_comp.astype(np.int64),
            "comp_kwh": np.where(in_comp, energy, 0.0),
        }
    )
    totals = per_day.groupby(HOUSEHOLD_ID, sort=True).sum()
    return totals.reindex(ids, fill_value=0)


def _between(days: pd.Series, period: tuple[dt.date, dt.date]) -> pd.Series:
    first, last = period
    return (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))


def _persons(hh: pd.DataFrame, findings: list[Finding]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
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


def _ranks(fraction: pd.Series, ranked: np.ndarray[Any, Any]) -> pd.Series:
    """Ranks of the ranked entries by shown savings fraction, highest first; ties share the lowest rank."""
    shown = fraction.where(pd.Series(ranked, index=fraction.index)).map(shown_savings_fraction)
    return shown.rank(method="min", ascending=False).astype("Int64")


def _household_findings(
    ids: pd.Index,
    enough: np.ndarray[Any, Any],
    ranked: np.ndarray[Any, Any],
    base_cov: np.ndarray[Any, Any],
    comp_cov: np.ndarray[Any, Any],
    base_n: np.ndarray[Any, Any],
    rules: ScoringRules,
) -> list[Finding]:
    findings = []
    for i in np.flatnonzero(~ranked):
        household_id = plain_value(ids[i])
        if not enough[i]:
            findings.append(
                Finding(
                    key=FINDING_INSUFFICIENT_COVERAGE,
                    detail=(
                        f"Household {household_id} is not ranked: data on {base_cov[i]:.0%} of the baseline "
                        f"days and {comp_cov[i]:.0%} of the competition days so far; "
                        f"{rules.min_coverage_fraction:.0%} of each are needed."
                    ),
                    subject=f"household:{household_id}",
                    data={
                        "baseline_coverage": float(base_cov[i]),
                        "competition_coverage": float(comp_cov[i]),
                        "min_coverage": float(rules.min_coverage_fraction),
                    },
                )
            )
        else:
            findings.append(
                Finding(
                    key=FINDING_ZERO_BASELINE,
                    detail=(
                        f"Household {household_id} is not ranked: its baseline consumption is 0 kWh per day, "
                        "so savings cannot be given as a share of it."
                    ),
                    subject=f"household:{household_id}",
                    data={"baseline_days_with_data": int(base_n[i])},
                )
            )
    return findings


def _teams(
    hh: pd.DataFrame,
    results: pd.DataFrame,
    ranked: np.ndarray[Any, Any],
    persons: np.ndarray[Any, Any],
    persons_ok: np.ndarray[Any, Any],
    started: bool,
    rules: ScoringRules,
    findings: list[Finding],
) -> pd.DataFrame:
    """One row per team: sums over its ranked members, its status and rank."""
    in_team = hh[TEAM_ID].notna().to_numpy()
    members = pd.DataFrame(
        {
            TEAM_ID: hh[TEAM_ID].to_numpy()[in_team],
            MEMBERS: np.ones(int(in_team.sum()), dtype=np.int64),
            RANKED_MEMBERS: ranked[in_team].astype(np.int64),
            EXPECTED_KWH: np.where(ranked, results[EXPECTED_KWH], np.nan)[in_team],
            ACTUAL_KWH: np.where(ranked, results[ACTUAL_KWH], np.nan)[in_team],
            SAVINGS_KWH: np.where(ranked, results[SAVINGS_KWH], np.nan)[in_team],
            "persons": np.where(ranked, persons, np.nan)[in_team],
            "persons_missing": (ranked & ~persons_ok)[in_team].astype(np.int64),
        }
    )
    grouped = members.groupby(TEAM_ID, sort=True)
    sums = grouped[[MEMBERS, RANKED_MEMBERS, "persons_missing"]].sum()
    for column in (EXPECTED_KWH, ACTUAL_KWH, SAVINGS_KWH, "persons"):
        sums[column] = grouped[column].sum(min_count=1)
    teams = sums.reset_index()
    teams[TEAM_ID] = teams[TEAM_ID].astype(hh[TEAM_ID].dtype)

    expected = teams[EXPECTED_KWH].to_numpy(dtype=np.float64)
    savings = teams[SAVINGS_KWH].to_numpy(dtype=np.float64)
    team_persons = np.where(teams["persons_missing"] > 0, np.nan, teams["persons"].to_numpy(dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        teams[SAVINGS_FRACTION] = np.where(expected > 0, savings / expected, np.nan)
        teams[SAVINGS_KWH_PER_PERSON] = savings / team_persons
    if started:
        team_ranked = teams[RANKED_MEMBERS].to_numpy() >= rules.min_team_members
        status = np.where(team_ranked, STATUS_RANKED, STATUS_INSUFFICIENT_DATA)
        for i in np.flatnonzero(~team_ranked):
            team_id = plain_value(teams[TEAM_ID].iloc[i])
            n_ranked = int(teams[RANKED_MEMBERS].iloc[i])
            findings.append(
                Finding(
                    key=FINDING_TEAM_TOO_FEW_MEMBERS,
                    detail=(
                        f"Team {team_id} is not ranked: {n_ranked} of its {int(teams[MEMBERS].iloc[i])} "
                        f"households are ranked, {rules.min_team_members} are needed."
                    ),
                    subject=f"team:{team_id}",
                    data={"ranked_members": n_ranked, "min_team_members": rules.min_team_members},
                )
            )
    else:
        team_ranked = np.zeros(len(teams), dtype=bool)
        status = np.full(len(teams), STATUS_NOT_STARTED)
        for column in (EXPECTED_KWH, ACTUAL_KWH, SAVINGS_KWH, SAVINGS_FRACTION, SAVINGS_KWH_PER_PERSON):
            teams[column] = np.nan
    teams[STATUS] = pd.array(status, dtype="str")
    teams[RANK] = _ranks(teams[SAVINGS_FRACTION], team_ranked)
    for column in _TEAM_INT_COLUMNS:
        teams[column] = teams[column].astype(np.int64)
    for column in (EXPECTED_KWH, ACTUAL_KWH, SAVINGS_KWH, SAVINGS_FRACTION, SAVINGS_KWH_PER_PERSON):
        teams[column] = teams[column].astype(np.float64)
    teams = teams[list(TEAM_RESULT_COLUMNS)]
    return teams.sort_values([RANK, TEAM_ID], na_position="last", kind="stable").reset_index(drop=True)


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
