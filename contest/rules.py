"""A contest's rules as one typed value: the contest file's ``[scoring]``, ``[co2]`` and ``[privacy]``
tables, the admin API's ``/rules`` and the contest row's ``rules`` column share this declaration.

Types, defaults, bounds and documentation live here (msgspec checks them when the value is read, and
OpenAPI shows them); :meth:`ContestRules.scoring_rules` converts the value once into
:class:`scoring.rules.ScoringRules`, the single validator of what the rules mean together (a method
name, sorted balance points, a prior-year baseline that fits the periods). Defaults are scoring's own.

A new rule: a field here (default, bounds, description) and the field in ``scoring/rules.py`` or
``scoring/specs.py`` with the scoring that uses it. The contest file, the admin API and storage (one
JSON column) follow without further changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from contest.errors import ConfigError
from scoring.methods import METHODS
from scoring.rules import ScoringRules
from scoring.specs import (
    CATEGORY_RULES,
    TEAM_AGGREGATIONS,
    BaselineSpec,
    EmissionFactors,
    PlausibilitySpec,
    UncertaintySpec,
)

#: The error key of rules that cannot be used (params: ``field``, the dotted path, and ``reason``).
KEY_RULES_INVALID = "contest.rules_invalid"

# Scoring's defaults, so each default exists once.
_RULES_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(ScoringRules)}
_BASELINE = BaselineSpec()
_UNCERTAINTY = UncertaintySpec()
_PLAUSIBILITY = PlausibilitySpec()
_CO2 = EmissionFactors()

#: a share [0..1] above 0
Fraction = Annotated[float, msgspec.Meta(gt=0, le=1)]
#: a balance-point temperature [°C]
BalancePointC = Annotated[float, msgspec.Meta(ge=-30, le=40)]
#: kg CO2 per kWh of final energy; None: unknown (no CO2 figure)
KgPerKwh = Annotated[float, msgspec.Meta(ge=0)] | None


def _doc(description: str, choices: tuple[str | None, ...] = ()) -> msgspec.Meta:
    """A described key; ``choices``: its valid values (scoring checks them, OpenAPI shows them)."""
    if choices:
        description += ": " + " | ".join("null" if c is None else c for c in choices)
    return msgspec.Meta(description=description)


class _Table(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A table of the rules: immutable (hashable, a safe default), unknown keys are refused."""


class BaselineChoices(_Table, frozen=True):
    """``[scoring.baseline]``: parameters of the baseline method (docs/scoring.md)."""

    min_baseline_coverage_fraction: Annotated[
        Fraction | None,
        _doc("share of the baseline days that need data [0..1]; null: min_coverage_fraction"),
    ] = _BASELINE.min_baseline_coverage_fraction
    heating_balance_points_c: Annotated[
        tuple[BalancePointC, ...],
        _doc("candidate heating balance points of the degree-day grid search, sorted [°C]"),
    ] = _BASELINE.heating_balance_points_c
    cooling_balance_points_c: Annotated[
        tuple[BalancePointC, ...],
        _doc("candidate cooling balance points, sorted [°C]; empty: no cooling term"),
    ] = _BASELINE.cooling_balance_points_c
    max_slope_p_value: Annotated[
        Fraction, _doc("a degree-day slope is kept only below this p-value [0..1]; 1: no test")
    ] = _BASELINE.max_slope_p_value
    min_nonzero_degree_days: Annotated[
        int, msgspec.Meta(ge=1, description="baseline days with data and degree days a slope needs [days]")
    ] = _BASELINE.min_nonzero_degree_days
    min_total_degree_days_k: Annotated[
        float, msgspec.Meta(ge=0, description="degree days in total a slope needs [K·d]")
    ] = _BASELINE.min_total_degree_days_k
    peer_fallback: Annotated[
        bool, _doc("households whose own baseline lacks data get the peer benchmark (electricity)")
    ] = _BASELINE.peer_fallback


class UncertaintyChoices(_Table, frozen=True):
    """``[scoring.uncertainty]``: intervals around savings fractions and statistical ties."""

    interval_level: Annotated[
        float, msgspec.Meta(gt=0, lt=1, description="two-sided level of the interval [0..1)")
    ] = _UNCERTAINTY.interval_level
    autocorrelation: Annotated[
        bool, _doc("widen intervals by the lag-1 autocorrelation of the baseline residuals")
    ] = _UNCERTAINTY.autocorrelation
    max_autocorrelation: Annotated[
        float, msgspec.Meta(ge=0, lt=1, description="cap of the autocorrelation [0..1)")
    ] = _UNCERTAINTY.max_autocorrelation
    tie_overlap_fraction: Annotated[
        Fraction, _doc("neighbours are tied when their intervals overlap by this share [0..1]")
    ] = _UNCERTAINTY.tie_overlap_fraction


