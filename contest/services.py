"""Services: the only code that touches the database. Controllers, jobs, importers and the CLI call these."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from contest.absences import absence_ranges
from contest.access import generate_code, hash_code, new_session_key, normalize_code, same_session_key
from contest.config import ContestConfig
from contest.db import Database
from contest.domain import (
    BUILDING_TYPES,
    CARRIERS,
    METER_KINDS,
    BatchSummary,
    CityFigures,
    ContestInfo,
    HouseholdInfo,
    HouseholdStanding,
    ImportReport,
    LeaderboardView,
    MeterContext,
    MeterInfo,
    SeriesInfo,
    TeamStanding,
    check_living_area_m2,
    check_persons,
)
from contest.errors import (
    AlreadyExists,
    ConfigError,
    ContestNotFound,
    HouseholdNotFound,
    MeterNotFound,
    PermissionDenied,
)
from contest.models import (
    Absence,
    Contest,
    DailyConsumption,
    Household,
    ImportBatch,
    Meter,
    Reading,
    RegisterSeries,
    RejectedRecord,
    Team,
    WeatherDay,
)
from contest.readings import (
    BOUND_KEY,
    BOUND_REASON,
    DURATION_S,
    ENERGY_KWH,
    KIND,
    KIND_INTERVAL,
    KIND_REGISTER,
    LINE_NO,
    TS_UTC,
    Rejection,
    out_of_bounds,
    validate_readings,
)
from contest.scoring_spec import rules_kwargs
from contest.units import GasFactors
from scoring import schema as S
from scoring.daily import daily_consumption, household_daily
from scoring.leaderboard import (
    Leaderboard,
    ScoringRules,
    expand_absence_ranges,
    score_contest,
    shown_savings_fraction,
)

#: Imports at least this large skip SQLite's per-row foreign-key checks for their own transaction.
BULK_ROWS_WITHOUT_FK_CHECKS = 10_000

#: Rows per executemany call; the progress callback is called after each.
INSERT_CHUNK_ROWS = 100_000

#: Where readings come from.
SOURCES = ("csv", "mqtt", "manual")

#: Rejections kept in an ImportReport (all of them are stored as RejectedRecord rows).
REPORT_REJECTIONS_MAX = 1000


def storable_text(text: str) -> str:
    """Text every database stores: PostgreSQL text cannot hold NUL, so it is kept as the escape \\x00."""
    return text.replace("\x00", "\\x00")


def _contest_info(c: Contest) -> ContestInfo:
    return ContestInfo(
        id=c.id,
        slug=c.slug,
        name=c.name,
        timezone=c.timezone,
        carrier=c.carrier,
        baseline_start=c.baseline_start,
        baseline_end=c.baseline_end,
        competition_start=c.competition_start,
        competition_end=c.competition_end,
        baseline_method=c.baseline_method,
        min_coverage_fraction=c.min_coverage_fraction,
        min_team_members=c.min_team_members,
        min_day_coverage_fraction=c.min_day_coverage_fraction,
        gas=GasFactors(c.gas_brennwert_kwh_per_m3, c.gas_zustandszahl),
        min_team_size_public=c.min_team_size_public,
        state=c.state,
        grace_days=c.grace_days,
    )


def scoring_rules(info: ContestInfo, spec: dict[str, Any] | None = None) -> ScoringRules:
    return ScoringRules(
        carrier=info.carrier,
        **rules_kwargs(spec or {}),
        tz=info.timezone,
        baseline_start=info.baseline_start,
        baseline_end=info.baseline_end,
        competition_start=info.competition_start,
        competition_end=info.competition_end,
        min_coverage_fraction=info.min_coverage_fraction,
        min_team_members=info.min_team_members,
        min_day_coverage_fraction=info.min_day_coverage_fraction,
    )


def meter_series(session: Session, meter_id: int) -> tuple[SeriesInfo, ...]:
    """The register series of a meter in time order (docs/glossary.md); empty: one series of uploads.
    Before a stored series that starts at a time, the meter's uploads since its start are the first."""
    rows: list[tuple[dt.datetime | None, str | None]] = [
        (start, device)
        for start, device in session.execute(
            select(RegisterSeries.starts_at, RegisterSeries.device)
            .where(RegisterSeries.meter_id == meter_id)
            .order_by(RegisterSeries.starts_at.is_not(None), RegisterSeries.starts_at, RegisterSeries.id)
        )
    ]
    if rows and rows[0][0] is not None:
        rows.insert(0, (None, None))
    return tuple(
        SeriesInfo(start, rows[i + 1][0] if i + 1 < len(rows) else None, device)
        for i, (start, device) in enumerate(rows)
    )


def _get_contest(session: Session, slug: str) -> Contest:
    # A NUL can be in no slug (PostgreSQL text cannot hold it; it would fail the query, not miss).
    contest = (
        session.scalars(select(Contest).where(Contest.slug == slug)).one_or_none()
        if "\x00" not in slug
        else None
    )
    if contest is None:
        raise ContestNotFound(f"no contest with the slug {slug!r}")
    return contest


