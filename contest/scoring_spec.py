"""The contest's scoring method and parameters as data (TOML/JSON/database) -> scoring's spec objects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contest.errors import ConfigError
from scoring.specs import (
    CATEGORY_RULES,
    TEAM_AGGREGATIONS,
    BaselineSpec,
    EmissionFactors,
    PlausibilitySpec,
    UncertaintySpec,
)

_TUPLE_FIELDS = ("heating_balance_points_c", "cooling_balance_points_c")


def normalize_spec(scoring: dict[str, Any], co2: dict[str, Any] | None = None) -> dict[str, Any]:
    """Pick the scoring settings from a contest file's ``[scoring]`` and ``[co2]`` tables and check them
    by building the spec objects; returns plain JSON-able data for the database."""
    spec: dict[str, Any] = {}
    baseline = dict(scoring.get("baseline") or {})
    if "method" in scoring:
        baseline["method"] = scoring["method"]
    if baseline:
        spec["baseline"] = baseline
    for key in ("team_aggregation", "category_by"):
        if key in scoring:
            spec[key] = scoring[key]
    if "excluded_days" in scoring:
        spec["excluded_days"] = [str(d) for d in scoring["excluded_days"]]
    for key in ("uncertainty", "plausibility"):
        if key in scoring:
            spec[key] = dict(scoring[key])
    if co2:
        spec["emission_factors"] = dict(co2)
    rules_kwargs(spec)  # raises ConfigError when anything is wrong
    return spec


def rules_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``scoring.leaderboard.ScoringRules`` from the stored spec."""
    try:
        baseline = dict(spec.get("baseline") or {})
        for key in _TUPLE_FIELDS:
            if key in baseline:
                baseline[key] = tuple(float(t) for t in baseline[key])
        out: dict[str, Any] = {"baseline": BaselineSpec(**baseline)}
        if "team_aggregation" in spec:
            if spec["team_aggregation"] not in TEAM_AGGREGATIONS:
                raise ValueError(
                    f"team_aggregation must be one of {TEAM_AGGREGATIONS}, got {spec['team_aggregation']!r}"
                )
            out["team_aggregation"] = str(spec["team_aggregation"])
        if "category_by" in spec:
            if spec["category_by"] not in (None, *CATEGORY_RULES):
                raise ValueError(f"category_by must be one of {CATEGORY_RULES}, got {spec['category_by']!r}")
            out["category_by"] = spec["category_by"]
        if "excluded_days" in spec:
            out["excluded_days"] = tuple(dt.date.fromisoformat(str(d)) for d in spec["excluded_days"])
        if "uncertainty" in spec:
            out["uncertainty"] = UncertaintySpec(**spec["uncertainty"])
        if "plausibility" in spec:
            out["plausibility"] = PlausibilitySpec(**spec["plausibility"])
        if "emission_factors" in spec:
            out["emission_factors"] = EmissionFactors(**spec["emission_factors"])
        return out
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"scoring settings: {exc}") from exc