class PlausibilityChoices(_Table, frozen=True):
    """``[scoring.plausibility]``: checks that flag days for the staff, and whether flagged households
    stay ranked."""

    enabled: Annotated[bool, _doc("run the checks at all")] = _PLAUSIBILITY.enabled
    min_baseline_days: Annotated[
        int, msgspec.Meta(ge=2, description="baseline days with data before days are judged [days]")
    ] = _PLAUSIBILITY.min_baseline_days
    high_day_iqr_factor: Annotated[
        float, msgspec.Meta(gt=0, description="a day above median + factor × IQR is flagged")
    ] = _PLAUSIBILITY.high_day_iqr_factor
    base_load_quantile: Annotated[
        float, msgspec.Meta(ge=0, le=1, description="the base load is this quantile of baseline days [0..1]")
    ] = _PLAUSIBILITY.base_load_quantile
    vacancy_base_load_fraction: Annotated[
        Fraction, _doc("days below this share of the base load count as below base load [0..1]")
    ] = _PLAUSIBILITY.vacancy_base_load_fraction
    vacancy_min_days: Annotated[
        int, msgspec.Meta(ge=1, description="a run this long below base load is a possible vacancy [days]")
    ] = _PLAUSIBILITY.vacancy_min_days
    zero_kwh_per_day: Annotated[
        float, msgspec.Meta(ge=0, description="a day at or below this counts as zero [kWh]")
    ] = _PLAUSIBILITY.zero_kwh_per_day
    zero_min_days: Annotated[
        int, msgspec.Meta(ge=1, description="zero days in a row after normal use: a sudden drop [days]")
    ] = _PLAUSIBILITY.zero_min_days
    rank_flagged: Annotated[bool, _doc("flagged households stay ranked (false: status under_review)")] = (
        _PLAUSIBILITY.rank_flagged
    )


class ScoringChoices(_Table, frozen=True):
    """``[scoring]``: the baseline method and how households and teams are ranked (docs/scoring.md)."""

    method: Annotated[str, _doc("the baseline method", METHODS)] = _BASELINE.method
    min_coverage_fraction: Annotated[
        Fraction, _doc("share of the days with data both periods need to be ranked [0..1]")
    ] = _RULES_DEFAULTS["min_coverage_fraction"]
    min_team_members: Annotated[
        int, msgspec.Meta(ge=1, description="ranked members a team needs to be ranked")
    ] = _RULES_DEFAULTS["min_team_members"]
    min_day_coverage_fraction: Annotated[
        Fraction, _doc("a day has data when readings cover at least this share of it [0..1]")
    ] = _RULES_DEFAULTS["min_day_coverage_fraction"]
    team_aggregation: Annotated[str, _doc("how members' savings make the team's", TEAM_AGGREGATIONS)] = (
        _RULES_DEFAULTS["team_aggregation"]
    )
    category_by: Annotated[
        str | None,
        _doc("own rankings per category (null: by the household's category)", (*CATEGORY_RULES, None)),
    ] = _RULES_DEFAULTS["category_by"]
    excluded_days: Annotated[
        tuple[dt.date, ...], _doc("local days left out of both periods for everyone (holidays, outages)")
    ] = ()
    baseline: BaselineChoices = msgspec.field(default_factory=BaselineChoices)
    uncertainty: UncertaintyChoices = msgspec.field(default_factory=UncertaintyChoices)
    plausibility: PlausibilityChoices = msgspec.field(default_factory=PlausibilityChoices)


class EmissionFactorChoices(_Table, frozen=True):
    """``[co2]``: CO2 per kWh of final energy per carrier [kg CO2/kWh] (sources in docs/scoring.md)."""

    electricity_kg_per_kwh: Annotated[KgPerKwh, _doc("electricity [kg CO2/kWh]")] = (
        _CO2.electricity_kg_per_kwh
    )
    gas_kg_per_kwh: Annotated[KgPerKwh, _doc("natural gas per kWh Brennwert [kg CO2/kWh]")] = (
        _CO2.gas_kg_per_kwh
    )
    heat_kg_per_kwh: Annotated[KgPerKwh, _doc("district heat of the local network [kg CO2/kWh]")] = (
        _CO2.heat_kg_per_kwh
    )


