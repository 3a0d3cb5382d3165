"""A contest's season: the states it passes through, what moves it (the clock or staff), and the log of
every change. Draft -> announced -> running -> closing -> final -> archived.

The clock moves a contest between announced, running and closing by its dates, and to final at the end
of its grace period (the close itself, a frozen final leaderboard, is done by ``contest.publishing``).
Draft, final and archived never change by the clock: staff announce a draft, close early, reopen a
final result (with a reason) and archive it. Every change is a row of ``contest_event``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from contest.db import Database
from contest.errors import ConfigError
from contest.lookup import contest_by_slug
from contest.models import Contest, ContestEvent, Household, ImportBatch, Meter

DRAFT, ANNOUNCED, RUNNING, CLOSING, FINAL, ARCHIVED = (
    "draft",
    "announced",
    "running",
    "closing",
    "final",
    "archived",
)
STATES = (DRAFT, ANNOUNCED, RUNNING, CLOSING, FINAL, ARCHIVED)
#: states whose result is frozen: publications store nothing new, late data changes nothing public
FROZEN = (FINAL, ARCHIVED)
#: states whose result is provisional: it still changes with new or late data (staff may close it)
PROVISIONAL = (RUNNING, CLOSING)
#: grace period for late data after the last competition day [days]
DEFAULT_GRACE_DAYS = 14
GRACE_DAYS_RANGE = (0, 366)
#: the actor of changes the clock makes (scheduler or any publication that notices them)
CLOCK = "clock"


def due_state(
    stored: str,
    *,
    today: dt.date,
    competition_start: dt.date,
    competition_end: dt.date,
    grace_days: int,
    hold_open: bool = False,
) -> str:
    """The state a contest is in on ``today`` (a local day of its zone), given its recorded state.

    Draft, final and archived are staff's decisions and stay. Otherwise the dates decide: announced
    before the first competition day, running up to the last, closing during the grace period (and
    for as long as staff hold a reopened contest open), final after it.
    """
    if stored in (DRAFT, FINAL, ARCHIVED):
        return stored
    if today < competition_start:
        return ANNOUNCED
    if today <= competition_end:
        return RUNNING
    if hold_open or today <= competition_end + dt.timedelta(days=grace_days):
        return CLOSING
    return FINAL


@dataclass(frozen=True, slots=True)
class Season:
    """Where a contest stands in its season.

    state: as last recorded; ``state_at(now)`` is what the clock says now (pages show that)
    grace_days: days after ``competition_end`` in which late data still counts [days]
    hold_open: reopened by staff: closing until staff close it again
    """

    contest_id: int
    slug: str
    name: str
    timezone: str
    state: str
    baseline_start: dt.date
    baseline_end: dt.date
    competition_start: dt.date
    competition_end: dt.date
    grace_days: int
    hold_open: bool
    closed_at: dt.datetime | None
    last_published_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def state_at(self, now: dt.datetime) -> str:
        return due_state(
            self.state,
            today=self.today(now),
            competition_start=self.competition_start,
            competition_end=self.competition_end,
            grace_days=self.grace_days,
            hold_open=self.hold_open,
        )

    def public_state(self, now: dt.datetime) -> str:
        """The state pages show: the clock's, except that a result is final only once its final
        leaderboard is published (until then it is closing, provisional)."""
        state = self.state_at(now)
        return CLOSING if state == FINAL and self.state != FINAL else state

    @property
    def grace_end(self) -> dt.date:
        """The last day on which late data still changes the (provisional) result."""
        return self.competition_end + dt.timedelta(days=self.grace_days)

    def days_to_start(self, now: dt.datetime) -> int:
        return (self.competition_start - self.today(now)).days

    @property
    def public(self) -> bool:
        return self.state != DRAFT


@dataclass(frozen=True, slots=True)
class SeasonEvent:
    """One logged change of a contest's state."""

    id: int
    at: dt.datetime
    actor: str
    from_state: str
    to_state: str
    reason: str | None
    snapshot_id: int | None


@dataclass(frozen=True, slots=True)
class LateImport:
    """Data that arrived after the result was final: stored, never counted in the final result."""

    batch_id: int
    meter_external_id: str
    source: str
    filename: str | None
    created_at: dt.datetime
    rows_stored: int


def season_of(c: Contest) -> Season:
    return Season(
        contest_id=c.id,
        slug=c.slug,
        name=c.name,
        timezone=c.timezone,
        state=c.state,
        baseline_start=c.baseline_start,
        baseline_end=c.baseline_end,
        competition_start=c.competition_start,
        competition_end=c.competition_end,
        grace_days=c.grace_days,
        hold_open=c.hold_open,
        closed_at=c.closed_at,
        last_published_at=c.last_published_at,
        last_error=c.last_error,
        last_error_at=c.last_error_at,
    )


