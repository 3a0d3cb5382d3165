"""The contest's scoring choices as data: defaults keep the original rule, every parameter is checked when
the rules are made, and weather frames are checked where they enter scoring."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring.methods import METHOD_DEGREE_DAY, METHOD_PRIOR_PERIOD_MEAN
from scoring.rules import ScoringRules
from scoring.schema import DAY, TEMP_C, FrameSchemaError
from scoring.specs import BaselineSpec, EmissionFactors, PlausibilitySpec, UncertaintySpec
from scoring.weather import cooling_degree_days, fahrenheit_to_celsius, heating_degree_days, validate_weather

D = dt.date


def test_the_original_constructor_still_works_and_keeps_the_original_rule() -> None:
    rules = ScoringRules(
        "Europe/Berlin", D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12), 0.8, 3, 0.9
    )
    assert rules.baseline.method == METHOD_PRIOR_PERIOD_MEAN
    assert rules.min_baseline_coverage_fraction == 0.8
    assert rules.excluded_days == ()
    assert rules.team_aggregation == "ratio"
    assert rules.category_by is None
    assert rules.plausibility.rank_flagged is True  # findings only; nobody is unranked by default
    assert rules.carrier == "electricity"
    hash(rules)  # still usable as a key


def test_the_baseline_can_ask_more_coverage_than_the_competition() -> None:
    rules = ScoringRules(
        "Europe/Berlin",
        D(2023, 1, 1),
        D(2023, 12, 31),
        D(2024, 1, 8),
        D(2024, 3, 31),
        baseline=BaselineSpec(method=METHOD_DEGREE_DAY, min_baseline_coverage_fraction=0.9),
    )
    assert rules.min_baseline_coverage_fraction == 0.9
    assert rules.min_coverage_fraction == 0.8


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BaselineSpec(method="average"), "baseline method"),
        (lambda: BaselineSpec(min_baseline_coverage_fraction=0), "min_baseline_coverage_fraction"),
        (lambda: BaselineSpec(heating_balance_points_c=(15.0, 12.0)), "sorted"),
        (lambda: BaselineSpec(heating_balance_points_c=(65.0,)), "heating_balance_points_c"),
        (lambda: BaselineSpec(method=METHOD_DEGREE_DAY, heating_balance_points_c=()), "at least one"),
        (lambda: BaselineSpec(max_slope_p_value=0), "max_slope_p_value"),
        (lambda: BaselineSpec(min_nonzero_degree_days=0), "min_nonzero_degree_days"),
        (lambda: BaselineSpec(peer_fallback="yes"), "peer_fallback"),  # type: ignore[arg-type]
        (lambda: UncertaintySpec(interval_level=1.0), "interval_level"),
        (lambda: UncertaintySpec(max_autocorrelation=1.0), "max_autocorrelation"),
        (lambda: UncertaintySpec(tie_overlap_fraction=0), "tie_overlap_fraction"),
        (lambda: PlausibilitySpec(vacancy_min_days=0), "vacancy_min_days"),
        (lambda: PlausibilitySpec(high_day_iqr_factor=-1), "high_day_iqr_factor"),
        (lambda: EmissionFactors(gas_kg_per_kwh=-0.2), "gas_kg_per_kwh"),
    ],
)
def test_specs_check_themselves(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"baseline": "degree_day_regression"}, "BaselineSpec"),
        ({"excluded_days": D(2024, 1, 9)}, "excluded_days"),
        ({"excluded_days": ["2024-01-09"]}, "excluded_days"),
        ({"category_by": "age"}, "category_by"),
        ({"carrier": "coal"}, "carrier"),
    ],
)
def test_rules_check_the_new_fields(changes: dict[str, object], message: str) -> None:
    base = ScoringRules("Europe/Berlin", D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 8), D(2024, 1, 12))
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(base, **changes)


def test_emission_factor_per_carrier() -> None:
    factors = EmissionFactors()
    assert factors.for_carrier("electricity") == 0.380
    assert factors.for_carrier("gas") == 0.182  # per kWh of Brennwert (H_s)
    assert factors.for_carrier("heat") is None
    with pytest.raises(ValueError):
        factors.for_carrier("oil")


def test_validate_weather_normalizes_and_drops_days_without_a_value() -> None:
    weather = pd.DataFrame({DAY: ["2024-01-02", "2024-01-01", "2024-01-03"], TEMP_C: [1.5, "2", None]})
    checked = validate_weather(weather)
    assert list(checked[DAY]) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]
    assert list(checked[TEMP_C]) == [2.0, 1.5]
    assert str(checked[DAY].dtype) == "datetime64[us]"


@pytest.mark.parametrize(
    ("weather", "message"),
    [
        (pd.DataFrame({DAY: ["2024-01-01"]}), "temp_c"),
        (pd.DataFrame({DAY: ["2024-01-01", "2024-01-01"], TEMP_C: [1, 2]}), "more than one row"),
        (pd.DataFrame({DAY: ["2024-01-01"], TEMP_C: ["mild"]}), "numbers"),
        (pd.DataFrame({DAY: ["2024-07-01"], TEMP_C: [86.0]}), "°F"),
        (pd.DataFrame({DAY: pd.to_datetime(["2024-01-01"]).tz_localize("UTC"), TEMP_C: [1.0]}), "naive"),
    ],
)
def test_validate_weather_refuses_bad_frames(weather: pd.DataFrame, message: str) -> None:
    with pytest.raises(FrameSchemaError, match=message):
        validate_weather(weather)


def test_degree_days() -> None:
    temp = np.array([-2.0, 15.0, 20.0, 30.0])
    assert heating_degree_days(temp, 15.0).tolist() == [17.0, 0.0, 0.0, 0.0]
    assert cooling_degree_days(temp, 22.0).tolist() == [0.0, 0.0, 0.0, 8.0]
    assert heating_degree_days(temp, np.array([10.0, 20.0])).shape == (4, 2)
    assert fahrenheit_to_celsius([32.0, 212.0]).tolist() == pytest.approx([0.0, 100.0])
