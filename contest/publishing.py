"""Publishing: leaderboards are scored on a schedule (or after an import) and stored as snapshots;
pages and the API serve the latest snapshot from memory, so a page view never triggers scoring."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import func, insert, select, text

from contest.consumption import refresh_daily
from contest.contests import contest_info
from contest.db import Database
from contest.domain import HouseholdStanding, LeaderboardView
from contest.errors import ConfigError, ContestNotFound
from contest.leaderboards import LeaderboardService
from contest.lookup import contest_by_slug
from contest.models import Contest, ContestEvent, LeaderboardSnapshot, StandingRevision
from contest.season import (
    ARCHIVED,
    CLOCK,
    DRAFT,
    FINAL,
    FROZEN,
    PROVISIONAL,
    RUNNING,
    Season,
    SeasonService,
    due_state,
)
from contest.snapshots import (
    content_hash,
    finding_to_json,
    jsonable,
    standing_from_json,
    view_from_json,
    view_to_json,
)

log = logging.getLogger(__name__)


def _keep_out_of_gc(collect_first: bool = False) -> None:
    """Move what is alive now (a large leaderboard just loaded: tens of thousands of long-lived
    objects) out of the cyclic garbage collector's reach. A full collection over them took ~125 ms
    and stalled every request waiting meanwhile (the HTTP benchmark's p99). Views hold no reference
    cycles, so reference counting still frees them when replaced. ``collect_first`` collects the
    cyclic garbage of a scoring run first (in the publishing thread, once per publication), so none
    of it is frozen for good."""
    if collect_first:
        gc.collect()
    gc.freeze()


@dataclasses.dataclass(frozen=True, slots=True)
class SnapshotInfo:
    id: int
    slug: str
    as_of: dt.datetime
    published_at: dt.datetime
    final: bool
    reason: str


class PublishingService:
    """Publishes leaderboard snapshots and serves the latest one from memory."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        cache_ttl_s: float = 1.0,
        on_published: Callable[[str, LeaderboardView], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.cache_ttl_s = cache_ttl_s
        #: called after each publication (e.g. the retained MQTT message for city displays)
        self.on_published = on_published
        self._cache: dict[str, tuple[int, LeaderboardView]] = {}
        self._ids: dict[str, tuple[int | None, float]] = {}
        self._standings: dict[str, tuple[int, dict[int, HouseholdStanding]]] = {}
        self._progress: dict[tuple[str, int | None], dict[str, list[tuple[dt.date, float]]]] = {}
        self._lock = threading.Lock()
        self._publishing = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish")
        self._queued: set[str] = set()
        self._listeners: list[Callable[[str, int], None]] = []
        self.seasons = SeasonService(db, clock=self.clock)
        self._seasons: dict[str, tuple[Season, float]] = {}
        self._nudged: dict[str, float] = {}

    # --- publishing ---------------------------------------------------------------------------
    def publish(
        self,
        slug: str,
        *,
        reason: str = "manual",
        final: bool = False,
        skip_unchanged: bool = False,
        actor: str = CLOCK,
        note: str | None = None,
    ) -> SnapshotInfo:
        """Score the contest now and store the result as its newest snapshot (a revision), as its
        season allows: the clock's state changes are recorded first; a contest whose grace period is
        over is closed with a final leaderboard; a final or archived contest stores nothing new and
        returns its final snapshot (data that arrives later never changes a public figure).

        final: close it now (staff closing early; ``actor`` and ``note`` are logged with the change).
        skip_unchanged: when the result equals the newest snapshot's but for its as-of time, store
            nothing and return that snapshot (the scheduled job: revisions only when something changed).

        Publications of this process run one at a time: the newest snapshot (the highest id) is always
        the one scored last, never a slower run that read the data earlier. Every publication that
        fails is recorded on the contest for the staff (last error), every one that works too.
        """
        with self._publishing:
            try:
                info, scored = self._publish_in_season(
                    slug, reason=reason, final=final, skip_unchanged=skip_unchanged, actor=actor, note=note
                )
            except ContestNotFound:
                raise
            except Exception as exc:
                self._note(slug, f"{type(exc).__name__}: {exc}")
                raise
            if scored:  # a frozen result's publication stored nothing: its last publication stays
                self._note(slug, None)
            return info

    def _note(self, slug: str, error: str | None) -> None:
        try:
            self.seasons.note_publication(slug, error=error)
        except Exception:  # the record for the staff must never hide the publication's own outcome
            log.exception("could not record the publication outcome of %s", slug)

    def _publish_in_season(
        self, slug: str, *, reason: str, final: bool, skip_unchanged: bool, actor: str, note: str | None
    ) -> tuple[SnapshotInfo, bool]:
        """The snapshot, and whether the contest was scored for it (not for a frozen result)."""
        season = self.seasons.follow_clock(slug)
        if season.state in FROZEN:
            newest = self.final_snapshot(slug)
            if newest is not None:
                return newest, False
            # Closed before seasons were recorded and never published: its one final leaderboard now.
            return self._publish(slug, reason="close", state=season.state, skip_unchanged=False), True
        if final or season.state_at(self.clock()) == FINAL:
            closer = actor if final else CLOCK
            why = note if final else None  # the clock's close needs no words: its grace period ended
            info = self._publish(
                slug, reason="close", state=FINAL, skip_unchanged=False, close=(closer, why, season.state)
            )
            return info, True
        return self._publish(slug, reason=reason, state=season.state, skip_unchanged=skip_unchanged), True

    def score(self, slug: str, as_of: dt.datetime, *, public_only: bool = False) -> LeaderboardView:
        """The contest scored now from the data stored now (every household with ``public_only``
        False): the days of streamed readings are brought up to date first."""
        refresh_daily(self.db)
        with self.db.session() as session:
            return LeaderboardService(session, self.clock).leaderboard(slug, as_of, public_only=public_only)

    def _publish(
        self,
        slug: str,
        *,
        reason: str,
        state: str,
        skip_unchanged: bool,
        close: tuple[str, str | None, str] | None = None,
    ) -> SnapshotInfo:
        """Score and store one snapshot in ``state``; ``close`` (actor, reason, from state): it is the
        final leaderboard, and the contest's change to final is recorded in the same transaction."""
        final = state in FROZEN
        # One scoring pass: the public view (opted-in households) and every household's standing, which
        # stays on the server for the household portal (never in the public body or API).
        full = self.score(slug, self.clock())
        full = dataclasses.replace(full, contest=dataclasses.replace(full.contest, state=state))
        k = full.contest.rules.privacy.min_team_size_public
        view = dataclasses.replace(
            full,
            households=tuple(h for h in full.households if h.public_listing),
            # Privacy: a team too small to hide its members' figures is not shown publicly.
            teams=tuple(t for t in full.teams if t.members >= k),
        )
        body = view_to_json(view)
        body["all_households"] = [jsonable(h) for h in full.households]
        # For the staff's review of plausibility flags (never in the public API or pages).
        body["staff_findings"] = [finding_to_json(f) for f in full.findings]
        digest = content_hash(body)
        with self.db.session() as session:
            # Locked and read again: another process (a second app instance, the command line) may have
            # closed the contest while this one scored. Then its final result stands, and nothing
            # provisional may be stored after it (the newest snapshot is what the public sees).
            contest = contest_by_slug(session, slug, lock=True)
            if contest.state in FROZEN and (close is not None or not final):
                frozen = session.scalars(
                    select(LeaderboardSnapshot)
                    .where(LeaderboardSnapshot.contest_id == contest.id, LeaderboardSnapshot.final.is_(True))
                    .order_by(LeaderboardSnapshot.id.desc())
                    .limit(1)
                ).first()
                if frozen is not None:
                    log.info("%s was closed meanwhile: its final snapshot %d stands", slug, frozen.id)
                    return SnapshotInfo(
                        frozen.id, slug, frozen.as_of, frozen.published_at, True, frozen.reason
                    )
            if skip_unchanged and not final:
                newest = session.scalars(
                    select(LeaderboardSnapshot)
                    .where(LeaderboardSnapshot.contest_id == contest.id)
                    .order_by(LeaderboardSnapshot.id.desc())
                    .limit(1)
                ).first()
                if newest is not None and newest.content_hash == digest:
                    log.info("%s unchanged since snapshot %d: no new revision", slug, newest.id)
                    return SnapshotInfo(
                        newest.id, slug, newest.as_of, newest.published_at, newest.final, newest.reason
                    )
            snap = LeaderboardSnapshot(
                contest_id=contest.id,
                as_of=view.as_of,
                published_at=self.clock(),
                final=final,
                reason=reason,
                body=body,
                content_hash=digest,
                ranked_households=full.city.ranked,
            )
            session.add(snap)
            session.flush()
            if close is not None:
                closer, why, from_state = close
                now = self.clock()
                session.add(
                    ContestEvent(
                        contest_id=contest.id,
                        at=now,
                        actor=closer,
                        from_state=from_state,
                        to_state=FINAL,
                        reason=why,
                        snapshot_id=snap.id,
                    )
                )
                contest.state = FINAL
                contest.closed_at = now
                contest.hold_open = False
            if full.households:  # the households' rank histories
                session.execute(
                    insert(StandingRevision),
                    [
                        {
                            "snapshot_id": snap.id,
                            "household_id": h.household_id,
                            "status": h.status,
                            "rank": h.rank,
                            "savings_fraction": h.savings_fraction,
                            "savings_kwh": h.savings_kwh,
                            "baseline_kwh_per_day": h.baseline_kwh_per_day,
                            "competition_coverage_fraction": h.competition_coverage_fraction,
                        }
                        for h in full.households
                    ],
                )
            info = SnapshotInfo(snap.id, slug, view.as_of, snap.published_at, final, reason)
        with self._lock:
            self._cache[slug] = (info.id, view)
            self._ids[slug] = (info.id, time.monotonic())
            self._seasons.pop(slug, None)
        _keep_out_of_gc(collect_first=True)
        log.info("published %s snapshot %d (%s, %s)", slug, info.id, reason, state)
        for listener in list(self._listeners):
            listener(slug, info.id)
        if self.on_published and state != DRAFT:  # a draft is for the staff only
            try:
                self.on_published(slug, view)
            except Exception:  # a display feed must never break publishing
                log.exception("on_published hook failed for %s", slug)
        return info

    def final_snapshot(self, slug: str) -> SnapshotInfo | None:
        """The newest final snapshot of ``slug`` (its result), if it was ever closed."""
        found = self.history(slug, limit=1, final_only=True)
        return found[0] if found else None

    # --- staff's season actions ---------------------------------------------------------------
    def close_now(self, slug: str, *, actor: str, reason: str | None = None) -> SnapshotInfo:
        """Staff close a running contest or one in its grace period: the result is final now."""
        season = self.seasons.follow_clock(slug)
        if season.state not in PROVISIONAL:
            raise ConfigError(
                f"{slug!r} is {season.state}: only a running or closing contest can be closed",
                key="season.cannot_close",
            )
        return self.publish(slug, final=True, actor=actor, note=reason)

    def reopen(self, slug: str, *, actor: str, reason: str) -> SnapshotInfo:
        """Staff reopen a final result for late data (a reason is required and logged). It stays open
        until staff close it again, which publishes a new final revision."""
        if not reason or not reason.strip():
            raise ConfigError("reopening a final result needs a reason", key="season.reason_required")
        season = self.seasons.get(slug)
        if season.state not in FROZEN:
            raise ConfigError(
                f"{slug!r} is {season.state}: only a final or archived result can be reopened",
                key="season.not_final",
            )
        to_state = due_state(
            RUNNING,
            today=season.today(self.clock()),
            competition_start=season.competition_start,
            competition_end=season.competition_end,
            grace_days=season.grace_days,
            hold_open=True,
        )
        self.seasons.record(slug, to_state, actor=actor, reason=reason.strip()[:2000], hold_open=True)
        return self.publish(slug, reason="reopen", actor=actor)

    def announce(self, slug: str, *, actor: str) -> SnapshotInfo:
        """Staff announce a draft: it goes public, published at once in its state of today."""
        self.seasons.announce(slug, actor=actor)
        return self.publish(slug, reason="manual", actor=actor)

    def archive(self, slug: str, *, actor: str, reason: str | None = None) -> Season:
        """Staff archive a final result; its pages stay, and city displays are told (retained message)."""
        season = self.seasons.archive(slug, actor=actor, reason=reason)
        with self._lock:
            self._seasons.pop(slug, None)
        if self.on_published is not None:
            view = self.latest(slug)
            try:
                self.on_published(
                    slug, dataclasses.replace(view, contest=dataclasses.replace(view.contest, state=ARCHIVED))
                )
            except Exception:  # a display feed must never break the staff's action
                log.exception("on_published hook failed for %s", slug)
        return season

    def season(self, slug: str) -> Season:
        """The contest's season, from the database at most once per ``cache_ttl_s`` (pages ask it on
        every view); :class:`ContestNotFound` for an unknown slug."""
        now = time.monotonic()
        with self._lock:
            hit = self._seasons.get(slug)
            if hit is not None and now - hit[1] < self.cache_ttl_s:
                return hit[0]
        season = self.seasons.get(slug)
        with self._lock:
            if len(self._seasons) > 1000:
                self._seasons.clear()
            self._seasons[slug] = (season, now)
        return season

    def public_season(self, slug: str) -> Season:
        """As :meth:`season`, but a draft does not exist for the public (404)."""
        season = self.season(slug)
        if not season.public:
            raise ContestNotFound(f"no contest with the slug {slug!r}")
        if season.state_at(self.clock()) != season.state:
            # The clock moved it (started, ended, grace over) and no publication noticed yet: publish
            # in the background, so the page is current in seconds even between scheduled runs (at
            # most once a minute, should that publication fail).
            tick = time.monotonic()
            with self._lock:
                due = tick - self._nudged.get(slug, -math.inf) >= 60.0
                if due:
                    self._nudged[slug] = tick
            if due:
                self.publish_soon(slug, reason="schedule")
        return season

    def publish_soon(self, slug: str, reason: str = "import") -> None:
        """Publish in the background (after an import); several requests for a contest coalesce."""
        with self._lock:
            if slug in self._queued:
                return
            self._queued.add(slug)

        def run() -> None:
            with self._lock:
                self._queued.discard(slug)
            try:
                self.publish(slug, reason=reason)
            except Exception:
                log.exception("publishing %s after an import failed", slug)

        self._executor.submit(run)

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait until the background publications asked for so far are done (tests, shutdown)."""
        self._executor.submit(lambda: None).result(timeout=timeout_s)

    def subscribe(self, listener: Callable[[str, int], None]) -> None:
        """Be told (slug, snapshot id) after each publication by this process (live page updates)."""
        self._listeners.append(listener)

    # --- serving ------------------------------------------------------------------------------
    def latest_id(self, slug: str) -> int | None:
        if "\x00" in slug:  # no slug holds NUL, and PostgreSQL refuses it in a query
            return None
        with self.db.session() as session:
            return session.scalar(
                select(func.max(LeaderboardSnapshot.id))
                .join(Contest, Contest.id == LeaderboardSnapshot.contest_id)
                .where(Contest.slug == slug)
            )

    def current_id(self, slug: str) -> int | None:
        """The newest snapshot id, asking the database at most once per ``cache_ttl_s`` however many
        pages are open (live updates poll this)."""
        now = time.monotonic()
        with self._lock:
            hit = self._ids.get(slug)
            if hit is not None and now - hit[1] < self.cache_ttl_s:
                return hit[0]
        newest = self.latest_id(slug)
        with self._lock:
            self._ids[slug] = (newest, now)
        return newest

    def latest(self, slug: str) -> LeaderboardView:
        return self.latest_with_id(slug)[1]

    def latest_with_id(self, slug: str) -> tuple[int, LeaderboardView]:
        """The newest published leaderboard and its snapshot id, from memory. The database is asked at
        most once per ``cache_ttl_s`` whether another instance published a newer one; a contest never
        published before is published once now. If that fails (recorded for the staff), an empty
        leaderboard of the contest is served with id 0, never an error page."""
        newest = self.current_id(slug)
        if newest is None:
            with self.db.session() as session:
                info = contest_info(contest_by_slug(session, slug))
            try:
                self.publish(slug, reason="first_view")
            except Exception:
                log.exception("first publication of %s failed: serving an empty leaderboard", slug)
                return 0, LeaderboardView(
                    contest=info, as_of=self.clock(), competition_days_elapsed=0, teams=(), households=()
                )
            with self._lock:
                return self._cache[slug]
        with self._lock:
            cached = self._cache.get(slug)
        if cached is None or cached[0] != newest:
            with self.db.session() as session:
                body = session.get(LeaderboardSnapshot, newest).body  # type: ignore[union-attr]
            cached = (newest, view_from_json(body))
            with self._lock:
                self._cache[slug] = cached
            _keep_out_of_gc()
        return cached

    def standing(self, slug: str, household_id: int) -> HouseholdStanding | None:
        """A household's line of the newest snapshot, public or not (for its own portal page)."""
        return self._standings_by_id(slug).get(household_id)

    def standings(self, slug: str) -> list[HouseholdStanding]:
        """Every household's line of the newest snapshot, public or not, in rank order (staff): for a
        final result the final one, whatever arrived later."""
        return list(self._standings_by_id(slug).values())

    def _standings_by_id(self, slug: str) -> dict[int, HouseholdStanding]:
        newest = self.current_id(slug) or self.latest_with_id(slug)[0]
        if not newest:  # nothing published (the first publication failed)
            return {}
        with self._lock:
            cached = self._standings.get(slug)
        if cached is None or cached[0] != newest:
            # Parsed once per snapshot: the body of a large contest is megabytes of JSON.
            with self.db.session() as session:
                body = session.get(LeaderboardSnapshot, newest).body  # type: ignore[union-attr]
            by_id = {h["household_id"]: standing_from_json(h) for h in body.get("all_households", [])}
            cached = (newest, by_id)
            with self._lock:
                self._standings[slug] = cached
        return cached[1]

    def team_progress(self, slug: str, tz: str, top: int = 10) -> dict[str, list[tuple[dt.date, float]]]:
        """Savings so far [kWh] of the top teams, from the last snapshot of each local day (for the
        progress chart); cached per newest snapshot."""
        newest = self.current_id(slug)
        key = (slug, newest)
        with self._lock:
            if key in self._progress:
                return self._progress[key]
        zone = _zone(tz)
        with self.db.session() as session:
            rows = session.execute(
                select(LeaderboardSnapshot.id, LeaderboardSnapshot.as_of)
                .join(Contest, Contest.id == LeaderboardSnapshot.contest_id)
                .where(Contest.slug == slug)
                .order_by(LeaderboardSnapshot.id)
            ).all()
            last_per_day: dict[dt.date, int] = {}
            for snap_id, as_of in rows:
                last_per_day[as_of.astimezone(zone).date()] = snap_id
            series: dict[str, list[tuple[dt.date, float]]] = {}
            for day, snap_id in sorted(last_per_day.items()):
                body = session.get(LeaderboardSnapshot, snap_id).body  # type: ignore[union-attr]
                for team in body.get("teams", []):
                    if team.get("savings_kwh") is not None:
                        series.setdefault(team["name"], []).append((day, float(team["savings_kwh"])))
        ranked = sorted(series, key=lambda name: series[name][-1][1], reverse=True)[:top]
        result = {name: series[name] for name in ranked}
        with self._lock:
            self._progress = {key: result}
        return result

    def history(self, slug: str, limit: int = 100, *, final_only: bool = False) -> list[SnapshotInfo]:
        """The newest snapshots of ``slug`` first (only final ones with ``final_only``)."""
        where = [Contest.slug == slug]
        if final_only:
            where.append(LeaderboardSnapshot.final.is_(True))
        with self.db.session() as session:
            rows = session.execute(
                select(
                    LeaderboardSnapshot.id,
                    LeaderboardSnapshot.as_of,
                    LeaderboardSnapshot.published_at,
                    LeaderboardSnapshot.final,
                    LeaderboardSnapshot.reason,
                )
                .join(Contest, Contest.id == LeaderboardSnapshot.contest_id)
                .where(*where)
                .order_by(LeaderboardSnapshot.id.desc())
                .limit(limit)
            ).all()
        return [SnapshotInfo(i, slug, a, p, f, r) for i, a, p, f, r in rows]

    # --- jobs ---------------------------------------------------------------------------------
    def contests_to_publish(self) -> list[Season]:
        """Contests whose season is not over: every one but drafts and final or archived results."""
        return [season for season in self.seasons.all() if season.state not in (DRAFT, *FROZEN)]

    def publish_running(self, min_interval_s: float = 0.0) -> list[str]:
        """The scheduled job: publish every contest whose season is not over, and close those whose
        grace period ended with a final, frozen leaderboard. A contest that fails is logged and
        recorded for the staff (``last_error``); the others are published all the same. With several
        app instances only the one holding the job lock works, and a contest published less than
        ``min_interval_s`` ago (by any instance) is skipped unless its state is due to change."""
        done: list[str] = []
        with job_lock(self.db, "publish_running") as got:
            if not got:
                return done
            for season in self.contests_to_publish():
                try:
                    now = self.clock()
                    last = season.last_published_at
                    if (
                        last is not None
                        and season.state_at(now) == season.state
                        and (now - last).total_seconds() < min_interval_s
                    ):
                        continue
                    self.publish(season.slug, reason="schedule", skip_unchanged=True)
                    done.append(season.slug)
                except Exception:
                    # Recorded on the contest by publish(); one contest never stops the others.
                    log.exception("scheduled publication of %s failed", season.slug)
        return done

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@contextmanager
def job_lock(db: Database, name: str) -> Iterator[bool]:
    """Run a job in one instance only. PostgreSQL: a session advisory lock (several app instances share
    the database). SQLite is the single-instance embedded store: the lock is always granted."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"contest-job:{name}".encode())
    with db.engine.connect() as conn:
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
