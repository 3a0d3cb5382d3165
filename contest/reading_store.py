"""Storing readings from any source, in the caller's transaction: one bulk writer for SQLite and
PostgreSQL (files, manual readings and MQTT batches alike), the rejected records, each device channel's
last message, and the daily consumption kept current (contest.consumption)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Insert, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest.consumption import mark_dirty, plan_days, rebuild_meter
from contest.domain import ImportReport, MeterContext
from contest.lookup import contest_by_slug, meter_by_external_id
from contest.models import (
    DailyConsumption,
    DailyFinding,
    DeviceSeen,
    Household,
    ImportBatch,
    Meter,
    RejectedRecord,
    storable_text,
    to_epoch_us,
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
    DeviceMessage,
    Rejection,
    StreamRejection,
    StreamRow,
    out_of_bounds,
    validate_readings,
    validity_problems,
)
from contest.register_series import last_register
from scoring import schema as S

#: Imports at least this large skip SQLite's per-row foreign-key checks for their own transaction.
BULK_ROWS_WITHOUT_FK_CHECKS = 10_000

#: Rows per executemany call; the progress callback is called after each.
INSERT_CHUNK_ROWS = 100_000

#: Where readings come from.
SOURCES = ("csv", "mqtt", "manual")

#: Rejections kept in an ImportReport (all of them are stored as RejectedRecord rows).
REPORT_REJECTIONS_MAX = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class ReadingRows:
    """Readings to write, column by column: meter id, time [µs since 1970, UTC], value [kWh], kind
    ("register" | "interval") and interval length [s] (NaN for registers)."""

    meter_id: npt.NDArray[np.int64]
    ts_us: npt.NDArray[np.int64]
    energy_kwh: npt.NDArray[np.float64]
    kind: npt.NDArray[np.object_]
    duration_s: npt.NDArray[np.float64]

    @classmethod
    def of_frame(cls, readings: pd.DataFrame, meter_id: int) -> ReadingRows:
        """The rows of a readings frame (ts_utc, energy_kwh, kind, duration_s) of one meter."""
        naive_utc = readings[TS_UTC].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        return cls(
            np.full(len(readings), meter_id, dtype=np.int64),
            naive_utc.astype("datetime64[us]").astype("int64"),
            readings[ENERGY_KWH].to_numpy(dtype=np.float64),
            readings[KIND].to_numpy(dtype=object),
            readings[DURATION_S].to_numpy(dtype=np.float64, na_value=np.nan),
        )

    @classmethod
    def of_stream(cls, rows: Sequence[StreamRow]) -> ReadingRows:
        return cls(
            np.fromiter((r.meter_id for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((to_epoch_us(r.ts_utc) for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r.energy_kwh for r in rows), dtype=np.float64, count=len(rows)),
            np.array([r.kind for r in rows], dtype=object),
            np.fromiter(
                (math.nan if r.duration_s is None else r.duration_s for r in rows),
                dtype=np.float64,
                count=len(rows),
            ),
        )

    def __len__(self) -> int:
        return int(self.ts_us.size)


def write_readings(
    session: Session,
    rows: ReadingRows,
    *,
    source: str,
    batch_id: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """THE bulk writer of readings: a reading already stored (same meter, time, kind) stays and is not
    counted; returns the rows newly stored. SQLAlchemy's executemany converts every value (~0.2 M
    rows/s), so this goes through the DBAPI: SQLite gets two bound values per row and the constants of
    each group of rows (meter, kind, interval length, source, batch) as literals (~0.4 M rows/s with the
    key); PostgreSQL gets COPY into a temporary table and one INSERT ... ON CONFLICT DO NOTHING."""
    if not len(rows):
        return 0
    if source not in SOURCES:
        raise ValueError(f"unknown reading source {source!r}")
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return _write_sqlite(connection, rows, source, batch_id, progress)
    return _copy_postgresql(connection, rows, source, batch_id, progress)


def _groups(rows: ReadingRows) -> list[tuple[int, str, float, npt.NDArray[np.intp]]]:
    """Rows sharing meter, kind and interval length (usually one group): (meter, kind, length or -1, rows)."""
    duration = np.where(np.isnan(rows.duration_s), -1.0, rows.duration_s)
    if (
        (rows.meter_id == rows.meter_id[0]).all()
        and (rows.kind == rows.kind[0]).all()
        and (duration == duration[0]).all()
    ):
        groups = [(int(rows.meter_id[0]), str(rows.kind[0]), float(duration[0]), np.arange(len(rows)))]
    else:
        keys = pd.DataFrame({"m": rows.meter_id, "k": rows.kind, "d": duration})
        groups = [
            (int(m), str(k), float(d), np.asarray(at, dtype=np.intp))
            for (m, k, d), at in keys.groupby(["m", "k", "d"], sort=False).indices.items()
        ]
    for _, kind, _, _ in groups:  # a kind is written into the statement: only the known ones
        if kind not in (KIND_REGISTER, KIND_INTERVAL):
            raise ValueError(f"unknown reading kind {kind!r}")
    return groups


def _write_sqlite(
    connection: Any,
    rows: ReadingRows,
    source: str,
    batch_id: int | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    cursor = connection.connection.driver_connection.cursor()
    stored = done = 0
    batch_sql = "NULL" if batch_id is None else str(int(batch_id))
    for meter_id, kind, duration, at in _groups(rows):
        duration_sql = "NULL" if duration < 0 else repr(duration)
        sql = (
            "INSERT INTO reading (meter_id, ts_utc, energy_kwh, kind, duration_s, source, batch_id) "
            f"VALUES ({meter_id}, ?, ?, '{kind}', {duration_sql}, '{source}', {batch_sql}) "
            "ON CONFLICT (meter_id, ts_utc, kind) DO NOTHING"
        )
        ts = rows.ts_us[at].tolist()
        energy = rows.energy_kwh[at].tolist()
        for start in range(0, len(ts), INSERT_CHUNK_ROWS):
            end = start + INSERT_CHUNK_ROWS
            cursor.executemany(sql, zip(ts[start:end], energy[start:end], strict=True))
            stored += int(cursor.rowcount)
            done += len(ts[start:end])
            if progress:
                progress(done, len(rows))
    return stored


def _copy_postgresql(
    connection: Any,
    rows: ReadingRows,
    source: str,
    batch_id: int | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    # Times travel as integer microseconds and become timestamptz in the INSERT (exact integer
    # arithmetic): COPY then writes plain numbers, no datetime object per row.
    durations = [None if math.isnan(d) else d for d in rows.duration_s.tolist()]
    raw = connection.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reading_in_us (meter_id int, ts_us int8, energy_kwh float8, "
            "kind varchar(10), duration_s float8) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE reading_in_us")
        with cur.copy(
            "COPY reading_in_us (meter_id, ts_us, energy_kwh, kind, duration_s) FROM STDIN"
        ) as copy:
            for i, row in enumerate(
                zip(
                    rows.meter_id.tolist(),
                    rows.ts_us.tolist(),
                    rows.energy_kwh.tolist(),
                    rows.kind.tolist(),
                    durations,
                    strict=True,
                ),
                start=1,
            ):
                copy.write_row(row)
                if progress and i % INSERT_CHUNK_ROWS == 0:
                    progress(i, len(rows))
        cur.execute(
            "INSERT INTO reading (meter_id, ts_utc, energy_kwh, kind, duration_s, source, batch_id) "
            "SELECT meter_id, TIMESTAMPTZ 'epoch' + ts_us * INTERVAL '1 microsecond', energy_kwh, kind, "
            "duration_s, %s, %s FROM reading_in_us ON CONFLICT (meter_id, ts_utc, kind) DO NOTHING",
            (source, batch_id),
        )
        return int(cur.rowcount)


def payload_text(payload: bytes) -> str:
    """Payload as storable text; bytes that are not UTF-8 are kept as \\x escapes, never lost."""
    return storable_text(payload.decode("utf-8", errors="backslashreplace"))


def reading_text(ts: Any, energy_kwh: Any, kind: Any, duration_s: Any) -> str:
    """A reading as a rejected record's raw text, where no source line is known."""
    length = "" if duration_s is None or pd.isna(duration_s) else f" {float(duration_s):g} s"
    return f"{pd.Timestamp(ts).isoformat()} {kind} {float(energy_kwh):g} kWh{length}"


