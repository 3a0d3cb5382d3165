"""The staff: API tokens (stored hashed) and what they review: the rejected-records store, the
data-quality findings of the newest scoring, and every household's result as CSV."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.domain import HouseholdStanding
from contest.errors import ConfigError, NotAuthenticated
from contest.leaderboards import LeaderboardService
from contest.lookup import MAX_ROW_ID, contest_by_slug, text_key
from contest.models import Contest, Household, LeaderboardSnapshot, Meter, RejectedRecord, StaffToken
from contest.reading_store import SOURCES, ReadingService
from contest.snapshots import finding_to_json
from contest.spreadsheet import write_csv
from scoring.schema import PLAUSIBILITY_FINDINGS


def token_hash(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (see contest.access for the same reasoning).
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


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


class StaffService:
    """Staff tokens and the rejected-records store, in the caller's transaction."""

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def create_token(self, name: str) -> str:
        """A new staff API token, shown once (only its hash is stored)."""
        name = name.strip()
        if not name:
            raise ConfigError("a token needs a name (who or what uses it)")
        token = "cst_" + secrets.token_urlsafe(32)
        if self.session.scalars(select(StaffToken).where(StaffToken.name == name)).first() is not None:
            raise ConfigError(f"a token named {name!r} exists; revoke it first")
        self.session.add(StaffToken(name=name, token_hash=token_hash(token)))
        return token

    def revoke(self, name: str) -> None:
        row = self.session.scalars(select(StaffToken).where(StaffToken.name == name)).first()
        if row is None:
            raise ConfigError(f"no token named {name!r}")
        row.revoked_at = self.clock()
        row.name = f"{row.name} (revoked {row.revoked_at:%Y-%m-%d %H:%M:%S})"

    def authenticate(self, token: str | None) -> str:
        """The token's name, or :class:`NotAuthenticated`."""
        if not token:
            raise NotAuthenticated(
                "staff token required (Authorization: Bearer <token>)", key="auth.staff_required"
            )
        row = self.session.scalars(
            select(StaffToken).where(
                StaffToken.token_hash == token_hash(token), StaffToken.revoked_at.is_(None)
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
            if value is not None and not text_key(value):
                return []
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
            contest_by_slug(self.session, contest)
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
            for r, ext in self.session.execute(query).all()
        ]


class FindingsReview:
    """The data-quality findings of each contest's newest scoring, for the staff: plausibility flags
    (implausibly high days, a possible vacancy, a drop to zero) or every finding.

    They are stored with each snapshot at publication (staff only; the public gets their count) and
    read from the newest one. A snapshot from before findings were stored gets the contest scored
    again as of its time (the data as stored now). The report is kept per snapshot (one review per app).
    """

    def __init__(self) -> None:
        self._reports: dict[str, tuple[int, FindingsReport]] = {}
        self._lock = threading.Lock()

    def report(
        self,
        session: Session,
        slug: str,
        *,
        clock: Callable[[], dt.datetime],
        plausibility_only: bool = True,
    ) -> FindingsReport:
        """The findings of ``slug``'s newest snapshot (without one: of scoring it as of ``clock()``)."""
        contest = contest_by_slug(session, slug)
        newest = session.scalar(
            select(func.max(LeaderboardSnapshot.id)).where(LeaderboardSnapshot.contest_id == contest.id)
        )
        with self._lock:
            cached = self._reports.get(slug)
        if newest is not None and cached is not None and cached[0] == newest:
            report = cached[1]
        else:
            # The body (megabytes for a large contest) is read only when the report is not kept yet.
            snapshot = session.get(LeaderboardSnapshot, newest) if newest is not None else None
            report = _report(session, slug, snapshot, clock)
            if newest is not None:
                with self._lock:
                    self._reports[slug] = (newest, report)
        if plausibility_only:
            report = dataclasses.replace(report, findings=tuple(f for f in report.findings if f.plausibility))
        return report


def _report(
    session: Session, slug: str, snapshot: LeaderboardSnapshot | None, clock: Callable[[], dt.datetime]
) -> FindingsReport:
    if snapshot is not None and "staff_findings" in snapshot.body:
        as_of = snapshot.as_of
        stored = list(snapshot.body["staff_findings"])
        names = {h["household_id"]: h["pseudonym"] for h in snapshot.body.get("all_households", [])}
    else:
        when = snapshot.as_of if snapshot is not None else clock()
        view = LeaderboardService(session, clock).leaderboard(slug, when, public_only=False)
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
    # The findings of the meters' daily consumption (register resets and rollovers, readings left out),
    # as they are stored now (contest.consumption keeps them with the days they are about).
    for m in ReadingService(session).findings(slug):
        records.append(
            FindingRecord(
                key=m.key,
                detail=m.detail,
                subject=f"meter:{m.meter}",
                plausibility=False,
                household_id=m.household_id,
                pseudonym=m.pseudonym,
                data={**m.data, "day": m.day.isoformat()},
            )
        )
    return FindingsReport(slug, as_of, snapshot.id if snapshot is not None else None, tuple(records))


def _household_of(subject: str, data: dict[str, Any]) -> int | None:
    prefix, _, value = subject.partition(":")
    if prefix == "household" and value.isdigit():
        return int(value)
    hid = data.get("household_id")
    return hid if isinstance(hid, int) and not isinstance(hid, bool) else None


def standings_csv(households: Iterable[HouseholdStanding]) -> str:
    """Every household's result (staff view: also those not listed publicly) as CSV."""
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
