"""The admin API's shapes: what staff send (msgspec Structs, checked with the domain's bounds) and what
they get back (in the OpenAPI schema)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import JSONBody

from contest.contests import ContestOverview
from contest.domain import (
    LIVING_AREA_M2_RANGE,
    METER_ID_MAX_CHARS,
    PERSONS_RANGE,
    PSEUDONYM_MAX_CHARS,
    TEAM_NAME_MAX_CHARS,
    SeriesInfo,
)
from contest.households import UNCHANGED, HouseholdRecord
from contest.meter_records import BindingInfo, MeterRecord
from contest.publishing import SnapshotInfo
from contest.readings import DeviceMessage
from contest.rules import ContestRules
from contest.season import SeasonEvent
from contest.staff import FindingsReport, RejectedInfo
from contest.teams import TeamInfo
from web.schemas import Period, shape

# The household facts' bounds, as the services check them (contest.domain), in the OpenAPI schema.
Pseudonym = Annotated[str, msgspec.Meta(min_length=1, max_length=PSEUDONYM_MAX_CHARS)]
TeamName = Annotated[str, msgspec.Meta(min_length=1, max_length=TEAM_NAME_MAX_CHARS)]
Persons = Annotated[int, msgspec.Meta(ge=PERSONS_RANGE[0], le=PERSONS_RANGE[1])]
LivingAreaM2 = Annotated[float, msgspec.Meta(ge=LIVING_AREA_M2_RANGE[0], le=LIVING_AREA_M2_RANGE[1])]


# --- input ------------------------------------------------------------------------------------------
class MeterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A meter. carrier: electricity | gas | heat (default: the contest's); kind: register | interval."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=METER_ID_MAX_CHARS)]
    carrier: Literal["electricity", "gas", "heat"] | None = None
    kind: Literal["register", "interval"] = "register"


class HouseholdIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new household (a pseudonym the contest has: 409). public: listed by pseudonym on the public
    leaderboard; living_area_m2 [m²]; team: must exist unless create_team is true."""

    pseudonym: Pseudonym
    persons: Persons = 1
    team: TeamName | None = None
    public: bool = False
    living_area_m2: LivingAreaM2 | None = None
    building_type: Literal["flat", "house"] | None = None
    electric_hot_water: bool | None = None
    meters: list[MeterIn] = msgspec.field(default_factory=list)
    create_team: bool = False


class HouseholdPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; a field left out stays as it is. team: null takes the household out of its
    team (a team must exist unless create_team is true); living_area_m2 [m²]: null = not stated."""

    pseudonym: Pseudonym | msgspec.UnsetType = msgspec.UNSET
    team: TeamName | msgspec.UnsetType | None = msgspec.UNSET
    persons: Persons | msgspec.UnsetType = msgspec.UNSET
    living_area_m2: LivingAreaM2 | msgspec.UnsetType | None = msgspec.UNSET
    public: bool | msgspec.UnsetType = msgspec.UNSET
    building_type: Literal["flat", "house"] | msgspec.UnsetType | None = msgspec.UNSET
    electric_hot_water: bool | msgspec.UnsetType | None = msgspec.UNSET
    create_team: bool = False


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: TeamName


class MeterReplaceIn(msgspec.Struct, forbid_unknown_fields=True):
    """A meter swap at ``at`` (with a time zone). old_final_kwh: the old meter's last register value
    [kWh]; new_initial_kwh: the new meter's first one [kWh] (null: not read)."""

    new_id: Annotated[str, msgspec.Meta(min_length=1, max_length=METER_ID_MAX_CHARS)]
    at: dt.datetime
    old_final_kwh: Annotated[float, msgspec.Meta(ge=0)] | None = None
    new_initial_kwh: Annotated[float, msgspec.Meta(ge=0)] | None = 0.0


class BindingIn(msgspec.Struct, forbid_unknown_fields=True):
    """A device's channel; "*" takes the device's only import channel (pinned on first sight).
    unit: of the device's values where its messages state none (vzlogger: kWh unless told), e.g. Wh."""

    device: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] = "*"
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=24)] | None = None


def given(value: Any) -> Any:
    """A patch field as the services take it: left out is ``UNCHANGED``."""
    return UNCHANGED if value is msgspec.UNSET else value


# --- output -----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class AbsenceItem:
    """Declared absent days (local days of the contest's time zone, both included)."""

    id: int
    first_day: dt.date
    last_day: dt.date
    days: int
    note: str | None


class TeamItem(TeamInfo):
    """A team of a contest; households: how many households belong to it."""

    __slots__ = ()


State = Literal["draft", "announced", "running", "closing", "final", "archived"]