class ContestService:
    """Contests, their teams, households and meters."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def setup(self, cfg: ContestConfig) -> ContestInfo:
        """Create the contest described by ``cfg``, or update it when the slug exists.

        Idempotent: teams, households and meters are matched by name, pseudonym and meter id;
        nothing is deleted, so readings already imported stay. A household fact the file does not state
        (persons, public listing, team, living area, ...) keeps the value set since (by the household
        in the portal, or by staff).
        """
        with self.db.session() as session:
            contest = session.scalars(select(Contest).where(Contest.slug == cfg.slug)).one_or_none()
            if contest is None:
                contest = Contest(slug=cfg.slug, state=cfg.initial_state)
                session.add(contest)
            contest.grace_days = cfg.grace_days
            contest.name = cfg.name
            contest.timezone = cfg.timezone
            contest.carrier = cfg.carrier
            contest.baseline_start = cfg.baseline_start
            contest.baseline_end = cfg.baseline_end
            contest.competition_start = cfg.competition_start
            contest.competition_end = cfg.competition_end
            contest.baseline_method = cfg.baseline_method
            contest.min_coverage_fraction = cfg.min_coverage_fraction
            contest.min_team_members = cfg.min_team_members
            contest.min_day_coverage_fraction = cfg.min_day_coverage_fraction
            contest.min_team_size_public = cfg.min_team_size_public
            contest.scoring_spec = cfg.scoring_spec
            contest.gas_brennwert_kwh_per_m3 = cfg.gas.brennwert_kwh_per_m3
            contest.gas_zustandszahl = cfg.gas.zustandszahl
            session.flush()
            teams = {t.name: t for t in contest.teams}
            for name in cfg.teams:
                if name not in teams:
                    teams[name] = Team(name=name, contest=contest)
                    session.add(teams[name])
            households = {h.pseudonym: h for h in contest.households}
            meter_ids = [m.external_id for h in cfg.households for m in h.meters]
            existing_meters = (
                {
                    m.external_id: m
                    for m in session.scalars(select(Meter).where(Meter.external_id.in_(meter_ids))).all()
                }
                if meter_ids
                else {}
            )
            for hc in cfg.households:
                h = households.get(hc.pseudonym)
                if h is None:
                    h = Household(pseudonym=hc.pseudonym, contest=contest, persons=1, public_listing=False)
                    session.add(h)
                # What the file does not state stays as the household or the staff set it since.
                if hc.persons is not None:
                    h.persons = hc.persons
                if hc.living_area_m2 is not None:
                    h.living_area_m2 = hc.living_area_m2
                if hc.building_type is not None:
                    h.building_type = hc.building_type
                if hc.electric_hot_water is not None:
                    h.electric_hot_water = hc.electric_hot_water
                if hc.public_listing is not None:
                    h.public_listing = hc.public_listing
                if hc.team is not None:
                    h.team = teams[hc.team]
                for mc in hc.meters:
                    m = existing_meters.get(mc.external_id)
                    if m is None:
                        m = Meter(external_id=mc.external_id, household=h)
                        session.add(m)
                    elif m.household is not h:
                        m.household = h
                    m.carrier = mc.carrier
                    m.kind = mc.kind
                    m.gas_brennwert_kwh_per_m3 = mc.gas.brennwert_kwh_per_m3 if mc.gas else None
                    m.gas_zustandszahl = mc.gas.zustandszahl if mc.gas else None
            session.flush()
            return _contest_info(contest)

    def get(self, slug: str) -> ContestInfo:
        with self.db.session() as session:
            return _contest_info(_get_contest(session, slug))

    def list_contests(self) -> list[ContestInfo]:
        with self.db.session() as session:
            return [_contest_info(c) for c in session.scalars(select(Contest).order_by(Contest.id)).all()]


class MeterService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def import_context(self, external_id: str) -> MeterContext:
        """What an importer needs to parse data for the meter ``external_id``."""
        with self.db.session() as session:
            meter = session.scalars(select(Meter).where(Meter.external_id == external_id)).one_or_none()
            if meter is None:
                raise MeterNotFound(f"no meter with the id {external_id!r}")
            contest = meter.household.contest
            gas = GasFactors(
                meter.gas_brennwert_kwh_per_m3 or contest.gas_brennwert_kwh_per_m3,
                meter.gas_zustandszahl or contest.gas_zustandszahl,
            )
            return MeterContext(
                meter_id=meter.id,
                external_id=meter.external_id,
                household_id=meter.household_id,
                contest_slug=contest.slug,
                timezone=contest.timezone,
                carrier=meter.carrier,
                kind=meter.kind,
                gas=gas,
                competition_end=contest.competition_end,
                baseline_start=contest.baseline_start,
                valid_from=meter.valid_from,
                valid_to=meter.valid_to,
                series=meter_series(session, meter.id),
            )

    def replace(
        self,
        old_external_id: str,
        new_external_id: str,
        at: dt.datetime,
        *,
        old_final_kwh: float | None = None,
        new_initial_kwh: float | None = 0.0,
    ) -> MeterContext:
        """Replace a household's meter from ``at`` on (a meter swap) and return the new meter.

        The old meter takes no readings from ``at`` on, the new one none before. The old meter's final
        register value and the new meter's initial one are stored as readings at ``at`` [kWh], so the
        household's consumption stays continuous across the swap: the old meter covers the time up to
        ``at`` and the new one the time after.
        """
        if at.tzinfo is None:
            raise ConfigError("the time of a meter swap needs a time zone")
        with self.db.session() as session:
            old = session.scalars(select(Meter).where(Meter.external_id == old_external_id)).one_or_none()
            if old is None:
                raise MeterNotFound(f"no meter with the id {old_external_id!r}")
            if session.scalars(select(Meter).where(Meter.external_id == new_external_id)).first() is not None:
                raise ConfigError(f"meter id {new_external_id!r} is already in use")
            if old.valid_to is not None:
                raise ConfigError(
                    f"meter {old_external_id!r} was already replaced on {old.valid_to:%Y-%m-%d %H:%M} UTC"
                )
            if old.valid_from is not None and at <= old.valid_from:
                raise ConfigError(f"meter {old_external_id!r} was installed after {at:%Y-%m-%d %H:%M}")
            later = session.scalar(
                select(func.count())
                .select_from(Reading)
                .where(Reading.meter_id == old.id, Reading.ts_utc > at)
            )
            if later:
                raise ConfigError(
                    f"meter {old_external_id!r} has {later} readings after {at:%Y-%m-%d %H:%M} UTC; a meter "
                    "cannot be replaced before its last reading"
                )
            old.valid_to = at
            new = Meter(
                external_id=new_external_id,
                household=old.household,
                carrier=old.carrier,
                kind=old.kind,
                gas_brennwert_kwh_per_m3=old.gas_brennwert_kwh_per_m3,
                gas_zustandszahl=old.gas_zustandszahl,
                valid_from=at,
                replaces_meter_id=old.id,
            )
            session.add(new)
            session.flush()
            old_id, new_id = old.id, new.id
        readings = ReadingService(self.db)
        ts = pd.Timestamp(at).tz_convert("UTC")
        for meter_ext, value in ((old_external_id, old_final_kwh), (new_external_id, new_initial_kwh)):
            if value is None:
                continue
            frame = pd.DataFrame(
                {TS_UTC: [ts], ENERGY_KWH: [float(value)], KIND: [KIND_REGISTER], DURATION_S: [float("nan")]}
            )
            readings.store(
                self.import_context(meter_ext),
                frame,
                (),
                source="manual",
                rows_read=1,
                details={"meter_swap": {"old_meter_id": old_id, "new_meter_id": new_id}},
            )
        return self.import_context(new_external_id)


def _epoch_us(ts: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 microseconds since 1970 (how SQLite stores them, see models.UTCDateTime)."""
    naive_utc = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    epoch_us: np.ndarray = naive_utc.astype("datetime64[us]").astype("int64")
    return epoch_us


