"""A meter's register series (docs/glossary.md): which counter its stored readings belong to, and the
last stored reading of a series (a register is only ever compared within its own series)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.domain import SeriesInfo
from contest.models import Reading, RegisterSeries
from contest.readings import KIND_REGISTER


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


def series_starts(session: Session, meter_id: int) -> tuple[dt.datetime, ...]:
    """Where the meter's later register series start [UTC] (none: the meter has one series)."""
    return tuple(s.starts_at for s in meter_series(session, meter_id) if s.starts_at is not None)


def current_series(session: Session, meter_id: int) -> RegisterSeries | None:
    """The meter's newest register series row (None: it has only its implicit series of uploads)."""
    rows = session.scalars(select(RegisterSeries).where(RegisterSeries.meter_id == meter_id)).all()
    return max(
        rows,
        key=lambda r: (r.starts_at is not None, r.starts_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.id),
        default=None,
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


def has_register_value(session: Session, meter_id: int, since: dt.datetime | None, energy_kwh: float) -> bool:
    """Whether the register series starting after ``since`` holds the value ``energy_kwh`` [kWh]
    (a redelivered message without a device time repeats a stored value at a later time)."""
    tolerance = 1e-9 * max(1.0, abs(energy_kwh))
    where = [
        Reading.meter_id == meter_id,
        Reading.kind == KIND_REGISTER,
        Reading.energy_kwh.between(energy_kwh - tolerance, energy_kwh + tolerance),
    ]
    if since is not None:
        where.append(Reading.ts_utc > since)
    return session.execute(select(Reading.ts_utc).where(*where).limit(1)).first() is not None
