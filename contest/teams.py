"""Teams of a contest: listed with their size, created, renamed, and resolved by name for a household."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.domain import TEAM_NAME_MAX_CHARS, clean_name
from contest.errors import AlreadyExists, ConfigError
from contest.lookup import contest_by_slug, team_by_id, team_named
from contest.models import Contest, Household, Team


@dataclasses.dataclass(frozen=True, slots=True)
class TeamInfo:
    """A team of a contest; households: how many households belong to it."""

    id: int
    name: str
    households: int


def team_infos(session: Session, contest_id: int) -> list[TeamInfo]:
    """The contest's teams in the order they were made, with their sizes (one query)."""
    rows = session.execute(
        select(Team.id, Team.name, func.count(Household.id))
        .outerjoin(Household, Household.team_id == Team.id)
        .where(Team.contest_id == contest_id)
        .group_by(Team.id, Team.name)
        .order_by(Team.id)
    ).all()
    return [TeamInfo(int(i), str(n), int(k)) for i, n, k in rows]


def resolve_team(session: Session, contest: Contest, name: str, *, create: bool = False) -> Team:
    """The contest's team called ``name``. An unknown name is a :class:`ConfigError` that lists the
    contest's teams, unless ``create`` says the staff mean a new team: a typo must not found one."""
    name = clean_name(name, "team", TEAM_NAME_MAX_CHARS)
    team = team_named(session, contest.id, name)
    if team is not None:
        return team
    if not create:
        known = ", ".join(repr(n) for n in sorted(t.name for t in contest.teams)) or "none yet"
        raise ConfigError(
            f"contest {contest.slug!r} has no team named {name!r}; its teams: {known}. To create a new "
            "team, say so (contest household add --create-team; admin API: create_team: true).",
            key="household.unknown_team",
            params={"team": name, "teams": known},
        )
    team = Team(contest=contest, name=name)
    session.add(team)
    return team


class TeamService:
    """A contest's teams in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, slug: str) -> list[TeamInfo]:
        return team_infos(self.session, contest_by_slug(self.session, slug).id)

    def create(self, slug: str, name: str) -> TeamInfo:
        name = clean_name(name, "team name", TEAM_NAME_MAX_CHARS)
        contest = contest_by_slug(self.session, slug)
        if team_named(self.session, contest.id, name) is not None:
            raise _taken(slug, name)
        team = Team(contest=contest, name=name)
        self.session.add(team)
        self.session.flush()
        return TeamInfo(team.id, team.name, 0)

    def rename(self, slug: str, team_id: int, name: str) -> TeamInfo:
        name = clean_name(name, "team name", TEAM_NAME_MAX_CHARS)
        contest = contest_by_slug(self.session, slug)
        team = team_by_id(self.session, contest, team_id)
        other = team_named(self.session, contest.id, name)
        if other is not None and other.id != team.id:
            raise _taken(slug, name)
        team.name = name
        self.session.flush()
        return next(t for t in team_infos(self.session, contest.id) if t.id == team.id)


def _taken(slug: str, name: str) -> AlreadyExists:
    return AlreadyExists(f"contest {slug!r} already has a team named {name!r}", params={"team": name})
