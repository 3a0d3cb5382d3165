"""Staff administration: API tokens (hashed) and what the admin API offers over contests, teams,
households, meters, device bindings, the rejected-records store, findings and snapshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.db import Database
from contest.domain import (
    BUILDING_TYPES,
    CARRIERS,
    METER_KINDS,
    ContestInfo,
    MeterInfo,
    SeriesInfo,
    check_living_area_m2,
    check_persons,
)
from contest.errors import (
    AlreadyExists,
    ConfigError,
    ContestNotFound,
    HouseholdNotFound,
    MeterNotFound,
    NotAuthenticated,
    NotFoundError,
)
from contest.models import (
    Contest,
    DailyConsumption,
    DeviceBinding,
    Household,
    LeaderboardSnapshot,
    Meter,
    Reading,
    RejectedRecord,
    StaffToken,
    Team,
)
from contest.publishing import PublishingService, SnapshotInfo, finding_to_json, jsonable
from contest.season import Season, season_of
from contest.services import (
    SOURCES,
    UNCHANGED,
    HouseholdDataService,
    HouseholdService,
    MeterService,
    _clean_name,
    _contest_info,
    meter_series,
    resolve_team,
)
from contest.spreadsheet import write_csv
from contest.streams import ANY_CHANNEL, DeviceMessage, StreamService, meter_activity
from scoring.schema import PLAUSIBILITY_FINDINGS

#: Largest id a row can have (PostgreSQL ``integer``); larger ids in a URL cannot exist.
MAX_ROW_ID = 2_147_483_647

#: How far back staff's device views look (rejected messages per meter, unbound devices). Devices and
#: bindings live in real time (the worker stamps messages with their receive time), so these views use
#: the wall clock, not the contest's scoring clock.
ACTIVITY_WINDOW = dt.timedelta(hours=24)


def _hash(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (see contest.access for the same reasoning).
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- domain values the admin API hands out ----------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class TeamInfo:
    """A team of a contest; households: how many households belong to it."""

    id: int
    name: str
    households: int


@dataclasses.dataclass(frozen=True, slots=True)
class ContestOverview:
    """A contest as staff see it: its settings, status and size.

    status: the season's state now (contest.season: draft, announced, running, closing, final, archived)
    season: the season as recorded (last publication and error, grace period, reopen hold)
    scoring_spec: the scoring method and its parameters as stored (contest.scoring_spec)
    """

    info: ContestInfo
    status: str
    closed_at: dt.datetime | None
    teams: tuple[TeamInfo, ...]
    households: int
    scoring_spec: dict[str, Any]
    season: Season


@dataclasses.dataclass(frozen=True, slots=True)
class HouseholdRecord:
    """A household as staff see it (never its access code; only whether it has one).

    living_area_m2: living area [m²]
    last_data_day: the newest local day with daily consumption of any of its meters
    """

    id: int
    contest_slug: str
    pseudonym: str
    team_id: int | None
    team: str | None
    persons: int
    living_area_m2: float | None
    public_listing: bool
    building_type: str | None
    electric_hot_water: bool | None
    meters: tuple[str, ...]
    has_access_code: bool
    last_data_day: dt.date | None
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class BindingInfo:
    """A device channel feeding a meter (MQTT). unit: of its values where its messages state none."""

    device: str
    channel: str
    meter: str
    household_id: int
    contest_slug: str
    created_at: dt.datetime
    unit: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class MeterRecord:
    """A meter of a household.

    valid_from, valid_to: the meter takes readings in [valid_from, valid_to) [UTC]; None = open
    replaces: the meter this one replaced (a meter swap)
    last_reading_utc: time of its newest stored reading [UTC]
    series: its register series in time order (docs/glossary.md); empty: one series of uploads
    last_message: the newest MQTT message stored for it or rejected at it (time, value, reason)
    rejected_messages_24h: MQTT messages rejected at it in the last 24 hours
    """

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
    bindings: tuple[BindingInfo, ...]
    series: tuple[SeriesInfo, ...] = ()
    last_message: DeviceMessage | None = None
    rejected_messages_24h: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class FindingRecord:
    """A data-quality finding of a scoring, with its evidence (``data``) and the household it is about."""

    key: str
    detail: str
    subject: str
    plausibility: bool
    household_id: int | None
    pseudonym: str | None
    data: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class FindingsReport:
    """The findings of scoring a contest as of ``as_of`` (the newest snapshot's time, if there is one)."""

    slug: str
    as_of: dt.datetime
    snapshot_id: int | None
    findings: tuple[FindingRecord, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RejectedInfo:
    """One entry of the rejected-records store: a CSV row or an MQTT message that was not stored."""

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


# --- checks -----------------------------------------------------------------------------------------
def _check_meter_kind(external_id: str, carrier: str, kind: str) -> str:
    external_id = _clean_name(external_id, "meter id", 120)
    if carrier not in CARRIERS:
        raise ConfigError(f"meter {external_id!r}: carrier must be one of {CARRIERS}, got {carrier!r}")
    if kind not in METER_KINDS:
        raise ConfigError(f"meter {external_id!r}: kind must be one of {METER_KINDS}, got {kind!r}")
    return external_id


def _text_key(value: str) -> bool:
    """Whether ``value`` can name a stored row at all (PostgreSQL text holds no NUL)."""
    return "\x00" not in value


def _row_id(value: int) -> bool:
    return 1 <= value <= MAX_ROW_ID


# --- staff tokens, rejected records, results ------------------------------------------------------
class StaffService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_token(self, name: str) -> str:
        """A new staff API token, shown once (only its hash is stored)."""
        name = name.strip()
        if not name:
            raise ConfigError("a token needs a name (who or what uses it)")
        token = "cst_" + secrets.token_urlsafe(32)
        with self.db.session() as session:
            if session.scalars(select(StaffToken).where(StaffToken.name == name)).first() is not None:
                raise ConfigError(f"a token named {name!r} exists; revoke it first")
            session.add(StaffToken(name=name, token_hash=_hash(token)))
        return token

    def revoke(self, name: str) -> None:
        with self.db.session() as session:
            row = session.scalars(select(StaffToken).where(StaffToken.name == name)).first()
            if row is None:
                raise ConfigError(f"no token named {name!r}")
            row.revoked_at = dt.datetime.now(dt.UTC)
            row.name = f"{row.name} (revoked {row.revoked_at:%Y-%m-%d %H:%M:%S})"

    def authenticate(self, token: str | None) -> str:
        """The token's name, or :class:`NotAuthenticated`."""
        if not token:
            raise NotAuthenticated(
                "staff token required (Authorization: Bearer <token>)", key="auth.staff_required"
            )
        with self.db.session() as session:
            row = session.scalars(
                select(StaffToken).where(
                    StaffToken.token_hash == _hash(token), StaffToken.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                raise NotAuthenticated("invalid staff token", key="auth.staff_invalid")
            return row.name

    def rejected_records(
        self,
        source: str | None = None,
        limit: int = 200,
        *,
        key: str | None = None,
        meter: str | None = None,
        contest: str | None = None,
        before_id: int | None = None,
    ) -> list[RejectedInfo]:
        """The newest entries of the rejected-records store, newest first.

        source: "csv", "mqtt" or "manual"; key: a rejection key such as "mqtt.unbound_device";
        meter: a meter id; contest: a contest slug (entries of its meters; unbound MQTT devices
        belong to no contest); before_id: only entries older than this one (paging).
        """
        if source is not None and source not in SOURCES:
            raise ConfigError(f"source must be one of {SOURCES}, got {source!r}")
        for value in (key, meter, contest):
            if value is not None and not _text_key(value):
                return []
        with self.db.session() as session:
            query = (
                select(RejectedRecord, Meter.external_id)
                .outerjoin(Meter, Meter.id == RejectedRecord.meter_id)
                .order_by(RejectedRecord.id.desc())
                .limit(limit)
            )
            if source:
                query = query.where(RejectedRecord.source == source)
            if key:
                query = query.where(RejectedRecord.key == key)
            if meter:
                query = query.where(Meter.external_id == meter)
            if contest:
                _get_contest(session, contest)
                query = (
                    query.join(Household, Household.id == Meter.household_id)
                    .join(Contest, Contest.id == Household.contest_id)
                    .where(Contest.slug == contest)
                )
            if before_id is not None:
                query = query.where(RejectedRecord.id < min(before_id, MAX_ROW_ID))
            return [
                RejectedInfo(
                    id=r.id,
                    source=r.source,
                    key=r.key,
                    reason=r.reason,
                    raw=r.raw,
                    created_at=r.created_at,
                    batch_id=r.batch_id,
                    line_no=r.line_no,
                    topic=r.topic,
                    meter=ext,
                )
                for r, ext in session.execute(query).all()
            ]


# --- contests, teams, households, meters, bindings, findings, snapshots ------------------------------
def _get_contest(session: Session, slug: str) -> Contest:
    contest = (
        session.scalars(select(Contest).where(Contest.slug == slug)).one_or_none()
        if _text_key(slug)
        else None
    )
    if contest is None:
        raise ContestNotFound(f"no contest with the slug {slug!r}")
    return contest


def _get_household(session: Session, household_id: int) -> Household:
    h = session.get(Household, household_id) if _row_id(household_id) else None
    if h is None:
        raise HouseholdNotFound(f"no household with id {household_id}")
    return h


def _get_meter(session: Session, external_id: str) -> Meter:
    meter = (
        session.scalars(select(Meter).where(Meter.external_id == external_id)).one_or_none()
        if _text_key(external_id)
        else None
    )
    if meter is None:
        raise MeterNotFound(f"no meter with the id {external_id!r}")
    return meter


def _team_by_name(session: Session, contest_id: int, name: str) -> Team | None:
    return session.scalars(select(Team).where(Team.contest_id == contest_id, Team.name == name)).one_or_none()


class ContestAdminService:
    """What city staff manage through the admin API. Scoring and snapshots go through ``publishing``
    (the same publisher the scheduler and the pages use, so its clock and cache apply)."""

    def __init__(self, db: Database, publishing: PublishingService) -> None:
        self.db = db
        self.publishing = publishing
        self._findings: dict[str, tuple[int, FindingsReport]] = {}
        self._lock = threading.Lock()

    # --- contests ---------------------------------------------------------------------------------
    def overview(self, slug: str) -> ContestOverview:
        with self.db.session() as session:
            return self._overview(session, _get_contest(session, slug))

    def overviews(self) -> list[ContestOverview]:
        with self.db.session() as session:
            return [self._overview(session, c) for c in session.scalars(select(Contest).order_by(Contest.id))]

    def _overview(self, session: Session, contest: Contest) -> ContestOverview:
        households = session.scalar(
            select(func.count()).select_from(Household).where(Household.contest_id == contest.id)
        )
        season = season_of(contest)
        return ContestOverview(
            info=_contest_info(contest),
            status=season.public_state(self.publishing.clock()),
            season=season,
            closed_at=contest.closed_at,
            teams=tuple(_teams(session, contest.id)),
            households=int(households or 0),
            scoring_spec=dict(contest.scoring_spec or {}),
        )

    def config(self, slug: str) -> dict[str, Any]:
        """The contest in the structure ``contest setup`` (TOML) and ``POST /api/admin/contests`` (JSON)
        accept, dates as ISO text: staff fetch it, edit it and post it back."""
        with self.db.session() as session:
            c = _get_contest(session, slug)
            spec = dict(c.scoring_spec or {})
            baseline = dict(spec.get("baseline") or {})
            scoring: dict[str, Any] = {
                "method": baseline.pop("method", c.baseline_method),
                "min_coverage_fraction": c.min_coverage_fraction,
                "min_team_members": c.min_team_members,
                "min_day_coverage_fraction": c.min_day_coverage_fraction,
            }
            if baseline:
                scoring["baseline"] = baseline
            for key in ("team_aggregation", "category_by", "excluded_days", "uncertainty", "plausibility"):
                if key in spec:
                    scoring[key] = spec[key]
            doc: dict[str, Any] = {
                "contest": {
                    "slug": c.slug,
                    "name": c.name,
                    "timezone": c.timezone,
                    "carrier": c.carrier,
                    "baseline": {"start": c.baseline_start.isoformat(), "end": c.baseline_end.isoformat()},
                    "competition": {
                        "start": c.competition_start.isoformat(),
                        "end": c.competition_end.isoformat(),
                    },
                },
                "scoring": scoring,
                "privacy": {"min_team_size_public": c.min_team_size_public},
                "gas": {
                    "brennwert_kwh_per_m3": c.gas_brennwert_kwh_per_m3,
                    "zustandszahl": c.gas_zustandszahl,
                },
            }
            if "emission_factors" in spec:
                doc["co2"] = spec["emission_factors"]
            doc["teams"] = [{"name": t.name} for t in sorted(c.teams, key=lambda t: t.id)]
            households = []
            for h in sorted(c.households, key=lambda h: h.id):
                entry: dict[str, Any] = {
                    "pseudonym": h.pseudonym,
                    "persons": h.persons,
                    "public": h.public_listing,
                }
                if h.team is not None:
                    entry["team"] = h.team.name
                if h.living_area_m2 is not None:
                    entry["living_area_m2"] = h.living_area_m2
                if h.building_type is not None:
                    entry["building_type"] = h.building_type
                if h.electric_hot_water is not None:
                    entry["electric_hot_water"] = h.electric_hot_water
                meters = []
                for m in sorted(h.meters, key=lambda m: m.id):
                    meter: dict[str, Any] = {"id": m.external_id, "carrier": m.carrier, "kind": m.kind}
                    if m.gas_brennwert_kwh_per_m3 is not None or m.gas_zustandszahl is not None:
                        meter["gas"] = {
                            "brennwert_kwh_per_m3": m.gas_brennwert_kwh_per_m3 or c.gas_brennwert_kwh_per_m3,
                            "zustandszahl": m.gas_zustandszahl or c.gas_zustandszahl,
                        }
                    meters.append(meter)
                entry["meters"] = meters
                households.append(entry)
            doc["households"] = households
            return jsonable(doc)  # type: ignore[no-any-return]

    # --- teams ------------------------------------------------------------------------------------
    def teams(self, slug: str) -> list[TeamInfo]:
        with self.db.session() as session:
            return _teams(session, _get_contest(session, slug).id)

    def create_team(self, slug: str, name: str) -> TeamInfo:
        name = _clean_name(name, "team name", 200)
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            if _team_by_name(session, contest.id, name) is not None:
                raise AlreadyExists(f"contest {slug!r} already has a team named {name!r}")
            team = Team(contest=contest, name=name)
            session.add(team)
            session.flush()
            return TeamInfo(team.id, team.name, 0)

    def rename_team(self, slug: str, team_id: int, name: str) -> TeamInfo:
        name = _clean_name(name, "team name", 200)
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            team = session.get(Team, team_id) if _row_id(team_id) else None
            if team is None or team.contest_id != contest.id:
                raise NotFoundError(
                    f"contest {slug!r} has no team with id {team_id}", key="contest.team_not_found"
                )
            other = _team_by_name(session, contest.id, name)
            if other is not None and other.id != team.id:
                raise AlreadyExists(f"contest {slug!r} already has a team named {name!r}")
            team.name = name
            session.flush()
            return next(t for t in _teams(session, contest.id) if t.id == team.id)

    # --- households -------------------------------------------------------------------------------
    def households(self, slug: str) -> list[HouseholdRecord]:
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            return _household_records(session, contest, None)

    def add_household(
        self,
        slug: str,
        pseudonym: str,
        *,
        persons: int = 1,
        team: str | None = None,
        public_listing: bool = False,
        living_area_m2: float | None = None,
        building_type: str | None = None,
        electric_hot_water: bool | None = None,
        meters: Sequence[tuple[str, str | None, str]] = (),
        create_team: bool = False,
    ) -> tuple[HouseholdRecord, str]:
        """Add a new household (``HouseholdService.add``: a pseudonym the contest has is
        :class:`AlreadyExists`) with its meters as (id, carrier, kind), the carrier defaulting to the
        contest's; returns it and its access code (shown once). ``team`` must exist unless
        ``create_team``."""
        carrier = self.overview(slug).info.carrier
        info, code = HouseholdService(self.db).add(
            slug,
            pseudonym,
            persons=check_persons(persons),
            team=team,
            public_listing=public_listing,
            living_area_m2=living_area_m2,
            building_type=building_type,
            electric_hot_water=electric_hot_water,
            meters=[MeterInfo(ext, c or carrier, kind) for ext, c, kind in meters],
            create_team=create_team,
        )
        return self.household(info.id), code

    def household(self, household_id: int) -> HouseholdRecord:
        with self.db.session() as session:
            h = _get_household(session, household_id)
            return _household_records(session, h.contest, h.id)[0]

    def update_household(
        self,
        household_id: int,
        *,
        pseudonym: Any = UNCHANGED,
        team: Any = UNCHANGED,
        persons: Any = UNCHANGED,
        living_area_m2: Any = UNCHANGED,
        public_listing: Any = UNCHANGED,
        building_type: Any = UNCHANGED,
        electric_hot_water: Any = UNCHANGED,
        create_team: bool = False,
    ) -> HouseholdRecord:
        """Change what is given; ``UNCHANGED`` leaves a field as it is. ``team=None`` takes the
        household out of its team; a team must exist in the household's contest unless ``create_team``
        (``resolve_team``: the error lists the contest's teams)."""
        if pseudonym is not UNCHANGED:
            pseudonym = _clean_name(pseudonym, "pseudonym", 80)
        if team is not UNCHANGED and team is not None:
            team = _clean_name(team, "team", 200)
        if persons is not UNCHANGED:
            check_persons(persons)
        if living_area_m2 is not UNCHANGED:
            living_area_m2 = check_living_area_m2(living_area_m2)
        if (
            building_type is not UNCHANGED
            and building_type is not None
            and building_type not in BUILDING_TYPES
        ):
            raise ConfigError(f"building_type must be one of {BUILDING_TYPES}, got {building_type!r}")
        with self.db.session() as session:
            h = _get_household(session, household_id)
            if pseudonym is not UNCHANGED and pseudonym != h.pseudonym:
                taken = session.scalars(
                    select(Household.id).where(
                        Household.contest_id == h.contest_id, Household.pseudonym == pseudonym
                    )
                ).first()
                if taken is not None:
                    raise AlreadyExists(
                        f"the pseudonym {pseudonym!r} is taken in this contest",
                        key="household.pseudonym_taken",
                    )
                h.pseudonym = pseudonym
            if team is not UNCHANGED:
                h.team = None if team is None else resolve_team(session, h.contest, team, create=create_team)
            if persons is not UNCHANGED:
                h.persons = persons
            if living_area_m2 is not UNCHANGED:
                h.living_area_m2 = living_area_m2
            if public_listing is not UNCHANGED:
                h.public_listing = bool(public_listing)
            if building_type is not UNCHANGED:
                h.building_type = building_type
            if electric_hot_water is not UNCHANGED:
                h.electric_hot_water = electric_hot_water
            session.flush()
            return _household_records(session, h.contest, h.id)[0]

    def issue_access_code(self, household_id: int) -> tuple[HouseholdRecord, str]:
        """A new personal access code for the household, returned once (only its hash is stored); the
        old code stops working at once (``HouseholdService.issue_access_code``, as the CLI's
        ``contest household code``)."""
        if not _row_id(household_id):
            raise HouseholdNotFound(f"no household with id {household_id}")
        _, code = HouseholdService(self.db).issue_access_code(household_id)
        return self.household(household_id), code

    def delete_household(self, household_id: int) -> str:
        """Delete the household with all its data (as when it deletes itself); returns its contest's slug."""
        if not _row_id(household_id):
            raise HouseholdNotFound(f"no household with id {household_id}")
        return HouseholdDataService(self.db).delete(household_id)

    # --- meters -----------------------------------------------------------------------------------
    def meters(self, household_id: int) -> list[MeterRecord]:
        with self.db.session() as session:
            _get_household(session, household_id)
            return _meter_records(session, Meter.household_id == household_id)

    def meter(self, external_id: str) -> MeterRecord:
        with self.db.session() as session:
            m = _get_meter(session, external_id)
            return _meter_records(session, Meter.id == m.id)[0]

    def add_meter(
        self, household_id: int, external_id: str, *, carrier: str | None = None, kind: str = "register"
    ) -> MeterRecord:
        """Add a meter to a household; carrier defaults to the contest's."""
        with self.db.session() as session:
            h = _get_household(session, household_id)
            external_id = _check_meter_kind(external_id, carrier or h.contest.carrier, kind)
            if session.scalars(select(Meter.id).where(Meter.external_id == external_id)).first() is not None:
                raise AlreadyExists(f"meter id {external_id!r} is already in use")
            meter = Meter(
                external_id=external_id, household=h, carrier=carrier or h.contest.carrier, kind=kind
            )
            session.add(meter)
            session.flush()
            return _meter_records(session, Meter.id == meter.id)[0]

    def replace_meter(
        self,
        old_external_id: str,
        new_external_id: str,
        at: dt.datetime,
        *,
        old_final_kwh: float | None = None,
        new_initial_kwh: float | None = 0.0,
    ) -> MeterRecord:
        """A meter swap (``MeterService.replace``); returns the new meter. Device bindings stay with the
        old meter: bind the device again if it now reads the new one."""
        new_external_id = _clean_name(new_external_id, "meter id", 120)
        for name, value in (("old_final_kwh", old_final_kwh), ("new_initial_kwh", new_initial_kwh)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a register value >= 0 [kWh], got {value}")
        with self.db.session() as session:
            _get_meter(session, old_external_id)
        MeterService(self.db).replace(
            old_external_id, new_external_id, at, old_final_kwh=old_final_kwh, new_initial_kwh=new_initial_kwh
        )
        return self.meter(new_external_id)

    # --- device bindings ---------------------------------------------------------------------------
    def bindings(
        self, *, meter: str | None = None, contest: str | None = None, device: str | None = None
    ) -> list[BindingInfo]:
        with self.db.session() as session:
            where = []
            if meter is not None:
                where.append(DeviceBinding.meter_id == _get_meter(session, meter).id)
            if contest is not None:
                where.append(Household.contest_id == _get_contest(session, contest).id)
            if device is not None:
                if not _text_key(device):
                    return []
                where.append(DeviceBinding.device == device)
            return _binding_infos(session, *where)

    def bind(
        self, meter: str, device: str, channel: str = ANY_CHANNEL, *, unit: str | None = None
    ) -> BindingInfo:
        """Bind a device's channel to a meter (``StreamService.bind``: the device's register becomes a
        series of its own; the ingest worker rereads bindings every few seconds). unit: of the device's
        values where its messages state none (vzlogger)."""
        with self.db.session() as session:
            _get_meter(session, meter)
        # Bound now by the publisher's clock (the system clock, or a test's injected one).
        bound = StreamService(self.db).bind(meter, device, channel, unit=unit, at=self.publishing.clock())
        with self.db.session() as session:
            found = _binding_infos(
                session,
                DeviceBinding.meter_id == bound.meter_id,
                DeviceBinding.device == device.strip(),
                DeviceBinding.channel == (channel.strip() or ANY_CHANNEL),
            )
        return found[0]

    def unbind(self, meter: str, device: str, channel: str | None = None) -> int:
        """Remove the bindings of ``device`` (all its channels, or only ``channel``) to ``meter``;
        returns how many were removed. The ingest worker rereads bindings every few seconds; from then
        on the device's messages are kept as rejected (``mqtt.unbound_device``) and the device's register
        series ends (``StreamService.unbind``): uploads are taken again from then on."""
        with self.db.session() as session:
            _get_meter(session, meter)
        if not _text_key(device) or (channel is not None and not _text_key(channel)):
            removed = 0
        else:
            removed = StreamService(self.db).unbind(meter, device, channel, at=self.publishing.clock())
        if not removed:
            which = f"device {device!r}" + (f" channel {channel!r}" if channel is not None else "")
            raise NotFoundError(f"{which} is not bound to meter {meter!r}", key="contest.binding_not_found")
        return removed

    def last_seen(self, device: str) -> list[DeviceMessage]:
        """The device's last message on each of its channels (what ``contest meter bind`` reports)."""
        return StreamService(self.db).last_seen(device) if _text_key(device) else []

    def unbound_devices(self) -> list[DeviceMessage]:
        """Device channels that published in the last 24 hours without a binding, newest first."""
        return StreamService(self.db).unbound_devices(dt.datetime.now(dt.UTC) - ACTIVITY_WINDOW)

    # --- scoring results --------------------------------------------------------------------------
    def findings(self, slug: str, *, plausibility_only: bool = True) -> FindingsReport:
        """The data-quality findings of the contest's scoring with their evidence: plausibility flags
        (implausibly high days, a possible vacancy, a drop to zero) or, with ``plausibility_only``
        False, every finding.

        They are stored with each snapshot at publication (staff only; the public gets their count) and
        read from the newest one. A snapshot from before findings were stored gets the contest scored
        again as of its time (the data as stored now); that result is kept per snapshot."""
        with self.db.session() as session:
            contest = _get_contest(session, slug)
            newest = session.scalars(
                select(LeaderboardSnapshot)
                .where(LeaderboardSnapshot.contest_id == contest.id)
                .order_by(LeaderboardSnapshot.id.desc())
                .limit(1)
            ).first()
            snapshot = (newest.id, newest.as_of, newest.body) if newest is not None else None
        with self._lock:
            cached = self._findings.get(slug)
        if snapshot is not None and cached is not None and cached[0] == snapshot[0]:
            report = cached[1]
        else:
            if snapshot is not None and "staff_findings" in snapshot[2]:
                as_of = snapshot[1]
                stored = list(snapshot[2]["staff_findings"])
                names = {h["household_id"]: h["pseudonym"] for h in snapshot[2].get("all_households", [])}
            else:
                view = self.publishing.boards.leaderboard(
                    slug, snapshot[1] if snapshot else self.publishing.clock(), public_only=False
                )
                as_of = view.as_of
                stored = [finding_to_json(f) for f in view.findings]
                names = {h.household_id: h.pseudonym for h in view.households}
            records = []
            for f in stored:
                household_id = _household_of(f["subject"], f["data"])
                records.append(
                    FindingRecord(
                        key=f["key"],
                        detail=f["detail"],
                        subject=f["subject"],
                        plausibility=f["key"] in PLAUSIBILITY_FINDINGS,
                        household_id=household_id,
                        pseudonym=names.get(household_id) if household_id is not None else None,
                        data=f["data"],
                    )
                )
            report = FindingsReport(slug, as_of, snapshot[0] if snapshot else None, tuple(records))
            if snapshot is not None:
                with self._lock:
                    self._findings[slug] = (snapshot[0], report)
        if plausibility_only:
            report = dataclasses.replace(report, findings=tuple(f for f in report.findings if f.plausibility))
        return report

    def results_csv(self, slug: str) -> str:
        """Every household's result as published last (staff view: also those not listed publicly), as
        CSV; for a final result the final one, whatever data arrived later."""
        households = self.publishing.standings(slug)
        return write_csv(
            [
                "rank",
                "pseudonym",
                "team",
                "persons",
                "status",
                "savings_fraction",
                "savings_kwh",
                "savings_kwh_per_person",
                "expected_kwh",
                "actual_kwh",
                "baseline_kwh_per_day",
                "baseline_coverage_fraction",
                "competition_coverage_fraction",
                "public_listing",
            ],
            (
                [
                    h.rank or "",
                    h.pseudonym,
                    h.team or "",
                    h.persons,
                    h.status,
                    h.savings_fraction,
                    h.savings_kwh,
                    h.savings_kwh_per_person,
                    h.expected_kwh,
                    h.actual_kwh,
                    h.baseline_kwh_per_day,
                    h.baseline_coverage_fraction,
                    h.competition_coverage_fraction,
                    h.public_listing,
                ]
                for h in households
            ),
        )

    def snapshots(self, slug: str, limit: int = 50) -> list[SnapshotInfo]:
        """The contest's published snapshots, newest first."""
        with self.db.session() as session:
            _get_contest(session, slug)
        return self.publishing.history(slug, limit=limit)


def _household_of(subject: str, data: dict[str, Any]) -> int | None:
    prefix, _, value = subject.partition(":")
    if prefix == "household" and value.isdigit():
        return int(value)
    hid = data.get("household_id")
    return hid if isinstance(hid, int) and not isinstance(hid, bool) else None


def _teams(session: Session, contest_id: int) -> list[TeamInfo]:
    rows = session.execute(
        select(Team.id, Team.name, func.count(Household.id))
        .outerjoin(Household, Household.team_id == Team.id)
        .where(Team.contest_id == contest_id)
        .group_by(Team.id, Team.name)
        .order_by(Team.id)
    ).all()
    return [TeamInfo(int(i), str(n), int(k)) for i, n, k in rows]


def _household_records(session: Session, contest: Contest, household_id: int | None) -> list[HouseholdRecord]:
    """The households of ``contest`` (or only ``household_id``), with their meters and newest data day
    (one query each, not one per household)."""
    mine = [Household.contest_id == contest.id]
    if household_id is not None:
        mine.append(Household.id == household_id)
    households = session.execute(
        select(Household, Team.name)
        .outerjoin(Team, Team.id == Household.team_id)
        .where(*mine)
        .order_by(Household.id)
    ).all()
    meters: dict[int, list[str]] = {}
    for hid, ext in session.execute(
        select(Meter.household_id, Meter.external_id).join(Household).where(*mine).order_by(Meter.id)
    ):
        meters.setdefault(hid, []).append(ext)
    last_day: dict[int, dt.date] = {
        hid: day
        for hid, day in session.execute(
            select(Meter.household_id, func.max(DailyConsumption.day))
            .join(Meter, Meter.id == DailyConsumption.meter_id)
            .join(Household, Household.id == Meter.household_id)
            .where(*mine)
            .group_by(Meter.household_id)
        )
    }
    return [
        HouseholdRecord(
            id=h.id,
            contest_slug=contest.slug,
            pseudonym=h.pseudonym,
            team_id=h.team_id,
            team=team_name,
            persons=h.persons,
            living_area_m2=h.living_area_m2,
            public_listing=h.public_listing,
            building_type=h.building_type,
            electric_hot_water=h.electric_hot_water,
            meters=tuple(meters.get(h.id, ())),
            has_access_code=h.access_code_hash is not None,
            last_data_day=last_day.get(h.id),
            created_at=h.created_at,
        )
        for h, team_name in households
    ]


def _binding_infos(session: Session, *where: Any) -> list[BindingInfo]:
    rows = session.execute(
        select(
            DeviceBinding.device,
            DeviceBinding.channel,
            Meter.external_id,
            Household.id,
            Contest.slug,
            DeviceBinding.created_at,
            DeviceBinding.unit,
        )
        .join(Meter, Meter.id == DeviceBinding.meter_id)
        .join(Household, Household.id == Meter.household_id)
        .join(Contest, Contest.id == Household.contest_id)
        .where(*where)
        .order_by(Meter.external_id, DeviceBinding.device, DeviceBinding.channel)
    ).all()
    return [BindingInfo(d, c, m, h, s, t, u) for d, c, m, h, s, t, u in rows]


def _meter_records(session: Session, *where: Any, now: dt.datetime | None = None) -> list[MeterRecord]:
    meters = session.scalars(select(Meter).where(*where).order_by(Meter.id)).all()
    ids = [m.id for m in meters]
    if not ids:
        return []
    replaced: dict[int, str] = {
        mid: ext
        for mid, ext in session.execute(
            select(Meter.id, Meter.external_id).where(
                Meter.id.in_([m.replaces_meter_id for m in meters if m.replaces_meter_id])
            )
        )
    }
    # One index lookup per meter (the reading table's key starts with meter_id).
    last = {
        m.id: session.scalar(select(func.max(Reading.ts_utc)).where(Reading.meter_id == m.id)) for m in meters
    }
    bindings: dict[str, list[BindingInfo]] = {}
    for b in _binding_infos(session, DeviceBinding.meter_id.in_(ids)):
        bindings.setdefault(b.meter, []).append(b)
    last_message, rejected = meter_activity(session, ids, (now or dt.datetime.now(dt.UTC)) - ACTIVITY_WINDOW)
    return [
        MeterRecord(
            id=m.external_id,
            household_id=m.household_id,
            carrier=m.carrier,
            kind=m.kind,
            valid_from=m.valid_from,
            valid_to=m.valid_to,
            replaces=replaced.get(m.replaces_meter_id) if m.replaces_meter_id else None,
            gas_brennwert_kwh_per_m3=m.gas_brennwert_kwh_per_m3,
            gas_zustandszahl=m.gas_zustandszahl,
            last_reading_utc=last[m.id],
            bindings=tuple(bindings.get(m.external_id, ())),
            series=meter_series(session, m.id),
            last_message=last_message.get(m.id),
            rejected_messages_24h=rejected.get(m.id, 0),
        )
        for m in meters
    ]
