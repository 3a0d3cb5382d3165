"""CSV import end to end: parse the bytes for a meter, then store them through the reading service."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from contest.db import Database
from contest.domain import ImportReport, MeterContext, UploadPreview
from contest.errors import CsvFormatError
from contest.meters import MeterService
from contest.reading_store import ReadingService
from contest.readings import (
    BOUND_KEY,
    BOUND_REASON,
    ENERGY_KWH,
    KIND,
    KIND_REGISTER,
    LINE_NO,
    TS_UTC,
    Rejection,
)
from ingest.csv_parse import ParsedCsv, parse_csv
from scoring.registers import judge_series, steps_energy_kwh

PREVIEW_ROWS = 10


def _check_period(parsed: ParsedCsv, ctx: MeterContext) -> None:
    """Refuse a file whose readings all lie outside the contest (baseline start to competition end)."""
    readings = parsed.readings
    if readings.empty:
        return
    zone = ZoneInfo(ctx.timezone)
    start = pd.Timestamp(dt.datetime.combine(ctx.baseline_start, dt.time(), zone))
    end = pd.Timestamp(dt.datetime.combine(ctx.competition_end + dt.timedelta(days=1), dt.time(), zone))
    first, last = readings[TS_UTC].min(), readings[TS_UTC].max()
    # A register reading before the start still counts: it opens the first day of the contest.
    if last < start or first >= end:
        first_day, last_day = first.tz_convert(zone).date(), last.tz_convert(zone).date()
        raise CsvFormatError(
            f"the file covers {first_day} to {last_day}, outside the contest ({ctx.baseline_start} to "
            f"{ctx.competition_end})",
            key="upload.outside_contest",
            params={
                "first": first_day,
                "last": last_day,
                "start": ctx.baseline_start,
                "end": ctx.competition_end,
            },
        )


def _reject_out_of_bounds(parsed: ParsedCsv, problems: pd.DataFrame, data: bytes) -> ParsedCsv:
    """Rows that break a rule every reading keeps (``ReadingService.out_of_bounds``: the meter's validity
    and register series, the bounds of time, interval length, energy, register rises) are rejected with
    their line and reason, before the preview shows the file and before anything is stored."""
    if problems.empty:
        return parsed
    readings = parsed.readings
    lines = data.decode(parsed.dialect.encoding, errors="replace").splitlines()
    extra = tuple(
        Rejection(int(n), lines[int(n) - 1] if 0 < int(n) <= len(lines) else "", str(why), str(key))
        for n, why, key in zip(
            readings.loc[problems.index, LINE_NO], problems[BOUND_REASON], problems[BOUND_KEY], strict=True
        )
    )
    rejections = tuple(sorted((*parsed.rejections, *extra), key=lambda r: r.line_no or 0))
    kept = readings.drop(index=problems.index).reset_index(drop=True)
    return replace(parsed, readings=kept, rejections=rejections)


def total_kwh(readings: pd.DataFrame) -> float:
    """Energy a file accounts for [kWh]: the sum of interval values plus the steps of registers the
    register rule counts (scoring.registers: a rise; the wrapped rise of a rollover; nothing for a
    reset or meter swap, nor for a reading it leaves out)."""
    if readings.empty:
        return 0.0
    is_register = readings[KIND] == KIND_REGISTER
    interval_sum = float(readings.loc[~is_register, ENERGY_KWH].sum())
    register = readings.loc[is_register].sort_values([TS_UTC, ENERGY_KWH])
    if len(register) < 2:
        return interval_sum
    ts_us = register[TS_UTC].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    values = register[ENERGY_KWH].to_numpy(dtype=float)
    judged = judge_series(ts_us.astype("int64"), values)
    kept, verdict = values[judged.accepted], judged.verdict[judged.accepted]
    return interval_sum + float(steps_energy_kwh(kept[:-1], kept[1:], verdict[1:]).sum())


class CsvImporter:
    """Imports household CSV files; the web upload page and ``contest import`` both use this."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self.clock = clock

    def _context(self, meter_external_id: str) -> MeterContext:
        with self.db.session() as session:
            return MeterService(session).import_context(meter_external_id)

    def _parse(self, data: bytes, ctx: MeterContext) -> ParsedCsv:
        parsed = parse_csv(data, tz=ctx.timezone, carrier=ctx.carrier, gas=ctx.gas)
        _check_period(parsed, ctx)
        return parsed

    def preview(self, data: bytes, meter_external_id: str, *, filename: str | None = None) -> UploadPreview:
        """Parse without storing: what the upload page shows before the household confirms."""
        ctx = self._context(meter_external_id)
        parsed = self._parse(data, ctx)
        with self.db.session() as session:
            problems = ReadingService(session, clock=self.clock).out_of_bounds(ctx, parsed.readings)
        parsed = _reject_out_of_bounds(parsed, problems, data)
        d = parsed.dialect
        head = parsed.readings.head(PREVIEW_ROWS)
        first_rows = tuple(
            (ts.to_pydatetime(), float(e)) for ts, e in zip(head[TS_UTC], head[ENERGY_KWH], strict=True)
        )
        readings = parsed.readings
        return UploadPreview(
            meter_external_id=meter_external_id,
            filename=filename,
            detected={
                "encoding": d.encoding,
                "separator": d.separator,
                "decimal": d.decimal,
                "date_format": d.date_format,
                "timestamp": ", ".join(d.timestamp_columns),
                "value": ", ".join(d.value_columns),
                "unit": d.unit,
                "kind": d.kind,
                "timestamp_marks": d.timestamp_marks,
            },
            ignored_columns=tuple(d.ignored_columns),
            rows_read=parsed.rows_read,
            rows_usable=len(readings),
            rows_rejected=len(parsed.rejections),
            first_ts_utc=readings[TS_UTC].min().to_pydatetime() if len(readings) else None,
            last_ts_utc=readings[TS_UTC].max().to_pydatetime() if len(readings) else None,
            total_kwh=total_kwh(readings),
            first_rows=first_rows,
            rejections=tuple(parsed.rejections[:50]),
        )

    def import_bytes(
        self,
        data: bytes,
        meter_external_id: str,
        *,
        filename: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Parse ``data`` and store it for the meter in one transaction; bad rows become rejected records."""
        ctx = self._context(meter_external_id)
        parsed = self._parse(data, ctx)  # outside the transaction: parsing 1 M rows takes a second
        with self.db.session() as session:
            readings = ReadingService(session, clock=self.clock)
            parsed = _reject_out_of_bounds(parsed, readings.out_of_bounds(ctx, parsed.readings), data)
            return readings.store(
                ctx,
                parsed.readings,
                parsed.rejections,
                source="csv",
                rows_read=parsed.rows_read,
                filename=filename,
                sha256=hashlib.sha256(data).hexdigest(),
                details={"dialect": asdict(parsed.dialect)},
                progress=progress,
            )

    def import_file(
        self, path: str | Path, meter_external_id: str, *, progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Import a file; ``progress(rows_stored_so_far, rows_total)`` is called while storing."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise CsvFormatError(f"cannot read {p}: {exc.strerror}") from exc
        return self.import_bytes(data, meter_external_id, filename=p.name, progress=progress)
