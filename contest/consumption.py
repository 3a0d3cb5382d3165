"""Daily consumption of each meter: derived from its readings (scoring.daily), kept current one way.

**How it is kept current.** One plan (:class:`DailyPlan`) rebuilds the local days that new readings can
change, from those readings plus the stored readings of that window, and is the only writer of daily
rows and of their findings. Every store leaves each day either rebuilt or marked (``daily_dirty``):

- a file import, a manual reading or a meter swap rebuilds its days in its own transaction, from the
  rows it holds in memory (a 1 M-row file is never read back: reading it back took 8 s on the bench
  machine, computing its days 0.5 s in a thread beside the insert, BENCHMARKS.md);
- an MQTT batch only marks its meters from its earliest reading (rebuilding a device's day every few
  seconds would re-read that day's readings with each batch);
- :func:`refresh_daily` rebuilds every marked meter: the scheduler job calls it, and so does every
  scoring before it reads the days (``PublishingService.score``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Insert, and_, delete, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest.db import Database
from contest.models import Contest, DailyConsumption, DailyDirty, DailyFinding, Household, Meter, Reading
from contest.readings import DURATION_S, ENERGY_KWH, KIND, KIND_REGISTER, TS_UTC
from contest.register_series import series_starts
from scoring import schema as S
from scoring.daily import daily_consumption, household_daily
from scoring.findings import Finding

log = logging.getLogger(__name__)


def reading_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """Stored readings (ts_utc, energy_kwh, kind, duration_s rows) as a readings frame."""
    frame = pd.DataFrame(list(rows), columns=[TS_UTC, ENERGY_KWH, KIND, DURATION_S])
    if len(frame) and isinstance(frame[TS_UTC].iloc[0], int | np.integer):  # raw SQLite values
        frame[TS_UTC] = pd.to_datetime(frame[TS_UTC].astype("int64"), unit="us", utc=True)
    else:
        frame[TS_UTC] = pd.to_datetime(frame[TS_UTC], utc=True, format="ISO8601")
    frame[ENERGY_KWH] = frame[ENERGY_KWH].astype("float64")
    frame[DURATION_S] = frame[DURATION_S].astype("float64")
    frame[KIND] = frame[KIND].astype(str)
    return frame


def load_readings(session: Session, meter_id: int) -> pd.DataFrame:
    """All readings of a meter (ts_utc, energy_kwh, kind, duration_s)."""
    result = session.execute(
        text("SELECT ts_utc, energy_kwh, kind, duration_s FROM reading WHERE meter_id = :m"), {"m": meter_id}
    )
    return reading_frame(result.all())


@dataclass(frozen=True, slots=True)
class DailyDays:
    """What a plan computed: the days (day, energy_kwh [kWh], coverage_fraction [0..1]) and the
    findings about them."""

    days: pd.DataFrame
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class DailyPlan:
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

    def compute(self) -> DailyDays:
        fresh = self.new[[TS_UTC, ENERGY_KWH, KIND, DURATION_S]]
        # Where a new reading repeats a stored one, the stored one is kept (ON CONFLICT DO NOTHING).
        readings = pd.concat([self.old, fresh], ignore_index=True).drop_duplicates(
            [TS_UTC, KIND], keep="first"
        )
        readings[S.METER_ID] = self.meter_id
        if not self.series_starts:
            daily, findings = daily_consumption(readings, self.tz)
        else:
            # Each register series is its own counter: its days are computed alone (a step between two
            # series is never consumption) and summed, as the days of a swapped meter and its successor.
            # A series holds the readings after its start up to and including the next one's: a display
            # reading at the bind instant closes the old series (as a swapped meter's final reading).
            starts = pd.DatetimeIndex(pd.to_datetime(list(self.series_starts), utc=True))
            which = starts.searchsorted(pd.DatetimeIndex(readings[TS_UTC]), side="left")
            parts, findings = [], []
            for k in range(len(starts) + 1):
                part, found = daily_consumption(readings[which == k], self.tz)
                parts.append(part.assign(**{S.METER_ID: k}))
                findings += found
            series = pd.DataFrame({S.METER_ID: range(len(starts) + 1), S.HOUSEHOLD_ID: self.meter_id})
            daily = household_daily(pd.concat(parts, ignore_index=True), series).rename(
                columns={S.HOUSEHOLD_ID: S.METER_ID}
            )
        days = pd.to_datetime(daily[S.DAY]).dt.date
        return DailyDays(daily[(days >= self.day_lo) & (days <= self.day_hi)], tuple(findings))

    def write(self, session: Session, result: DailyDays) -> None:
        """Replace the stored days of the window and their findings with ``result``."""
        for table in (DailyConsumption, DailyFinding):
            session.execute(
                delete(table).where(
                    table.meter_id == self.meter_id, table.day >= self.day_lo, table.day <= self.day_hi
                )
            )
        daily = result.days
        if len(daily):
            session.execute(
                insert(DailyConsumption),
                [
                    {
                        "meter_id": self.meter_id,
                        "day": d,
                        "energy_kwh": float(e),
                        "coverage_fraction": float(c),
                    }
                    for d, e, c in zip(
                        pd.to_datetime(daily[S.DAY]).dt.date.tolist(),
                        daily[S.ENERGY_KWH].tolist(),
                        daily[S.COVERAGE_FRACTION].tolist(),
                        strict=True,
                    )
                ],
            )
        findings = [(self._day_of(f), f) for f in result.findings]
        kept = [(day, f) for day, f in findings if self.day_lo <= day <= self.day_hi]
        if kept:
            session.execute(
                insert(DailyFinding),
                [
                    {"meter_id": self.meter_id, "day": day, "key": f.key, "detail": f.detail, "data": f.data}
                    for day, f in kept
                ],
            )

    def _day_of(self, finding: Finding) -> dt.date:
        """The local day a finding is about: its own (registers), its first (overlaps), else the
        window's first (unusable readings, counted per meter). A finding about a day outside the window
        was found and kept when that day was rebuilt."""
        day = finding.data.get("day") or finding.data.get("first_day")
        return dt.date.fromisoformat(str(day)) if day else self.day_lo


def plan_days(
    session: Session, meter_id: int, tz: str, new: pd.DataFrame, *, exclude_batch: int | None = None
) -> DailyPlan:
    """Which local days the new readings can change, and the older readings those days need.

    New readings change the register segments from the last older reading before them to the first
    older reading after them, and the days their intervals touch. Those days are rebuilt from every
    reading that contributes to them: the new ones (from memory, so a large first import never reads
    its rows back) and the older ones of that window (from the database; the readings of the batch
    ``exclude_batch`` are the new ones, stored in the same transaction).
    """
    zone = ZoneInfo(tz)
    older = or_(
        Reading.batch_id.is_(None), Reading.batch_id != (-1 if exclude_batch is None else exclude_batch)
    )
    mine = (Reading.meter_id == meter_id, older)
    # A reading daily consumption cannot place (an interval longer than a year, 1e12 s; a time in the
    # year 3000; stored before the bounds existed) changes no day: it must not widen the window past
    # what a timestamp can hold either.
    placed = new[new[TS_UTC].between(S.SCORABLE_TIME_MIN_UTC, S.SCORABLE_TIME_MAX_UTC, inclusive="left")]
    if placed.empty:  # nothing to rebuild: an empty window (day_lo after day_hi)
        return DailyPlan(meter_id, tz, dt.date.max, dt.date.min, reading_frame([]), new)
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
    a = session.scalar(select(func.max(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc <= window_lo))
    b = session.scalar(select(func.min(Reading.ts_utc)).where(*mine, registers, Reading.ts_utc >= window_hi))
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
    return DailyPlan(meter_id, tz, day_lo, day_hi, reading_frame(rows), new, series_starts(session, meter_id))


def mark_dirty(session: Session, earliest: Mapping[int, dt.datetime]) -> None:
    """Mark meters' days from ``earliest[meter_id]`` [UTC] on for :func:`refresh_daily` (an earlier mark
    stays)."""
    if not earliest:
        return
    values = [{"meter_id": m, "since_utc": ts} for m, ts in earliest.items()]
    stmt: Insert
    if session.connection().dialect.name == "sqlite":
        sqlite_insert = sqlite.insert(DailyDirty).values(values)
        stmt = sqlite_insert.on_conflict_do_update(
            index_elements=[DailyDirty.meter_id],
            set_={"since_utc": func.min(DailyDirty.since_utc, sqlite_insert.excluded.since_utc)},
        )
    else:
        pg_insert = postgresql.insert(DailyDirty).values(values)
        stmt = pg_insert.on_conflict_do_update(
            index_elements=[DailyDirty.meter_id],
            set_={"since_utc": func.least(DailyDirty.since_utc, pg_insert.excluded.since_utc)},
        )
    session.execute(stmt)


def refresh_meter(session: Session, meter_id: int, since: dt.datetime, tz: str) -> None:
    """Rebuild a marked meter's days from ``since`` [UTC] on, and clear its mark unless a newer reading
    moved it meanwhile (the MQTT worker runs alongside)."""
    rows = session.execute(
        select(Reading.ts_utc, Reading.energy_kwh, Reading.kind, Reading.duration_s).where(
            Reading.meter_id == meter_id, Reading.ts_utc >= since
        )
    ).all()
    new = reading_frame(rows)
    if not new.empty:
        plan = plan_days(session, meter_id, tz, new)
        plan.write(session, plan.compute())
    session.execute(delete(DailyDirty).where(DailyDirty.meter_id == meter_id, DailyDirty.since_utc == since))


def refresh_daily(db: Database) -> int:
    """Rebuild the days of every meter marked by streamed readings, each meter in its own transaction;
    returns how many meters were refreshed. The scheduler job and every scoring call this."""
    with db.session() as session:
        dirty = session.execute(
            select(DailyDirty.meter_id, DailyDirty.since_utc, Contest.timezone)
            .join(Meter, Meter.id == DailyDirty.meter_id)
            .join(Household, Household.id == Meter.household_id)
            .join(Contest, Contest.id == Household.contest_id)
        ).all()
    refreshed = 0
    for meter_id, since, tz in dirty:
        try:
            with db.session() as session:
                refresh_meter(session, meter_id, since, tz)
            refreshed += 1
        except Exception:
            # One meter's days that cannot be rebuilt never hold up the others (nor every contest's
            # scoring, which calls this first); it stays marked and is tried again next time.
            log.exception("daily consumption of meter %d could not be rebuilt", meter_id)
    return refreshed


def rebuild_meter(session: Session, meter_id: int, tz: str) -> None:
    """Recompute a meter's days and findings from all its readings (repair; tests compare with it)."""
    readings = load_readings(session, meter_id)
    session.execute(delete(DailyConsumption).where(DailyConsumption.meter_id == meter_id))
    session.execute(delete(DailyFinding).where(DailyFinding.meter_id == meter_id))
    if readings.empty:
        return
    plan = plan_days(session, meter_id, tz, readings)
    plan.write(session, plan.compute())
