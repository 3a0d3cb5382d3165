"""The contest TOML: what city staff write must be checked with messages that name the field."""

from __future__ import annotations

import datetime as dt

import pytest

from contest.config import parse_contest_config
from contest.errors import ConfigError

GOOD = """
[contest]
slug = "musterstadt-2026"
name = "Energiesparwettbewerb Musterstadt 2026"
baseline = { start = 2025-10-01, end = 2026-09-30 }
competition = { start = 2026-10-01, end = 2027-03-31 }

[scoring]
min_coverage_fraction = 0.75

[gas]
brennwert_kwh_per_m3 = 11.1
zustandszahl = 0.9253

[[teams]]
name = "Nordviertel"

[[households]]
pseudonym = "Sonnenblume"
team = "Nordviertel"
persons = 3
public = true
meters = [{ id = "HH1-STROM" }, { id = "HH1-GAS", carrier = "gas", kind = "register" }]
"""


def test_a_complete_contest_file_is_read_with_defaults_filled_in() -> None:
    cfg = parse_contest_config(GOOD)
    assert cfg.slug == "musterstadt-2026"
    assert cfg.timezone == "Europe/Berlin"
    assert cfg.competition_start == dt.date(2026, 10, 1)
    assert cfg.rules.scoring.min_coverage_fraction == 0.75
    assert cfg.rules.scoring.min_team_members == 3
    assert cfg.gas.brennwert_kwh_per_m3 == 11.1
    (hh,) = cfg.households
    assert hh.public_listing and hh.persons == 3 and hh.team == "Nordviertel"
    assert [m.carrier for m in hh.meters] == ["electricity", "gas"]


def test_a_household_fact_the_file_does_not_state_is_none_not_a_default() -> None:
    """None means "the file does not say": applying the file again leaves what was set since."""
    text = GOOD.replace('team = "Nordviertel"\npersons = 3\npublic = true\n', "")
    (hh,) = parse_contest_config(text).households
    assert (hh.persons, hh.public_listing, hh.team, hh.living_area_m2) == (None, None, None, None)
    assert (hh.building_type, hh.electric_hot_water) == (None, None)
    (stated,) = parse_contest_config(GOOD.replace("public = true", "public = false")).households
    assert (stated.persons, stated.public_listing, stated.team) == (3, False, "Nordviertel")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("2025-10-01, end = 2026-09-30", "2025-10-01, end = 2026-10-05"), "baseline period must end before"),
        (('team = "Nordviertel"\npersons', 'team = "Südstadt"\npersons'), "not listed under [[teams]]"),
        (("persons = 3", "persons = 0"), "persons must be a whole number"),
        (("persons = 3", "persons = 51"), "households[1].persons must be a whole number between 1 and 50"),
        (("persons = 3", "persons = 2.5"), "persons must be a whole number"),
        (("persons = 3", "living_area_m2 = 2"), "households[1].living_area_m2 must be between 5 and"),
        (("persons = 3", 'living_area_m2 = "groß"'), "living_area_m2 must be between"),
        (("public = true", 'public = "ja"'), "households[1].public must be true or false"),
        (('team = "Nordviertel"\npersons', 'team = "Nordvirtel"\npersons'), "(teams: 'Nordviertel')"),
        (('id = "HH1-GAS"', 'id = "HH1-STROM"'), "appears twice"),
        (("[contest]", "[kontest]"), "missing [contest]"),
        (("brennwert_kwh_per_m3 = 11.1", "brennwert_kwh_per_m3 = 42"), "Brennwert"),
        (('slug = "musterstadt-2026"', 'slug = ""'), "contest.slug is required"),
        (("start = 2026-10-01", "start = 2026-13-01"), "not valid TOML"),
    ],
)
def test_mistakes_are_config_errors_that_name_the_problem(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError, match=None) as info:
        parse_contest_config(text)
    assert message in str(info.value)


# --- the contest's rules: one declaration (contest.rules), checked once by scoring --------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("min_coverage_fraction = 0.75", "min_coverage_fraction = 1.5"), "scoring.min_coverage_fraction:"),
        (
            ("min_coverage_fraction = 0.75", "min_coverage_fracton = 0.75"),
            "unknown field `min_coverage_fracton`",
        ),
        (("min_coverage_fraction = 0.75", "min_team_members = 0"), "scoring.min_team_members:"),
        (("min_coverage_fraction = 0.75", 'excluded_days = ["Weihnachten"]'), "scoring.excluded_days[0]:"),
        (("min_coverage_fraction = 0.75", "uncertainty = { interval_level = 1.0 }"), "interval_level"),
        (("[gas]", "[privacy]\nmin_team_size_public = 0\n\n[gas]"), "privacy.min_team_size_public:"),
        (("[gas]", "[co2]\nheat_kg_per_kwh = -1\n\n[gas]"), "co2.heat_kg_per_kwh:"),
        (("min_coverage_fraction = 0.75", 'method = "astrology"'), "baseline method must be one of"),
        (("min_coverage_fraction = 0.75", 'category_by = "income"'), "category_by must be one of"),
        (
            ("min_coverage_fraction = 0.75", "baseline = { heating_balance_points_c = [15.0, 12.0] }"),
            "sorted",
        ),
    ],
)
def test_a_wrong_rule_is_a_config_error_naming_its_field(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError) as info:
        parse_contest_config(text)
    assert message in str(info.value)
    assert info.value.key == "contest.rules_invalid"


def test_the_rules_take_scorings_defaults_and_convert_once_into_its_rules() -> None:
    from contest.rules import ContestRules, rules_from_data, rules_to_data
    from scoring.rules import ScoringRules

    periods = {
        "baseline_start": dt.date(2025, 10, 1),
        "baseline_end": dt.date(2026, 9, 30),
        "competition_start": dt.date(2026, 10, 1),
        "competition_end": dt.date(2027, 3, 31),
    }
    # Nothing stated: exactly scoring's own defaults.
    assert ContestRules().scoring_rules(tz="Europe/Berlin", carrier="gas", **periods) == ScoringRules(
        "Europe/Berlin", carrier="gas", **periods
    )
    cfg = parse_contest_config(
        GOOD.replace(
            "min_coverage_fraction = 0.75",
            'min_coverage_fraction = 0.75\nmethod = "prior_year_same_period"\n'
            "excluded_days = [2026-12-24]\nplausibility = { rank_flagged = false }",
        )
        + "\n[co2]\nelectricity_kg_per_kwh = 0.5\n"
    )
    rules = cfg.scoring_rules()
    assert rules.baseline.method == "prior_year_same_period"
    assert rules.excluded_days == (dt.date(2026, 12, 24),)
    assert rules.plausibility.rank_flagged is False
    assert rules.emission_factors.electricity_kg_per_kwh == 0.5
    assert rules.emission_factors.gas_kg_per_kwh == 0.182  # the default of the table's other keys
    assert rules.min_coverage_fraction == 0.75
    # Stored as JSON (dates as ISO text) and read back: the same value.
    data = rules_to_data(cfg.rules)
    assert data["scoring"]["excluded_days"] == ["2026-12-24"]
    assert rules_from_data(data) == cfg.rules