def bound_rejections(readings: pd.DataFrame, problems: pd.DataFrame) -> list[Rejection]:
    """Rejected records of the readings a check named (key, reason; indexed like ``readings``): their
    line (a parser's ``line_no``) or, without one, the reading as text."""
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


@dataclasses.dataclass(frozen=True, slots=True)
class MeterFinding:
    """A finding of a meter's daily consumption (scoring.daily), for the staff: which meter and
    household, the local day it is about, its key, English detail and evidence (``data``)."""

    meter: str
    household_id: int
    pseudonym: str
    day: dt.date
    key: str
    detail: str
    data: dict[str, Any]
    found_at: dt.datetime


class ReadingService:
    """Stores normalized readings in bulk, keeps rejected records, keeps daily consumption current,
    in the caller's transaction.

    clock: when an import happened (its batch's time: late data after a final result is told by it)
    """

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # --- files, manual and swap readings ----------------------------------------------------------
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
        """Store one import: the batch, the new readings, the rejected rows, and the meter's daily
        consumption of the days they change (rebuilt at once, from the rows in memory). Readings already
        stored (same meter, time, kind) are counted as duplicates and stored nothing twice. Readings that
        break a rule of ``contest.readings`` (the meter's validity and register series, the bounds of
        time, interval length, energy, register rises) are not stored: they become rejected records with
        their reason (their line when the frame has ``line_no``). Nothing is committed here: a failure
        anywhere in the caller's transaction stores nothing.
        """
        validate_readings(readings)
        session = self.session
        problems = self._problems(ctx, readings)
        if len(problems):
            rejections = (*rejections, *bound_rejections(readings, problems))
            readings = readings.drop(index=problems.index)
        if len(readings) >= BULK_ROWS_WITHOUT_FK_CHECKS and session.connection().dialect.name == "sqlite":
            # Every row references this meter (looked up just before) and the batch created below in
            # the same transaction, so SQLite's per-row foreign-key lookups only cost time (~10 % of a
            # 1 M-row import, BENCHMARKS.md). The pragma takes effect only before the transaction's first
            # write; the pool's check-in hook switches the checks on again (contest.db).
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
            plan_days(session, ctx.meter_id, ctx.timezone, readings, exclude_batch=batch.id)
            if len(readings)
            else None
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            daily_job = pool.submit(plan.compute) if plan else None
            stored = write_readings(
                session,
                ReadingRows.of_frame(readings, ctx.meter_id),
                source=source,
                batch_id=batch.id,
                progress=progress,
            )
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
        """The readings ``store`` would reject for the meter, with why (key, reason; indexed like
        ``readings``). The upload preview shows them before storing."""
        validate_readings(readings)
        return self._problems(ctx, readings)

    def _problems(self, ctx: MeterContext, readings: pd.DataFrame) -> pd.DataFrame:
        """The meter's validity and register series first (contest.readings.validity_problems), then the
        bounds of the rest; register rises are judged within each register series of the meter, from
        the last stored reading of that series before the new ones."""
        foreign = validity_problems(
            readings[TS_UTC],
            meter=ctx.external_id,
            valid_from=ctx.valid_from,
            valid_to=ctx.valid_to,
            series=ctx.series,
            tz=ctx.timezone,
        )
        rest = readings.drop(index=foreign.index) if len(foreign) else readings
        starts = [s.starts_at for s in ctx.series if s.starts_at is not None]
        # A series holds the readings after its start up to and including the next one's (DailyPlan).
        series = pd.Series(
            pd.DatetimeIndex(pd.to_datetime(starts, utc=True)).searchsorted(
                pd.DatetimeIndex(rest[TS_UTC]), side="left"
            )
            if starts
            else np.zeros(len(rest), dtype=np.int64),
            index=rest.index,
        )
        previous: dict[Any, tuple[dt.datetime, float]] = {}
        registers = rest[KIND] == KIND_REGISTER
        for k, first in rest.loc[registers, TS_UTC].groupby(series[registers]).min().items():
            found = last_register(
                self.session, ctx.meter_id, after=starts[int(k) - 1] if int(k) > 0 else None, before=first
            )
            if found is not None:
                previous[k] = found
        bounds = out_of_bounds(rest, now=self.clock(), series=series, previous=previous)
        if not len(foreign):
            return bounds
        problems = pd.concat([foreign, bounds])
        return problems.loc[readings.index[readings.index.isin(problems.index)]]

    # --- streamed readings (MQTT) ---------------------------------------------------------------
    def store_stream(
        self,
        rows: Sequence[StreamRow],
        rejections: Sequence[StreamRejection],
        seen: Sequence[DeviceMessage] = (),
    ) -> int:
        """Store a batch of streamed readings (checked by the MQTT worker): the readings (one already
        stored is skipped by the key), the rejected messages, each device channel's last message
        (``seen``, newest last) and the meters' dirty-day marks. Returns the readings newly stored."""
        stored = write_readings(self.session, ReadingRows.of_stream(rows), source="mqtt", batch_id=None)
        if seen:
            self._mark_seen(seen)
        if rejections:
            self.session.execute(
                insert(RejectedRecord),
                [
                    {
                        "source": "mqtt",
                        "topic": storable_text(r.topic)[:300],
                        "raw": payload_text(r.payload),
                        "reason": storable_text(r.reason),
                        "key": r.key,
                        "created_at": r.received_at,
                        "meter_id": r.meter_id,
                    }
                    for r in rejections
                ],
            )
        earliest: dict[int, dt.datetime] = {}
        for r in rows:
            if r.meter_id not in earliest or r.ts_utc < earliest[r.meter_id]:
                earliest[r.meter_id] = r.ts_utc
        mark_dirty(self.session, earliest)
        return stored

    def _mark_seen(self, seen: Sequence[DeviceMessage]) -> None:
        newest = {(m.device, m.channel): m for m in seen}  # the batch's last message of each channel
        values = [
            {
                "device": m.device,
                "channel": m.channel,
                "topic": storable_text(m.topic)[:300],
                "received_at": m.received_at,
                "ts_utc": m.ts_utc,
                "energy_kwh": m.energy_kwh,
                "meter_id": m.meter_id,
                "rejection_key": m.rejection_key,
                "rejection_reason": storable_text(m.rejection_reason) if m.rejection_reason else None,
            }
            for m in newest.values()
        ]
        dialect = sqlite if self.session.connection().dialect.name == "sqlite" else postgresql
        upsert = dialect.insert(DeviceSeen).values(values)
        stmt: Insert = upsert.on_conflict_do_update(
            index_elements=[DeviceSeen.device, DeviceSeen.channel],
            set_={k: upsert.excluded[k] for k in values[0] if k not in ("device", "channel")},
            where=upsert.excluded.received_at >= DeviceSeen.received_at,
        )
        self.session.execute(stmt)

    def rejected_stream(self, limit: int = 100) -> list[StreamRejection]:
        """The newest MQTT messages kept as rejected, newest first."""
        rows = self.session.scalars(
            select(RejectedRecord)
            .where(RejectedRecord.source == "mqtt")
            .order_by(RejectedRecord.id.desc())
            .limit(limit)
        ).all()
        return [
            StreamRejection(r.topic or "", r.raw.encode("utf-8"), r.reason, r.key, r.created_at, r.meter_id)
            for r in rows
        ]

    def rejected_stream_count(self) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(RejectedRecord).where(RejectedRecord.source == "mqtt")
            )
            or 0
        )

    # --- what is stored -------------------------------------------------------------------------
    def rejected_records(self, batch_id: int) -> list[Rejection]:
        rows = self.session.scalars(
            select(RejectedRecord).where(RejectedRecord.batch_id == batch_id).order_by(RejectedRecord.id)
        ).all()
        return [Rejection(r.line_no, r.raw, r.reason, r.key) for r in rows]

    def count_readings(self, external_id: str) -> int:
        return int(
            self.session.execute(
                text(
                    "SELECT count(*) FROM reading JOIN meter ON meter.id = reading.meter_id "
                    "WHERE meter.external_id = :e"
                ),
                {"e": external_id},
            ).scalar_one()
        )

    def daily(self, external_id: str) -> pd.DataFrame:
        """The stored daily consumption of a meter (day, energy_kwh, coverage_fraction)."""
        rows = self.session.execute(
            select(DailyConsumption.day, DailyConsumption.energy_kwh, DailyConsumption.coverage_fraction)
            .join(Meter, Meter.id == DailyConsumption.meter_id)
            .where(Meter.external_id == external_id)
            .order_by(DailyConsumption.day)
        ).all()
        return pd.DataFrame(rows, columns=[S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION])

    def rebuild_all_daily(self, external_id: str) -> None:
        """Recompute a meter's daily consumption and its findings from all its readings (repair)."""
        meter = meter_by_external_id(self.session, external_id)
        rebuild_meter(self.session, meter.id, meter.household.contest.timezone)

    def findings(self, slug: str, *, limit: int = 1000) -> list[MeterFinding]:
        """The findings of the daily consumption of the contest's meters (register resets and rollovers,
        readings left out, overlaps), newest day first: what the staff's findings report shows beside
        the findings of scoring."""
        contest = contest_by_slug(self.session, slug)
        rows = self.session.execute(
            select(DailyFinding, Meter.external_id, Household.id, Household.pseudonym)
            .join(Meter, Meter.id == DailyFinding.meter_id)
            .join(Household, Household.id == Meter.household_id)
            .where(Household.contest_id == contest.id)
            .order_by(DailyFinding.day.desc(), DailyFinding.id.desc())
            .limit(limit)
        ).all()
        return [
            MeterFinding(ext, hid, pseudonym, f.day, f.key, f.detail, dict(f.data or {}), f.found_at)
            for f, ext, hid, pseudonym in rows
        ]
