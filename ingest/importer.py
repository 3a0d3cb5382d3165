"""CSV import end to end: parse the bytes for a meter, then store through the contest services."""

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
from contest.services import MeterService, ReadingService
from ingest.csv_parse import ParsedCsv, parse_csv

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
        raise CsvFormatError(
            f"Die Datei enthält Daten vom {first.tz_convert(zone):%d.%m.%Y} bis {last.tz_convert(zone):%d.%m.%Y}, "
            f"der Wettbewerb (mit Vergleichszeitraum) läuft vom {ctx.baseline_start:%d.%m.%Y} bis "
            f"{ctx.competition_end:%d.%m.%Y}. / The file covers {first:%Y-%m-%d} to {last:%Y-%m-%d}, outside "
            f"the contest ({ctx.baseline_start} to {ctx.competition_end}).",
            key="upload.outside_contest",
        )


def _reject_outside_validity(parsed: ParsedCsv, ctx: MeterContext, data: bytes) -> ParsedCsv:
    """Rows from before the meter was installed or after it was replaced (meter swap) are rejected
    with their line and reason: they belong to another meter. So are rows from a time a bound device
    reads the meter: that register series is the device's own (docs/glossary.md)."""
    readings = parsed.readings
    device_series = [s for s in ctx.series if s.device is not None]
    if readings.empty or (ctx.valid_from is None and ctx.valid_to is None and not device_series):
        return parsed
    zone = ZoneInfo(ctx.timezone)
    outside = pd.Series(False, index=readings.index)
    reasons = pd.Series("", index=readings.index, dtype=object)
    keys = pd.Series("csv.outside_meter_validity", index=readings.index, dtype=object)
    for series in device_series:
        held = pd.Series(True, index=readings.index)
        if series.starts_at is not None:
            held &= readings[TS_UTC] > pd.Timestamp(series.starts_at)
        if series.ends_at is not None:
            held &= readings[TS_UTC] <= pd.Timestamp(series.ends_at)
        outside |= held
        since = (
            f"after {series.starts_at.astimezone(zone):%d.%m.%Y %H:%M}"
            if series.starts_at is not None
            else "from its start"
        )
        until = (
            f" until {series.ends_at.astimezone(zone):%d.%m.%Y %H:%M}" if series.ends_at is not None else ""
        )
        reasons[held] = (
            f"meter {ctx.external_id} is read by the device {series.device} {since}{until}: readings of "
            "that time come from the device, not from uploads"
        )
        keys[held] = "csv.meter_read_by_device"
    if ctx.valid_from is not None:
        early = readings[TS_UTC] < pd.Timestamp(ctx.valid_from)
        outside |= early
        keys[early] = "csv.outside_meter_validity"
        reasons[early] = (
            f"before meter {ctx.external_id} was installed ({ctx.valid_from.astimezone(zone):%d.%m.%Y %H:%M})"
        )
    if ctx.valid_to is not None:
        late = readings[TS_UTC] > pd.Timestamp(ctx.valid_to)
        outside |= late
        keys[late] = "csv.outside_meter_validity"
        reasons[late] = (
            f"after meter {ctx.external_id} was replaced ({ctx.valid_to.astimezone(zone):%d.%m.%Y %H:%M})"
        )
    if not outside.any():
        return parsed
    lines = data.decode(parsed.dialect.encoding, errors="replace").splitlines()
    extra = tuple(
        Rejection(int(n), lines[int(n) - 1] if 0 < int(n) <= len(lines) else "", str(why), str(key))
        for n, why, key in zip(readings.loc[outside, LINE_NO], reasons[outside], keys[outside], strict=True)
    )
    rejections = tuple(sorted((*parsed.rejections, *extra), key=lambda r: r.line_no or 0))
    return replace(parsed, readings=readings.loc[~outside].reset_index(drop=True), rejections=rejections)


def _reject_out_of_bounds(parsed: ParsedCsv, problems: pd.DataFrame, data: bytes) -> ParsedCsv:
    """Rows outside the bounds every reading keeps (``contest.readings.out_of_bounds``: time, interval
    length, energy, register rises) are rejected with their line and reason, before the preview
    shows the file and before anything is stored."""
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
    """Energy a file accounts for [kWh]: the sum of interval values plus the increases of registers
    (a register that falls is a reset or meter swap and adds nothing)."""
    if readings.empty:
        return 0.0
    is_register = readings[KIND] == KIND_REGISTER
    interval_sum = float(readings.loc[~is_register, ENERGY_KWH].sum())
    register = readings.loc[is_register].sort_values(TS_UTC)[ENERGY_KWH]
    increases = register.diff().clip(lower=0).sum()
    return interval_sum + float(increases)


class CsvImporter:
    """Imports household CSV files; the web upload page and ``contest import`` both use this."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.meters = MeterService(db)
        self.readings = ReadingService(db, clock=clock)

    def _parse(self, data: bytes, ctx: MeterContext) -> ParsedCsv:
        parsed = parse_csv(data, tz=ctx.timezone, carrier=ctx.carrier, gas=ctx.gas)
        _check_period(parsed, ctx)
        parsed = _reject_outside_validity(parsed, ctx, data)
        return _reject_out_of_bounds(parsed, self.readings.out_of_bounds(ctx, parsed.readings), data)

    def preview(self, data: bytes, meter_external_id: str, *, filename: str | None = None) -> UploadPreview:
        """Parse without storing: what the upload page shows before the household confirms."""
        ctx = self.meters.import_context(meter_external_id)
        parsed = self._parse(data, ctx)
        d = parsed.dialect
        zone = ZoneInfo(ctx.timezone)
        head = parsed.readings.head(PREVIEW_ROWS)
        first_rows = tuple(
            (ts.tz_convert(zone).strftime("%d.%m.%Y %H:%M"), float(e))
            for ts, e in zip(head[TS_UTC], head[ENERGY_KWH], strict=True)
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
        ctx = self.meters.import_context(meter_external_id)
        parsed = self._parse(data, ctx)
        return self.readings.store(
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