def check_grace_days(days: int) -> int:
    low, high = GRACE_DAYS_RANGE
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise ConfigError(f"grace_days must be a whole number of days between {low} and {high}, got {days!r}")
    return days


class SeasonService:
    """Reads and records a contest's season state and its log."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def get(self, slug: str) -> Season:
        with self.db.session() as session:
            return season_of(contest_by_slug(session, slug))

    def all(self) -> list[Season]:
        with self.db.session() as session:
            return [season_of(c) for c in session.scalars(select(Contest).order_by(Contest.id)).all()]

    def events(self, slug: str, limit: int = 200) -> list[SeasonEvent]:
        with self.db.session() as session:
            contest = contest_by_slug(session, slug)
            rows = session.scalars(
                select(ContestEvent)
                .where(ContestEvent.contest_id == contest.id)
                .order_by(ContestEvent.id.desc())
                .limit(limit)
            ).all()
            return [
                SeasonEvent(e.id, e.at, e.actor, e.from_state, e.to_state, e.reason, e.snapshot_id)
                for e in rows
            ]

    def late_imports(self, slug: str, limit: int = 200) -> list[LateImport]:
        """Imports stored after the latest close, newest first (for the staff: late data that a final
        result does not include; reopening would let it count)."""
        with self.db.session() as session:
            contest = contest_by_slug(session, slug)
            if contest.closed_at is None:
                return []
            rows = session.execute(
                select(ImportBatch, Meter.external_id)
                .join(Meter, Meter.id == ImportBatch.meter_id)
                .join(Household, Household.id == Meter.household_id)
                .where(
                    Household.contest_id == contest.id,
                    ImportBatch.created_at > contest.closed_at,
                    ImportBatch.rows_stored > 0,
                )
                .order_by(ImportBatch.id.desc())
                .limit(limit)
            ).all()
            return [
                LateImport(b.id, external_id, b.source, b.filename, b.created_at, b.rows_stored)
                for b, external_id in rows
            ]

    def follow_clock(self, slug: str) -> Season:
        """Record what the clock moved (announced -> running -> closing), each change a logged event,
        and return the season. A due close is not recorded here: it needs the final leaderboard, which
        ``PublishingService`` publishes and then records with :meth:`record`."""
        now = self.clock()
        with self.db.session() as session:
            contest = contest_by_slug(session, slug, lock=True)  # two processes never log one change twice
            season = season_of(contest)
            due = season.state_at(now)
            if due != season.state and due != FINAL:
                session.add(
                    ContestEvent(
                        contest_id=contest.id, at=now, actor=CLOCK, from_state=contest.state, to_state=due
                    )
                )
                contest.state = due
                season = season_of(contest)
            return season

    def record(
        self,
        slug: str,
        to_state: str,
        *,
        actor: str,
        reason: str | None = None,
        snapshot_id: int | None = None,
        hold_open: bool | None = None,
    ) -> Season:
        """Record a change to ``to_state`` by ``actor`` (the caller checked that it is allowed)."""
        if to_state not in STATES:
            raise ConfigError(f"unknown state {to_state!r}; states are {', '.join(STATES)}")
        now = self.clock()
        with self.db.session() as session:
            contest = contest_by_slug(session, slug, lock=True)
            session.add(
                ContestEvent(
                    contest_id=contest.id,
                    at=now,
                    actor=actor,
                    from_state=contest.state,
                    to_state=to_state,
                    reason=reason,
                    snapshot_id=snapshot_id,
                )
            )
            contest.state = to_state
            if to_state == FINAL:
                contest.closed_at = now
                contest.hold_open = False
            if hold_open is not None:
                contest.hold_open = hold_open
            return season_of(contest)

    def announce(self, slug: str, *, actor: str) -> Season:
        """A draft goes public: announced (the clock places it at once if its start has passed)."""
        season = self.get(slug)
        if season.state != DRAFT:
            raise ConfigError(
                f"{slug!r} is {season.state}, not a draft: only a draft can be announced",
                key="season.not_draft",
            )
        self.record(slug, ANNOUNCED, actor=actor)
        return self.follow_clock(slug)

    def archive(self, slug: str, *, actor: str, reason: str | None = None) -> Season:
        season = self.get(slug)
        if season.state != FINAL:
            raise ConfigError(
                f"{slug!r} is {season.state}: only a contest with a final result can be archived",
                key="season.not_final",
            )
        return self.record(slug, ARCHIVED, actor=actor, reason=reason)

    def note_publication(self, slug: str, *, error: str | None) -> None:
        """Remember the last publication that worked, or the last error, for the staff."""
        now = self.clock()
        with self.db.session() as session:
            contest = contest_by_slug(session, slug)
            if error is None:
                contest.last_published_at = now
            else:
                contest.last_error = error[:2000]
                contest.last_error_at = now