@dataclasses.dataclass(frozen=True)
class ContestDetail:
    """A contest with the state of its season now, its last publication and error, teams and size.

    status: the state now (draft: staff only; announced; running; closing: provisional, late data
        counts until grace_end; final: frozen; archived)
    last_published_at / last_error / last_error_at: the last publication that worked and the last one
        that failed (scheduled or not), so a contest that stopped publishing is seen at once
    rules: the contest's rules (scoring, CO2 factors, privacy), as ``GET /contests/{slug}/rules``
    """

    slug: str
    name: str
    timezone: str
    carrier: str
    baseline: Period
    competition: Period
    status: State
    closed_at: dt.datetime | None
    households: int
    teams: list[TeamItem]
    rules: ContestRules
    grace_days: int
    grace_end: dt.date
    reopened: bool
    last_published_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None

    @classmethod
    def from_overview(cls, o: ContestOverview) -> ContestDetail:
        c = o.info
        return cls(
            slug=c.slug,
            name=c.name,
            timezone=c.timezone,
            carrier=c.carrier,
            baseline=Period(c.baseline_start, c.baseline_end),
            competition=Period(c.competition_start, c.competition_end),
            status=o.status,  # type: ignore[arg-type]
            closed_at=o.closed_at,
            grace_days=o.season.grace_days,
            grace_end=o.season.grace_end,
            reopened=o.season.hold_open,
            last_published_at=o.season.last_published_at,
            last_error=o.season.last_error,
            last_error_at=o.season.last_error_at,
            households=o.households,
            teams=shape(o.teams, list[TeamItem]),
            rules=c.rules,
        )


@dataclasses.dataclass(frozen=True)
class HouseholdItem:
    """A household as staff see it. living_area_m2 [m²]; last_data_day: newest local day with data."""

    id: int
    contest: str
    pseudonym: str
    team_id: int | None
    team: str | None
    persons: int
    living_area_m2: float | None
    public: bool
    building_type: str | None
    electric_hot_water: bool | None
    meters: list[str]
    has_access_code: bool
    last_data_day: dt.date | None
    created_at: dt.datetime

    @classmethod
    def from_record(cls, h: HouseholdRecord) -> HouseholdItem:
        return cls(
            id=h.id,
            contest=h.contest_slug,
            pseudonym=h.pseudonym,
            team_id=h.team_id,
            team=h.team,
            persons=h.persons,
            living_area_m2=h.living_area_m2,
            public=h.public_listing,
            building_type=h.building_type,
            electric_hot_water=h.electric_hot_water,
            meters=list(h.meters),
            has_access_code=h.has_access_code,
            last_data_day=h.last_data_day,
            created_at=h.created_at,
        )


@dataclasses.dataclass(frozen=True)
class HouseholdCreated:
    household_id: int
    pseudonym: str
    #: the personal access code for the portal, shown only now (only its hash is stored)
    access_code: str
    meters: list[str]


@dataclasses.dataclass(frozen=True)
class AccessCodeOut:
    household_id: int
    pseudonym: str
    #: the new personal access code, shown only now; the old one no longer works
    access_code: str


@dataclasses.dataclass(frozen=True)
class BindingOut:
    """A device channel feeding a meter; unit: of its values where its messages state none."""

    meter: str
    device: str
    channel: str
    household_id: int
    contest: str
    created_at: dt.datetime
    unit: str | None = None

    @classmethod
    def from_info(cls, b: BindingInfo) -> BindingOut:
        return cls(b.meter, b.device, b.channel, b.household_id, b.contest_slug, b.created_at, b.unit)


@dataclasses.dataclass(frozen=True)
class DeviceMessageOut:
    """The last message of a device channel: received_at (broker) and ts_utc (reading) [UTC], the
    value [kWh], the meter it was stored for or rejected at, and why it was rejected (null: stored)."""

    device: str
    channel: str
    topic: str
    received_at: dt.datetime
    ts_utc: dt.datetime
    energy_kwh: float
    meter: str | None
    rejection_key: str | None
    rejection_reason: str | None

    @classmethod
    def from_message(cls, m: DeviceMessage) -> DeviceMessageOut:
        return cls(
            m.device,
            m.channel,
            m.topic,
            m.received_at,
            m.ts_utc,
            m.energy_kwh,
            m.meter,
            m.rejection_key,
            m.rejection_reason,
        )


@dataclasses.dataclass(frozen=True)
class BindingCreated(BindingOut):
    """A new binding, with the device's last message on each channel (empty: none seen yet)."""

    last_seen: list[DeviceMessageOut] = dataclasses.field(default_factory=list)


