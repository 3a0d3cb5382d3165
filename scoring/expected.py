"""What each household was expected to use: the contest's baseline method fitted for every household.

The method's row (:mod:`scoring.methods`) gives the model of the household's own baseline days; the peer
benchmark (the method itself, or the fallback for households whose own baseline lacks data) scores
households against the Stromspiegel table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scoring.baselines import DAYS_PER_YEAR, BaselineModel, PeerBenchmarkModel
from scoring.dayblock import DayBlock
from scoring.findings import Finding
from scoring.methods import METHOD_PEER_BENCHMARK
from scoring.schema import (
    BASELINE_METHOD,
    BASELINE_MODEL_COLUMNS,
    BUILDING_TYPE,
    ELECTRIC_HOT_WATER,
    FINDING_PEER_TABLE_UNVERIFIED,
    HOUSEHOLD_ID,
    PERSONS,
)
from scoring.specs import BaselineSpec, UncertaintySpec
from scoring.stromspiegel import StromspiegelTable
from scoring.uncertainty import savings_variance_kwh2

_Array = np.ndarray[Any, Any]
_F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class HouseholdBaselines:
    """The fitted baseline of every household (arrays in household_id order).

    own: the method's model fitted on the households' own baseline days; None for the peer benchmark
    peer: the peer benchmark, when the method or its fallback uses it
    peer_only: the method is the peer benchmark (every household is scored against it)
    use_peer: households scored against the peer benchmark
    peer_ok: households the peer table has a row for
    baseline_kwh_per_day: the baseline level [kWh/day]: the mean of the baseline days with data, the
        peer benchmark's for households scored against it
    residual_sd_kwh: spread of the own model's daily residuals [kWh/day]; NaN for peer households
    method_used: the method each household is scored with
    """

    own: BaselineModel | None
    peer: PeerBenchmarkModel | None
    peer_only: bool
    use_peer: npt.NDArray[np.bool_]
    peer_ok: npt.NDArray[np.bool_]
    baseline_kwh_per_day: _F64
    residual_sd_kwh: _F64
    method_used: _Array

    def expected_kwh(self, competition: DayBlock) -> _F64:
        """What each household was expected to use on its competition days with data [kWh]."""
        nan = np.full(len(self.use_peer), np.nan)
        expected_own = self.own.expected_kwh(competition) if self.own is not None else nan
        expected_peer = self.peer.expected_kwh(competition) if self.peer is not None else nan
        return np.asarray(np.where(self.use_peer, expected_peer, expected_own), dtype=np.float64)

    def savings_variance_kwh2(self, competition: DayBlock, spec: UncertaintySpec, z: float) -> _F64:
        """Variance of each household's savings [kWh²] (:mod:`scoring.uncertainty`); for peer households
        the peer band (classes C to E) stands in for the interval of level ``z``."""
        days = competition.days_with_data
        own = self.own
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            variance = (
                savings_variance_kwh2(
                    own.residual_sd_kwh, own.residual_autocorrelation, own.fit_days, days, spec
                )
                if own is not None
                else np.full(len(self.use_peer), np.nan)
            )
            if self.peer is not None:
                band_low, band_high = self.peer.band_kwh_per_day
                peer_half = (band_high - band_low) / 2 * days
                variance = np.where(self.use_peer, (peer_half / z) ** 2, variance)
        return np.asarray(variance, dtype=np.float64)

    def describe(self, household_ids: pd.Series) -> pd.DataFrame:
        """One row per household (``BASELINE_MODEL_COLUMNS``): the model it is scored with and its
        parameters."""
        if self.own is not None:
            models = self.own.describe()
        else:
            assert self.peer is not None
            models = self.peer.describe()
        if self.peer is not None and self.own is not None and self.use_peer.any():
            models = models.copy()
            models.loc[self.use_peer] = self.peer.describe().loc[self.use_peer]
        models.insert(0, BASELINE_METHOD, pd.array(self.method_used, dtype="str"))
        models.insert(0, HOUSEHOLD_ID, household_ids.to_numpy())
        return models[list(BASELINE_MODEL_COLUMNS)].reset_index(drop=True)


def fit_baselines(
    spec: BaselineSpec,
    baseline: DayBlock,
    baseline_enough: npt.NDArray[np.bool_],
    households: pd.DataFrame,
    peer_table: StromspiegelTable | None,
    findings: list[Finding],
) -> HouseholdBaselines:
    """Fit the contest's baseline for every household.

    baseline: the households' baseline days (rows in the order of ``households``)
    baseline_enough: households whose baseline days have enough data (others may fall back to the peer
        benchmark when ``spec.peer_fallback``)
    households: persons, and building_type / electric_hot_water when given, for the peer benchmark
    peer_table: the Stromspiegel edition; needed when ``spec.uses_peer_table``
    """
    method = spec.baseline_method
    n = len(households)
    own = method.model(spec).fit(baseline) if method.model is not None else None
    peer = None
    if spec.uses_peer_table:
        if peer_table is None:
            raise ValueError(
                f"the {spec.method} method with peer_fallback={spec.peer_fallback} needs a peer table"
            )
        peer = PeerBenchmarkModel(
            peer_table,
            households[PERSONS].to_numpy(),
            _column_or_none(households, BUILDING_TYPE),
            _column_or_none(households, ELECTRIC_HOT_WATER),
        ).fit(baseline)
    peer_ok = peer.available if peer is not None else np.zeros(n, dtype=bool)
    if method.needs_peer_table:
        use_peer = np.ones(n, dtype=bool)
    else:
        use_peer = (~baseline_enough & peer_ok) if spec.peer_fallback else np.zeros(n, dtype=bool)
    if peer is not None and use_peer.any() and peer_table is not None and not peer_table.verified:
        findings.append(_unverified_table_finding(peer_table, int(use_peer.sum())))

    nan = np.full(n, np.nan)
    per_day = _baseline_mean(baseline) if own is not None else nan
    if peer is not None:
        per_day = np.where(use_peer, peer.kwh_per_year / DAYS_PER_YEAR, per_day)
    residual_sd = own.residual_sd_kwh if own is not None else nan
    return HouseholdBaselines(
        own=own,
        peer=peer,
        peer_only=method.needs_peer_table,
        use_peer=use_peer,
        peer_ok=peer_ok,
        baseline_kwh_per_day=per_day,
        residual_sd_kwh=np.where(use_peer, np.nan, residual_sd),
        method_used=np.where(use_peer, METHOD_PEER_BENCHMARK, spec.method),
    )


def _baseline_mean(base: DayBlock) -> _F64:
    n = base.days_with_data
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(n > 0, base.total_kwh / np.maximum(n, 1), np.nan), dtype=np.float64)


def _column_or_none(frame: pd.DataFrame, column: str) -> _Array:
    if column in frame.columns:
        values: _Array = frame[column].to_numpy(dtype=object)
        return values
    return np.full(len(frame), None, dtype=object)


def _unverified_table_finding(table: StromspiegelTable, households: int) -> Finding:
    return Finding(
        key=FINDING_PEER_TABLE_UNVERIFIED,
        detail=(
            f"{households} household(s) are scored against the Stromspiegel {table.edition} table, whose numbers "
            "have not been checked against the publication; check them before publishing results."
        ),
        data={"edition": table.edition, "source": table.source, "households": households},
    )