class PrivacyChoices(_Table, frozen=True):
    """``[privacy]``: what public pages leave out."""

    min_team_size_public: Annotated[
        int, msgspec.Meta(ge=1, description="a team is shown publicly only with at least this many members")
    ] = 3


#: The nested tables of ``[scoring]`` and the scoring spec each becomes.
_SPECS: dict[str, type[Any]] = {
    "baseline": BaselineSpec,
    "uncertainty": UncertaintySpec,
    "plausibility": PlausibilitySpec,
}


class ContestRules(_Table, frozen=True):
    """The rules of a contest: scoring, CO2 factors, privacy. Missing tables and keys take the defaults."""

    scoring: ScoringChoices = msgspec.field(default_factory=ScoringChoices)
    co2: EmissionFactorChoices = msgspec.field(default_factory=EmissionFactorChoices)
    privacy: PrivacyChoices = msgspec.field(default_factory=PrivacyChoices)

    def scoring_rules(
        self,
        *,
        tz: str,
        carrier: str,
        baseline_start: dt.date,
        baseline_end: dt.date,
        competition_start: dt.date,
        competition_end: dt.date,
    ) -> ScoringRules:
        """These rules with the contest's zone, carrier and periods, as scoring takes them; checked there
        (:class:`ConfigError` with scoring's reason when they do not fit together)."""
        choices = msgspec.structs.asdict(self.scoring)
        tables = {name: msgspec.structs.asdict(choices.pop(name)) for name in _SPECS}
        tables["baseline"]["method"] = choices.pop("method")
        try:
            return ScoringRules(
                tz=tz,
                carrier=carrier,
                baseline_start=baseline_start,
                baseline_end=baseline_end,
                competition_start=competition_start,
                competition_end=competition_end,
                emission_factors=EmissionFactors(**msgspec.structs.asdict(self.co2)),
                **{name: _SPECS[name](**params) for name, params in tables.items()},
                **choices,
            )
        except ValueError as exc:
            raise ConfigError(
                f"scoring settings: {exc}",
                key=KEY_RULES_INVALID,
                params={"field": "scoring", "reason": str(exc)},
            ) from exc


def rules_from_data(data: Mapping[str, Any], source: str | None = None) -> ContestRules:
    """The rules from plain data: the contest file's tables (dates as dates) or JSON (dates as ISO
    text). A value of the wrong type or out of bounds is a :class:`ConfigError` naming its field, e.g.
    ``scoring.min_coverage_fraction: Expected `float` <= 1.0``."""
    try:
        return msgspec.convert(data, ContestRules)
    except msgspec.ValidationError as exc:
        reason, _, path = str(exc).partition(" - at `$")
        field = path.rstrip("`").lstrip(".")
        where = f"{source}: " if source else ""
        message = f"{where}{field}: {reason}" if field else f"{where}contest rules: {reason}"
        raise ConfigError(message, key=KEY_RULES_INVALID, params={"field": field, "reason": reason}) from exc


def rules_from_file(doc: Mapping[str, Any], source: str | None = None) -> ContestRules:
    """The rules of a contest file (its ``[scoring]``, ``[co2]`` and ``[privacy]`` tables)."""
    return rules_from_data({k: doc[k] for k in ("scoring", "co2", "privacy") if k in doc}, source)


def rules_from_storage(data: Mapping[str, Any]) -> ContestRules:
    """The rules as stored (the contest row, a snapshot). Keys this version does not know are left out:
    a value written by a newer version with a new rule still loads after a rollback."""
    return rules_from_data(_declared(data, ContestRules))


def _declared(data: Any, table: type[msgspec.Struct]) -> Any:
    if not isinstance(data, Mapping):
        return data
    known = {}
    for field in msgspec.structs.fields(table):
        if field.encode_name in data:
            value, kind = data[field.encode_name], field.type
            nested = isinstance(kind, type) and issubclass(kind, msgspec.Struct)
            known[field.encode_name] = _declared(value, kind) if nested else value
    return known


def rules_to_data(rules: ContestRules) -> dict[str, Any]:
    """The rules as JSON-able data (dates as ISO text), every value stated: what is stored stays the
    contest's rule even when a default changes later."""
    data: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(rules))
    return data


__all__ = [
    "KEY_RULES_INVALID",
    "BaselineChoices",
    "ContestRules",
    "EmissionFactorChoices",
    "PlausibilityChoices",
    "PrivacyChoices",
    "ScoringChoices",
    "UncertaintyChoices",
    "rules_from_data",
    "rules_from_file",
    "rules_from_storage",
    "rules_to_data",
]
