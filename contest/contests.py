"""Contests: set up from the contest file (or the admin API's same structure), read, listed, and shown
to the staff with their season, teams and size."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.config import ContestConfig
from contest.domain import ContestInfo, check_building_type, check_living_area_m2, check_persons
from contest.errors import ConfigError
from contest.lookup import contest_by_slug, contest_named
from contest.models import Contest, Household, Meter, Team
from contest.rules import ContestRules, rules_from_storage, rules_to_data
from contest.season import Season, season_of
from contest.teams import TeamInfo, team_infos
from contest.units import GasFactors


def contest_info(c: Contest) -> ContestInfo:
    return ContestInfo(
        id=c.id,
        slug=c.slug,
        name=c.name,
        timezone=c.timezone,
        carrier=c.carrier,
        baseline_start=c.baseline_start,
        baseline_end=c.baseline_end,
        competition_start=c.competition_start,
        competition_end=c.competition_end,
        gas=GasFactors(c.gas_brennwert_kwh_per_m3, c.gas_zustandszahl),
        rules=rules_from_storage(c.rules),
        state=c.state,
        grace_days=c.grace_days,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class ContestOverview:
    """A contest as staff see it: its settings, status and size.

    status: the season's state now (contest.season: draft, announced, running, closing, final, archived)
    season: the season as recorded (last publication and error, grace period, reopen hold)
    """

    info: ContestInfo
    status: str
    closed_at: dt.datetime | None
    teams: tuple[TeamInfo, ...]
    households: int
    season: Season


def _check_households(cfg: ContestConfig) -> None:
    """The household facts of a contest file, with the bounds every other path checks (a config
    built in code has not been through the file's parser)."""
    for h in cfg.households:
        try:
            if h.persons is not None:
                check_persons(h.persons)
            check_living_area_m2(h.living_area_m2)
            check_building_type(h.building_type)
        except ConfigError as exc:
            raise ConfigError(f"household {h.pseudonym!r}: {exc.message}", key=exc.key) from exc


class ContestService:
    """Contests in the caller's transaction.

    clock: "now" for the season's state in overviews (default: the system clock, UTC)
    """

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.session = session
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def setup(self, cfg: ContestConfig) -> ContestInfo:
        """Create the contest described by ``cfg``, or update it when the slug exists.

        Idempotent: teams, households and meters are matched by name, pseudonym and meter id;
        nothing is deleted, so readings already imported stay. A household fact the file does not state
        (persons, public listing, team, living area, ...) keeps the value set since (by the household
        in the portal, or by staff).
        """
        _check_households(cfg)
        cfg.scoring_rules()  # the rules fit the periods (ConfigError); the file's parser checked it too
        session = self.session
        contest = contest_named(session, cfg.slug)
        if contest is None:
            contest = Contest(slug=cfg.slug, state=cfg.initial_state)
            session.add(contest)
        contest.grace_days = cfg.grace_days
        contest.name = cfg.name
        contest.timezone = cfg.timezone
        contest.carrier = cfg.carrier
        contest.baseline_start = cfg.baseline_start
        contest.baseline_end = cfg.baseline_end
        contest.competition_start = cfg.competition_start
        contest.competition_end = cfg.competition_end
        contest.rules = rules_to_data(cfg.rules)
        contest.gas_brennwert_kwh_per_m3 = cfg.gas.brennwert_kwh_per_m3
        contest.gas_zustandszahl = cfg.gas.zustandszahl
        session.flush()
        teams = {t.name: t for t in contest.teams}
        for name in cfg.teams:
            if name not in teams:
                teams[name] = Team(name=name, contest=contest)
                session.add(teams[name])
        households = {h.pseudonym: h for h in contest.households}
        meter_ids = [m.external_id for h in cfg.households for m in h.meters]
        existing_meters = (
            {
                m.external_id: m
                for m in session.scalars(select(Meter).where(Meter.external_id.in_(meter_ids))).all()
            }
            if meter_ids
            else {}
        )
        for hc in cfg.households:
            h = households.get(hc.pseudonym)
            if h is None:
                h = Household(pseudonym=hc.pseudonym, contest=contest, persons=1, public_listing=False)
                session.add(h)
            # What the file does not state stays as the household or the staff set it since.
            if hc.persons is not None:
                h.persons = hc.persons
            if hc.living_area_m2 is not None:
                h.living_area_m2 = hc.living_area_m2
            if hc.building_type is not None:
                h.building_type = hc.building_type
            if hc.electric_hot_water is not None:
                h.electric_hot_water = hc.electric_hot_water
            if hc.public_listing is not None:
                h.public_listing = hc.public_listing
            if hc.team is not None:
                h.team = teams[hc.team]
            for mc in hc.meters:
                m = existing_meters.get(mc.external_id)
                if m is None:
                    m = Meter(external_id=mc.external_id, household=h)
                    session.add(m)
                elif m.household is not h:
                    m.household = h
                m.carrier = mc.carrier
                m.kind = mc.kind
                m.gas_brennwert_kwh_per_m3 = mc.gas.brennwert_kwh_per_m3 if mc.gas else None
                m.gas_zustandszahl = mc.gas.zustandszahl if mc.gas else None
        session.flush()
        return contest_info(contest)

    def get(self, slug: str) -> ContestInfo:
        return contest_info(contest_by_slug(self.session, slug))

    def list_contests(self) -> list[ContestInfo]:
        return [contest_info(c) for c in self.session.scalars(select(Contest).order_by(Contest.id)).all()]

    # --- the staff's view ---------------------------------------------------------------------------
    def overview(self, slug: str) -> ContestOverview:
        return self._overview(contest_by_slug(self.session, slug))

    def overviews(self) -> list[ContestOverview]:
        return [self._overview(c) for c in self.session.scalars(select(Contest).order_by(Contest.id))]

    def _overview(self, contest: Contest) -> ContestOverview:
        households = self.session.scalar(
            select(func.count()).select_from(Household).where(Household.contest_id == contest.id)
        )
        season = season_of(contest)
        return ContestOverview(
            info=contest_info(contest),
            status=season.public_state(self.clock()),
            season=season,
            closed_at=contest.closed_at,
            teams=tuple(team_infos(self.session, contest.id)),
            households=int(households or 0),
        )

    def set_rules(self, slug: str, rules: ContestRules) -> ContestInfo:
        """Replace the rules of ``slug``; checked by scoring with the contest's periods first
        (:class:`ConfigError` with the reason)."""
        contest = contest_by_slug(self.session, slug)
        info = dataclasses.replace(contest_info(contest), rules=rules)
        info.scoring_rules()
        contest.rules = rules_to_data(rules)
        return info

    def config(self, slug: str) -> dict[str, Any]:
        """The contest in the structure ``contest setup`` (TOML) and ``POST /api/admin/contests`` (JSON)
        accept, dates as ISO text: staff fetch it, edit it and post it back."""
        c = contest_by_slug(self.session, slug)
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
            **rules_to_data(rules_from_storage(c.rules)),  # [scoring], [co2], [privacy]
            "gas": {"brennwert_kwh_per_m3": c.gas_brennwert_kwh_per_m3, "zustandszahl": c.gas_zustandszahl},
        }
        doc["teams"] = [{"name": t.name} for t in sorted(c.teams, key=lambda t: t.id)]
        doc["households"] = [_household_entry(c, h) for h in sorted(c.households, key=lambda h: h.id)]
        return doc


def _household_entry(c: Contest, h: Household) -> dict[str, Any]:
    """A household as the contest file states it."""
    entry: dict[str, Any] = {"pseudonym": h.pseudonym, "persons": h.persons, "public": h.public_listing}
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
    return entry
