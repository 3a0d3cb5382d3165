"""The teams of a score run: figures over their ranked members (``team_aggregation``), status, rank and
interval."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.daily import plain_value
from scoring.findings import Finding
from scoring.households import HouseholdFigures
from scoring.ranking import in_rank_order, ranks
from scoring.rules import ScoringRules
from scoring.schema import (
    ACTUAL_KWH,
    CO2_SAVED_KG,
    EXPECTED_KWH,
    FINDING_TEAM_TOO_FEW_MEMBERS,
    MEMBERS,
    RANK,
    RANKED_MEMBERS,
    SAVINGS_FRACTION,
    SAVINGS_FRACTION_HIGH,
    SAVINGS_FRACTION_LOW,
    SAVINGS_KWH,
    SAVINGS_KWH_PER_M2,
    SAVINGS_KWH_PER_PERSON,
    STATUS,
    STATUS_INSUFFICIENT_DATA,
    STATUS_NOT_STARTED,
    STATUS_RANKED,
    TEAM_DETAIL_COLUMNS,
    TEAM_ID,
    TEAM_RESULT_COLUMNS,
)
from scoring.specs import TEAM_MEAN, TEAM_MEDIAN, TEAM_RATIO
from scoring.uncertainty import MEDIAN_SE_FACTOR

_Array = np.ndarray[Any, Any]
_F64 = npt.NDArray[np.float64]
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


def team_table(
    hh: pd.DataFrame, m: HouseholdFigures, rules: ScoringRules, findings: list[Finding]
) -> pd.DataFrame:
    """One row per team (``TEAM_RESULT_COLUMNS``, ``TEAM_DETAIL_COLUMNS``) in leaderboard order.

    hh: the households in household_id order, as ``m``'s arrays
    """
    in_team = hh[TEAM_ID].notna().to_numpy()
    code, team_ids = pd.factorize(hh[TEAM_ID].to_numpy()[in_team], sort=True)
    n_teams = len(team_ids)
    ranked = m.ranked[in_team]
    sizes, z = m.sizes, m.z

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
    persons = np.where(count(ranked & ~sizes.persons_ok[in_team]) > 0, np.nan, total(sizes.persons))
    area = np.where(count(ranked & ~sizes.area_ok[in_team]) > 0, np.nan, total(sizes.area))
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
    if m.started:
        team_ranked = (ranked_members >= rules.min_team_members) & np.isfinite(fraction)
        status = np.where(team_ranked, STATUS_RANKED, STATUS_INSUFFICIENT_DATA)
        findings += _too_few_members_findings(teams, team_ranked, ranked_members, members, rules)
    else:
        team_ranked = np.zeros(n_teams, dtype=bool)
        status = np.full(n_teams, STATUS_NOT_STARTED)
        for column in _TEAM_FLOAT_COLUMNS:
            teams[column] = np.nan
    teams[STATUS] = pd.array(status, dtype="str")
    teams[RANK] = ranks(teams[SAVINGS_FRACTION], team_ranked)
    for column in _TEAM_INT_COLUMNS:
        teams[column] = teams[column].astype(np.int64)
    for column in _TEAM_FLOAT_COLUMNS:
        teams[column] = teams[column].astype(np.float64)
    teams = in_rank_order(teams, TEAM_ID, rules.uncertainty.tie_overlap_fraction)
    return teams[[*TEAM_RESULT_COLUMNS, *TEAM_DETAIL_COLUMNS]]


def _too_few_members_findings(
    teams: pd.DataFrame,
    team_ranked: npt.NDArray[np.bool_],
    ranked_members: npt.NDArray[np.int64],
    members: npt.NDArray[np.int64],
    rules: ScoringRules,
) -> list[Finding]:
    findings = []
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
    return findings
