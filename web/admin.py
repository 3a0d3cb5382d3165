"""The staff's admin API (JSON, in the OpenAPI schema), protected by hashed staff API tokens, and the
admin page over it (HTML + a small script that calls only this API)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cached_property
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.response import Template

from contest.absences import AbsenceService
from contest.admin import (
    BindingInfo,
    ContestAdminService,
    ContestOverview,
    FindingsReport,
    HouseholdRecord,
    MeterRecord,
    RejectedInfo,
    StaffService,
    TeamInfo,
)
from contest.config import contest_config_from_dict
from contest.publishing import PublishingService, SnapshotInfo
from contest.season import SeasonEvent
from contest.services import UNCHANGED, ContestService, HouseholdService
from contest.streams import DeviceMessage, StreamService
from web.i18n import ADMIN_TEXTS, TEXTS, pick_language
from web.schemas import ErrorOut, Period


@dataclasses.dataclass(frozen=True)
class AdminDeps:
    staff: StaffService
    contests: ContestService
    households: HouseholdService
    streams: StreamService
    publishing: PublishingService

    @cached_property
    def manage(self) -> ContestAdminService:
        """Contests, teams, households, meters, bindings, findings and snapshots (one per app)."""
        return ContestAdminService(self.contests.db, self.publishing)


def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Every admin request needs ``Authorization: Bearer <staff token>``."""
    header = connection.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    connection.app.state.admin.staff.authenticate(token)


#: Error responses every admin endpoint may give (the body of each is ErrorOut).
_ERRORS = {
    400: ResponseSpec(ErrorOut, description="Bad input: the detail names the field and the rule"),
    401: ResponseSpec(ErrorOut, description="No valid staff token (Authorization: Bearer <token>)"),
}
_NOT_FOUND = {404: ResponseSpec(ErrorOut, description="Unknown contest, team, household, meter or binding")}
_CONFLICT = {409: ResponseSpec(ErrorOut, description="The name or id is taken")}

RowId = Annotated[int, PathParameter(ge=1, le=2_147_483_647, description="Id of the row")]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="At most this many entries")]


# --- input ------------------------------------------------------------------------------------------
class MeterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A meter. carrier: electricity | gas | heat (default: the contest's); kind: register | interval."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    carrier: Literal["electricity", "gas", "heat"] | None = None
    kind: Literal["register", "interval"] = "register"


class HouseholdIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new household (a pseudonym the contest has: 409). public: listed by pseudonym on the public
    leaderboard; living_area_m2 [m²]; team: must exist unless create_team is true."""

    pseudonym: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    persons: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1
    team: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    public: bool = False
    living_area_m2: Annotated[float, msgspec.Meta(ge=5, le=10_000)] | None = None
    building_type: Literal["flat", "house"] | None = None
    electric_hot_water: bool | None = None
    meters: list[MeterIn] = msgspec.field(default_factory=list)
    create_team: bool = False


class HouseholdPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; a field left out stays as it is. team: null takes the household out of its
    team (a team must exist unless create_team is true); living_area_m2 [m²]: null = not stated."""

    pseudonym: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | msgspec.UnsetType = msgspec.UNSET
    team: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    persons: Annotated[int, msgspec.Meta(ge=1, le=50)] | msgspec.UnsetType = msgspec.UNSET
    living_area_m2: Annotated[float, msgspec.Meta(ge=5, le=10000)] | msgspec.UnsetType | None = msgspec.UNSET
    public: bool | msgspec.UnsetType = msgspec.UNSET
    building_type: Literal["flat", "house"] | msgspec.UnsetType | None = msgspec.UNSET
    electric_hot_water: bool | msgspec.UnsetType | None = msgspec.UNSET
    create_team: bool = False


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class MeterReplaceIn(msgspec.Struct, forbid_unknown_fields=True):
    """A meter swap at ``at`` (with a time zone). old_final_kwh: the old meter's last register value
    [kWh]; new_initial_kwh: the new meter's first one [kWh] (null: not read)."""

    new_id: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    at: dt.datetime
    old_final_kwh: Annotated[float, msgspec.Meta(ge=0)] | None = None
    new_initial_kwh: Annotated[float, msgspec.Meta(ge=0)] | None = 0.0


class BindingIn(msgspec.Struct, forbid_unknown_fields=True):
    """A device's channel; "*" takes the device's only import channel (pinned on first sight).
    unit: of the device's values where its messages state none (vzlogger: kWh unless told), e.g. Wh."""

    device: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] = "*"
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=24)] | None = None


