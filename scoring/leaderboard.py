"""Contest scoring: household days against each household's baseline, ranked households and teams.

Pure: frames and rules in, a :class:`Leaderboard` out; the clock is the ``as_of`` parameter. The baseline
method and every parameter are data on :class:`ScoringRules`; the defaults are the original rule (mean of
the prior period). The steps live in their own modules: the day matrix (:mod:`scoring.days`), the
baseline methods (:mod:`scoring.methods`, fitted in :mod:`scoring.expected`), the households
(:mod:`scoring.households`), the teams (:mod:`scoring.teams`), ranks (:mod:`scoring.ranking`) and the
city's figures (:mod:`scoring.city`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scoring.city import CityFigures, city_figures
from scoring.days import DayAxis, day_matrix
from scoring.expected import fit_baselines
from scoring.findings import Finding
from scoring.fingerprint import fingerprint, frame_bytes
from scoring.households import (
    check_households,
    household_sizes,
    household_table,
    score_households,
    with_enough_baseline_data,
)
from scoring.localtime import aware_utc, local_date
from scoring.methods import METHOD_PRIOR_PERIOD_MEAN
from scoring.rules import ScoringRules
from scoring.schema import HOUSEHOLD_ID, FrameSchemaError, validate_daily, validate_households
from scoring.stromspiegel import StromspiegelTable, load_stromspiegel
from scoring.teams import team_table
from scoring.weather import validate_weather


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
    absences: household_id, day: declared absent days (see :func:`scoring.days.expand_absence_ranges`);
        they drop out of both periods for that household, like ``rules.excluded_days`` for everyone
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
    check_households(households)
    spec = rules.baseline
    method = spec.baseline_method
    weather_frame = validate_weather(weather) if weather is not None else None
    if method.needs_weather and weather_frame is None:
        raise FrameSchemaError(
            f"the {spec.method} method needs a weather frame (day, temp_c [°C]); none was given"
        )
    if spec.uses_peer_table and peer_table is None:
        peer_table = load_stromspiegel()
    findings: list[Finding] = []

    last_complete = local_date(as_of_utc, rules.tz) - dt.timedelta(days=1)
    comp_first, comp_last = rules.competition_start, min(rules.competition_end, last_complete)
    base_first, base_last = method.window(rules, comp_first, comp_last, last_complete)
    started = comp_last >= comp_first

    # Work in household_id order so float sums and findings do not depend on the order rows came in.
    hh = households.sort_values(HOUSEHOLD_ID, kind="stable").reset_index(drop=True)
    ids = pd.Index(hh[HOUSEHOLD_ID])
    matrix = day_matrix(
        daily,
        ids,
        DayAxis(base_first, base_last, comp_first, comp_last),
        min_day_coverage_fraction=rules.min_day_coverage_fraction,
        excluded_days=rules.excluded_days,
        weather=weather_frame,
        needs_weather=method.needs_weather,
        absences=absences,
        findings=findings,
    )
    fingerprint_parts = [("households", frame_bytes(hh, [HOUSEHOLD_ID])), *matrix.fingerprint_parts]
    sizes = household_sizes(hh, findings)
    baseline_enough = with_enough_baseline_data(matrix, rules)
    baselines = fit_baselines(spec, matrix.baseline, baseline_enough, hh, peer_table, findings)
    parameters = rules.parameters()
    if baselines.peer is not None and peer_table is not None:
        fingerprint_parts.append(("peer_table", peer_table.sha256.encode("ascii")))
        parameters["peer_table"] = {
            "edition": peer_table.edition,
            "verified": peer_table.verified,
            "sha256": peer_table.sha256,
        }

    figures = score_households(ids, matrix, baselines, sizes, baseline_enough, rules, started, findings)
    household_out = household_table(hh, matrix, baselines, figures, rules)
    teams_out = team_table(hh, figures, rules, findings)
    return Leaderboard(
        as_of=as_of_utc,
        rules=rules,
        households=household_out,
        teams=teams_out,
        findings=tuple(findings),
        method=spec.method,
        parameters=parameters,
        input_fingerprint=fingerprint(fingerprint_parts),
        city_figures=city_figures(figures, teams_out),
        baseline_models=baselines.describe(hh[HOUSEHOLD_ID]),
    )


__all__ = ["Leaderboard", "score_contest"]
