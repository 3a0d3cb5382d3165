"""ORM rows (SQLAlchemy 2, typed). Rows never leave the services of ``contest``; callers get domain values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeEngine

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_epoch_us(value: dt.datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (how SQLite stores UTC times here)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def storable_text(text: str) -> str:
    """Text every database stores: PostgreSQL text cannot hold NUL, so it is kept as the escape \\x00."""
    return text.replace("\x00", "\\x00")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database.

    PostgreSQL stores ``timestamptz``. SQLite has no time type: values are stored as integer
    microseconds since 1970-01-01 UTC, which compare and sort correctly and let bulk writers pass
    numpy's int64 view of a UTC column straight through (formatting 1 M timestamps as text cost 0.4 s).
    A naive datetime is a programming error here (rule: time is aware), so it raises.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return to_epoch_us(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return _EPOCH + dt.timedelta(microseconds=value)
        # Anything else is what the PostgreSQL driver returns for timestamptz: a datetime.
        stored: dt.datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=dt.UTC)
        return stored.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Contest(Base):
    __tablename__ = "contest"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    carrier: Mapped[str] = mapped_column(String(20), default="electricity")
    baseline_start: Mapped[dt.date] = mapped_column(Date)
    baseline_end: Mapped[dt.date] = mapped_column(Date)
    competition_start: Mapped[dt.date] = mapped_column(Date)
    competition_end: Mapped[dt.date] = mapped_column(Date)
    #: the contest's rules (scoring, CO2 factors, privacy) as one value: contest.rules.ContestRules as
    #: JSON; keys it lacks take the defaults
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: gas billing factors (DVGW G 685) used for meters without their own
    gas_brennwert_kwh_per_m3: Mapped[float] = mapped_column(Float, default=10.0)
    gas_zustandszahl: Mapped[float] = mapped_column(Float, default=0.9529)
    #: set when the contest was closed with its final, frozen leaderboard
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the season state as last recorded (contest.season: the clock moves announced -> running ->
    #: closing -> final; staff move draft -> announced, close early, reopen, archive)
    state: Mapped[str] = mapped_column(String(12), default="announced")
    #: days after the last competition day in which late data still changes the provisional result
    grace_days: Mapped[int] = mapped_column(Integer, default=14)
    #: reopened by staff: stays open for late data until staff close it again (the clock never closes it)
    hold_open: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the last publication that worked and the last one that failed, for the staff (publishing)
    last_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    teams: Mapped[list[Team]] = relationship(back_populates="contest", cascade="all, delete-orphan")
    households: Mapped[list[Household]] = relationship(back_populates="contest", cascade="all, delete-orphan")


class ContestEvent(Base):
    """A change of a contest's season state: who (``clock``, ``cli:<user>``, ``staff:<token>``), when,
    from which state to which, why, and the final snapshot a close produced. Append-only."""

    __tablename__ = "contest_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(160))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("leaderboard_snapshot.id", ondelete="SET NULL")
    )


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("contest_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    contest: Mapped[Contest] = relationship(back_populates="teams")
    households: Mapped[list[Household]] = relationship(back_populates="team")


class Household(Base):
    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("contest_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"), index=True)
    #: public name on the leaderboard; never the real name
    pseudonym: Mapped[str] = mapped_column(String(80))
    persons: Mapped[int] = mapped_column(Integer, default=1)
    living_area_m2: Mapped[float | None] = mapped_column(Float)
    #: "flat" or "house" (peer benchmark: Stromspiegel); unknown when None
    building_type: Mapped[str | None] = mapped_column(String(10))
    #: whether hot water is heated electrically (peer benchmark); unknown when None
    electric_hot_water: Mapped[bool | None] = mapped_column(Boolean)
    #: listed by pseudonym on the public leaderboard only when opted in
    public_listing: Mapped[bool] = mapped_column(Boolean, default=False)
    #: hashed personal access code for the household portal (never stored in clear)
    access_code_hash: Mapped[str | None] = mapped_column(String(200))
    #: random key the household's signed portal cookies name; a new one (sign-out, new access code)
    #: ends every session, and a household created later never has the key of a deleted one
    session_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    contest: Mapped[Contest] = relationship(back_populates="households")
    team: Mapped[Team | None] = relationship(back_populates="households")
    meters: Mapped[list[Meter]] = relationship(back_populates="household", cascade="all, delete-orphan")
    absences: Mapped[list[Absence]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="Absence.first_day"
    )


class Absence(Base):
    """Days a household declared itself away (a holiday): they drop out of both periods of its score."""

    __tablename__ = "absence"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="absence_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    #: local calendar days of the contest's time zone, both included
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="absences")


class Meter(Base):
    __tablename__ = "meter"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    #: id as the device or the utility knows it (MQTT topic id, Zählernummer); unique across contests
    external_id: Mapped[str] = mapped_column(String(120), unique=True)
    carrier: Mapped[str] = mapped_column(String(20), default="electricity")
    #: "register" (cumulative counter) or "interval" (energy per interval)
    kind: Mapped[str] = mapped_column(String(10), default="register")
    #: per-meter gas factors; NULL means the contest's
    gas_brennwert_kwh_per_m3: Mapped[float | None] = mapped_column(Float)
    gas_zustandszahl: Mapped[float | None] = mapped_column(Float)
    #: when the meter was installed / replaced; readings outside [valid_from, valid_to) are rejected
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the meter this one replaced (meter swap), for the household's history
    replaces_meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="meters", foreign_keys=[household_id])


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "csv" | "mqtt"
    filename: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_stored: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    #: what the parser detected (dialect, units, ignored columns)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reading(Base):
    """One reading of a meter. The natural key (meter, time, kind) is the primary key: re-importing the
    same data stores nothing twice, and on SQLite the table is the key's B-tree (WITHOUT ROWID), which
    makes bulk imports ~2.5x faster than a rowid table plus a unique index (measured, BENCHMARKS.md)."""

    __tablename__ = "reading"
    __table_args__ = {"sqlite_with_rowid": False}

    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), primary_key=True)
    #: register: time of the reading; interval: start of the interval [UTC]
    ts_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    #: "register" or "interval"
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    #: register: counter value [kWh]; interval: energy in the interval [kWh]
    energy_kwh: Mapped[float] = mapped_column(Float)
    #: interval length [s]; NULL for register readings
    duration_s: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    #: the import that stored it (no index: only an admin's "undo import" looks rows up by batch)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id", ondelete="SET NULL"))


class RejectedRecord(Base):
    __tablename__ = "rejected_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), index=True
    )
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    line_no: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(80), default="ingest.rejected")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyConsumption(Base):
    """Per local day consumption of a meter, derived from its readings (rebuilt after imports)."""

    __tablename__ = "daily_consumption"

    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    energy_kwh: Mapped[float] = mapped_column(Float)
    #: share of the local day covered by readings [0..1]
    coverage_fraction: Mapped[float] = mapped_column(Float)


class DeviceBinding(Base):
    """Which meter a device's channel feeds (set by city staff: ``contest meter bind``).

    channel "*" binds the device's only import channel; the worker pins it to the first one it sees.
    """

    __tablename__ = "device_binding"

    device: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(120), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), index=True)
    #: unit of the device's values where its messages state none (vzlogger); NULL: the format's default
    unit: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegisterSeries(Base):
    """A register series of a meter: the readings of one counter, which counts from its own zero (the
    meter's display, or a device's own register). A meter's series follow each other in time: this one
    holds the readings after ``starts_at`` up to the next one's start (see docs/glossary.md). A meter
    without rows has one series of uploaded readings."""

    __tablename__ = "register_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), index=True)
    #: first instant of the series [UTC]; NULL: since the meter's start
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the device whose register this is (its readings only); NULL: the display, uploads only
    device: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceSeen(Base):
    """The last message of each device channel the MQTT worker parsed, stored or not: what staff see
    when they bind a device, and which devices publish without a binding."""

    __tablename__ = "device_seen"

    device: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(120), primary_key=True)
    topic: Mapped[str] = mapped_column(String(300))
    #: broker receive time [UTC]
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: the reading's time [UTC] and value [kWh] as parsed
    ts_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    energy_kwh: Mapped[float] = mapped_column(Float)
    #: the meter it was stored for or rejected at; NULL when no binding took it
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="SET NULL"), index=True)
    #: why it was rejected (key and reason); NULL when stored
    rejection_key: Mapped[str | None] = mapped_column(String(80))
    rejection_reason: Mapped[str | None] = mapped_column(Text)


class DailyDirty(Base):
    """Meters whose daily consumption must be rebuilt from ``since_utc`` on (streamed readings mark it;
    scoring and the scheduler refresh it), so the MQTT worker never recomputes days per message batch."""

    __tablename__ = "daily_dirty"

    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), primary_key=True)
    since_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DailyFinding(Base):
    """A finding of the daily consumption of a meter's readings (scoring.daily: a register reset or
    rollover, readings left out, overlaps): kept for the staff, rebuilt with the days it is about."""

    __tablename__ = "daily_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), index=True)
    #: the local day it is about (the first, when it names several)
    day: Mapped[dt.date] = mapped_column(Date)
    key: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(Text)
    #: its evidence (times, kWh values, counts), JSON
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeaderboardSnapshot(Base):
    """A published leaderboard: what the public pages and the API serve (they never score on a view)."""

    __tablename__ = "leaderboard_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the final leaderboard of a closed contest
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    #: why it was published: "schedule", "import", "manual", "close"
    reason: Mapped[str] = mapped_column(String(20), default="manual")
    #: the leaderboard (contest.domain.LeaderboardView as JSON, households already filtered for privacy)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: sha256 of the result without its as-of time: equal hashes mean an unchanged leaderboard
    content_hash: Mapped[str | None] = mapped_column(String(80))
    #: how many households were ranked (households' rank histories compare it between revisions)
    ranked_households: Mapped[int | None] = mapped_column(Integer)


class StandingRevision(Base):
    """One household's line of one published leaderboard, public or not: its rank history, kept so the
    portal can show how and why its rank moved without re-reading whole snapshots."""

    __tablename__ = "standing_revision"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int | None] = mapped_column(Integer)
    savings_fraction: Mapped[float | None] = mapped_column(Float)
    savings_kwh: Mapped[float | None] = mapped_column(Float)
    baseline_kwh_per_day: Mapped[float | None] = mapped_column(Float)
    competition_coverage_fraction: Mapped[float] = mapped_column(Float)


class StaffToken(Base):
    """An API token of city staff for the admin API; only its hash is stored (no default credentials)."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    token_hash: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WeatherDay(Base):
    """Daily mean outdoor temperature of a contest's area (for degree-day baselines)."""

    __tablename__ = "weather_day"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    #: daily mean temperature [°C]
    temp_c: Mapped[float] = mapped_column(Float)
