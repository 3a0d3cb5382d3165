"""Households of a contest: added and edited (by the staff, or the household its own settings), their
access codes and portal sessions, their imports, and their data exported or deleted (privacy by
design). Who may call what is the web layer's business."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contest.access import generate_code, hash_code, new_session_key, normalize_code, same_session_key
from contest.domain import (
    PSEUDONYM_MAX_CHARS,
    BatchSummary,
    HouseholdInfo,
    MeterInfo,
    check_building_type,
    check_living_area_m2,
    check_meter,
    check_persons,
    clean_name,
)
from contest.errors import AlreadyExists, ConfigError, HouseholdNotFound, PermissionDenied
from contest.lookup import (
    contest_by_slug,
    household_by_id,
    household_by_pseudonym,
    household_named,
    meter_named,
    row_id,
)
from contest.models import (
    Absence,
    Contest,
    DailyConsumption,
    Household,
    ImportBatch,
    Meter,
    Reading,
    RejectedRecord,
    Team,
)
from contest.readings import Rejection
from contest.teams import resolve_team
from scoring import schema as S

#: What a caller leaves as it is in :meth:`HouseholdService.update`.
UNCHANGED: Any = object()


def household_info(h: Household) -> HouseholdInfo:
    return HouseholdInfo(
        id=h.id,
        contest_slug=h.contest.slug,
        contest_name=h.contest.name,
        contest_timezone=h.contest.timezone,
        pseudonym=h.pseudonym,
        team=h.team.name if h.team else None,
        persons=h.persons,
        living_area_m2=h.living_area_m2,
        public_listing=h.public_listing,
        meters=tuple(
            MeterInfo(m.external_id, m.carrier, m.kind) for m in sorted(h.meters, key=lambda m: m.id)
        ),
        building_type=h.building_type,
        electric_hot_water=h.electric_hot_water,
    )


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


def _records(session: Session, contest: Contest, household_id: int | None) -> list[HouseholdRecord]:
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


def _pseudonym_taken(pseudonym: str) -> AlreadyExists:
    return AlreadyExists(
        f"the pseudonym {pseudonym!r} is taken in this contest",
        key="household.pseudonym_taken",
        params={"pseudonym": pseudonym},
    )


def _invalid_code() -> PermissionDenied:
    return PermissionDenied("invalid access code", key="auth.invalid_code")


class HouseholdService:
    """Households in the caller's transaction (staff, the CLI and the household's own portal alike)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- facts ----------------------------------------------------------------------------------------
    def add(
        self,
        slug: str,
        pseudonym: str,
        *,
        persons: int = 1,
        team: str | None = None,
        public_listing: bool = False,
        living_area_m2: float | None = None,
        meters: Sequence[MeterInfo] = (),
        building_type: str | None = None,
        electric_hot_water: bool | None = None,
        create_team: bool = False,
    ) -> tuple[HouseholdInfo, str]:
        """Add a new household; returns it and its access code, shown once (only its hash is stored).

        A pseudonym the contest has is :class:`AlreadyExists` and changes nothing (a new code for it:
        :meth:`issue_access_code`). ``team`` must exist unless ``create_team`` (see :func:`resolve_team`).
        """
        check_persons(persons)
        pseudonym = clean_name(pseudonym, "pseudonym", PSEUDONYM_MAX_CHARS)
        living_area_m2 = check_living_area_m2(living_area_m2)
        check_building_type(building_type)
        meters = [MeterInfo(check_meter(m.external_id, m.carrier, m.kind), m.carrier, m.kind) for m in meters]
        code = generate_code()
        session = self.session
        contest = contest_by_slug(session, slug)
        if household_named(session, contest.id, pseudonym) is not None:
            raise AlreadyExists(
                f"contest {slug!r} already has a household {pseudonym!r}; nothing was changed. A new "
                f"access code for it: contest household code {slug} {pseudonym!r} (or the admin API's "
                "access-code action); its facts: edit the household.",
                key="household.pseudonym_taken",
                params={"pseudonym": pseudonym},
            )
        h = Household(
            contest=contest,
            pseudonym=pseudonym,
            persons=persons,
            public_listing=public_listing,
            living_area_m2=living_area_m2,
            building_type=building_type,
            electric_hot_water=electric_hot_water,
        )
        session.add(h)
        if team is not None:
            h.team = resolve_team(session, contest, team, create=create_team)
        for m in meters:
            existing = meter_named(session, m.external_id)
            if existing is not None and existing.household is not h:
                raise ConfigError(f"meter {m.external_id!r} belongs to another household")
            if existing is None:
                session.add(Meter(external_id=m.external_id, carrier=m.carrier, kind=m.kind, household=h))
        h.access_code_hash = hash_code(code)
        session.flush()
        session.refresh(h)
        return household_info(h), code

    def update(
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
        """Change what is given; ``UNCHANGED`` leaves a field as it is. A pseudonym another household of
        the contest has is :class:`AlreadyExists`; ``team=None`` takes the household out of its team; a
        team must exist in the household's contest unless ``create_team`` (:func:`resolve_team`)."""
        if pseudonym is not UNCHANGED:
            pseudonym = clean_name(pseudonym, "pseudonym", PSEUDONYM_MAX_CHARS)
        if persons is not UNCHANGED:
            check_persons(persons)
        if living_area_m2 is not UNCHANGED:
            living_area_m2 = check_living_area_m2(living_area_m2)
        if building_type is not UNCHANGED:
            check_building_type(building_type)
        h = household_by_id(self.session, household_id)
        if pseudonym is not UNCHANGED and pseudonym != h.pseudonym:
            if household_named(self.session, h.contest_id, pseudonym) is not None:
                raise _pseudonym_taken(pseudonym)
            h.pseudonym = pseudonym
        if team is not UNCHANGED:
            h.team = None if team is None else resolve_team(self.session, h.contest, team, create=create_team)
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
        self.session.flush()
        return _records(self.session, h.contest, h.id)[0]

    def find(self, slug: str, pseudonym: str) -> HouseholdInfo:
        """The household of the contest ``slug`` with this pseudonym; :class:`HouseholdNotFound` otherwise."""
        return household_info(household_by_pseudonym(self.session, slug, pseudonym.strip()))

    def get(self, household_id: int) -> HouseholdInfo:
        return household_info(household_by_id(self.session, household_id))

    def record(self, household_id: int) -> HouseholdRecord:
        """The household as staff see it."""
        h = household_by_id(self.session, household_id)
        return _records(self.session, h.contest, h.id)[0]

    def records(self, slug: str) -> list[HouseholdRecord]:
        """The contest's households as staff see them (public or not)."""
        return _records(self.session, contest_by_slug(self.session, slug), None)

    # --- access codes and portal sessions ---------------------------------------------------------
    def issue_access_code(self, household_id: int) -> tuple[HouseholdInfo, str]:
        """A new personal access code for the household, returned once (only its hash is stored); the
        old code stops working at once, and so does every portal session signed in with it. Nothing
        else of the household changes."""
        code = generate_code()
        h = household_by_id(self.session, household_id)
        h.access_code_hash = hash_code(code)
        h.session_key = None
        self.session.flush()
        return household_info(h), code

    def authenticate(self, code: str) -> HouseholdInfo:
        """The household whose access code this is; :class:`PermissionDenied` otherwise."""
        return household_info(self._by_code(code))

    def _by_code(self, code: str) -> Household:
        # A code is 19 characters as printed; more than 100 typed is no code (and no work for the DB).
        if len(code) > 100 or len(normalize_code(code)) < 8:
            raise _invalid_code()
        h = self.session.scalars(
            select(Household).where(Household.access_code_hash == hash_code(code))
        ).first()
        if h is None:
            raise _invalid_code()
        return h

    def sign_in(self, code: str) -> tuple[HouseholdInfo, str]:
        """The household whose access code this is and the key its portal sessions carry (made at the
        first sign-in after the last :meth:`end_sessions`); :class:`PermissionDenied` otherwise."""
        h = self._by_code(code)
        if h.session_key is None:
            h.session_key = new_session_key()
        return household_info(h), h.session_key

    def check_session(self, household_id: int, session_key: str) -> None:
        """A portal session is valid while its household exists with this key; otherwise
        :class:`PermissionDenied` (the portal then shows the login)."""
        stored = (
            self.session.scalar(select(Household.session_key).where(Household.id == household_id))
            if row_id(household_id)
            else None
        )
        if not same_session_key(stored, session_key):
            raise PermissionDenied("please sign in", key="auth.signed_out")

    def end_sessions(self, household_id: int) -> None:
        """Sign the household out everywhere: every cookie signed so far stops working (its devices
        share one access code, so signing out on one ends all, as a new code does)."""
        with contextlib.suppress(HouseholdNotFound):  # deleted meanwhile: no session to end
            household_by_id(self.session, household_id).session_key = None

    # --- what the household may see of its own -----------------------------------------------------
    def require_own_meter(self, household_id: int, meter_external_id: str) -> MeterInfo:
        """The meter, if it belongs to this household; :class:`PermissionDenied` otherwise."""
        for m in self.get(household_id).meters:
            if m.external_id == meter_external_id:
                return m
        raise PermissionDenied(
            f"meter {meter_external_id!r} does not belong to this household",
            key="auth.not_own_meter",
            params={"meter": meter_external_id},
        )

    def batches(self, household_id: int, limit: int = 50) -> list[BatchSummary]:
        """The household's imports, newest first."""
        return self._batches(Meter.household_id == household_id, limit=limit)

    def batch_of_household(self, household_id: int, batch_id: int) -> BatchSummary:
        """One of the household's own imports; another's is :class:`PermissionDenied` (as unknown)."""
        found = (
            self._batches(Meter.household_id == household_id, ImportBatch.id == batch_id, limit=1)
            if row_id(batch_id)
            else []
        )
        if not found:
            raise PermissionDenied("import not found", key="auth.not_own_batch", params={"batch": batch_id})
        return found[0]

    def _batches(self, *where: Any, limit: int) -> list[BatchSummary]:
        rows = self.session.execute(
            select(ImportBatch, Meter.external_id)
            .join(Meter, Meter.id == ImportBatch.meter_id)
            .where(*where)
            .order_by(ImportBatch.id.desc())
            .limit(limit)
        ).all()
        return [
            BatchSummary(
                b.id,
                ext,
                b.source,
                b.filename,
                b.created_at,
                b.rows_read,
                b.rows_stored,
                b.rows_duplicate,
                b.rows_rejected,
            )
            for b, ext in rows
        ]

    def import_rejections(self, household_id: int, batch_id: int) -> list[Rejection]:
        """The rows one of the household's own imports did not store, with why."""
        self.batch_of_household(household_id, batch_id)
        rows = self.session.scalars(
            select(RejectedRecord).where(RejectedRecord.batch_id == batch_id).order_by(RejectedRecord.id)
        ).all()
        return [Rejection(r.line_no, r.raw, r.reason, r.key) for r in rows]

    def daily(self, household_id: int, carrier: str) -> pd.DataFrame:
        """Daily consumption of the household's meters of one carrier, summed (day, energy_kwh,
        coverage_fraction [0..1]; a day two meters share counts as covered at most once)."""
        rows = self.session.execute(
            select(DailyConsumption.day, DailyConsumption.energy_kwh, DailyConsumption.coverage_fraction)
            .join(Meter, Meter.id == DailyConsumption.meter_id)
            .where(Meter.household_id == household_id, Meter.carrier == carrier)
        ).all()
        frame = pd.DataFrame(rows, columns=[S.DAY, S.ENERGY_KWH, S.COVERAGE_FRACTION])
        if frame.empty:
            return frame
        out = frame.groupby(S.DAY, as_index=False).sum()
        out[S.COVERAGE_FRACTION] = out[S.COVERAGE_FRACTION].clip(upper=1.0)
        return out.sort_values(S.DAY).reset_index(drop=True)

    # --- its data: export and deletion -------------------------------------------------------------
    def export(self, household_id: int) -> dict[str, Any]:
        """Everything stored about the household, as JSON-able data."""
        session = self.session
        info = self.get(household_id)
        meters = {
            m.id: m.external_id for m in session.scalars(select(Meter).where(Meter.household_id == info.id))
        }
        meter_ids = list(meters)
        readings = session.execute(
            select(
                Reading.meter_id,
                Reading.ts_utc,
                Reading.kind,
                Reading.energy_kwh,
                Reading.duration_s,
                Reading.source,
            )
            .where(Reading.meter_id.in_(meter_ids))
            .order_by(Reading.meter_id, Reading.ts_utc)
        ).all()
        daily = session.execute(
            select(
                DailyConsumption.meter_id,
                DailyConsumption.day,
                DailyConsumption.energy_kwh,
                DailyConsumption.coverage_fraction,
            )
            .where(DailyConsumption.meter_id.in_(meter_ids))
            .order_by(DailyConsumption.meter_id, DailyConsumption.day)
        ).all()
        rejected = session.scalars(
            select(RejectedRecord).where(RejectedRecord.meter_id.in_(meter_ids)).order_by(RejectedRecord.id)
        ).all()
        absences = session.scalars(
            select(Absence).where(Absence.household_id == info.id).order_by(Absence.first_day)
        )
        return {
            "household": {
                "pseudonym": info.pseudonym,
                "contest": info.contest_slug,
                "team": info.team,
                "persons": info.persons,
                "living_area_m2": info.living_area_m2,
                "public_listing": info.public_listing,
                "building_type": info.building_type,
                "electric_hot_water": info.electric_hot_water,
            },
            "meters": [{"id": m.external_id, "carrier": m.carrier, "kind": m.kind} for m in info.meters],
            "absences": [
                {"first_day": a.first_day.isoformat(), "last_day": a.last_day.isoformat(), "note": a.note}
                for a in absences
            ],
            "readings": [
                {
                    "meter": meters[m],
                    "ts_utc": ts.isoformat(),
                    "kind": k,
                    "energy_kwh": e,
                    "duration_s": d,
                    "source": src,
                }
                for m, ts, k, e, d, src in readings
            ],
            "daily_consumption": [
                {"meter": meters[m], "day": day.isoformat(), "energy_kwh": e, "coverage_fraction": c}
                for m, day, e, c in daily
            ],
            "rejected_records": [
                {
                    "source": r.source,
                    "line_no": r.line_no,
                    "topic": r.topic,
                    "raw": r.raw,
                    "reason": r.reason,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rejected
            ],
        }

    def delete(self, household_id: int) -> str:
        """Delete the household with its meters, readings, daily values, imports and rejected records;
        returns the contest slug (to republish it without the household)."""
        session = self.session
        h = household_by_id(session, household_id)
        slug = h.contest.slug
        meter_ids = [m.id for m in h.meters]
        if meter_ids:
            session.execute(delete(RejectedRecord).where(RejectedRecord.meter_id.in_(meter_ids)))
            session.execute(delete(Reading).where(Reading.meter_id.in_(meter_ids)))
            session.execute(delete(DailyConsumption).where(DailyConsumption.meter_id.in_(meter_ids)))
        session.delete(h)
        return slug
