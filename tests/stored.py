"""What tests set up and read back through the meter and reading services, each call in its own
transaction (the services take the caller's session; a test is the caller here)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from contest.consumption import refresh_daily
from contest.db import Database
from contest.domain import MeterContext
from contest.meters import ANY_CHANNEL, BoundMeter, MeterService
from contest.reading_store import ReadingService
from contest.readings import DeviceMessage, Rejection, StreamRejection

__all__ = ["refresh_daily"]


def count_readings(db: Database, meter: str) -> int:
    with db.session() as session:
        return ReadingService(session).count_readings(meter)


def daily(db: Database, meter: str) -> pd.DataFrame:
    with db.session() as session:
        return ReadingService(session).daily(meter)


def rebuild_all_daily(db: Database, meter: str) -> None:
    with db.session() as session:
        ReadingService(session).rebuild_all_daily(meter)


def rejected_records(db: Database, batch_id: int) -> list[Rejection]:
    with db.session() as session:
        return ReadingService(session).rejected_records(batch_id)


def rejected_stream(db: Database, limit: int = 100) -> list[StreamRejection]:
    with db.session() as session:
        return ReadingService(session).rejected_stream(limit)


def import_context(db: Database, meter: str) -> MeterContext:
    with db.session() as session:
        return MeterService(session).import_context(meter)


def bind(
    db: Database,
    meter: str,
    device: str,
    channel: str = ANY_CHANNEL,
    *,
    unit: str | None = None,
    at: dt.datetime | None = None,
) -> BoundMeter:
    with db.session() as session:
        return MeterService(session).bind(meter, device, channel, unit=unit, at=at)


def unbind(
    db: Database, meter: str, device: str, channel: str | None = None, *, at: dt.datetime | None = None
) -> int:
    with db.session() as session:
        return MeterService(session).unbind(meter, device, channel, at=at)


def last_seen(db: Database, device: str) -> list[DeviceMessage]:
    with db.session() as session:
        return MeterService(session).last_seen(device)


def replace_meter(
    db: Database,
    old: str,
    new: str,
    at: dt.datetime,
    *,
    old_final_kwh: float | None = None,
    new_initial_kwh: float | None = 0.0,
) -> MeterContext:
    with db.session() as session:
        return MeterService(session).replace(
            old, new, at, old_final_kwh=old_final_kwh, new_initial_kwh=new_initial_kwh
        )