class SeriesOut(SeriesInfo):
    """A register series of the meter: from starts_at (null: the meter's start) to ends_at (null:
    open) [UTC]; device: whose own register it is (null: the display, uploaded readings)."""

    __slots__ = ()


@dataclasses.dataclass(frozen=True)
class MeterItem:
    """A meter. valid_from/valid_to [UTC]: it takes readings in [valid_from, valid_to), null = open;
    replaces: the meter it replaced; last_reading_utc: its newest stored reading; series: its register
    series (a bound device's register is one of its own); last_message: the newest MQTT message stored
    for it or rejected at it; rejected_messages_24h: MQTT messages rejected at it in the last 24 h."""

    id: str
    household_id: int
    carrier: str
    kind: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    replaces: str | None
    gas_brennwert_kwh_per_m3: float | None
    gas_zustandszahl: float | None
    last_reading_utc: dt.datetime | None
    bindings: list[BindingOut]
    series: list[SeriesOut]
    last_message: DeviceMessageOut | None
    rejected_messages_24h: int

    @classmethod
    def from_record(cls, m: MeterRecord) -> MeterItem:
        return cls(
            id=m.id,
            household_id=m.household_id,
            carrier=m.carrier,
            kind=m.kind,
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            replaces=m.replaces,
            gas_brennwert_kwh_per_m3=m.gas_brennwert_kwh_per_m3,
            gas_zustandszahl=m.gas_zustandszahl,
            last_reading_utc=m.last_reading_utc,
            bindings=[BindingOut.from_info(b) for b in m.bindings],
            series=shape(m.series, list[SeriesOut]),
            last_message=DeviceMessageOut.from_message(m.last_message) if m.last_message else None,
            rejected_messages_24h=m.rejected_messages_24h,
        )


@dataclasses.dataclass(frozen=True)
class FindingItem:
    """A data-quality finding; data: its evidence (days, kWh values, thresholds)."""

    key: str
    detail: str
    subject: str
    #: a plausibility flag (implausibly high days, possible vacancy, drop to zero)
    plausibility: bool
    household_id: int | None
    pseudonym: str | None
    data: JSONBody[dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class FindingsOut:
    """Findings of scoring the contest as of ``as_of`` (the newest snapshot's time, or now without one)."""

    contest: str
    as_of: dt.datetime
    snapshot_id: int | None
    #: "plausibility": the plausibility flags only; "all": every data-quality finding
    kind: Literal["plausibility", "all"]
    findings: list[FindingItem]

    @classmethod
    def from_report(cls, r: FindingsReport, kind: Literal["plausibility", "all"]) -> FindingsOut:
        return cls(
            contest=r.slug,
            as_of=r.as_of,
            snapshot_id=r.snapshot_id,
            kind=kind,
            findings=[
                FindingItem(f.key, f.detail, f.subject, f.plausibility, f.household_id, f.pseudonym, f.data)
                for f in r.findings
            ],
        )


class SnapshotOut(SnapshotInfo):
    """A published leaderboard. reason: schedule | import | manual | close | ...; final: frozen result."""

    __slots__ = ()


class RejectedItem(RejectedInfo):
    """A CSV row (line_no, batch_id) or an MQTT message (topic) that was not stored, with the reason."""

    __slots__ = ()


# --- the season -------------------------------------------------------------------------------------
class SeasonActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why (logged with the change; required to reopen a final result)."""

    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


@dataclasses.dataclass(frozen=True)
class SeasonEventOut:
    """One logged change of state: who (clock, cli:<user>, staff:<token name>), when, why, and the
    final snapshot a close produced."""

    at: dt.datetime
    actor: str
    from_state: str
    to_state: str
    reason: str | None
    snapshot_id: int | None

    @classmethod
    def from_event(cls, e: SeasonEvent) -> SeasonEventOut:
        return cls(e.at, e.actor, e.from_state, e.to_state, e.reason, e.snapshot_id)


@dataclasses.dataclass(frozen=True)
class LateImportOut:
    """Data stored after the result became final: kept, but not in the final result."""

    batch_id: int
    meter: str
    source: str
    filename: str | None
    created_at: dt.datetime
    rows_stored: int


@dataclasses.dataclass(frozen=True)
class SeasonOutStaff:
    """A contest's season for the staff: its state now and as recorded, its log, and late data."""

    slug: str
    status: State
    recorded_state: State
    competition: Period
    grace_days: int
    grace_end: dt.date
    reopened: bool
    closed_at: dt.datetime | None
    final_snapshot_id: int | None
    last_published_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    events: list[SeasonEventOut]
    late_imports: list[LateImportOut]