def _given(value: Any) -> Any:
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


@dataclasses.dataclass(frozen=True)
class TeamItem:
    id: int
    name: str
    #: households in the team
    households: int

    @classmethod
    def from_info(cls, t: TeamInfo) -> TeamItem:
        return cls(t.id, t.name, t.households)


@dataclasses.dataclass(frozen=True)
class ScoringSettingsOut:
    """The contest's scoring settings; spec: method parameters, team aggregation, categories, excluded
    days, uncertainty, plausibility, emission factors, as stored (see docs/scoring.md)."""

    baseline_method: str
    min_coverage_fraction: float
    min_team_members: int
    min_day_coverage_fraction: float
    min_team_size_public: int
    spec: dict[str, Any]


State = Literal["draft", "announced", "running", "closing", "final", "archived"]


@dataclasses.dataclass(frozen=True)
class ContestDetail:
    """A contest with the state of its season now, its last publication and error, teams and size.

    status: the state now (draft: staff only; announced; running; closing: provisional, late data
        counts until grace_end; final: frozen; archived)
    last_published_at / last_error / last_error_at: the last publication that worked and the last one
        that failed (scheduled or not), so a contest that stopped publishing is seen at once
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
    scoring: ScoringSettingsOut
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
            teams=[TeamItem.from_info(t) for t in o.teams],
            scoring=ScoringSettingsOut(
                baseline_method=c.baseline_method,
                min_coverage_fraction=c.min_coverage_fraction,
                min_team_members=c.min_team_members,
                min_day_coverage_fraction=c.min_day_coverage_fraction,
                min_team_size_public=c.min_team_size_public,
                spec=o.scoring_spec,
            ),
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


@dataclasses.dataclass(frozen=True)
class SeriesOut:
    """A register series of the meter: from starts_at (null: the meter's start) to ends_at (null:
    open) [UTC]; device: whose own register it is (null: the display, uploaded readings)."""

    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    device: str | None


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
            series=[SeriesOut(s.starts_at, s.ends_at, s.device) for s in m.series],
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


@dataclasses.dataclass(frozen=True)
class SnapshotOut:
    """A published leaderboard. reason: schedule | import | manual | close | ...; final: frozen result."""

    id: int
    slug: str
    as_of: dt.datetime
    published_at: dt.datetime
    reason: str
    final: bool

    @classmethod
    def from_info(cls, s: SnapshotInfo) -> SnapshotOut:
        return cls(s.id, s.slug, s.as_of, s.published_at, s.reason, s.final)


@dataclasses.dataclass(frozen=True)
class RejectedItem:
    """A CSV row (line_no, batch_id) or an MQTT message (topic) that was not stored, with the reason."""

    id: int
    source: str
    key: str
    reason: str
    raw: str
    created_at: dt.datetime
    batch_id: int | None
    line_no: int | None
    topic: str | None
    meter: str | None

    @classmethod
    def from_info(cls, r: RejectedInfo) -> RejectedItem:
        return cls(
            r.id, r.source, r.key, r.reason, r.raw, r.created_at, r.batch_id, r.line_no, r.topic, r.meter
        )


# --- the API ----------------------------------------------------------------------------------------
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


def _season_out(admin: AdminDeps, slug: str) -> SeasonOutStaff:
    publishing = admin.publishing
    season = publishing.seasons.get(slug)
    final = publishing.final_snapshot(slug)
    return SeasonOutStaff(
        slug=slug,
        status=season.public_state(publishing.clock()),  # type: ignore[arg-type]
        recorded_state=season.state,  # type: ignore[arg-type]
        competition=Period(season.competition_start, season.competition_end),
        grace_days=season.grace_days,
        grace_end=season.grace_end,
        reopened=season.hold_open,
        closed_at=season.closed_at,
        final_snapshot_id=final.id if final is not None else None,
        last_published_at=season.last_published_at,
        last_error=season.last_error,
        last_error_at=season.last_error_at,
        events=[SeasonEventOut.from_event(e) for e in publishing.seasons.events(slug)],
        late_imports=[
            LateImportOut(i.batch_id, i.meter_external_id, i.source, i.filename, i.created_at, i.rows_stored)
            for i in publishing.seasons.late_imports(slug)
        ],
    )


def _actor(request: Request[Any, Any, Any], admin: AdminDeps) -> str:
    """Who acts: the name of the staff token the request came with (the guard has checked it)."""
    header = request.headers.get("authorization", "")
    return "staff:" + admin.staff.authenticate(
        header[7:].strip() if header.lower().startswith("bearer ") else None
    )


class AdminApi(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [staff_guard]
    security = [{"StaffToken": []}]

    # contests
    @get("/contests", sync_to_thread=True, summary="All contests", responses=_ERRORS)
    def contests(self, admin: NamedDependency[AdminDeps]) -> list[ContestDetail]:
        return [ContestDetail.from_overview(o) for o in admin.manage.overviews()]

    @post(
        "/contests",
        sync_to_thread=True,
        summary="Create or update a contest (same structure as the TOML file)",
        description="Teams, households and meters are matched by name, pseudonym and meter id; nothing is "
        "deleted. GET /contests/{slug}/config gives an existing contest in this structure.",
        responses=_ERRORS,
    )
    def setup_contest(
        self, admin: NamedDependency[AdminDeps], data: JSONBody[dict[str, Any]]
    ) -> ContestDetail:
        info = admin.contests.setup(contest_config_from_dict(data))
        return ContestDetail.from_overview(admin.manage.overview(info.slug))

    @get(
        "/contests/{slug:str}",
        sync_to_thread=True,
        summary="A contest: status, teams, household count, scoring settings",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def contest(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> ContestDetail:
        return ContestDetail.from_overview(admin.manage.overview(slug))

    @get(
        "/contests/{slug:str}/config",
        sync_to_thread=True,
        summary="A contest in the structure POST /contests accepts (fetch, edit, post back)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def contest_config(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> dict[str, Any]:
        return admin.manage.config(slug)

    # teams
    @get(
        "/contests/{slug:str}/teams",
        sync_to_thread=True,
        summary="A contest's teams",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def teams(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> list[TeamItem]:
        return [TeamItem.from_info(t) for t in admin.manage.teams(slug)]

    @post(
        "/contests/{slug:str}/teams",
        sync_to_thread=True,
        summary="Create a team",
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    def create_team(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: JSONBody[TeamIn]
    ) -> TeamItem:
        return TeamItem.from_info(admin.manage.create_team(slug, data.name))

    @patch(
        "/contests/{slug:str}/teams/{team_id:int}",
        sync_to_thread=True,
        summary="Rename a team",
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    def rename_team(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], team_id: RowId, data: JSONBody[TeamIn]
    ) -> TeamItem:
        return TeamItem.from_info(admin.manage.rename_team(slug, team_id, data.name))

    # households
    @get(
        "/contests/{slug:str}/households",
        sync_to_thread=True,
        summary="A contest's households (public or not)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def households(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> list[HouseholdItem]:
        return [HouseholdItem.from_record(h) for h in admin.manage.households(slug)]

    @post(
        "/contests/{slug:str}/households",
        sync_to_thread=True,
        summary="Add a household; its access code is returned once",
        description="A pseudonym the contest has is refused (409) and nothing changes: a new code is the "
        "household's access-code action, other facts are edited. An unknown team is refused (400, the "
        "detail lists the contest's teams) unless create_team is true.",
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    def add_household(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: JSONBody[HouseholdIn]
    ) -> HouseholdCreated:
        record, code = admin.manage.add_household(
            slug,
            data.pseudonym,
            persons=data.persons,
            team=data.team,
            public_listing=data.public,
            living_area_m2=data.living_area_m2,
            building_type=data.building_type,
            electric_hot_water=data.electric_hot_water,
            meters=[(m.id, m.carrier, m.kind) for m in data.meters],
            create_team=data.create_team,
        )
        return HouseholdCreated(record.id, record.pseudonym, code, list(record.meters))

    @get(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="A household",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def household(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> HouseholdItem:
        return HouseholdItem.from_record(admin.manage.household(household_id))

    @patch(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="Edit a household (pseudonym, team, persons, living area, public listing, building)",
        description="The contest is republished in the background at once with the change.",
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    def edit_household(
        self, admin: NamedDependency[AdminDeps], household_id: RowId, data: JSONBody[HouseholdPatch]
    ) -> HouseholdItem:
        record = admin.manage.update_household(
            household_id,
            pseudonym=_given(data.pseudonym),
            team=_given(data.team),
            persons=_given(data.persons),
            living_area_m2=_given(data.living_area_m2),
            public_listing=_given(data.public),
            building_type=_given(data.building_type),
            electric_hot_water=_given(data.electric_hot_water),
            create_team=data.create_team,
        )
        admin.publishing.publish_soon(record.contest_slug, reason="settings")
        return HouseholdItem.from_record(record)

    @delete(
        "/households/{household_id:int}",
        sync_to_thread=True,
        summary="Delete a household with all its data (meters, readings, imports, rejected records)",
        description="The contest is republished in the background at once, without the household.",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def delete_household(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> None:
        slug = admin.manage.delete_household(household_id)
        admin.publishing.publish_soon(slug, reason="deletion")

    @post(
        "/households/{household_id:int}/access-code",
        sync_to_thread=True,
        summary="Issue a new access code (returned once; the old one stops working)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def new_access_code(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> AccessCodeOut:
        record, code = admin.manage.issue_access_code(household_id)
        return AccessCodeOut(record.id, record.pseudonym, code)

    @get(
        "/households/{household_id:int}/absences",
        sync_to_thread=True,
        summary="The days a household declared itself away (they leave both periods of its score)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def absences(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> list[AbsenceItem]:
        admin.manage.household(household_id)  # unknown household: 404
        return [
            AbsenceItem(a.id, a.first_day, a.last_day, a.days, a.note)
            for a in AbsenceService(admin.contests.db).of_household(household_id)
        ]

    # meters
    @get(
        "/households/{household_id:int}/meters",
        sync_to_thread=True,
        summary="A household's meters (with replaced ones and device bindings)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def meters(self, admin: NamedDependency[AdminDeps], household_id: RowId) -> list[MeterItem]:
        return [MeterItem.from_record(m) for m in admin.manage.meters(household_id)]

    @post(
        "/households/{household_id:int}/meters",
        sync_to_thread=True,
        summary="Add a meter to a household",
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    def add_meter(
        self, admin: NamedDependency[AdminDeps], household_id: RowId, data: JSONBody[MeterIn]
    ) -> MeterItem:
        record = admin.manage.add_meter(household_id, data.id, carrier=data.carrier, kind=data.kind)
        return MeterItem.from_record(record)

    @post(
        "/meters/{meter:str}/replace",
        sync_to_thread=True,
        summary="Replace a meter (a meter swap); returns the new meter",
        description="The old meter takes no readings from `at` on, the new one none before; the household's "
        "consumption stays continuous. Device bindings stay with the old meter: bind the device again.",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def replace_meter(
        self, admin: NamedDependency[AdminDeps], meter: FromPath[str], data: JSONBody[MeterReplaceIn]
    ) -> MeterItem:
        record = admin.manage.replace_meter(
            meter,
            data.new_id,
            data.at,
            old_final_kwh=data.old_final_kwh,
            new_initial_kwh=data.new_initial_kwh,
        )
        return MeterItem.from_record(record)

    # device bindings
    @get(
        "/bindings",
        sync_to_thread=True,
        summary="Device bindings (MQTT), optionally of one contest, meter or device",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def bindings(
        self,
        admin: NamedDependency[AdminDeps],
        contest: FromQuery[str | None] = None,
        meter: FromQuery[str | None] = None,
        device: FromQuery[str | None] = None,
    ) -> list[BindingOut]:
        found = admin.manage.bindings(contest=contest, meter=meter, device=device)
        return [BindingOut.from_info(b) for b in found]

    @get(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="A meter's device bindings",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def meter_bindings(self, admin: NamedDependency[AdminDeps], meter: FromPath[str]) -> list[BindingOut]:
        return [BindingOut.from_info(b) for b in admin.manage.bindings(meter=meter)]

    @post(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="Bind a smart-meter device (MQTT); answers with its last message on each channel",
        description="The device's register counts from its own zero: when the meter already has readings, "
        "a new register series starts now, and uploads for the meter from then on are refused "
        "(`csv.meter_read_by_device`) while the device is bound. `unit` applies to messages that state no "
        "unit (vzlogger).",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def bind(
        self, admin: NamedDependency[AdminDeps], meter: FromPath[str], data: JSONBody[BindingIn]
    ) -> BindingCreated:
        b = admin.manage.bind(meter, data.device, data.channel, unit=data.unit)
        return BindingCreated(
            b.meter,
            b.device,
            b.channel,
            b.household_id,
            b.contest_slug,
            b.created_at,
            b.unit,
            [DeviceMessageOut.from_message(m) for m in admin.manage.last_seen(b.device)],
        )

    @get(
        "/devices/unbound",
        sync_to_thread=True,
        summary="Devices that published in the last 24 h without a binding (their last message each)",
        responses=_ERRORS,
    )
    def unbound_devices(self, admin: NamedDependency[AdminDeps]) -> list[DeviceMessageOut]:
        return [DeviceMessageOut.from_message(m) for m in admin.manage.unbound_devices()]

    @get(
        "/devices/last-seen",
        sync_to_thread=True,
        summary="A device's last message on each of its channels, stored or rejected with the reason",
        responses=_ERRORS,
    )
    def device_last_seen(
        self,
        admin: NamedDependency[AdminDeps],
        device: Annotated[str, QueryParameter(min_length=1, max_length=200, description="The device id")],
    ) -> list[DeviceMessageOut]:
        return [DeviceMessageOut.from_message(m) for m in admin.manage.last_seen(device)]

    @delete(
        "/meters/{meter:str}/bindings",
        sync_to_thread=True,
        summary="Unbind a device from a meter (all its channels, or only `channel`)",
        description="The ingest worker rereads bindings every few seconds; from then on the device's "
        "messages are kept in the rejected-records store (`mqtt.unbound_device`). The device's register "
        "series ends: uploads are taken again from now on (a device series without readings is undone).",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def unbind(
        self,
        admin: NamedDependency[AdminDeps],
        meter: FromPath[str],
        device: Annotated[str, QueryParameter(min_length=1, max_length=200, description="The device id")],
        channel: Annotated[
            str | None, QueryParameter(min_length=1, max_length=120, description="Only this channel")
        ] = None,
    ) -> None:
        admin.manage.unbind(meter, device, channel)

    # data quality, results, publishing
    @get(
        "/rejected",
        sync_to_thread=True,
        summary="The rejected-records store (CSV rows and MQTT messages), newest first",
        responses=_ERRORS,
    )
    def rejected(
        self,
        admin: NamedDependency[AdminDeps],
        source: FromQuery[Literal["csv", "mqtt", "manual"] | None] = None,
        key: Annotated[
            str | None, QueryParameter(description="A rejection key, e.g. mqtt.unbound_device")
        ] = None,
        meter: Annotated[str | None, QueryParameter(description="A meter id")] = None,
        contest: Annotated[str | None, QueryParameter(description="A contest slug (its meters)")] = None,
        before_id: Annotated[
            int | None, QueryParameter(ge=1, description="Only entries older than this id (paging)")
        ] = None,
        limit: Limit = 200,
    ) -> list[RejectedItem]:
        found = admin.staff.rejected_records(
            source, limit, key=key, meter=meter, contest=contest, before_id=before_id
        )
        return [RejectedItem.from_info(r) for r in found]

    @get(
        "/contests/{slug:str}/findings",
        sync_to_thread=True,
        summary="Plausibility flags (or all data-quality findings) of the latest scoring, with evidence",
        description="Snapshots publish only the number of findings, so the contest is scored again as of "
        "the newest snapshot (with the data stored now); without a snapshot, as of now.",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def findings(
        self,
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        kind: FromQuery[Literal["plausibility", "all"]] = "plausibility",
    ) -> FindingsOut:
        report = admin.manage.findings(slug, plausibility_only=kind == "plausibility")
        return FindingsOut.from_report(report, kind)

    @get(
        "/contests/{slug:str}/snapshots",
        sync_to_thread=True,
        summary="A contest's published leaderboard snapshots, newest first",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def snapshots(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], limit: Limit = 50
    ) -> list[SnapshotOut]:
        return [SnapshotOut.from_info(s) for s in admin.manage.snapshots(slug, limit)]

    @post(
        "/contests/{slug:str}/publish",
        sync_to_thread=True,
        summary="Rescore and publish now",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def publish(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> SnapshotOut:
        return SnapshotOut.from_info(admin.publishing.publish(slug, reason="manual"))

    # the season
    @get(
        "/contests/{slug:str}/season",
        sync_to_thread=True,
        summary="The contest's season: state now and as recorded, log of changes, late data",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def season(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> SeasonOutStaff:
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/announce",
        sync_to_thread=True,
        summary="Announce a draft: its public page, widget and API appear; households can sign in",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def announce(
        self, request: Request[Any, Any, Any], admin: NamedDependency[AdminDeps], slug: FromPath[str]
    ) -> SeasonOutStaff:
        admin.publishing.announce(slug, actor=_actor(request, admin))
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/close",
        sync_to_thread=True,
        summary="Close now: the result becomes final (before the end of the grace period, e.g. at the ceremony)",
        description="Data that arrives later is stored and listed under late_imports but changes no public figure.",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def close(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.close_now(slug, actor=_actor(request, admin), reason=data.reason)
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/reopen",
        sync_to_thread=True,
        summary="Reopen a final result for late data (a reason is required and logged)",
        description="It stays open (provisional) until staff close it again, which publishes a new final revision.",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def reopen(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.reopen(slug, actor=_actor(request, admin), reason=data.reason or "")
        return _season_out(admin, slug)

    @post(
        "/contests/{slug:str}/archive",
        sync_to_thread=True,
        summary="Archive a final result: it stays on the contest index with its final pages and API",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def archive(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[AdminDeps],
        slug: FromPath[str],
        data: JSONBody[SeasonActionIn],
    ) -> SeasonOutStaff:
        admin.publishing.archive(slug, actor=_actor(request, admin), reason=data.reason)
        return _season_out(admin, slug)

    @get(
        "/contests/{slug:str}/results.csv",
        sync_to_thread=True,
        summary="All results as CSV (staff view)",
        responses={**_ERRORS, **_NOT_FOUND},
    )
    def results_csv(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> Response[bytes]:
        body = admin.manage.results_csv(slug)
        return Response(
            ("\ufeff" + body).encode("utf-8"),
            media_type="text/csv",  # Litestar adds "; charset=utf-8"
            headers={"Content-Disposition": f'attachment; filename="ergebnisse-{slug}.csv"'},
        )


# --- the page -----------------------------------------------------------------------------------------
#: The page runs only its own script and talks only to this origin; the token never leaves it.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class AdminPage(Controller):
    include_in_schema = False

    @get("/admin", sync_to_thread=False)
    def page(self, request: Request[Any, Any, Any]) -> Template:
        """The staff's page: a token form, then contests, households, flags, snapshots, rejected records.
        It holds no data itself: its script calls the admin API with the token from sessionStorage."""
        lang = pick_language(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language"),
        )
        texts = ADMIN_TEXTS[lang]
        return Template(
            "admin.html",
            context={
                "lang": lang,
                "other_lang": "en" if lang == "de" else "de",
                "t": {**TEXTS[lang], **texts},
                "texts": texts,
            },
            headers=_PAGE_HEADERS,
        )
