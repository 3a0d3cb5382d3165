"""API shapes of the JSON API (OpenAPI is generated from these). Never ORM rows.

A domain value's fields are declared once, in ``contest.domain``: a shape that shows a domain value
(or its public part) as it is subclasses it and adds only its API name and description, and
:func:`shape` converts by field names (msgspec). Declared here is only what the API arranges
differently: periods, the scoring rules shown, the season now, city figures, paging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from contest.domain import ContestInfo, LeaderboardView, PublicHouseholdStanding, PublicTeamStanding
from contest.season import ANNOUNCED, CLOSING, FROZEN, PROVISIONAL, Season

T = TypeVar("T")


def shape(value: Any, cls: type[T]) -> T:
    """``value`` (a domain value, or a collection of them) as the API shape ``cls``: each field of the
    shape taken from the attribute of the same name, nested shapes alike."""
    return msgspec.convert(value, cls, from_attributes=True)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class ScoringRulesOut:
    baseline_method: str
    min_coverage_fraction: float
    min_team_members: int
    min_day_coverage_fraction: float
    tie_rule: str = "equal savings_fraction rounded to 0.1 percentage point share a rank (1, 2, 2, 4)"


@dataclass(frozen=True)
class SeasonOut:
    """Where the contest stands now.

    state: draft | announced | running | closing | final | archived
    provisional: the result still changes with new or late data (running, closing)
    final: the result is frozen (final, archived); later data changes no public figure
    starts_in_days: days until the first competition day (announced only)
    grace_end: last day on which late data still changes the provisional result
    reopened: staff reopened the final result for review (closing until they close it again)
    closed_at: when the result was declared final (the latest close)
    """

    state: str
    provisional: bool
    final: bool
    starts_in_days: int | None
    grace_end: dt.date
    reopened: bool
    closed_at: dt.datetime | None

    @classmethod
    def from_season(cls, s: Season, now: dt.datetime) -> SeasonOut:
        state = s.public_state(now)
        return cls(
            state=state,
            provisional=state in PROVISIONAL,
            final=state in FROZEN,
            starts_in_days=s.days_to_start(now) if state == ANNOUNCED else None,
            grace_end=s.grace_end,
            reopened=s.hold_open and state == CLOSING,
            closed_at=s.closed_at if state in FROZEN else None,
        )


@dataclass(frozen=True)
class ContestOut:
    slug: str
    name: str
    timezone: str
    carrier: str
    baseline: Period
    competition: Period
    scoring: ScoringRulesOut
    season: SeasonOut | None = None

    @classmethod
    def from_info(cls, c: ContestInfo, season: SeasonOut | None = None) -> ContestOut:
        return cls(
            slug=c.slug,
            name=c.name,
            timezone=c.timezone,
            carrier=c.carrier,
            baseline=Period(c.baseline_start, c.baseline_end),
            competition=Period(c.competition_start, c.competition_end),
            scoring=ScoringRulesOut(
                baseline_method=c.rules.scoring.method,
                min_coverage_fraction=c.rules.scoring.min_coverage_fraction,
                min_team_members=c.rules.scoring.min_team_members,
                min_day_coverage_fraction=c.rules.scoring.min_day_coverage_fraction,
            ),
            season=season,
        )


class TeamOut(PublicTeamStanding):
    """One team. savings_fraction: savings / expected consumption of its ranked members [1]."""

    __slots__ = ()


class HouseholdOut(PublicHouseholdStanding):
    """One opted-in household by pseudonym. coverage_fraction: the lower of both periods' coverage [1]."""

    __slots__ = ()


@dataclass(frozen=True)
class CityOut:
    """The contest as a whole: participants, those with enough data, energy saved so far [kWh]
    (``contest.domain.CityFigures`` with its shares)."""

    participants: int
    ranked: int
    ranked_fraction: float
    teams: int
    savings_kwh: float
    savings_fraction: float | None
    co2_saved_kg: float
    #: households whose baseline period has enough data already
    baseline_ready: int = 0


@dataclass(frozen=True)
class ProvenanceOut:
    method: str
    input_fingerprint: str
    parameters: dict[str, Any]

    @classmethod
    def from_dict(cls, p: dict[str, Any]) -> ProvenanceOut:
        return cls(
            str(p.get("method", "")), str(p.get("input_fingerprint", "")), dict(p.get("parameters", {}))
        )


@dataclass(frozen=True)
class LeaderboardOut:
    contest: ContestOut
    as_of: dt.datetime
    competition_days_elapsed: int
    city: CityOut
    teams: list[TeamOut]
    households: list[HouseholdOut]
    #: opted-in households in all (of ``category`` when given); ``households`` is the page
    #: [offset, offset + limit) of them
    households_total: int
    offset: int
    limit: int
    #: the category the households are filtered to (ordered by category_rank), or None: all households
    category: str | None = None
    #: the categories of the listed households, for ``?category=``
    categories: list[str] = field(default_factory=list)
    #: how this result was computed: the baseline method, every parameter and the sha256 fingerprint
    #: of the inputs; the same inputs give the same leaderboard (docs/scoring.md, reproducible results)
    provenance: ProvenanceOut | None = None
    #: the state of the contest's season now; ``published_state``: when this result was published
    season: SeasonOut | None = None
    published_state: str | None = None

    @classmethod
    def from_view(
        cls,
        v: LeaderboardView,
        offset: int = 0,
        limit: int = 100,
        category: str | None = None,
        season: SeasonOut | None = None,
    ) -> LeaderboardOut:
        households = v.households if category is None else v.in_category(category)
        return cls(
            contest=ContestOut.from_info(v.contest, season),
            as_of=v.as_of,
            competition_days_elapsed=v.competition_days_elapsed,
            city=shape(v.city, CityOut),
            teams=shape(v.teams, list[TeamOut]),
            households=shape(households[offset : offset + limit], list[HouseholdOut]),
            households_total=len(households),
            offset=offset,
            limit=limit,
            category=category,
            categories=list(v.categories),
            provenance=ProvenanceOut.from_dict(v.provenance) if v.provenance else None,
            season=season,
            published_state=v.contest.state,
        )


@dataclass(frozen=True)
class ErrorOut:
    status: int
    error: str
    detail: str