def pg_copy_readings(
    connection: Any,
    rows: Iterable[tuple[int, dt.datetime, float, str, float | None]],
    *,
    source: str,
    batch_id: int | None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> int:
    """PostgreSQL bulk write of (meter_id, ts_utc, energy_kwh, kind, duration_s) rows: COPY into a
    temporary table, then one INSERT ... ON CONFLICT DO NOTHING (a reading stored before stays);
    returns the rows newly stored. File imports and streamed readings both write through this."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reading_in (meter_id int, ts_utc timestamptz, energy_kwh float8, "
            "kind varchar(10), duration_s float8) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE reading_in")
        with cur.copy("COPY reading_in (meter_id, ts_utc, energy_kwh, kind, duration_s) FROM STDIN") as copy:
            for i, row in enumerate(rows, start=1):
                copy.write_row(row)
                if progress and i % INSERT_CHUNK_ROWS == 0:
                    progress(i, total)
        cur.execute(
            "INSERT INTO reading (meter_id, ts_utc, energy_kwh, kind, duration_s, source, batch_id) "
            "SELECT meter_id, ts_utc, energy_kwh, kind, duration_s, %s, %s FROM reading_in "
            "ON CONFLICT (meter_id, ts_utc, kind) DO NOTHING",
            (source, batch_id),
        )
        return int(cur.rowcount)


@dataclass(frozen=True, slots=True)
class _DailyPlan:
    """Daily consumption to recompute for one meter: days ``day_lo``..``day_hi`` (local) from the older
    readings of that window plus the new ones. ``compute`` is pure pandas (safe in a thread)."""

    meter_id: int
    tz: str
    day_lo: dt.date
    day_hi: dt.date
    old: pd.DataFrame
    new: pd.DataFrame
    #: where the meter's later register series start [UTC] (none: the meter has one series)
    series_starts: tuple[dt.datetime, ...] = ()

    def compute(self) -> pd.DataFrame:
        fresh = self.new[[TS_UTC, ENERGY_KWH, KIND, DURATION_S]]
        # Where a new reading repeats a stored one, the stored one is kept (ON CONFLICT DO NOTHING).
        readings = pd.concat([self.old, fresh], ignore_index=True).drop_duplicates(
            [TS_UTC, KIND], keep="first"
        )
        if not self.series_starts:
            readings[S.METER_ID] = self.meter_id
            daily, _findings = daily_consumption(readings, self.tz)
        else:
            # Each register series is its own counter: its days are computed alone (a step between two
            # series is never consumption) and summed, as the days of a swapped meter and its successor.
            starts = pd.DatetimeIndex(pd.to_datetime(list(self.series_starts), utc=True))
            # A series holds the readings after its start up to and including the next one's: a display
            # reading at the bind instant closes the old series (as a swapped meter's final reading).
            readings[S.METER_ID] = starts.searchsorted(pd.DatetimeIndex(readings[TS_UTC]), side="left")
            per_series, _findings = daily_consumption(readings, self.tz)
            series = pd.DataFrame({S.METER_ID: range(len(starts) + 1), S.HOUSEHOLD_ID: self.meter_id})
            daily = household_daily(per_series, series).rename(columns={S.HOUSEHOLD_ID: S.METER_ID})
        days = pd.to_datetime(daily[S.DAY]).dt.date
        return daily[(days >= self.day_lo) & (days <= self.day_hi)]

    def write(self, session: Session, daily: pd.DataFrame) -> None:
        session.execute(
            delete(DailyConsumption).where(
                DailyConsumption.meter_id == self.meter_id,
                DailyConsumption.day >= self.day_lo,
                DailyConsumption.day <= self.day_hi,
            )
        )
        if daily.empty:
            return
        session.execute(
            insert(DailyConsumption),
            [
                {"meter_id": self.meter_id, "day": d, "energy_kwh": float(e), "coverage_fraction": float(c)}
                for d, e, c in zip(
                    pd.to_datetime(daily[S.DAY]).dt.date.tolist(),
                    daily[S.ENERGY_KWH].tolist(),
                    daily[S.COVERAGE_FRACTION].tolist(),
                    strict=True,
                )
            ],
        )


def last_register(
    session: Session, meter_id: int, *, after: dt.datetime | None = None, before: dt.datetime | None = None
) -> tuple[dt.datetime, float] | None:
    """The latest stored register reading of a meter in (``after``, ``before``) [UTC] (time, value
    [kWh]): ``after`` is the start of a register series, so a register is only compared within its own."""
    where = [Reading.meter_id == meter_id, Reading.kind == KIND_REGISTER]
    if after is not None:
        where.append(Reading.ts_utc > after)
    if before is not None:
        where.append(Reading.ts_utc < before)
    row = session.execute(
        select(Reading.ts_utc, Reading.energy_kwh).where(*where).order_by(Reading.ts_utc.desc()).limit(1)
    ).first()
    return (row[0], float(row[1])) if row is not None else None


class ReadingService:
    """Stores normalized readings in bulk, keeps rejected records, and derives daily consumption.

    clock: when an import happened (its batch's time: late data after a final result is told by it)
    """

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def store(
        self,
        ctx: MeterContext,
        readings: pd.DataFrame,
        rejections: Sequence[Rejection],
        *,
        source: str,
        rows_read: int,
        filename: str | None = None,
        sha256: str | None = None,
        details: dict[str, Any] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Store one import in ONE transaction: the batch, the new readings, the rejected rows, and the
        meter's daily consumption. Readings already stored (same meter, time, kind) are counted as
        duplicates and stored nothing twice. A failure anywhere stores nothing. Readings outside the
        bounds of ``contest.readings`` (time, interval length, energy, register rises) are not stored:
        they become rejected records with their reason (their line when the frame has ``line_no``).
        """
        validate_readings(readings)
        with self.db.session() as session:
            problems = self._out_of_bounds(session, ctx, readings)
            if len(problems):
                rejections = (*rejections, *_bound_rejections(readings, problems))
                readings = readings.drop(index=problems.index)
            if len(readings) >= BULK_ROWS_WITHOUT_FK_CHECKS and session.connection().dialect.name == "sqlite":
                # Every row references this meter (looked up just before) and the batch created below
                # in the same transaction, so SQLite's per-row foreign-key lookups only cost time (~10 %
                # of a 1 M-row import, BENCHMARKS.md). The pragma must come before the first write of
                # the transaction; the pool's check-in hook switches the checks on again (contest.db).
                session.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")
            batch = ImportBatch(
                meter_id=ctx.meter_id,
                source=source,
                filename=filename,
                sha256=sha256,
                rows_read=rows_read,
                rows_rejected=len(rejections),
                details=details or {},
                created_at=self.clock(),
            )
            session.add(batch)
            session.flush()
            # The daily consumption of the affected days is computed (pure pandas) in a thread while
            # SQLite, which releases the GIL, stores the readings: imports of 1 M rows save ~0.4 s.
            plan = (
                self._daily_plan(session, ctx.meter_id, ctx.timezone, readings, batch.id)
                if len(readings)
                else None
            )
            with ThreadPoolExecutor(max_workers=1) as pool:
                daily_job = pool.submit(plan.compute) if plan else None
                stored = self._insert_readings(session, ctx.meter_id, readings, source, batch.id, progress)
                daily = daily_job.result() if daily_job else None
            if rejections:
                session.execute(
                    insert(RejectedRecord),
                    [
                        {
                            "batch_id": batch.id,
                            "meter_id": ctx.meter_id,
                            "source": source,
                            "line_no": r.line_no,
                            "raw": storable_text(r.raw),
                            "reason": storable_text(r.reason),
                            "key": r.key,
                        }
                        for r in rejections
                    ],
                )
            batch.rows_stored = stored
            batch.rows_duplicate = len(readings) - stored
            if stored and plan is not None and daily is not None:
                plan.write(session, daily)
            first = readings[TS_UTC].min() if len(readings) else None
            last = readings[TS_UTC].max() if len(readings) else None
            return ImportReport(
                batch_id=batch.id,
                meter_external_id=ctx.external_id,
                filename=filename,
                rows_read=rows_read,
                rows_stored=stored,
                rows_duplicate=len(readings) - stored,
                rows_rejected=len(rejections),
                rejections=tuple(rejections[:REPORT_REJECTIONS_MAX]),
                details=details or {},
                first_ts_utc=first.to_pydatetime() if first is not None else None,
                last_ts_utc=last.to_pydatetime() if last is not None else None,
            )

    def out_of_bounds(self, ctx: MeterContext, readings: pd.DataFrame) -> pd.DataFrame:
        """The readings ``store`` would reject for the meter, with why (``contest.readings.out_of_bounds``:
        key, reason; indexed like ``readings``). The upload preview shows them before storing."""
        validate_readings(readings)
        with self.db.session() as session:
            return self._out_of_bounds(session, ctx, readings)

    def _out_of_bounds(self, session: Session, ctx: MeterContext, readings: pd.DataFrame) -> pd.DataFrame:
        """Bounds of every reading; register rises are judged within each register series of the
        meter (docs/glossary.md), from the last stored reading of that series before the new ones."""
        starts = [s.starts_at for s in ctx.series if s.starts_at is not None]
        # A series holds the readings after its start up to and including the next one's (_DailyPlan).
        series = pd.Series(
            pd.DatetimeIndex(pd.to_datetime(starts, utc=True)).searchsorted(
                pd.DatetimeIndex(readings[TS_UTC]), side="left"
            )
            if starts
            else np.zeros(len(readings), dtype=np.int64),
            index=readings.index,
        )
        previous: dict[Any, tuple[dt.datetime, float]] = {}
        registers = readings[KIND] == KIND_REGISTER
        for k, first in readings.loc[registers, TS_UTC].groupby(series[registers]).min().items():
            found = last_register(
                session, ctx.meter_id, after=starts[int(k) - 1] if int(k) > 0 else None, before=first
            )
            if found is not None:
                previous[k] = found
        return out_of_bounds(readings, now=self.clock(), series=series, previous=previous)

    @staticmethod
    def _insert_readings(
        session: Session,
        meter_id: int,
        readings: pd.DataFrame,
        source: str,
        batch_id: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Bulk insert through the DBAPI; returns the number of rows actually stored (the rest were
        stored before). SQLAlchemy's executemany converts every value (~0.2 M rows/s); here SQLite gets
        two bound values per row and the per-batch constants as literals (~0.4 M rows/s with the key),
        PostgreSQL gets COPY."""
        if readings.empty:
            return 0
        if source not in SOURCES:
            raise ValueError(f"unknown reading source {source!r}")
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            stored = done = 0
            durations = readings[DURATION_S].astype("float64")
            # Rows of one kind and one interval length share their constants (usually: one group).
            groups = readings.groupby([readings[KIND], durations.fillna(-1.0)], sort=False)
            for (kind, duration), group in groups:
                if kind not in (KIND_REGISTER, KIND_INTERVAL):
                    raise ValueError(f"unknown reading kind {kind!r}")
                duration_sql = "NULL" if duration < 0 else repr(float(duration))
                sql = (
                    "INSERT INTO reading (meter_id, ts_utc, energy_kwh, kind, duration_s, source, batch_id) "
                    f"VALUES ({int(meter_id)}, ?, ?, '{kind}', {duration_sql}, '{source}', {int(batch_id)}) "
                    "ON CONFLICT (meter_id, ts_utc, kind) DO NOTHING"
                )
                ts = _epoch_us(group[TS_UTC]).tolist()
                energy = group[ENERGY_KWH].astype("float64").tolist()
                for start in range(0, len(ts), INSERT_CHUNK_ROWS):
                    end = start + INSERT_CHUNK_ROWS
                    cursor.executemany(sql, zip(ts[start:end], energy[start:end], strict=True))
                    stored += int(cursor.rowcount)
                    done += len(ts[start:end])
                    if progress:
                        progress(done, len(readings))
            return stored
        durations_py = [None if math.isnan(d) else d for d in readings[DURATION_S].astype("float64").tolist()]
        rows = zip(
            [meter_id] * len(readings),
            readings[TS_UTC].dt.tz_convert("UTC").dt.to_pydatetime().tolist(),
            readings[ENERGY_KWH].astype("float64").tolist(),
            readings[KIND].astype(str).tolist(),
            durations_py,
            strict=True,
        )
        return pg_copy_readings(
            connection, rows, source=source, batch_id=batch_id, progress=progress, total=len(readings)
        )

    @staticmethod
    def _frame(rows: Sequence[Any]) -> pd.DataFrame:
        frame = pd.DataFrame(list(rows), columns=[TS_UTC, ENERGY_KWH, KIND, DURATION_S])
        if len(frame) and isinstance(frame[TS_UTC].iloc[0], int | np.integer):  # raw SQLite values
            frame[TS_UTC] = pd.to_datetime(frame[TS_UTC].astype("int64"), unit="us", utc=True)
        else:
            frame[TS_UTC] = pd.to_datetime(frame[TS_UTC], utc=True, format="ISO8601")
        frame[ENERGY_KWH] = frame[ENERGY_KWH].astype("float64")
        frame[DURATION_S] = frame[DURATION_S].astype("float64")
        frame[KIND] = frame[KIND].astype(str)
        return frame

    @classmethod
    def load_readings(cls, session: Session, meter_id: int) -> pd.DataFrame:
        """All readings of a meter (ts_utc, energy_kwh, kind, duration_s)."""
        result = session.execute(
            text("SELECT ts_utc, energy_kwh, kind, duration_s FROM reading WHERE meter_id = :m"),
            {"m": meter_id},
        )
        return cls._frame(result.all())

    def _daily_plan(
        self, session: Session, meter_id: int, tz: str, new: pd.DataFrame, batch_id: int
    ) -> _DailyPlan:
        """Which local days the new readings can change, and the older readings those days need.

        New readings change the register segments from the last older reading before them to the
        first older reading after them, and the days their intervals touch. Those days are rebuilt
        from every reading that contributes to them: the new ones (from memory, so a large first
        import never reads its rows back) and the older ones of that window (from the database).
        """
        zone = ZoneInfo(tz)
        older = or_(Reading.batch_id.is_(None), Reading.batch_id != batch_id)
        mine = (Reading.meter_id == meter_id, older)
        # A reading daily consumption cannot place (an interval longer than a year, 1e12 s; a time in
        # the year 3000; stored before the bounds existed) changes no day: it must not widen the window
        # past what a timestamp can hold either.
        placed = new[new[TS_UTC].between(S.SCORABLE_TIME_MIN_UTC, S.SCORABLE_TIME_MAX_UTC, inclusive="left")]
        if placed.empty:  # nothing to rebuild: an empty window (day_lo after day_hi)
            return _DailyPlan(meter_id, tz, dt.date.max, dt.date.min, self._frame([]), new)
        durations = placed[DURATION_S].astype("float64")
        spread = (durations > 0) & (durations <= S.MAX_SPREAD_INTERVAL_S)
        ends = placed[TS_UTC] + pd.to_timedelta(durations.where(spread, 0.0), unit="s")
        lo, hi = placed[TS_UTC].min().to_pydatetime(), ends.max().to_pydatetime()
        registers = Reading.kind == KIND_REGISTER
        prev = session.scalar(select(func.max(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc < lo))
        nxt = session.scalar(select(func.min(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc > hi))
        day_lo = (prev or lo).astimezone(zone).date()
        day_hi = (nxt or hi).astimezone(zone).date()
        window_lo = dt.datetime.combine(day_lo, dt.time(), zone)
        window_hi = dt.datetime.combine(day_hi + dt.timedelta(days=1), dt.time(), zone)
        # Register readings just outside the window close the segments that reach into it.
        a = session.scalar(
            select(func.max(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc <= window_lo)
        )
        b = session.scalar(
            select(func.min(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc >= window_hi)
        )
        rows = session.execute(
            select(Reading.ts_utc, Reading.energy_kwh, Reading.kind, Reading.duration_s).where(
                *mine,
                or_(
                    and_(registers, Reading.ts_utc >= (a or window_lo), Reading.ts_utc <= (b or window_hi)),
                    and_(
                        Reading.kind != KIND_REGISTER,
                        Reading.ts_utc >= window_lo - dt.timedelta(days=2),
                        Reading.ts_utc < window_hi,
                    ),
                ),
            )
        ).all()
        starts = tuple(s.starts_at for s in meter_series(session, meter_id) if s.starts_at is not None)
        return _DailyPlan(meter_id, tz, day_lo, day_hi, self._frame(rows), new, starts)

    def rebuild_all_daily(self, external_id: str) -> None:
        """Recompute a meter's daily consumption from all its readings (repair; tests compare with it)."""
        ctx = MeterService(self.db).import_context(external_id)
        with self.db.session() as session:
            readings = self.load_readings(session, ctx.meter_id)
            session.execute(delete(DailyConsumption).where(DailyConsumption.meter_id == ctx.meter_id))
            if readings.empty:
                return
            plan = self._daily_plan(session, ctx.meter_id, ctx.timezone, readings, batch_id=-1)
            plan.write(session, plan.compute())

    def household_daily(self, household_id: int, carrier: str) -> pd.DataFrame:
        """Daily consumption of a household's meters of one carrier, summed (day, energy_kwh, coverage)."""
        with self.db.session() as session:
            rows = session.execute(
                select(DailyConsumption.day, DailyConsumption.energy_kwh, DailyConsumption.coverage_fraction)
                .join(Meter, Meter.id == DailyConsumption.meter_id)
                .where(Meter.household_id == household_id, Meter.carrier == carrier)
            ).all()
        frame = pd.DataFrame(rows, columns=[S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION])
        if frame.empty:
            return frame
        out = frame.groupby(S.DAY, as_index=False).sum()
        out[S.COVERAGE_FRACTION] = out[S.COVERAGE_FRACTION].clip(upper=1.0)
        return out.sort_values(S.DAY).reset_index(drop=True)

    def daily(self, external_id: str) -> pd.DataFrame:
        """The stored daily consumption of a meter (day, energy_kwh, coverage_fraction)."""
        with self.db.session() as session:
            rows = session.execute(
                select(DailyConsumption.day, DailyConsumption.energy_kwh, DailyConsumption.coverage_fraction)
                .join(Meter, Meter.id == DailyConsumption.meter_id)
                .where(Meter.external_id == external_id)
                .order_by(DailyConsumption.day)
            ).all()
        return pd.DataFrame(rows, columns=[S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION])

    def rejected_records(self, batch_id: int) -> list[Rejection]:
        with self.db.session() as session:
            rows = session.scalars(
                select(RejectedRecord).where(RejectedRecord.batch_id == batch_id).order_by(RejectedRecord.id)
            ).all()
            return [Rejection(r.line_no, r.raw, r.reason, r.key) for r in rows]

    def count_readings(self, external_id: str) -> int:
        with self.db.session() as session:
            return int(
                session.execute(
                    text(
                        "SELECT count(*) FROM reading JOIN meter ON meter.id = reading.meter_id "
                        "WHERE meter.external_id = :e"
                    ),
                    {"e": external_id},
                ).scalar_one()
            )


def _bound_rejections(readings: pd.DataFrame, problems: pd.DataFrame) -> list[Rejection]:
    """Rejected records of the readings ``out_of_bounds`` named: their line (a parser's ``line_no``)
    or, without one, the reading as text."""
    rows = readings.loc[problems.index]
    lines = rows[LINE_NO].tolist() if LINE_NO in rows else [None] * len(rows)
    return [
        Rejection(
            int(line) if line is not None and not pd.isna(line) else None,
            reading_text(ts, energy, kind, duration),
            str(reason),
            str(key),
        )
        for line, ts, energy, kind, duration, key, reason in zip(
            lines,
            rows[TS_UTC],
            rows[ENERGY_KWH],
            rows[KIND],
            rows[DURATION_S],
            problems[BOUND_KEY],
            problems[BOUND_REASON],
            strict=True,
        )
    ]


def reading_text(ts: Any, energy_kwh: Any, kind: Any, duration_s: Any) -> str:
    """A reading as a rejected record's raw text, where no source line is known."""
    length = "" if duration_s is None or pd.isna(duration_s) else f" {float(duration_s):g} s"
    return f"{pd.Timestamp(ts).isoformat()} {kind} {float(energy_kwh):g} kWh{length}"


def _float_or_none(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _fraction(value: Any) -> float:
    """A coverage fraction [0..1]; none measured yet (before the competition starts: NaN) is 0."""
    number = _float_or_none(value)
    return 0.0 if number is None or not math.isfinite(number) else number


def _shown_fraction(value: Any) -> float | None:
    """The savings fraction as ranked and shown (0.1 percentage point), so pages and API agree with ranks."""
    raw = _float_or_none(value)
    return None if raw is None else shown_savings_fraction(raw)


def _int_or_none(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


class LeaderboardService:
    """Scores a contest from its stored daily consumption (scoring itself is pure pandas)."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        #: where "now" comes from (tests and replays pass a fixed clock)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def score(
        self, slug: str, as_of: dt.datetime | None = None
    ) -> tuple[ContestInfo, Leaderboard, dict[int, str]]:
        as_of = as_of or self.clock()
        # Streamed (MQTT) readings only mark their days dirty; bring those days up to date first.
        from contest.streams import StreamService

        StreamService(self.db).refresh_daily()
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            info = _contest_info(contest)
            teams = {t.id: t.name for t in contest.teams}
            spec = dict(contest.scoring_spec or {})
            weather = pd.DataFrame(
                session.execute(
                    select(WeatherDay.day, WeatherDay.temp_c).where(WeatherDay.contest_id == contest.id)
                ).all(),
                columns=[S.DAY, S.TEMP_C],
            )
            weather[S.DAY] = pd.to_datetime(weather[S.DAY])
            hh_rows = session.execute(
                select(
                    Household.id,
                    Household.team_id,
                    Household.persons,
                    Household.pseudonym,
                    Household.public_listing,
                    Household.living_area_m2,
                    Household.building_type,
                    Household.electric_hot_water,
                ).where(Household.contest_id == contest.id)
            ).all()
            absences = absence_ranges(session, contest.id)
            daily_rows = session.execute(
                select(
                    DailyConsumption.meter_id,
                    Meter.household_id,
                    DailyConsumption.day,
                    DailyConsumption.energy_kwh,
                    DailyConsumption.coverage_fraction,
                )
                .join(Meter, Meter.id == DailyConsumption.meter_id)
                .join(Household, Household.id == Meter.household_id)
                .where(Household.contest_id == contest.id, Meter.carrier == contest.carrier)
            ).all()
        households = pd.DataFrame(
            hh_rows,
            columns=[
                S.HOUSEHOLD_ID,
                S.TEAM_ID,
                S.PERSONS,
                "pseudonym",
                "public_listing",
                S.LIVING_AREA_M2,
                S.BUILDING_TYPE,
                S.ELECTRIC_HOT_WATER,
            ],
        )
        households[S.TEAM_ID] = households[S.TEAM_ID].astype("Int64")
        meter_daily = pd.DataFrame(
            daily_rows, columns=[S.METER_ID, S.HOUSEHOLD_ID, S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION]
        )
        meter_daily[S.DAY] = pd.to_datetime(meter_daily[S.DAY])
        meter_households = meter_daily[[S.METER_ID, S.HOUSEHOLD_ID]].drop_duplicates()
        daily = household_daily(meter_daily.drop(columns=[S.HOUSEHOLD_ID]), meter_households)
        board = score_contest(
            daily,
            households,
            scoring_rules(info, spec),
            pd.Timestamp(as_of),
            weather=weather if len(weather) else None,
            absences=expand_absence_ranges(absences) if len(absences) else None,
        )
        return info, board, teams

    def leaderboard(
        self, slug: str, as_of: dt.datetime | None = None, *, public_only: bool = True
    ) -> LeaderboardView:
        """The leaderboard of ``slug``; with ``public_only`` households not opted in are left out of the
        household table (they still count for their team)."""
        info, board, team_names = self.score(slug, as_of)
        hh = board.households
        households = []
        for row in hh.to_dict("records"):
            if public_only and not bool(row["public_listing"]):
                continue
            team_id = _int_or_none(row[S.TEAM_ID])
            households.append(
                HouseholdStanding(
                    household_id=int(row[S.HOUSEHOLD_ID]),
                    pseudonym=str(row["pseudonym"]),
                    team=team_names.get(team_id) if team_id is not None else None,
                    persons=int(row[S.PERSONS]),
                    public_listing=bool(row["public_listing"]),
                    status=str(row[S.STATUS]),
                    rank=_int_or_none(row[S.RANK]),
                    savings_fraction=_shown_fraction(row[S.SAVINGS_FRACTION]),
                    savings_kwh=_float_or_none(row[S.SAVINGS_KWH]),
                    savings_kwh_per_person=_float_or_none(row[S.SAVINGS_KWH_PER_PERSON]),
                    expected_kwh=_float_or_none(row[S.EXPECTED_KWH]),
                    actual_kwh=_float_or_none(row[S.ACTUAL_KWH]),
                    baseline_kwh_per_day=_float_or_none(row[S.BASELINE_KWH_PER_DAY]),
                    coverage_fraction=min(
                        _fraction(row[S.BASELINE_COVERAGE_FRACTION]),
                        _fraction(row[S.COMPETITION_COVERAGE_FRACTION]),
                    ),
                    baseline_coverage_fraction=_fraction(row[S.BASELINE_COVERAGE_FRACTION]),
                    competition_coverage_fraction=_fraction(row[S.COMPETITION_COVERAGE_FRACTION]),
                    co2_saved_kg=_float_or_none(row.get(S.CO2_SAVED_KG)),
                    statistically_tied=bool(row.get(S.STATISTICALLY_TIED) is True),
                    status_reason=_str_or_none(row.get(S.STATUS_REASON)),
                    baseline_method=_str_or_none(row.get(S.BASELINE_METHOD)),
                    category=_str_or_none(row.get(S.CATEGORY)),
                    category_rank=_int_or_none(row.get(S.CATEGORY_RANK)),
                    savings_kwh_per_m2=_float_or_none(row.get(S.SAVINGS_KWH_PER_M2)),
                )
            )
        teams = [
            TeamStanding(
                team_id=int(row[S.TEAM_ID]),
                name=team_names.get(int(row[S.TEAM_ID]), f"Team {row[S.TEAM_ID]}"),
                members=int(row[S.MEMBERS]),
                ranked_members=int(row[S.RANKED_MEMBERS]),
                status=str(row[S.STATUS]),
                rank=_int_or_none(row[S.RANK]),
                savings_fraction=_shown_fraction(row[S.SAVINGS_FRACTION]),
                savings_kwh=_float_or_none(row[S.SAVINGS_KWH]),
                savings_kwh_per_person=_float_or_none(row[S.SAVINGS_KWH_PER_PERSON]),
                expected_kwh=_float_or_none(row[S.EXPECTED_KWH]),
                actual_kwh=_float_or_none(row[S.ACTUAL_KWH]),
                co2_saved_kg=_float_or_none(row.get(S.CO2_SAVED_KG)),
            )
            for row in board.teams.to_dict("records")
        ]
        elapsed = int(hh[S.COMPETITION_DAYS].max()) if len(hh) and hh[S.COMPETITION_DAYS].notna().any() else 0
        ranked = hh[hh[S.STATUS] == S.STATUS_RANKED]
        city = CityFigures(
            participants=len(hh),
            ranked=len(ranked),
            teams=len(team_names),
            savings_kwh=float(ranked[S.SAVINGS_KWH].sum()) if len(ranked) else 0.0,
            expected_kwh=float(ranked[S.EXPECTED_KWH].sum()) if len(ranked) else 0.0,
            co2_saved_kg=float(ranked[S.CO2_SAVED_KG].fillna(0).sum())
            if len(ranked) and S.CO2_SAVED_KG in ranked
            else 0.0,
            baseline_ready=int(
                (
                    hh[S.BASELINE_COVERAGE_FRACTION].astype(float).fillna(0.0) >= info.min_coverage_fraction
                ).sum()
            )
            if len(hh)
            else 0,
        )
        return LeaderboardView(
            contest=info,
            as_of=board.as_of.to_pydatetime(),
            competition_days_elapsed=elapsed,
            teams=tuple(teams),
            households=tuple(households),
            findings=board.findings,
            city=city,
            provenance={
                "method": board.method,
                "parameters": dict(board.parameters),
                "input_fingerprint": board.input_fingerprint,
                "as_of": board.as_of.isoformat(),
            },
        )


def _clean_name(value: str, what: str, max_len: int) -> str:
    """A name people will see (pseudonym, team, meter id): trimmed, printable, storable everywhere."""
    text = value.strip()
    if not text:
        raise ConfigError(f"{what} must not be empty")
    if len(text) > max_len:
        raise ConfigError(f"{what} is longer than {max_len} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError(f"{what} contains characters that are not valid text") from exc
    if any(not ch.isprintable() for ch in text):
        raise ConfigError(f"{what} contains control characters")
    return text


def _household_named(session: Session, contest: Contest, pseudonym: str) -> Household | None:
    if "\x00" in pseudonym:  # PostgreSQL text cannot hold NUL: no household has such a name
        return None
    return session.scalars(
        select(Household).where(Household.contest_id == contest.id, Household.pseudonym == pseudonym)
    ).one_or_none()


def resolve_team(session: Session, contest: Contest, name: str, *, create: bool = False) -> Team:
    """The contest's team called ``name``. An unknown name is a :class:`ConfigError` that lists the
    contest's teams, unless ``create`` says the staff mean a new team: a typo must not found one."""
    team = session.scalars(select(Team).where(Team.contest_id == contest.id, Team.name == name)).one_or_none()
    if team is not None:
        return team
    if not create:
        known = ", ".join(repr(n) for n in sorted(t.name for t in contest.teams)) or "none yet"
        raise ConfigError(
            f"contest {contest.slug!r} has no team named {name!r}; its teams: {known}. To create a new "
            "team, say so (contest household add --create-team; admin API: create_team: true).",
            key="household.unknown_team",
        )
    team = Team(contest=contest, name=name)
    session.add(team)
    return team


def _household_info(h: Household) -> HouseholdInfo:
    return HouseholdInfo(
        id=h.id,
        contest_slug=h.contest.slug,
        contest_name=h.contest.name,
        pseudonym=h.pseudonym,
        team=h.team.name if h.team else None,
        persons=h.persons,
        living_area_m2=h.living_area_m2,
        public_listing=h.public_listing,
        meters=tuple(
            MeterInfo(m.external_id, m.carrier, m.kind) for m in sorted(h.meters, key=lambda m: m.id)
        ),
        building_type=h.building_type,
        electric_hot_water=h.electric_hot_water,
    )


class HouseholdService:
    """Households of a contest: adding them, their access codes, and what they may see and do."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        slug: str,
        pseudonym: str,
        *,
        persons: int = 1,
        team: str | None = None,
        public_listing: bool = False,
        living_area_m2: float | None = None,
        meters: Sequence[MeterInfo] = (),
        building_type: str | None = None,
        electric_hot_water: bool | None = None,
        create_team: bool = False,
    ) -> tuple[HouseholdInfo, str]:
        """Add a new household; returns it and its access code, shown once (only its hash is stored).

        A pseudonym the contest has is :class:`AlreadyExists` and changes nothing (a new code for it:
        :meth:`issue_access_code`). ``team`` must exist unless ``create_team`` (see :func:`resolve_team`).
        """
        check_persons(persons)
        pseudonym = _clean_name(pseudonym, "pseudonym", 80)
        team = _clean_name(team, "team", 200) if team is not None else None
        living_area_m2 = check_living_area_m2(living_area_m2)
        _check_building_type(building_type)
        for m in meters:
            _clean_name(m.external_id, "meter id", 120)
            if m.carrier not in CARRIERS:
                raise ConfigError(f"meter {m.external_id!r}: carrier must be one of {CARRIERS}")
            if m.kind not in METER_KINDS:
                raise ConfigError(f"meter {m.external_id!r}: kind must be one of {METER_KINDS}")
        code = generate_code()
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            if _household_named(session, contest, pseudonym) is not None:
                raise AlreadyExists(
                    f"contest {slug!r} already has a household {pseudonym!r}; nothing was changed. A new "
                    f"access code for it: contest household code {slug} {pseudonym!r} (or the admin API's "
                    "access-code action); its facts: edit the household.",
                    key="household.pseudonym_taken",
                )
            h = Household(
                contest=contest,
                pseudonym=pseudonym,
                persons=persons,
                public_listing=public_listing,
                living_area_m2=living_area_m2,
                building_type=building_type,
                electric_hot_water=electric_hot_water,
            )
            session.add(h)
            if team is not None:
                h.team = resolve_team(session, contest, team, create=create_team)
            for m in meters:
                existing = session.scalars(
                    select(Meter).where(Meter.external_id == m.external_id)
                ).one_or_none()
                if existing is not None and existing.household is not h:
                    raise ConfigError(f"meter {m.external_id!r} belongs to another household")
                if existing is None:
                    session.add(Meter(external_id=m.external_id, carrier=m.carrier, kind=m.kind, household=h))
            h.access_code_hash = hash_code(code)
            session.flush()
            session.refresh(h)
            return _household_info(h), code

    def find(self, slug: str, pseudonym: str) -> HouseholdInfo:
        """The household of the contest ``slug`` with this pseudonym; :class:`HouseholdNotFound` otherwise."""
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            h = _household_named(session, contest, pseudonym.strip())
            if h is None:
                raise HouseholdNotFound(f"contest {slug!r} has no household {pseudonym!r}")
            return _household_info(h)

    def issue_access_code(self, household_id: int) -> tuple[HouseholdInfo, str]:
        """A new personal access code for the household, returned once (only its hash is stored); the
        old code stops working at once, and so does every portal session signed in with it. Nothing
        else of the household changes."""
        code = generate_code()
        with self.db.session() as session:
            h = session.get(Household, household_id)
            if h is None:
                raise HouseholdNotFound(f"no household with id {household_id}")
            h.access_code_hash = hash_code(code)
            h.session_key = None
            session.flush()
            return _household_info(h), code

    def sign_in(self, code: str) -> tuple[HouseholdInfo, str]:
        """The household whose access code this is and the key its portal sessions carry (made at the
        first sign-in after the last :meth:`end_sessions`); :class:`PermissionDenied` otherwise."""
        info = self.authenticate(code)
        with self.db.session() as session:
            h = session.get(Household, info.id)
            if h is None:  # deleted in between
                raise PermissionDenied("Zugangscode ungültig / invalid access code", key="auth.invalid_code")
            if h.session_key is None:
                h.session_key = new_session_key()
            return info, h.session_key

    def check_session(self, household_id: int, session_key: str) -> None:
        """A portal session is valid while its household exists with this key; otherwise
        :class:`PermissionDenied` (the portal then shows the login)."""
        with self.db.session() as session:
            stored = session.scalar(select(Household.session_key).where(Household.id == household_id))
        if not same_session_key(stored, session_key):
            raise PermissionDenied("Bitte anmelden / please sign in", key="auth.signed_out")

    def end_sessions(self, household_id: int) -> None:
        """Sign the household out everywhere: every cookie signed so far stops working (its devices
        share one access code, so signing out on one ends all, as a new code does)."""
        with self.db.session() as session:
            h = session.get(Household, household_id)
            if h is not None:
                h.session_key = None

    def authenticate(self, code: str) -> HouseholdInfo:
        """The household whose access code this is; :class:`PermissionDenied` otherwise."""
        # A code is 19 characters as printed; more than 100 typed is no code (and no work for the DB).
        if len(code) > 100 or len(normalize_code(code)) < 8:
            raise PermissionDenied("Zugangscode ungültig / invalid access code", key="auth.invalid_code")
        with self.db.session() as session:
            h = session.scalars(
                select(Household).where(Household.access_code_hash == hash_code(code))
            ).first()
            if h is None:
                raise PermissionDenied("Zugangscode ungültig / invalid access code", key="auth.invalid_code")
            return _household_info(h)

    def get(self, household_id: int) -> HouseholdInfo:
        with self.db.session() as session:
            h = session.get(Household, household_id)
            if h is None:
                raise HouseholdNotFound(f"no household with id {household_id}")
            return _household_info(h)

    def require_own_meter(self, household_id: int, meter_external_id: str) -> MeterInfo:
        """The meter, if it belongs to this household; :class:`PermissionDenied` otherwise."""
        info = self.get(household_id)
        for m in info.meters:
            if m.external_id == meter_external_id:
                return m
        raise PermissionDenied(
            f"Zähler {meter_external_id!r} gehört nicht zu diesem Haushalt / meter {meter_external_id!r} "
            "does not belong to this household",
            key="auth.not_own_meter",
        )

    def batches(self, household_id: int, limit: int = 50) -> list[BatchSummary]:
        with self.db.session() as session:
            rows = session.execute(
                select(ImportBatch, Meter.external_id)
                .join(Meter, Meter.id == ImportBatch.meter_id)
                .where(Meter.household_id == household_id)
                .order_by(ImportBatch.id.desc())
                .limit(limit)
            ).all()
            return [
                BatchSummary(
                    b.id,
                    ext,
                    b.source,
                    b.filename,
                    b.created_at,
                    b.rows_read,
                    b.rows_stored,
                    b.rows_duplicate,
                    b.rows_rejected,
                )
                for b, ext in rows
            ]

    def batch_of_household(self, household_id: int, batch_id: int) -> BatchSummary:
        for b in self.batches(household_id, limit=10_000):
            if b.batch_id == batch_id:
                return b
        raise PermissionDenied("Import nicht gefunden / import not found", key="auth.not_own_batch")


class HouseholdDataService:
    """A household's own data: everything stored about it, and deleting it (privacy by design)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def export(self, household_id: int) -> dict[str, Any]:
        """Everything stored about the household, as JSON-able data."""
        info = HouseholdService(self.db).get(household_id)
        with self.db.session() as session:
            meter_ids = list(session.scalars(select(Meter.id).where(Meter.household_id == household_id)))
            meters = {
                m.id: m.external_id for m in session.scalars(select(Meter).where(Meter.id.in_(meter_ids)))
            }
            readings = session.execute(
                select(
                    Reading.meter_id,
                    Reading.ts_utc,
                    Reading.kind,
                    Reading.energy_kwh,
                    Reading.duration_s,
                    Reading.source,
                )
                .where(Reading.meter_id.in_(meter_ids))
                .order_by(Reading.meter_id, Reading.ts_utc)
            ).all()
            daily = session.execute(
                select(
                    DailyConsumption.meter_id,
                    DailyConsumption.day,
                    DailyConsumption.energy_kwh,
                    DailyConsumption.coverage_fraction,
                )
                .where(DailyConsumption.meter_id.in_(meter_ids))
                .order_by(DailyConsumption.meter_id, DailyConsumption.day)
            ).all()
            rejected = session.scalars(
                select(RejectedRecord)
                .where(RejectedRecord.meter_id.in_(meter_ids))
                .order_by(RejectedRecord.id)
            ).all()
            return {
                "household": {
                    "pseudonym": info.pseudonym,
                    "contest": info.contest_slug,
                    "team": info.team,
                    "persons": info.persons,
                    "living_area_m2": info.living_area_m2,
                    "public_listing": info.public_listing,
                    "building_type": info.building_type,
                    "electric_hot_water": info.electric_hot_water,
                },
                "meters": [{"id": m.external_id, "carrier": m.carrier, "kind": m.kind} for m in info.meters],
                "absences": [
                    {"first_day": a.first_day.isoformat(), "last_day": a.last_day.isoformat(), "note": a.note}
                    for a in session.scalars(
                        select(Absence)
                        .where(Absence.household_id == household_id)
                        .order_by(Absence.first_day)
                    )
                ],
                "readings": [
                    {
                        "meter": meters[m],
                        "ts_utc": ts.isoformat(),
                        "kind": k,
                        "energy_kwh": e,
                        "duration_s": d,
                        "source": src,
                    }
                    for m, ts, k, e, d, src in readings
                ],
                "daily_consumption": [
                    {"meter": meters[m], "day": day.isoformat(), "energy_kwh": e, "coverage_fraction": c}
                    for m, day, e, c in daily
                ],
                "rejected_records": [
                    {
                        "source": r.source,
                        "line_no": r.line_no,
                        "topic": r.topic,
                        "raw": r.raw,
                        "reason": r.reason,
                        "created_at": r.created_at.isoformat(),
                    }
                    for r in rejected
                ],
            }

    def delete(self, household_id: int) -> str:
        """Delete the household with its meters, readings, daily values, imports and rejected records;
        returns the contest slug (to republish it without the household)."""
        with self.db.session() as session:
            h = session.get(Household, household_id)
            if h is None:
                raise HouseholdNotFound(f"no household with id {household_id}")
            slug = h.contest.slug
            meter_ids = [m.id for m in h.meters]
            if meter_ids:
                session.execute(delete(RejectedRecord).where(RejectedRecord.meter_id.in_(meter_ids)))
                session.execute(delete(Reading).where(Reading.meter_id.in_(meter_ids)))
                session.execute(delete(DailyConsumption).where(DailyConsumption.meter_id.in_(meter_ids)))
            session.delete(h)
            return slug


def _check_building_type(building_type: str | None) -> None:
    if building_type is not None and building_type not in BUILDING_TYPES:
        raise ConfigError(
            f"building_type must be one of {BUILDING_TYPES}, got {building_type!r}",
            key="household.building_type",
        )


#: What a household may leave unchanged in :func:`update_household_settings`.
UNCHANGED: Any = object()


def update_household_settings(
    db: Database,
    household_id: int,
    *,
    pseudonym: str,
    public_listing: bool,
    building_type: str | None = UNCHANGED,
    electric_hot_water: bool | None = UNCHANGED,
) -> None:
    """A household changes its own pseudonym, whether it is listed publicly, and the facts the peer
    benchmark uses (building type, electric hot water; None = not stated)."""
    pseudonym = _clean_name(pseudonym, "pseudonym", 80)
    if building_type is not UNCHANGED:
        _check_building_type(building_type)
    with db.session() as session:
        h = session.get(Household, household_id)
        if h is None:
            raise HouseholdNotFound(f"no household with id {household_id}")
        taken = session.scalars(
            select(Household.id).where(
                Household.contest_id == h.contest_id, Household.pseudonym == pseudonym, Household.id != h.id
            )
        ).first()
        if taken is not None:
            raise ConfigError(
                f"Das Pseudonym {pseudonym!r} ist schon vergeben. / The pseudonym {pseudonym!r} is taken.",
                key="household.pseudonym_taken",
            )
        h.pseudonym = pseudonym
        h.public_listing = public_listing
        if building_type is not UNCHANGED:
            h.building_type = building_type
        if electric_hot_water is not UNCHANGED:
            h.electric_hot_water = electric_hot_water


class WeatherService:
    """Daily mean temperatures of a contest's area (degree-day baselines)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def store(self, slug: str, weather: pd.DataFrame) -> int:
        """Store (or replace) days of ``weather`` (day, temp_c [°C]); returns the days stored. Days
        without a temperature (the DWD's -999) stay missing: the models leave them out."""
        weather = weather.dropna(subset=[S.TEMP_C])
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            days = pd.to_datetime(weather[S.DAY]).dt.date.tolist()
            session.execute(
                delete(WeatherDay).where(WeatherDay.contest_id == contest.id, WeatherDay.day.in_(days))
            )
            session.execute(
                insert(WeatherDay),
                [
                    {"contest_id": contest.id, "day": d, "temp_c": float(t)}
                    for d, t in zip(days, weather[S.TEMP_C].tolist(), strict=True)
                ],
            )
            return len(days)
