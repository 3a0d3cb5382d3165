"""The rules a contest is scored by, checked once when created: the single validator of contest rules.

Everything a contest decides about scoring is data on :class:`ScoringRules` (periods, coverage thresholds,
the baseline method and its parameters, team aggregation, categories, intervals, plausibility, CO2);
a wrong value is a ``ValueError`` naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np

from scoring.localtime import require_tz
from scoring.specs import (
    CARRIERS,
    CATEGORY_RULES,
    TEAM_AGGREGATIONS,
    TEAM_RATIO,
    BaselineSpec,
    EmissionFactors,
    PlausibilitySpec,
    UncertaintySpec,
)


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
                "the baseline period must end before the competition starts (the baseline must end before "
                f"{self.competition_start}; baseline_end is {self.baseline_end})"
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
            raise ValueError(f"category_by must be one of {CATEGORY_RULES} or None, got {self.category_by!r}")
        if self.carrier not in CARRIERS:
            raise ValueError(f"carrier must be one of {CARRIERS}, got {self.carrier!r}")
        if self.baseline.uses_peer_table and self.carrier != "electricity":
            raise ValueError("the Stromspiegel peer benchmark is for electricity only")
        self.baseline.baseline_method.check_periods(self)

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


__all__ = ["ScoringRules"]
