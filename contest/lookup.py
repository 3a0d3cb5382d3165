"""Rows by their names and ids: the one place that raises "not found" (every service looks up here).

A value no row can have (a NUL in a name, which PostgreSQL text cannot hold; an id beyond the integer
column) is "not found" without asking the database, which would fail the query instead of missing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.errors import ContestNotFound, HouseholdNotFound, MeterNotFound, NotFoundError
from contest.models import Absence, Contest, Household, Meter, Team

#: Largest id a row can have (PostgreSQL ``integer``); larger ids in a URL cannot exist.
MAX_ROW_ID = 2_147_483_647


def text_key(value: str) -> bool:
    """Whether ``value`` can name a stored row at all (PostgreSQL text holds no NUL)."""
    return "\x00" not in value


def row_id(value: int) -> bool:
    """Whether ``value`` can be the id of a stored row."""
    return 1 <= value <= MAX_ROW_ID


def contest_named(session: Session, slug: str) -> Contest | None:
    """The contest with this slug, or None (to tell whether a slug is free)."""
    if not text_key(slug):
        return None
    return session.scalars(select(Contest).where(Contest.slug == slug)).one_or_none()


def contest_by_slug(session: Session, slug: str, *, lock: bool = False) -> Contest:
    """The contest; ``lock``: its row locked for this transaction (PostgreSQL; a state change)."""
    query = select(Contest).where(Contest.slug == slug)
    if lock:
        query = query.with_for_update()
    contest = session.scalars(query).one_or_none() if text_key(slug) else None
    if contest is None:
        raise ContestNotFound(f"no contest with the slug {slug!r}")
    return contest


def household_by_id(session: Session, household_id: int) -> Household:
    h = session.get(Household, household_id) if row_id(household_id) else None
    if h is None:
        raise HouseholdNotFound(f"no household with id {household_id}")
    return h


def household_named(session: Session, contest_id: int, pseudonym: str) -> Household | None:
    """The contest's household called ``pseudonym``, or None (to tell whether a name is free)."""
    if not text_key(pseudonym):
        return None
    return session.scalars(
        select(Household).where(Household.contest_id == contest_id, Household.pseudonym == pseudonym)
    ).one_or_none()


def household_by_pseudonym(session: Session, slug: str, pseudonym: str) -> Household:
    h = household_named(session, contest_by_slug(session, slug).id, pseudonym)
    if h is None:
        raise HouseholdNotFound(f"contest {slug!r} has no household {pseudonym!r}")
    return h


def meter_named(session: Session, external_id: str) -> Meter | None:
    """The meter with this id, or None (to tell whether an id is free)."""
    if not text_key(external_id):
        return None
    return session.scalars(select(Meter).where(Meter.external_id == external_id)).one_or_none()


def meter_by_external_id(session: Session, external_id: str) -> Meter:
    meter = meter_named(session, external_id)
    if meter is None:
        raise MeterNotFound(f"no meter with the id {external_id!r}")
    return meter


def team_named(session: Session, contest_id: int, name: str) -> Team | None:
    """The contest's team called ``name``, or None (to tell whether a name is free)."""
    if not text_key(name):
        return None
    return session.scalars(select(Team).where(Team.contest_id == contest_id, Team.name == name)).one_or_none()


def team_by_id(session: Session, contest: Contest, team_id: int) -> Team:
    team = session.get(Team, team_id) if row_id(team_id) else None
    if team is None or team.contest_id != contest.id:
        raise NotFoundError(
            f"contest {contest.slug!r} has no team with id {team_id}", key="contest.team_not_found"
        )
    return team


def absence_of_household(session: Session, household_id: int, absence_id: int) -> Absence:
    """One of the household's own absences (another household's is "not found" too)."""
    absence = session.get(Absence, absence_id) if row_id(absence_id) else None
    if absence is None or absence.household_id != household_id:
        raise NotFoundError(
            f"no absence {absence_id} of this household",
            key="absence.not_found",
            params={"absence": absence_id},
        )
    return absence
